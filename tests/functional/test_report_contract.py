"""The report reader reads the plugin's JUnit contract (``runner/junit_contract.py``), not its wording.

A real ``pytest --lambda`` run through the scripted Invoke API writes the report;
every failure and error message in it is then reworded. The summary must still
know which test the runner could not run, which failed, which was flaky, and
each test's exact node id, including ids a classname cannot give back (a folder
with a dot, a module outside ``test_*.py``, ``::`` inside a parameter id).
Files without the contract's properties (another tool's, an older plugin's) are
still read by guessing.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

from lambda_ui.cli.report import main
from lambda_ui.runner import junit_contract as junit
from lambda_ui.runner.junit_contract import Cause, RecordedOutcome
from lambda_ui.runner.reports import model, names
from stand_ins.fake_invoke_api import FakeInvokeApi, FakeState
from stand_ins.services import AWS_TEST_ENV, LoopbackS3
from tests.conftest import REPO

# The fake scripts a test by the text after the node id's last "::", so a parameter
# id holding "::" carries the behaviour token itself (fail, timeout) after it.
SUITE = '''
import pytest

class TestCart:
    @pytest.mark.parametrize("region", ["eu::fail_1", "x.y/z"])
    def test_fail(self, region):
        pass

    @pytest.mark.parametrize("region", ["eu::timeout_1"])
    def test_timeout(self, region):
        pass

    def test_flaky(self):
        pass

    def test_crashonce(self):
        pass

    @pytest.mark.parametrize("n", [1, 2])
    def test_ok(self, n):
        pass
'''
MODULE = "v1.2/cart_checks.py"
PREFIX = f"{MODULE}::TestCart::"
#: What the session knows of each test, by its JUnit ``name``: node id, outcome, cause.
TRUTH: dict[str, tuple[str, RecordedOutcome, Cause | None]] = {
    "test_fail[eu::fail_1]": (PREFIX + "test_fail[eu::fail_1]", RecordedOutcome.FAILED, None),
    "test_fail[x.y/z]": (PREFIX + "test_fail[x.y/z]", RecordedOutcome.FAILED, None),
    "test_timeout[eu::timeout_1]": (PREFIX + "test_timeout[eu::timeout_1]", RecordedOutcome.INFRA, Cause.RETRIES_SPENT),
    "test_flaky": (PREFIX + "test_flaky", RecordedOutcome.PASSED, None),
    "test_crashonce": (PREFIX + "test_crashonce", RecordedOutcome.PASSED, None),
    "test_ok[1]": (PREFIX + "test_ok[1]", RecordedOutcome.PASSED, None),
    "test_ok[2]": (PREFIX + "test_ok[2]", RecordedOutcome.PASSED, None),
}
TOTALS = "7 tests: 2 failed, 1 infrastructure, 4 passed, 1 flaky"


def summary(capsys: pytest.CaptureFixture[str], *paths: Path) -> tuple[int, str]:
    code = main(["summary", *map(str, paths)])
    return code, capsys.readouterr().out


def section(out: str, title: str) -> str:
    return out.split(title)[1].split("\n\n")[0]


def properties_of(case: ET.Element) -> ET.Element:
    props = case.find("properties")
    if props is None:
        props = ET.Element("properties")
        case.insert(0, props)
    return props


def rewrite(source: Path, target: Path, change: Callable[[ET.Element], None]) -> Path:
    tree = ET.parse(source)
    for case in tree.getroot().iter("testcase"):
        change(case)
    tree.write(target, encoding="utf-8", xml_declaration=True)
    return target


def add_contract(case: ET.Element) -> None:
    """What the writer records for a test, each property added only where the report lacks it
    (so the test reads the writer's own values once it writes them)."""
    props = properties_of(case)
    present = {p.get("name") for p in props}
    nodeid, outcome, cause = TRUTH[case.get("name", "")]
    for name, value in ((junit.NODEID, nodeid), (junit.OUTCOME, outcome.value), (junit.CAUSE, cause.value if cause else None)):
        if value is not None and name not in present:
            ET.SubElement(props, "property", name=name, value=value)


def reword(case: ET.Element) -> None:
    """Every message and result text says something else (pytest's setup wrapper included)."""
    for n, element in enumerate(case.iter()):
        if element.get("message") is not None:
            element.set("message", f"Something else went wrong ({n})")
        if element.tag in ("failure", "error", "skipped"):
            element.text = "a reworded traceback"


def strip_contract(case: ET.Element) -> None:
    props = properties_of(case)
    for prop in list(props):
        if prop.get("name") in (junit.NODEID, junit.OUTCOME, junit.CAUSE):
            props.remove(prop)


# -- a real --lambda run, once per module -------------------------------------------------


@pytest.fixture(scope="module")
def run_xml(tmp_path_factory: pytest.TempPathFactory, loopback_s3: LoopbackS3) -> Path:
    """The report of ``pytest --lambda --lambda-reruns=1`` on SUITE against the scripted Invoke API."""
    bucket = f"contract-{uuid.uuid4().hex[:8]}"
    boto3.client(
        "s3", endpoint_url=loopback_s3.endpoint, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    ).create_bucket(Bucket=bucket)
    suite = tmp_path_factory.mktemp("contract")
    (suite / "v1.2").mkdir()
    (suite / MODULE).write_text(SUITE)
    (suite / "pytest.ini").write_text("[pytest]\npython_files = *_checks.py\n")
    xml = suite / "run.xml"
    api = FakeInvokeApi(FakeState(function="ui-tests")).start()
    env = {**os.environ, **AWS_TEST_ENV, "AWS_ENDPOINT_URL_S3": loopback_s3.endpoint, "AWS_ENDPOINT_URL_LAMBDA": api.endpoint}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--lambda", "--lambda-function=ui-tests", "--lambda-reruns=1",
             f"--artifacts=s3://{bucket}/runs", f"--junitxml={xml}", MODULE],
            cwd=suite, capture_output=True, text=True, timeout=300, env=env, check=False,
        )
    finally:
        api.stop()
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    return xml


@pytest.fixture(scope="module")
def reworded(run_xml: Path) -> Path:
    """The run's report with the contract's properties and every message reworded."""
    with_contract = rewrite(run_xml, run_xml.with_name("contract.xml"), add_contract)
    return rewrite(with_contract, run_xml.with_name("reworded.xml"), reword)


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def test_the_run_is_what_the_truth_table_says(run_xml: Path) -> None:
    # Guards the fixture: the fake scripted every test as the table expects.
    cases = {c.get("name", ""): c for c in ET.parse(run_xml).getroot().iter("testcase")}
    assert sorted(cases) == sorted(TRUTH)
    for name, (_nodeid, outcome, _cause) in TRUTH.items():
        has = {child.tag for child in cases[name]}
        assert ("failure" in has) == (outcome is RecordedOutcome.FAILED) and ("error" in has) == (outcome is RecordedOutcome.INFRA), name


def test_the_plugin_writes_what_the_reader_reads(run_xml: Path) -> None:
    # The writer's side of the contract: the run's own properties are the truth table.
    for case in ET.parse(run_xml).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        nodeid, outcome, cause = TRUTH[case.get("name", "")]
        assert (props.get(junit.NODEID), props.get(junit.OUTCOME), props.get(junit.CAUSE)) == (nodeid, outcome.value, cause and cause.value)


def test_reworded_report_is_summarised_from_its_properties(reworded: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "infrastructure failure after" not in reworded.read_text()
    code, out = summary(capsys, reworded)
    assert code == 1
    assert TOTALS in out
    infra = section(out, "INFRASTRUCTURE: no verdict (not a test failure) (1)")
    assert f"{PREFIX}test_timeout[eu::timeout_1]" in infra and "cause: retries_spent" in infra
    failed = section(out, "FAILED (2)")
    assert f"{PREFIX}test_fail[eu::fail_1]" in failed and f"{PREFIX}test_fail[x.y/z]" in failed
    assert "Something else went wrong" in failed  # the reworded message is shown, just not interpreted
    assert f"{PREFIX}test_flaky" in section(out, "FLAKY: failed, then passed (1)")
    retries = section(out, "INFRASTRUCTURE RETRIES: completed after a fault (1)")
    assert f"{PREFIX}test_crashonce: passed after 1 infrastructure fault(s)" in retries
    # Every test under its exact node id; none under the classname's guess.
    assert "v1.2.cart_checks" not in out
    assert all(nodeid in out for nodeid, _o, _c in TRUTH.values())  # SLOWEST lists every test


def test_merging_reworded_reports_reads_their_outcomes_too(reworded: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    merged = elsewhere / "merged.xml"
    assert main(["merge", str(merged), str(reworded), str(reworded)]) == 0
    capsys.readouterr()
    timeout = next(c for c in ET.parse(merged).getroot().iter("testcase") if c.get("name") == "test_timeout[eu::timeout_1]")
    attempts = {p.get("name"): p.get("value", "") for p in timeout.iter("property") if (p.get("name") or "").startswith(names.MERGE_ATTEMPT_PREFIX)}
    assert len(attempts) == 2 and all(": infrastructure: Something else" in v for v in attempts.values())
    code, out = summary(capsys, merged)
    assert code == 1 and TOTALS in out and f"{PREFIX}test_timeout[eu::timeout_1]" in out
    # summary's own merge of several inputs reads them the same way
    code, out = summary(capsys, reworded, reworded)
    assert code == 1 and TOTALS in out


def test_html_shows_exact_node_ids_and_the_recorded_outcome(reworded: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["html", str(reworded), "-o", "r.html"]) == 0
    capsys.readouterr()
    page = (elsewhere / "r.html").read_text()
    assert page.count('data-outcome="infra"') == 1 and page.count('data-outcome="failed"') == 2
    assert f'<span class="name">{PREFIX}test_timeout[eu::timeout_1]</span>' in page and "cause: retries_spent" in page


def test_without_the_properties_the_reader_still_guesses(run_xml: Path, elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # An older report: the same run without nodeid/lambda_outcome/lambda_cause, messages as written.
    older = rewrite(run_xml, elsewhere / "older.xml", strip_contract)
    code, out = summary(capsys, older)
    assert code == 1 and TOTALS in out
    # From the message's wording; the node id guessed from the classname (wrong for this folder and module).
    assert "v1.2.cart_checks.TestCart::test_timeout[eu::timeout_1]" in section(out, "INFRASTRUCTURE: no verdict (not a test failure) (1)")


FOREIGN = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="pytest" tests="4">
<testcase classname="tests.ui.test_cart" name="test_total"><failure message="assert 1 == 2">trace</failure></testcase>
<testcase classname="tests.ui.test_cart.TestLogin" name="test_login[eu]"><error message="failed on setup with &quot;throttled: Lambda refused invocations&quot;"/></testcase>
<testcase classname="tests.ui.test_cart" name="test_fixture"><error message="failed on setup with &quot;KeyError: 'user'&quot;"/></testcase>
<testcase classname="tests.ui.test_cart" name="test_ok"/>
</testsuite></testsuites>"""


def test_a_foreign_report_without_properties_is_guessed(elsewhere: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (elsewhere / "foreign.xml").write_text(FOREIGN)
    code, out = summary(capsys, elsewhere / "foreign.xml")
    assert code == 1 and "4 tests: 1 failed, 1 error, 1 infrastructure, 1 passed" in out
    assert "tests/ui/test_cart.py::TestLogin::test_login[eu]" in section(out, "INFRASTRUCTURE: no verdict (not a test failure) (1)")
    assert "tests/ui/test_cart.py::test_fixture" in section(out, "ERRORS (1)")


def _case(outcome: str | None, result: str, nodeid: str | None = None) -> str:
    props = "".join(
        f'<property name="{name}" value="{value}"/>' for name, value in ((junit.OUTCOME, outcome), (junit.NODEID, nodeid)) if value is not None
    )
    return f'<testcase classname="t" name="n"><properties>{props}</properties>{result}</testcase>'


@pytest.mark.parametrize(
    ("recorded", "result", "expected"),
    [
        # the recorded outcome wins over the wording, both ways
        (RecordedOutcome.ERROR.value, '<error message="infrastructure failure after 3 attempt(s)"/>', model.Outcome.ERROR),
        (RecordedOutcome.INFRA.value, '<error message="KeyError: user"/>', model.Outcome.INFRA),
        (RecordedOutcome.INTERRUPTED.value, '<error message="Ctrl-C"/>', model.Outcome.INFRA),
        (RecordedOutcome.XFAILED.value, '<skipped message="known bug"/>', model.Outcome.XFAILED),
        (RecordedOutcome.FAILED.value, '<failure message="x"/>', model.Outcome.FAILED),
        # a value the contract does not know (a newer writer): guessed from the element
        ("vanished", '<error message="run aborted (interrupted)"/>', model.Outcome.INFRA),
        ("vanished", '<error message="KeyError: user"/>', model.Outcome.ERROR),
    ],
)
def test_the_recorded_outcome_decides(recorded: str, result: str, expected: model.Outcome) -> None:
    root = ET.fromstring(f"<testsuite>{_case(recorded, result, 'a/b.c/x.py::n[a::b]')}</testsuite>")
    (case,) = model.from_root(root, ["r.xml"]).cases
    assert case.outcome is expected and case.nodeid == "a/b.c/x.py::n[a::b]"


def test_every_recorded_outcome_has_a_reader_outcome() -> None:
    assert all(model.recorded_outcome(value.value) is not None for value in RecordedOutcome)


def _contract_names() -> set[str]:
    found = {v for k, v in vars(junit).items() if k.isupper() and isinstance(v, str)}
    return found | {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def test_the_reader_names_properties_only_through_the_contract() -> None:
    """No property name is spelled out in runner/reports/ (docstrings aside): one table to change."""
    known = _contract_names()
    prefixes = tuple(v for v in known if v.endswith(("_", ":")))
    found = []
    for path in sorted(Path(REPO, "runner", "reports").glob("*.py")):
        if path.name == "names.py":
            continue
        tree = ast.parse(path.read_text())
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if node.value in known or node.value.startswith(prefixes):
                    found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    assert not found
