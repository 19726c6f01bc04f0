"""docs/architecture.md names every module, so a newcomer finds where a change goes.

A module is named when its path, or its file name in a row of its folder, appears in the
table; a whole folder (``stand_ins/functions/``) names what is in it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FOLDERS = ("wire", "runner", "lambda_pkg", "bin", "local_lambda", "stand_ins")


def modules() -> list[str]:
    tracked = subprocess.run(["git", "ls-files", *FOLDERS], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    return [path for path in tracked if path.endswith(".py") and not path.endswith("__init__.py")]


def unnamed(paths: list[str], doc: str) -> list[str]:
    rows = [line for line in doc.splitlines() if line.startswith("|")]
    missing = []
    for path in paths:
        folder, name = path.rsplit("/", 1)
        named = f"`{path}`" in doc or any(
            f"`{folder}/" in row and re.search(rf"`{re.escape(name)}`|/{re.escape(name)}`", row) for row in rows
        ) or any(f"`{parent}/`" in doc for parent in _parents(folder) if parent not in FOLDERS)
        if not named:
            missing.append(path)
    return missing


def _parents(folder: str) -> list[str]:
    parts = folder.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def test_every_module_has_its_line() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text()
    assert unnamed(modules(), doc) == []


def test_a_module_left_out_is_found() -> None:
    doc = (REPO / "docs" / "architecture.md").read_text()
    assert modules(), "git ls-files found no modules"
    assert unnamed(["runner/new_thing.py", "runner/reports/new_part.py"], doc) == ["runner/new_thing.py", "runner/reports/new_part.py"]
    # A name only in another folder's row does not count.
    assert unnamed(["local_lambda/summary.py"], doc) == ["local_lambda/summary.py"]
