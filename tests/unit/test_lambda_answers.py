"""What an Invoke answer means for a test, read the same way on the boto3 path and the invocation loop."""

from __future__ import annotations

import base64
import json

from lambda_ui.runner.aws.http1 import Headers, parse_head
from lambda_ui.runner.aws.lambda_async import _error_outcome
from lambda_ui.runner.aws.lambda_client import OutcomeKind, outcome_from_answer, outcome_from_error, parse_report_line

REPORT = (
    "START RequestId: r1 Version: $LATEST\n"
    "REPORT RequestId: r1\tDuration: 1234.56 ms\tBilled Duration: 1235 ms\tMemory Size: 2048 MB\t"
    "Max Memory Used: 2048 MB\tInit Duration: 201.50 ms\t\n"
)


def test_report_line_fields() -> None:
    assert parse_report_line(REPORT) == {
        "duration_ms": 1234.56, "billed_ms": 1235.0, "memory_mb": 2048.0, "max_memory_mb": 2048.0, "init_ms": 201.5,
    }
    assert parse_report_line("Duration: 5 ms outside a REPORT line") == {}


def test_a_function_error_with_full_memory_names_memory() -> None:
    log = base64.b64encode(REPORT.encode()).decode()
    outcome = outcome_from_answer(json.dumps({"errorType": "Runtime.ExitError", "errorMessage": "signal: killed"}).encode(), "r1", "Unhandled", log)
    assert outcome.kind is OutcomeKind.INFRA and "out of memory: Max Memory Used 2048 MB of the function's 2048 MB" in outcome.cause
    assert outcome.report_line["billed_ms"] == 1235.0


def test_answers_that_are_not_json_are_infrastructure_faults() -> None:
    outcome = outcome_from_answer(b"<html>502</html>", "r2", None, None)
    assert outcome.kind is OutcomeKind.INFRA and "malformed response (16 bytes, not JSON)" in outcome.cause


def test_error_statuses() -> None:
    assert outcome_from_error(429, "TooManyRequestsException", "Rate Exceeded.", "r", "ReservedFunctionConcurrentInvocationLimitExceeded", "1").retry_after_s == 1.0
    assert not outcome_from_error(502, "ServiceException", "", "r").fatal  # retried
    assert outcome_from_error(403, "AccessDeniedException", "no", "r").fatal


def answer_headers(*lines: str) -> Headers:
    """Headers as the invocation loop's HTTP client reads them off the wire."""
    return parse_head("\r\n".join(["HTTP/1.1 200 OK", *lines]).encode())[1]


def test_the_invocation_loop_reads_error_bodies_as_botocore_does() -> None:
    throttled = _error_outcome(
        429, answer_headers("x-amzn-ErrorType: TooManyRequestsException:http://internal.amazon.com/coral/", "Retry-After: 2"),
        json.dumps({"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}).encode(), "r3",
    )
    assert (throttled.kind, throttled.retry_after_s, throttled.reason) == (OutcomeKind.THROTTLED, 2.0, "ReservedFunctionConcurrentInvocationLimitExceeded")
    too_large = _error_outcome(413, answer_headers(), json.dumps({"__type": "RequestTooLargeException", "message": "too big"}).encode(), "r4")
    assert too_large.fatal and "RequestTooLargeException (413): too big" in too_large.cause
    gateway = _error_outcome(503, answer_headers(), b"<html>Service Unavailable</html>", "")
    assert gateway.kind is OutcomeKind.INFRA and not gateway.fatal and "503" in gateway.cause
