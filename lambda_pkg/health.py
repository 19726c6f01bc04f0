"""Keeping a warm execution environment healthy for hours.

Users of every Chrome-on-Lambda project report the same decay: crashpad
handlers and Chrome children pile up as zombies, and /tmp fills with profiles
and core dumps. Each invocation starts by cleaning both.
"""

from __future__ import annotations

import ctypes
import os
import shutil
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

# One prefix for the warm browser and a suite's own Chromes (runner/chrome_defaults.py),
# so leftovers of both are found here.
from lambda_ui.runner.chrome import CHROME_DIR_PREFIX, kill_marked

_PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Adopt orphaned descendants (detached crashpad handlers) so we can reap them."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap_zombies() -> int:
    reaped = 0
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return reaped
        if pid == 0:
            return reaped
        reaped += 1


@dataclass
class HealthReport:
    killed: int = 0
    reaped: int = 0
    removed: list[str] = field(default_factory=list)
    tmp_free_mb: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def summary(self) -> list[str]:
        notes = []
        if self.killed:
            notes.append(f"killed {self.killed} stray browser process(es)")
        if self.reaped:
            notes.append(f"reaped {self.reaped} zombie process(es)")
        if self.removed:
            notes.append(f"removed {len(self.removed)} leftover(s) from {os.path.dirname(self.removed[0]) or '/tmp'}")
        return notes


def _stray_chrome_dirs(tmp: Path, in_use: Collection[str]) -> list[Path]:
    return [p for p in tmp.glob(CHROME_DIR_PREFIX + "*") if str(p) not in in_use]


def check_and_clean(tmp: str | os.PathLike[str], in_use: str | Collection[str] | None, min_free_mb: int) -> HealthReport:
    """Kill browsers that are not ``in_use``, remove /tmp leftovers, measure free space.

    ``in_use``: the warm browser's directory, and those of Chromes a warm session's
    fixtures still hold (lambda_pkg/session.py).
    """
    report = HealthReport()
    tmp_path = Path(tmp)
    keep = {in_use} if isinstance(in_use, str) else set(in_use or ())
    for leftover in _stray_chrome_dirs(tmp_path, keep):
        report.killed += kill_marked(str(leftover))
        shutil.rmtree(leftover, ignore_errors=True)
        report.removed.append(str(leftover))
    # Chrome's own scratch files and core dumps of crashed renderers.
    for pattern in (".org.chromium.Chromium.*", ".com.google.Chrome.*", "core.*", "core", "*.zip.part"):
        for leftover in tmp_path.glob(pattern):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
            report.removed.append(str(leftover))
    report.reaped = reap_zombies()
    report.tmp_free_mb = int(shutil.disk_usage(tmp_path).free // (1024 * 1024))
    if report.tmp_free_mb < min_free_mb:
        report.problems.append(f"{tmp_path} has {report.tmp_free_mb} MB free after cleaning, below {min_free_mb} MB")
    return report


def run_folder(root: Path, run_id: str) -> Path:
    """``root/<run id>``, made; the folders of earlier runs in ``root`` are removed: an
    environment serves one run at a time, and a new run has replaced their sessions."""
    if root.is_dir():
        for old in root.iterdir():
            if old.name != run_id:
                shutil.rmtree(old, ignore_errors=True)
    folder = root / run_id
    folder.mkdir(parents=True, exist_ok=True)
    return folder
