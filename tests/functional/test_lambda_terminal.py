"""What a person sees of a ``pytest --lambda`` run: the status line, rows per file, tests not run."""

from __future__ import annotations

import http.server
import re
import signal
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest

from lambda_ui.cli.main import main
from stand_ins.fake_invoke_api import FakeInvokeApi
from tests.support.interrupted_run import SIGINT_AS_IN_A_TERMINAL, SUITE, interrupt_after_quick_test

#: The status line's fields, as a pattern.
STATUS = r"lambda \d+:\d\d \| \d+ passed, \d+ failed, \d+ errors( \| |, .*? \| )\d+ in flight, \d+ queued, \d+ throttled, \d+ retried \| ETA (unknown|\d+:\d\d)"
HIDE = r"\r\x1b\[2K\x1b\[1A\x1b\[\d+G"


def _run(pytester: pytest.Pytester, bucket: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs", "--junitxml=r.xml", *args)


def _raw(pytester: pytest.Pytester) -> str:
    """The subprocess's output as written (pytester's lines split at carriage returns too)."""
    return (pytester.path / "stdout").read_bytes().decode()


def _screen(raw: str) -> str:
    """What a terminal shows at the end: each status line drawn and erased again, colours dropped."""
    without = re.sub(rf"\n{STATUS}(\r\x1b\[2K{STATUS})*{HIDE}", "", raw)
    return re.sub(r"\x1b\[[0-9;]*m", "", without)


def test_the_status_line_is_rewritten_in_place_under_the_rows(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_rows="\n".join(f"def test_slow{n}_{i}(): pass" for i, n in enumerate([60, 3, 3, 3, 3, 3, 3])))
    result = _run(pytester, bucket, "--color=yes", "--lambda-concurrency=2")
    raw = _raw(pytester)
    result.assert_outcomes(passed=7)
    drawn = re.findall(rf"\n({STATUS})", raw)
    assert drawn, raw
    assert re.search(rf"\r\x1b\[2K{STATUS}", raw), "never rewritten in place"
    assert len(re.findall(HIDE, raw)) >= len(drawn)  # each drawn line is erased before the next row's result
    screen = _screen(raw)
    assert "lambda " not in screen.replace("lambda: bundle", "").replace("lambda-ui", ""), screen
    rows = [line for line in screen.splitlines() if line.startswith("test_rows.py")]
    assert len(rows) == 1 and re.match(r"test_rows\.py \.{7}\s+\[100%\]$", rows[0]), screen  # one row, never split


def test_in_a_log_a_plain_status_line_every_interval(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_log="\n".join(f"def test_slow12_{i}(): pass" for i in range(4)))
    result = _run(pytester, bucket, "--lambda-concurrency=2", "--lambda-status-interval=0.5")
    result.assert_outcomes(passed=4)
    lines = [line for line in result.stdout.lines if re.fullmatch(STATUS, line)]
    assert len(lines) >= 2, result.stdout.str()  # about 2.4 s of run at 0.5 s
    assert "\r" not in result.stdout.str() and "\x1b[" not in result.stdout.str()
    assert any(re.search(r"\| [1-9]\d* passed, ", line) for line in lines), lines  # counts so far


def test_the_eta_comes_from_history(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_eta="\n".join(f"def test_slow12_{i}(): pass" for i in range(4)))
    first = _run(pytester, bucket, "-p", "cacheprovider", "--color=yes", "--lambda-concurrency=1")
    first.assert_outcomes(passed=4)
    assert re.search(r"\n" + STATUS.replace("(unknown|", "(unknown)(?:|"), _raw(pytester))  # nothing known yet
    _run(pytester, bucket, "-p", "cacheprovider", "--color=yes", "--lambda-concurrency=1").assert_outcomes(passed=4)
    shown = re.findall(r"ETA (\d+):(\d\d)", _raw(pytester))
    assert shown and "ETA unknown" not in _raw(pytester)
    assert 3 <= int(shown[0][0]) * 60 + int(shown[0][1]) <= 6  # four tests of 1.2 s, one at a time


def test_out_of_order_answers_print_each_file_once(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(
        test_first="def test_slow15(): pass\ndef test_quick(): pass\n",
        test_second="def test_a(): pass\ndef test_b(): pass\n",
        test_third="def test_c(): pass\n",
    )
    result = _run(pytester, bucket, "--lambda-concurrency=5")
    result.assert_outcomes(passed=5)
    heads = [line.split()[0] for line in result.stdout.lines if line.startswith("test_")]
    # test_slow15 answers last, after the other files: ungrouped, test_first.py would head two rows.
    # Which file opens depends on which quick answer comes first (under load, any of them).
    assert sorted(heads) == ["test_first.py", "test_second.py", "test_third.py"], result.stdout.str()
    names = [c.get("name") for c in ET.parse(pytester.path / "r.xml").getroot().iter("testcase")]
    assert sorted(names) == ["test_a", "test_b", "test_c", "test_quick", "test_slow15"]  # every test reported once


def test_tests_not_run_are_one_block_and_their_own_word(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, capsys: pytest.CaptureFixture[str]) -> None:
    pytester.makepyfile(test_late="def test_quick(): pass\n" + "\n".join(f"def test_bigsleep30_{i}(): pass" for i in range(4)))
    result = _run(pytester, bucket, "--lambda-concurrency=1", "--lambda-deadline=2")
    out = result.stdout.str()
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*= not run: 4 (deadline) =*",
            "run aborted: the --lambda-deadline of 2 s was reached before this test was dispatched",
            "  test_late.py::test_bigsleep30_1",
            "  test_late.py::test_bigsleep30_2",
            "  test_late.py::test_bigsleep30_3",
            "run aborted: the --lambda-deadline of 2 s was reached while this test ran",
            "  test_late.py::test_bigsleep30_0",
            "*= 1 passed, 4 not run in *",
        ]
    )
    assert "ERROR at setup" not in out and "error" not in out.splitlines()[-1]
    errors = [c for c in ET.parse(pytester.path / "r.xml").getroot().iter("testcase") if c.find("error") is not None]
    assert len(errors) == 4  # still one outcome per test in the JUnit file
    # The report summary says the same.
    capsys.readouterr()
    main(["report", "summary", str(pytester.path / "r.xml")])
    text = capsys.readouterr().out
    assert "5 tests: 0 failed, 1 passed, 4 not run (deadline)" in text, text
    assert "NOT RUN: 4 (deadline)" in text and "INFRASTRUCTURE" not in text
    assert text.count("reached before this test was dispatched") == 1


def test_ctrl_c_counts_the_rest_as_not_run(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    out = interrupt_after_quick_test(pytester, bucket, signal.SIGINT).stdout
    assert "= not run: 5 (interrupted) =" in out, out
    assert out.count("run aborted (interrupted) before this test finished") == 1, out
    assert "ERROR at setup" not in out
    assert re.search(r"= 1 passed, 5 not run in ", out), out


#: A Ctrl-C whose handler runs inside a finalizer: Python drops its KeyboardInterrupt
#: ("Exception ignored in"), the rare way a CI run once ignored an interrupt. This one comes
#: while an answer is replayed, where the client holds it back until the answer is in
#: (tests/unit/test_signals.py has the finalizer outside that).
LOST_INTERRUPT_CONFTEST = f"""
import os, signal
{SIGINT_AS_IN_A_TERMINAL}

class Finalizer:
    def __del__(self):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10000):  # the handler runs in here
            pass

def pytest_runtest_logfinish(nodeid, location):
    if nodeid.endswith('::test_quick'):
        Finalizer()
"""


def test_a_ctrl_c_in_a_finalizer_during_a_replay_stops_the_run(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_long=SUITE)
    pytester.makeconftest(LOST_INTERRUPT_CONFTEST)
    result = pytester.runpytest_subprocess("--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs", "--lambda-concurrency=3", timeout=25)
    out = result.stdout.str() + result.stderr.str()
    assert "Exception ignored in" not in out, out  # held back past the finalizer, not lost in it
    assert "= not run: 5 (interrupted) =" in out, out
    assert result.ret == pytest.ExitCode.INTERRUPTED


@pytest.fixture
def not_lambda() -> Iterator[str]:
    """An HTTP server that answers 404 to everything: some other service at the endpoint."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_an_endpoint_that_is_not_lambda_is_named_as_such(pytester: pytest.Pytester, s3_env: Any, bucket: str, not_lambda: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", not_lambda)
    pytester.makepyfile(test_a="def test_a(): pass\n")
    result = pytester.runpytest_subprocess("--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs")
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"ERROR: the endpoint {not_lambda} is not the Lambda API: it answered HTTP 404 *AWS_ENDPOINT_URL_LAMBDA*"])
    assert "An error occurred (404)" not in result.stderr.str()
