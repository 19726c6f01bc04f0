"""Limits and error shapes of the Lambda service, byte for byte where they are known.

Sources: botocore's service model (status codes, members), and the shapes real Lambda is
quoted returning (notes/lambda-wire-facts.md). Kept in one place so the Invoke front door
and the environments agree.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field

#: Synchronous request payload limit (6 MiB).
MAX_SYNC_REQUEST_BYTES = 6291456
#: Asynchronous (``Event``) request payload limit (1 MB, per the service model's docs).
MAX_ASYNC_REQUEST_BYTES = 1048576
#: Largest response a function may return (6 MiB + 100 bytes).
MAX_RESPONSE_BYTES = 6291556
#: ``X-Amz-Client-Context`` limit (base64 text).
MAX_CLIENT_CONTEXT_BYTES = 3583

RUNTIME_EXIT_ERROR = "Runtime.ExitError"
#: Today's timeout answer; older services sent only an errorMessage with a time stamp.
SANDBOX_TIMEOUT = "Sandbox.Timedout"
RESPONSE_TOO_LARGE = "Function.ResponseSizeTooLarge"

# Go's names for signals, as Lambda's "Runtime exited with error: signal: ..." prints them.
_SIGNAL_TEXT = {
    signal.SIGKILL: "killed",
    signal.SIGTERM: "terminated",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGABRT: "aborted",
    signal.SIGINT: "interrupt",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGHUP: "hangup",
    signal.SIGPIPE: "broken pipe",
}


def _json(data: object) -> bytes:
    return json.dumps(data).encode()


def timeout_message(request_id: str, elapsed_s: float) -> str:
    return f"RequestId: {request_id} Error: Task timed out after {elapsed_s:.2f} seconds"


def timeout_payload(request_id: str, elapsed_s: float) -> bytes:
    return _json({"errorType": SANDBOX_TIMEOUT, "errorMessage": timeout_message(request_id, elapsed_s)})


def exit_reason(returncode: int | None) -> str:
    if returncode is None or returncode == 0:
        return "Runtime exited without providing a reason"
    if returncode < 0:
        try:
            sig = signal.Signals(-returncode)
            text = _SIGNAL_TEXT.get(sig, sig.name.lower().removeprefix("sig"))
        except ValueError:
            text = f"signal {-returncode}"
        return f"Runtime exited with error: signal: {text}"
    return f"Runtime exited with error: exit status {returncode}"


def exit_message(request_id: str, returncode: int | None) -> str:
    return f"RequestId: {request_id} Error: {exit_reason(returncode)}"


def exit_payload(request_id: str, returncode: int | None) -> bytes:
    return _json({"errorType": RUNTIME_EXIT_ERROR, "errorMessage": exit_message(request_id, returncode)})


def response_too_large_payload(size: int) -> bytes:
    return _json(
        {
            "errorType": RESPONSE_TOO_LARGE,
            "errorMessage": f"Response payload size ({size} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
        }
    )


def runtime_too_large_answer() -> dict[str, str]:
    """What the Runtime API answers (413) to a runtime posting an oversized response."""
    return {
        "errorMessage": f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
        "errorType": "RequestEntityTooLarge",
    }


@dataclass
class ServiceError(Exception):
    """An error of the Invoke/control-plane API: status, ``x-amzn-ErrorType`` and JSON body."""

    status: int
    code: str
    message: str
    #: Body key of the message: most shapes use ``message``, ResourceNotFoundException ``Message``.
    message_key: str = "message"
    fields: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> bytes:
        return _json({"Type": "User", self.message_key: self.message, **self.fields})


def not_found(arn: str) -> ServiceError:
    return ServiceError(404, "ResourceNotFoundException", f"Function not found: {arn}", message_key="Message")


def throttled(reason: str, retry_after_s: int = 1) -> ServiceError:
    return ServiceError(
        429, "TooManyRequestsException", "Rate Exceeded.", fields={"Reason": reason}, headers={"Retry-After": str(retry_after_s)}
    )


def request_too_large(limit: int) -> ServiceError:
    return ServiceError(
        413, "RequestEntityTooLargeException", f"Request must be smaller than {limit} bytes for the InvokeFunction operation"
    )


def invalid_content(message: str) -> ServiceError:
    return ServiceError(400, "InvalidRequestContentException", message)


def invalid_parameter(message: str) -> ServiceError:
    return ServiceError(400, "InvalidParameterValueException", message)
