"""The stand-in's invocation log: one record per invocation it answered, for tests.

A dispatcher's tests ask "did each test run exactly once?": the records say which
invocations ran the function and how they ended, and which were throttled (those never
reached the function). ``LocalLambda.invocations`` returns them; with a path (the command's
``--invocation-log``) each is also appended as a JSON line as it ends, for a reader in
another process.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from typing import IO, Any

SUCCESS = "success"
FUNCTION_ERROR = "function_error"
INIT_ERROR = "init_error"
TIMEOUT = "timeout"
EXIT = "exit"
THROTTLED = "throttled"
#: The stand-in could not run it (shutting down, an environment that cannot start).
SERVICE_ERROR = "service_error"

#: Outcome.kind (environment.py) -> record outcome.
_BY_KIND = {"response": SUCCESS, "error": FUNCTION_ERROR, "init_error": INIT_ERROR, "timeout": TIMEOUT, "exited": EXIT}
_NODEIDS = b'"nodeids"'


@dataclass(frozen=True)
class InvocationRecord:
    request_id: str
    #: RequestResponse or Event.
    invocation_type: str
    #: success, function_error, init_error, timeout, exit, throttled or service_error.
    outcome: str
    #: Wall-clock seconds (epoch): when the service took the request, and answered it.
    started: float
    ended: float
    #: The environment that ran it (None: it never ran, e.g. throttled).
    environment_id: str | None = None
    cold: bool = False
    #: Lambda's Duration: from the event handed to the runtime to its answer.
    duration_ms: float | None = None
    error_type: str | None = None
    #: From a run event (runner/contract.py): its ``nodeids`` and ``run_id``.
    nodeids: tuple[str, ...] | None = None
    run_id: str | None = None

    @property
    def ran(self) -> bool:
        """The function was invoked (not throttled or refused by the service)."""
        return self.outcome not in (THROTTLED, SERVICE_ERROR)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["nodeids"] = list(self.nodeids) if self.nodeids is not None else None
        return data


def outcome_of(kind: str) -> str:
    return _BY_KIND.get(kind, FUNCTION_ERROR)


def error_type_of(body: bytes, given: str) -> str | None:
    """A function error's type: the runtime's header, else the payload's ``errorType``
    (awslambdaric sends no header for an invocation's error)."""
    if given:
        return given
    try:
        error = json.loads(body)
    except ValueError:
        return None
    kind = error.get("errorType") if isinstance(error, dict) else None
    return str(kind) if kind else None


def run_event_fields(payload: bytes) -> tuple[tuple[str, ...] | None, str | None]:
    """``nodeids`` and ``run_id`` of a run event; (None, None) for any other payload."""
    if _NODEIDS not in payload:  # most payloads are not parsed twice
        return None, None
    try:
        event = json.loads(payload)
    except ValueError:
        return None, None
    if not isinstance(event, dict) or event.get("kind") != "run" or not isinstance(event.get("nodeids"), list):
        return None, None
    run_id = event.get("run_id")
    return tuple(str(n) for n in event["nodeids"]), str(run_id) if run_id is not None else None


class InvocationLog:
    """Records in the order the invocations ended; thread-safe."""

    def __init__(self, path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._records: list[InvocationRecord] = []
        # Truncated: the file holds this stand-in's invocations only.
        self._file: IO[str] | None = open(path, "w", encoding="utf-8") if path else None

    def add(self, record: InvocationRecord) -> None:
        with self._lock:
            self._records.append(record)
            if self._file is not None:
                self._file.write(json.dumps(record.to_dict()) + "\n")
                self._file.flush()  # a reader may look at any time

    def records(self) -> list[InvocationRecord]:
        with self._lock:
            return list(self._records)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
