"""What to invoke next: longest first, within a window that backs off on throttles.

Pure logic, no AWS and no terminal: the dispatcher reports what happened and
asks what to do. Three kinds of repeat are kept apart:

* a **throttle** (HTTP 429) is never an attempt: the test waits and goes again,
  and the in-flight window halves, then grows back by one per window of
  successes (AIMD, as TCP does);
* an **infrastructure fault** (crash, Lambda timeout, lost connection) is
  retried on a new invocation up to ``infra_retries`` times;
* a **failed test** is re-dispatched up to ``reruns`` times to detect flakiness.

Apart from those, a **breaker**: when ``breaker`` invocations in a row could not
connect at all, the endpoint is taken for gone and every test not finished is
handed back at once, rather than each spending its retries on a refusal.

And **groups** (pytest-xdist's ``xdist_group`` under ``--dist loadgroup``): two tests of one
group are never in flight at once. A test whose group is busy waits aside and goes back
in line as soon as that group's test is answered.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class Task:
    nodeid: str
    expected_s: float | None
    order: int
    infra_failures: list[str] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)
    reruns: int = 0
    throttles: int = 0
    not_before: float = 0.0
    dispatched_at: float = 0.0
    earlier_attempts: list[list[dict[str, str]]] = field(default_factory=list)

    @property
    def attempt(self) -> int:
        return 1 + len(self.infra_failures) + self.reruns


def dispatch_order(nodeids: Iterable[str], durations: dict[str, float]) -> list[tuple[str, float | None]]:
    """Unknown tests first (they may be the long ones), then longest first.

    The longest-processing-time-first rule keeps the makespan within 4/3 of the
    optimum and, with real histories, usually within a few percent of it.
    """
    indexed = list(enumerate(nodeids))
    unknown = [(i, n) for i, n in indexed if n not in durations]
    known = sorted(((i, n) for i, n in indexed if n in durations), key=lambda p: (-durations[p[1]], p[0]))
    return [(n, None) for _i, n in unknown] + [(n, durations[n]) for _i, n in known]


def list_makespan(durations: Iterable[float], workers: int) -> float:
    """Makespan of list scheduling in the order given: each next test to the first free machine."""
    loads = [0.0] * max(1, workers)
    heapq.heapify(loads)
    for d in durations:
        heapq.heappush(loads, heapq.heappop(loads) + d)
    return max(loads)


def lpt_makespan(durations: Iterable[float], workers: int) -> float:
    """Makespan of longest-first list scheduling on ``workers`` identical machines."""
    return list_makespan(sorted(durations, reverse=True), workers)


class Scheduler:
    def __init__(
        self,
        nodeids: Iterable[str],
        durations: dict[str, float],
        max_in_flight: int,
        infra_retries: int = 2,
        reruns: int = 0,
        throttle_budget_s: float = 300.0,
        now: float = 0.0,
        rand: Callable[[], float] = random.random,
        breaker: int = 0,
        groups: dict[str, str] | None = None,
    ) -> None:
        self.max_in_flight = max(1, max_in_flight)
        self.window = float(self.max_in_flight)
        self.infra_retries = infra_retries
        self.reruns = reruns
        self.throttle_budget_s = throttle_budget_s
        self._rand = rand
        self._counter = itertools.count()
        self._ready: list[tuple[float, int, Task]] = []  # (not_before, tiebreak, task)
        for position, (nodeid, expected) in enumerate(dispatch_order(nodeids, durations)):
            task = Task(nodeid, expected, position)
            heapq.heappush(self._ready, (0.0, next(self._counter), task))
        self.in_flight: dict[str, Task] = {}
        #: node id -> its group; the groups with a test in flight; tests waiting for their group.
        self._group_of = dict(groups or {})
        self._busy_groups: set[str] = set()
        self._held: dict[str, list[tuple[float, int, Task]]] = {}
        self.last_progress = now
        # Counters for the status line and the summary.
        self.throttled = 0
        self.retried = 0
        self.rerun_count = 0
        self.min_window_seen = self.window
        #: (dispatched, answered) of every invocation Lambda ran: throttled ones are not here.
        self._served: list[tuple[float, float]] = []
        #: Invocations in a row that could not connect (0: the breaker is off), and the first one's cause.
        self.breaker = breaker
        self.unreachable_in_row = 0
        self.first_unreachable = ""
        #: Set once the breaker trips: the run is over, later answers do not count.
        self.tripped = False

    # -- asking -----------------------------------------------------------------
    @property
    def queued(self) -> int:
        return len(self._ready) + sum(len(entries) for entries in self._held.values())

    @property
    def finished(self) -> bool:
        return not self._ready and not self.in_flight and not self._held

    def next_ready(self, now: float) -> Task | None:
        """The next task to invoke now, or None (window full, or all waiting out a backoff or for their group)."""
        if not self.has_ready(now):
            return None
        _not_before, _tie, task = heapq.heappop(self._ready)
        self.in_flight[task.nodeid] = task
        if (group := self._group_of.get(task.nodeid)) is not None:
            self._busy_groups.add(group)
        task.dispatched_at = now
        return task

    def has_ready(self, now: float) -> bool:
        """Whether :meth:`next_ready` would hand out a task now."""
        if len(self.in_flight) >= int(self.window):
            return False
        self._hold_busy_groups(now)
        return bool(self._ready) and self._ready[0][0] <= now

    def _hold_busy_groups(self, now: float) -> None:
        """Set aside, from the head of the line, each task due now whose group has a test in flight."""
        while self._ready and self._ready[0][0] <= now:
            task = self._ready[0][2]
            group = self._group_of.get(task.nodeid)
            if group is None or group not in self._busy_groups:
                return
            self._held.setdefault(group, []).append(heapq.heappop(self._ready))

    def forget(self, task: Task) -> None:
        """Take ``task`` out of flight without an answer to count (stopping, a client error).
        Its group is free again: a test waiting for it must not wait forever."""
        self._leaves_flight(task)

    def _leaves_flight(self, task: Task) -> None:
        if self.in_flight.pop(task.nodeid, None) is None:
            return  # not in flight: its group, if busy, is another test's
        group = self._group_of.get(task.nodeid)
        if group is None:
            return
        self._busy_groups.discard(group)
        for entry in self._held.pop(group, []):  # back in line where each stood: a group's next test goes next
            heapq.heappush(self._ready, entry)

    def next_wakeup(self) -> float | None:
        return self._ready[0][0] if self._ready else None

    def drain_queue(self) -> list[Task]:
        """Take every task not yet dispatched (stop, abort, spent budget), those waiting for their group included."""
        tasks = [entry[2] for entry in sorted(self._ready)]
        tasks += [entry[2] for entries in self._held.values() for entry in entries]
        self._ready.clear()
        self._held.clear()
        return tasks

    @property
    def peak_in_flight(self) -> int:
        """The most invocations Lambda ran at once (the configured maximum is ``max_in_flight``).

        Counted over answered invocations only: a request later answered 429 was in flight
        here but never ran, and counting it would claim concurrency the function never had.
        """
        edges = sorted([(start, 1) for start, _ in self._served] + [(end, -1) for _, end in self._served], key=lambda e: (e[0], e[1]))
        peak = running = 0
        for _, step in edges:
            running += step
            peak = max(peak, running)
        return peak

    def _served_until(self, task: Task, now: float) -> None:
        self._served.append((task.dispatched_at, now))

    # -- telling ----------------------------------------------------------------
    def on_throttle(self, task: Task, now: float, retry_after_s: float | None = None) -> bool:
        """Put a throttled task back. False when the throttle budget is spent."""
        self._leaves_flight(task)
        self.throttled += 1
        task.throttles += 1
        self.window = max(1.0, min(self.window, len(self.in_flight) + 1) / 2)
        self.min_window_seen = min(self.min_window_seen, self.window)
        if now - self.last_progress > self.throttle_budget_s:
            return False  # the caller reports the task; it is in no queue now
        cap = min(20.0, 0.25 * 2 ** min(task.throttles, 10))
        delay = self._rand() * cap  # full jitter: throttled callers do not return in lockstep
        if retry_after_s:
            delay = max(delay, retry_after_s * (0.5 + self._rand() / 2))
        task.not_before = now + delay
        heapq.heappush(self._ready, (task.not_before, next(self._counter), task))
        return True

    def on_infra_fault(self, task: Task, cause: str, request_id: str, now: float, fatal: bool = False) -> bool:
        """Record a fault; True if the task goes again on a new invocation."""
        self._leaves_flight(task)
        self._served_until(task, now)
        task.infra_failures.append(cause)
        if request_id:
            task.request_ids.append(request_id)
        self.last_progress = now
        if fatal or len(task.infra_failures) > self.infra_retries:
            return False
        self.retried += 1
        heapq.heappush(self._ready, (now, next(self._counter), task))
        return True

    def on_result(self, task: Task, failed: bool, request_id: str, now: float, repeat: bool = True) -> bool:
        """Record an answer; True if a failed test goes again as a rerun (never when not ``repeat``)."""
        self._leaves_flight(task)
        self._served_until(task, now)
        if request_id:
            task.request_ids.append(request_id)
        self.last_progress = now
        self.window = min(float(self.max_in_flight), self.window + 1.0 / max(1.0, self.window))
        if failed and repeat and task.reruns < self.reruns:
            task.reruns += 1
            self.rerun_count += 1
            heapq.heappush(self._ready, (now, next(self._counter), task))
            return True
        return False

    def on_reachable(self) -> None:
        """Any answer that is not a failure to connect: the endpoint is there."""
        self.unreachable_in_row = 0

    def on_unreachable(self, task: Task, cause: str) -> list[Task] | None:
        """Count an invocation that could not connect. None while the breaker holds (the caller
        treats it as any infrastructure fault); when it trips, every test not finished (``task``,
        the others in flight, the queued), in dispatch order. None of them is in the scheduler any more."""
        self.unreachable_in_row += 1
        if self.unreachable_in_row == 1:
            self.first_unreachable = cause
        if not self.breaker or self.unreachable_in_row < self.breaker:
            return None
        self.tripped = True
        task.infra_failures.append(cause)
        self.in_flight.pop(task.nodeid, None)
        taken = [task, *self.in_flight.values(), *self.drain_queue()]
        self.in_flight.clear()
        self._busy_groups.clear()
        return sorted(taken, key=lambda t: t.order)  # reported in dispatch order
