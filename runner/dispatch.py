"""Invoker threads that refill their own slot.

Each thread takes a test from the scheduler, invokes it, settles the answer in
the scheduler (free the slot, retry, back off) and takes the next test itself,
with no hand-off to the main thread in between. With a thousand threads waiting
for the GIL, a round trip through the main thread (answer queued, picked up,
next test queued, picked up) cost a median of half a second per test at
10,000 tests (docs/benchmarks.md). The main thread only turns settled answers
into pytest reports, in the order they were settled, from :attr:`settled`.

Everything that touches the scheduler runs under one condition variable.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, Generic, TypeVar

from runner.aws.lambda_client import InvokeOutcome
from runner.scheduler import Scheduler, Task

Settled = TypeVar("Settled")

#: ``settle(task, outcome, now, repeat)``: update the scheduler, say what to report.
#: ``repeat`` is False once the run stops: nothing goes again.
SettleFn = Callable[[Task, InvokeOutcome, float, bool], Settled]


class Invokers(Generic[Settled]):
    def __init__(self, scheduler: Scheduler, size: int, invoke: Callable[[Task], InvokeOutcome], settle: SettleFn[Settled]) -> None:
        self.scheduler = scheduler
        #: ``(task, settled)`` in settling order; ``None`` wakes the reader when the scheduler may be finished.
        self.settled: SimpleQueue[tuple[Task, Settled] | None] = SimpleQueue()
        self._invoke = invoke
        self._settle = settle
        self._cond = threading.Condition()
        self._stopping = False  # no new tests (-x); answers still settle
        self._closed = False  # answers are dropped, threads exit
        self._threads = [threading.Thread(target=self._loop, name=f"lambda-invoke-{i}", daemon=True) for i in range(max(1, size))]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    # -- the worker threads -----------------------------------------------------
    def _loop(self) -> None:
        with self._cond:
            task = self._next_locked()
        while task is not None:
            try:
                outcome = self._invoke(task)
            except Exception as exc:  # never lose a test to a bug in a worker thread
                outcome = InvokeOutcome("infra", cause=f"client error: {type(exc).__name__}: {exc}")
            task = self._finish(task, outcome)

    def _finish(self, task: Task, outcome: InvokeOutcome) -> Task | None:
        with self._cond:
            if self._closed:
                return None
            self.settled.put((task, self._settle(task, outcome, time.monotonic(), not self._stopping)))
            if self.scheduler.finished:
                self.settled.put(None)
            return self._next_locked()

    def _next_locked(self) -> Task | None:
        while not self._closed:
            now = time.monotonic()
            task = None if self._stopping else self.scheduler.next_ready(now)
            if task is not None:
                if self.scheduler.has_ready(now):
                    self._cond.notify()  # the window has room for more: wake one more thread
                return task
            self._cond.wait()
        return None

    # -- the main thread ----------------------------------------------------------
    def poke(self) -> None:
        """Wake a thread for a test whose backoff has run out."""
        with self._cond:
            if not self._stopping and self.scheduler.has_ready(time.monotonic()):
                self._cond.notify()

    def next_wakeup(self) -> float | None:
        with self._cond:
            return self.scheduler.next_wakeup()

    def finished(self) -> bool:
        with self._cond:
            return self.scheduler.finished

    def stop(self) -> list[Task]:
        """No new tests (as ``pytest -x``); those in flight still answer. Returns the undispatched."""
        with self._cond:
            self._stopping = True
            dropped = self.scheduler.drain_queue()
            if self.scheduler.finished:
                self.settled.put(None)
            return dropped

    def abort(self) -> tuple[list[Task], list[Task]]:
        """Stop at once: (tests never dispatched, tests in flight). Later answers are dropped."""
        with self._cond:
            self._closed = True
            waiting = self.scheduler.drain_queue()
            running = list(self.scheduler.in_flight.values())
            self.scheduler.in_flight.clear()
            self._cond.notify_all()
            return waiting, running

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def drain_settled(self) -> list[tuple[Task, Any]]:
        """What was settled but not yet taken (after :meth:`abort`)."""
        entries = []
        while not self.settled.empty():
            entry = self.settled.get()
            if entry is not None:
                entries.append(entry)
        return entries
