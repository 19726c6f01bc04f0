"""The function's shutdown path (lambda_pkg/shutdown.py) and the local Lambda's Extensions
API (local_lambda/extensions.py): the register call as Lambda expects it, what Lambda
refuses, and shutdown callbacks that run once, in order, within their budget."""

from __future__ import annotations

import http.client
import json
import platform
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from lambda_ui.function import shutdown
from lambda_ui.local_lambda import extensions
from lambda_ui.local_lambda.runtime_api import RuntimeApiServer
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]


# -- the register request -------------------------------------------------------------


def test_the_register_call_is_an_internal_extension_subscribing_to_nothing() -> None:
    request = shutdown.register_request("127.0.0.1:9001")
    assert request.get_method() == "POST"
    assert request.full_url == "http://127.0.0.1:9001/2020-01-01/extension/register"
    assert request.get_header("Lambda-extension-name") == "lambda-ui-shutdown"
    assert request.data is not None and json.loads(request.data) == {"events": []}
    parked = shutdown.next_request("127.0.0.1:9001", "abc")
    assert parked.get_method() == "GET"
    assert parked.full_url == "http://127.0.0.1:9001/2020-01-01/extension/event/next"
    assert parked.get_header("Lambda-extension-identifier") == "abc"


class _Answer:
    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def read(self) -> bytes:
        return b"{}"


def test_registering_parks_a_thread_in_event_next_with_the_identifier() -> None:
    seen: list[tuple[str, str | None, float | None]] = []
    parked = threading.Event()

    def opener(request: Any, timeout: float | None = None) -> _Answer:
        seen.append((request.full_url, request.get_header("Lambda-extension-identifier"), timeout))
        if request.full_url.endswith("/event/next"):
            parked.set()
        return _Answer({"Lambda-Extension-Identifier": "id-1"})

    assert shutdown.register_extension("api:1", opener=opener) == "id-1"
    assert parked.wait(10)
    assert seen[0] == ("http://api:1/2020-01-01/extension/register", None, shutdown.REGISTER_TIMEOUT_S)
    # Lambda's next call has no timeout: it answers only at the end.
    assert seen[1] == ("http://api:1/2020-01-01/extension/event/next", "id-1", None)


def test_an_answer_without_an_identifier_is_a_failed_registration() -> None:
    with pytest.raises(ValueError, match="Lambda-Extension-Identifier"):
        shutdown.register_extension("api:1", opener=lambda request, timeout=None: _Answer({}))


def test_outside_lambda_nothing_is_installed() -> None:
    before = signal.getsignal(signal.SIGTERM)
    assert shutdown.start({}) is None
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_failed_registration_logs_one_line_and_never_fails_the_init(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(shutdown, "install_sigterm", lambda: True)  # not in the test process

    def refused(api: str) -> str:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(shutdown, "register_extension", refused)
    assert shutdown.start({"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:1"}) is None
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lambda-ui shutdown: extension not registered (ConnectionRefusedError")


# -- the callbacks --------------------------------------------------------------------


def test_callbacks_run_once_in_order_and_a_failing_one_does_not_stop_the_rest() -> None:
    ran: list[str] = []
    callbacks = shutdown.ShutdownCallbacks()

    def first() -> None:
        ran.append("first")

    def broken() -> None:
        raise RuntimeError("no session")

    def last() -> None:
        ran.append("last")

    for callback in (first, broken, last):
        callbacks.add(callback)
    outcome = callbacks.run(budget_s=30)
    assert outcome is not None
    assert ran == ["first", "last"]
    assert outcome.cut is None
    assert outcome.failed == [f"{broken.__qualname__} (RuntimeError: no session)"]
    assert callbacks.run(budget_s=30) is None and ran == ["first", "last"]


def test_a_callback_that_does_not_fit_the_budget_is_cut_and_named() -> None:
    release = threading.Event()
    ran: list[str] = []
    callbacks = shutdown.ShutdownCallbacks()

    def session_teardown() -> None:
        release.wait(60)  # longer than any budget: only the cut ends the wait for it
        ran.append("teardown")

    def after() -> None:
        ran.append("after")

    callbacks.add(session_teardown)
    callbacks.add(after)
    try:
        outcome = callbacks.run(budget_s=0.05)
        assert outcome is not None
        assert outcome.cut == session_teardown.__qualname__
        assert ran == []  # neither finished: the process exits under them
        assert f"cut at the {shutdown.BUDGET_S * 1000:.0f} ms budget: {session_teardown.__qualname__} did not finish" in outcome.line()
    finally:
        release.set()


def test_the_budget_leaves_room_within_lambdas_grace() -> None:
    assert 0 < shutdown.BUDGET_S < shutdown.GRACE_S == extensions.GRACE_S == 0.5


# -- SIGTERM while the main thread waits in native code --------------------------------

_CHILD = r"""
import ctypes, sys
sys.path.insert(0, sys.argv[1])
from lambda_ui.function import shutdown
shutdown.on_shutdown(lambda: print("teardown ran", flush=True))
assert shutdown.install_sigterm()
# awslambdaric (before python3.12) waits for the next event in native code, where the
# Python handler cannot run: relocking a normal pthread mutex waits the same way, for ever.
libc = ctypes.CDLL(None)
mutex = ctypes.create_string_buffer(64)  # zeroed: PTHREAD_MUTEX_INITIALIZER
libc.pthread_mutex_lock(mutex)
print("waiting", flush=True)
libc.pthread_mutex_lock(mutex)
"""


_FUTEX = {"x86_64": 202, "aarch64": 98}


def _in_futex(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/task/{pid}/syscall").read_text().split()[0] == str(_FUTEX[platform.machine()])
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(platform.machine() not in _FUTEX, reason="futex syscall number known for x86_64 and aarch64 only")
def test_sigterm_runs_the_callbacks_while_the_main_thread_is_in_native_code() -> None:
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(REPO)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "waiting\n"
        # The child's other thread waits in read() without the GIL, so a futex wait of the
        # main thread is the relock: the Python handler cannot run there.
        assert wait_until(lambda: _in_futex(child.pid), timeout=30.0, interval=0.01), "the child never entered the native wait"
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pytest.fail("SIGTERM did not end a process whose main thread waits in native code")
        assert child.stdout.read() == "teardown ran\n"
        assert child.returncode == 0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


# -- the local Lambda's Extensions API ------------------------------------------------


def _extensions() -> extensions.Extensions:
    return extensions.Extensions("fn", "lambda_ui.function.handler.handler")


def test_register_answers_as_lambda_does() -> None:
    registry = _extensions()
    status, body, headers = registry.register("lambda-ui-shutdown", b'{"events": []}', open_=True)
    assert status == 200
    assert body == {"functionName": "fn", "functionVersion": "$LATEST", "handler": "lambda_ui.function.handler.handler"}
    identifier = headers["Lambda-Extension-Identifier"]
    assert str(uuid.UUID(identifier)) == identifier
    found = registry.find(identifier)
    assert isinstance(found, extensions.Extension) and found.events == []
    assert registry.any and not registry.all_waiting


@pytest.mark.parametrize(
    ("name", "body", "open_", "error_type"),
    [
        ("", b'{"events": []}', True, "Extension.InvalidExtensionName"),
        ("x", b"not json", True, "InvalidRequestFormat"),
        ("x", b'{"events": "INVOKE"}', True, "InvalidRequestFormat"),
        ("x", b'{"events": [], "configurationKeys": ["a"]}', True, "InvalidRequestFormat"),
        ("x", b'{"events": ["SHUTDOWN"]}', True, "Extension.InvalidEventType"),
        ("x", b'{"events": ["LOGS"]}', True, "Extension.InvalidEventType"),
        ("x", b'{"events": []}', False, "Extension.RegistrationClosed"),
    ],
    ids=["no name", "not json", "events not a list", "configuration keys", "shutdown for an internal one", "unknown event", "after init"],
)
def test_register_refuses_what_lambda_refuses(name: str, body: bytes, open_: bool, error_type: str) -> None:
    registry = _extensions()
    status, answer, headers = registry.register(name, body, open_=open_)
    assert (status, answer["errorType"], headers) == (403, error_type, {})
    assert not registry.any


def test_names_are_unique_and_ten_extensions_at_most() -> None:
    registry = _extensions()
    assert registry.register("a", b"{}", open_=True)[0] == 200
    assert registry.register("a", b"{}", open_=True)[1]["errorType"] == "Extension.InvalidExtensionState"
    for n in range(9):
        assert registry.register(f"b{n}", b"{}", open_=True)[0] == 200
    assert registry.register("c", b"{}", open_=True)[1]["errorType"] == "Extension.TooManyExtensions"


@pytest.mark.parametrize(
    ("identifier", "error_type"),
    # A fixed unknown identifier: a random one would give each xdist worker another test id.
    [("", "Extension.MissingExtensionIdentifier"), ("nope", "Extension.InvalidExtensionIdentifier"), ("3f0c2a9e-5d1b-4c7e-9a6f-0b8d2e4c6a10", "Extension.UnknownExtensionIdentifier")],
    ids=["missing", "invalid", "unknown"],
)
def test_event_next_needs_a_registered_identifier(identifier: str, error_type: str) -> None:
    found = _extensions().find(identifier)
    assert isinstance(found, tuple) and found[0] == 403 and found[1]["errorType"] == error_type


class _Channel:
    """The environment's side, as far as the Extensions API routes need it."""

    def __init__(self) -> None:
        self.registry = _extensions()
        self.ended = threading.Event()

    def register_extension(self, name: str, body: bytes) -> extensions.Answer:
        return self.registry.register(name, body, open_=True)

    def extension_next(self, identifier: str) -> extensions.Answer | None:
        found = self.registry.find(identifier)
        if not isinstance(found, extensions.Extension):
            return found
        self.ended.wait(30)
        return None


def test_the_runtime_api_serves_register_with_the_identifier_header() -> None:
    channel = _Channel()
    server = RuntimeApiServer(channel)  # type: ignore[arg-type]
    server.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        connection.request("POST", "/2020-01-01/extension/register", body=b'{"events": []}', headers={"Lambda-Extension-Name": "x"})
        answer = connection.getresponse()
        assert answer.status == 200
        assert json.loads(answer.read())["functionName"] == "fn"
        assert channel.registry.find(answer.headers["Lambda-Extension-Identifier"])
        connection.request("POST", "/2020-01-01/extension/register", body=b'{"events": []}')
        refused = connection.getresponse()
        assert (refused.status, json.loads(refused.read())["errorType"]) == (403, "Extension.InvalidExtensionName")
        connection.request("GET", "/2020-01-01/extension/event/next", headers={"Lambda-Extension-Identifier": "nope"})
        unknown = connection.getresponse()
        assert (unknown.status, json.loads(unknown.read())["errorType"]) == (403, "Extension.InvalidExtensionIdentifier")
        connection.close()
    finally:
        channel.ended.set()
        server.stop()
