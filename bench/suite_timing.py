"""A pytest plugin for bench/suite_cpu.py: each test's wall span and its worker's own CPU.

Loaded with ``-p bench.suite_timing``; writes one JSON line per test to
``$SUITE_TIMING_DIR/tests-<pid>.jsonl`` (one file per xdist worker).
"""

from __future__ import annotations

import json
import os
import resource
import time
from collections.abc import Iterator
from typing import IO

import pytest

_out: IO[str] | None = None


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    global _out
    folder = os.environ.get("SUITE_TIMING_DIR")
    started, cpu = time.time(), _cpu_s()
    result = yield
    if folder:
        if _out is None:
            _out = open(os.path.join(folder, f"tests-{os.getpid()}.jsonl"), "a")  # open for the worker's life
        _out.write(json.dumps({"pid": os.getpid(), "nodeid": item.nodeid, "start": started, "end": time.time(),
                               "self_cpu": _cpu_s() - cpu}) + "\n")
        _out.flush()
    return result
