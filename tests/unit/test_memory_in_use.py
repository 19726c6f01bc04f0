"""The local Lambda's Max Memory Used: file pages that several processes map count once
(local_lambda/processes.py memory_in_use), as they do on one machine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from lambda_ui.local_lambda.processes import memory_in_use

MB = 1024 * 1024
#: Maps the shared file and reads every page, holds 8 MB of its own, then waits.
CHILD = """
import mmap, sys
with open(sys.argv[1], "rb") as f:
    shared = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
total = sum(shared[i] for i in range(0, len(shared), 4096))
own = bytearray(8 * 1024 * 1024)
for i in range(0, len(own), 4096):
    own[i] = 1
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def three_mappers(tmp_path: Path) -> Iterator[list[int]]:
    shared = tmp_path / "binary"
    shared.write_bytes(b"\x01" * (64 * MB))
    procs = [subprocess.Popen([sys.executable, "-c", CHILD, str(shared)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield [proc.pid for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def test_a_file_three_processes_map_counts_once(three_mappers: list[int]) -> None:
    rss_sum = sum(psutil.Process(pid).memory_info().rss for pid in three_mappers)
    used = memory_in_use(three_mappers)
    assert used >= 64 * MB + 3 * 8 * MB  # the file once, each one's own bytes
    assert rss_sum - used >= 2 * 64 * MB * 0.9, (rss_sum >> 20, used >> 20)  # the file's other two copies


def test_a_process_that_is_gone_counts_nothing() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert memory_in_use([proc.pid]) == 0
