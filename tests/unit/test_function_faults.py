"""Lambda's timeout and exit answers, today's shape and the older one, read the same by the
client: the same fault, the same cause, the same verdict for the test."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from lambda_ui.runner.aws.lambda_client import (
    FunctionFault,
    OutcomeKind,
    classify_function_error,
    outcome_from_answer,
    runtime_mismatch,
)
from lambda_ui.runner.junit_contract import Cause
from lambda_ui.runner.scheduler import Scheduler
from lambda_ui.runner.settle import Action, Settler

RID = "3f0c1c52-3c69-4f3b-9d1e-2c1b7e0f9a11"
TIMEOUTS = {
    "today": {"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {RID} Error: Task timed out after 3.00 seconds"},
    "classic": {"errorMessage": f"2020-11-10T05:46:57.874Z {RID} Task timed out after 3.00 seconds"},
}
EXITS = {
    "today": {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {RID} Error: Runtime exited with error: exit status 1"},
    "classic": {"errorMessage": f"RequestId: {RID} Process exited before completing request"},
}
#: A REPORT line of today's shape, then one of the older shape.
REPORTS = {
    "today": f"REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 2048 MB\tMax Memory Used: 300 MB\tStatus: timeout\t\n",
    "classic": f"REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 2048 MB\tMax Memory Used: 300 MB\t\n",
}


def answer(payload: dict[str, Any], shape: str) -> Any:
    log = base64.b64encode(REPORTS[shape].encode()).decode()
    return outcome_from_answer(json.dumps(payload).encode(), RID, "Unhandled", log)


@pytest.mark.parametrize("shape", ["today", "classic"])
def test_both_timeout_shapes_are_a_lambda_timeout(shape: str) -> None:
    outcome = answer(TIMEOUTS[shape], shape)
    assert (outcome.kind, outcome.fault, outcome.fatal) == (OutcomeKind.INFRA, FunctionFault.TIMEOUT, False)
    assert outcome.cause == "Lambda timeout: Task timed out after 3.00 seconds"
    assert outcome.report_line["billed_ms"] == 3000.0


@pytest.mark.parametrize("shape", ["today", "classic"])
def test_both_exit_shapes_are_a_runtime_exit(shape: str) -> None:
    outcome = answer(EXITS[shape], shape)
    assert (outcome.kind, outcome.fault, outcome.fatal) == (OutcomeKind.INFRA, FunctionFault.EXIT, False)
    assert outcome.cause.startswith("Runtime.ExitError: ") and RID not in outcome.cause


def test_other_function_errors_are_neither() -> None:
    assert classify_function_error({"errorType": "ValueError", "errorMessage": "boom"}) is FunctionFault.ERROR
    assert classify_function_error({"errorType": "Runtime.ImportModuleError", "errorMessage": "Unable to import module"}) is FunctionFault.ERROR
    # The old exit words count only without an errorType: a handler's own message is not an exit.
    assert classify_function_error({"errorType": "ValueError", "errorMessage": "Process exited before completing request"}) is FunctionFault.ERROR
    assert classify_function_error("not an object") is FunctionFault.ERROR


def _verdicts(payloads: dict[str, dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """Each shape, answered twice for one test with one retry: the verdict of the last answer."""
    found = {}
    for shape, payload in payloads.items():
        scheduler = Scheduler(["t.py::a"], {}, max_in_flight=1, infra_retries=1, reruns=0, throttle_budget_s=10, breaker=0, rand=lambda: 0.5)
        settler = Settler(scheduler, memory_mb=2048, throttle_budget_s=10, endpoint="http://127.0.0.1:9")
        first = settler.settle(scheduler.next_ready(0.0), answer(payload, shape), 1.0, True)  # type: ignore[arg-type]
        task = scheduler.next_ready(100.0)
        assert first.action is Action.NONE and task is not None  # retried on a new invocation
        last = settler.settle(task, answer(payload, shape), 101.0, True)
        # What each attempt was, as the report says it: "Lambda timeout" or "Runtime.ExitError".
        labels = tuple(cause.split(":")[0] for cause in task.infra_failures)
        found[shape] = (last.action, last.cause, labels, settler.tally.invocations)
    return found


@pytest.mark.parametrize("payloads", [TIMEOUTS, EXITS], ids=["timeout", "exit"])
def test_the_settle_step_gives_both_shapes_the_same_verdict(payloads: dict[str, dict[str, Any]]) -> None:
    verdicts = _verdicts(payloads)
    assert verdicts["today"] == verdicts["classic"]
    action, cause, labels, invocations = verdicts["today"]
    assert (action, cause, invocations) == (Action.ERROR, Cause.RETRIES_SPENT, 2)
    assert labels == (("Lambda timeout",) * 2 if payloads is TIMEOUTS else ("Runtime.ExitError",) * 2)


def test_a_runtime_that_runs_another_python_than_it_declares_is_named() -> None:
    facts = {"execution_env": "AWS_Lambda_python3.12", "python_version": "3.11.7"}
    warning = runtime_mismatch(facts)
    assert "python3.12" in warning and "Python 3.11.7" in warning and "lambda-ui local-lambda --python" in warning
    assert runtime_mismatch({"execution_env": "AWS_Lambda_python3.12", "python_version": "3.12.4"}) == ""
    assert runtime_mismatch({"python_version": "3.11.7"}) == ""  # an image that sets no AWS_EXECUTION_ENV
    assert runtime_mismatch({}) == ""
