"""The fault matrix: every fault the issue names, each ending with every selected test
reported exactly once, its cause readable, and its artifacts kept.

boto3 -> local Lambda (the real handler under awslambdaric) -> Chromium -> loopback S3, as in
test_lambda_end_to_end.py. Most faults share one stand-in; those that need other function
settings (a memory limit, a reserved concurrency of 2, a slow init, a stand-in to kill)
start their own.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest

from lambda_ui.local_lambda import (
    FunctionConfig,
    InvocationRecord,
    LocalLambda,
    Options,
    load_function_config,
    with_overrides,
)
from stand_ins.services import (
    AWS_TEST_ENV,
    EXPECTED_CREDENTIALS,
    LoopbackS3,
    scoped_environ,
    wait_http,
)
from tests.conftest import REPO
from tests.e2e.test_lambda_end_to_end import Stack, _cases, _outcome, _props
from tests.support.procs import kill_stand_in, port_users
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e

TEMPLATE = os.path.join(REPO, "template.yaml")
#: The shared function: short enough that a real Lambda timeout costs little.
TIMEOUT_S = 15
#: LAMBDA_UI_DEADLINE_MARGIN_S: the handler stops a test this long before the timeout.
MARGIN_S = 4
SLOW_INIT = "stand_ins.functions.slow_init.handler"


def _config(**changes: Any) -> FunctionConfig:
    return with_overrides(load_function_config(TEMPLATE), **changes)


@contextmanager
def _stack(s3: LoopbackS3, config: FunctionConfig, options: Options) -> Iterator[Stack]:
    """A bucket of its own and a stand-in that hands our loopback S3 to its environments."""
    bucket = f"faults-{uuid.uuid4().hex[:10]}"
    with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=s3.endpoint, LAMBDA_UI_DEADLINE_MARGIN_S=str(MARGIN_S)):
        boto3.client("s3", endpoint_url=s3.endpoint).create_bucket(Bucket=bucket)
        with LocalLambda(config, options) as lam:
            yield Stack(s3, bucket, lam)


@pytest.fixture(scope="module")
def stack(loopback_s3: LoopbackS3) -> Iterator[Stack]:
    with _stack(loopback_s3, _config(timeout=TIMEOUT_S, concurrency=3), Options(port=0, prestart=2, expect_credentials=EXPECTED_CREDENTIALS)) as shared:
        yield shared


def _suite(tmp_path: Path, module: str, source: str) -> Path:
    work = tmp_path / "suite"
    work.mkdir()
    (work / f"{module}.py").write_text(textwrap.dedent(source))
    return work


def _run_id(case: str) -> str:
    return f"{case}-{uuid.uuid4().hex[:8]}"


def _every_test_once(xml: Path, expected: set[str]) -> dict[str, ET.Element]:
    """The JUnit file lists each selected test exactly once (``_cases`` rejects duplicates)."""
    cases = _cases(xml)
    names = sorted(name for _cls, name in cases)
    assert names == sorted(expected), f"reported {names}, selected {sorted(expected)}"
    return {name: case for (_cls, name), case in cases.items()}


def _records(lam: LocalLambda, run_id: str, test: str | None = None) -> list[InvocationRecord]:
    return [r for r in lam.invocations if r.run_id == run_id and (test is None or (r.nodeids or ("",))[0].endswith(f"::{test}"))]


def _warnings(case: ET.Element) -> list[str]:
    return [p.get("value", "") for p in case.findall("./properties/property") if p.get("name") == "artifact_warning"]


def _artifacts_in_s3(s3: LoopbackS3, case: ET.Element) -> dict[str, bytes]:
    """Every artifact the test case links, read back from S3 (a missing object raises)."""
    return {name.removeprefix("artifact:"): _s3_object(s3, url) for name, url in _props(case).items() if name.startswith("artifact:")}


def _wait_for(what: str, check: Callable[[], bool], timeout: float) -> None:
    if not wait_until(check, timeout, interval=0.1):
        raise AssertionError(f"not within {timeout:.0f} s: {what}")


def _s3_object(s3: LoopbackS3, url: str) -> bytes:
    bucket, _, key = url.removeprefix("s3://").partition("/")
    return bytes(boto3.client("s3", endpoint_url=s3.endpoint).get_object(Bucket=bucket, Key=key)["Body"].read())


def _explain(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout[-3000:] + result.stderr[-2000:]


# -- on the shared stand-in -----------------------------------------------------------------


def test_lambda_timeout_by_deadline_and_by_the_service(stack: Stack, tmp_path: Path) -> None:
    """(a) the handler stops the test before the timeout and keeps deadline-* artifacts;
    (b) with the deadline's signal blocked it cannot, and Lambda's own timeout ends the invocation."""
    work = _suite(tmp_path, "test_timeouts", """
        import signal
        import time

        from lambda_ui.function.deadline import DEADLINE_SIGNAL

        def test_fine():
            pass

        def test_sleeps_past_the_deadline(browser):
            browser.get("data:text/html,<h1>still waiting</h1>")
            time.sleep(60)

        def test_blocks_the_deadline():
            signal.pthread_sigmask(signal.SIG_BLOCK, {DEADLINE_SIGNAL})
            time.sleep(60)
    """)
    run_id = _run_id("timeout")
    result = stack.pytest("--junitxml=r.xml", "--lambda-retries=0", f"--run-id={run_id}", cwd=str(work))
    assert result.returncode == 1, _explain(result)
    cases = _every_test_once(work / "r.xml", {"test_fine", "test_sleeps_past_the_deadline", "test_blocks_the_deadline"})
    assert _outcome(cases["test_fine"]) == ("passed", "")

    kind, message = _outcome(cases["test_sleeps_past_the_deadline"])
    assert kind == "failure" and "timed out in Lambda after" in message and "deadline-* artifacts" in message, (kind, message)
    saved = _artifacts_in_s3(stack.s3, cases["test_sleeps_past_the_deadline"])
    assert sorted(saved) == ["deadline-console.log", "deadline-page.html", "deadline-screenshot.png"], sorted(saved)
    assert saved["deadline-screenshot.png"].startswith(b"\x89PNG") and b"still waiting" in saved["deadline-page.html"]
    assert _props(cases["test_sleeps_past_the_deadline"])["artifact:deadline-page.html"].startswith(f"s3://{stack.bucket}/runs/{run_id}/")

    kind, message = _outcome(cases["test_blocks_the_deadline"])
    # The stand-in reports the time measured, 15.00 s or a little more on a busy machine.
    assert kind == "error" and re.search(rf"Lambda timeout: Task timed out after {TIMEOUT_S}\.\d\d seconds", message), (kind, message)
    assert "infrastructure failure after 1 attempt(s)" in message and _props(cases["test_blocks_the_deadline"])["lambda_attempts"] == "1"
    assert [r.outcome for r in _records(stack.lam, run_id, "test_blocks_the_deadline")] == ["timeout"]


def test_a_conftest_that_hangs_is_each_test_s_error_not_an_infrastructure_retry(stack: Stack, tmp_path: Path) -> None:
    """A session start that never ends (an app under test that never comes up) costs each test
    one invocation cut at the deadline, with a message that says what to do."""
    work = _suite(tmp_path, "test_behind_a_hung_start", """
        def test_one():
            pass

        def test_two():
            pass
    """)
    # An app reachable from CI but not from the function's network: the wait hangs only in Lambda.
    (work / "conftest.py").write_text(
        "import os\nimport time\n\ndef pytest_configure(config):\n"
        "    if os.environ.get('AWS_LAMBDA_FUNCTION_NAME'):\n        time.sleep(120)\n"
    )
    run_id = _run_id("hung-start")
    result = stack.pytest("--junitxml=r.xml", f"--run-id={run_id}", cwd=str(work))
    assert result.returncode == 1, _explain(result)
    cases = _every_test_once(work / "r.xml", {"test_one", "test_two"})
    for name, case in cases.items():
        kind, message = _outcome(case)
        cut = re.search(r"timed out in Lambda after (\d+) s before the test began", message)
        # The function's time minus the margin, less what passed before the handler began and give
        # or take a late signal on a loaded machine; the stand-in's own timeout would say 15 s.
        assert kind == "error" and cut and TIMEOUT_S - MARGIN_S - 3 <= int(cut.group(1)) <= TIMEOUT_S - MARGIN_S + 1, (name, kind, message)
        assert "longer Timeout" in message and _props(case)["lambda_attempts"] == "1", (name, message, _props(case))
    assert [r.outcome for r in _records(stack.lam, run_id)] == ["success", "success"], "no Lambda timeout, no retry"


def test_chrome_and_chromedriver_crash_mid_test(stack: Stack, tmp_path: Path) -> None:
    """A crashed browser fails its own test only; the next test, in the same environment, gets a new one."""
    work = _suite(tmp_path, "test_crashes", """
        import os
        import signal

        import psutil

        def _kill(pids):
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass  # Chrome's helpers exit on their own once the browser process dies

        def test_1_chrome_crashes(browser):
            browser.get("data:text/html,<h1>before the crash</h1>")
            _kill([p.pid for p in psutil.Process(browser.service.process.pid).children(recursive=True)])
            browser.get("data:text/html,<h1>after the crash</h1>")

        def test_2_after_chrome(browser):
            browser.get("data:text/html,<h1>two</h1>")
            assert browser.find_element("tag name", "h1").text == "two"

        def test_3_chromedriver_crashes(browser):
            browser.get("data:text/html,<h1>three</h1>")
            _kill([browser.service.process.pid])
            browser.get("data:text/html,<h1>after the driver</h1>")

        def test_4_after_chromedriver(browser):
            browser.get("data:text/html,<h1>four</h1>")
            assert browser.find_element("tag name", "h1").text == "four"
    """)
    result = stack.pytest("--junitxml=r.xml", "--lambda-concurrency=1", cwd=str(work))
    assert result.returncode == 1, _explain(result)
    names = {"test_1_chrome_crashes", "test_2_after_chrome", "test_3_chromedriver_crashes", "test_4_after_chromedriver"}
    cases = _every_test_once(work / "r.xml", names)
    outcomes = {name: _outcome(case) for name, case in cases.items()}
    assert outcomes["test_2_after_chrome"] == outcomes["test_4_after_chromedriver"] == ("passed", ""), outcomes
    assert len({_props(case)["lambda_environment_id"] for case in cases.values()}) == 1, "one environment ran all four"
    kind, message = outcomes["test_1_chrome_crashes"]
    assert kind == "failure" and message.startswith("selenium.common.exceptions."), (kind, message)
    kind, message = outcomes["test_3_chromedriver_crashes"]
    # chromedriver is gone: the next WebDriver command cannot connect (refused, or a reset keep-alive connection).
    assert kind == "failure" and message.startswith("urllib3.exceptions.") and "Connection" in message, (kind, message)
    for name in ("test_1_chrome_crashes", "test_3_chromedriver_crashes"):
        # Whatever the handler could still capture is in S3; what it could not is a warning that says why.
        saved = _artifacts_in_s3(stack.s3, cases[name])
        assert "failure-console.log" in saved, saved
        for artifact in ("failure-screenshot.png", "failure-page.html"):
            assert artifact in saved or any(w.startswith(f"{artifact} not captured: ") for w in _warnings(cases[name])), (name, artifact)


def test_a_read_timeout_shorter_than_the_test_never_runs_it_twice(stack: Stack, tmp_path: Path) -> None:
    work = _suite(tmp_path, "test_read_timeout", """
        import time

        def test_quick():
            pass

        def test_outlasts_the_read_timeout():
            time.sleep(6)
    """)
    run_id = _run_id("readtimeout")
    result = stack.pytest("--junitxml=r.xml", "--lambda-read-timeout=2", "--lambda-retries=2", f"--run-id={run_id}", cwd=str(work))
    assert result.returncode == 1, _explain(result)
    cases = _every_test_once(work / "r.xml", {"test_quick", "test_outlasts_the_read_timeout"})
    assert _outcome(cases["test_quick"]) == ("passed", "")
    kind, message = _outcome(cases["test_outlasts_the_read_timeout"])
    assert kind == "error" and "no answer within the client's read timeout" in message and "not retried" in message, (kind, message)
    assert _props(cases["test_outlasts_the_read_timeout"])["lambda_attempts"] == "1"
    # The client is gone; the one invocation it started still ends in the stand-in.
    _wait_for("the slow test's invocation ends", lambda: bool(_records(stack.lam, run_id, "test_outlasts_the_read_timeout")), 15)
    assert [r.outcome for r in _records(stack.lam, run_id, "test_outlasts_the_read_timeout")] == ["success"], "zero duplicate executions"


def test_a_response_over_6_mb_is_spilled_to_s3_and_fetched(stack: Stack, tmp_path: Path) -> None:
    """The handler never answers over Lambda's 6 MB limit: it spills the answer to S3."""
    work = _suite(tmp_path, "test_big", """
        def test_prints_7_mb():
            print("x" * (7 << 20))

        def test_fine():
            pass
    """)
    run_id = _run_id("oversize")
    result = stack.pytest("--junitxml=r.xml", "-o", "junit_logging=system-out", f"--run-id={run_id}", cwd=str(work))
    assert result.returncode == 0, _explain(result)
    cases = _every_test_once(work / "r.xml", {"test_prints_7_mb", "test_fine"})
    assert _outcome(cases["test_prints_7_mb"]) == _outcome(cases["test_fine"]) == ("passed", "")
    assert "x" * (7 << 20) in (cases["test_prints_7_mb"].findtext("system-out") or ""), "the test's output is preserved"
    listed = boto3.client("s3", endpoint_url=stack.s3.endpoint).list_objects_v2(Bucket=stack.bucket, Prefix=f"runs/{run_id}/_responses/")
    assert [o["Size"] > 7 << 20 for o in listed.get("Contents", [])] == [True], listed.get("Contents")
    assert sorted(r.outcome for r in _records(stack.lam, run_id)) == ["success", "success"]


def test_a_failed_screenshot_upload_is_a_warning(stack: Stack, tmp_path: Path) -> None:
    """The test deletes its artifacts bucket, then takes a screenshot: it still passes."""
    bucket = f"faults-doomed-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=stack.s3.endpoint).create_bucket(Bucket=bucket)
    work = _suite(tmp_path, "test_upload", f"""
        import boto3
        from botocore.config import Config

        BUCKET = {bucket!r}

        def test_a_quick():
            pass

        def test_b_loses_its_bucket(browser, artifacts):
            browser.get("data:text/html,<h1>the bucket goes away</h1>")
            s3 = boto3.client("s3", config=Config(s3={{"addressing_style": "path"}}))  # AWS_ENDPOINT_URL_S3: the loopback S3
            objects = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
            if objects:
                s3.delete_objects(Bucket=BUCKET, Delete={{"Objects": [{{"Key": o["Key"]}} for o in objects]}})
            s3.delete_bucket(Bucket=BUCKET)
            assert artifacts.screenshot("after") is not None  # the upload fails in the background
    """)
    # Concurrency 1: the quick test has fetched the bundle (in that bucket) before it goes.
    result = stack.pytest("--junitxml=r.xml", f"--artifacts=s3://{bucket}/runs", "--lambda-concurrency=1", cwd=str(work))
    assert result.returncode == 0, _explain(result)
    cases = _every_test_once(work / "r.xml", {"test_a_quick", "test_b_loses_its_bucket"})
    assert _outcome(cases["test_a_quick"]) == _outcome(cases["test_b_loses_its_bucket"]) == ("passed", "")
    warnings = _warnings(cases["test_b_loses_its_bucket"])
    assert any(re.search(rf"upload of s3://{bucket}/runs/\S+/after\.png failed: .*does not exist", w) for w in warnings), warnings
    assert "lambda-ui artifact warnings" in result.stdout and "test_upload.py::test_b_loses_its_bucket: upload of" in result.stdout, result.stdout[-3000:]


def test_sigterm_to_the_client_lists_every_test(stack: Stack, tmp_path: Path) -> None:
    """CI cancels the job: the client stops at once and the JUnit still names every test."""
    longs = [f"test_long_{n}" for n in range(1, 5)]
    work = _suite(tmp_path, "test_cancelled", "def test_0_quick():\n    pass\n" + "".join(
        f"\ndef {name}():\n    __import__('time').sleep(8)\n" for name in longs
    ))
    replayed = tmp_path / "replayed-test_0_quick"
    (work / "conftest.py").write_text(textwrap.dedent("""
        import os

        def pytest_runtest_logfinish(nodeid, location):
            flag = os.environ.get("REPLAYED_FLAG")  # set for the client only, not in the function
            if flag and nodeid.endswith("::test_0_quick"):
                open(flag, "w").close()
    """))
    run_id = _run_id("sigterm")
    command = [sys.executable, "-m", "pytest", "--lambda", "--lambda-function=UiTestFunction", f"--artifacts=s3://{stack.bucket}/runs",
               "--junitxml=r.xml", "-p", "no:cacheprovider", f"--run-id={run_id}"]
    env = {**stack.env(), "REPLAYED_FLAG": str(replayed)}
    proc = subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for("the client replays the quick test", replayed.exists, 60)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        # Stopping at once means: before any in-flight test (8 s each) has ended in the function.
        ended_first = [r for name in longs for r in _records(stack.lam, run_id, name)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2, out[-3000:]
    assert ended_first == [], "the client waited for tests in flight to end before it stopped"
    cases = _every_test_once(work / "r.xml", {"test_0_quick", *longs})
    assert _outcome(cases["test_0_quick"]) == ("passed", "")
    for name in longs:
        kind, message = _outcome(cases[name])
        assert kind == "error" and "run aborted" in message, (name, kind, message)
    assert all(len(_records(stack.lam, run_id, name)) <= 1 for name in longs)


# -- on stand-ins of their own ------------------------------------------------------------------


@dataclass
class Finished:
    """One finished ``pytest --lambda`` run: its process, its JUnit cases by name, the stand-in's records."""

    result: subprocess.CompletedProcess[str]
    cases: dict[str, ET.Element]
    records: list[InvocationRecord]


@pytest.fixture(scope="module")
def out_of_memory(loopback_s3: LoopbackS3, tmp_path_factory: pytest.TempPathFactory) -> Finished:
    """A test that allocates 1.5 GB in a function of 1024 MB (idle, the handler uses about
    70 MB), on a stand-in that enforces MemorySize; one infrastructure retry."""
    work = _suite(tmp_path_factory.mktemp("oom"), "test_memory", """
        import time

        def test_fine():
            pass

        def test_allocates_1536_mb():
            block = b"\\x01" * (1536 << 20)  # touches every page
            time.sleep(2)
            assert block
    """)
    config = _config(timeout=TIMEOUT_S, concurrency=2, memory_mb=1024)
    run_id = _run_id("oom")
    with _stack(loopback_s3, config, Options(port=0, prestart=2, enforce_memory=True)) as own:
        result = own.pytest("--junitxml=r.xml", "--lambda-retries=1", f"--run-id={run_id}", cwd=str(work))
        records = _records(own.lam, run_id, "test_allocates_1536_mb")
    assert result.returncode == 1, _explain(result)
    return Finished(result, _every_test_once(work / "r.xml", {"test_fine", "test_allocates_1536_mb"}), records)


def test_out_of_memory_is_retried_then_reported_with_its_cause(out_of_memory: Finished) -> None:
    """The stand-in kills an environment over MemorySize, as Lambda does: Runtime.ExitError."""
    cases = out_of_memory.cases
    assert _outcome(cases["test_fine"]) == ("passed", "")
    assert 0 < float(_props(cases["test_fine"])["lambda_max_memory_mb"]) < 1024
    kind, message = _outcome(cases["test_allocates_1536_mb"])
    assert kind == "error" and "infrastructure failure after 2 attempt(s)" in message, (kind, message)
    assert message.count("Runtime.ExitError") == 2 and "Runtime exited with error: signal: killed" in message, message
    props = _props(cases["test_allocates_1536_mb"])
    assert props["lambda_attempts"] == "2" and len(props["lambda_request_ids"].split(",")) == 2, props
    assert [r.outcome for r in out_of_memory.records] == ["exit", "exit"]


def test_out_of_memory_says_memory_ran_out(out_of_memory: Finished) -> None:
    _kind, message = _outcome(out_of_memory.cases["test_allocates_1536_mb"])
    assert "out of memory" in message, message


def test_a_429_storm_never_fails_or_duplicates_a_test(loopback_s3: LoopbackS3, tmp_path: Path) -> None:
    """20 tests, 20 in flight asked, the function reserved at 2."""
    work = _suite(tmp_path, "test_storm", """
        import time

        import pytest

        @pytest.mark.parametrize("n", range(20))
        def test_step(n):
            time.sleep(0.2)
    """)
    run_id = _run_id("storm")
    with _stack(loopback_s3, _config(timeout=TIMEOUT_S, concurrency=2), Options(port=0, prestart=2)) as own:
        result = own.pytest("--junitxml=r.xml", "--lambda-concurrency=20", f"--run-id={run_id}", cwd=str(work))
        records = _records(own.lam, run_id)
    assert result.returncode == 0, _explain(result)
    expected = {f"test_step[{n}]" for n in range(20)}
    cases = _every_test_once(work / "r.xml", expected)
    assert all(_outcome(case) == ("passed", "") for case in cases.values())
    throttled = int(re.findall(r", (\d+) throttled, ", result.stdout)[-1])
    assert throttled > 0, result.stdout[-2000:]
    assert sorted(r.nodeids[0].split("::")[1] for r in records if r.outcome == "success") == sorted(expected), "one successful invocation per test"
    assert {r.outcome for r in records} == {"success", "throttled"}
    assert sum(r.outcome == "throttled" for r in records) == throttled


def test_connection_loss_mid_invocation(loopback_s3: LoopbackS3, tmp_path: Path) -> None:
    """The whole stand-in dies while a long test runs: the in-flight and queued tests end as
    infrastructure errors, the finished one keeps its result, every test is listed once."""
    work = _suite(tmp_path, "test_lost", """
        import time

        def test_0_quick():
            pass

        def test_1_in_flight():
            time.sleep(30)

        def test_2_queued():
            pass

        def test_3_queued():
            pass
    """)
    bucket = f"faults-lost-{uuid.uuid4().hex[:8]}"
    with scoped_environ(**AWS_TEST_ENV):  # runs alone too, not only beside the module's stack
        boto3.client("s3", endpoint_url=loopback_s3.endpoint).create_bucket(Bucket=bucket)
    ready, log, console = tmp_path / "lambda.url", tmp_path / "invocations.jsonl", tmp_path / "console.log"
    env = {**os.environ, **AWS_TEST_ENV, "AWS_ENDPOINT_URL_S3": loopback_s3.endpoint}
    with console.open("wb") as out:  # its START lines say when an invocation begins
        server = subprocess.Popen(
            [sys.executable, "-m", "lambda_ui.cli.local_lambda", "--template", TEMPLATE, "--port", "0", "--ready-file", str(ready), "--prestart", "1",
             "--timeout", str(TIMEOUT_S), "--concurrency", "2", "--invocation-log", str(log)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    client = None
    port_holder = None
    try:
        _wait_for("the stand-in serves", ready.exists, 60)
        endpoint = ready.read_text().strip()
        wait_http(endpoint + "/")
        client = subprocess.Popen(
            [sys.executable, "-m", "pytest", "--lambda", "--lambda-function=UiTestFunction", f"--artifacts=s3://{bucket}/runs",
             "--junitxml=r.xml", "-p", "no:cacheprovider", "--lambda-concurrency=1", "--lambda-retries=1",
             "--lambda-breaker=0"],  # each test's own retries here; the breaker: tests/e2e/test_fallback.py
            cwd=work, env={**env, "AWS_ENDPOINT_URL_LAMBDA": endpoint}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        _wait_for("the quick test is answered", lambda: "test_0_quick" in log.read_text(), 60)
        _wait_for("test_1_in_flight is invoked", lambda: console.read_text(errors="replace").count("START RequestId:") >= 2, 60)
        # Its port stays held: a server the other xdist worker starts could take it and then
        # hold the retry unanswered (seen once in CI: a 60 s timeout, not a refusal).
        port = urlsplit(endpoint).port
        assert port is not None, endpoint
        port_holder = kill_stand_in(server, port)
        try:
            out, _ = client.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            client.kill()
            out, _ = client.communicate()
            # Seen once under a full suite: the retry held unanswered. Say who had the port.
            pytest.fail(f"the client still ran 60 s after the stand-in died; on port {port}: {port_users(port)}\n{out[-3000:]}")
    finally:
        for process in (client, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        if port_holder is not None:
            port_holder.close()
    assert client.returncode == 1, out[-3000:]
    cases = _every_test_once(work / "r.xml", {"test_0_quick", "test_1_in_flight", "test_2_queued", "test_3_queued"})
    assert _outcome(cases["test_0_quick"]) == ("passed", "")
    for name in ("test_1_in_flight", "test_2_queued", "test_3_queued"):
        kind, message = _outcome(cases[name])
        assert kind == "error" and "infrastructure failure after 2 attempt(s)" in message and "connection lost" in message, (name, kind, message)
    # The in-flight invocation lost its connection mid-answer; its retry found nobody listening.
    assert re.search(r"attempt 1: connection lost: ConnectionClosedError: the server closed the connection [^;]*; attempt 2: connection lost: EndpointConnectionError: cannot connect to 127\.0\.0\.1:\d+", _outcome(cases["test_1_in_flight"])[1])


def test_a_slow_init_costs_time_not_a_test(loopback_s3: LoopbackS3, tmp_path: Path) -> None:
    """The handler's module sleeps 5 s at import: the cold test is slower and still passes."""
    work = _suite(tmp_path, "test_cold", """
        import time

        def test_a():
            time.sleep(1)

        def test_b():
            time.sleep(1)
    """)
    config = _config(timeout=TIMEOUT_S, concurrency=2, handler=SLOW_INIT, env={"FAULT_SLOW_INIT_S": "5"})
    with _stack(loopback_s3, config, Options(port=0)) as own:
        result = own.pytest("--junitxml=r.xml", "--lambda-concurrency=2", cwd=str(work))
        records = list(own.lam.invocations)
    assert result.returncode == 0, _explain(result)
    cases = _every_test_once(work / "r.xml", {"test_a", "test_b"})
    assert all(_outcome(case) == ("passed", "") for case in cases.values())
    # The client's image check took the first cold start; the two tests then needed two environments.
    props = {name: _props(case) for name, case in cases.items()}
    cold = [p for p in props.values() if p["lambda_cold"] == "True"]
    warm = [p for p in props.values() if p["lambda_cold"] == "False"]
    assert len(cold) == len(warm) == 1, props
    assert float(cold[0]["lambda_init_ms"]) >= 5000 and "lambda_init_ms" not in warm[0], props
    assert float(cold[0]["wall_s"]) > float(warm[0]["wall_s"]) + 4, props
    assert [r.cold for r in records].count(True) == 2, "the image check's cold start, then the cold test's"
