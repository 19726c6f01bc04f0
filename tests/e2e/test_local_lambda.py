"""The local Lambda stand-in against boto3: real awslambdaric processes, real sockets.

Most tests use the tiny handlers in stand_ins/functions; two run the project's real
handler (lambda_ui.function.handler.handler) on Debian's Chromium, one of them real browser tests
end to end with the loopback S3.
"""

from __future__ import annotations

import base64
import datetime
import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import psutil
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambda_ui.cli.local_lambda import build_config, build_parser
from lambda_ui.contract import CONTRACT_VERSION
from lambda_ui.local_lambda import (
    FunctionConfig,
    InvocationRecord,
    LocalLambda,
    Options,
    load_function_config,
    netns,
    sandbox,
    with_overrides,
)
from lambda_ui.runner.aws.sigv4 import InvokeSigner, canonical_host
from lambda_ui.runner.bundle import build_bundle
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
ECHO = "stand_ins.functions.echo.handler"
ACTIONS = "stand_ins.functions.actions.handler"
IMPORT_ERROR = "stand_ins.functions.import_error.handler"
REPORT = re.compile(
    r"REPORT RequestId: (?P<rid>[0-9a-f-]{36})\tDuration: (?P<duration>[\d.]+) ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: (?P<size>\d+) MB\tMax Memory Used: (?P<used>\d+) MB\t(Init Duration: (?P<init>[\d.]+) ms\t)?"
    r"(Status: (?P<status>timeout|error)\t(Error Type: (?P<error_type>\S+)\t)?)?$"
)
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def function(handler: str, **changes: Any) -> FunctionConfig:
    return FunctionConfig(
        name=changes.pop("name", "fn"),
        handler=handler,
        code_dir=str(REPO),
        timeout=changes.pop("timeout", 10),
        memory_mb=changes.pop("memory_mb", 256),
        reserved_concurrency=changes.pop("reserved_concurrency", 4),
        **changes,
    )


def lambda_client(endpoint: str, read_timeout: int = 60) -> Any:
    config = Config(retries={"total_max_attempts": 1}, read_timeout=read_timeout, max_pool_connections=64)
    return boto3.client("lambda", endpoint_url=endpoint, config=config, **CREDENTIALS)


@contextmanager
def serving(config: FunctionConfig, **options: Any) -> Iterator[tuple[LocalLambda, Any]]:
    """A stand-in that expects the credentials the tests' boto3 clients sign with."""
    options.setdefault("expect_credentials", (CREDENTIALS["aws_access_key_id"], CREDENTIALS["aws_secret_access_key"]))
    lam = LocalLambda(config, Options(port=0, **options))
    lam.start()
    try:
        yield lam, lambda_client(lam.endpoint)
    finally:
        lam.stop()


def invoke(client: Any, event: Any, name: str = "fn", **kwargs: Any) -> tuple[dict[str, Any], Any]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event).encode(), **kwargs)
    return response, json.loads(response["Payload"].read() or b"null")


def log_of(response: dict[str, Any]) -> str:
    return base64.b64decode(response["LogResult"]).decode("utf-8", "replace")


def report_of(response: dict[str, Any]) -> re.Match[str]:
    lines = log_of(response).rstrip("\n").split("\n")
    match = REPORT.match(lines[-1])
    assert match, lines[-1]
    return match


def record_of(lam: LocalLambda, response: dict[str, Any]) -> InvocationRecord:
    """The invocation log's record of a response (the request id is x-amzn-RequestId)."""
    request_id = response["ResponseMetadata"]["RequestId"]
    return next(r for r in lam.invocations if r.request_id == request_id)


def runtime_pid(lam: LocalLambda, response: dict[str, Any]) -> int:
    """The host pid of the runtime that answered (inside a sandbox, os.getpid() is its
    PID namespace's own number)."""
    assert lam.pool is not None
    environment_id = record_of(lam, response).environment_id
    return next(env.runtime_pid for env in lam.pool.environments() if env.id == environment_id)


def processes_with(marker: str) -> list[int]:
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            if proc.info["status"] != psutil.STATUS_ZOMBIE and marker in " ".join(proc.info["cmdline"] or []):
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.fixture(scope="module")
def actions() -> Iterator[tuple[LocalLambda, Any]]:
    """One stand-in for the quick behaviours (timeout 10 s, 256 MB, concurrency 4)."""
    with serving(function(ACTIONS)) as served:
        yield served


# -- the front door: only signed API calls from this machine's clients ----------------------


def raw_request(endpoint: str, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request exactly as given (http.client adds nothing but what is passed)."""
    parts = urlsplit(endpoint)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def signed(endpoint: str, path: str, body: bytes, secret: str = "testing", key: str = "testing", **sign: Any) -> dict[str, str]:
    """Headers of a POST signed by the project's own client (runner/aws/sigv4.py)."""
    signer = InvokeSigner(endpoint + path, "us-east-1")
    headers = signer.headers(body, {"Content-Type": "application/json"}, key, secret, None, **sign)
    return {"Host": canonical_host(endpoint), **headers}


INVOKE_PATH = "/2015-03-31/functions/fn/invocations"
RUN_SOMETHING = json.dumps({"action": "print", "lines": 1}).encode()


@pytest.mark.parametrize(("case", "code"), [
    ("cross-origin text/plain POST", "AccessDeniedException"),
    ("unsigned", "MissingAuthenticationTokenException"),
    ("wrong secret", "InvalidSignatureException"),
    ("unknown access key", "UnrecognizedClientException"),
    ("signed an hour ago", "InvalidSignatureException"),
    ("signed, but from a web page", "AccessDeniedException"),
    ("signed, but for another Host (DNS rebinding)", "AccessDeniedException"),
    ("CORS preflight", "AccessDeniedException"),
])
def test_the_front_door_refuses_and_logs_what_a_web_page_or_a_stranger_sends(case: str, code: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("WARNING", logger="lambda_ui.local_lambda")
    with serving(function(ACTIONS)) as (lam, _client):
        endpoint = lam.endpoint
        host = canonical_host(endpoint)
        good = signed(endpoint, INVOKE_PATH, RUN_SOMETHING)
        method, headers = "POST", good
        if case == "cross-origin text/plain POST":  # what any page can send without asking (issue 13)
            headers = {"Host": host, "Origin": "https://evil.example", "Content-Type": "text/plain"}
        elif case == "unsigned":
            headers = {"Host": host, "Content-Type": "application/json"}
        elif case == "wrong secret":
            headers = signed(endpoint, INVOKE_PATH, RUN_SOMETHING, secret="not-the-secret")
        elif case == "unknown access key":
            headers = signed(endpoint, INVOKE_PATH, RUN_SOMETHING, key="AKIDSTRANGER")
        elif case == "signed an hour ago":
            headers = signed(endpoint, INVOKE_PATH, RUN_SOMETHING, now=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1))
        elif case == "signed, but from a web page":
            headers = {**good, "Origin": "http://127.0.0.1:8000"}
        elif case == "signed, but for another Host (DNS rebinding)":
            headers = {**good, "Host": f"rebind.evil.example:{urlsplit(endpoint).port}"}
        elif case == "CORS preflight":
            method = "OPTIONS"
            headers = {"Host": host, "Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
                       "Access-Control-Request-Headers": "authorization,x-amz-date"}
        status, answer, body = raw_request(endpoint, method, INVOKE_PATH, RUN_SOMETHING if method == "POST" else b"", headers)
        assert lam.pool is not None
        ran = (lam.invocations, lam.pool.started_count)
    assert (status, answer.get("x-amzn-errortype")) == (403, code), body
    assert not any(name.startswith("access-control-") for name in answer)
    assert ran == ([], 0), "a refused request ran the function"
    assert any(m.startswith("refused ") and code in m for m in caplog.messages), caplog.messages


def test_the_front_door_lets_the_project_client_and_boto3_in_and_checks_signatures_only_when_told() -> None:
    with serving(function(ACTIONS)) as (lam, client):
        endpoint = lam.endpoint
        status, _answer, body = raw_request(endpoint, "POST", INVOKE_PATH, RUN_SOMETHING, signed(endpoint, INVOKE_PATH, RUN_SOMETHING))
        assert (status, json.loads(body)) == (200, {"printed": 1})
        # boto3 signs the ARN's ':' escaped once more in the canonical path: checked as it arrived.
        response, payload = invoke(client, {"action": "echo"}, name="arn:aws:lambda:us-east-1:123456789012:function:fn")
        assert "FunctionError" not in response and payload == {"action": "echo"}
        assert client.get_function_configuration(FunctionName="fn")["FunctionName"] == "fn"
        stranger = boto3.client("lambda", endpoint_url=endpoint, config=Config(retries={"total_max_attempts": 1}),
                                aws_access_key_id="testing", aws_secret_access_key="wrong", region_name="us-east-1")
        with pytest.raises(ClientError) as refused:
            stranger.invoke(FunctionName="fn", Payload=RUN_SOMETHING)
        assert refused.value.response["Error"]["Code"] == "InvalidSignatureException"
    with serving(function(ACTIONS), expect_credentials=None) as (lam, _client):
        anyone = boto3.client("lambda", endpoint_url=lam.endpoint, aws_access_key_id="any", aws_secret_access_key="thing", region_name="us-east-1")
        assert json.loads(anyone.invoke(FunctionName="fn", Payload=RUN_SOMETHING)["Payload"].read()) == {"printed": 1}
        status, answer, _body = raw_request(lam.endpoint, "POST", INVOKE_PATH, RUN_SOMETHING, {"Host": canonical_host(lam.endpoint)})
        assert (status, answer["x-amzn-errortype"]) == (403, "MissingAuthenticationTokenException")


# -- the Invoke API -----------------------------------------------------------------------


def test_invocation_types_answer_with_the_service_status_codes(actions: tuple[LocalLambda, Any]) -> None:
    lam, client = actions
    response, payload = invoke(client, {"action": "print", "lines": 1})
    assert (response["StatusCode"], response["ExecutedVersion"], payload) == (200, "$LATEST", {"printed": 1})
    assert "FunctionError" not in response

    # Nothing an environment writes reaches the host: the invocation log shows it ran.
    response = client.invoke(FunctionName="fn", InvocationType="Event", Payload=json.dumps({"action": "echo"}).encode())
    assert response["StatusCode"] == 202
    assert wait_until(lambda: any(r.request_id == response["ResponseMetadata"]["RequestId"] for r in lam.invocations)), "never ran"
    ran = record_of(lam, response)
    assert (ran.invocation_type, ran.outcome) == ("Event", "success")

    response = client.invoke(FunctionName="fn", InvocationType="DryRun", Payload=b"{}")
    assert response["StatusCode"] == 204
    assert client.invoke_async(FunctionName="fn", InvokeArgs=b'{"action": "sleep", "seconds": 0}')["Status"] == 202

    with pytest.raises(ClientError) as info:
        client.invoke(FunctionName="fn", Payload=b"not json")
    assert info.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    response, _ = invoke(client, {"action": "print", "lines": 0}, Qualifier="$LATEST")
    assert response["StatusCode"] == 200
    with pytest.raises(ClientError) as info:
        invoke(client, {}, Qualifier="7")
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_function_errors_are_http_200_with_unhandled(actions: tuple[LocalLambda, Any]) -> None:
    lam, client = actions
    response, payload = invoke(client, {"action": "raise", "message": "deliberate"}, LogType="Tail")
    record = record_of(lam, response)
    assert (record.outcome, record.error_type, record.request_id) == ("function_error", "ValueError", payload["requestId"])
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "deliberate"
    assert payload["requestId"] == report_of(response)["rid"]
    assert "[ERROR] ValueError: deliberate" in log_of(response)


def test_tail_log_has_output_and_a_report_line_limited_to_4_kb(actions: tuple[LocalLambda, Any]) -> None:
    _lam, client = actions
    response, _ = invoke(client, {"action": "print", "lines": 3}, LogType="Tail")
    text = log_of(response)
    rid = report_of(response)["rid"]
    assert f"START RequestId: {rid} Version: $LATEST\n" in text
    assert "line 0 of 3\nline 1 of 3\nline 2 of 3\n" in text
    assert f"END RequestId: {rid}\n" in text

    response, _ = invoke(client, {"action": "print", "lines": 500}, LogType="Tail")
    raw = base64.b64decode(response["LogResult"])
    assert len(raw) == 4096
    assert b"line 499 of 500\n" in raw
    report_of(response)

    response, _ = invoke(client, {"action": "print", "lines": 1})  # LogType None: no log
    assert "LogResult" not in response


def test_cold_start_then_warm_reuse_with_init_duration_only_when_cold() -> None:
    with serving(function(ECHO)) as (_lam, client):
        first, cold = invoke(client, {"n": 1}, LogType="Tail")
        second, warm = invoke(client, {"n": 2}, LogType="Tail")
    cold_report, warm_report = report_of(first), report_of(second)
    assert cold_report["init"] is not None and float(cold_report["init"]) > 0
    assert warm_report["init"] is None
    assert cold["pid"] == warm["pid"]  # the same environment, reused
    assert (cold["event"], warm["event"]) == ({"n": 1}, {"n": 2})
    assert int(cold_report["used"]) >= 10  # measured: a Python runtime is more than 10 MB
    assert cold_report["size"] == "256"


def test_context_environment_and_private_tmp_are_lambda_like(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # inherited, so functions reach loopback S3
    monkeypatch.setenv("HOME", "/root")
    monkeypatch.setenv("NOT_PASSED", "x")
    config = function(ECHO, timeout=7, memory_mb=512, ephemeral_mb=600, environment={"FROM_TEMPLATE": "yes"})
    with serving(config) as (lam, client):
        custom = {"test": "t1"}
        client_context = base64.b64encode(json.dumps({"custom": custom}).encode()).decode()
        _response, facts = invoke(client, {}, ClientContext=client_context)
        isolated = lam.isolation is not None and lam.isolation.private_mounts
    env = facts["env"]
    assert facts["client_context"] == custom
    assert 5000 < facts["remaining_ms"] <= 7000
    assert facts["function_name"] == "fn"
    assert facts["memory_limit_in_mb"] == "512"
    assert facts["invoked_function_arn"] == "arn:aws:lambda:us-east-1:123456789012:function:fn"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/fn"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"])
    assert re.fullmatch(r"127\.0\.0\.1:\d+", env["AWS_LAMBDA_RUNTIME_API"])
    assert env["_HANDLER"] == ECHO
    assert env["LAMBDA_TASK_ROOT"] == str(REPO) == facts["cwd"]
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_python3")
    assert (env["TZ"], env["LANG"]) == (":UTC", "en_US.UTF-8")
    assert env["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:9"
    assert env["FROM_TEMPLATE"] == "yes"
    assert "HOME" not in env and "NOT_PASSED" not in env
    if isolated:
        assert facts["tmp"] == "/tmp" and "TMPDIR" not in env
        assert facts["tmp_total_mb"] == 600  # a tmpfs sized like EphemeralStorage
        assert not any(entry.startswith("pytest-of") for entry in facts["tmp_entries"])
    else:
        assert re.fullmatch(r"/tmp/lle-\w+", facts["tmp"])


def test_boto3_needs_only_the_endpoint_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(function(ECHO)) as (lam, _client):
        monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", lam.endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", CREDENTIALS["aws_access_key_id"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CREDENTIALS["aws_secret_access_key"])
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        client = boto3.client("lambda")
        response, payload = invoke(client, {"via": "env"})
    assert response["StatusCode"] == 200
    assert payload["event"] == {"via": "env"}


# -- the service's rules ------------------------------------------------------------------


def test_concurrency_cap_throttles_with_the_service_shape() -> None:
    with serving(function(ACTIONS, reserved_concurrency=2)) as (lam, client):
        assert lam.pool is not None
        with ThreadPoolExecutor(max_workers=2) as pool:
            running = [pool.submit(invoke, client, {"action": "sleep", "seconds": 1.5}) for _ in range(2)]
            assert wait_until(lambda: lam.pool.busy == 2)
            with pytest.raises(ClientError) as info:
                invoke(client, {"action": "sleep", "seconds": 0})
            for future in running:
                assert future.result()[0]["StatusCode"] == 200
        error = info.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert error["Error"]["Code"] == "TooManyRequestsException"
        assert error["Error"]["Message"] == "Rate Exceeded."
        assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert error["Type"] == "User"
        assert error["retryAfterSeconds"] == "1"
        assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "TooManyRequestsException"

        # Many callers, each retrying when throttled: never more than 2 ran at once.
        intervals: list[tuple[float, float]] = []
        by_environment: dict[str | None, list[tuple[float, float]]] = {}
        throttles = 0
        lock = threading.Lock()

        def caller() -> None:
            nonlocal throttles
            while True:
                try:
                    response, ran = invoke(client, {"action": "interval", "seconds": 0.2})
                except ClientError as exc:
                    assert exc.response["Error"]["Code"] == "TooManyRequestsException"
                    with lock:
                        throttles += 1
                    time.sleep(0.02)
                    continue
                with lock:
                    intervals.append((ran["start"], ran["end"]))
                    by_environment.setdefault(record_of(lam, response).environment_id, []).append((ran["start"], ran["end"]))
                return

        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda _: caller(), range(6)))
        assert lam.pool.peak_busy == 2
    assert throttles > 0
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals], key=lambda e: (e[0], e[1]))
    running_now = peak = 0
    for _when, step in edges:
        running_now += step
        peak = max(peak, running_now)
    assert peak <= 2
    assert len(intervals) == 6
    for runs in by_environment.values():  # a busy environment never got a second event
        runs.sort()
        assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(runs))


def test_timeout_kills_the_runtime_and_its_children_and_resets_the_environment() -> None:
    # Today's Lambda resets the same sandbox after a timeout (tests/e2e/test_local_lambda_today.py
    # checks /tmp is kept); every process of the timed-out runtime is gone all the same.
    marker = f"lle-child-{uuid.uuid4().hex}"
    with serving(function(ACTIONS, timeout=1)) as (_lam, client):
        first_response, _first = invoke(client, {"action": "sleep", "seconds": 0})
        first_pid = runtime_pid(_lam, first_response)
        response, payload = invoke(client, {"action": "spawn", "marker": marker, "seconds": 5}, LogType="Tail")
        rid = report_of(response)["rid"]
        assert response["FunctionError"] == "Unhandled"
        assert payload["errorType"] == "Sandbox.Timedout"
        assert re.fullmatch(r"RequestId: " + rid + r" Error: Task timed out after 1\.\d\d seconds", payload["errorMessage"])
        assert f"RequestId: {rid} Error: Task timed out after" in log_of(response)
        assert 1000 <= float(report_of(response)["duration"]) < 2000
        assert report_of(response)["status"] == "timeout"
        assert record_of(_lam, response).outcome == "timeout"
        assert wait_until(lambda: not alive(first_pid), 5)
        assert wait_until(lambda: not processes_with(marker), 5), "the timed-out environment's child survived"
        response, _second = invoke(client, {"action": "sleep", "seconds": 0}, LogType="Tail")
        assert record_of(_lam, response).environment_id == record_of(_lam, first_response).environment_id
        assert runtime_pid(_lam, response) != first_pid  # a new runtime in the same sandbox
    assert "FunctionError" not in response
    assert report_of(response)["init"] is None  # a reset's init is suppressed: not reported


@pytest.mark.parametrize(("event", "reason"), [
    ({"action": "exit", "code": 3}, "Runtime exited with error: exit status 3"),
    ({"action": "sigkill"}, "Runtime exited with error: signal: killed"),
])
def test_runtime_exit_mid_invocation_is_a_runtime_exit_error(actions: tuple[LocalLambda, Any], event: dict[str, Any], reason: str) -> None:
    lam, client = actions
    response, payload = invoke(client, event, LogType="Tail")
    rid = report_of(response)["rid"]
    assert response["FunctionError"] == "Unhandled"
    assert payload == {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {rid} Error: {reason}"}
    assert (record_of(lam, response).outcome, record_of(lam, response).error_type) == ("exit", "Runtime.ExitError")
    assert f"RequestId: {rid} Error: {reason}\nRuntime.ExitError\n" in log_of(response)
    assert (report_of(response)["status"], report_of(response)["error_type"]) == ("error", "Runtime.ExitError")
    response, after = invoke(client, {"action": "sleep", "seconds": 0})
    assert "FunctionError" not in response and after["slept"] == 0


def test_a_runtime_killed_while_waiting_for_work_loses_no_event() -> None:
    with serving(function(ECHO)) as (lam, client):
        assert lam.pool is not None
        for attempt in range(4):
            first, _before = invoke(client, {"attempt": attempt})
            assert wait_until(lambda: all(env.parked for env in lam.pool.environments()))
            os.kill(runtime_pid(lam, first), signal.SIGKILL)  # parked in /next, idle
            response, after = invoke(client, {"attempt": attempt, "after": True})
            assert "FunctionError" not in response, after
            assert after["event"] == {"attempt": attempt, "after": True}
            assert record_of(lam, response).environment_id != record_of(lam, first).environment_id


def test_an_event_given_to_a_dead_poll_connection_runs_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first runtime parks in /next, then drops that connection but stays alive, so
    # only the connection shows it is gone (the watcher sees nothing).
    flag = Path(f"/dev/shm/lle-drop-{uuid.uuid4().hex}")
    wrapper = tmp_path / "python"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} {REPO / 'stand_ins/functions/drop_poll_runtime.py'} \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setenv("LLE_REAL_PYTHON", sys.executable)
    config = function(ECHO, environment={"LLE_DROP_FLAG": str(flag)})
    try:
        with serving(config, python=str(wrapper), isolation="tmpdir", prestart=1, pass_env=("LLE_REAL_PYTHON",)) as (lam, client):
            assert lam.pool is not None and lam.pool.idle_count == 1
            dropper = int(flag.read_text())
            Path(f"{flag}.go").touch()  # parked: now drop the poll connection
            assert wait_until(Path(f"{flag}.dropped").exists), "the runtime never dropped its poll"
            assert alive(dropper)
            response, payload = invoke(client, {"after": "drop"})
            assert "FunctionError" not in response, payload
            assert payload["event"] == {"after": "drop"}
            assert payload["pid"] != dropper
            assert wait_until(lambda: not alive(dropper), 5)
    finally:
        for path in (flag, Path(f"{flag}.go"), Path(f"{flag}.dropped")):
            path.unlink(missing_ok=True)


def test_init_error_is_forwarded_and_the_environment_discarded() -> None:
    with serving(function(IMPORT_ERROR)) as (lam, client):
        results = [invoke(client, {}, LogType="Tail") for _ in range(2)]
        assert lam.pool is not None and lam.pool.started_count == 2, [log_of(response) for response, _ in results]
        assert [record_of(lam, response).outcome for response, _ in results] == ["init_error", "init_error"]
    for response, payload in results:
        assert response["FunctionError"] == "Unhandled"
        assert payload["errorType"] == "Runtime.ImportModuleError"
        assert payload["errorMessage"] == (
            "Unable to import module 'stand_ins.functions.import_error': No module named 'this_module_does_not_exist'"
        )
        assert report_of(response)["init"] is not None


def test_unknown_function_is_resource_not_found(actions: tuple[LocalLambda, Any]) -> None:
    _lam, client = actions
    for call in (lambda: invoke(client, {}, name="nope"), lambda: client.get_function(FunctionName="nope")):
        with pytest.raises(ClientError) as info:
            call()
        error = info.value.response
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert error["Error"]["Code"] == "ResourceNotFoundException"
        assert error["Error"]["Message"] == "Function not found: arn:aws:lambda:us-east-1:123456789012:function:nope"
        assert error["Type"] == "User"
    # The function answers to its ARN too.
    response, _ = invoke(client, {"action": "sleep", "seconds": 0}, name="arn:aws:lambda:us-east-1:123456789012:function:fn")
    assert response["StatusCode"] == 200


def test_request_over_6_mb_is_413(actions: tuple[LocalLambda, Any]) -> None:
    _lam, client = actions
    over = json.dumps({"action": "sleep", "seconds": 0, "pad": "x" * 6291456}).encode()
    with pytest.raises(ClientError) as info:
        client.invoke(FunctionName="fn", Payload=over)
    error = info.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Error"]["Code"] == "RequestEntityTooLargeException"
    assert error["Error"]["Message"] == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    at_limit = json.dumps({"action": "sleep", "seconds": 0, "pad": ""}).encode()
    at_limit = at_limit[:-2] + b"x" * (6291456 - len(at_limit)) + at_limit[-2:]
    assert len(at_limit) == 6291456
    assert client.invoke(FunctionName="fn", Payload=at_limit)["StatusCode"] == 200


def test_response_over_the_limit_is_response_size_too_large(actions: tuple[LocalLambda, Any]) -> None:
    _lam, client = actions
    response, payload = invoke(client, {"action": "huge", "bytes": 7_000_000})
    assert response["FunctionError"] == "Unhandled"
    assert payload == {
        "errorType": "Function.ResponseSizeTooLarge",
        "errorMessage": "Response payload size (7000002 bytes) exceeded maximum allowed payload size (6291556 bytes).",
    }
    response, payload = invoke(client, {"action": "huge", "bytes": 6_291_554})  # 6291556 with the quotes
    assert "FunctionError" not in response and len(payload) == 6_291_554


def test_memory_is_measured_and_with_enforce_memory_limited() -> None:
    with serving(function(ACTIONS, memory_mb=512)) as (_lam, client):
        response, payload = invoke(client, {"action": "allocate", "mb": 200, "hold": 0.4}, LogType="Tail")
        assert payload["allocated_mb"] == 200
        assert int(report_of(response)["used"]) >= 200

    with serving(function(ACTIONS, memory_mb=128), enforce_memory=True) as (_lam, client):
        response, payload = invoke(client, {"action": "allocate", "mb": 300, "hold": 2}, LogType="Tail")
        report = report_of(response)
        assert response["FunctionError"] == "Unhandled"
        assert payload == {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {report['rid']} Error: Runtime exited with error: signal: killed",
        }
        assert report["used"] == "128"
        response, payload = invoke(client, {"action": "allocate", "mb": 10}, LogType="Tail")
        assert "FunctionError" not in response, (payload, log_of(response))


# -- control plane and configuration ------------------------------------------------------


def test_control_plane_calls_parse_with_boto3() -> None:
    config = with_overrides(load_function_config(TEMPLATE), handler=ECHO, aliases=("ui-tests",))
    with serving(config) as (_lam, client):
        configuration = client.get_function_configuration(FunctionName="ui-tests")
        function_ = client.get_function(FunctionName="UiTestFunction")
        concurrency = client.get_function_concurrency(FunctionName="UiTestFunction")
        account = client.get_account_settings()
    assert configuration["FunctionName"] == "UiTestFunction"
    assert configuration["FunctionArn"] == "arn:aws:lambda:us-east-1:123456789012:function:UiTestFunction"
    assert (configuration["Timeout"], configuration["MemorySize"]) == (300, 2048)
    assert configuration["EphemeralStorage"] == {"Size": 2048}
    assert configuration["PackageType"] == "Image"
    assert configuration["Environment"]["Variables"]["CHROME_BINARY"] == "/opt/chrome/chrome"
    assert configuration["State"] == "Active" and configuration["Version"] == "$LATEST"
    assert function_["Configuration"]["Timeout"] == 300
    assert function_["Code"]["RepositoryType"] == "ECR"
    assert function_["Concurrency"] == {"ReservedConcurrentExecutions": 100}
    assert concurrency["ReservedConcurrentExecutions"] == 100
    assert account["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert account["AccountLimit"]["UnreservedConcurrentExecutions"] == 900
    assert account["AccountUsage"]["FunctionCount"] == 1


def test_configuration_comes_from_the_real_template_with_overrides() -> None:
    config = load_function_config(TEMPLATE)
    assert (config.name, config.handler) == ("UiTestFunction", "lambda_ui.function.handler.handler")  # CMD of lambda_pkg/Dockerfile
    assert (config.timeout, config.memory_mb, config.ephemeral_mb) == (300, 2048, 2048)
    assert config.reserved_concurrency == 100  # the ReservedConcurrency parameter's Default
    assert config.environment["CHROMEDRIVER"] == "/opt/chromedriver/chromedriver"

    args = build_parser().parse_args([
        "--template", str(TEMPLATE), "--timeout", "5", "--memory", "512", "--concurrency", "3",
        "--env", "EXTRA=1", "--env", "CHROME_BINARY=/usr/bin/chromium", "--function-name", "ui-tests",
        "--handler", ECHO, "--parameter", "EphemeralStorage=1024",
    ])
    overridden = build_config(args)
    assert (overridden.timeout, overridden.memory_mb, overridden.reserved_concurrency) == (5, 512, 3)
    assert overridden.ephemeral_mb == 1024
    assert overridden.handler == ECHO
    assert overridden.names == ("UiTestFunction", "ui-tests")
    assert overridden.environment["EXTRA"] == "1"
    assert overridden.environment["CHROME_BINARY"] == "/usr/bin/chromium"
    assert build_config(build_parser().parse_args(["--template", str(TEMPLATE), "--parameter", "ReservedConcurrency=7"])).reserved_concurrency == 7


def test_prestarted_environments_are_warm_and_stop_leaves_no_process() -> None:
    with serving(function(ECHO), prestart=3) as (lam, client):
        assert lam.pool is not None
        environments = lam.pool.environments()
        pids = [pid for env in environments for pid in (env.pid, env.runtime_pid)]
        assert len(environments) == 3 and all(alive(pid) for pid in pids)
        response, _payload = invoke(client, {}, LogType="Tail")
        assert report_of(response)["init"] is None  # no cold start
        assert record_of(lam, response).environment_id in {env.id for env in environments}
    assert not [pid for pid in pids if alive(pid)]


def test_tmpdir_isolation_gives_a_short_private_tmpdir_and_kills_escaped_helpers() -> None:
    marker = f"lle-escaped-{uuid.uuid4().hex}"
    with serving(function(ACTIONS), isolation="tmpdir") as (_lam, client):
        response, facts = invoke(client, {"action": "spawn", "marker": marker, "detach": True})
        assert "FunctionError" not in response, facts
        assert re.fullmatch(r"/tmp/lle-\w{6,8}", facts["tmp"]) and facts["tmpdir"] == facts["tmp"]
        assert os.path.isdir(facts["tmp"])
        assert wait_until(lambda: bool(processes_with(marker)))
    assert wait_until(lambda: not processes_with(marker), 5), "a re-parented helper outlived the stand-in"
    assert not os.path.exists(facts["tmp"])


# -- isolation: each environment's own network and /tmp -----------------------------------


def _private_network(lam: LocalLambda) -> None:
    assert lam.isolation is not None
    if not lam.isolation.private_network:
        pytest.skip(f"no private network namespaces here: {lam.isolation.reason}")


def test_two_environments_each_bind_port_5000_and_keep_their_own_tmp() -> None:
    with socket.socket() as host_side:
        try:  # the host's 127.0.0.1:5000 taken too, when it is free, to show it does not matter
            host_side.bind(("127.0.0.1", 5000))
            host_side.listen()
        except OSError:
            pass
        with serving(function(ACTIONS, reserved_concurrency=2), prestart=2) as (lam, client):
            _private_network(lam)
            stand_in_port = urlsplit(lam.endpoint).port  # on the host: not reachable from inside
            events = [
                {"action": "bind_and_write", "port": 5000, "text": f"written by {who}", "hold": 0.8, "host_port": stand_in_port}
                for who in ("first", "second")
            ]
            with ThreadPoolExecutor(max_workers=2) as pool:
                results = list(pool.map(lambda event: invoke(client, event), events))
            records = lam.invocations
    for (response, payload), event in zip(results, events, strict=True):
        assert "FunctionError" not in response, payload
        assert payload == {"existed_before": False, "read_back": event["text"], "own_port_reachable": True, "host_port_reachable": False}
    assert len({r.environment_id for r in records}) == 2
    assert max(r.started for r in records) < min(r.ended for r in records), "the two did not run at the same time"
    host_x = Path("/tmp/x")
    assert not host_x.exists() or "written by" not in host_x.read_text(errors="replace")


def test_a_function_reaches_the_loopback_s3_through_the_relay(s3_env: Any, bucket: str, s3_client: Any) -> None:
    with serving(function(ACTIONS)) as (lam, client):
        _private_network(lam)
        assert lam.relay is not None
        response, payload = invoke(client, {"action": "s3", "bucket": bucket, "prefix": "relayed", "count": 16})
        assert lam.relay.owners == 1
        # A reset (the runtime exited) keeps the sandbox's network and its relayed listeners...
        invoke(client, {"action": "exit", "code": 0})
        assert lam.relay.owners == 1
        # ...an environment that ends takes them, and their connections, with it.
        assert lam.pool is not None
        for env in lam.pool.environments():
            lam.pool.discard(env)
        assert wait_until(lambda: lam.relay is not None and lam.relay.owners == 0)
        again, after = invoke(client, {"action": "s3", "bucket": bucket, "prefix": "relayed-again", "count": 1})
        assert record_of(lam, again).environment_id != record_of(lam, response).environment_id
    assert "FunctionError" not in response, payload
    assert payload == {"matched": 16, "endpoint": s3_env.endpoint}
    assert "FunctionError" not in again and after["matched"] == 1, after
    assert s3_client.list_objects_v2(Bucket=bucket, Prefix="relayed/")["KeyCount"] == 16
    # Nothing of the relay outlives the stand-in: no listener, connection or thread.
    assert lam.relay.owners == 0
    assert not lam.relay.running


def test_auto_isolation_falls_back_to_the_host_network_and_says_so(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    if os.geteuid() != 0:
        pytest.skip("namespaces need root")

    def refuse(addresses: Any = ()) -> Any:
        raise PermissionError(1, "unshare(CLONE_NEWNET): Operation not permitted")

    monkeypatch.setattr(netns, "create", refuse)
    with pytest.raises(RuntimeError, match="--isolation namespace is not possible here"):
        sandbox.detect(sys.executable, "namespace", str(REPO), [])
    caplog.set_level("INFO", logger="lambda_ui.local_lambda")
    with serving(function(ECHO)) as (lam, client):
        response, facts = invoke(client, {})
    assert lam.isolation is not None and lam.isolation.mode == sandbox.MOUNT
    assert "FunctionError" not in response and facts["tmp"] == "/tmp"
    assert any(
        "isolated by mount" in m and "the host's network, as no private network namespace is possible" in m and "Operation not permitted" in m
        for m in caplog.messages
    ), caplog.messages


def test_invocations_up_to_the_limit_run_in_parallel_and_the_log_has_each_once(tmp_path: Path) -> None:
    log_path = tmp_path / "invocations.jsonl"
    run = {"version": 1, "kind": "run", "run_id": "r1"}
    with serving(function(ACTIONS, reserved_concurrency=3), prestart=3, invocation_log=str(log_path)) as (lam, client):
        assert lam.pool is not None
        events = [{**run, "nodeids": [f"test_x.py::test_{n}"], "action": "interval", "seconds": 1} for n in range(3)]
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(invoke, client, event) for event in events]
            assert wait_until(lambda: lam.pool.busy == 3)
            with pytest.raises(ClientError) as throttle:
                invoke(client, {**run, "nodeids": ["test_x.py::test_late"], "action": "echo"})
            results = [future.result() for future in futures]
        elapsed = time.monotonic() - started
        records = lam.invocations
        ran_in = {record_of(lam, response).environment_id for response, _payload in results}
    assert elapsed < 2.0, f"3 invocations of 1 s took {elapsed:.2f} s: not in parallel"
    intervals = [(payload["start"], payload["end"]) for _response, payload in results]
    assert max(start for start, _ in intervals) < min(end for _, end in intervals)  # all 3 running at one instant
    assert len(ran_in) == 3

    assert throttle.value.response["Error"]["Code"] == "TooManyRequestsException"
    by_outcome = Counter(r.outcome for r in records)
    assert by_outcome == {"success": 3, "throttled": 1}
    succeeded = Counter(n for r in records if r.outcome == "success" for n in r.nodeids or ())
    assert succeeded == {f"test_x.py::test_{n}": 1 for n in range(3)}
    throttled = next(r for r in records if r.outcome == "throttled")
    assert throttled.nodeids == ("test_x.py::test_late",) and throttled.environment_id is None and not throttled.ran
    assert throttled.request_id == throttle.value.response["ResponseMetadata"]["RequestId"]
    assert throttled.error_type == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert {record_of(lam, response).request_id for response, _ in results} == {r.request_id for r in records if r.ran}
    for record in records:
        assert record.run_id == "r1" and record.started <= record.ended and record.invocation_type == "RequestResponse"
    assert all(r.duration_ms is not None and r.duration_ms >= 1000 for r in records if r.ran)
    # The same records, one JSON line each, for a reader in another process.
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert lines == [r.to_dict() for r in records]


# -- the command --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_command_serves_until_sigterm_and_cleans_up(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    marker = f"lle-cmd-{uuid.uuid4().hex}"
    command = [
        sys.executable, "-m", "lambda_ui.cli.local_lambda", "--template", str(TEMPLATE), "--handler", ACTIONS,
        "--port", "0", "--ready-file", str(ready), "--function-name", "ui-tests", "--timeout", "20", "-q", "--expect-credentials",
    ]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"], "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"]}
    proc = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert wait_until(ready.exists, 30), "no ready file"
        endpoint = ready.read_text().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", endpoint)
        client = lambda_client(endpoint)
        response, payload = invoke(client, {"action": "spawn", "marker": marker}, name="ui-tests")
        assert "FunctionError" not in response, payload
        # and one re-parented away from the runtime, like Chrome's crashpad handler
        response, _ = invoke(client, {"action": "spawn", "marker": marker + "-detached", "detach": True}, name="ui-tests")
        assert wait_until(lambda: len(processes_with(marker)) >= 2)
        environment_pids = [child.pid for child in psutil.Process(proc.pid).children(recursive=True)]
        assert environment_pids
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert not ready.exists()
    assert not [pid for pid in environment_pids if alive(pid)]
    assert wait_until(lambda: not processes_with(marker), 5), processes_with(marker)


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lambda_ui.cli.local_lambda", *args], cwd=REPO, capture_output=True, text=True, timeout=60)


def test_command_start_up_errors_are_one_line_each(tmp_path: Path) -> None:
    no_function = tmp_path / "empty.yaml"
    no_function.write_text("Resources: {}\n")
    not_yaml = tmp_path / "broken.yaml"
    not_yaml.write_text("Resources:\n  Fn: [\n  Type: x\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cases = {
            "no function": ((str(no_function),), 2, "local-lambda: error: *empty.yaml: the template has 0 functions (none); choose one with --function-id"),
            "missing": (("/nonexistent/template.yaml",), 2, "local-lambda: error: cannot read template /nonexistent/template.yaml: No such file or directory"),
            "not yaml": ((str(not_yaml),), 2, "local-lambda: error: *broken.yaml is not valid YAML: line 4, column 1: expected ',' or ']', but got '<stream end>'"),
            "busy port": ((str(TEMPLATE), "--port", str(port)), 1, f"local-lambda: error: port {port} on 127.0.0.1 is in use (--port 0 picks a free one)"),
            "init error": (
                (str(TEMPLATE), "--port", "0", "--handler", IMPORT_ERROR, "--prestart", "2"), 1,
                "local-lambda: error: the function's init failed: Runtime.ImportModuleError: Unable to import module "
                "'stand_ins.functions.import_error': No module named 'this_module_does_not_exist'",
            ),
        }
        with ThreadPoolExecutor(max_workers=len(cases)) as pool:
            results = dict(zip(cases, pool.map(lambda case: _command("--template", *case[0]), cases.values()), strict=True))
    for name, (_args, status, expected) in cases.items():
        result = results[name]
        # The command's own lines; an environment's output is prefixed with its id.
        ours = [line for line in result.stderr.rstrip("\n").split("\n") if not re.match(r"\[[0-9a-f]{8}\] ", line)]
        assert result.returncode == status, (name, result.stderr)
        assert len(ours) == 1 and re.fullmatch(re.escape(expected).replace(r"\*", ".*"), ours[0]), (name, result.stderr)
        assert "Traceback" not in "\n".join(ours)
        if name != "init error":
            assert result.stderr.count("\n") == 1, (name, result.stderr)
    no_credentials = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    result = subprocess.run(
        [sys.executable, "-m", "lambda_ui.cli.local_lambda", "--template", str(TEMPLATE), "--port", "0", "--expect-credentials"],
        cwd=REPO, capture_output=True, text=True, timeout=60, env=no_credentials, check=False,
    )
    assert (result.returncode, result.stderr) == (2, "local-lambda: error: --expect-credentials needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\n")


# -- the real handler ---------------------------------------------------------------------


def test_the_real_handler_answers_an_info_event() -> None:
    with serving(load_function_config(TEMPLATE)) as (lam, client):
        response, payload = invoke(client, {"version": 1, "kind": "info"}, name="UiTestFunction", LogType="Tail")
        isolated = lam.isolation is not None and lam.isolation.private_mounts
    assert "FunctionError" not in response, payload
    assert payload["kind"] == "info"
    facts = payload["facts"]
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", facts["chrome_version"])
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", facts["chromedriver_version"])
    assert facts["cold"] is True
    assert payload["limits"]["memory_mb"] == 2048
    assert 290_000 < payload["limits"]["remaining_ms"] <= 300_000
    if isolated:
        assert payload["limits"]["tmp_total_mb"] == 2048
    assert report_of(response)["init"] is not None


SITE_SUITE = {
    "conftest.py": """
import http.server
import threading

import pytest

PAGE = b"<html><body><h1>hello</h1><script>console.error('broken widget')</script></body></html>"


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture
def site():
    # The test's own web app on 127.0.0.1:0, inside the environment (its network, if private).
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
""",
    "test_site.py": """
def test_page_says_hello(browser, site):
    browser.get(site + "/")
    assert browser.find_element("tag name", "h1").text == "hello"


def test_page_says_goodbye(browser, site):
    browser.get(site + "/")
    assert browser.find_element("tag name", "h1").text == "goodbye"
""",
}


def test_the_real_handler_runs_browser_tests_end_to_end(tmp_path: Path, bucket: str, s3_client: Any) -> None:
    folder = tmp_path / "suite"
    folder.mkdir()
    for name, text in SITE_SUITE.items():
        (folder / name).write_text(text)
    built = build_bundle(folder, list(SITE_SUITE))
    s3_client.put_object(Bucket=bucket, Key=built.key, Body=built.data)
    base = {
        "version": CONTRACT_VERSION, "kind": "run", "run_id": "e2e", "pytest_args": [], "attempt": 1,
        "bundle": {"bucket": bucket, "key": built.key, "sha256": built.sha256},
        "artifacts": {"bucket": bucket, "prefix": "runs"},
    }
    config = with_overrides(load_function_config(TEMPLATE), timeout=90, concurrency=2)
    with serving(config) as (lam, client):
        passed = invoke(client, {**base, "nodeids": ["test_site.py::test_page_says_hello"]}, name="UiTestFunction")
        failed = invoke(client, {**base, "nodeids": ["test_site.py::test_page_says_goodbye"]}, name="UiTestFunction")
        records = lam.invocations
    for response, payload in (passed, failed):
        assert "FunctionError" not in response, payload
        assert payload["kind"] == "run", payload
    outcomes = {p["reports"][1]["nodeid"]: [(r["when"], r["outcome"]) for r in p["reports"]] for _r, p in (passed, failed)}
    assert outcomes == {
        "test_site.py::test_page_says_hello": [("setup", "passed"), ("call", "passed"), ("teardown", "passed")],
        "test_site.py::test_page_says_goodbye": [("setup", "passed"), ("call", "failed"), ("teardown", "passed")],
    }, passed[1]["reports"][1].get("longrepr")
    prefix = "runs/e2e/test_site.py/test_page_says_goodbye/"
    expected = [prefix + "failure-screenshot.png", prefix + "failure-page.html", prefix + "failure-console.log"]
    assert failed[1]["artifacts"] == expected and passed[1]["artifacts"] == []
    stored = {key: s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in expected}
    assert stored[prefix + "failure-screenshot.png"].startswith(b"\x89PNG")
    assert b"<h1>hello</h1>" in stored[prefix + "failure-page.html"]
    assert b"broken widget" in stored[prefix + "failure-console.log"]
    assert [(r.outcome, r.nodeids) for r in records] == [
        ("success", ("test_site.py::test_page_says_hello",)), ("success", ("test_site.py::test_page_says_goodbye",)),
    ]
