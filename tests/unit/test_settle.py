"""The settle step on its own: one answer in, one verdict out, the scheduler updated. No threads, no pytest run."""

from __future__ import annotations

from typing import Any

from lambda_ui.runner.aws.lambda_client import InvokeOutcome, OutcomeKind, read_timeout
from lambda_ui.runner.junit_contract import Cause
from lambda_ui.runner.scheduler import Scheduler, Task
from lambda_ui.runner.settle import Action, Settler, Verdict

ENDPOINT = "http://127.0.0.1:9"


def settler(nodeids: list[str], *, retries: int = 1, reruns: int = 0, breaker: int = 0, fallback: bool = False, maxfail: int = 0) -> Settler:
    scheduler = Scheduler(nodeids, {}, max_in_flight=len(nodeids), infra_retries=retries, reruns=reruns, throttle_budget_s=10, breaker=breaker, rand=lambda: 0.5)
    return Settler(scheduler, memory_mb=2048, throttle_budget_s=10, endpoint=ENDPOINT, fallback_enabled=fallback, maxfail=maxfail)


def dispatch(s: Settler, now: float = 0.0) -> Task:
    task = s.scheduler.next_ready(now)
    assert task is not None
    return task


def run_answer(*outcomes: str, **extra: Any) -> InvokeOutcome:
    reports = [{"when": "call", "outcome": outcome} for outcome in outcomes]
    return InvokeOutcome(OutcomeKind.OK, payload={"kind": "run", "reports": reports, **extra}, request_id="req", report_line={"billed_ms": 1000.0})


def handler_error(retryable: bool) -> InvokeOutcome:
    payload = {"kind": "error", "error_type": "BundleMismatch", "message": "hash differs", "retryable": retryable}
    return InvokeOutcome(OutcomeKind.OK, payload=payload, request_id="req")


def crash() -> InvokeOutcome:
    return InvokeOutcome(OutcomeKind.INFRA, cause="Runtime.ExitError: signal: killed", request_id="req")


def refused() -> InvokeOutcome:
    return InvokeOutcome(OutcomeKind.INFRA, cause="connection lost: EndpointConnectionError: refused", unreachable=True)


def test_passed() -> None:
    s = settler(["a"])
    task = dispatch(s)
    verdict = s.settle(task, run_answer("passed"), 1.0, True)
    assert (verdict.action, verdict.failed, verdict.cause) == (Action.REPORT, False, None)
    assert verdict.payload is not None and verdict.answered_at == 1.0
    assert s.scheduler.finished and s.tally.invocations == 1 and s.tally.billed_gb_s == 2.0 and s.tally.failures == 0


def test_throttle_waits_and_is_no_invocation() -> None:
    s = settler(["a"])
    task = dispatch(s)
    verdict = s.settle(task, InvokeOutcome(OutcomeKind.THROTTLED, retry_after_s=1.0), 1.0, True)
    assert verdict.action is Action.NONE
    assert task.throttles == 1 and s.scheduler.queued == 1 and not s.scheduler.in_flight
    assert s.tally.invocations == 0


def test_throttle_while_stopping_drops_the_test() -> None:
    s = settler(["a"])
    task = dispatch(s)
    assert s.settle(task, InvokeOutcome(OutcomeKind.THROTTLED), 1.0, False).action is Action.NONE
    assert s.scheduler.finished and task.throttles == 0


def test_throttle_budget_spent_gives_up_every_queued_test() -> None:
    s = settler(["a", "b", "c"])
    a = dispatch(s)
    verdict = s.settle(a, InvokeOutcome(OutcomeKind.THROTTLED, reason="ReservedFunctionConcurrentInvocationLimitExceeded"), 11.0, True)
    assert (verdict.action, verdict.cause, verdict.may_fall_back) == (Action.GIVE_UP, Cause.THROTTLED, True)
    assert [t.nodeid for t in verdict.tasks] == ["a", "b", "c"]
    assert verdict.message.startswith("throttled: Lambda refused invocations (ReservedFunctionConcurrentInvocationLimitExceeded) for over 10 s")
    assert s.scheduler.finished


def test_retryable_handler_error_goes_again() -> None:
    s = settler(["a"], retries=1)
    task = dispatch(s)
    assert s.settle(task, handler_error(retryable=True), 1.0, True).action is Action.NONE
    assert task.infra_failures == ["BundleMismatch: hash differs"] and s.scheduler.queued == 1


def test_fatal_handler_error_is_refused_at_once() -> None:
    s = settler(["a"], retries=3)
    task = dispatch(s)
    verdict = s.settle(task, handler_error(retryable=False), 1.0, True)
    assert (verdict.action, verdict.cause, verdict.may_fall_back, verdict.failed) == (Action.ERROR, Cause.REFUSED, False, True)
    assert verdict.message == "the Lambda handler refused this test: BundleMismatch: hash differs"
    assert s.scheduler.finished and s.tally.failures == 1


def test_infra_fault_with_retries_left_goes_again() -> None:
    s = settler(["a"], retries=1)
    task = dispatch(s)
    assert s.settle(task, crash(), 1.0, True).action is Action.NONE
    assert s.scheduler.queued == 1 and s.scheduler.retried == 1


def test_infra_retries_spent_end_as_an_error_that_may_fall_back() -> None:
    s = settler(["a"], retries=1)
    task = dispatch(s)
    s.settle(task, crash(), 1.0, True)
    task = dispatch(s, 1.0)
    verdict = s.settle(task, crash(), 2.0, True)
    assert (verdict.action, verdict.cause, verdict.may_fall_back, verdict.failed) == (Action.ERROR, Cause.RETRIES_SPENT, True, True)
    assert verdict.message.startswith("infrastructure failure after 2 attempt(s) (attempt 1: Runtime.ExitError")
    assert "request ids: req, req" in verdict.message


def test_with_the_fallback_a_spent_test_is_no_failure_yet() -> None:
    s = settler(["a"], retries=0, fallback=True)
    verdict = s.settle(dispatch(s), crash(), 1.0, True)
    assert (verdict.cause, verdict.may_fall_back, verdict.failed) == (Cause.RETRIES_SPENT, True, False)
    assert s.tally.failures == 0


def test_a_read_timeout_is_never_retried_nor_run_elsewhere() -> None:
    s = settler(["a"], retries=3, fallback=True)
    verdict = s.settle(dispatch(s), read_timeout(), 1.0, True)
    assert (verdict.action, verdict.cause, verdict.may_fall_back, verdict.failed) == (Action.ERROR, Cause.NOT_RETRIED, False, True)
    assert s.scheduler.finished


def test_unreachable_trips_the_breaker_and_takes_every_test() -> None:
    s = settler(["a", "b", "c", "d"], retries=5, breaker=2)
    a, b = dispatch(s), dispatch(s)
    assert s.settle(a, refused(), 1.0, True).action is Action.NONE  # one refusal: an ordinary fault, retried
    verdict = s.settle(b, refused(), 2.0, True)
    assert (verdict.action, verdict.cause, verdict.may_fall_back) == (Action.GIVE_UP, Cause.UNREACHABLE, True)
    assert sorted(t.nodeid for t in verdict.tasks) == ["a", "b", "c", "d"]
    assert verdict.message.endswith(f"; 2 invocations in a row could not connect to {ENDPOINT}")
    # An answer that arrives after the breaker tripped does not count.
    assert s.tally.invocations == 2
    assert s.settle(a, run_answer("passed"), 3.0, True).action is Action.NONE and s.tally.invocations == 2


def test_unreachable_with_retries_spent_and_the_breaker_off() -> None:
    s = settler(["a"], retries=0)
    verdict = s.settle(dispatch(s), refused(), 1.0, True)
    assert (verdict.action, verdict.cause, verdict.may_fall_back) == (Action.ERROR, Cause.UNREACHABLE, True)


def test_malformed_answer_is_not_retried() -> None:
    s = settler(["a"], retries=3)
    verdict = s.settle(dispatch(s), InvokeOutcome(OutcomeKind.OK, payload={"hello": "world"}), 1.0, True)
    assert (verdict.action, verdict.cause) == (Action.ERROR, Cause.MALFORMED)
    assert verdict.message == "the Lambda answered something that is not a test result: {'hello': 'world'}"
    assert s.scheduler.finished


def test_failed_result_with_a_rerun_left_goes_again_then_reports() -> None:
    s = settler(["a"], reruns=1)
    task = dispatch(s)
    first = s.settle(task, run_answer("failed"), 1.0, True)
    assert first.action is Action.RERUN and s.tally.failures == 0 and s.scheduler.queued == 1
    task = dispatch(s, 1.0)
    second = s.settle(task, run_answer("passed"), 2.0, True)
    assert (second.action, second.failed) == (Action.REPORT, False) and s.scheduler.finished


def test_failed_result_with_no_rerun_left_is_a_failure() -> None:
    s = settler(["a"], reruns=0)
    verdict = s.settle(dispatch(s), run_answer("failed"), 1.0, True)
    assert (verdict.action, verdict.failed) == (Action.REPORT, True) and s.tally.failures == 1


def test_maxfail_empties_the_queue_at_once() -> None:
    s = settler(["a", "b", "c"], maxfail=1)
    s.settle(dispatch(s), run_answer("failed"), 1.0, True)
    assert s.scheduler.queued == 0


def test_a_bug_while_settling_ends_the_test_as_a_client_error() -> None:
    s = settler(["a"])
    broken = InvokeOutcome(OutcomeKind.OK, payload={"kind": "run", "reports": 5})  # not a list: the reading fails
    verdict: Verdict = s.settle(dispatch(s), broken, 1.0, True)
    assert (verdict.action, verdict.cause) == (Action.ERROR, Cause.CLIENT_ERROR)
    assert verdict.message.startswith("client error while handling the answer: TypeError")
    assert s.scheduler.finished
