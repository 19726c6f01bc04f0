"""How the report reader names an outcome from pytest's JUnit elements."""

from __future__ import annotations

import pytest

from lambda_ui.runner.reports.model import Outcome, classify


@pytest.mark.parametrize(
    "message",
    [
        "infrastructure failure after 3 attempt(s) (attempt 1: Runtime.ExitError)",
        "throttled: Lambda refused invocations for over 300 s",
        "run aborted (interrupted) before this test finished",
        "Lambda unreachable: connection lost: EndpointConnectionError; 3 invocations in a row could not connect to http://127.0.0.1:9",
        'failed on setup with "Lambda unreachable: connection refused"',
    ],
)
def test_errors_the_runner_raised_are_infrastructure(message: str) -> None:
    assert classify("error", message, "") is Outcome.INFRA


def test_an_error_of_the_suite_stays_an_error() -> None:
    assert classify("error", 'failed on setup with "AssertionError: no account page"', "") is Outcome.ERROR
