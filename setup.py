"""The folders the layout fixes, installed under one import name: ``lambda_ui``.

``runner/`` → ``lambda_ui.runner``, ``lambda_pkg/`` → ``lambda_ui.function``, ``bin/`` →
``lambda_ui.cli``, ``local_lambda/`` → ``lambda_ui.local_lambda``, and ``wire/`` →
``lambda_ui`` itself (the wire contract both sides import). A folder that is not there is
not packaged: the function image's build context leaves ``local_lambda/`` out
(.dockerignore), so the image carries no stand-in code.
"""

from pathlib import Path

from setuptools import find_packages, setup

FOLDERS = {
    "lambda_ui": "wire",
    "lambda_ui.runner": "runner",
    "lambda_ui.function": "lambda_pkg",
    "lambda_ui.cli": "bin",
    "lambda_ui.local_lambda": "local_lambda",
}


def package_dirs() -> dict[str, str]:
    found = {}
    for name, folder in FOLDERS.items():
        if not Path(folder, "__init__.py").is_file():
            continue
        found[name] = folder
        for sub in find_packages(folder):
            found[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"
    return found


mapping = package_dirs()
setup(packages=sorted(mapping), package_dir=mapping)
