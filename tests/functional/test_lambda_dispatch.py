"""pytest --lambda through a scripted Invoke API: replay, faults, throttles, reruns."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from lambda_ui.contract import MAX_LOG_TEXT_BYTES
from stand_ins.fake_invoke_api import FakeInvokeApi, FakeState, scripted_report
from stand_ins.services import AWS_TEST_ENV, free_port
from stand_ins.tls import self_signed
from tests.conftest import REPO
from tests.support.connect_proxy import ConnectProxy
from tests.support.interrupted_run import SIGINT_AS_IN_A_TERMINAL, SUITE, interrupt_after_quick_test


def _run(pytester: pytest.Pytester, bucket: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs", "--junitxml=r.xml", *args)


def _cases(pytester: pytest.Pytester) -> dict[str, ET.Element]:
    cases = list(ET.parse(pytester.path / "r.xml").getroot().iter("testcase"))
    names = [c.get("name", "") for c in cases]
    assert len(names) == len(set(names)), f"a test was reported more than once: {names}"
    return dict(zip(names, cases, strict=True))


def _props(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.findall("./properties/property")}


def test_results_replay_into_terminal_and_junit(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(
        test_suite="""
        def test_ok(): pass
        def test_fail(): pass
        def test_other(): pass
        def test_skip(): pass
        """
    )
    result = _run(pytester, bucket, "-v", "-rs")
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] test_suite.py:3: not on Lambda"])  # path anchored at the rootdir
    result.stdout.fnmatch_lines(["*test_suite.py::test_fail FAILED*", "*AssertionError: scripted failure*", "*lambda-ui run*", "*4 invocation(s) of ui-tests*"])
    cases = _cases(pytester)
    assert set(cases) == {"test_ok", "test_fail", "test_other", "test_skip"}
    assert cases["test_skip"].find("skipped").get("message") == "not on Lambda"
    assert cases["test_fail"].find("failure") is not None
    # The report contract: the exact node id and the outcome as junitxml classified the replayed reports.
    recorded = {name: (_props(case)["nodeid"], _props(case)["lambda_outcome"], _props(case).get("lambda_cause")) for name, case in cases.items()}
    assert recorded == {
        "test_ok": ("test_suite.py::test_ok", "passed", None),
        "test_fail": ("test_suite.py::test_fail", "failed", None),
        "test_other": ("test_suite.py::test_other", "passed", None),
        "test_skip": ("test_suite.py::test_skip", "skipped", None),
    }
    props = _props(cases["test_ok"])
    assert props["lambda_attempts"] == "1" and props["lambda_billed_ms"] == "51.0" and props["chrome_version"] == "1.2.3.4"
    assert len(props["lambda_request_ids"]) == 36
    assert 0 <= float(props["run_offset_s"]) < 10 and 0.04 < float(props["wall_s"]) < 10
    assert float(props["lambda_cost_usd"]) == pytest.approx(0.051 * 2 * 0.0000166667 + 0.0000002, rel=1e-3)
    suite = ET.parse(pytester.path / "r.xml").getroot().find("testsuite")
    facts = {p.get("name"): p.get("value") for p in suite.findall("./properties/property")}
    assert facts["run_mode"] == "lambda" and facts["lambda_function"] == "ui-tests" and facts["lambda_invocations"] == "4"
    assert facts["lambda_concurrency"] == "10" and float(facts["lambda_billed_gb_s"]) == pytest.approx(4 * 0.051 * 2)
    assert facts["artifacts_location"].startswith(f"s3://{bucket}/runs/") and facts["run_id"] in facts["artifacts_location"]
    names = [p.get("name") for p in suite.findall("./properties/property")]
    assert len(names) == len(set(names)), names  # each run-level fact once



def test_a_test_s_warnings_reach_the_warnings_summary_and_no_answer_runs_code(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_suite="def test_warns(): pass\ndef test_plain(): pass\n")
    # An answer naming a module as a warning's category must not import it here.
    pytester.makepyfile(evilmod="open('imported.txt', 'w').close()\nclass Boom(Warning): pass\n")
    secret = pytester.path / "secret.txt"
    secret.write_text("first line\nTOPSECRET\n")
    entry = {"message": "find_element_by_id is deprecated", "category": "builtins.DeprecationWarning", "filename": "test_suite.py", "lineno": 1, "line": "def test_warns(): pass", "count": 3}
    fake_lambda.state.answer_extras["test_warns"] = {
        "test_warnings": [
            entry,
            # A file of this machine named with no source line: the terminal reads nothing from it.
            {**entry, "message": "from a module never imported", "category": "evilmod.Boom", "filename": str(secret), "lineno": 2, "line": "", "count": 1},
            {**entry, "message": "not a warning class", "category": "os.system", "count": 1},
            {**entry, "message": "a name that is no class name", "category": "__import__('os')", "count": 1},
            {**entry, "message": 5}, {**entry, "count": "many"}, "not a dict",
        ],
        "test_warnings_dropped": 2,
        # What the handler said about the invocation: shown on the test, as the plugin's own warning.
        "warnings": ["the function's deadline struck after the test's last report", 7, ""],
    }
    result = _run(pytester, bucket)
    assert result.ret == 0, result.stdout.str()
    out = result.stdout.str()
    # 3 identical + 3 more + the note on the two left out; the three malformed entries are skipped.
    result.stdout.fnmatch_lines(["*warnings summary*", "test_suite.py::test_warns", f"  {pytester.path}/test_suite.py:1: DeprecationWarning: find_element_by_id is deprecated", "    def test_warns(): pass"])
    result.stdout.fnmatch_lines([f"  {secret}:2: Boom: from a module never imported", "*system: not a warning class*", "*Warning: a name that is no class name", "*2 more distinct warning(s) of this test were left out*"])
    result.stdout.fnmatch_lines(["*PytestWarning: lambda-ui: the function's deadline struck after the test's last report"])
    result.stdout.fnmatch_lines(["*= 2 passed, 8 warnings in *"])
    assert "TOPSECRET" not in out and "test_plain" not in out.split("warnings summary")[1]
    assert not (pytester.path / "imported.txt").exists()

def _collect_reports(pytester: pytest.Pytester, source: str) -> list[dict[str, Any]]:
    """The serialized collection reports of ``source``, as the function's pytest sends them."""
    pytester.makepyfile(test_there=source)
    recorded = pytester.inline_run("--collect-only", "test_there.py")
    config = pytester.parseconfig()
    reports = [config.hook.pytest_report_to_serializable(config=config, report=r) for r in recorded.getreports("pytest_collectreport") if r.failed]
    (pytester.path / "test_there.py").unlink()
    return reports


def test_a_collection_error_there_reads_as_pytest_prints_it(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    # What a pytest-bdd module says there when its .feature file is not in the bundle.
    error = _collect_reports(pytester, "def scenarios(name):\n    return open(name)\nscenarios('login.feature')\n")
    assert len(error) == 1 and isinstance(error[0]["longrepr"], dict)
    pytester.makepyfile(test_suite="def test_bdd(): pass\ndef test_many(): pass\n")
    hostile: list[Any] = [
        {**error[0], "$report_type": "NoSuchReport", "longrepr": "raw text of an odd report"},
        {"nodeid": "no_type.py", "longrepr": "TYPELESS " + "x" * 9000},
        "not a dict", 5,
        *[{**error[0], "nodeid": f"extra_{n}.py"} for n in range(6)],
    ]
    fake_lambda.state.answer_extras["test_bdd"] = {"reports": [], "collect_reports": error}
    fake_lambda.state.answer_extras["test_many"] = {"reports": [], "collect_reports": hostile}
    result = _run(pytester, bucket)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(["*collecting test_there.py failed there:", "*scenarios('login.feature')*", "E*FileNotFoundError:*login.feature*"])
    assert "'$report_type'" not in out and "{'" not in out  # no report shown as a dict
    # Hostile entries: shown by their raw text, never a crash, at most five, each cut.
    assert "raw text of an odd report" in out and "TYPELESS" in out and "[... cut]" in out
    assert "x" * 9000 not in out and "extra_2.py" in out and "extra_3.py" not in out
    assert "(3 more collection error(s) there left out)" in out
    cases = _cases(pytester)
    assert set(cases) == {"test_bdd", "test_many"} and all(c.find("error") is not None for c in cases.values())
    assert _props(cases["test_bdd"])["lambda_cause"] == "not_run"


def test_allure_files_an_answer_names_are_fetched_only_from_this_run_into_the_folder(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, s3_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", os.path.join(REPO, ".venv", "suite-plugins"))  # allure-pytest (scripts/setup.sh)
    fake_lambda.state.distributions.update({"allure-pytest": "2.16.2", "allure-python-commons": "2.16.2"})  # the image has it too
    pytester.makepyfile(test_suite="def test_a(): pass\n")
    run = "runs/r-allure/_allure/"
    s3_client.put_object(Bucket=bucket, Key=run + "0a1b-result.json", Body=b'{"name": "test_a"}')
    s3_client.put_object(Bucket=bucket, Key="runs/other-run/_allure/0c-result.json", Body=b"{}")
    s3_client.put_object(Bucket=bucket, Key=run + "../escape.txt", Body=b"written outside the folder")
    hostile = [run + "../escape.txt", "runs/other-run/_allure/0c-result.json", run + "sub/0d-result.json", run + ".hidden", 5]
    fake_lambda.state.answer_extras["test_a"] = {"allure_files": [run + "0a1b-result.json", *hostile, run + "0e-missing-result.json"]}
    result = _run(pytester, bucket, "--run-id=r-allure", "--alluredir=out")
    assert result.ret == 0, result.stdout.str()
    assert [p.name for p in (pytester.path / "out").iterdir()] == ["0a1b-result.json"]
    assert (pytester.path / "out" / "0a1b-result.json").read_bytes() == b'{"name": "test_a"}'
    assert not list(pytester.path.rglob("escape.txt"))
    result.stdout.fnmatch_lines(["allure: 1 result file(s) from Lambda in out"])
    assert result.stdout.str().count("not one of this run's Allure files") == len(hostile)
    result.stdout.fnmatch_lines(["allure: s3://*/runs/r-allure/_allure/0e-missing-result.json: *"])
    # The event asked the function for Allure results; the folder option itself stayed here.
    events = fake_lambda.state.events
    assert events and all(e["allure"] is True and not any("alluredir" in a for a in e["pytest_args"]) for e in events)
def test_selection_stays_local(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(
        test_suite="""
        import pytest
        def test_login(): pass
        def test_logout(): pass
        @pytest.mark.parametrize("n", [1, 2, 3])
        def test_param(n): pass
        """
    )
    _run(pytester, bucket, "-k", "login or param and not 2").assert_outcomes(passed=3)
    assert sorted(c.nodeid for c in fake_lambda.state.calls) == ["test_suite.py::test_login", "test_suite.py::test_param[1]", "test_suite.py::test_param[3]"]


def test_throttles_are_never_failures(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    fake_lambda.state.cap = 2
    pytester.makepyfile(test_storm="\n".join(f"def test_slow2_{i}(): pass" for i in range(12)))
    result = _run(pytester, bucket, "--lambda-concurrency=12")
    result.assert_outcomes(passed=12)
    assert {_props(c)["lambda_outcome"] for c in _cases(pytester).values()} == {"passed"}  # a throttle never shows as an outcome
    assert fake_lambda.state.throttled > 0 and fake_lambda.state.peak_busy <= 2
    result.stdout.fnmatch_lines(["*12 invocation(s)*concurrency 12 configured*(throttling lowered the window to *)*"])
    # The peak is what Lambda ran at once, not what was in flight here: throttled requests never ran.
    peak = int(re.search(r"(\d+) at peak", result.stdout.str()).group(1))  # type: ignore[union-attr]
    assert 1 <= peak <= fake_lambda.state.peak_busy + 1, (peak, fake_lambda.state.peak_busy)
    assert "WARNING: the deployed image differs" not in result.stdout.str()
    assert len([c for c in fake_lambda.state.calls]) == 12  # a throttle is not an invocation


def test_throttle_budget_spent_reports_errors(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    fake_lambda.state.cap = 0
    pytester.makepyfile(test_blocked="def test_a(): pass\ndef test_b(): pass\n")
    result = _run(pytester, bucket, "--lambda-throttle-budget=1")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*throttled: Lambda refused invocations (ReservedFunctionConcurrentInvocationLimitExceeded)*"])
    cases = _cases(pytester)
    assert set(cases) == {"test_a", "test_b"}
    for name, case in cases.items():
        props = _props(case)
        assert (props["nodeid"], props["lambda_outcome"], props["lambda_cause"]) == (f"test_blocked.py::{name}", "infra", "throttled")
        assert int(props["lambda_throttles"]) >= 1


def test_infra_faults_are_retried_then_reported(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(
        test_faults="""
        def test_crashonce(): pass
        def test_crash(): pass
        def test_timeout(): pass
        def test_unhealthy(): pass
        def test_refused(): pass
        """
    )
    result = _run(pytester, bucket, "--lambda-retries=2")
    result.assert_outcomes(passed=2, errors=3)
    cases = _cases(pytester)
    assert _props(cases["test_crashonce"])["lambda_attempts"] == "2"
    assert "Runtime.ExitError" in _props(cases["test_crashonce"])["lambda_infra_failure_1"]
    crash = cases["test_crash"].find("error")
    assert crash is not None and "infrastructure failure after 3 attempt(s)" in crash.get("message", "")
    assert "request ids:" in crash.get("message", "")
    timeout = cases["test_timeout"].find("error")
    assert timeout is not None and "Lambda timeout: Task timed out after 30.00 seconds" in timeout.get("message", "")
    refused = cases["test_refused"].find("error")
    assert refused is not None and "BundleMismatch: hash differs" in refused.get("message", "")
    assert fake_lambda.state.attempts("test_faults.py::test_refused") == 1  # not retryable
    assert fake_lambda.state.attempts("test_faults.py::test_crash") == 3
    outcomes = {name: (_props(case)["lambda_outcome"], _props(case).get("lambda_cause")) for name, case in cases.items()}
    assert outcomes == {
        "test_crashonce": ("passed", None),
        "test_unhealthy": ("passed", None),
        "test_crash": ("infra", "retries_spent"),
        "test_timeout": ("infra", "retries_spent"),
        "test_refused": ("infra", "refused"),
    }


def test_reruns_mark_flaky_and_keep_earlier_attempts(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_flaky="def test_flaky(): pass\ndef test_fail(): pass\n")
    result = _run(pytester, bucket, "--lambda-reruns=2")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*flaky (failed, then passed on a rerun): test_flaky.py::test_flaky*"])
    cases = _cases(pytester)
    flaky = _props(cases["test_flaky"])
    assert flaky["lambda_flaky"] == "true" and flaky["lambda_rerun_1"].startswith("call failed: AssertionError")
    assert flaky["lambda_attempts"] == "2" and flaky["lambda_outcome"] == "passed"
    assert _props(cases["test_fail"])["lambda_attempts"] == "3" and _props(cases["test_fail"])["lambda_outcome"] == "failed"


def test_exitfirst_stops_dispatching(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_x="\n".join(["def test_fail(): pass"] + [f"def test_slow3_{i}(): pass" for i in range(20)]))
    result = _run(pytester, bucket, "-x", "--lambda-concurrency=2")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*stopping after 1 failures*"])
    assert len(fake_lambda.state.calls) < 21


def test_last_failed_selects_locally(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_lf="def test_ok(): pass\ndef test_fail(): pass\n")
    _run(pytester, bucket, "-p", "cacheprovider").assert_outcomes(passed=1, failed=1)
    fake_lambda.state.calls.clear()
    _run(pytester, bucket, "-p", "cacheprovider", "--lf").assert_outcomes(failed=1)
    assert [c.nodeid for c in fake_lambda.state.calls] == ["test_lf.py::test_fail"]


def test_xdist_from_the_addopts_is_off_for_a_lambda_run(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    # A suite that runs under pytest-xdist locally keeps -n in its ini file.
    pytester.makeini("[pytest]\naddopts = -n 2 --dist loadscope\n")
    pytester.makepyfile(test_a="def test_a(): pass\ndef test_b(): pass\n")
    result = _run(pytester, bucket)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines([
        "lambda-ui: -n 2 from the addopts is off: --lambda runs each test in its own invocation; --dist loadscope kept the "
        "tests of one module or class on one worker, and here each runs alone, so a test that counts on what an earlier "
        "one left (a login, a page) fails: make it set that up itself"
    ])
    assert sorted(call.nodeid for call in fake_lambda.state.calls) == ["test_a.py::test_a", "test_a.py::test_b"]
    # Typed with --lambda, it asks for two things at once: one clear error.
    result = _run(pytester, bucket, "-n", "2")
    assert result.ret == 4 and "--lambda and -n (pytest-xdist) do not mix" in result.stderr.str()


def test_a_run_without_pytest_s_logging_plugin_replays_as_usual(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_a="def test_a(): pass\ndef test_fail(): pass\n")
    result = _run(pytester, bucket, "-p", "no:logging", "-s")
    result.assert_outcomes(passed=1, failed=1)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_dry_run_invokes_nothing(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_plan="def test_a(): pass\ndef test_b(): pass\n")
    result = _run(pytester, bucket, "--lambda-dry-run")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*lambda dry run: 2 tests*concurrency 10*", "*expected wall time*"])
    assert fake_lambda.state.calls == []


def test_unknown_function_is_one_clear_error(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_a="def test_a(): pass\n")
    result = pytester.runpytest_subprocess("--lambda", "--lambda-function=nope", f"--artifacts=s3://{bucket}/runs")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: Lambda function 'nope' does not exist at http://127.0.0.1:*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_unreachable_lambda_endpoint_is_one_clear_error(pytester: pytest.Pytester, s3_env: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"http://127.0.0.1:{free_port()}")  # nothing listens
    pytester.makepyfile(test_a="def test_a(): pass\n")
    result = pytester.runpytest_subprocess("--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: cannot reach Lambda at http://127.0.0.1:*. Check the network, or AWS_ENDPOINT_URL_LAMBDA*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lambda", "--lambda-function=ui-tests", "--artifacts=local"], "--lambda needs an S3 artifacts destination, got 'local'"),
        (["--lambda", "--artifacts=s3://b/runs"], "--lambda needs a function"),
        (["--lambda", "--lambda-function=ui-tests", "--lambda-concurrency=0"], "must be at least 1, got 0"),
    ],
)
def test_bad_lambda_options(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, args: list[str], message: str) -> None:
    pytester.makepyfile(test_a="def test_a(): pass\n")
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == 4 and message in result.stderr.str()


def test_sigterm_reports_every_test(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    result = interrupt_after_quick_test(pytester, bucket, signal.SIGTERM)
    assert result.returncode == 2, result.stdout
    cases = _cases(pytester)
    assert len(cases) == 6
    assert cases["test_quick"].find("error") is None
    aborted = [n for n, c in cases.items() if c.find("error") is not None and "run aborted" in c.find("error").get("message", "")]
    assert sorted(aborted) == sorted(f"test_bigsleep30_{i}" for i in range(5))
    assert _props(cases["test_quick"])["lambda_outcome"] == "passed"
    for name in aborted:
        props = _props(cases[name])
        assert (props["nodeid"], props["lambda_outcome"], props["lambda_cause"]) == (f"test_long.py::{name}", "interrupted", "interrupted")


#: Ctrl-C while the client replays test_quick's answer: between its setup report and its call's.
MID_REPLAY_INTERRUPT = f"""
import os, signal
{SIGINT_AS_IN_A_TERMINAL}

def pytest_runtest_logreport(report):
    if report.nodeid.endswith('::test_quick') and report.when == 'setup':
        os.kill(os.getpid(), signal.SIGINT)
"""


def test_an_interrupt_while_an_answer_is_replayed_loses_no_test(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    # Raised there, the KeyboardInterrupt cut test_quick's replay short: it had left the queue
    # and was counted as answered, so it ended with a setup report and no outcome.
    pytester.makepyfile(test_long=SUITE)
    pytester.makeconftest(MID_REPLAY_INTERRUPT)
    result = _run(pytester, bucket, "--lambda-concurrency=3")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    cases = _cases(pytester)
    assert sorted(cases) == sorted(["test_quick", *(f"test_bigsleep30_{i}" for i in range(5))])
    assert _props(cases["test_quick"])["lambda_outcome"] == "passed", result.stdout.str()
    for i in range(5):
        assert _props(cases[f"test_bigsleep30_{i}"])["lambda_outcome"] == "interrupted"


def test_the_deadline_ends_unfinished_tests_as_interrupted(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_late="def test_quick(): pass\n" + "\n".join(f"def test_bigsleep30_{i}(): pass" for i in range(3)))
    result = _run(pytester, bucket, "--lambda-concurrency=1", "--lambda-deadline=2")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*= 1 passed, 3 not run in *"])  # counted under their own word, not as errors
    cases = _cases(pytester)
    assert _props(cases["test_quick"])["lambda_outcome"] == "passed"
    messages = {}
    for i in range(3):
        case = cases[f"test_bigsleep30_{i}"]
        props = _props(case)
        assert (props["lambda_outcome"], props["lambda_cause"]) == ("interrupted", "deadline"), props
        messages[i] = case.find("error").get("message", "")
    assert sum("while this test ran" in m for m in messages.values()) == 1, messages  # the one in flight
    assert sum("before this test was dispatched" in m for m in messages.values()) == 2, messages


def test_an_xdist_group_under_loadgroup_never_runs_two_of_its_tests_at_once(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    """The suite's addopts for local runs: -n 2 --dist loadgroup, and tests that share an account
    marked with one xdist_group. Under --lambda every test is its own invocation; the group's
    tests must still run one at a time, the others beside them."""
    pytester.makeini("[pytest]\naddopts = -n 2 --dist loadgroup\n")
    pytester.makepyfile(test_shop="""
        import pytest

        @pytest.mark.xdist_group("account")
        def test_login_sleepms300(): pass

        @pytest.mark.xdist_group(name="account")
        def test_checkout_sleepms300(): pass

        @pytest.mark.xdist_group("account")
        def test_logout_sleepms300(): pass

        def test_search_sleepms300(): pass
        def test_browse_sleepms300(): pass
        """)
    # No history: 10 s assumed a test. Five slots, but the group's three run one after another.
    _run(pytester, bucket, "--lambda-concurrency=5", "--lambda-dry-run").stdout.fnmatch_lines(["lambda dry run: expected wall time 30.0 s *"])
    result = _run(pytester, bucket, "--lambda-concurrency=5")
    result.assert_outcomes(passed=5)
    result.stdout.fnmatch_lines(["lambda: 3 test(s) in 1 xdist group(s) (--dist loadgroup): a group's tests run one at a time"])
    calls = {c.nodeid.split("::")[1]: c for c in fake_lambda.state.calls}
    account = sorted((calls[name] for name in ("test_login_sleepms300", "test_checkout_sleepms300", "test_logout_sleepms300")), key=lambda c: c.started)
    assert all(earlier.ended <= later.started for earlier, later in zip(account, account[1:])), [(c.started, c.ended) for c in account]
    assert fake_lambda.state.peak_busy >= 3  # the others ran beside the group: it is no global lock
    # Without --dist loadgroup the mark means nothing, as under pytest-xdist.
    fake_lambda.state.calls.clear()
    result = _run(pytester, bucket, "--lambda-concurrency=5", "-o", "addopts=")
    result.assert_outcomes(passed=5)
    assert "xdist group" not in result.stdout.str()


def test_history_orders_longest_first(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_hist="def test_slow1(): pass\ndef test_slow4(): pass\ndef test_slow2(): pass\n")
    _run(pytester, bucket, "-p", "cacheprovider", "--lambda-concurrency=1").assert_outcomes(passed=3)
    assert [c.nodeid.split("::")[1] for c in fake_lambda.state.calls] == ["test_slow1", "test_slow4", "test_slow2"]  # no history: as collected
    fake_lambda.state.calls.clear()
    pytester.makepyfile(test_new="def test_slow3(): pass\n")
    _run(pytester, bucket, "-p", "cacheprovider", "--lambda-concurrency=1").assert_outcomes(passed=4)
    # Unknown first, then longest first by the durations the last run recorded.
    assert [c.nodeid.split("::")[1] for c in fake_lambda.state.calls] == ["test_slow3", "test_slow4", "test_slow2", "test_slow1"]


def test_bundle_is_uploaded_once_and_size_is_bounded(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_a="def test_a(): pass\n")
    _run(pytester, bucket).stdout.fnmatch_lines(["lambda: bundle * uploaded to s3://*"])
    _run(pytester, bucket).stdout.fnmatch_lines(["lambda: bundle * already in s3://*"])
    (pytester.path / "video.bin").write_bytes(b"\0" * 2_000_000)
    pytester.makeini("[pytest]\nlambda_bundle_include = video.bin\n")  # not a git checkout: only what collection needed, and includes
    result = _run(pytester, bucket, "--lambda-max-bundle-mb=1")
    assert result.ret == 4
    assert "Largest files: video.bin (2.0 MB)" in result.stderr.str() and "Traceback" not in result.stderr.str()


def test_garbage_and_lost_connections_are_reported_once_each(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(
        test_bad="""
        def test_fine(): pass
        def test_garbage(): pass
        def test_notjson(): pass
        def test_hangup(): pass
        def test_also_fine(): pass
        """
    )
    result = _run(pytester, bucket, "--lambda-retries=1")
    result.assert_outcomes(passed=2, errors=3)
    cases = _cases(pytester)
    assert cases["test_fine"].find("error") is None and cases["test_also_fine"].find("error") is None
    assert "not a test result: {'hello': 'world'}" in cases["test_garbage"].find("error").get("message", "")
    assert fake_lambda.state.attempts("test_bad.py::test_garbage") == 1  # garbage is not retried blindly
    assert (_props(cases["test_garbage"])["lambda_outcome"], _props(cases["test_garbage"])["lambda_cause"]) == ("infra", "malformed")
    assert _props(cases["test_notjson"])["lambda_cause"] == "retries_spent" and _props(cases["test_hangup"])["lambda_cause"] == "retries_spent"
    assert "malformed response" in cases["test_notjson"].find("error").get("message", "")
    hangup = cases["test_hangup"].find("error").get("message", "")
    assert "infrastructure failure after 2 attempt(s)" in hangup and "connection lost" in hangup
    assert fake_lambda.state.attempts("test_bad.py::test_hangup") == 2


def test_endpoint_going_away_mid_run(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    import threading
    import time

    pytester.makepyfile(test_gone="def test_quick(): pass\n" + "\n".join(f"def test_slow5_{i}(): pass" for i in range(4)))

    def stop_after_first() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(c.ended and c.nodeid.endswith("test_quick") for c in fake_lambda.state.calls):
            time.sleep(0.02)
        fake_lambda.stop()  # connection refused from now on

    threading.Thread(target=stop_after_first, daemon=True).start()
    result = _run(pytester, bucket, "--lambda-concurrency=1", "--lambda-retries=1")
    passed_late = sum(1 for c in fake_lambda.state.calls if c.result == "passed" and not c.nodeid.endswith("quick"))
    result.assert_outcomes(passed=1 + passed_late)
    result.stdout.fnmatch_lines([f"*= {1 + passed_late} passed, {4 - passed_late} not run in *"])  # unreachable: not run, not errors
    cases = _cases(pytester)
    assert len(cases) == 5 and cases["test_quick"].find("error") is None
    for name, case in cases.items():
        error = case.find("error")
        if error is not None:
            assert "connection lost" in error.get("message", ""), name


def test_a_read_timeout_never_runs_a_test_twice(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_slow="def test_bigsleep3(): pass\ndef test_quick(): pass\n")
    result = _run(pytester, bucket, "--lambda-read-timeout=1", "--lambda-retries=3")
    result.assert_outcomes(passed=1, errors=1)
    message = _cases(pytester)["test_bigsleep3"].find("error").get("message", "")
    assert "no answer within the client's read timeout" in message and "not retried" in message
    assert _props(_cases(pytester)["test_bigsleep3"])["lambda_cause"] == "not_retried"
    assert fake_lambda.state.attempts("test_slow.py::test_bigsleep3") == 1  # zero duplicate executions


def test_invocations_are_signed_as_aws_checks_them(pytester: pytest.Pytester, s3_env: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in verifies SigV4 with botocore's signer on the path as it arrived: a function
    named by ARN (colons percent-encoded once on the wire, twice in the signature) still passes."""
    arn = "arn:aws:lambda:us-east-1:123456789012:function:ui-tests"
    api = FakeInvokeApi(FakeState(function=arn, secret_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"])).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", api.endpoint)
    try:
        pytester.makepyfile(test_signed="\n".join(f"def test_ok{i}(): pass" for i in range(5)))
        result = pytester.runpytest_subprocess("--lambda", f"--lambda-function={arn}", f"--artifacts=s3://{bucket}/runs", "--lambda-concurrency=3")
        result.assert_outcomes(passed=5)
        assert api.state.invoke_paths and all("arn%3Aaws%3Alambda" in path for path in api.state.invoke_paths)

        # The control: the same client with the wrong secret is refused at its first call.
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        api.state.calls.clear()
        refused = pytester.runpytest_subprocess("--lambda", f"--lambda-function={arn}", f"--artifacts=s3://{bucket}/runs", "--lambda-concurrency=3")
        assert refused.ret != 0
        assert "InvalidSignatureException" in refused.stdout.str() + refused.stderr.str()
        assert api.state.calls == []
    finally:
        api.stop()


def test_an_https_endpoint_is_trusted_through_aws_ca_bundle(pytester: pytest.Pytester, s3_env: Any, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Both paths (boto3 for the start-up checks, the invocation loop for the tests) verify TLS with
    the CA bundle boto3 is configured with; without it the run stops at its first call."""
    ca, server_tls = self_signed(tmp_path)
    api = FakeInvokeApi(FakeState(function="ui-tests"), tls=server_tls).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", api.endpoint)
    try:
        pytester.makepyfile(test_tls="\n".join(f"def test_ok{i}(): pass" for i in range(4)))
        monkeypatch.setenv("AWS_CA_BUNDLE", str(ca))
        _run(pytester, bucket, "--lambda-concurrency=2").assert_outcomes(passed=4)
        assert len(api.state.calls) == 4

        monkeypatch.delenv("AWS_CA_BUNDLE")
        untrusted = _run(pytester, bucket, "--lambda-concurrency=2")
        assert untrusted.ret != 0 and "certificate verify failed" in untrusted.stdout.str() + untrusted.stderr.str()
        assert len(api.state.calls) == 4
    finally:
        api.stop()


def _four_tests_pass(pytester: pytest.Pytester, bucket: str, api: FakeInvokeApi) -> None:
    pytester.makepyfile(test_four="\n".join(f"def test_ok{i}(): pass" for i in range(4)))
    _run(pytester, bucket, "--lambda-concurrency=2").assert_outcomes(passed=4)
    assert len(api.state.invoke_paths) == 5  # the info check and four tests


@contextmanager
def _behind_a_connect_proxy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, password: str) -> Iterator[tuple[FakeInvokeApi, ConnectProxy, str]]:
    """An HTTPS stand-in whose name only a CONNECT proxy (credentials ci:s3cret) can reach;
    HTTPS_PROXY gives ``password``. Yields the stand-in, the proxy and the endpoint's host:port."""
    ca, server_tls = self_signed(tmp_path, dns_names=("lambda.proxied.invalid",))
    api = FakeInvokeApi(FakeState(function="ui-tests", secret_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"]), tls=server_tls).start()
    target = f"lambda.proxied.invalid:{api.endpoint.rsplit(':', 1)[1]}"
    proxy = ConnectProxy(upstream=("127.0.0.1", int(target.rsplit(":", 1)[1])), credentials="ci:s3cret").start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", f"https://{target}")
    monkeypatch.setenv("AWS_CA_BUNDLE", str(ca))
    monkeypatch.setenv("HTTPS_PROXY", proxy.url.replace("s3cret", password))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the loopback S3 stays direct
    try:
        yield api, proxy, target
    finally:
        proxy.stop()
        api.stop()


def test_https_through_a_connect_proxy_with_credentials_carries_every_call(pytester: pytest.Pytester, s3_env: Any, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The corporate case on both paths (boto3's start-up checks, the invocation loop): an HTTPS
    endpoint whose name only the proxy can reach, tunnels opened with CONNECT and the proxy's
    credentials from HTTPS_PROXY, TLS verified for the endpoint's name with AWS_CA_BUNDLE."""
    with _behind_a_connect_proxy(monkeypatch, tmp_path, "s3cret") as (api, proxy, target):
        _four_tests_pass(pytester, bucket, api)
        assert proxy.tunnels and set(proxy.tunnels) == {target}
        assert proxy.refused == 0


def test_a_proxy_that_refuses_the_credentials_stops_the_run_at_start_up(pytester: pytest.Pytester, s3_env: Any, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Wrong proxy credentials: one message that names the proxy variables, the password not shown, nothing invoked."""
    with _behind_a_connect_proxy(monkeypatch, tmp_path, "wr0ng") as (api, proxy, target):
        pytester.makepyfile(test_refused="def test_ok(): pass\n")
        result = _run(pytester, bucket, "--lambda-concurrency=2")
        output = result.stdout.str() + result.stderr.str()
        assert result.ret == pytest.ExitCode.USAGE_ERROR, output
        assert f"cannot reach Lambda at https://{target} through the proxy" in output
        assert "Check HTTPS_PROXY/HTTP_PROXY" in output and "wr0ng" not in output
        assert proxy.refused >= 1 and api.state.invoke_paths == []


def test_in_lambda_pytest_does_not_warn_that_the_plugin_was_imported_first(pytester: pytest.Pytester) -> None:
    """The handler imports runner and lambda_pkg before pytest starts; an installed (not editable)
    package is marked for assertion rewriting, which would warn in every invocation's output."""
    pytester.makeconftest("import lambda_ui.runner, lambda_ui.function, pytest\npytest.register_assert_rewrite('lambda_ui')\n")
    pytester.makepyfile(test_x="def test_x(): pass\n")
    result = pytester.runpytest_subprocess("-W", "error::pytest.PytestAssertRewriteWarning", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_http_proxy_from_the_environment_carries_every_call(pytester: pytest.Pytester, s3_env: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY is honoured on both paths (boto3's start-up checks, the invocation loop):
    the Lambda endpoint's host does not resolve, so only the proxy can reach it. The stand-in
    plays the proxy and still checks each signature, made for the endpoint's host."""
    api = FakeInvokeApi(FakeState(function="ui-tests", secret_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"])).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", "http://lambda.proxied.invalid:9")
    monkeypatch.setenv("HTTP_PROXY", api.endpoint)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")  # the loopback S3 stays direct
    try:
        _four_tests_pass(pytester, bucket, api)
        assert api.state.proxied_requests >= 6  # and GetFunctionConcurrency, all by the proxy
    finally:
        api.stop()


def test_the_seed_pytest_randomly_prints_is_the_one_the_function_uses(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each function session picked a seed of its own: the one the terminal printed did not
    # reproduce what the tests drew (seen: 683022203 in Lambda, 697562935 locally with it).
    monkeypatch.setenv("PYTHONPATH", os.path.join(REPO, ".venv", "randomly-plugin"))  # scripts/setup.sh
    fake_lambda.state.distributions["pytest-randomly"] = "5.1.0"  # the image has it too
    pytester.makepyfile(test_suite="def test_a(): pass\n\ndef test_b(): pass\n")

    def seeds_sent(*args: str) -> tuple[set[str], str]:
        del fake_lambda.state.events[:]
        result = _run(pytester, bucket, *args)
        assert result.ret == 0, result.stdout.str()
        printed = re.findall(r"Using --randomly-seed=(\d+)", result.stdout.str())
        sent = {a for e in fake_lambda.state.events for a in e["pytest_args"] if "randomly" in a}
        return sent, printed[0] if printed else ""

    sent, printed = seeds_sent()
    assert printed and sent == {f"--randomly-seed={printed}"}, (sent, printed)
    # "last" is read from this machine's cache, where the run above wrote it.
    assert seeds_sent("--randomly-seed=last") == ({f"--randomly-seed={printed}"}, printed)
    assert seeds_sent("--randomly-seed=7") == ({"--randomly-seed=7"}, "7")
    assert seeds_sent("-p", "no:randomly") == ({"no:randomly"}, "")  # off here, so off there


#: What scripts/setup.sh installs in .venv/parity-plugins, as the image's distributions.
PARITY_PLUGINS = {"pytest-dependency": "0.6.1", "pytest-order": "1.5.0", "pytest-cov": "7.1.0", "coverage": "7.17.5", "pytest-rerunfailures": "16.7"}


@pytest.fixture
def parity_plugins(fake_lambda: FakeInvokeApi, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugins of .venv/parity-plugins (scripts/setup.sh) here and, as distributions, in the image."""
    monkeypatch.setenv("PYTHONPATH", os.path.join(REPO, ".venv", "parity-plugins"))
    fake_lambda.state.distributions.update(PARITY_PLUGINS)


def _warns_only_without(pytester: pytest.Pytester, bucket: str, args: list[str], warning: str, quiet: list[str], word: str) -> None:
    """A run with ``args`` prints ``warning`` (a glob); with ``quiet`` added, nothing with ``word``."""
    result = _run(pytester, bucket, *args)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines([warning])
    again = _run(pytester, bucket, *args, *quiet)
    assert again.ret == 0 and word not in again.stdout.str(), again.stdout.str()


DEPENDENT_SUITE = """
import pytest

@pytest.mark.dependency()
def test_login(): pass

@pytest.mark.dependency(depends=["test_login"])
def test_dashboard(): pass

@pytest.mark.dependency(depends=["test_login"])
def test_settings(): pass

def test_plain(): pass
"""


def test_tests_that_depend_on_other_tests_are_named_before_the_run(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, parity_plugins: None
) -> None:
    # pytest-dependency skipped test_dashboard in the function (its dependency ran in another
    # invocation) and ran it locally; nothing said why outcomes differed (seen through the local Lambda).
    pytester.makepyfile(test_suite=DEPENDENT_SUITE)
    # Without the plugin the mark is inert, here and in the function: nothing to say.
    _warns_only_without(
        pytester, bucket, [],
        "lambda: WARNING: 2 test(s) depend on other tests (pytest-dependency's depends=): test_suite.py::test_dashboard and 1 more. "
        "Each test runs in an invocation of its own*Run them without --lambda (e.g. pytest -m dependency)*",
        ["-p", "no:dependency"], "depend on other tests",
    )
    sent = Counter(n for e in fake_lambda.state.events for n in e["nodeids"])
    assert sent == {f"test_suite.py::test_{name}": 2 for name in ("login", "dashboard", "settings", "plain")}, "each run dispatches every test"


def test_tests_pytest_order_places_are_named_before_the_run(pytester: pytest.Pytester, bucket: str, parity_plugins: None) -> None:
    # pytest-order 1.5.0 through the local Lambda: create, use, delete in order locally (3 passed);
    # dispatched at once, 2 failed, with nothing saying the order was not kept.
    pytester.makepyfile(
        test_flow="import pytest\n\n@pytest.mark.order(2)\ndef test_use(): pass\n\n@pytest.mark.order(1)\ndef test_create(): pass\n\ndef test_free(): pass\n"
    )
    _warns_only_without(
        pytester, bucket, [],
        "lambda: WARNING: 2 test(s) carry pytest-order marks (first: test_flow.py::test_create). --lambda runs every test at once*",
        ["-p", "no:pytest_order"], "pytest-order",
    )


def test_coverage_of_this_process_is_named_before_the_run(pytester: pytest.Pytester, bucket: str, parity_plugins: None) -> None:
    # --cov reported 25 % under --lambda against 75 % locally (pytest-cov 7.1.0 through the local
    # Lambda): it measured the client, where the tests are only collected.
    pytester.makepyfile(test_suite="def test_a(): pass\n")
    # With --no-cov (pytest-cov's own switch) nothing is measured here: nothing to say.
    _warns_only_without(
        pytester, bucket, ["--cov=test_suite"],
        "lambda: WARNING: --cov (pytest-cov) measures this process*add --no-cov to --lambda runs.",
        ["--no-cov"], "pytest-cov",
    )


def test_a_conftest_that_tells_xdist_s_controller_by_workerinput_is_named_before_the_run(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str
) -> None:
    # Tried through the local Lambda: a sessionfinish that posts results "once, from the controller"
    # (not hasattr(config, "workerinput")) posted from the function's sessions and from here.
    pytester.makeconftest(
        "import os\n\ndef pytest_sessionfinish(session):\n"
        "    if not hasattr(session.config, 'workerinput'):\n        print('posting the results')\n"
    )
    pytester.mkpydir("api")
    (pytester.path / "api" / "conftest.py").write_text("import os\n\nWORKER = os.environ.get('PYTEST_XDIST_WORKER')\n")
    (pytester.path / "api" / "test_api.py").write_text("def test_a(): pass\n")
    result = _run(pytester, bucket)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["lambda: WARNING: conftest.py tells pytest-xdist's workers from its controller by config.workerinput*"
         "Check os.environ.get('PYTEST_XDIST_WORKER') instead: set in the function, as on xdist's workers, and unset here."]
    )
    assert "api/conftest.py" not in result.stdout.str()  # it reads PYTEST_XDIST_WORKER already


SKIPPING_SUITE = """
import os
import pytest

@pytest.mark.skipif(not os.getenv("SHOP_API_TOKEN"), reason="needs SHOP_API_TOKEN")
def test_marked(): pass

@pytest.mark.skipif("sys.platform == 'nowhere'", reason="not on this platform")
def test_string_condition(): pass

def test_called(): pass

def test_unknown_here(): pass

@pytest.mark.skipif(True, reason="skipped everywhere, SHOP_API_TOKEN or not")
def test_skipped_here_too(): pass

def test_handed(): pass

def test_optional(): pass

def test_optional_nowhere(): pass

def test_reserved(): pass
"""


def test_a_skip_this_machine_would_not_make_says_what_differs(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tried through the local Lambda: 4 passed locally, 3 skipped under --lambda with the run
    # green and nothing saying fewer tests ran (the token was set in the CI shell only).
    monkeypatch.setenv("SHOP_API_TOKEN", "secret-value")
    monkeypatch.setenv("HANDED_TOKEN", "another-secret")
    pytester.makepyfile(test_suite=SKIPPING_SUITE)
    reasons = {
        "test_marked": "needs SHOP_API_TOKEN",
        "test_string_condition": "not on this platform",
        "test_called": "no SHOP_API_TOKEN in the environment",
        "test_unknown_here": "needs NOT_SET_ANYWHERE",
        "test_skipped_here_too": "skipped everywhere, SHOP_API_TOKEN or not",
        "test_handed": "needs HANDED_TOKEN",
        "test_optional": "could not import 'selenium.webdriver': No module named 'selenium'",
        "test_optional_nowhere": "could not import 'no_such_module_here': No module named 'no_such_module_here'",
        "test_reserved": "needs a PATH with the app's CLI",  # set here, but the runtime's own: not for --lambda-env
    }
    for name, reason in reasons.items():
        nodeid = f"test_suite.py::{name}"
        fake_lambda.state.answer_extras[name] = {
            "reports": [scripted_report(nodeid, "setup", "skipped", ["test_suite.py", 3, reason]), scripted_report(nodeid, "teardown", "passed")]
        }
    result = _run(pytester, bucket, "-rs", "--lambda-env=HANDED_TOKEN")
    assert result.ret == 0, result.stdout.str()
    messages = {name: case.find("skipped").get("message") for name, case in _cases(pytester).items()}  # type: ignore[union-attr]
    hint = "(in Lambda only: SHOP_API_TOKEN is set here and not handed to the function (--lambda-env SHOP_API_TOKEN))"
    assert messages == {
        "test_marked": f"needs SHOP_API_TOKEN {hint}",
        "test_string_condition": "not on this platform (in Lambda only: its skip condition is false here: the function's environment differs (a variable, a file, the platform))",
        "test_called": f"no SHOP_API_TOKEN in the environment {hint}",
        "test_unknown_here": "needs NOT_SET_ANYWHERE",
        "test_skipped_here_too": "skipped everywhere, SHOP_API_TOKEN or not",
        "test_handed": "needs HANDED_TOKEN",
        "test_optional": "could not import 'selenium.webdriver': No module named 'selenium' (in Lambda only: selenium.webdriver imports here "
        "but not in the function's image: add its distribution to the requirements file the image is built with (--lambda-requirements))",
        "test_optional_nowhere": "could not import 'no_such_module_here': No module named 'no_such_module_here'",
        "test_reserved": "needs a PATH with the app's CLI",
    }
    result.stdout.fnmatch_lines(["lambda: 4 test(s) were skipped in the function that this machine would run (test_suite.py::test_called*each skip's reason says what differs*"])
    assert "secret-value" not in result.stdout.str()


def test_a_module_skipped_there_skips_only_its_own_tests_and_a_malformed_one_says_nothing(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str
) -> None:
    pytester.makepyfile(test_suite="def test_in_it(): pass\ndef test_garbled(): pass\ndef test_elsewhere(): pass\n")

    def skipped_collector(nodeid: str, longrepr: object) -> dict[str, Any]:
        return {"$report_type": "CollectReport", "nodeid": nodeid, "outcome": "skipped", "longrepr": longrepr, "result": [], "sections": []}

    fake_lambda.state.answer_extras["test_in_it"] = {"reports": [], "collect_reports": [skipped_collector("test_suite.py", ["test_suite.py", 4, "Skipped: needs the staging app"])]}
    fake_lambda.state.answer_extras["test_garbled"] = {"reports": [], "collect_reports": [skipped_collector("test_suite.py", "not a (path, line, reason)")]}
    fake_lambda.state.answer_extras["test_elsewhere"] = {"reports": [], "collect_reports": [skipped_collector("test_suite.py::test_in_it", ["test_suite.py", 4, "Skipped: x"])]}
    result = _run(pytester, bucket)
    outcomes = {name: (case.find("skipped") is not None, case.find("error") is not None) for name, case in _cases(pytester).items()}
    assert outcomes == {"test_in_it": (True, False), "test_garbled": (False, True), "test_elsewhere": (False, True)}, result.stdout.str()
    assert _cases(pytester)["test_in_it"].find("skipped").get("message") == "needs the staging app"  # type: ignore[union-attr]


def test_a_certificate_trusted_only_here_is_named_on_the_test(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The app's certificate is signed by a CA this machine trusts (SSL_CERT_FILE, as a company CA
    # on a CI machine); the function's Chrome answered ERR_CERT_AUTHORITY_INVALID. The app is
    # named by this machine's host name: a loopback address is the loopback hint's.
    host = socket.gethostname()
    try:
        socket.getaddrinfo(host, None)
    except OSError:
        pytest.skip(f"this machine's host name {host!r} does not resolve here")
    ca, server_tls = self_signed(tmp_path, dns_names=(host,))
    listener = socket.create_server(("", 0))
    port = listener.getsockname()[1]

    def handshake_once() -> None:
        conn, _ = listener.accept()
        with contextlib.suppress(OSError), server_tls.wrap_socket(conn, server_side=True):
            pass

    server = threading.Thread(target=handshake_once, daemon=True)
    server.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    pytester.makeconftest("def pytest_addoption(parser):\n    parser.addoption('--app-url')\n")
    pytester.makepyfile(test_suite="def test_home(): pass\n")
    nodeid = "test_suite.py::test_home"
    untrusted = "WebDriverException: Message: unknown error: net::ERR_CERT_AUTHORITY_INVALID"
    fake_lambda.state.answer_extras["test_home"] = {
        "reports": [scripted_report(nodeid, "setup", "passed"), scripted_report(nodeid, "call", "failed", untrusted), scripted_report(nodeid, "teardown", "passed")],
        "exit_code": 1,
    }
    result = _run(pytester, bucket, f"--app-url=https://{host}:{port}/")
    server.join(timeout=10)
    listener.close()
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines([f"*the test's certificate check failed, and this machine verifies the certificate of https://{host}:{port} (command line)*"])


def test_written_files_an_answer_names_come_back_only_as_plain_paths_of_this_run(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, s3_client: Any
) -> None:
    """Files a test wrote below the rootdir in the function return to the same path here, and
    nothing an answer names lands outside the rootdir, through a link, over the suite's own
    source, in a dot folder, or from another run."""
    pytester.makepyfile(test_suite="def test_a(): pass\n")
    outside = pytester.path.parent / f"{pytester.path.name}-outside"
    outside.mkdir()
    (pytester.path / "linked").symlink_to(outside, target_is_directory=True)
    run = "runs/r-written/_written/0a1b2c/"
    wanted = {"screenshots/test_a.png": b"\x89PNG fake", "out/deep/result.json": b'{"ok": true}'}
    for path, body in wanted.items():
        s3_client.put_object(Bucket=bucket, Key=run + path, Body=body)
    hostile = {
        "../escape.txt": run + "../escape.txt",  # out of the rootdir
        "linked/through.png": run + "linked/through.png",  # through a link
        "test_suite.py": run + "test_suite.py",  # the suite's own source
        ".git/hooks/pre-commit.txt": run + ".git/hooks/pre-commit.txt",  # a dot folder
        "other.png": "runs/other-run/_written/0a/other.png",  # another run's key
        "mismatch.png": run + "something-else.png",  # a key that is not its path
        "a\\b.png": run + "a\\b.png",
    }
    for key in hostile.values():
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"must not be written")
    entries = [{"path": p, "key": run + p} for p in wanted] + [{"path": p, "key": k} for p, k in hostile.items()]
    entries += [{"path": "kept.sqlite", "key": run + "kept.sqlite"}, "not an object", {"path": 5, "key": run + "x"}]
    s3_client.put_object(Bucket=bucket, Key=run + "kept.sqlite", Body=b"db")
    fake_lambda.state.answer_extras["test_a"] = {"written_files": entries}

    result = _run(pytester, bucket, "--run-id=r-written")
    assert result.ret == 0, result.stdout.str()
    umask = os.umask(0o022)
    os.umask(umask)
    for path, body in wanted.items():
        assert (pytester.path / path).read_bytes() == body
        assert (pytester.path / path).stat().st_mode & 0o777 == 0o666 & ~umask  # as a test's open() makes it
    assert (pytester.path / "test_suite.py").read_text() == "def test_a(): pass"
    assert not list(outside.iterdir())
    assert not (pytester.path / ".git").exists() and not (pytester.path.parent / "escape.txt").exists()
    assert not (pytester.path / "other.png").exists() and not (pytester.path / "mismatch.png").exists()
    assert not (pytester.path / "kept.sqlite").exists()  # not matched by lambda_return_files: stays in S3
    result.stdout.fnmatch_lines(
        [
            f"lambda: 2 file(s) the tests wrote in Lambda are back in {pytester.path}: *out/ (1)*",
            "lambda: 1 file(s) the tests wrote in Lambda stay in S3, linked on their tests (kept.sqlite): name them in the ini lambda_return_files*",
        ]
    )
    stdout = result.stdout.str()
    assert stdout.count(": not a plain path below the rootdir") == 5, stdout  # ../, dot folder, backslash, two malformed
    assert stdout.count("is not one of this run's written files") == 2, stdout  # another run's key, a key that is not its path
    assert "test_suite.py: the bundle shipped it" in stdout
    assert "linked/through.png: " in stdout and "is a link or a file, not a folder" in stdout


def test_the_log_file_gets_each_answer_s_records_and_survives_malformed_ones(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makeini("[pytest]\nlog_file = logs/run.log\nlog_file_level = INFO\n")
    pytester.makepyfile(test_suite="def test_a(): pass\ndef test_b(): pass\ndef test_c(): pass\ndef test_d(): pass\n")
    fake_lambda.state.answer_extras["test_a"] = {"log_text": "INFO a ran\n"}
    fake_lambda.state.answer_extras["test_b"] = {"log_text": "INFO b ran, \udcff without a newline"}  # a lone surrogate, as JSON allows
    fake_lambda.state.answer_extras["test_c"] = {"log_text": {"not": "text"}}
    fake_lambda.state.answer_extras["test_d"] = {"log_text": "x" * (MAX_LOG_TEXT_BYTES + 10)}
    result = _run(pytester, bucket)
    assert result.ret == 0, result.stdout.str()
    lines = (pytester.path / "logs" / "run.log").read_text().splitlines()
    assert "INFO a ran" in lines and "INFO b ran, ? without a newline" in lines, lines
    assert ["x" * MAX_LOG_TEXT_BYTES] == [line for line in lines if line.startswith("x")]
    assert {event["log_file"] for event in fake_lambda.state.events if event.get("kind") == "run"} == {True}


def test_without_a_log_file_the_function_is_not_asked_for_records(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_suite="def test_a(): pass\n")
    fake_lambda.state.answer_extras["test_a"] = {"log_text": "INFO a ran\n"}
    assert _run(pytester, bucket).ret == 0
    assert {event["log_file"] for event in fake_lambda.state.events if event.get("kind") == "run"} == {False}
    assert not (pytester.path / "logs").exists()


def test_a_file_the_bundle_left_out_is_named_on_the_test_that_failed_opening_it(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str
) -> None:
    """Outside git a data file a test opens only while it runs is not in the bundle: the test
    fails in Lambda with FileNotFoundError and passes here. The failure says which file and
    what to do; a name that is the bundle's own, outside the rootdir or not here says nothing."""
    pytester.makepyfile(test_suite="def test_reads(): pass\n")
    (pytester.path / "data.txt").write_text("here, not in the bundle")
    (pytester.path / "sub").mkdir()
    (pytester.path / "sub" / "users.csv").write_text("ada")
    (pytester.path.parent / "secret.txt").write_text("outside the rootdir")
    copy = "/tmp/lambda-ui/bundles/" + "ab" * 32
    names = ["data.txt", f"{copy}/sub/users.csv", "test_suite.py", "../secret.txt", "/etc/hostname", "not-here.txt"]
    text = "\n".join(f"E   FileNotFoundError: [Errno 2] No such file or directory: '{name}'" for name in names)
    nodeid = "test_suite.py::test_reads"
    reports = [scripted_report(nodeid, "setup", "passed"), scripted_report(nodeid, "call", "failed", text), scripted_report(nodeid, "teardown", "passed")]
    fake_lambda.state.answer_extras["test_reads"] = {"reports": reports, "exit_code": 1}
    result = _run(pytester, bucket)
    assert result.ret == 1, result.stdout.str()
    why = "it is here, but outside git the bundle holds only the files collection imported or read, so the function's copy lacks it"
    result.stdout.fnmatch_lines(  # exactly these two names, nothing between the section's title and the next output
        ["*- lambda-ui: not in the test bundle -*", f"data.txt: {why}: name it in the ini lambda_bundle_include", f"sub/users.csv: {why}: *", "- generated xml file*"],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        ["lambda: 1 test(s) failed in Lambda opening files that are here but not in the test bundle (data.txt, sub/users.csv): name them in the ini lambda_bundle_include"]
    )



def test_a_variable_set_here_and_not_handed_over_is_named_on_the_test_that_failed_reading_it(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CI job sets SHOP_USER; the suite reads os.environ["SHOP_USER"]; the function never had
    it. The failure names the variable and --lambda-env, never its value; a variable handed over,
    one not set here, or a lowercase dict key outside the environment says nothing."""
    pytester.makepyfile(test_suite="def test_reads(): pass\ndef test_dict(): pass\n")
    monkeypatch.setenv("SHOP_USER", "value-never-shown")
    monkeypatch.setenv("BASE_URL", "https://pr-7.preview.example")
    monkeypatch.setenv("user_name", "ada")
    monkeypatch.delenv("NOT_SET_HERE", raising=False)
    texts = {
        "test_reads": "\n".join(f"E   KeyError: '{name}'" for name in ("SHOP_USER", "BASE_URL", "NOT_SET_HERE")),
        "test_dict": "    row = users[0]['user_name']\nE   KeyError: 'user_name'",
    }
    for test, text in texts.items():
        nodeid = f"test_suite.py::{test}"
        reports = [scripted_report(nodeid, "setup", "passed"), scripted_report(nodeid, "call", "failed", text), scripted_report(nodeid, "teardown", "passed")]
        fake_lambda.state.answer_extras[test] = {"reports": reports, "exit_code": 1}
    result = _run(pytester, bucket, "--lambda-env", "BASE_URL")
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(  # exactly one name, nothing between the section's title and the next test
        [
            "*- lambda-ui: not in the function's environment -*",
            "SHOP_USER: set here, but the function's tests see the function's environment, not this shell's: "
            "hand it over with --lambda-env SHOP_USER (or the ini lambda_env), or set it in the function's Environment",
            "*_ test_dict _*",
        ],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(["lambda: 1 test(s) failed in Lambda reading environment variables set here but not in the function (SHOP_USER): *"])
    assert "value-never-shown" not in result.stdout.str() and result.stdout.str().count("not in the function's environment -") == 1


def test_lambda_env_hands_named_variables_to_the_function_and_refuses_the_runtime_s(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_suite="def test_a(): pass\n")
    pytester.makeini("[pytest]\nlambda_env =\n    SHOP_USER=ada\n    BASE_URL\n")
    monkeypatch.setenv("BASE_URL", "https://pr-7.preview.example")
    monkeypatch.setenv("NOT_ASKED_FOR", "stays here")
    result = _run(pytester, bucket, "--lambda-env", "SHOP_PASSWORD=s3cret", "--lambda-env=EMPTY=")
    assert result.ret == 0, result.stdout.str()
    events = fake_lambda.state.events
    assert events and all(
        e["env"] == {"SHOP_USER": "ada", "BASE_URL": "https://pr-7.preview.example", "SHOP_PASSWORD": "s3cret", "EMPTY": ""} for e in events
    )
    assert not any("lambda-env" in arg or "lambda_env" in arg for e in events for arg in e["pytest_args"])  # the client's option

    for args, message in [
        (["--lambda-env", "UNSET_HERE"], "--lambda-env UNSET_HERE: it is not set here; set it, give UNSET_HERE=VALUE, or leave it out"),
        (["--lambda-env", "AWS_SECRET_ACCESS_KEY"], "--lambda-env: AWS_SECRET_ACCESS_KEY is the runtime's or the runner's own*"),
        (["--lambda-env", "PYTEST_ADDOPTS=-x"], "--lambda-env: PYTEST_ADDOPTS is the runtime's or the runner's own*"),
        (["--lambda-env", "9LIVES=1"], "--lambda-env: '9LIVES' is not an environment variable name*"),
    ]:
        refused = _run(pytester, bucket, *args)
        assert refused.ret == 4, refused.stdout.str()
        refused.stderr.fnmatch_lines([f"ERROR: {message}"])


def test_the_dry_run_names_the_variables_and_the_working_folder_never_a_value(
    pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\n")
    (pytester.path / "ui").mkdir()
    (pytester.path / "ui" / "test_a.py").write_text("def test_a(): pass\n")
    monkeypatch.setenv("SHOP_PASSWORD", "s3cret-value")
    monkeypatch.chdir(pytester.path / "ui")
    result = _run(pytester, bucket, "--lambda-dry-run", "--lambda-env", "SHOP_PASSWORD", "--lambda-env=BASE_URL=https://pr-7.example")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "lambda dry run: the tests get BASE_URL, SHOP_PASSWORD from --lambda-env (values not shown)",
            "lambda dry run: the tests run in ui/ of the bundle, where pytest started here",
        ]
    )
    assert "s3cret-value" not in result.stdout.str() + result.stderr.str() and "pr-7" not in result.stdout.str()
    assert not fake_lambda.state.events
