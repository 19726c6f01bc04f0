"""Where the project's own test suite spends its CPU: per test file and per kind of process.

    python bench/suite_cpu.py [--top 30] [-- pytest arguments]

Runs ``python -m pytest tests -n 2 --dist loadfile -p no:randomly`` (or the arguments after
``--``) under BSD process accounting (``accton``, Debian's package ``acct``; needs root), so
every process that ran counts, those that left the xdist workers' tree included (Chrome's
crash handlers, environments' runtimes), as ``time`` does not. bench/suite_timing.py logs
each test's span and its worker's own CPU. A process counts for the test file its worker ran
when it started (files run whole on one worker with ``--dist loadfile``; accounting records
start times to the second). Prints the wall time, the CPU by kind of process and the files
that cost most.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: struct acct_v3 (linux/acct.h): flag, version, tty, exitcode, uid, gid, pid, ppid, btime,
#: etime (float, 1/100 s), utime, stime, mem, io, rw, minflt, majflt, swaps (comp_t), comm.
ACCT_V3 = struct.Struct("<ccHIIIIIIf8H16s")
TICKS = 100.0  # AHZ: accounting's clock ticks per second


def _comp(value: int) -> int:
    """comp_t: 13-bit mantissa, 3-bit base-8 exponent."""
    return (value & 0x1FFF) << (3 * (value >> 13))


@dataclass
class Process:
    pid: int
    ppid: int
    start: float
    end: float
    cpu_s: float
    comm: str


def read_accounting(path: Path) -> list[Process]:
    data = path.read_bytes()
    found = []
    for offset in range(0, len(data) - ACCT_V3.size + 1, ACCT_V3.size):
        fields = ACCT_V3.unpack_from(data, offset)
        if fields[1] != b"\x03":
            continue
        pid, ppid, btime, etime, utime, stime = fields[6], fields[7], fields[8], fields[9], fields[10], fields[11]
        comm = fields[18].rstrip(b"\0").decode(errors="replace")
        found.append(Process(pid, ppid, btime, btime + etime / TICKS, (_comp(utime) + _comp(stime)) / TICKS, comm))
    return found


def kind(comm: str) -> str:
    # A process's record carries the name of its last thread: Chrome's show as theirs.
    if comm.startswith("python"):
        return "Python"
    if comm.startswith("chromedriver") or comm == "ChromeDriver IO":
        return "chromedriver"
    if comm.startswith("moto"):
        return "moto_server"
    return "Chrome and the rest"


class Tree:
    """Parents by pid, telling reused pids apart by lifetime."""

    def __init__(self, processes: list[Process]) -> None:
        self._by_pid: dict[int, list[Process]] = collections.defaultdict(list)
        for process in processes:
            self._by_pid[process.pid].append(process)

    def parent(self, process: Process) -> Process | None:
        for candidate in self._by_pid.get(process.ppid, []):
            if candidate.start - 1 <= process.start <= candidate.end + 1:
                return candidate
        return None

    def worker_of(self, process: Process, workers: set[int]) -> int | None:
        current: Process | None = process
        for _ in range(64):
            if current is None:
                return None
            if current.ppid in workers:
                return current.ppid
            current = self.parent(current)
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=30, help="test files to list")
    parser.add_argument("pytest_args", nargs="*", help="after --: what to run instead of the default")
    args = parser.parse_args()
    if shutil.which("accton") is None:
        print("bench/suite_cpu.py needs process accounting: apt-get install acct (and root)", file=sys.stderr)
        return 2
    pytest_args = args.pytest_args or ["tests", "-n", "2", "--dist", "loadfile", "-p", "no:randomly"]
    work = Path(tempfile.mkdtemp(prefix="suite-cpu-"))
    pacct = work / "pacct"
    pacct.touch()
    command = [sys.executable, "-m", "pytest", *pytest_args, "-p", "bench.suite_timing", "-q"]
    print(f"command: {' '.join(command)}", flush=True)
    subprocess.run(["accton", str(pacct)], check=True, capture_output=True)
    started = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=REPO, env={**os.environ, "SUITE_TIMING_DIR": str(work)}, capture_output=True, text=True)
    finally:
        subprocess.run(["accton", "off"], capture_output=True)
    wall = time.monotonic() - started
    summary = (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"pytest: {summary} (exit {proc.returncode}); {wall:.1f} s of wall")

    processes = read_accounting(pacct)
    tests = [json.loads(line) for path in work.glob("tests-*.jsonl") for line in path.read_text().splitlines()]
    workers = {t["pid"] for t in tests}
    spans: dict[str, dict[str, float]] = {}
    for t in tests:
        span = spans.setdefault(t["nodeid"].split("::")[0], {"start": t["start"], "end": t["end"], "worker": t["pid"], "tests": 0, "self": 0.0})
        span["start"], span["end"] = min(span["start"], t["start"]), max(span["end"], t["end"])
        span["tests"] += 1
        span["self"] += t["self_cpu"]

    tree = Tree(processes)
    by_kind: collections.Counter[str] = collections.Counter()
    per_file: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for process in processes:
        by_kind[kind(process.comm)] += process.cpu_s
        if process.pid in workers:
            continue  # a worker's own CPU is counted per test, by the plugin
        worker = tree.worker_of(process, workers)
        files = [f for f, s in spans.items() if s["worker"] == worker and s["start"] - 1.5 <= process.start <= s["end"] + 1.5]
        per_file[min(files, key=lambda f: abs(spans[f]["start"] - process.start)) if files else "(no test file)"][kind(process.comm)] += process.cpu_s
    for name, span in spans.items():
        per_file[name]["the worker itself"] += span["self"]

    whole = sum(by_kind.values())
    cores = os.cpu_count() or 1
    print(f"CPU of every process that ran: {whole:.0f} CPU-s ({whole / wall:.2f} of {cores} cores busy on average), "
          f"{len(processes)} processes")
    for name, seconds in by_kind.most_common():
        print(f"  {seconds:7.1f} CPU-s  {name}")
    print(f"\n{'test file':<58} {'tests':>5} {'span':>7} {'CPU-s':>7}  by kind")
    for name, counts in sorted(per_file.items(), key=lambda item: -sum(item[1].values()))[: args.top]:
        span = spans.get(name, {"tests": 0, "start": 0.0, "end": 0.0})
        print(f"{name:<58} {int(span['tests']):5d} {span['end'] - span['start']:6.1f}s {sum(counts.values()):7.1f}  "
              + ", ".join(f"{k} {v:.1f}" for k, v in counts.most_common() if v >= 0.05))
    shutil.rmtree(work, ignore_errors=True)
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
