"""A dotenv file the bundle leaves out, against the variables ``--lambda-env`` hands the tests.

python-dotenv's ``load_dotenv()`` reads ``.env`` where the suite runs. The bundle never
ships it (its name is on the secret deny list); ``--lambda-env NAME`` hands its variables
to the function instead. With python-dotenv installed here (a suite that loads ``.env``
has it), its own parser reads the file's variable names, never its values, to tell
which of them are handed over; without it the usual warning stands.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path

from lambda_ui.runner.bundle import LeftOut, Selection
from lambda_ui.runner.terminal import listed

DOTENV_RULE = ".env*"


def variable_names(path: Path) -> list[str] | None:
    """The names a dotenv file sets, or None without python-dotenv or a readable file."""
    try:
        from dotenv import dotenv_values
    except ImportError:
        return None
    try:
        return list(dotenv_values(path))
    except Exception:  # a file python-dotenv cannot read: the usual warning is all there is to say
        return None


def dotenv_line(item: LeftOut, names: list[str], handed: Collection[str]) -> tuple[str, bool] | None:
    """``(line, is_warning)`` for a left-out dotenv file some of whose variables are handed over, else None."""
    covered = [name for name in names if name in handed]
    if not covered:
        return None
    missing = [name for name in names if name not in handed]
    if not missing:
        return f"left out {item.path} (its name is on the secret deny list); its variables reach the tests with --lambda-env: {listed(covered)}", False
    return (
        f"left out {item.path}: its name looks like a secret; --lambda-env hands the tests {listed(covered)}, "
        f"not {listed(missing)}: add --lambda-env NAME for each the tests need",
        True,
    )


def dotenv_notes(root: Path, selection: Selection, env: Mapping[str, str]) -> dict[str, tuple[str, bool]]:
    """The lines that replace the usual warning of left-out dotenv files, by path."""
    notes = {}
    for item in selection.left_out:
        if item.denied_by != DOTENV_RULE or not env:
            continue
        names = variable_names(root / item.path)
        line = dotenv_line(item, names, env.keys()) if names else None
        if line is not None:
            notes[item.path] = line
    return notes
