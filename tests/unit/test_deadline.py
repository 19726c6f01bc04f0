"""The handler's deadline: one interruption per invocation, a message that says what was cut short."""

from __future__ import annotations

import signal
import time
from types import FrameType

import pytest

from lambda_ui.function.deadline import Deadline, LambdaDeadlineExceeded


def _expire(on_expiry_answer: bool, began: float | None = None) -> str:
    deadline = Deadline(lambda: on_expiry_answer)
    deadline.arm(0.05, began=began)
    try:
        with pytest.raises(LambdaDeadlineExceeded) as caught:
            time.sleep(5)
    finally:
        deadline.disarm()
    assert deadline.expired
    return str(caught.value)


def test_a_running_test_points_at_its_deadline_artifacts() -> None:
    message = _expire(True)
    assert message.startswith("timed out in Lambda after 0 s: the test was stopped") and "deadline-* artifacts" in message


def test_before_any_test_it_names_pytest_start_and_what_to_do() -> None:
    message = _expire(False)
    assert "before the test began" in message and "pytest_configure" in message and "longer Timeout" in message
    assert "deadline-* artifacts" not in message, "no test ran, so nothing was captured"


def test_the_time_counts_from_the_invocation_start() -> None:
    assert "after 7 s" in _expire(True, began=time.monotonic() - 7)


def test_a_suite_s_own_sigalrm_timer_leaves_the_deadline_armed() -> None:
    """pytest-timeout's signal method around a test: its own SIGALRM handler and a 300 s
    ITIMER_REAL, cancelled again at teardown. The deadline must still strike within the test."""

    def suite_timeout(signum: int, frame: FrameType | None) -> None:
        raise AssertionError("the suite's own timeout")

    previous = signal.signal(signal.SIGALRM, suite_timeout)
    deadline = Deadline(lambda: True)
    deadline.arm(0.2)
    started = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 300)
        with pytest.raises(LambdaDeadlineExceeded):
            time.sleep(5)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        deadline.disarm()
    assert time.monotonic() - started < 4


def test_a_disarmed_deadline_never_interrupts_later_code() -> None:
    deadline = Deadline(lambda: True)
    deadline.arm(0.05)
    deadline.disarm()
    time.sleep(0.2)  # no LambdaDeadlineExceeded, and the process is still here
    assert not deadline.expired


def test_an_except_exception_on_the_way_does_not_swallow_it() -> None:
    """A retry loop (the suite's, Selenium's, the Chrome start's own) catches ``Exception``:
    it swallowed the deadline, and the test ran on into Lambda's timeout."""
    deadline = Deadline(lambda: True)
    deadline.arm(0.05)
    started = time.monotonic()
    try:
        with pytest.raises(LambdaDeadlineExceeded):
            try:
                time.sleep(5)
            except Exception:
                pass  # e.g. "Chrome did not start; trying once more"
            time.sleep(5)
    finally:
        deadline.disarm()
    assert time.monotonic() - started < 4
