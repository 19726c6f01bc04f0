"""A lightweight stand-in for the Lambda Invoke API, scripted by test names.

It answers like the service (status codes, headers, error shapes) but runs no
code: each "test" sleeps and returns reports built from its node id. Names
choose behaviour: ``slow<N>`` takes N tenths of a second... see ``_behaviour``.
Used to drive the dispatcher through faults quickly, and by the scale
benchmarks; the real handler is exercised through the local Lambda.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http import HTTPStatus
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambda_ui.runner.artifacts.paths import attempt_folder
from stand_ins.services import hold_port


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
    #: Invocations accepted per node id over the fake's life (``calls`` may be cleared by a test).
    accepted: Counter[str] = field(default_factory=Counter)
    busy: int = 0
    peak_busy: int = 0
    throttled: int = 0
    #: When set, every request must carry a SigV4 signature made with this secret key (403 otherwise).
    secret_key: str | None = None
    #: Requests that came in proxy form (``POST http://host/path``).
    proxied_requests: int = 0
    #: Raw paths of the Invoke requests, as they arrived.
    invoke_paths: list[str] = field(default_factory=list)
    #: Wall-clock time (``time.time()``) from which nothing listens any more: connections are refused.
    stopped_at: float | None = None
    #: What the "image" has installed; by default the same as this machine.
    #: An image built from this machine: every distribution installed here.
    distributions: dict[str, str] = field(default_factory=lambda: {d.metadata["Name"]: d.version for d in metadata.distributions()})
    #: The ``facts`` of the info answer (the runtime's Python, AWS_EXECUTION_ENV...).
    info_facts: dict[str, Any] = field(default_factory=dict)
    #: Keys added to the run answer of every test whose name ends with the dict's key (``test_warnings``...).
    answer_extras: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every run event accepted, as it arrived.
    events: list[dict[str, Any]] = field(default_factory=list)

    def attempts(self, nodeid: str) -> int:
        return sum(1 for c in self.calls if c.nodeid == nodeid)


def scripted_report(nodeid: str, when: str, outcome: str, longrepr: Any = None, duration: float = 0.0, props: list | None = None) -> dict[str, Any]:
    path = nodeid.split("::")[0]
    return {
        "$report_type": "TestReport", "nodeid": nodeid, "location": [path, 0, nodeid.split("::")[-1]],
        "keywords": {}, "outcome": outcome, "longrepr": longrepr, "when": when, "user_properties": props or [],
        "sections": [], "duration": duration, "start": 0.0, "stop": duration,
    }


def _behaviour(name: str) -> dict[str, Any]:
    """Tokens in a test name: slow<N> (N tenths of a second), sleepms<N> (N ms), fail, flaky (fails its
    first attempt), crashonce (runtime exit on attempt 1), crash (always), timeout
    (Lambda timeout), unhealthy (retryable handler error once), bigsleep<N> (N s), goodbye (passes,
    then the whole fake stops: the endpoint is gone and connections are refused), shot (a failed
attempt links a failure screenshot under the run's artifacts, as the function's sink names it),
bigmem (Max Memory Used 86 MB over MemorySize)."""
    found: dict[str, Any] = {}
    for token in ("fail", "flaky", "crashonce", "crash", "timeout", "unhealthy", "refused", "skip", "garbage", "notjson", "hangup", "goodbye", "shot", "bigmem"):
        if re.search(rf"(^|_){token}($|_|\[|\d)", name):
            found[token] = True
    if m := re.search(r"slow(\d+)", name):
        found["seconds"] = int(m.group(1)) / 10
    if m := re.search(r"sleepms(\d+)", name):
        found["seconds"] = int(m.group(1)) / 1000
    if m := re.search(r"bigsleep(\d+)", name):
        found["seconds"] = float(m.group(1))
    return found


_HANGUP = object()


@dataclass
class _Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    #: After this answer the fake stops (``goodbye``).
    then_stop: bool = False


def _json_reply(status: int, body: Any, headers: dict[str, str] | None = None, delay_s: float = 0.0) -> _Reply:
    return _Reply(status, body, headers or {}, delay_s)


def _not_found(path: str) -> _Reply:
    return _json_reply(404, {"Type": "User", "message": f"Function not found: {path}"}, {"x-amzn-ErrorType": "ResourceNotFoundException"})


def _signature_problem(state: FakeState, method: str, path: str, headers: dict[str, str], body: bytes) -> str | None:
    """Check the request's SigV4 signature as the service would, with botocore's signer."""
    match = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})",
        headers.get("authorization", ""),
    )
    if match is None:
        return "missing or malformed Authorization header"
    access_key, _day, region, service, names, signature = match.groups()
    if "host" not in names.split(";") or "x-amz-date" not in names.split(";"):
        return "host and x-amz-date must be signed"
    request = AWSRequest(method, f"http://{headers.get('host', '')}{path}", data=body, headers={n: headers.get(n, "") for n in names.split(";")})
    request.context["timestamp"] = headers.get("x-amz-date", "")
    signer = SigV4Auth(Credentials(access_key, state.secret_key or ""), service, region)
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    return None if hmac.compare_digest(expected, signature) else "The request signature we calculated does not match the signature you provided."


def _control_plane(state: FakeState, path: str) -> _Reply:
    if f"/functions/{state.function}/" not in path:
        return _not_found(path)
    if path.endswith("/configuration"):
        return _json_reply(200, {"FunctionName": state.function, "FunctionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{state.function}", "Timeout": state.timeout_s, "MemorySize": state.memory_mb, "PackageType": "Image", "Architectures": ["x86_64"]})
    if path.endswith("/concurrency"):
        return _json_reply(200, {"ReservedConcurrentExecutions": state.reserved} if state.reserved else {})
    return _not_found(path)


def _scripted(state: FakeState, event: dict[str, Any], nodeid: str, attempt_no: int, call: Call) -> _Reply | object:
    """The answer a test name asks for (see ``_behaviour``), and how long it takes."""
    name = nodeid.split("::")[-1]
    b = _behaviour(name)
    seconds = b.get("seconds", state.default_seconds)
    request_id = str(uuid.uuid4())
    log = base64.b64encode(f"START RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {seconds * 1000:.2f} ms\tBilled Duration: {int(seconds * 1000) + 1} ms\tMemory Size: {state.memory_mb} MB\tMax Memory Used: {state.memory_mb + 86 if b.get('bigmem') else 300} MB\t\n".encode()).decode()
    headers = {"X-Amz-Log-Result": log, "X-Amz-Executed-Version": "$LATEST"}
    if b.get("timeout"):
        call.result = "timeout"
        return _json_reply(200, {"errorMessage": f"2026-11-27T00:00:00.000Z {request_id} Task timed out after {state.timeout_s:.2f} seconds"}, {**headers, "X-Amz-Function-Error": "Unhandled"}, min(seconds, 0.2))
    if b.get("crash") or (b.get("crashonce") and attempt_no == 1):
        call.result = "crash"
        return _json_reply(200, {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed"}, {**headers, "X-Amz-Function-Error": "Unhandled"})
    if b.get("unhealthy") and attempt_no == 1:
        call.result = "unhealthy"
        return _json_reply(200, {"version": 1, "kind": "error", "error_type": "EnvironmentUnhealthy", "message": "/tmp full", "retryable": True}, headers)
    if b.get("garbage"):
        call.result = "garbage"
        return _json_reply(200, {"hello": "world"}, headers)
    if b.get("notjson"):
        call.result = "notjson"
        return _json_reply(200, b"<html>502 Bad Gateway</html>", headers)
    if b.get("hangup"):
        call.result = "hangup"
        return _HANGUP  # the peer vanishes mid-invocation, no status line
    if b.get("refused"):
        call.result = "refused"
        return _json_reply(200, {"version": 1, "kind": "error", "error_type": "BundleMismatch", "message": "hash differs", "retryable": False}, headers)
    common = {"version": 1, "kind": "run", "run_id": event["run_id"], "attempt": event["attempt"], "collect_reports": [], "artifacts": [], "timed_out": False, "warnings": [], "spilled": None}
    if b.get("skip"):
        call.result = "skipped"
        path = nodeid.split("::")[0]
        reports = [scripted_report(nodeid, "setup", "skipped", [path, 3, "Skipped: not on Lambda"]), scripted_report(nodeid, "teardown", "passed")]
        return _json_reply(200, {**common, "exit_code": 0, "reports": reports, "facts": {}}, headers, seconds)
    fails = b.get("fail") or (b.get("flaky") and attempt_no == 1)
    call.result = "failed" if fails else "passed"
    links: list = []
    if fails and b.get("shot"):
        folder = attempt_folder(event["run_id"], nodeid, int(event["attempt"]))
        prefix = event["artifacts"]["prefix"].strip("/")
        links = [("artifact:failure-screenshot.png", f"s3://{event['artifacts']['bucket']}/{prefix + '/' if prefix else ''}{folder}/failure-screenshot.png")]
    reports = [
        scripted_report(nodeid, "setup", "passed"),
        scripted_report(nodeid, "call", "failed" if fails else "passed", "AssertionError: scripted failure" if fails else None, seconds),
        scripted_report(nodeid, "teardown", "passed", props=links),
    ]
    facts = {"cold": attempt_no == 1, "environment_id": "fake", "chrome_version": "1.2.3.4"}
    extras = next((extra for suffix, extra in state.answer_extras.items() if name.endswith(suffix)), {})
    reply = _json_reply(200, {**common, "exit_code": 1 if fails else 0, "reports": reports, "facts": facts, **extras}, headers, seconds)
    reply.then_stop = bool(b.get("goodbye"))
    return reply


class FakeInvokeApi:
    """The stand-in on one asyncio loop in a thread of its own.

    One event loop, not a thread per connection: with a thousand invocations
    in flight, a thread per connection spent most of its time waiting for the
    GIL and answered hundreds of milliseconds late, which the scale benchmarks
    then blamed on the client.
    """

    def __init__(self, state: FakeState | None = None, port: int = 0, tls: ssl.SSLContext | None = None) -> None:
        self.state = state or FakeState()
        self._tls = tls
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(2048)
        self._port = int(self._sock.getsockname()[1])
        self.endpoint = f"{'https' if tls else 'http'}://127.0.0.1:{self._port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._stop_lock = threading.Lock()
        self._port_holder: socket.socket | None = None

    def start(self) -> FakeInvokeApi:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._connection, sock=self._sock, limit=2**22, ssl=self._tls, backlog=4096), self._loop
        ).result(timeout=10)
        return self

    def stop(self, release_port: bool = True) -> None:
        """Stop serving; ``release_port=False`` keeps refusing connections on the port (see :meth:`_stop_listening`)."""
        with self._stop_lock:  # the fake may be stopping itself (goodbye) when a test stops it too
            if self._loop.is_running():

                async def close() -> None:
                    self._stop_listening()
                    for task in asyncio.all_tasks():
                        if task is not asyncio.current_task():
                            task.cancel()

                asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(timeout=10)
            if release_port and self._port_holder is not None:
                self._port_holder.close()
                self._port_holder = None

    def _stop_listening(self) -> None:
        """Close the listening socket (on the loop): from now on connections are refused.

        The port stays bound until :meth:`stop` releases it (:func:`hold_port`), so no
        server started meanwhile gets it while the client still tries it.
        """
        assert self._server is not None
        self._server.close()
        if self._port_holder is None:
            self._port_holder = hold_port(self._port)
        if self.state.stopped_at is None:
            self.state.stopped_at = time.time()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, path = line.decode("latin-1").split(" ")[:2]
                if path.startswith("http://"):
                    # Absolute form: the client takes this server for its HTTP proxy.
                    self.state.proxied_requests += 1
                    path = "/" + path.split("/", 3)[3]
                headers: dict[str, str] = {}
                while (raw := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    key, _, value = raw.decode("latin-1").partition(":")
                    headers[key.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                reply = await self._answer(method, path, headers, body)
                if reply is _HANGUP:
                    writer.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
                    return
                assert isinstance(reply, _Reply)
                data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
                head = [f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}", "Content-Type: application/json",
                        f"Content-Length: {len(data)}", f"x-amzn-RequestId: {uuid.uuid4()}"]
                head += [f"{k}: {v}" for k, v in reply.headers.items()]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + data)
                await writer.drain()
                if reply.then_stop:
                    self._stop_listening()  # at once: the client's next connection is refused
                    threading.Thread(target=self.stop, args=(False,), daemon=True).start()  # the rest from outside the loop
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError, OSError):
            pass  # clients that hang up (a killed pytest) are part of the tests
        finally:
            writer.close()

    async def _answer(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Reply | object:
        s = self.state
        if s.secret_key is not None and (problem := _signature_problem(s, method, raw_path, headers, body)):
            return _json_reply(403, {"message": problem}, {"x-amzn-ErrorType": "InvalidSignatureException"})
        path = unquote(raw_path)
        if method == "GET":
            return _control_plane(s, path)
        event = json.loads(body or b"null")
        if f"/functions/{s.function}/" not in path:
            return _not_found(path)
        s.invoke_paths.append(raw_path)
        if event.get("kind") == "info":
            return _json_reply(200, {"version": 1, "kind": "info", "facts": s.info_facts, "distributions": s.distributions, "limits": {"memory_mb": s.memory_mb, "remaining_ms": s.timeout_s * 1000}})
        if s.cap is not None and s.busy >= s.cap:
            s.throttled += 1
            return _json_reply(429, {"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded", "Type": "User", "message": "Rate Exceeded."}, {"x-amzn-ErrorType": "TooManyRequestsException", "Retry-After": "1"})
        s.busy += 1
        s.peak_busy = max(s.peak_busy, s.busy)
        nodeid = event["nodeids"][0]
        s.events.append(event)
        call = Call(nodeid, event["attempt"], time.monotonic())
        s.accepted[nodeid] += 1
        s.calls.append(call)
        try:
            reply = _scripted(s, event, nodeid, s.accepted[nodeid], call)
            result, call.result = call.result, ""  # known only once the invocation has run its time
            if isinstance(reply, _Reply) and reply.delay_s:
                await asyncio.sleep(reply.delay_s)
            call.result = result
            return reply
        finally:
            s.busy -= 1
            call.ended = time.monotonic()


def start_in_process(port: int, timeout_s: int, tls_folder: Path | None = None) -> subprocess.Popen[str]:
    """The fake in a process of its own (so benchmarks measure the client alone); returns once it listens.

    ``tls_folder``: serve HTTPS with the certificate :func:`stand_ins.tls.self_signed` wrote there.
    """
    tls = "None" if tls_folder is None else f"server_context({str(tls_folder)!r})"
    root = str(Path(__file__).resolve().parents[1])
    code = (
        f"import sys, time; sys.path.insert(0, {root!r})\n"
        "from stand_ins.fake_invoke_api import FakeInvokeApi, FakeState\n"
        "from stand_ins.tls import server_context\n"
        f"FakeInvokeApi(FakeState(function='ui-tests', reserved=None, timeout_s={timeout_s:d}), port={port:d}, tls={tls}).start()\n"
        "print('ready', flush=True)\n"
        "while True:\n    time.sleep(3600)\n"  # the process only serves: its threads do the work
    )
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    return server
