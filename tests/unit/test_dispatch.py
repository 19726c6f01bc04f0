"""The invocation loop: every test settled exactly once, the window kept, backoffs, stop and abort."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from queue import Empty

import pytest

from lambda_ui.runner.aws.lambda_client import InvokeOutcome, OutcomeKind
from lambda_ui.runner.dispatch import BATCH, Invokers, SettleFn
from lambda_ui.runner.scheduler import Scheduler, Task


class Recorder:
    """An invoke that sleeps, counts how many run at once, and answers by test name."""

    def __init__(self, seconds: float = 0.01) -> None:
        self.seconds = seconds
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.calls: Counter[str] = Counter()
        self.release = threading.Event()
        self.release.set()

    async def invoke(self, task: Task) -> InvokeOutcome:
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self.calls[task.nodeid] += 1
            throttle = "throttle" in task.nodeid and self.calls[task.nodeid] == 1
        while not self.release.is_set():
            await asyncio.sleep(0.005)
        await asyncio.sleep(self.seconds)
        with self.lock:
            self.running -= 1
        if throttle:
            return InvokeOutcome(OutcomeKind.THROTTLED, retry_after_s=0.05)
        return InvokeOutcome(OutcomeKind.OK, payload={"kind": "run"})


def settle_into(scheduler: Scheduler) -> SettleFn[str]:
    def settle(task: Task, outcome: InvokeOutcome, now: float, repeat: bool) -> str:
        if outcome.kind is OutcomeKind.THROTTLED:
            if not repeat:
                scheduler.in_flight.pop(task.nodeid, None)
                return "dropped"
            assert scheduler.on_throttle(task, now, outcome.retry_after_s)
            return "throttled"
        scheduler.on_result(task, False, "", now)
        return "done"
    return settle


def collect(invokers: Invokers[str], timeout: float = 20) -> list[tuple[str, str]]:
    settled: list[tuple[str, str]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            entry = invokers.settled.get(timeout=0.02)
        except Empty:
            continue
        if entry is None:
            if invokers.finished():
                return settled
            continue
        settled.append((entry[0].nodeid, entry[1]))
    raise AssertionError(f"not finished after {timeout} s: {settled}")


def run_to_the_end(names: list[str], window: int) -> tuple[Scheduler, Recorder, list[tuple[str, str]]]:
    scheduler = Scheduler(names, {}, max_in_flight=window, now=time.monotonic())
    recorder = Recorder()
    invokers = Invokers(scheduler, recorder.invoke, settle_into(scheduler))
    invokers.start()
    settled = collect(invokers)
    invokers.close()
    return scheduler, recorder, settled


def test_every_test_settles_once_within_the_window() -> None:
    names = [f"t{i}" for i in range(60)]
    _scheduler, recorder, settled = run_to_the_end(names, 8)
    assert sorted(n for n, _ in settled) == sorted(names)
    assert all(how == "done" for _, how in settled)
    assert recorder.peak <= 8
    assert recorder.peak >= 4  # they did run side by side


def test_a_throttled_test_waits_and_goes_again_and_the_window_shrinks() -> None:
    names = ["throttle_a"] + [f"t{i}" for i in range(10)]
    scheduler, _recorder, settled = run_to_the_end(names, 4)
    assert [how for n, how in settled if n == "throttle_a"] == ["throttled", "done"]
    assert Counter(n for n, how in settled if how == "done") == Counter(names)
    assert scheduler.min_window_seen < 4


def held_at_the_window(names: list[str], window: int) -> tuple[Recorder, Invokers[str]]:
    """Invocations started up to the window and held there until ``recorder.release`` is set."""
    scheduler = Scheduler(names, {}, max_in_flight=window, now=time.monotonic())
    recorder = Recorder()
    recorder.release.clear()
    invokers = Invokers(scheduler, recorder.invoke, settle_into(scheduler))
    invokers.start()
    deadline = time.monotonic() + 5
    while recorder.running < window and time.monotonic() < deadline:
        time.sleep(0.01)
    return recorder, invokers


def test_stop_lets_running_tests_answer_and_starts_no_more() -> None:
    recorder, invokers = held_at_the_window([f"t{i}" for i in range(20)], 3)
    dropped = invokers.stop()
    recorder.release.set()
    settled = collect(invokers)
    invokers.close()
    assert len(settled) == 3 and len(dropped) == 17
    assert sum(recorder.calls.values()) == 3


def test_abort_hands_back_running_and_waiting_tests_and_drops_late_answers() -> None:
    names = [f"t{i}" for i in range(10)]
    recorder, invokers = held_at_the_window(names, 2)
    waiting, running = invokers.abort()
    recorder.release.set()  # the two in flight may answer now: too late, or cancelled by the loop's end
    invokers.close()  # joins the loop: whatever it would settle, it has by now
    assert len(waiting) == 8 and len(running) == 2
    assert invokers.drain_settled() == []  # the two answers came after the abort
    assert sum(recorder.calls.values()) == 2
    assert sorted(t.nodeid for t in waiting + running) == sorted(names)


def test_close_cancels_invocations_in_flight_and_runs_the_exit_hook() -> None:
    scheduler = Scheduler(["slow"], {}, max_in_flight=1, now=time.monotonic())
    closed = threading.Event()
    started = threading.Event()

    async def invoke(task: Task) -> InvokeOutcome:
        started.set()
        await asyncio.sleep(60)
        return InvokeOutcome(OutcomeKind.OK)

    async def on_exit() -> None:
        closed.set()

    invokers = Invokers(scheduler, invoke, settle_into(scheduler), on_exit=on_exit)
    invokers.start()
    assert started.wait(5)
    began = time.monotonic()
    invokers.close()
    assert closed.is_set() and time.monotonic() - began < 2


def test_a_bug_in_invoke_ends_as_an_infrastructure_outcome() -> None:
    scheduler = Scheduler(["a", "b"], {}, max_in_flight=2, now=time.monotonic())
    outcomes: list[InvokeOutcome] = []

    async def invoke(task: Task) -> InvokeOutcome:
        raise RuntimeError("boom")

    def settle(task: Task, outcome: InvokeOutcome, now: float, repeat: bool) -> str:
        outcomes.append(outcome)
        scheduler.on_infra_fault(task, outcome.cause, "", now, fatal=True)
        return "error"

    invokers = Invokers(scheduler, invoke, settle)
    invokers.start()
    settled = collect(invokers)
    invokers.close()
    assert sorted(n for n, _ in settled) == ["a", "b"]
    assert all(o.kind is OutcomeKind.INFRA and "client error: RuntimeError: boom" in o.cause for o in outcomes)


def test_tests_start_in_small_batches_so_the_first_go_out_at_once() -> None:
    scheduler = Scheduler([f"t{i}" for i in range(200)], {}, max_in_flight=200, now=time.monotonic())
    seen_in_flight: list[int] = []

    async def invoke(task: Task) -> InvokeOutcome:
        seen_in_flight.append(len(scheduler.in_flight))  # how many were handed out before this one ran
        await asyncio.sleep(0.01)
        return InvokeOutcome(OutcomeKind.OK)

    invokers = Invokers(scheduler, invoke, settle_into(scheduler))
    invokers.start()
    settled = collect(invokers)
    invokers.close()
    assert len(settled) == 200
    assert seen_in_flight[0] <= BATCH < 200


class FakeClock:
    """``time.monotonic`` and ``time.sleep`` for lambda_ui.runner.dispatch: sleeping advances the clock,
    and ``on_sleep`` plays the invocation loop settling answers meanwhile."""

    def __init__(self, on_sleep: Callable[[FakeClock], None]) -> None:
        self.now = 100.0
        self.slept: list[float] = []
        self.on_sleep = on_sleep

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        self.on_sleep(self)


def test_replay_waits_while_answers_are_settled_but_not_for_long(monkeypatch: pytest.MonkeyPatch) -> None:
    """The main thread holds off while the loop turns a wave of answers around (one GIL),
    starts as soon as the wave is over, and never waits longer than QUIET_AT_MOST_S."""
    import lambda_ui.runner.dispatch as dispatch

    invokers = Invokers(Scheduler(["t"], {}, max_in_flight=1, now=0.0), Recorder().invoke, settle_into(Scheduler(["t"], {}, 1, now=0.0)))

    quiet = FakeClock(lambda clock: None)
    monkeypatch.setattr(dispatch, "time", quiet)
    invokers.last_settled = quiet.now - 1.0  # nothing settled for a second: replay at once
    invokers.wait_for_quiet()
    assert quiet.slept == []

    def settling_during(sleeps: int) -> Callable[[FakeClock], None]:
        def settle(clock: FakeClock) -> None:
            if len(clock.slept) <= sleeps:
                invokers.last_settled = clock.now  # another answer settled while the main thread slept
        return settle

    short = FakeClock(settling_during(4))
    monkeypatch.setattr(dispatch, "time", short)
    invokers.last_settled = short.now
    invokers.wait_for_quiet()
    assert len(short.slept) == 5  # four sleeps with an answer settled in each, then one quiet one

    endless = FakeClock(settling_during(10**6))
    monkeypatch.setattr(dispatch, "time", endless)
    invokers.last_settled = endless.now
    invokers.wait_for_quiet()
    assert sum(endless.slept) <= dispatch.QUIET_AT_MOST_S + dispatch.QUIET_S
    assert sum(endless.slept) >= dispatch.QUIET_AT_MOST_S - dispatch.QUIET_S
    invokers.close()


def test_the_status_line_reads_the_scheduler_under_the_loop_s_lock() -> None:
    # The status line once read the tests in flight straight from the scheduler while the loop's
    # thread settled answers: "dictionary changed size during iteration" ended a whole run with
    # INTERNALERROR (seen under load). Switching threads every microsecond makes the race certain.
    scheduler = Scheduler([f"test_{i}" for i in range(3000)], {}, max_in_flight=500, now=time.monotonic())
    invokers = Invokers(scheduler, Recorder(seconds=0).invoke, settle_into(scheduler))
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    reads = []
    try:
        invokers.start()
        while not invokers.finished():
            reads.append(len(invokers.progress().dispatched_at))
    finally:
        sys.setswitchinterval(interval)
        invokers.close()
    assert len(reads) > 10 and max(reads) > 0, reads[:20]
