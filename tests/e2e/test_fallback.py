"""``pytest --lambda --lambda-fallback=local`` end to end: the local Lambda dies mid-run, the
breaker stops dispatching, and the rest of the suite runs on local Chromium in the same pytest.

boto3 -> local Lambda (the real handler under awslambdaric) -> Chromium -> loopback S3, then
local Chromium for what Lambda could not run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from stand_ins.services import AWS_TEST_ENV, LoopbackS3, scoped_environ, wait_http
from tests.conftest import REPO
from tests.e2e.test_lambda_end_to_end import _cases, _outcome, _props
from tests.support.procs import kill_stand_in

pytestmark = pytest.mark.e2e

#: In the function, test_1 saves a screenshot (the signal: test_0 was answered, test_1 runs)
#: and then waits to be killed with its environment; on local Chrome it passes at once.
SUITE = """
import os
import time


def _heading(browser, text):
    browser.get(f"data:text/html,<title>{text}</title><h1>{text}</h1>")
    return browser.find_element("css selector", "h1").text


def test_0_on_lambda(browser):
    assert _heading(browser, "zero") == "zero"


def test_1_in_flight_when_lambda_dies(browser, artifacts):
    assert _heading(browser, "one") == "one"
    artifacts.screenshot("one")
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        time.sleep(25)


def test_2_queued(browser):
    assert _heading(browser, "two") == "two"


def test_3_queued(browser):
    assert browser.execute_script("return 6 * 7") == 42
"""


def _kill_when_test_1_runs(server: subprocess.Popen[bytes], s3: Any, bucket: str, killed: threading.Event, port: int, held: list[socket.socket]) -> None:
    """Kill the stand-in and its environments at once (as a crash would) once test_1's screenshot reached S3.

    Its port stays bound (``held``), so the client's next connections are refused, not taken by another server.
    """
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and server.poll() is None:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix="runs/")
        if any("test_1_in_flight_when_lambda_dies" in o["Key"] for o in listed.get("Contents", [])):
            held.append(kill_stand_in(server, port))
            killed.set()
            return
        time.sleep(0.1)


def test_the_rest_runs_on_local_chrome_when_lambda_dies(loopback_s3: LoopbackS3, tmp_path: Path) -> None:
    work = tmp_path / "suite"
    work.mkdir()
    (work / "test_ui.py").write_text(SUITE)
    bucket = f"fallback-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **AWS_TEST_ENV, "AWS_ENDPOINT_URL_S3": loopback_s3.endpoint}
    with scoped_environ(**AWS_TEST_ENV):
        s3 = boto3.client("s3", endpoint_url=loopback_s3.endpoint)
    s3.create_bucket(Bucket=bucket)
    ready = tmp_path / "lambda.url"
    server = subprocess.Popen(
        [sys.executable, "-m", "lambda_ui.cli.local_lambda", "--template", os.path.join(REPO, "template.yaml"), "--port", "0",
         "--ready-file", str(ready), "--prestart", "1", "--timeout", "40", "--concurrency", "2", "-q"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    killed = threading.Event()
    held: list[socket.socket] = []
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.1)
        assert ready.exists(), "the local Lambda did not start"
        endpoint = ready.read_text().strip()
        wait_http(endpoint + "/")
        watcher = threading.Thread(target=_kill_when_test_1_runs, args=(server, s3, bucket, killed, urlsplit(endpoint).port, held), daemon=True)
        watcher.start()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "--lambda", "--lambda-function=UiTestFunction", f"--artifacts=s3://{bucket}/runs",
             "--lambda-fallback=local", "--lambda-concurrency=1", "--junitxml=r.xml", "-p", "no:cacheprovider"],
            cwd=work, env={**env, "AWS_ENDPOINT_URL_LAMBDA": endpoint}, capture_output=True, text=True, timeout=600,
        )
        watcher.join(10)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for holder in held:
            holder.close()
    assert killed.is_set(), "test_1 never ran on the local Lambda"
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    cases = {name: case for (_cls, name), case in _cases(work / "r.xml").items()}
    assert set(cases) == {"test_0_on_lambda", "test_1_in_flight_when_lambda_dies", "test_2_queued", "test_3_queued"}
    assert all(_outcome(case) == ("passed", "") for case in cases.values()), {n: _outcome(c) for n, c in cases.items()}
    first = _props(cases["test_0_on_lambda"])
    assert "lambda_fallback" not in first and first["lambda_request_ids"] and first["chrome_version"]
    for name in ("test_1_in_flight_when_lambda_dies", "test_2_queued", "test_3_queued"):
        props = _props(cases[name])
        assert props["lambda_fallback"] == "local", (name, props)
        # Nothing listens any more: the breaker gave up on every test left after three refusals in a row.
        assert props["lambda_fallback_cause"].startswith("Lambda unreachable: connection lost: EndpointConnectionError"), props
        assert props["lambda_fallback_cause"].endswith(f"3 invocations in a row could not connect to {endpoint}"), props
    # The local run saved its screenshot where a plain local run would: the same S3 destination.
    shot = _props(cases["test_1_in_flight_when_lambda_dies"])["artifact:one.png"]
    assert shot.startswith(f"s3://{bucket}/runs/")
    assert s3.get_object(Bucket=bucket, Key=shot[len(f"s3://{bucket}/") :])["Body"].read().startswith(b"\x89PNG")
    assert "fell back to local Chrome: 3 test(s) (Lambda unreachable)" in result.stdout, result.stdout[-3000:]
    assert "Lambda unreachable: 3 invocations in a row could not connect to" in result.stdout
