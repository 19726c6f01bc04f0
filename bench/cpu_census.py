"""Where a benchmark run's CPU goes: every process on the machine, by kind, while a block runs.

    with CpuCensus() as census:
        ...  # run something
    print(census.table())

A thread samples every process's CPU time (user + system) a few times a second; a process's
share is what it gained between its first and last sample inside the block (a process that
starts inside the block counts from zero; one that exits counts up to its last sample, so a
process shorter than the sampling period can go unseen). Kinds come from the command line:
Chrome by its ``--type``, chromedriver, the pytest client, xdist workers, function
environments (awslambdaric), the S3 stand-in, and this benchmark's own process (which hosts the
local Lambda).
"""

from __future__ import annotations

import collections
import os
import threading
import time

import psutil


def kind_of(process: psutil.Process) -> str:
    name = process.name()
    line = process.cmdline()
    text = " ".join(line)
    if process.pid == os.getpid():
        return "benchmark + local Lambda (this process)"
    if "chromedriver" in name:
        return "chromedriver"
    if name == "exe":  # Chrome's children started through /proc/self/exe (no zygote)
        name = os.path.basename(process.exe())
    if name.startswith(("chrom", "headless_shell")):
        kind = next((a.split("=", 1)[1] for a in line if a.startswith("--type=")), "browser")
        return f"Chrome {kind}"
    if "awslambdaric" in text or "_launcher.py" in text:
        return "function environments (Python)"
    if "moto_server" in text:
        return "S3 stand-in (moto)"
    if "execnet" in text or "sys.stdin.readline" in text:
        return "xdist workers"
    if "pytest" in text:
        return "pytest client"
    return f"other ({name})"


class CpuCensus:
    """CPU-s per process kind while the ``with`` block runs."""

    def __init__(self, period_s: float = 0.5) -> None:
        self.period_s = period_s
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._kind: dict[int, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.wall_s = 0.0
        self.own_cpu_s = 0.0  # the sampling thread's own CPU, inside this process's share

    def __enter__(self) -> CpuCensus:
        self._sample(baseline=True)
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
        self.wall_s = time.monotonic() - self._started

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            started = time.thread_time()
            self._sample()
            self.own_cpu_s += time.thread_time() - started

    def _sample(self, baseline: bool = False) -> None:
        for process in psutil.process_iter():
            try:
                times = process.cpu_times()
                seconds = times.user + times.system
                if process.pid not in self._kind:
                    self._kind[process.pid] = kind_of(process)
                    # A process seen after the start began inside the block: all its CPU counts.
                    self._first[process.pid] = seconds if baseline else 0.0
                self._last[process.pid] = seconds
            except psutil.Error:
                continue

    def by_kind(self) -> dict[str, float]:
        totals: collections.Counter[str] = collections.Counter()
        for pid, last in self._last.items():
            totals[self._kind[pid]] += last - self._first[pid]
        return dict(totals)

    def total(self) -> float:
        return sum(self.by_kind().values())

    def table(self, indent: str = "   ") -> str:
        totals = self.by_kind()
        whole = sum(totals.values())
        rows = [f"{indent}CPU in {self.wall_s:.1f} s of wall: {whole:.1f} CPU-s "
                f"({whole / self.wall_s:.2f} cores busy on average)" if self.wall_s else f"{indent}CPU: {whole:.1f} CPU-s"]
        for kind, seconds in sorted(totals.items(), key=lambda item: -item[1]):
            if seconds >= 0.05:
                rows.append(f"{indent}  {seconds:6.1f} CPU-s  {kind}")
        rows.append(f"{indent}  (this census's own sampling: {self.own_cpu_s:.1f} CPU-s of this process's)")
        return "\n".join(rows)
