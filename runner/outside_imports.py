"""Modules the suite imports from outside its rootdir: the function's copy cannot import them.

The bundle holds what is below the rootdir. A conftest that puts a sibling folder on
``sys.path`` (``sys.path.insert(0, ".../../src")``), an ini ``pythonpath = ../src`` or a
module found through the working folder all import here, and in the function fail with
``ModuleNotFoundError``, which names the module but not why it is missing. Said before the
run instead, with what to do. A module some installed distribution provides (an editable
install included) is the image's to hold, and is not named.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from lambda_ui.runner.bundle import loaded_module_files

#: Top-level names never reported: this plugin's own package, wherever it is installed from.
_OWN = frozenset({"lambda_ui"})


def imported_from_outside(root: Path, loaded: Iterable[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """Of ``loaded`` (module name, file: :func:`lambda_ui.runner.bundle.loaded_module_files`),
    those outside ``root`` that no installed distribution provides, by name."""
    root = Path(os.path.abspath(root))
    found = [
        (name, path) for name, path in loaded
        if name != "__main__" and name.partition(".")[0] not in _OWN and not path.is_relative_to(root)
    ]
    if not found:
        return []
    # Only now, as it reads every distribution's metadata (~0.2 s): an editable install's
    # modules live outside the environment too, and the image installs them its own way.
    from importlib.metadata import packages_distributions

    installed = packages_distributions()
    return sorted((name, path) for name, path in found if name.partition(".")[0] not in installed)


def warning(root: Path, modules: list[tuple[str, Path]], shown: int = 5) -> str | None:
    """One line naming them and what to do, or None."""
    if not modules:
        return None
    names = ", ".join(f"{name} ({path})" for name, path in modules[:shown])
    more = f" and {len(modules) - shown} more" if len(modules) > shown else ""
    common = os.path.commonpath([str(root), *(str(path.parent) for _, path in modules)])
    above = f"give the run a rootdir that holds both, {common} (an ini file there, or --rootdir={common}), or " if common != os.sep else ""
    return (
        f"the suite imports {names}{more} from outside the rootdir {root}, and the bundle holds only what is below it, "
        f"so in the function the import fails: {above}install that code into the function's image"
    )


def outside_warning(root: Path) -> str | None:
    """The line for this process's loaded modules, or None."""
    return warning(root, imported_from_outside(root, loaded_module_files()))
