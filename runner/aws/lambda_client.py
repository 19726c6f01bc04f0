"""The Lambda calls the client makes, and what each answer means for a test.

Every Invoke ends as one :class:`InvokeOutcome`: a payload, a throttle (try
again later, never a test failure), or an infrastructure fault (try again on a
new invocation). boto3 is configured for long synchronous invocations: a read
timeout above the function's timeout and **no SDK retries**, because a retried
Invoke silently runs the same test again.
"""

from __future__ import annotations

import base64
import json
import math
import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ProxyConnectionError,
    ReadTimeoutError,
)

from lambda_ui.contract import CONTRACT_VERSION


class LambdaProblem(Exception):
    """A configuration problem explained for a person."""


@dataclass(frozen=True)
class FunctionInfo:
    name: str
    timeout_s: int
    memory_mb: int
    reserved_concurrency: int | None
    #: Python distributions installed in the image (name -> version), from the info answer.
    distributions: dict[str, str] = field(default_factory=dict)
    #: One line when the function runs another Python than its runtime says (a local
    #: stand-in on another interpreter); empty otherwise.
    runtime_warning: str = ""


class OutcomeKind(str, Enum):
    """How an Invoke call ended, before anyone looks at the payload."""

    OK = "ok"  # the handler answered (its payload may still say it refused the test)
    THROTTLED = "throttled"  # try again later; never a test failure
    INFRA = "infra"  # an infrastructure fault: try again on a new invocation, unless fatal


class FunctionFault(str, Enum):
    """What a function error (``X-Amz-Function-Error``) says ended the invocation."""

    TIMEOUT = "timeout"  # Lambda stopped it at the function's timeout
    EXIT = "exit"  # the runtime process exited or was killed (a crash, out of memory)
    ERROR = "error"  # the handler raised, an init error, a response too large


#: Today's timeout answer is ``{"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: <id>
#: Error: Task timed out after 3.00 seconds"}``; older ones have only ``"<ISO time> <id> Task
#: timed out after 3.00 seconds"``. Exits: ``Runtime.ExitError`` with ``RequestId: <id> Error:
#: Runtime exited with error: exit status 1``, formerly only ``RequestId: <id> Process exited
#: before completing request``. Both shapes of each read the same.
_TIMEOUT_TEXT = "Task timed out after"
_TIMEOUT_TYPE = "Sandbox.Timedout"
_EXIT_TYPE = "Runtime.ExitError"
_OLD_EXIT_TEXT = "Process exited before completing request"
_REQUEST_PREFIX = re.compile(r"^RequestId: \S+ (?:Error: )?")


def classify_function_error(payload: Any) -> FunctionFault:
    """Timeout, runtime exit or another error, from either shape of Lambda's answer."""
    if not isinstance(payload, dict):
        return FunctionFault.ERROR
    kind, message = str(payload.get("errorType", "")), str(payload.get("errorMessage", ""))
    if kind == _TIMEOUT_TYPE or _TIMEOUT_TEXT in message:
        return FunctionFault.TIMEOUT
    if kind == _EXIT_TYPE or (not kind and _OLD_EXIT_TEXT in message):
        return FunctionFault.EXIT
    return FunctionFault.ERROR


@dataclass
class InvokeOutcome:
    """What one Invoke call came back with."""

    kind: OutcomeKind
    payload: Any = None
    request_id: str = ""
    #: For throttles: seconds the service asked us to wait, and why.
    retry_after_s: float | None = None
    reason: str = ""
    #: For infra faults: a short cause a person can read.
    cause: str = ""
    #: For infra faults: never invoke again for it (a read timeout: the test may still run;
    #: a 4xx: our request is wrong).
    fatal: bool = False
    #: For infra faults: no connection could be made at all (refused, name not resolved, connect
    #: timeout). The endpoint may be gone; the invocation certainly never started.
    unreachable: bool = False
    log_tail: str = ""
    report_line: dict[str, float] = field(default_factory=dict)
    #: For function errors: what ended the invocation, whichever shape Lambda answered in.
    fault: FunctionFault | None = None


_REPORT_FIELDS = {
    "Duration": "duration_ms",
    "Billed Duration": "billed_ms",
    "Memory Size": "memory_mb",
    "Max Memory Used": "max_memory_mb",
    "Init Duration": "init_ms",
}
_REPORT_FIELD = re.compile(r"(?<![A-Za-z])(" + "|".join(_REPORT_FIELDS) + r"): ([0-9.]+)")


def parse_report_line(log_tail: str) -> dict[str, float]:
    """Numbers from Lambda's ``REPORT RequestId: … Duration: 12.3 ms …`` line."""
    facts: dict[str, float] = {}
    for line in log_tail.splitlines():
        if line.startswith("REPORT"):
            for label, value in _REPORT_FIELD.findall(line):
                facts[_REPORT_FIELDS[label]] = float(value)
    return facts


def default_session() -> boto3.session.Session:
    """boto3's default session, the one ``boto3.client`` uses: the run's clients share its
    configuration, service models and credentials (an AssumeRole, an SSO token)."""
    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    return boto3.DEFAULT_SESSION


def default_region() -> str:
    """The region boto3's default session picks (environment, then profile), else us-east-1."""
    return default_session().region_name or "us-east-1"


def make_client(read_timeout_s: float, max_connections: int) -> Any:
    region = default_region()
    config = Config(
        read_timeout=read_timeout_s,
        connect_timeout=10,
        tcp_keepalive=True,  # long idle waits get dropped by NAT and firewalls otherwise
        max_pool_connections=max(10, max_connections),
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    return boto3.client("lambda", region_name=region, config=config)


class LambdaFunction:
    """One deployed function, invoked synchronously."""

    def __init__(self, name: str, client: Any) -> None:
        self.name = name
        self.client = client

    def describe(self) -> FunctionInfo:
        """Reserved concurrency, timeout and memory of the function.

        Never GetFunctionConfiguration: its answer carries the function's environment
        variables in plain text (issue #7). The reserved concurrency comes from
        GetFunctionConcurrency (which also tells a missing function), the memory and the
        timeout from the handler's own ``info`` answer (its time left at the start).
        """
        reserved: int | None = None
        try:
            reserved = self.client.get_function_concurrency(FunctionName=self.name).get("ReservedConcurrentExecutions")
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise LambdaProblem(
                    f"Lambda function {self.name!r} does not exist at {self.client.meta.endpoint_url} "
                    f"(region {self.client.meta.region_name}). Deploy it (see docs/deploy.md) or fix --lambda-function."
                ) from None
            if code.isdigit():  # the Lambda API always names its error type; a bare status is another server
                raise LambdaProblem(
                    f"the endpoint {self.client.meta.endpoint_url} is not the Lambda API: it answered HTTP {code} "
                    "without a Lambda error type to GetFunctionConcurrency. Check AWS_ENDPOINT_URL_LAMBDA (or AWS_ENDPOINT_URL) and the region."
                ) from None
            if code == "UnrecognizedClientException":
                raise LambdaProblem(f"not allowed to read Lambda function {self.name!r}: {exc}. Attach the caller policy from template.yaml.") from None
            if code != "AccessDeniedException":  # not allowed: the account limit then applies
                raise LambdaProblem(f"cannot read Lambda function {self.name!r}: {exc}") from None
        except EndpointConnectionError:
            raise LambdaProblem(
                f"cannot reach Lambda at {self.client.meta.endpoint_url}. Check the network, or AWS_ENDPOINT_URL_LAMBDA if you use the local stand-in."
            ) from None
        except ProxyConnectionError as exc:
            raise LambdaProblem(
                f"cannot reach Lambda at {self.client.meta.endpoint_url} through the proxy: {exc}. "
                "Check HTTPS_PROXY/HTTP_PROXY (http://user:password@host:port, the password URL-encoded) and NO_PROXY."
            ) from None
        except NoCredentialsError:
            raise LambdaProblem("no AWS credentials found for Lambda. Configure them (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a role).") from None
        except BotoCoreError as exc:
            raise LambdaProblem(f"cannot read Lambda function {self.name!r}: {exc}") from None
        outcome = self.invoke({"version": CONTRACT_VERSION, "kind": "info"})
        payload = outcome.payload if outcome.kind is OutcomeKind.OK and isinstance(outcome.payload, dict) else {}
        limits = payload.get("limits") or {}
        if not limits.get("remaining_ms") or not limits.get("memory_mb"):
            raise LambdaProblem(f"Lambda function {self.name!r} did not answer the info check: {outcome.cause or outcome.kind.value or payload}")
        return FunctionInfo(
            name=self.name,
            timeout_s=math.ceil(int(limits["remaining_ms"]) / 1000),
            memory_mb=int(limits["memory_mb"]),
            reserved_concurrency=reserved,
            distributions=dict(payload.get("distributions") or {}),
            runtime_warning=runtime_mismatch(payload.get("facts") or {}),
        )

    def invoke(self, payload: dict[str, Any]) -> InvokeOutcome:
        body = json.dumps(payload).encode()
        try:
            response = self.client.invoke(FunctionName=self.name, InvocationType="RequestResponse", LogType="Tail", Payload=body)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            metadata = exc.response.get("ResponseMetadata", {})
            retry_after = exc.response.get("retryAfterSeconds") or metadata.get("HTTPHeaders", {}).get("retry-after")
            return outcome_from_error(
                metadata.get("HTTPStatusCode", 0), error.get("Code", ""), error.get("Message", ""),
                metadata.get("RequestId", ""), str(exc.response.get("Reason", "")), retry_after,
            )
        except ReadTimeoutError:
            return read_timeout()
        except (EndpointConnectionError, ConnectTimeoutError) as exc:  # refused, no such name, connect timeout
            return InvokeOutcome(OutcomeKind.INFRA, cause=f"connection lost: {type(exc).__name__}", unreachable=True)
        except ConnectionClosedError as exc:
            return InvokeOutcome(OutcomeKind.INFRA, cause=f"connection lost: {type(exc).__name__}")
        except BotoCoreError as exc:
            return InvokeOutcome(OutcomeKind.INFRA, cause=f"{type(exc).__name__}: {exc}")
        return outcome_from_answer(
            response["Payload"].read(), response.get("ResponseMetadata", {}).get("RequestId", ""),
            response.get("FunctionError"), response.get("LogResult"),
        )


def runtime_mismatch(facts: dict[str, Any]) -> str:
    """A warning when the Python that answered is not the one the runtime names.

    On Lambda they always agree; the local stand-in runs the host's interpreter, which may
    be another minor version (``lambda-ui local-lambda --python`` picks one).
    """
    declared = re.fullmatch(r"AWS_Lambda_python(\d+\.\d+)", str(facts.get("execution_env") or ""))
    running = re.match(r"\d+\.\d+", str(facts.get("python_version") or ""))
    if declared is None or running is None or declared[1] == running[0]:
        return ""
    return (
        f"the function's runtime is python{declared[1]} but it runs Python {facts['python_version']}: "
        f"a local Lambda on another interpreter? (lambda-ui local-lambda --python picks one)"
    )


def read_timeout() -> InvokeOutcome:
    """The invocation may still be running: invoking again could run the test twice at
    once, so a read timeout is never retried (fatal)."""
    return InvokeOutcome(
        OutcomeKind.INFRA,
        cause="no answer within the client's read timeout; the invocation may still be running, "
        "so it was not retried (raise --lambda-read-timeout above the test's duration)",
        fatal=True,
    )


def outcome_from_answer(raw: bytes, request_id: str, function_error: str | None, log_result: str | None) -> InvokeOutcome:
    """A 200 from Invoke: the handler's answer, or a function error (crash, timeout, OOM)."""
    log_tail = base64.b64decode(log_result).decode("utf-8", "replace") if log_result else ""
    report = parse_report_line(log_tail)
    try:
        decoded = json.loads(raw) if raw else None
    except ValueError:
        return InvokeOutcome(OutcomeKind.INFRA, request_id=request_id, cause=f"malformed response ({len(raw)} bytes, not JSON)", log_tail=log_tail, report_line=report)
    if function_error:
        cause = describe_function_error(decoded)
        fault = classify_function_error(decoded)
        if report.get("memory_mb") and report.get("max_memory_mb", 0) >= report["memory_mb"]:
            # Lambda says only "signal: killed"; its REPORT line shows the memory was full.
            cause += f" (out of memory: Max Memory Used {report['max_memory_mb']:.0f} MB of the function's {report['memory_mb']:.0f} MB)"
        return InvokeOutcome(
            OutcomeKind.INFRA, payload=decoded, request_id=request_id, cause=cause, log_tail=log_tail, report_line=report, fault=fault
        )
    return InvokeOutcome(OutcomeKind.OK, payload=decoded, request_id=request_id, log_tail=log_tail, report_line=report)


def outcome_from_error(status: int, code: str, message: str, request_id: str, reason: str = "", retry_after: Any = None) -> InvokeOutcome:
    """An error status from Invoke: a throttle, a service fault worth retrying, or our mistake."""
    if code == "TooManyRequestsException" or status == 429:
        try:
            seconds = float(retry_after) if retry_after is not None else None
        except ValueError:
            seconds = None
        return InvokeOutcome(OutcomeKind.THROTTLED, request_id=request_id, retry_after_s=seconds, reason=reason)
    if status >= 500 or code in ("ServiceException", "EC2ThrottledException", "ResourceNotReadyException", "SnapStartTimeoutException"):
        return InvokeOutcome(OutcomeKind.INFRA, request_id=request_id, cause=f"Lambda service error {status} {code}")
    # 4xx: our request or configuration is wrong; retrying cannot help.
    return InvokeOutcome(OutcomeKind.INFRA, request_id=request_id, cause=f"Lambda rejected the request: {code} ({status}): {message}", fatal=True)


def describe_function_error(payload: Any) -> str:
    """``Lambda timeout: Task timed out after 300.00 seconds`` / ``Runtime.ExitError: Runtime
    exited with error: signal: killed`` / ``ValueError: …``: the same words for both shapes
    of a timeout and of an exit (the request id is reported on its own)."""
    if isinstance(payload, dict):
        message = str(payload.get("errorMessage", ""))
        kind = str(payload.get("errorType", ""))
        fault = classify_function_error(payload)
        if fault is FunctionFault.TIMEOUT and _TIMEOUT_TEXT in message:
            return "Lambda timeout: " + message[message.index(_TIMEOUT_TEXT) :]
        if fault is FunctionFault.TIMEOUT:
            return f"Lambda timeout: {message}".strip()
        if fault is FunctionFault.EXIT:
            return f"{_EXIT_TYPE}: {_REQUEST_PREFIX.sub('', message)}".strip()
        return f"{kind or 'function error'}: {message}".strip()
    return f"function error: {payload!r}"[:500]
