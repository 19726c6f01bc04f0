"""The function's Lambda runtime, and whether this machine's interpreter can stand in for it.

A Zip function names its runtime in the template (``Runtime: python3.12``); an Image function
has the Python of its Dockerfile's base image (``FROM public.ecr.aws/lambda/python:3.12``).
The stand-in runs every environment with one local interpreter: another language, or a
runtime Lambda does not have, cannot run at all; another Python minor version runs, with a
warning that names both versions (:func:`check`).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Python runtimes Lambda offers today (identifiers as the template writes them).
PYTHON_RUNTIMES = ("python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14")
_PYTHON_ID = re.compile(r"python(\d+)\.(\d+)")
#: ``public.ecr.aws/lambda/python:3.12``, ``amazon/aws-lambda-python:3.12.2024.01.05-x86_64``.
_LAMBDA_BASE = re.compile(r"(?:^|/)(?:lambda/|aws-lambda-)(?P<language>[a-z]+)(?::(?P<tag>[^@\s]+))?")
#: ``python:3.12-slim`` and the like: a plain Python image with awslambdaric installed.
_PYTHON_BASE = re.compile(r"(?:^|/)python:(?P<major>\d+)\.(?P<minor>\d+)")
_ARG = re.compile(r"\$\{(\w+)(?::?[-+][^}]*)?\}|\$(\w+)")
_INTERPRETER_TIMEOUT_S = 30


class RuntimeProblem(ValueError):
    """The function's runtime cannot run here (one line naming it)."""


@dataclass(frozen=True)
class Verdict:
    """What :func:`check` found: ``warning`` is one line, or empty when the versions agree."""

    runtime: str
    version: tuple[int, int]
    warning: str = ""


def python_version_of(runtime: str) -> tuple[int, int] | None:
    """(3, 12) for ``python3.12``; None for another language or a malformed name."""
    match = _PYTHON_ID.fullmatch(runtime)
    return (int(match[1]), int(match[2])) if match else None


def _substitute(text: str, args: dict[str, str]) -> str:
    return _ARG.sub(lambda m: args.get(m[1] or m[2], ""), text)


def _image_of(from_line: str, args: dict[str, str]) -> tuple[str, str]:
    """(image, stage name) of one ``FROM [--flag=...] image [AS name]`` line."""
    words = [w for w in from_line.split()[1:] if not w.startswith("--")]
    image = _substitute(words[0], args) if words else ""
    stage = words[2] if len(words) >= 3 and words[1].upper() == "AS" else ""
    return image, stage.lower()


def dockerfile_base(dockerfile: Path) -> str | None:
    """The base image of the Dockerfile's last stage, build arguments at their defaults
    (a stage built on an earlier stage is followed to that stage's image)."""
    try:
        lines = dockerfile.read_text().splitlines()
    except OSError:
        return None
    args: dict[str, str] = {}
    stages: dict[str, str] = {}
    image: str | None = None
    for raw in lines:
        line = raw.strip()
        keyword = line.split(maxsplit=1)[0].upper() if line else ""
        if keyword == "ARG" and image is None and len(line.split()) > 1:  # only ARGs before the first FROM reach FROM lines
            name, sep, value = line.split(maxsplit=1)[1].partition("=")
            if sep:
                args[name.strip()] = value.strip().strip('"')
        elif keyword == "FROM":
            found, stage = _image_of(line, args)
            image = stages.get(found.lower(), found)
            if stage:
                stages[stage] = image
    return image


def runtime_of_image(image: str) -> str | None:
    """The Lambda runtime an image is based on: ``python3.12`` for ``…/lambda/python:3.12…``,
    ``nodejs20`` for ``…/lambda/nodejs:20``; None when the image does not say."""
    match = _LAMBDA_BASE.search(image)
    if match:
        tag = match["tag"] or ""
        version = re.match(r"\d+(?:\.\d+)?", tag)
        if match["language"] != "python":
            return f"{match['language']}{version[0] if version else ''}"
        return f"python{version[0]}" if version and "." in version[0] else None
    plain = _PYTHON_BASE.search(image)
    return f"python{plain['major']}.{plain['minor']}" if plain else None


def interpreter_version(python: str) -> tuple[int, int, int]:
    """The version of the interpreter at ``python``; RuntimeProblem when it is not one."""
    if not Path(python).is_file():
        raise RuntimeProblem(f"--python {python}: no such file")
    ask = "import sys; print('%d %d %d' % sys.version_info[:3])"
    try:
        answer = subprocess.run([python, "-c", ask], capture_output=True, text=True, timeout=_INTERPRETER_TIMEOUT_S, cwd="/", check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeProblem(f"--python {python} cannot be run: {exc}") from None
    parts = answer.stdout.split()
    if answer.returncode != 0 or len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise RuntimeProblem(f"--python {python} is not a Python interpreter")
    return int(parts[0]), int(parts[1]), int(parts[2])


def check(runtime: str | None, python: str, version: tuple[int, int, int]) -> Verdict | None:
    """Whether ``python`` (at ``version``) can run a function of ``runtime``.

    None when the runtime is unknown (an image whose base does not say); RuntimeProblem for
    another language or a runtime Lambda does not have; a warning for another minor version.
    """
    if runtime is None:
        return None
    wanted = python_version_of(runtime)
    if wanted is None:
        raise RuntimeProblem(f"the function's runtime {runtime} is not Python: the local Lambda runs Python functions only")
    if runtime not in PYTHON_RUNTIMES:
        raise RuntimeProblem(f"the function's runtime {runtime} is not a Lambda runtime (Python runtimes: {', '.join(PYTHON_RUNTIMES)})")
    here = f"{version[0]}.{version[1]}"
    if wanted == version[:2]:
        return Verdict(runtime, wanted)
    warning = (
        f"the function's runtime is {runtime} but its environments run Python {here}.{version[2]} ({python}); "
        f"give --python a Python {wanted[0]}.{wanted[1]} interpreter to run it as deployed"
    )
    return Verdict(runtime, wanted, warning)
