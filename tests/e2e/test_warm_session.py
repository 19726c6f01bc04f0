"""The warm pytest session per execution environment (issue 16), through the local Lambda
and the real handler.

The suites write a line per session set-up, teardown and test to a file the stand-in's
environments share with this process (``tmpdir`` isolation: no read-only mounts), so
each test reads what ran where, in what order.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from lambda_ui.local_lambda import LocalLambda, Options, load_function_config, with_overrides
from stand_ins.services import AWS_TEST_ENV, EXPECTED_CREDENTIALS, LoopbackS3, scoped_environ
from tests.conftest import REPO
from tests.e2e.test_lambda_end_to_end import Stack, _cases, _outcome, _props

pytestmark = pytest.mark.e2e

CONFTEST = """
import os
import sys

import pytest

LOG = {log!r}
HERE = os.path.dirname(os.path.abspath(__file__))


def note(line):
    with open(LOG, "a") as out:
        out.write(f"{{line}} {{os.getpid()}}\\n")


@pytest.fixture(scope="session", autouse=True)
def session_marker():
    note("setup")
    yield
    note("teardown")


@pytest.fixture(autouse=True)
def nothing_leaked(request):
    # What an earlier test in this process changed must not reach this one.
    assert "H5_LEAK" not in os.environ, "os.environ leaked"
    assert "/h5-leak" not in sys.path, "sys.path leaked"
    assert os.getcwd() == HERE, f"working directory leaked: {{os.getcwd()}}"
    note("test " + request.node.name)
"""


def _suite(folder: Path, log: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "conftest.py").write_text(CONFTEST.format(log=str(log)))
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def _lines(log: Path) -> list[tuple[str, int]]:
    """(event, pid) per line: ``setup``, ``teardown`` or ``test <name>``."""
    out = []
    for line in log.read_text().splitlines():
        event, _, pid = line.rpartition(" ")
        out.append((event, int(pid)))
    return out


@pytest.fixture(scope="module")
def stacks(loopback_s3: LoopbackS3) -> Iterator[dict[int, Stack]]:
    """Two stand-ins: reserved concurrency 2 (two environments) and 1 (one, 8 s timeout)."""
    base = load_function_config(os.path.join(REPO, "template.yaml"))
    with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=loopback_s3.endpoint, LAMBDA_UI_DEADLINE_MARGIN_S="2"):
        boto3.client("s3", endpoint_url=loopback_s3.endpoint).create_bucket(Bucket="warm-artifacts")
        options = {"port": 0, "isolation": "tmpdir", "expect_credentials": EXPECTED_CREDENTIALS}
        with LocalLambda(with_overrides(base, timeout=30, concurrency=2), Options(prestart=2, **options)) as two, LocalLambda(
            with_overrides(base, timeout=8, concurrency=1), Options(prestart=1, **options)
        ) as one:
            yield {2: Stack(loopback_s3, "warm-artifacts", two), 1: Stack(loopback_s3, "warm-artifacts", one)}


MANY = """
import pytest

@pytest.mark.parametrize("n", range(18))
def test_step(n):
    pass
"""

MODULE_TEARDOWN = """
import pytest

@pytest.fixture(scope="module")
def shop():
    yield "open"
    raise RuntimeError("the module fixture's teardown broke")

def test_uses_shop(shop):
    assert shop == "open"

def test_after_shop():
    pass
"""


@pytest.mark.parametrize("mode", ["warm", "per-test"])
def test_session_fixture_runs_once_per_environment(stacks: dict[int, Stack], tmp_path: Path, mode: str) -> None:
    log = tmp_path / "sessions.log"
    work = _suite(tmp_path / "suite", log, {"test_many.py": MANY, "test_module_teardown.py": MODULE_TEARDOWN})
    result = stacks[2].pytest("--junitxml=r.xml", "-p", "no:cacheprovider", "--lambda-concurrency=2", f"--lambda-session={mode}", cwd=str(work))
    assert result.returncode == 1, result.stdout[-3000:]
    cases = _cases(work / "r.xml")
    assert len(cases) == 20
    outcomes = {name: _outcome(case) for (_cls, name), case in cases.items()}
    # The module fixture's teardown error lands on the test that used it, and only there.
    kind, message = outcomes.pop("test_uses_shop")
    assert kind == "error" and "teardown" in message, (kind, message)
    assert {o[0] for o in outcomes.values()} == {"passed"}, outcomes
    lines = _lines(log)
    setups = [pid for event, pid in lines if event == "setup"]
    tests = [pid for event, pid in lines if event.startswith("test ")]
    assert len(tests) == 20
    environments = {_props(case)["lambda_environment_id"] for case in cases.values()}
    if mode == "warm":
        # One session per environment: set up once in each process that ran a test.
        assert len(setups) == len(set(setups)) == len(environments) <= 2, lines
        assert set(setups) == set(tests)
    else:
        assert len(setups) == 20 and sum(event == "teardown" for event, _ in lines) == 20, lines


LEAKS = """
import os
import sys

def test_a_leaks(tmp_path):
    os.environ["H5_LEAK"] = "1"
    sys.path.append("/h5-leak")
    os.chdir(tmp_path)

def test_b_checks():
    pass

def test_c_checks():
    pass
"""

DEADLINE = """
import time

def test_a_before():
    pass

def test_b_stopped_by_the_deadline():
    time.sleep(60)

def test_c_after():
    pass
"""


def test_isolation_deadline_and_bundle_change_in_one_environment(stacks: dict[int, Stack], tmp_path: Path) -> None:
    log = tmp_path / "sessions.log"
    work = _suite(tmp_path / "suite", log, {"test_leaks.py": LEAKS})
    first = stacks[1].pytest("--junitxml=r1.xml", "-p", "no:cacheprovider", cwd=str(work))
    assert first.returncode == 0, first.stdout[-3000:]
    lines = _lines(log)
    # One environment, one session: the checks ran after the leaking test, in the same process.
    assert [event for event, _ in lines] == ["setup", "test test_a_leaks", "test test_b_checks", "test test_c_checks"], lines
    assert len({pid for _, pid in lines}) == 1

    # Another bundle: the old session ends (its teardown runs) before the new one starts.
    (work / "test_leaks.py").unlink()
    (work / "test_deadline.py").write_text(textwrap.dedent(DEADLINE))
    second = stacks[1].pytest("--junitxml=r2.xml", "-p", "no:cacheprovider", "--lambda-retries=0", cwd=str(work))
    assert second.returncode == 1, second.stdout[-3000:]
    outcomes = {name: _outcome(case)[0] for (_cls, name), case in _cases(work / "r2.xml").items()}
    assert outcomes == {"test_a_before": "passed", "test_b_stopped_by_the_deadline": "failure", "test_c_after": "passed"}, second.stdout[-3000:]
    events = [event for event, _ in _lines(log)][len(lines) :]
    # The deadline left the session in an unknown state: the next test gets a fresh one.
    assert events == [
        "teardown", "setup", "test test_a_before", "test test_b_stopped_by_the_deadline",
        "teardown", "setup", "test test_c_after",
    ], events


def test_session_teardown_runs_when_the_stand_in_shuts_down(loopback_s3: LoopbackS3, tmp_path: Path) -> None:
    """Lambda sends SIGTERM to a runtime that registered an extension (lambda_pkg/shutdown.py);
    the warm session's fixtures are torn down then, not lost with the process."""
    log = tmp_path / "sessions.log"
    work = _suite(tmp_path / "suite", log, {"test_many.py": MANY})
    base = load_function_config(os.path.join(REPO, "template.yaml"))
    options = {"port": 0, "isolation": "tmpdir", "expect_credentials": EXPECTED_CREDENTIALS}
    with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=loopback_s3.endpoint):
        boto3.client("s3", endpoint_url=loopback_s3.endpoint).create_bucket(Bucket="warm-shutdown")
        with LocalLambda(with_overrides(base, timeout=30, concurrency=1), Options(prestart=1, **options)) as lam:
            result = Stack(loopback_s3, "warm-shutdown", lam).pytest("-p", "no:cacheprovider", cwd=str(work))
            assert result.returncode == 0, result.stdout[-3000:]
            before = [event for event, _ in _lines(log)]
            assert before[0] == "setup" and "teardown" not in before, before  # the session is still warm
            assert lam.pool is not None
            (environment,) = lam.pool.environments()
    assert environment.shutdown_via == "sigterm", environment.shutdown_via
    assert [event for event, _ in _lines(log)][len(before):] == ["teardown"]


WRITES_CONFTEST = """
import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # As many suites do with a screenshot: the failure's story in a file beside the suite.
    report = (yield).get_result()
    if report.when == "call" and report.failed:
        os.makedirs("reports", exist_ok=True)
        with open(f"reports/{item.name}.txt", "w") as out:
            out.write(str(report.longrepr))
"""

WRITES = """
import json
import os
from pathlib import Path

HERE = Path(__file__).parent
ORIGINAL = "sku,price\\n1,35\\n"


def test_fails():
    assert 1 + 1 == 3


def test_writes_a_result():
    assert not Path("out/result.json").exists(), "an earlier run's file is still there"
    os.makedirs("out", exist_ok=True)
    Path("out/result.json").write_text(json.dumps({"total": 35}))
    Path("app.sqlite").write_bytes(b"SQLite format 3")


def test_changes_the_suite_s_data():
    assert (HERE / "data.csv").read_text() == ORIGINAL, "an earlier run changed the unpacked bundle"
    (HERE / "data.csv").write_text("sku,price\\n1,0\\n")
"""


@pytest.mark.parametrize("mode", ["warm", "per-test"])
def test_files_tests_write_come_back_and_never_reach_the_next_run(stacks: dict[int, Stack], tmp_path: Path, mode: str) -> None:
    """A test's own output below the rootdir (a failure report, a result file) lands in the local
    rootdir as in a local run; the unpacked bundle the environment keeps starts the next run
    clean (one environment: the second run finds the first one's leftovers if any)."""
    s3 = boto3.client("s3", endpoint_url=stacks[1].s3.endpoint)
    work = _suite(tmp_path / "suite", tmp_path / "sessions.log", {"test_writes.py": WRITES})
    (work / "conftest.py").write_text((work / "conftest.py").read_text() + WRITES_CONFTEST)
    (work / "data.csv").write_text("sku,price\n1,35\n")
    (work / "pytest.ini").write_text("[pytest]\nlambda_bundle_include = data.csv\n")
    for run in (1, 2):
        result = stacks[1].pytest(f"--junitxml=r{run}.xml", "-p", "no:cacheprovider", f"--lambda-session={mode}", cwd=str(work))
        assert result.returncode == 1, result.stdout[-3000:]
        cases = {name: case for (_cls, name), case in _cases(work / f"r{run}.xml").items()}
        outcomes = {name: _outcome(case)[0] for name, case in cases.items()}
        assert outcomes == {"test_fails": "failure", "test_writes_a_result": "passed", "test_changes_the_suite_s_data": "passed"}, result.stdout[-3000:]
        assert "assert 1 + 1 == 3" in (work / "reports" / "test_fails.txt").read_text()
        assert json.loads((work / "out" / "result.json").read_text()) == {"total": 35}
        assert (work / "data.csv").read_text() == "sku,price\n1,35\n"  # the suite's own file is no output: not sent back
        assert not (work / "app.sqlite").exists()  # not in lambda_return_files: stays in S3
        assert "1 file(s) the tests wrote in Lambda stay in S3, linked on their tests (app.sqlite)" in result.stdout
        link = _props(cases["test_fails"])["artifact:written/reports/test_fails.txt"]
        bucket, _, key = link.removeprefix("s3://").partition("/")
        assert "assert 1 + 1 == 3" in s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        (work / "out" / "result.json").unlink()
        (work / "reports" / "test_fails.txt").unlink()


ENV_SUITE = """
import os

from conftest import BASE_URL_AT_IMPORT


def test_reads_the_environment(record_property):
    record_property("at_import", BASE_URL_AT_IMPORT)
    record_property("at_test", os.environ.get("BASE_URL", "<unset>"))
"""


@pytest.mark.parametrize("mode", ["warm", "per-test"])
def test_lambda_env_reaches_conftests_and_tests_and_goes_with_its_run(stacks: dict[int, Stack], tmp_path: Path, mode: str) -> None:
    """A per-pull-request staging URL in BASE_URL, read by the conftest at import and by the
    tests, as locally; the next run with another value, or none, sees its own (one environment)."""
    work = _suite(tmp_path / "suite", tmp_path / "sessions.log", {"test_env.py": ENV_SUITE})
    (work / "conftest.py").write_text((work / "conftest.py").read_text() + '\nBASE_URL_AT_IMPORT = os.environ.get("BASE_URL", "<unset>")\n')
    seen = []
    for value in ("https://pr-1.preview.example", "https://pr-2.preview.example", None):
        option = [f"--lambda-env=BASE_URL={value}"] if value else []
        result = stacks[1].pytest("--junitxml=r.xml", "-p", "no:cacheprovider", f"--lambda-session={mode}", *option, cwd=str(work))
        assert result.returncode == 0, result.stdout[-3000:]
        (case,) = _cases(work / "r.xml").values()
        seen.append((_props(case)["at_import"], _props(case)["at_test"], _props(case)["lambda_environment_id"]))
    assert [(a, b) for a, b, _ in seen] == [
        ("https://pr-1.preview.example", "https://pr-1.preview.example"),
        ("https://pr-2.preview.example", "https://pr-2.preview.example"),
        ("<unset>", "<unset>"),
    ], seen
    assert len({env for _, _, env in seen}) == 1  # one environment ran all three


LOGGING = """
import logging

import pytest

log = logging.getLogger("suite")


@pytest.fixture(scope="session", autouse=True)
def logged_session():
    log.info("session set up")


@pytest.mark.parametrize("n", range(6))
def test_step(n):
    log.info("step %s ran", n)
    log.debug("below the file's level")
"""


@pytest.mark.parametrize("mode", ["warm", "per-test"])
def test_the_log_file_gets_every_test_s_records_in_the_suite_s_format(stacks: dict[int, Stack], tmp_path: Path, mode: str) -> None:
    """An ini ``log_file`` holds each test's records once, as a local run's does; before, each
    environment wrote its own copy in the bundle and the one that came back last won."""
    work = _suite(tmp_path / "suite", tmp_path / "sessions.log", {"test_logging.py": LOGGING})
    (work / "pytest.ini").write_text("[pytest]\nlog_file = logs/run.log\nlog_file_level = INFO\nlog_file_format = %(levelname)s %(message)s\n")
    result = stacks[2].pytest("--junitxml=r.xml", "-p", "no:cacheprovider", "--lambda-concurrency=2", f"--lambda-session={mode}", cwd=str(work))
    assert result.returncode == 0, result.stdout[-3000:]
    lines = (work / "logs" / "run.log").read_text().splitlines()
    steps = sorted(line for line in lines if "step" in line)
    assert steps == [f"INFO step {n} ran" for n in range(6)], lines
    sessions = {_props(case)["lambda_environment_id"] for case in _cases(work / "r.xml").values()}
    # A session's own records come with the first test it ran.
    assert lines.count("INFO session set up") == (len(sessions) if mode == "warm" else 6), lines
    assert not any("below the file's level" in line for line in lines)


SKIPPING_MODULE = """
import os

import pytest

if not os.getenv("SHOP_API_TOKEN"):
    pytest.skip("needs SHOP_API_TOKEN", allow_module_level=True)


@pytest.mark.parametrize("n", range(3))
def test_orders(n):
    pass
"""


@pytest.mark.parametrize("mode", ["warm", "per-test"])
def test_a_module_that_skips_itself_in_the_function_skips_each_of_its_tests(stacks: dict[int, Stack], tmp_path: Path, mode: str) -> None:
    """Tried through the local Lambda: the module skipped itself there (the token was set in the CI
    shell only) and each test ended as an error "did not run" (the later ones of a warm session
    found the file collected already); a local run in that environment skips each of them."""
    work = _suite(tmp_path / "suite", tmp_path / "sessions.log", {"test_api.py": SKIPPING_MODULE})
    result = stacks[1].pytest("--junitxml=r.xml", "-p", "no:cacheprovider", f"--lambda-session={mode}", cwd=str(work), env={"SHOP_API_TOKEN": "set-here"})
    assert result.returncode == 0, result.stdout[-3000:]
    cases = _cases(work / "r.xml")
    assert len(cases) == 3
    for case in cases.values():
        kind, message = _outcome(case)
        assert (kind, message) == ("skipped", "needs SHOP_API_TOKEN (in Lambda only: SHOP_API_TOKEN is set here and not handed to the function (--lambda-env SHOP_API_TOKEN))")
    assert "set-here" not in result.stdout


COUNTER = """
import pytest

CALLS = []


@pytest.mark.parametrize("n", range(3))
def test_counts(n, record_property):
    CALLS.append(n)
    record_property("calls", len(CALLS))
"""


def test_the_suite_s_modules_are_imported_afresh_by_each_session(stacks: dict[int, Stack], tmp_path: Path) -> None:
    """Module-level state lives as long as its session, as in a local process: per-test mode
    imports the test module for every test, a warm session once per run (one environment)."""
    work = _suite(tmp_path / "suite", tmp_path / "sessions.log", {"test_counter.py": COUNTER})
    seen = {}
    for run, mode in enumerate(["per-test", "warm", "warm"]):
        result = stacks[1].pytest(f"--junitxml=r{run}.xml", "-p", "no:cacheprovider", f"--lambda-session={mode}", cwd=str(work))
        assert result.returncode == 0, result.stdout[-3000:]
        seen[run] = sorted(int(_props(case)["calls"]) for case in _cases(work / f"r{run}.xml").values())
    assert seen == {0: [1, 1, 1], 1: [1, 2, 3], 2: [1, 2, 3]}, seen
