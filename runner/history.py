"""The durations history ``--lambda`` keeps itself: one small JSON file, cache plugin or not.

Node id to seconds, written after every run (the new durations over the old),
read by the scheduler's longest-first ordering, the ETA and the dry run. Its
place is the ini ``lambda_history_file`` (rootdir-relative unless absolute).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest

#: Entries kept at most: a history never grows without bound.
MAX_ENTRIES = 50_000


def history_path(config: pytest.Config) -> Path:
    from lambda_ui.runner.options import DEFAULT_HISTORY_FILE

    value = str(config.getini("lambda_history_file") or "").strip() or DEFAULT_HISTORY_FILE
    path = Path(os.path.expanduser(value))
    return path if path.is_absolute() else Path(config.rootpath) / path


def read_history(path: Path) -> dict[str, float]:
    """The recorded durations; empty when the file is missing or not a history (never an error)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    durations = data.get("durations") if isinstance(data, dict) else None
    if not isinstance(durations, dict):
        return {}
    return {str(k): float(v) for k, v in durations.items() if isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0}


def write_history(path: Path, durations: dict[str, float]) -> str | None:
    """Replace the file atomically; a message when it could not be written."""
    kept = dict(list(durations.items())[-MAX_ENTRIES:])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".durations-", suffix=".part")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"version": 1, "durations": kept}, handle, indent=0, sort_keys=True)
        os.replace(tmp, path)
    except OSError as exc:
        return f"could not write the durations history {path}: {exc.strerror or exc}"
    return None
