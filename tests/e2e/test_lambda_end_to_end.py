"""pytest --lambda end to end: boto3 -> local Lambda -> the real handler -> Chromium -> loopback S3.

The same suites give the same outcomes, messages and exit code as a local run.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from lambda_ui.local_lambda import (
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
)
from tests.conftest import REPO

#: On the headless shell (tests/conftest.py): the runner's whole path once more, on the second
#: browser it supports; users' suites run through the Lambda on Chrome in test_byo_suites.py.
pytestmark = [pytest.mark.e2e, pytest.mark.headless_shell]
DEMO = "examples/demo"
#: allure-pytest, installed apart by scripts/setup.sh: on PYTHONPATH for the Allure test's client
#: and for this module's function environments only (tests/e2e: test_allure_results_...).
SUITE_PLUGINS = os.path.join(REPO, ".venv", "suite-plugins")


class Stack:
    def __init__(self, s3: LoopbackS3, bucket: str, lam: LocalLambda) -> None:
        self.s3, self.bucket, self.lam = s3, bucket, lam

    def env(self) -> dict[str, str]:
        return {**os.environ, **AWS_TEST_ENV, "AWS_ENDPOINT_URL_S3": self.s3.endpoint, "AWS_ENDPOINT_URL_LAMBDA": self.lam.endpoint}

    def pytest(self, *args: str, lambda_mode: bool = True, cwd: str = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        extra = ["--lambda", "--lambda-function=UiTestFunction", f"--artifacts=s3://{self.bucket}/runs"] if lambda_mode else []
        return subprocess.run([sys.executable, "-m", "pytest", *extra, *args], cwd=cwd, env={**self.env(), **(env or {})}, capture_output=True, text=True, timeout=600)




@pytest.fixture(scope="module")
def stack(loopback_s3: LoopbackS3) -> Iterator[Stack]:
    bucket = "e2e-artifacts"
    assert os.path.isdir(SUITE_PLUGINS), f"{SUITE_PLUGINS} is missing: run scripts/setup.sh"
    config = with_overrides(load_function_config(os.path.join(REPO, "template.yaml")), timeout=20, concurrency=3, env={"PYTHONPATH": SUITE_PLUGINS})
    # The stand-in hands these to its environments, as Lambda hands the function its configuration.
    with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=loopback_s3.endpoint, LAMBDA_UI_DEADLINE_MARGIN_S="3"):
        boto3.client("s3", endpoint_url=loopback_s3.endpoint).create_bucket(Bucket=bucket)
        with LocalLambda(config, Options(port=0, prestart=2, expect_credentials=EXPECTED_CREDENTIALS)) as lam:
            yield Stack(loopback_s3, bucket, lam)


def _cases(xml: Path) -> dict[tuple[str, str], ET.Element]:
    cases = list(ET.parse(xml).getroot().iter("testcase"))
    keys = [(c.get("classname", ""), c.get("name", "")) for c in cases]
    assert len(keys) == len(set(keys)), f"a test was reported more than once: {keys}"
    return dict(zip(keys, cases, strict=True))


def _outcome(case: ET.Element) -> tuple[str, str]:
    for tag in ("failure", "error", "skipped"):
        element = case.find(tag)
        if element is not None:
            return tag, element.get("message", "")
    return "passed", ""


def _stable(text: str | None) -> str:
    """A traceback without what differs between any two runs: browser session ids, the app's
    port, chromedriver's native stack addresses."""
    text = re.sub(r'session="[0-9a-f]+"', 'session="…"', text or "")
    text = re.sub(r"0x[0-9a-f]+", "0x…", text)
    return re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:…", text)


def _section(terminal: str, title: str) -> str:
    """The body of one of pytest's ``=== title ===`` sections."""
    found = re.search(rf"^=+ {title} =+$\n(.*?)^[=-]+ ", terminal, re.M | re.S)
    return found.group(1) if found else ""


def _props(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.findall("./properties/property")}


@pytest.fixture(scope="module")
def demo_local(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The demo suite run locally, once: both session modes are compared with the same run."""
    folder = tmp_path_factory.mktemp("demo-local")
    local = stack.pytest(DEMO, "-p", "no:cacheprovider", f"--junitxml={folder}/local.xml", f"--artifacts={folder}/a", lambda_mode=False)
    return local, folder / "local.xml"


@pytest.mark.parametrize("session", ["warm", "per-test"])
def test_demo_suite_matches_a_local_run(stack: Stack, demo_local: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path, session: str) -> None:
    local, local_xml = demo_local
    remote = stack.pytest(DEMO, "-p", "no:cacheprovider", f"--junitxml={tmp_path}/lambda.xml", "--lambda-concurrency=3", f"--lambda-session={session}")
    assert remote.returncode == local.returncode == 1, remote.stdout[-3000:]
    summary = [line for line in remote.stdout.splitlines() if line.startswith("=") and " in " in line][-1]
    assert "1 failed, 2 passed, 1 skipped, 1 xfailed, 1 warning, 1 error" in summary, summary
    # The warning a test raised in Lambda is in the summary as a local run shows it.
    assert _section(remote.stdout, "warnings summary") == _section(local.stdout, "warnings summary") != ""
    # The failing test's log record is its "Captured log", once, as locally: the runtime's own
    # log handler does not print it a second time into the test's captured stdout.
    for run in (local, remote):
        assert "the product page says 'Ridgeline Down Jacket'" in run.stdout and "Captured stdout call" not in run.stdout, run.stdout[-3000:]
    local_cases, remote_cases = _cases(local_xml), _cases(tmp_path / "lambda.xml")
    assert set(local_cases) == set(remote_cases)
    for key, case in local_cases.items():
        remote_outcome, local_outcome = _outcome(remote_cases[key]), _outcome(case)
        assert (remote_outcome[0], _stable(remote_outcome[1])) == (local_outcome[0], _stable(local_outcome[1])), key
        assert _stable(remote_cases[key].findtext("failure")) == _stable(case.findtext("failure"))
    # Failing tests link their artifacts in S3, in both conventions.
    s3 = boto3.client("s3", endpoint_url=stack.s3.endpoint)
    for key, case in remote_cases.items():
        outcome, _ = _outcome(case)
        props = _props(case)
        assert props["lambda_attempts"] == "1" and props["lambda_request_ids"], key
        names = [p.get("name") for p in case.findall("./properties/property")]
        assert len(names) == len(set(names)), f"{key}: a property appears twice: {names}"
        if outcome in ("failure", "error"):
            shot = props["artifact:failure-screenshot.png"]
            assert shot.startswith(f"s3://{stack.bucket}/runs/") and f"[[ATTACHMENT|{shot}]]" in (case.findtext("system-out") or "")
            bucket, _, object_key = shot[5:].partition("/")
            assert s3.get_object(Bucket=bucket, Key=object_key)["Body"].read().startswith(b"\x89PNG")


def _one_test_on_lambda(stack: Stack, tmp_path: Path, source: str) -> tuple[subprocess.CompletedProcess[str], ET.Element]:
    """Run a one-test suite with --lambda; its JUnit test case."""
    work = tmp_path / "suite"
    work.mkdir()
    (work / "test_one.py").write_text(source)
    result = stack.pytest("--junitxml=r.xml", "-p", "no:cacheprovider", cwd=str(work))
    (case,) = _cases(work / "r.xml").values()
    return result, case


SCREENSHOT_ON_FAILURE = """
import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    driver = item.funcargs.get("browser")
    if report.when == "call" and report.failed and driver is not None:
        os.makedirs("screenshots", exist_ok=True)
        driver.save_screenshot(f"screenshots/{item.name}.png")
"""


def test_a_screenshot_the_suite_saves_itself_lands_where_a_local_run_puts_it(stack: Stack, tmp_path: Path) -> None:
    # The conftest many suites have: on failure, the driver's screenshot in screenshots/ beside
    # the suite, archived by CI from there. In the function it went into the bundle's copy in /tmp.
    work = tmp_path / "suite"
    work.mkdir()
    (work / "conftest.py").write_text(SCREENSHOT_ON_FAILURE)
    (work / "test_shop.py").write_text(
        "def test_checkout(browser):\n    browser.get('data:text/html,<h1>Checkout</h1>')\n    assert browser.title == 'Paid'\n"
    )
    result = stack.pytest("--junitxml=r.xml", "-p", "no:cacheprovider", cwd=str(work))
    assert result.returncode == 1, result.stdout[-3000:]
    assert (work / "screenshots" / "test_checkout.png").read_bytes().startswith(b"\x89PNG\r\n")
    assert f"1 file(s) the tests wrote in Lambda are back in {work}: screenshots/ (1)" in result.stdout
    (case,) = _cases(work / "r.xml").values()
    assert _props(case)["artifact:written/screenshots/test_checkout.png"].startswith(f"s3://{stack.bucket}/runs/")


@pytest.mark.parametrize("session", ["warm", "per-test"])
def test_tests_run_in_the_folder_below_the_rootdir_pytest_started_in(stack: Stack, tmp_path: Path, session: str) -> None:
    # The ini file at the repository's root, the suite started from ui/: locally a test opens
    # data.txt and an option's users.json from ui/, and its output lands in ui/. In the
    # function every test ran at the rootdir: FileNotFoundError.
    work = tmp_path / "repo"
    (work / "ui").mkdir(parents=True)
    (work / "pyproject.toml").write_text("[tool.pytest.ini_options]\nlambda_bundle_include = ['ui/*.txt', 'ui/*.json']\n")
    (work / "ui" / "data.txt").write_text("hello\n")
    (work / "ui" / "users.json").write_text('["ada"]\n')
    (work / "ui" / "conftest.py").write_text(
        "def pytest_addoption(parser):\n    parser.addoption('--users-file')\n"
    )
    (work / "ui" / "test_here.py").write_text(
        "import json\n\n"
        "def test_reads_beside_itself(request):\n"
        "    assert open('data.txt').read() == 'hello\\n'\n"
        "    assert json.load(open(request.config.getoption('users_file'))) == ['ada']\n"
        "    open('out.txt', 'w').write('written in ui/')\n"
    )
    args = ("--junitxml=r.xml", "-p", "no:cacheprovider", f"--lambda-session={session}", "--users-file=users.json")
    local = stack.pytest(*args, lambda_mode=False, cwd=str(work / "ui"))
    assert local.returncode == 0, local.stdout[-3000:]
    (work / "ui" / "out.txt").unlink()
    result = stack.pytest(*args, cwd=str(work / "ui"))
    assert result.returncode == 0, result.stdout[-3000:]
    assert (work / "ui" / "out.txt").read_text() == "written in ui/"
    (case,) = _cases(work / "ui" / "r.xml").values()
    assert _props(case)["nodeid"] == "ui/test_here.py::test_reads_beside_itself"


def test_a_failure_quoting_undecodable_bytes_is_the_test_s_failure(stack: Stack, tmp_path: Path) -> None:
    # A file name that is not UTF-8 comes back from os.listdir with lone surrogates, and pytest's
    # diff of two strings quotes them as they are. The Lambda runtime encodes its answer as UTF-8
    # and crashed on them: an infrastructure failure, three times.
    result, case = _one_test_on_lambda(stack, tmp_path, (
        "import os\n\ndef test_upload_names(tmp_path):\n"
        "    (tmp_path / os.fsdecode(b'r\\xe9sum\\xe9.pdf')).write_text('cv')\n"
        "    (name,) = os.listdir(tmp_path)\n"
        "    assert name == 'resume.pdf'\n"
    ))
    assert result.returncode == 1, result.stdout[-3000:]
    assert _outcome(case)[0] == "failure" and "\\udce9" in (case.findtext("failure") or ""), ET.tostring(case)[:2000]
    assert _props(case)["lambda_attempts"] == "1"


def test_properties_json_cannot_hold_are_recorded_as_junitxml_writes_them(stack: Stack, tmp_path: Path) -> None:
    # record_property with a datetime or a Path: a local --junitxml writes str(value); the runtime
    # could not encode the answer, and the passing test became an infrastructure failure.
    result, case = _one_test_on_lambda(stack, tmp_path, (
        "import datetime, pathlib\n\ndef test_records(record_property):\n"
        "    record_property('started', datetime.datetime(2026, 12, 1, 8, 0))\n"
        "    record_property('page', pathlib.Path('/pages/cart'))\n"
    ))
    assert result.returncode == 0, result.stdout[-3000:]
    assert (_props(case)["started"], _props(case)["page"], _props(case)["lambda_attempts"]) == ("2026-12-01 08:00:00", "/pages/cart", "1")


@pytest.fixture(scope="module")
def example_ids(stack: Stack) -> set[str]:
    """The example suite's node ids as pytest collects them locally (once for both session modes)."""
    collected = stack.pytest("--collect-only", "-q", "examples/ui", lambda_mode=False).stdout
    return {line for line in collected.splitlines() if "::" in line}


@pytest.mark.parametrize("session", ["warm", "per-test"])
def test_example_suite_passes_on_lambda(stack: Stack, example_ids: set[str], tmp_path: Path, session: str) -> None:
    remote = stack.pytest("examples/ui", "-p", "no:cacheprovider", f"--junitxml={tmp_path}/ui.xml", "--lambda-concurrency=3", f"--lambda-session={session}")
    assert remote.returncode == 0, remote.stdout[-3000:]
    cases = _cases(tmp_path / "ui.xml")
    assert len(cases) == len(example_ids) >= 30
    assert all(_outcome(c)[0] == "passed" for c in cases.values())


@pytest.mark.parametrize(
    "flags",
    [["-k", "home or catalogue"], ["-x", "--lambda-concurrency=1"], ["-m", "xfail"]],
    ids=["k", "exitfirst", "m"],
)
def test_selection_flags_behave_as_locally(stack: Stack, tmp_path: Path, flags: list[str]) -> None:
    extra = [f for f in flags if not f.startswith("--lambda")]
    local = stack.pytest(DEMO, "-p", "no:cacheprovider", f"--junitxml={tmp_path}/l.xml", f"--artifacts={tmp_path}/a", *extra, lambda_mode=False)
    # No history: with it the client dispatches longest first, and under -x which tests ran
    # before the first failure would follow the durations of earlier runs, not collection order.
    history = f"-olambda_history_file={tmp_path}/durations.json"
    remote = stack.pytest(DEMO, "-p", "no:cacheprovider", history, f"--junitxml={tmp_path}/r.xml", *flags)
    assert remote.returncode == local.returncode
    assert {k: _outcome(c)[0] for k, c in _cases(tmp_path / "r.xml").items()} == {k: _outcome(c)[0] for k, c in _cases(tmp_path / "l.xml").items()}


def test_last_failed_behaves_as_locally(stack: Stack, tmp_path: Path) -> None:
    work = tmp_path / "suite"
    work.mkdir()
    (work / "test_lf.py").write_text("def test_ok():\n    pass\n\ndef test_bad():\n    assert 1 == 2\n")
    first = stack.pytest("-p", "cacheprovider", "--junitxml=r1.xml", cwd=str(work))
    assert first.returncode == 1
    second = stack.pytest("-p", "cacheprovider", "--lf", "--junitxml=r2.xml", cwd=str(work))
    assert second.returncode == 1 and "run-last-failure: rerun previous 1 failure" in second.stdout
    assert list(_cases(work / "r2.xml")) == [("test_lf", "test_bad")]


@pytest.mark.parametrize("capture", ["-s", "--capture=tee-sys"])
def test_what_tests_print_reaches_this_terminal_under_s_as_locally(stack: Stack, tmp_path: Path, capture: str) -> None:
    work = tmp_path / "suite"
    work.mkdir()
    (work / "test_out.py").write_text(
        "import sys\n\ndef test_prints():\n    print('hello from the test')\n\n"
        "def test_fails():\n    print('on stderr', file=sys.stderr)\n    assert False\n"
    )
    local = stack.pytest(capture, "-p", "no:cacheprovider", "--artifacts=a", lambda_mode=False, cwd=str(work))
    remote = stack.pytest(capture, "-p", "no:cacheprovider", cwd=str(work))
    assert remote.returncode == local.returncode == 1
    for run in (local, remote):
        assert "hello from the test" in run.stdout and "on stderr" in run.stderr, run.stdout[-2000:]
        # Under -s nothing was captured, so the failure has no "Captured stderr" section; tee-sys keeps it.
        assert ("Captured stderr call" in run.stdout) == (capture != "-s"), run.stdout[-2000:]


def test_live_logs_reach_this_terminal_as_locally(stack: Stack, tmp_path: Path) -> None:
    work = tmp_path / "suite"
    work.mkdir()
    (work / "pytest.ini").write_text("[pytest]\nlog_cli = true\nlog_cli_level = INFO\n")
    (work / "test_log.py").write_text(
        "import logging\n\nlog = logging.getLogger('shop')\n\n"
        "def test_logs():\n    log.info('opened the cart')\n\n"
        "def test_fails():\n    log.warning('payment refused')\n    assert False\n"
    )
    local = stack.pytest("-p", "no:cacheprovider", "--artifacts=a", lambda_mode=False, cwd=str(work))
    remote = stack.pytest("-p", "no:cacheprovider", "--lambda-concurrency=1", cwd=str(work))
    assert remote.returncode == local.returncode == 1
    for run in (local, remote):
        for test, record in (("test_logs", "INFO     shop:test_log.py:6 opened the cart"), ("test_fails", "WARNING  shop:test_log.py:9 payment refused")):
            assert re.search(rf"test_log.py::{test} \n-+ live log call -+\n{re.escape(record)}\n(PASSED|FAILED)", run.stdout), run.stdout[-3000:]
    # The client's own AWS calls are not the suite's log.
    assert "botocore" not in remote.stdout, remote.stdout[-3000:]


def test_crash_and_lambda_timeout_are_reported_once_with_their_cause(stack: Stack, tmp_path: Path) -> None:
    work = tmp_path / "suite"
    work.mkdir()
    (work / "test_faults.py").write_text(
        "import os, signal, time\n\n"
        "from lambda_ui.function.deadline import DEADLINE_SIGNAL\n\n"
        "def test_fine():\n    pass\n\n"
        "def test_crash():\n    os.kill(os.getpid(), signal.SIGKILL)\n\n"
        "def test_blocks_the_deadline():\n"
        "    signal.pthread_sigmask(signal.SIG_BLOCK, {DEADLINE_SIGNAL})  # no deadline capture: Lambda's own timeout hits\n"
        "    time.sleep(60)\n"
    )
    result = stack.pytest("--junitxml=r.xml", "--lambda-retries=0", "-p", "no:cacheprovider", cwd=str(work))
    assert result.returncode == 1, result.stdout[-3000:]
    cases = _cases(work / "r.xml")
    outcomes = {name: _outcome(case) for (_cls, name), case in cases.items()}
    assert len(cases) == 3 and outcomes["test_fine"][0] == "passed", (outcomes, result.stdout[-3000:])
    crash = outcomes["test_crash"]
    assert crash[0] == "error" and "Runtime.ExitError" in crash[1] and "infrastructure failure after 1 attempt(s)" in crash[1], crash
    timeout = outcomes["test_blocks_the_deadline"]
    # The service reports the time it measured (20.00, or 20.03 on a busy machine).
    assert timeout[0] == "error" and re.search(r"Lambda timeout: Task timed out after 20\.\d\d seconds", timeout[1]), timeout


def test_throttles_at_reserved_concurrency_two_never_duplicate_a_test(loopback_s3: LoopbackS3, tmp_path: Path) -> None:
    """20 tests, 10 in flight asked, the function reserved at 2: throttles, all pass, one run each."""
    work = tmp_path / "suite"
    work.mkdir()
    (work / "test_many.py").write_text("import time\nimport pytest\n\n@pytest.mark.parametrize('n', range(20))\ndef test_step(n):\n    time.sleep(0.3)\n")
    config = with_overrides(load_function_config(os.path.join(REPO, "template.yaml")), timeout=30, concurrency=2)
    with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=loopback_s3.endpoint), LocalLambda(config, Options(port=0, prestart=2, expect_credentials=EXPECTED_CREDENTIALS)) as lam:
        boto3.client("s3", endpoint_url=loopback_s3.endpoint).create_bucket(Bucket="throttle-artifacts")
        stack = Stack(loopback_s3, "throttle-artifacts", lam)
        result = stack.pytest("--junitxml=r.xml", "--lambda-concurrency=10", "-p", "no:cacheprovider", cwd=str(work))
        records = list(lam.invocations)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "20 passed" in result.stdout
    runs = [r for r in records if r.nodeids]
    throttled = [r for r in runs if r.outcome == "throttled"]
    succeeded = [r.nodeids[0] for r in runs if r.outcome == "success"]
    assert throttled, "reserved concurrency 2 against 10 in flight must throttle"
    assert sorted(succeeded) == sorted(f"test_many.py::test_step[{n}]" for n in range(20)), "exactly one successful invocation per test"
    assert all(r.outcome in ("success", "throttled") for r in runs)
    assert len(_cases(work / "r.xml")) == 20


def test_the_command_line_reaches_the_function(stack: Stack, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A conftest option, a -p plugin, an -o override and the ini addopts arrive as typed here;
    the client's own options (-x, -k, --junitxml) do not."""
    for name, value in stack.env().items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    pytester.makeini("[pytest]\naddopts = -p no:randomly --strict-markers\nmarkers =\n    smoke: a marker\n")
    pytester.makeconftest("def pytest_addoption(parser):\n    parser.addoption('--greeting', default='')\n")
    pytester.makepyfile(
        hello_plugin="import pytest\n\n@pytest.fixture\ndef plugin_says():\n    return 'plugin loaded'\n",
        test_args="""
        import os, pytest

        @pytest.mark.smoke
        def test_options_arrive(request, plugin_says):
            assert request.config.getoption('greeting') == 'hello world'
            assert plugin_says == 'plugin loaded'
            assert request.config.getini('xfail_strict') is True
            if 'AWS_LAMBDA_FUNCTION_NAME' in os.environ:  # in the function: the client's own options stayed behind
                assert not request.config.option.maxfail and not request.config.option.keyword

        def test_other():
            pass
        """,
    )
    args = ["--greeting", "hello world", "-p", "hello_plugin", "-o", "xfail_strict=true", "-x", "-k", "options or other", "-p", "no:cacheprovider"]
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=2)
    remote = pytester.runpytest_subprocess("--lambda", "--lambda-function=UiTestFunction", f"--artifacts=s3://{stack.bucket}/runs", "--junitxml=r.xml", *args)
    remote.assert_outcomes(passed=2)
    assert {name: _outcome(c)[0] for (_cls, name), c in _cases(pytester.path / "r.xml").items()} == {"test_options_arrive": "passed", "test_other": "passed"}


def test_a_rerun_keeps_both_attempts_screenshots(stack: Stack, tmp_path: Path) -> None:
    """The function writes attempt 2's files under attempt-2/; attempt 1's stay linked (issue 17)."""
    remote = stack.pytest(DEMO, "-p", "no:cacheprovider", "-k", "heading_matches", f"--junitxml={tmp_path}/r.xml", "--lambda-reruns=1")
    assert remote.returncode == 1, remote.stdout[-3000:]
    ((_key, case),) = _cases(tmp_path / "r.xml").items()
    props = _props(case)
    second, first = props["artifact:failure-screenshot.png"], props["attempt_artifact_1:failure-screenshot.png"]
    assert "/attempt-2/failure-screenshot.png" in second and "/attempt-" not in first, (first, second)
    s3 = boto3.client("s3", endpoint_url=stack.s3.endpoint)
    for url in (first, second):
        bucket, _, key = url[5:].partition("/")
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read().startswith(b"\x89PNG"), url


ALLURE_SUITE = """
import allure
import pytest


@pytest.fixture(scope="session")
def account():
    return "ada"


@allure.title("signs in")
def test_signs_in(account):
    with allure.step("open the sign-in page"):
        allure.attach("sign-in page for " + account, name="page", attachment_type=allure.attachment_type.TEXT)


def test_cart_is_empty():
    with allure.step("read the cart"):
        assert 0, "the cart has 1 item"


@pytest.mark.skip(reason="not built yet")
def test_wish_list():
    pass
"""


def _allure_results(folder: Path) -> dict[str, tuple[str, list[str], dict[str, str]]]:
    """Per test title: status, step names, attachments by name with their content."""
    results = {}
    for path in folder.glob("*-result.json"):
        data = json.loads(path.read_text())
        attachments = {a["name"]: (folder / a["source"]).read_text() for step in data.get("steps", []) for a in step.get("attachments", [])}
        results[data["name"]] = (data["status"], [step["name"] for step in data.get("steps", [])], attachments)
    return results


@pytest.mark.parametrize("session", ["warm", "per-test"])
def test_allure_results_from_lambda_land_in_the_local_alluredir(stack: Stack, tmp_path: Path, session: str) -> None:
    work = tmp_path / "suite"
    work.mkdir()
    (work / "test_shop.py").write_text(ALLURE_SUITE)
    env = {"PYTHONPATH": SUITE_PLUGINS}
    args = ("-p", "no:cacheprovider", "--alluredir=allure-results", "--clean-alluredir")
    local = stack.pytest(*args, lambda_mode=False, cwd=str(work), env=env)
    assert local.returncode == 1, local.stdout[-3000:]
    expected = _allure_results(work / "allure-results")
    assert expected["signs in"] == ("passed", ["open the sign-in page"], {"page": "sign-in page for ada"}), expected
    assert set(expected) == {"signs in", "test_cart_is_empty", "test_wish_list"}

    remote = stack.pytest(*args, f"--lambda-session={session}", cwd=str(work), env=env)
    assert remote.returncode == 1, remote.stdout[-3000:]
    # The same results as the local run, their attachment included, in the folder the user named.
    assert _allure_results(work / "allure-results") == expected
    assert re.search(r"allure: \d+ result file\(s\) from Lambda in allure-results", remote.stdout), remote.stdout[-2000:]


WORKER_SUITE_CONFTEST = '''import json
import os

import pytest

# A suite written for pytest -n names its per-worker resources when the conftest is imported.
DATABASE = "shop_" + os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture
def database():
    return DATABASE


@pytest.fixture(scope="session")
def catalog(tmp_path_factory, worker_id, testrun_uid):
    # pytest-xdist's recipe for work done once per run (its lock left out: one test at a time here).
    if worker_id == "master":
        return {"seeded_in": testrun_uid}
    path = tmp_path_factory.getbasetemp().parent / "catalog.json"
    if not path.is_file():
        path.write_text(json.dumps({"seeded_in": testrun_uid}))
    return json.loads(path.read_text())
'''

WORKER_SUITE = '''import os
import time

import pytest


@pytest.mark.parametrize("n", range(6))
def test_orders(n, worker_id, testrun_uid, database, catalog, record_property):
    time.sleep(1)  # three at once: the run needs more than one environment
    record_property("catalog", catalog["seeded_in"])
    record_property("worker_id", worker_id)
    record_property("testrun_uid", testrun_uid)
    record_property("database", database)
    record_property("env", os.environ.get("PYTEST_XDIST_WORKER", "") + "/" + os.environ.get("PYTEST_XDIST_WORKER_COUNT", ""))
'''


@pytest.mark.parametrize(("session", "plugins"), [("warm", ()), ("per-test", ("-p", "no:xdist"))])
def test_each_environment_is_a_worker_as_under_xdist(stack: Stack, tmp_path: Path, session: str, plugins: tuple[str, ...]) -> None:
    # Under -n, tests that run at the same time have different worker ids, and suites name a
    # database or an account after them. In the function every test was "master" (pytest-xdist
    # in the image) or had no worker_id fixture at all (not in it: -p no:xdist here).
    work = tmp_path / "suite"
    work.mkdir()
    (work / "conftest.py").write_text(WORKER_SUITE_CONFTEST)
    (work / "test_orders.py").write_text(WORKER_SUITE)
    # Twice: the second run finds the environments warm, and must not read the first run's catalog.
    for _ in range(2):
        result = stack.pytest("--junitxml=r.xml", "-p", "no:cacheprovider", "--lambda-concurrency=3", f"--lambda-session={session}", *plugins, cwd=str(work))
        assert result.returncode == 0, result.stdout[-3000:]
        root = ET.parse(work / "r.xml").getroot()
        run_id = {p.get("name"): p.get("value") for p in root.iter("property")}["run_id"]
        cases = [_props(case) for case in _cases(work / "r.xml").values()]
        assert len(cases) == 6
        for props in cases:
            assert re.fullmatch(r"gw\d+", props["worker_id"]), props
            assert props["database"] == f"shop_{props['worker_id']}" and props["env"] == f"{props['worker_id']}/3", props
            assert props["testrun_uid"] == props["catalog"] == run_id, props
        # One worker id per environment, and never one shared by two environments.
        pairs = {(props["lambda_environment_id"], props["worker_id"]) for props in cases}
        assert len(pairs) == len({e for e, _ in pairs}) == len({w for _, w in pairs}) >= 2, pairs


APP_URL_SUITE = """
def pytest_addoption(parser):
    parser.addoption("--app-url")
"""


def _skip_unless(stack: Stack, isolation: str, otherwise: str) -> None:
    """Skip a test that needs the stand-in's sandbox to give ``isolation``, saying why not."""
    assert stack.lam.isolation is not None
    if not getattr(stack.lam.isolation, isolation):
        pytest.skip(f"{otherwise} ({stack.lam.isolation.reason})")


def _app_url_suite(tmp_path: Path) -> Path:
    """A suite of one test that opens the app at ``--app-url`` in the ``browser`` fixture."""
    work = tmp_path / "suite"
    work.mkdir()
    (work / "conftest.py").write_text(APP_URL_SUITE)
    (work / "test_app.py").write_text("def test_home(browser, request):\n    browser.get(request.config.getoption('app_url'))\n")
    return work


def test_a_test_that_cannot_reach_this_machine_s_loopback_is_told_why(stack: Stack, tmp_path: Path) -> None:
    # CI serves the app here and gives its localhost address: in Lambda (and in the stand-in's
    # environments, each with a network of its own) that address is the function's own.
    _skip_unless(stack, "private_network", "the environments share this machine's loopback")
    work = _app_url_suite(tmp_path)
    with serving_here() as port:
        result = stack.pytest("-p", "no:cacheprovider", f"--app-url=http://127.0.0.1:{port}/", cwd=str(work))
    assert result.returncode == 1, result.stdout[-3000:]
    assert "net::ERR_CONNECTION_REFUSED" in result.stdout
    assert f"the test could not connect, and this machine's loopback is named: http://127.0.0.1:{port} (command line)" in result.stdout
    assert "lambda: 1 test(s) failed to connect (test_app.py::test_home)" in result.stdout


def test_a_test_that_cannot_reach_a_private_address_is_told_why(stack: Stack, tmp_path: Path) -> None:
    # Staging in the company network: CI reaches 10.x, the function (no VpcConfig) does not.
    _skip_unless(stack, "private_network", "the environments share this machine's network")
    work = _app_url_suite(tmp_path)
    result = stack.pytest("-p", "no:cacheprovider", "--app-url=http://10.255.255.1:8000/cart", cwd=str(work))
    assert result.returncode == 1, result.stdout[-3000:]
    assert "the test could not reach its app, and the run names an address only a private network knows: http://10.255.255.1:8000 (command line)" in result.stdout
    assert "lambda: 1 test(s) could not reach their app (test_app.py::test_home)" in result.stdout


def test_a_suite_s_profile_folder_outside_tmp_gives_way_to_a_fresh_one(stack: Stack, tmp_path: Path) -> None:
    # A conftest written for its CI machine names Chrome's profile folder; where only /tmp is
    # writable, Chrome would not start ("cannot create default profile directory").
    _skip_unless(stack, "private_mounts", "the environments write to this machine's file system")
    work = tmp_path / "suite"
    work.mkdir()
    (work / "test_profile.py").write_text(
        "from selenium import webdriver\n\n"
        "def test_profile():\n"
        "    options = webdriver.ChromeOptions()\n"
        "    options.add_argument('--user-data-dir=/var/lib/lambda-ui-e2e-profile')\n"
        "    driver = webdriver.Chrome(options=options)\n"
        "    try:\n"
        "        driver.get('data:text/html,<h1>profile</h1>')\n"
        "        assert driver.find_element('tag name', 'h1').text == 'profile'\n"
        "    finally:\n"
        "        driver.quit()\n"
    )
    result = stack.pytest("-p", "no:cacheprovider", "-W", "always", cwd=str(work))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "the suite's Chrome profile folder /var/lib/lambda-ui-e2e-profile cannot be written in the function (only /tmp is)" in result.stdout


def test_a_write_outside_tmp_is_told_why(stack: Stack, tmp_path: Path) -> None:
    # As SeleniumBase's --uc copies chromedriver into its own package: beside the installed code,
    # which Lambda's image (and the stand-in's sandbox) keeps read-only. The working directory is not.
    _skip_unless(stack, "private_mounts", "the environments write to this machine's file system")
    work = tmp_path / "suite"
    work.mkdir()
    (work / "test_writes.py").write_text(
        "import os, pathlib, pytest\n\n"
        "def test_beside_the_install():\n"
        "    target = pathlib.Path(pytest.__file__).parent / 'lambda-ui-e2e-probe'\n"
        "    try:\n"
        "        target.write_text('driver')\n"
        "    finally:\n"
        "        target.unlink(missing_ok=True)\n\n"
        "def test_in_the_working_directory():\n"
        "    pathlib.Path('report.txt').write_text('ok')\n"
    )
    result = stack.pytest("-p", "no:cacheprovider", cwd=str(work))
    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 failed, 1 passed" in result.stdout, result.stdout[-3000:]
    probe = os.path.join(os.path.dirname(pytest.__file__), "lambda-ui-e2e-probe")
    assert "lambda-ui: a write the function's file system refused" in result.stdout
    assert f"{probe}: in Lambda only /tmp is writable" in result.stdout
    assert f"lambda: 1 test(s) were refused a write ({probe}) (test_writes.py::test_beside_the_install): in Lambda" in result.stdout


@contextlib.contextmanager
def serving_here() -> Iterator[int]:
    """An HTTP server on this machine's loopback, as CI starts the app under test."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
