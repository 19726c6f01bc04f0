"""The breaker (stop dispatching once the endpoint is gone) and ``--lambda-fallback=local``.

The scripted Invoke API's ``goodbye`` test passes, then the fake stops listening:
every later connection is refused, as when the service or the local Lambda dies.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lambda_ui.runner.aws.http1 import ConnectFailed, Http1Client
from lambda_ui.runner.scheduler import Scheduler
from stand_ins.fake_invoke_api import FakeInvokeApi

HEAD = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n"


def _args(bucket: str, *extra: str) -> list[str]:
    return ["--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs", "--junitxml=r.xml", "--lambda-concurrency=1", *extra]


def _run(pytester: pytest.Pytester, bucket: str, *extra: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*_args(bucket, *extra))


def _cases(path: Path) -> dict[str, ET.Element]:
    cases = list(ET.parse(path).getroot().iter("testcase"))
    names = [c.get("name", "") for c in cases]
    assert len(names) == len(set(names)), f"a test was reported more than once: {names}"
    return dict(zip(names, cases, strict=True))


def _outcome(case: ET.Element) -> tuple[str, str]:
    """The outcome and its message (an error's own text, without junitxml's 'failed on setup with "…"')."""
    for tag in ("failure", "error", "skipped"):
        element = case.find(tag)
        if element is not None:
            message = element.get("message", "")
            if tag == "error" and message.startswith('failed on setup with "'):
                message = message.removeprefix('failed on setup with "').removesuffix('"')
            return tag, message
    return "passed", ""


def _props(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.findall("./properties/property")}


def _count_connects(pytester: pytest.Pytester, api: FakeInvokeApi) -> Path:
    """A conftest that logs the time of every connection attempt to the fake's port, at the socket."""
    log = pytester.path / "connects.log"
    port = int(api.endpoint.rsplit(":", 1)[1])
    pytester.makeconftest(
        f"""
        import socket, time

        _connect = socket.socket.connect

        def _logged(self, address):
            if isinstance(address, tuple) and tuple(address[:2]) == ("127.0.0.1", {port}):
                with open({str(log)!r}, "a") as out:
                    out.write(f"{{time.time()}}\\n")
            return _connect(self, address)

        socket.socket.connect = _logged
        """
    )
    return log


def _suite(pytester: pytest.Pytester, *bodies: tuple[str, str]) -> None:
    """``test_0_goodbye`` (answered by the fake, which then stops), then the named tests; each
    body that runs here leaves a file ``ran-<name>``, so a local run is visible."""
    lines = ["import pathlib, time", "", "def test_0_goodbye():", "    pathlib.Path('ran-test_0_goodbye').touch()", ""]
    for name, body in bodies:
        lines += [f"def {name}():", f"    pathlib.Path('ran-{name}').touch()", *(f"    {line}" for line in body.splitlines()), ""]
    pytester.makepyfile(test_gone="\n".join(lines))


def test_the_breaker_stops_dispatching_when_the_endpoint_is_gone(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    log = _count_connects(pytester, fake_lambda)
    _suite(pytester, *((f"test_{n}", "pass") for n in range(1, 7)))
    result = _run(pytester, bucket, "--lambda-retries=5")
    assert result.ret == 1, result.stdout.str()[-3000:]
    assert fake_lambda.state.stopped_at is not None and [c.nodeid for c in fake_lambda.state.calls] == ["test_gone.py::test_0_goodbye"]
    # Once nothing listened, three connection attempts (the breaker's size), not six tests times six attempts.
    after_stop = [float(t) for t in log.read_text().split() if float(t) > fake_lambda.state.stopped_at]
    assert 1 <= len(after_stop) <= 3, after_stop
    cases = _cases(pytester.path / "r.xml")
    assert set(cases) == {"test_0_goodbye", *(f"test_{n}" for n in range(1, 7))}
    assert _outcome(cases["test_0_goodbye"]) == ("passed", "")
    endpoint = fake_lambda.endpoint
    for n in range(1, 7):
        kind, message = _outcome(cases[f"test_{n}"])
        assert kind == "error", (n, kind, message)
        assert message.startswith(f"Lambda unreachable: connection lost: EndpointConnectionError: cannot connect to {endpoint[7:]}: "), message
        assert message.endswith(f"; 3 invocations in a row could not connect to {endpoint}"), message
        props = _props(cases[f"test_{n}"])
        assert "lambda_fallback" not in props
        assert (props["nodeid"], props["lambda_outcome"], props["lambda_cause"]) == (f"test_gone.py::test_{n}", "infra", "unreachable")
    assert _props(cases["test_0_goodbye"])["lambda_outcome"] == "passed"
    result.stdout.fnmatch_lines([f"*Lambda unreachable: 3 invocations in a row could not connect to {endpoint}; dispatching stopped*"])
    assert not list(pytester.path.glob("ran-*"))  # nothing ran here


def test_breaker_zero_spends_every_test_s_retries(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    log = _count_connects(pytester, fake_lambda)
    _suite(pytester, *((f"test_{n}", "pass") for n in range(1, 4)))
    result = _run(pytester, bucket, "--lambda-retries=1", "--lambda-breaker=0")
    assert result.ret == 1
    assert len([t for t in log.read_text().split() if float(t) > (fake_lambda.state.stopped_at or 0)]) >= 5
    cases = _cases(pytester.path / "r.xml")
    for n in (2, 3):
        assert "infrastructure failure after 2 attempt(s)" in _outcome(cases[f"test_{n}"])[1]
    assert "dispatching stopped" not in result.stdout.str()


def test_unreachable_tests_fall_back_to_local_chrome(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    _suite(pytester, ("test_1", "pass"), ("test_2", "pass"), ("test_3_broken", "assert 1 == 2"), ("test_4", "pass"))
    result = _run(pytester, bucket, "--lambda-retries=5", "--lambda-fallback=local")
    assert result.ret == 1, result.stdout.str()[-3000:]
    result.assert_outcomes(passed=4, failed=1)
    cases = _cases(pytester.path / "r.xml")
    assert set(cases) == {"test_0_goodbye", "test_1", "test_2", "test_3_broken", "test_4"}
    assert _outcome(cases["test_0_goodbye"]) == ("passed", "") and "lambda_fallback" not in _props(cases["test_0_goodbye"])
    for name in ("test_1", "test_2", "test_3_broken", "test_4"):
        props = _props(cases[name])
        assert props["lambda_fallback"] == "local", name
        assert props["lambda_fallback_cause"].startswith("Lambda unreachable: connection lost"), props
        assert (pytester.path / f"ran-{name}").exists(), name
        # The outcome is the local run's; no infrastructure cause.
        assert props["nodeid"] == f"test_gone.py::{name}" and "lambda_cause" not in props, props
        assert props["lambda_outcome"] == ("failed" if name == "test_3_broken" else "passed"), props
    assert _outcome(cases["test_3_broken"])[0] == "failure"
    assert "assert 1 == 2" in (cases["test_3_broken"].findtext("failure") or "")
    assert not (pytester.path / "ran-test_0_goodbye").exists()  # it ran on "Lambda" only
    result.stdout.fnmatch_lines(["lambda: 4 test(s) fall back to local Chrome (Lambda unreachable)", "*fell back to local Chrome: 4 test(s) (Lambda unreachable)*"])
    suite = ET.parse(pytester.path / "r.xml").getroot().find("testsuite")
    assert {p.get("name"): p.get("value") for p in suite.findall("./properties/property")}["lambda_fallback_local"] == "4"


def test_spent_retries_fall_back_but_a_read_timeout_does_not(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    """A read timeout may leave the test running in Lambda: it is not run a second time here."""
    pytester.makepyfile(test_faults="def test_crash():\n    pass\n\ndef test_bigsleep3():\n    pass\n\ndef test_ok():\n    pass\n")
    result = _run(pytester, bucket, "--lambda-retries=1", "--lambda-read-timeout=1", "--lambda-fallback=local")
    assert result.ret == 1
    cases = _cases(pytester.path / "r.xml")
    assert _outcome(cases["test_crash"]) == ("passed", "")
    crash = _props(cases["test_crash"])
    assert crash["lambda_fallback"] == "local" and "infrastructure failure after 2 attempt(s)" in crash["lambda_fallback_cause"]
    assert "Runtime.ExitError" in crash["lambda_infra_failure_1"] and crash["lambda_attempts"] == "2"
    kind, message = _outcome(cases["test_bigsleep3"])
    assert kind == "error" and "no answer within the client's read timeout" in message
    assert "lambda_fallback" not in _props(cases["test_bigsleep3"])
    assert (_props(cases["test_bigsleep3"])["lambda_outcome"], _props(cases["test_bigsleep3"])["lambda_cause"]) == ("infra", "not_retried")
    assert crash["lambda_outcome"] == "passed"
    assert _outcome(cases["test_ok"]) == ("passed", "") and "lambda_fallback" not in _props(cases["test_ok"])
    result.stdout.fnmatch_lines(["*fell back to local Chrome: 1 test(s) (infrastructure retries spent)*"])


def test_a_spent_throttle_budget_falls_back(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    fake_lambda.state.cap = 0
    pytester.makepyfile(test_blocked="def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    result = _run(pytester, bucket, "--lambda-throttle-budget=1", "--lambda-fallback=local")
    result.assert_outcomes(passed=2)
    cases = _cases(pytester.path / "r.xml")
    assert all(_props(c)["lambda_fallback"] == "local" and _props(c)["lambda_fallback_cause"].startswith("throttled:") for c in cases.values())
    result.stdout.fnmatch_lines(["*fell back to local Chrome: 2 test(s) (throttle budget spent)*"])


def test_exitfirst_stops_the_fallback_and_the_rest_keep_their_error(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    _suite(pytester, ("test_1_broken", "assert False"), ("test_2", "pass"), ("test_3", "pass"))
    result = _run(pytester, bucket, "--lambda-retries=5", "--lambda-fallback=local", "-x")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*stopping after * failures*"])  # counting the held tests reported as errors after it
    cases = _cases(pytester.path / "r.xml")
    assert set(cases) == {"test_0_goodbye", "test_1_broken", "test_2", "test_3"}
    assert _outcome(cases["test_1_broken"])[0] == "failure" and _props(cases["test_1_broken"])["lambda_fallback"] == "local"
    for name in ("test_2", "test_3"):
        kind, message = _outcome(cases[name])
        assert kind == "error" and message.startswith("Lambda unreachable: "), (name, kind, message)
        assert "lambda_fallback" not in _props(cases[name]) and not (pytester.path / f"ran-{name}").exists()
        assert (_props(cases[name])["lambda_outcome"], _props(cases[name])["lambda_cause"]) == ("infra", "unreachable")


def test_the_deadline_stops_the_fallback(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    _suite(pytester, ("test_1_outlasts_the_deadline", "time.sleep(4.2)  # from its start: the deadline, counted from the dispatch before it, passes"), ("test_2", "pass"))
    result = _run(pytester, bucket, "--lambda-retries=5", "--lambda-fallback=local", "--lambda-deadline=4")
    assert result.ret == 1
    cases = _cases(pytester.path / "r.xml")
    assert _outcome(cases["test_1_outlasts_the_deadline"]) == ("passed", "")
    kind, message = _outcome(cases["test_2"])
    assert kind == "error" and message == "run aborted: the --lambda-deadline of 4 s was reached before this test ran on local Chrome"
    assert (_props(cases["test_2"])["lambda_outcome"], _props(cases["test_2"])["lambda_cause"]) == ("interrupted", "deadline")
    assert not (pytester.path / "ran-test_2").exists()


def test_sigterm_during_the_fallback_reports_every_test_once(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    started = pytester.path / "ran-test_1_waits"
    _suite(pytester, ("test_1_waits", "deadline = time.monotonic() + 60\nwhile time.monotonic() < deadline:\n    time.sleep(0.05)"), ("test_2", "pass"), ("test_3", "pass"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", *_args(bucket, "--lambda-retries=5", "--lambda-fallback=local")],
        cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not started.exists() and proc.poll() is None:
            time.sleep(0.05)
        assert started.exists(), "the fallback never started test_1_waits"
        os.kill(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2, out[-3000:]
    cases = _cases(pytester.path / "r.xml")
    assert set(cases) == {"test_0_goodbye", "test_1_waits", "test_2", "test_3"}
    for name in ("test_1_waits", "test_2", "test_3"):
        assert _outcome(cases[name]) == ("error", "run aborted (interrupted) before this test finished"), name
        recorded = [(p.get("name"), p.get("value")) for p in cases[name].findall("./properties/property") if p.get("name") in ("lambda_outcome", "lambda_cause")]
        assert recorded == [("lambda_outcome", "interrupted"), ("lambda_cause", "interrupted")], (name, recorded)  # once each
    assert _props(cases["test_1_waits"])["lambda_fallback"] == "local"  # it was running here when stopped
    assert not (pytester.path / "ran-test_2").exists()


def test_fallback_checks_for_local_chrome_at_start_up(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_ui="def test_page(browser):\n    pass\n")
    missing = ["--chrome-binary=/nonexistent/chrome"]
    result = _run(pytester, bucket, "--lambda-fallback=local", *missing)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "/nonexistent/chrome" in result.stderr.str() and "Traceback" not in result.stderr.str()  # the local run's own message
    assert fake_lambda.state.calls == []
    _run(pytester, bucket, *missing).assert_outcomes(passed=1)  # without the fallback no local Chrome is needed


@pytest.mark.parametrize(
    ("args", "ini", "message"),
    [
        (["--lambda-breaker=-1"], "", "argument --lambda-breaker: must be at least 0, got -1"),
        (["--lambda-breaker=many"], "", "argument --lambda-breaker: expected a whole number, got 'many'"),
        (["--lambda-fallback=chrome"], "", "argument --lambda-fallback: expected one of none, local, got 'chrome'"),
        ([], "lambda_breaker = many", "ini option lambda_breaker: expected a whole number, got 'many'"),
        ([], "lambda_fallback = remote", "ini option lambda_fallback: expected one of none, local, got 'remote'"),
    ],
)
def test_bad_breaker_and_fallback_values_are_usage_errors(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, args: list[str], ini: str, message: str) -> None:
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(test_a="def test_a(): pass\n")
    result = _run(pytester, bucket, *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR and message in result.stderr.str(), result.stderr.str()
    assert fake_lambda.state.calls == []


# -- the parts on their own --------------------------------------------------------------------


def test_only_a_connect_that_reaches_nobody_is_unreachable() -> None:
    """Refused: unreachable. A peer that answers the TLS handshake wrongly: a connect failure, not unreachable."""

    async def client() -> None:
        gone = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = gone.sockets[0].getsockname()[1]
        gone.close()
        await gone.wait_closed()
        with pytest.raises(ConnectFailed) as refused:
            await Http1Client(f"http://127.0.0.1:{port}", None).post(HEAD, b"ping", 5)
        assert refused.value.unreachable

        async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(plain, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(ConnectFailed) as tls:
                await Http1Client(f"https://127.0.0.1:{port}", None).post(HEAD, b"ping", 5)
            assert not tls.value.unreachable
        finally:
            server.close()

    asyncio.run(client())


def test_the_breaker_counts_only_refusals_in_a_row() -> None:
    scheduler = Scheduler(["a", "b", "c", "d"], {}, max_in_flight=2, breaker=3)
    a, b = scheduler.next_ready(0.0), scheduler.next_ready(0.0)
    assert a is not None and b is not None
    assert scheduler.on_unreachable(a, "refused 1") is None
    assert scheduler.on_unreachable(a, "refused 2") is None
    scheduler.on_reachable()  # any other answer: the endpoint is there
    assert scheduler.on_unreachable(a, "refused 3") is None and scheduler.on_unreachable(b, "refused 4") is None
    taken = scheduler.on_unreachable(a, "refused 5")
    assert taken is not None and [t.nodeid for t in taken] == ["a", "b", "c", "d"]
    assert scheduler.tripped and scheduler.finished and scheduler.first_unreachable == "refused 3"
    assert a.infra_failures == ["refused 5"]
