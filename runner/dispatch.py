"""Invocations in flight on one asyncio loop, in a thread beside pytest's.

The loop opens slots as the window allows; each slot invokes a test, settles
the answer in the scheduler (free the slot, retry, back off) and takes the
next test at once, with no hand-off to the main thread in between. The loop
times backoffs itself. The main thread only turns settled answers into pytest
reports, in the order they were settled, from :attr:`Invokers.settled`, and holds
off while a wave of answers is being turned around (:meth:`Invokers.wait_for_quiet`).

Why not a thread per invocation: with a thousand of them waiting for the GIL,
each answer reached the client hundreds of milliseconds late, and a round trip
through the main thread cost as much again (docs/benchmarks.md).

The scheduler is touched only under :attr:`Invokers._lock`, held briefly and
never across an ``await``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from queue import SimpleQueue
from typing import Generic, TypeVar

from lambda_ui.runner.aws.lambda_client import InvokeOutcome, OutcomeKind
from lambda_ui.runner.scheduler import Scheduler, Task

SettledT = TypeVar("SettledT")

#: ``settle(task, outcome, now, repeat)``: update the scheduler, say what to report.
#: ``repeat`` is False once the run stops: nothing goes again.
SettleFn = Callable[[Task, InvokeOutcome, float, bool], SettledT]

#: Tests started per turn of the loop. Started all at once, a thousand requests progress in
#: lock step and all go out together half a second later; in small batches the first go out
#: at once (10,000 tests at 1,000 in flight: 1.0-1.2 s less wall, docs/benchmarks.md).
BATCH = 8

#: The main thread replays once no answer was settled for this long (:meth:`Invokers.wait_for_quiet`)...
QUIET_S = 0.001
#: ...or after this long, so reports keep coming during a long burst.
QUIET_AT_MOST_S = 0.05


@dataclass(frozen=True)
class Progress:
    """The scheduler's state at one instant, for the status line and the ETA."""

    dispatched_at: dict[str, float]  # node id -> monotonic time it was sent, for those in flight
    queued: int
    throttled: int
    retried: int
    window: int


class Invokers(Generic[SettledT]):
    def __init__(
        self,
        scheduler: Scheduler,
        invoke: Callable[[Task], Awaitable[InvokeOutcome]],
        settle: SettleFn[SettledT],
        on_exit: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.scheduler = scheduler
        #: ``(task, settled)`` in settling order; ``None`` wakes the reader when the scheduler may be finished.
        self.settled: SimpleQueue[tuple[Task, SettledT] | None] = SimpleQueue()
        self._invoke = invoke
        self._settle = settle
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self.last_settled = 0.0  # monotonic time of the last answer settled
        self._stopping = False  # no new tests (-x); answers still settle
        self._closed = False  # answers are dropped, the loop ends
        self._loop = asyncio.new_event_loop()
        self._wake: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="lambda-invoke", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # -- the loop ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._wake = wake = asyncio.Event()
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                with self._lock:
                    if self._closed:
                        break
                    now = time.monotonic()
                    batch: list[Task] = []
                    while len(batch) < BATCH and not self._stopping and (task := self.scheduler.next_ready(now)) is not None:
                        batch.append(task)
                    more = len(batch) == BATCH
                    wakeup = None if self._stopping else self.scheduler.next_wakeup()
                for task in batch:
                    job = asyncio.create_task(self._slot(task))
                    running.add(job)
                    job.add_done_callback(running.discard)
                if more:
                    await asyncio.sleep(0)  # let this batch go out before starting the next
                    continue
                # Wake when a slot hands back, when the run ends, or when a backoff runs out.
                timeout = None if wakeup is None or wakeup <= now else wakeup - now
                try:
                    await asyncio.wait_for(wake.wait(), timeout)
                except asyncio.TimeoutError:
                    pass
                wake.clear()
        finally:
            for job in running:
                job.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            if self._on_exit is not None:
                await self._on_exit()

    async def _slot(self, task: Task | None) -> None:
        """One slot of the window: invoke, settle, and refill at once with the next test.

        The answer's own coroutine sends the next request, so a burst of answers is
        turned around first come, first served, not all together at the end of the burst.
        """
        assert self._wake is not None
        while task is not None:
            try:
                outcome = await self._invoke(task)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never lose a test to a bug in the invoke path
                outcome = InvokeOutcome(OutcomeKind.INFRA, cause=f"client error: {type(exc).__name__}: {exc}")
            with self._lock:
                if self._closed:
                    return
                self.last_settled = now = time.monotonic()
                self.settled.put((task, self._settle(task, outcome, now, not self._stopping)))
                if self.scheduler.finished:
                    self.settled.put(None)
                task = None if self._stopping else self.scheduler.next_ready(now)
                room = not self._stopping and self.scheduler.has_ready(now)
            if task is None or room:
                self._wake.set()  # a backoff to time, or more room than this slot: the loop's turn

    def _nudge(self) -> None:
        if self._wake is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._wake.set)
            except RuntimeError:
                pass  # the loop has ended

    # -- the main thread ----------------------------------------------------------
    def wait_for_quiet(self) -> None:
        """Hold off while answers are being turned around, at most :data:`QUIET_AT_MOST_S`.

        Both threads share one GIL: replaying a report while a burst of answers
        arrives halves the speed at which the loop sends the next tests, and
        every slot in the burst waits for it. Replay can wait; the next test cannot.
        """
        until = time.monotonic() + QUIET_AT_MOST_S
        while (now := time.monotonic()) < until and now - self.last_settled < QUIET_S:
            time.sleep(QUIET_S)

    def finished(self) -> bool:
        with self._lock:
            return self.scheduler.finished

    def progress(self) -> Progress:
        """A copy taken under the lock: the loop's thread changes the scheduler as answers arrive."""
        with self._lock:
            scheduler = self.scheduler
            in_flight = {nodeid: task.dispatched_at for nodeid, task in scheduler.in_flight.items()}
            return Progress(in_flight, scheduler.queued, scheduler.throttled, scheduler.retried, int(scheduler.window))

    def stop(self) -> list[Task]:
        """No new tests (as ``pytest -x``); those in flight still answer. Returns the undispatched."""
        with self._lock:
            self._stopping = True
            dropped = self.scheduler.drain_queue()
            if self.scheduler.finished:
                self.settled.put(None)
        return dropped

    def abort(self) -> tuple[list[Task], list[Task]]:
        """Stop at once: (tests never dispatched, tests in flight). Later answers are dropped."""
        with self._lock:
            self._closed = True
            waiting = self.scheduler.drain_queue()
            running = list(self.scheduler.in_flight.values())
            self.scheduler.in_flight.clear()
        self._nudge()
        return waiting, running

    def close(self, wait_s: float = 2.0) -> None:
        """End the loop: invocations still in flight are cancelled and their connections closed."""
        with self._lock:
            self._closed = True
        self._nudge()
        if self._thread.is_alive():
            self._thread.join(wait_s)
        elif self._thread.ident is None:
            self._loop.close()  # never started: its thread would have closed it

    def drain_settled(self) -> list[tuple[Task, SettledT]]:
        """What was settled but not yet taken (after :meth:`abort`)."""
        entries = []
        while not self.settled.empty():
            entry = self.settled.get()
            if entry is not None:
                entries.append(entry)
        return entries
