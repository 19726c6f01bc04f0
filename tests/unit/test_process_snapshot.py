"""The local Lambda's view of the process table (local_lambda/processes.py): who is whose
child, which orphans belong to an environment, and that a sample every 100 ms stays cheap."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_ui.local_lambda.processes import ProcessSet, Snapshot

SLEEPER = "import sys, time; print('up', flush=True); time.sleep(60)"


def _orphan(*args: str) -> int:
    """A Python sleeper whose parent has exited (re-parented to init or a subreaper), as
    Chrome's crashpad handlers are; returns its pid."""
    launcher = subprocess.run(
        [sys.executable, "-c",
         "import subprocess, sys; p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, text=True); "
         "p.stdout.readline(); print(p.pid)",
         sys.executable, "-c", SLEEPER, *args],
        capture_output=True, text=True, check=True, timeout=30,
    )
    return int(launcher.stdout.strip())


@pytest.fixture
def orphans(tmp_path: Path) -> Iterator[tuple[int, int, Path]]:
    """(one that names the environment's private directory, one that does not, that directory)."""
    private = tmp_path / "env-private"
    private.mkdir()
    ours, foreign = _orphan(str(private)), _orphan("elsewhere")
    try:
        yield ours, foreign, private
    finally:
        for pid in (ours, foreign):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


def test_the_snapshot_reads_a_process_whose_name_holds_parentheses() -> None:
    # /proc/<pid>/stat puts the name in parentheses; a name may hold ") (" and numbers.
    child = subprocess.Popen(
        [sys.executable, "-c", "open('/proc/self/comm', 'w').write('a) (b 7 7'); print('up', flush=True); import time; time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "up"
        first, second = Snapshot.take(), Snapshot.take()
        assert first.parents[child.pid] == os.getpid()
        assert first.started[child.pid] == second.started[child.pid] > 0
        assert child.pid in first.descendants(os.getpid())
    finally:
        child.kill()
        child.wait()


def test_a_new_process_has_another_start_time_than_an_older_one() -> None:
    older = Snapshot.take().started[os.getpid()]
    time.sleep(0.05)  # start times count clock ticks (10 ms): the child starts later
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert Snapshot.take().started[child.pid] > older
    finally:
        child.kill()
        child.wait()


def test_an_orphan_that_names_the_private_directory_belongs_on_every_sample(orphans: tuple[int, int, Path]) -> None:
    ours, foreign, private = orphans
    root = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        members = ProcessSet(root.pid, str(private))
        for _ in range(3):
            found = members.members(Snapshot.take())
            assert ours in found and root.pid in found
            assert foreign not in found
    finally:
        root.kill()
        root.wait()


def test_an_orphan_found_foreign_is_not_examined_again(orphans: tuple[int, int, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    # 16 environments each examined 32 crashpad handlers every 100 ms: 54 ms a sample.
    _, foreign, private = orphans
    examined: list[int] = []
    real = ProcessSet._marked

    def counting(self: ProcessSet, pid: int) -> bool:
        examined.append(pid)
        return real(self, pid)

    monkeypatch.setattr(ProcessSet, "_marked", counting)
    members = ProcessSet(os.getpid(), str(private))
    members.members(Snapshot.take())
    assert examined.count(foreign) == 1
    members.members(Snapshot.take())
    assert examined.count(foreign) == 1
    # A kill still looks at everything.
    members.members(Snapshot.take(), thorough=True)
    assert examined.count(foreign) == 2
