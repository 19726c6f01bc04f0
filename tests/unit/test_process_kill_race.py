"""A reset replaces an environment's root process while a deadline's kill may still be
sweeping the old one; that kill must never reach the new runtime (a CI failure: the
timed-out environment was discarded instead of reset, because the next runtime died)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from lambda_ui.local_lambda import processes
from lambda_ui.local_lambda.processes import ProcessSet

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def _start() -> subprocess.Popen[bytes]:
    return subprocess.Popen(SLEEPER, start_new_session=True)


def test_a_kill_in_progress_never_reaches_the_root_a_reset_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    old = _start()
    members = ProcessSet(old.pid, None)
    in_sweep, resume = threading.Event(), threading.Event()
    real_take = processes.Snapshot.take

    def slow_take() -> processes.Snapshot:
        # The first sweep stalls after the old root got its SIGKILL, as under heavy load.
        if threading.current_thread().name == "deadline-kill" and not in_sweep.is_set():
            in_sweep.set()
            resume.wait(10)
        return real_take()

    monkeypatch.setattr(processes.Snapshot, "take", staticmethod(slow_take))
    new: list[subprocess.Popen[bytes]] = []
    started = threading.Event()

    def reset() -> None:  # what LocalEnvironment._reset does
        with members.replacing_root():
            members.kill()
            new.append(_start())
            members.root_pid = new[0].pid
        started.set()

    killer = threading.Thread(target=members.kill, name="deadline-kill")
    killer.start()
    try:
        assert in_sweep.wait(10)
        old.wait(10)
        resetter = threading.Thread(target=reset)
        resetter.start()
        # The reset must wait for the sweep; let the sweep go on either way.
        waited = not started.wait(0.5)
        resume.set()
        killer.join(10)
        resetter.join(10)
        assert started.is_set()
        assert waited, "the reset started its runtime while a kill was still sweeping"
        assert new[0].poll() is None, "the old kill reached the new runtime"
    finally:
        resume.set()
        for proc in (old, *new):
            proc.kill()
            proc.wait()
