"""The handler's deadline: one SIGALRM per invocation, a message that says what was cut short."""

from __future__ import annotations

import time

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
