"""A lightweight stand-in for the Lambda Invoke API, scripted by test names.

It answers like the service (status codes, headers, error shapes) but runs no
code: each "test" sleeps and returns reports built from its node id. Names
choose behaviour: ``slow<N>`` takes N tenths of a second... see ``_behaviour``.
Used to drive the dispatcher through faults quickly, and by the scale
benchmarks; the real handler is exercised through the local Lambda.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from importlib import metadata
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Call:
    nodeid: str
    attempt: int
    started: float
    ended: float = 0.0
    result: str = ""


@dataclass
class FakeState:
    function: str = "ui-tests"
    timeout_s: int = 30
    memory_mb: int = 2048
    reserved: int | None = 10
    #: Invocations allowed at once before 429s (None: no cap).
    cap: int | None = None
    default_seconds: float = 0.05
    calls: list[Call] = field(default_factory=list)
    busy: int = 0
    peak_busy: int = 0
    throttled: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: What the "image" has installed; by default the same as this machine.
    distributions: dict[str, str] = field(default_factory=lambda: {n: metadata.version(n) for n in ("pytest", "selenium", "pytest-lambda-ui")})

    def attempts(self, nodeid: str) -> int:
        return sum(1 for c in self.calls if c.nodeid == nodeid)


def _report(nodeid: str, when: str, outcome: str, longrepr: Any = None, duration: float = 0.0, props: list | None = None) -> dict[str, Any]:
    path = nodeid.split("::")[0]
    return {
        "$report_type": "TestReport", "nodeid": nodeid, "location": [path, 0, nodeid.split("::")[-1]],
        "keywords": {}, "outcome": outcome, "longrepr": longrepr, "when": when, "user_properties": props or [],
        "sections": [], "duration": duration, "start": 0.0, "stop": duration,
    }


def _behaviour(name: str) -> dict[str, Any]:
    """Tokens in a test name: slow<N> (N tenths of a second), fail, flaky (fails its
    first attempt), crashonce (runtime exit on attempt 1), crash (always), timeout
    (Lambda timeout), unhealthy (retryable handler error once), bigsleep<N> (N s)."""
    found: dict[str, Any] = {}
    for token in ("fail", "flaky", "crashonce", "crash", "timeout", "unhealthy", "refused", "skip", "garbage", "notjson", "hangup"):
        if re.search(rf"(^|_){token}($|_|\[|\d)", name):
            found[token] = True
    if m := re.search(r"slow(\d+)", name):
        found["seconds"] = int(m.group(1)) / 10
    if m := re.search(r"bigsleep(\d+)", name):
        found["seconds"] = float(m.group(1))
    return found


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True
    protocol_version = "HTTP/1.1"
    state: FakeState

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        s = self.state
        if f"/functions/{s.function}/" not in self.path:
            self._send(404, {"Type": "User", "message": f"Function not found: {self.path}"}, {"x-amzn-ErrorType": "ResourceNotFoundException"})
        elif self.path.endswith("/configuration"):
            self._send(200, {"FunctionName": s.function, "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{s.function}", "Timeout": s.timeout_s, "MemorySize": s.memory_mb, "PackageType": "Image", "Architectures": ["x86_64"]})
        elif self.path.endswith("/concurrency"):
            self._send(200, {"ReservedConcurrentExecutions": s.reserved} if s.reserved else {})
        else:
            self._send(404, {"Type": "User", "message": "Function not found"}, {"x-amzn-ErrorType": "ResourceNotFoundException"})

    def do_POST(self) -> None:  # noqa: N802
        s = self.state
        length = int(self.headers.get("Content-Length", "0"))
        event = json.loads(self.rfile.read(length) or b"null")
        if f"/functions/{s.function}/" not in self.path:
            self._send(404, {"Type": "User", "message": "Function not found"}, {"x-amzn-ErrorType": "ResourceNotFoundException"})
            return
        if event.get("kind") == "info":
            self._send(200, {"version": 1, "kind": "info", "facts": {}, "distributions": self.state.distributions, "limits": {"memory_mb": s.memory_mb, "remaining_ms": s.timeout_s * 1000}})
            return
        with s.lock:
            if s.cap is not None and s.busy >= s.cap:
                s.throttled += 1
                self._send(429, {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}, {"x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": "1"})
                return
            s.busy += 1
            s.peak_busy = max(s.peak_busy, s.busy)
            nodeid = event["nodeids"][0]
            call = Call(nodeid, event["attempt"], time.monotonic())
            attempt_no = s.attempts(nodeid) + 1
            s.calls.append(call)
        try:
            self._run(event, nodeid, attempt_no, call)
        finally:
            with s.lock:
                s.busy -= 1
                call.ended = time.monotonic()

    def _run(self, event: dict[str, Any], nodeid: str, attempt_no: int, call: Call) -> None:
        name = nodeid.split("::")[-1]
        b = _behaviour(name)
        seconds = b.get("seconds", self.state.default_seconds)
        request_id = str(uuid.uuid4())
        log = base64.b64encode(f"START RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {seconds * 1000:.2f} ms\tBilled Duration: {int(seconds * 1000) + 1} ms\tMemory Size: {self.state.memory_mb} MB\tMax Memory Used: 300 MB\t\n".encode()).decode()
        headers = {"X-Amz-Log-Result": log, "X-Amz-Executed-Version": "$LATEST"}
        if b.get("timeout"):
            time.sleep(min(seconds, 0.2))
            call.result = "timeout"
            self._send(200, {"errorMessage": f"2026-11-27T00:00:00.000Z {request_id} Task timed out after {self.state.timeout_s:.2f} seconds"}, {**headers, "X-Amz-Function-Error": "Unhandled"})
            return
        if b.get("crash") or (b.get("crashonce") and attempt_no == 1):
            call.result = "crash"
            self._send(200, {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"}, {**headers, "X-Amz-Function-Error": "Unhandled"})
            return
        if b.get("unhealthy") and attempt_no == 1:
            call.result = "unhealthy"
            self._send(200, {"version": 1, "kind": "error", "error_type": "EnvironmentUnhealthy", "message": "/tmp full", "retryable": True}, headers)
            return
        if b.get("garbage"):
            call.result = "garbage"
            self._send(200, {"hello": "world"}, headers)
            return
        if b.get("notjson"):
            call.result = "notjson"
            self._send(200, b"<html>502 Bad Gateway</html>", headers)
            return
        if b.get("hangup"):
            call.result = "hangup"
            self.close_connection = True
            self.connection.shutdown(2)  # the peer vanishes mid-invocation, no status line
            return
        if b.get("refused"):
            call.result = "refused"
            self._send(200, {"version": 1, "kind": "error", "error_type": "BundleMismatch", "message": "hash differs", "retryable": False}, headers)
            return
        time.sleep(seconds)
        if b.get("skip"):
            call.result = "skipped"
            path = nodeid.split("::")[0]
            reports = [_report(nodeid, "setup", "skipped", [path, 3, "Skipped: not on Lambda"]), _report(nodeid, "teardown", "passed")]
            self._send(200, {"version": 1, "kind": "run", "run_id": event["run_id"], "attempt": event["attempt"], "exit_code": 0,
                             "reports": reports, "collect_reports": [], "artifacts": [], "timed_out": False, "warnings": [],
                             "facts": {}, "spilled": None}, headers)
            return
        fails = b.get("fail") or (b.get("flaky") and attempt_no == 1)
        call.result = "failed" if fails else "passed"
        reports = [
            _report(nodeid, "setup", "passed"),
            _report(nodeid, "call", "failed" if fails else "passed", "AssertionError: scripted failure" if fails else None, seconds),
            _report(nodeid, "teardown", "passed"),
        ]
        self._send(200, {
            "version": 1, "kind": "run", "run_id": event["run_id"], "attempt": event["attempt"], "exit_code": 1 if fails else 0,
            "reports": reports, "collect_reports": [], "artifacts": [], "timed_out": False, "warnings": [],
            "facts": {"cold": attempt_no == 1, "environment_id": "fake", "chrome_version": "1.2.3.4"}, "spilled": None,
        }, headers)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that hang up (a killed pytest) are part of the tests


class FakeInvokeApi:
    def __init__(self, state: FakeState | None = None, port: int = 0) -> None:
        self.state = state or FakeState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.server = _QuietServer(("127.0.0.1", port), handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeInvokeApi:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_in_process(port: int, timeout_s: int) -> subprocess.Popen[str]:
    """The fake in a process of its own (so benchmarks measure the client alone); returns once it listens."""
    code = (
        "import sys, time; sys.path.insert(0, %r)\n"
        "from tests.support.fake_invoke_api import FakeInvokeApi, FakeState\n"
        "FakeInvokeApi(FakeState(function='ui-tests', reserved=None, timeout_s=%d), port=%d).start()\n"
        "print('ready', flush=True)\n"
        "while True:\n    time.sleep(3600)\n"
    ) % (str(Path(__file__).resolve().parents[2]), timeout_s, port)
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    return server
