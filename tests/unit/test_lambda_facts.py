"""What a --lambda run writes per test: the outcome as junitxml classifies the reports, and the attempt facts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from lambda_ui.runner import junit_contract as jc
from lambda_ui.runner.junit_contract import Cause, RecordedOutcome
from lambda_ui.runner.lambda_facts import attempt_properties, outcome_properties, recorded_outcome, rerun_properties
from lambda_ui.runner.scheduler import Task


@dataclass
class Phase:
    when: str
    outcome: str = "passed"

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    @property
    def skipped(self) -> bool:
        return self.outcome == "skipped"


@dataclass
class XfailPhase(Phase):
    wasxfail: str = "known bug"


@pytest.mark.parametrize(
    ("phases", "expected"),
    [
        ([Phase("setup"), Phase("call"), Phase("teardown")], RecordedOutcome.PASSED),
        ([Phase("setup", "failed"), Phase("teardown")], RecordedOutcome.ERROR),
        ([Phase("setup"), Phase("call", "failed"), Phase("teardown")], RecordedOutcome.FAILED),
        ([Phase("setup"), Phase("call", "failed"), Phase("teardown", "failed")], RecordedOutcome.FAILED),
        ([Phase("setup"), Phase("call"), Phase("teardown", "failed")], RecordedOutcome.ERROR),
        ([Phase("setup", "skipped"), Phase("teardown")], RecordedOutcome.SKIPPED),
        ([Phase("setup"), XfailPhase("call", "skipped"), Phase("teardown")], RecordedOutcome.XFAILED),
        ([Phase("setup"), XfailPhase("call", "passed"), Phase("teardown")], RecordedOutcome.PASSED),  # a non-strict unexpected pass
        # pytest-rerunfailures runs the test again: this attempt's entry is not the outcome.
        ([Phase("setup"), Phase("call", "rerun"), Phase("teardown")], RecordedOutcome.RERUN),
        ([Phase("setup", "rerun"), Phase("teardown")], RecordedOutcome.RERUN),
        # A failed subtest (unittest's subTest, pytest's subtests) is a call report before the test's own passing one.
        ([Phase("setup"), Phase("call", "failed"), Phase("call"), Phase("teardown")], RecordedOutcome.FAILED),
        ([Phase("setup"), Phase("call"), Phase("call", "skipped"), Phase("call"), Phase("teardown")], RecordedOutcome.SKIPPED),
    ],
)
def test_outcome_as_junitxml_classifies_it(phases: list[Phase], expected: RecordedOutcome) -> None:
    assert recorded_outcome(phases) is expected


def test_values_are_written_as_text() -> None:
    assert outcome_properties(RecordedOutcome.INFRA, Cause.RETRIES_SPENT) == [(jc.OUTCOME, "infra"), (jc.CAUSE, "retries_spent")]
    assert outcome_properties(RecordedOutcome.PASSED) == [(jc.OUTCOME, "passed")]


def test_attempts_and_reruns() -> None:
    task = Task("t.py::a", None, 0, infra_failures=["crash"], request_ids=["r1", "r2"], reruns=1, throttles=2)
    assert attempt_properties(task, answered=True) == [
        (jc.ATTEMPTS, 3), (jc.REQUEST_IDS, "r1,r2"), (f"{jc.INFRA_FAILURE_PREFIX}1", "crash"), (jc.THROTTLES, 2),
    ]
    assert rerun_properties(["call failed: boom"], passed=True) == [(f"{jc.RERUN_PREFIX}1", "call failed: boom"), (jc.FLAKY, "true")]
    assert rerun_properties([], passed=True) == []
