"""``lambda-ui report`` on reports of real runs: the demo suite split in shards, a test
that fails and then passes, ``pytest --lambda`` through the scripted Invoke API and
through the local Lambda stand-in, artifacts on disk and in a loopback S3; then
broken and malicious inputs as a new user would meet them."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from junitparser import xunit2

from lambda_ui.cli.report import main
from stand_ins.fake_invoke_api import FakeInvokeApi, FakeState
from stand_ins.services import AWS_TEST_ENV, LoopbackS3, scoped_environ
from tests.conftest import REPO

#: The reader is the subject, not the browser that ran the demo suite (tests/conftest.py).
pytestmark = pytest.mark.headless_shell

DEMO = os.path.join(REPO, "examples", "demo")
SHARD_A = "home_page or products_are_listed or matches_catalogue"
SHARD_B = "account_summary or wish_list or dark_mode"
FLIP_SUITE = """
import os

def test_banner(browser):
    browser.get("data:text/html,<h1 id=banner>Summer sale</h1>")
    expected = "Summer sale" if os.environ.get("BANNER_FIXED") else "Winter sale"
    assert browser.find_element("id", "banner").text == expected

def test_steady(browser):
    browser.get("data:text/html,<p>ok</p>")
"""
LAMBDA_SUITE = "def test_ok(): pass\ndef test_fail(): pass\ndef test_flaky(): pass\ndef test_crashonce(): pass\ndef test_timeout(): pass\ndef test_slow3_ok(): pass\n"
LAMBDA_SUITE_B = "def test_flaky_inrun(): pass\ndef test_crashonce_b(): pass\n"


def pytest_run(*args: str, cwd: Path, env: dict[str, str] | None = None, expect: int | None = 1) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )
    if expect is not None:
        assert proc.returncode == expect, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc


@dataclass
class Cli:
    code: int
    out: str
    err: str


def report(capsys: pytest.CaptureFixture[str], *argv: str) -> Cli:
    code = main(list(argv))
    captured = capsys.readouterr()
    return Cli(code, captured.out, captured.err)


def cases_of(path: Path) -> dict[str, ET.Element]:
    return {c.get("name", ""): c for c in ET.parse(path).getroot().iter("testcase")}


def props_of(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.findall("./properties/property")}


def suite_facts(path: Path) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in ET.parse(path).getroot().findall("./testsuite/properties/property")}


def with_missing(xml: Path, name: str, folder: Path) -> Path:
    """A copy of a report whose artifact ``name`` points at an object that does not exist."""
    copy = folder / f"missing-{name}.xml"
    copy.write_text(xml.read_text().replace(f"/failure-{name}", f"/deleted-{name}"))
    return copy


def s3_vars(endpoint: str) -> dict[str, str]:
    return {**AWS_TEST_ENV, "AWS_ENDPOINT_URL_S3": endpoint}


# -- real runs, once per module --------------------------------------------------------

#: The demo suite's runs start real Chromium: the tests that read them belong to the e2e tier.
real_chrome = pytest.mark.e2e


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the runs happen: artifact paths in the reports are relative to it."""
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="module")
def shards(work: Path) -> tuple[Path, Path]:
    """The demo suite in two CI shards; the first with a filmstrip."""
    a, b = work / "shard-a.xml", work / "shard-b.xml"
    pytest_run(DEMO, "-k", SHARD_A, f"--junitxml={a}", "--artifacts=art", "--artifacts-mode=filmstrip", cwd=work)
    pytest_run(DEMO, "-k", SHARD_B, f"--junitxml={b}", "--artifacts=art", cwd=work)
    return a, b


@pytest.fixture(scope="module")
def flip(work: Path) -> tuple[Path, Path]:
    """A UI test that fails in the first run (with a screenshot) and passes in the second."""
    suite = work / "flip"
    suite.mkdir()
    (suite / "test_flip.py").write_text(FLIP_SUITE)
    first, second = work / "flip-1.xml", work / "flip-2.xml"
    pytest_run("flip", f"--junitxml={first}", "--artifacts=art", cwd=work)
    pytest_run("flip", f"--junitxml={second}", "--artifacts=art", cwd=work, env={"BANNER_FIXED": "1"}, expect=0)
    return first, second


@pytest.fixture(scope="module")
def module_s3(loopback_s3: LoopbackS3) -> Iterator[tuple[LoopbackS3, str]]:
    bucket = f"reports-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=loopback_s3.endpoint, region_name="us-east-1", **_keys()).create_bucket(Bucket=bucket)
    yield loopback_s3, bucket


def _keys() -> dict[str, str]:
    return {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def lambda_runs(work: Path, module_s3: tuple[LoopbackS3, str]) -> tuple[Path, Path]:
    """Two ``pytest --lambda`` runs against one scripted Invoke API (it counts attempts across
    runs): test_flaky fails in the first and passes in the second; in the second,
    test_flaky_inrun fails once and passes on a rerun, test_crashonce_b passes after a crash."""
    server, bucket = module_s3
    api = FakeInvokeApi(FakeState(function="ui-tests")).start()
    env = {**s3_vars(server.endpoint), "AWS_ENDPOINT_URL_LAMBDA": api.endpoint}
    suite = work / "lam"
    suite.mkdir()
    (suite / "test_a.py").write_text(LAMBDA_SUITE)
    (suite / "test_b.py").write_text(LAMBDA_SUITE_B)
    first, second = work / "lambda-1.xml", work / "lambda-2.xml"
    common = ["--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs"]
    try:
        pytest_run(*common, f"--junitxml={first}", "test_a.py", cwd=suite, env=env)
        pytest_run(*common, f"--junitxml={second}", "--lambda-reruns=1", "test_a.py", "test_b.py", cwd=suite, env=env)
    finally:
        api.stop()
    return first, second


@pytest.fixture(scope="module")
def s3_demo(work: Path, module_s3: tuple[LoopbackS3, str]) -> tuple[Path, str]:
    """The demo's failing test run locally with its artifacts streamed to the loopback S3."""
    server, bucket = module_s3
    xml = work / "s3-demo.xml"
    pytest_run(DEMO, "-k", "matches_catalogue or home_page", f"--junitxml={xml}", f"--artifacts=s3://{bucket}/runs", cwd=work, env=s3_vars(server.endpoint))
    return xml, bucket


@pytest.fixture(scope="module")
def standin(work: Path, module_s3: tuple[LoopbackS3, str]) -> Path:
    """The demo suite through ``pytest --lambda`` against the local Lambda stand-in (real handler)."""
    import lambda_ui.local_lambda as emulator
    server, bucket = module_s3
    config = emulator.with_overrides(
        emulator.load_function_config(os.path.join(REPO, "template.yaml")),
        timeout=120, concurrency=2, env={"LAMBDA_UI_ARTIFACTS_BUCKET": bucket}, aliases=("ui-tests",),
    )
    xml = work / "standin.xml"
    with scoped_environ(**s3_vars(server.endpoint)):  # the stand-in passes these on to its environments
        with emulator.LocalLambda(config, emulator.Options(port=0)) as lam:
            pytest_run(
                DEMO, "--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs", "--artifacts-mode=filmstrip",
                f"--junitxml={xml}", cwd=work, env={**s3_vars(server.endpoint), "AWS_ENDPOINT_URL_LAMBDA": lam.endpoint},
            )
    return xml


@pytest.fixture
def at_work(work: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(work)
    return work


# -- summary ---------------------------------------------------------------------------


@real_chrome
def test_summary_of_a_shard_lists_the_failure_with_its_artifacts(shards: tuple[Path, Path], at_work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = report(capsys, "summary", str(shards[0]))
    assert result.code == 1
    assert "3 tests: 1 failed, 2 passed" in result.out
    assert "examples/demo/test_demo.py::test_product_heading_matches_catalogue" in result.out
    assert "AssertionError: assert 'Ridgeline Down Jacket' == 'Ridgeline Down Parka'" in result.out
    shot = next(line for line in result.out.splitlines() if line.strip().startswith("screenshot"))
    assert (at_work / shot.split()[-1]).read_bytes().startswith(b"\x89PNG")
    assert "filmstrip  1 frame(s)" in result.out
    assert "SLOWEST (3)" in result.out and "RESULT: FAILED" in result.out
    assert "\x1b[" not in result.out  # captured output is not a terminal


@real_chrome
def test_summary_colour_follows_tty_no_color_and_the_flag(shards: tuple[Path, Path], at_work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert "\x1b[31;1m" in report(capsys, "summary", str(shards[0]), "--color").out
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in report(capsys, "summary", str(shards[0])).out
    assert "\x1b[" in report(capsys, "summary", str(shards[0]), "--color=always").out
    assert "\x1b[" not in report(capsys, "summary", str(shards[0]), "--no-color").out


@real_chrome
def test_passing_report_exits_zero(flip: tuple[Path, Path], at_work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = report(capsys, "summary", str(flip[1]))
    assert result.code == 0
    assert "2 tests: 0 failed, 2 passed" in result.out and "RESULT: PASSED" in result.out


def test_lambda_summary_separates_infrastructure_flaky_retries_and_cost(lambda_runs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    result = report(capsys, "summary", str(lambda_runs[1]), "--slowest", "2")
    assert result.code == 1
    out = result.out
    assert "8 tests: 1 failed, 1 infrastructure, 6 passed, 1 flaky" in out
    assert "mode lambda · function ui-tests" in out and "infra retries" in out
    infra = out.split("INFRASTRUCTURE: no verdict (not a test failure) (1)")[1].split("\n\n")[0]
    assert "test_a.py::test_timeout" in infra and "infrastructure failure after 3 attempt(s)" in infra
    failed = out.split("FAILED (1)")[1].split("\n\n")[0]
    assert "test_a.py::test_fail" in failed and "test_timeout" not in failed
    assert "earlier attempt (rerun 1): call failed: AssertionError: scripted failure" in failed
    flaky = out.split("FLAKY: failed, then passed (1)")[1].split("\n\n")[0]
    assert "test_b.py::test_flaky_inrun" in flaky
    retries = out.split("INFRASTRUCTURE RETRIES: completed after a fault (1)")[1].split("\n\n")[0]
    assert "test_b.py::test_crashonce_b: passed after 1 infrastructure fault(s)" in retries and "Runtime.ExitError" in retries
    slowest = out.split("SLOWEST (2)")[1].split("\n\n")[0]
    assert "test_a.py::test_slow3_ok" in slowest.splitlines()[1]
    assert "COST\n  $0.0000" in out and "GB-s billed" in out and "most expensive tests:" in out


@real_chrome
def test_standin_report_summary_html_and_download(standin: Path, module_s3: tuple[LoopbackS3, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    server, bucket = module_s3
    for key, value in s3_vars(server.endpoint).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    summary = report(capsys, "summary", str(standin))
    assert summary.code == 1
    assert "6 tests: 1 failed, 1 error, 2 passed, 1 skipped, 1 xfailed" in summary.out
    assert "mode lambda · function ui-tests" in summary.out and "cost $" in summary.out
    assert f"screenshot   s3://{bucket}/runs/" in summary.out
    html = report(capsys, "html", str(standin), "-o", "standin.html")
    assert html.code == 0 and "0 not available" in html.out
    page = (tmp_path / "standin.html").read_text()
    assert "X-Amz-Signature" in page and "<svg" in page
    fetched = report(capsys, "download", str(standin), "dl")
    assert fetched.code == 0, fetched.err
    copy = cases_of(tmp_path / "dl" / "standin.xml")["test_product_heading_matches_catalogue"]
    shot = props_of(copy)["artifact:failure-screenshot.png"]
    assert shot.startswith(f"dl/{bucket}/runs/") and (tmp_path / shot).read_bytes().startswith(b"\x89PNG")
    # GitLab shows a test's first attachment only: the failure screenshot goes before the filmstrip.
    attachments = [line for line in (copy.findtext("system-out") or "").splitlines() if line.startswith("[[ATTACHMENT|")]
    assert len(attachments) == 4 and attachments[0] == f"[[ATTACHMENT|{shot}]]"


# -- merge -----------------------------------------------------------------------------


@real_chrome
def test_merged_shards_have_the_whole_suite_once(shards: tuple[Path, Path], at_work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    merged = tmp_path / "merged.xml"
    result = report(capsys, "merge", str(merged), str(at_work / "shard-*.xml"))
    assert result.code == 0, result.err
    assert "merged 2 file(s)" in result.out and "6 tests" in result.out and "0 seen more than once" in result.out
    xml = xunit2.JUnitXml.fromfile(str(merged))
    assert (xml.tests, xml.failures, xml.errors) == (6, 1, 1)
    suite = next(iter(xml))
    assert suite.skipped == 2  # a skip and an xfail, as pytest counts them
    facts = {p.name: p.value for p in suite.properties()}
    assert facts["merged_inputs"] == "2" and len(facts["run_id"].split(",")) == 2
    summary = report(capsys, "summary", str(merged))
    assert "6 tests: 1 failed, 1 error, 2 passed, 1 skipped, 1 xfailed" in summary.out and summary.code == 1
    # the same through summary's own merge of several inputs
    assert "6 tests: 1 failed, 1 error, 2 passed, 1 skipped, 1 xfailed" in report(capsys, "summary", *map(str, shards)).out


@real_chrome
def test_fail_then_pass_ends_passed_and_flaky_with_the_failure_kept(flip: tuple[Path, Path], at_work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    merged = tmp_path / "merged.xml"
    assert report(capsys, "merge", str(merged), str(flip[0]), str(flip[1])).code == 0
    xml = xunit2.JUnitXml.fromfile(str(merged))
    assert (xml.tests, xml.failures, xml.errors) == (2, 0, 0)
    banner = next(c for c in next(iter(xml)) if c.name == "test_banner")
    assert banner.is_passed and banner.is_flaky
    (flaky,) = banner.flaky_failures()
    assert "Winter sale" in flaky.message and "AssertionError" in flaky.stack_trace
    shots = [line[13:-2] for line in flaky.system_out.splitlines() if line.startswith("[[ATTACHMENT|") and "screenshot" in line]
    assert len(shots) == 1 and (at_work / shots[0]).read_bytes().startswith(b"\x89PNG")
    props = {p.name: p.value for p in banner.properties()}
    assert props["lambda_flaky"] == "true" and props["merge_attempts"] == "2"
    assert props["merge_attempt_1"].startswith("flip-1.xml (run ") and ": failed: AssertionError" in props["merge_attempt_1"]
    summary = report(capsys, "summary", str(merged))
    assert summary.code == 0 and "1 flaky" in summary.out
    assert "failed (flaky: flip-1.xml (run " in summary.out and "screenshot" in summary.out
    # Pass wins whatever the order; all-failing keeps the latest attempt.
    assert report(capsys, "merge", str(merged), str(flip[1]), str(flip[0])).code == 0
    assert xunit2.JUnitXml.fromfile(str(merged)).failures == 0


def test_lambda_runs_merge_flaky_reruns_and_summed_cost(lambda_runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    merged = tmp_path / "merged.xml"
    result = report(capsys, "merge", str(merged), *map(str, lambda_runs))
    assert result.code == 0
    assert "8 tests (1 failed, 1 infrastructure, 6 passed); 6 seen more than once, 2 flaky" in result.out
    cases = cases_of(merged)
    flaky = cases["test_flaky"]
    assert flaky.find("failure") is None and flaky.find("flakyFailure") is not None
    assert props_of(flaky)["lambda_flaky"] == "true"
    fail = cases["test_fail"]
    assert fail.find("failure") is not None and len(fail.findall("rerunFailure")) == 1
    timeout = cases["test_timeout"]
    assert timeout.find("error") is not None and len(timeout.findall("rerunError")) == 1
    facts, one, two = (suite_facts(x) for x in (merged, *lambda_runs))
    assert int(facts["lambda_invocations"]) == int(one["lambda_invocations"]) + int(two["lambda_invocations"])
    assert abs(float(facts["lambda_cost_usd"]) - float(one["lambda_cost_usd"]) - float(two["lambda_cost_usd"])) < 1e-9
    assert float(facts["run_wall_s"]) >= max(float(one["run_wall_s"]), float(two["run_wall_s"]))
    # every test's start is on the merged clock: the second run's tests start after the first run's
    offsets = {name: float(props_of(c)["run_offset_s"]) for name, c in cases.items()}
    assert offsets["test_flaky_inrun"] > float(one["run_wall_s"]) - 0.01


def test_merge_output_to_s3_and_input_from_s3(lambda_runs: tuple[Path, Path], module_s3: tuple[LoopbackS3, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    server, bucket = module_s3
    for key, value in s3_vars(server.endpoint).items():
        monkeypatch.setenv(key, value)
    target = f"s3://{bucket}/runs/merged.xml"
    assert report(capsys, "merge", target, *map(str, lambda_runs)).code == 0
    result = report(capsys, "summary", target)
    assert result.code == 1 and "8 tests: 1 failed, 1 infrastructure, 6 passed, 2 flaky" in result.out


# -- html and download on S3 artifacts -------------------------------------------------


@real_chrome
def test_html_links_s3_artifacts_with_presigned_urls_and_marks_a_missing_one(s3_demo: tuple[Path, str], module_s3: tuple[LoopbackS3, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    xml, bucket = s3_demo
    server, _ = module_s3
    for key, value in s3_vars(server.endpoint).items():
        monkeypatch.setenv(key, value)
    page = tmp_path / "r.html"
    assert report(capsys, "html", str(xml), "-o", str(page), "--expires", "600").code == 0
    text = page.read_text()
    assert "X-Amz-Expires=600" in text and f"{server.endpoint}/{bucket}/runs/" in text
    assert "console log" in text and "Low stock" in text  # the log, fetched and inlined
    result = report(capsys, "html", str(with_missing(xml, "console.log", tmp_path)), "-o", str(page))
    assert "1 not available" in result.out
    assert "console log not available: s3://" in page.read_text() and "deleted-console.log is not in S3" in page.read_text()


@real_chrome
def test_download_rewrites_links_to_local_files(s3_demo: tuple[Path, str], module_s3: tuple[LoopbackS3, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    xml, bucket = s3_demo
    server, _ = module_s3
    for key, value in s3_vars(server.endpoint).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    result = report(capsys, "download", str(xml), "ci-artifacts")
    assert result.code == 0, result.err
    copy = tmp_path / "ci-artifacts" / "s3-demo.xml"
    case = cases_of(copy)["test_product_heading_matches_catalogue"]
    links = {k: v for k, v in props_of(case).items() if k.startswith("artifact:")}
    assert len(links) == 3 and all(v.startswith(f"ci-artifacts/{bucket}/runs/") for v in links.values())
    attachments = [line[13:-2] for line in (case.findtext("system-out") or "").splitlines() if line.startswith("[[ATTACHMENT|")]
    assert sorted(attachments) == sorted(links.values())
    assert (tmp_path / links["artifact:failure-screenshot.png"]).read_bytes().startswith(b"\x89PNG")
    # the local copy renders with the screenshot embedded
    assert "1 image(s) embedded" in report(capsys, "html", str(copy), "-o", "local.html").out
    # GitLab: links relative to the project folder, wherever the files went
    report(capsys, "download", str(xml), "out/a", "--link-base", "out", "-o", "out/r.xml")
    assert props_of(cases_of(tmp_path / "out" / "r.xml")["test_product_heading_matches_catalogue"])["artifact:failure-page.html"].startswith(f"a/{bucket}/")
    # Jenkins: absolute paths
    report(capsys, "download", str(xml), "out/b", "--absolute", "-o", "out/abs.xml")
    assert props_of(cases_of(tmp_path / "out" / "abs.xml")["test_product_heading_matches_catalogue"])["artifact:failure-page.html"].startswith(f"{tmp_path}/out/b/{bucket}/")


@real_chrome
def test_download_marks_a_missing_object_and_refuses_a_missing_bucket(s3_demo: tuple[Path, str], module_s3: tuple[LoopbackS3, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    xml, bucket = s3_demo
    server, _ = module_s3
    for key, value in s3_vars(server.endpoint).items():
        monkeypatch.setenv(key, value)
    text = xml.read_text()
    gone = with_missing(xml, "page.html", tmp_path)
    result = report(capsys, "download", str(gone), str(tmp_path / "dl"))
    assert result.code == 0 and "downloaded 2 of 3" in result.out
    assert "warning: not downloaded: s3://" in result.err and "deleted-page.html is not in S3" in result.err
    case = cases_of(tmp_path / "dl" / gone.name)["test_product_heading_matches_catalogue"]
    warnings = [p.get("value", "") for p in case.findall("./properties/property") if p.get("name") == "artifact_warning"]
    assert len(warnings) == 1 and "deleted-page.html" in warnings[0]
    (tmp_path / "nobucket.xml").write_text(text.replace(f"s3://{bucket}/", "s3://no-such-bucket-here/"))
    result = report(capsys, "download", str(tmp_path / "nobucket.xml"), str(tmp_path / "dl2"))
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        f"lambda-ui report: error: {tmp_path / 'nobucket.xml'}: no artifact could be downloaded: bucket 'no-such-bucket-here' does not exist at {server.endpoint}"
    ]


def test_download_refuses_keys_that_leave_the_folder(tmp_path: Path, module_s3: tuple[LoopbackS3, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    server, bucket = module_s3
    for key, value in s3_vars(server.endpoint).items():
        monkeypatch.setenv(key, value)
    boto3.client("s3", endpoint_url=server.endpoint, region_name="us-east-1", **_keys()).put_object(Bucket=bucket, Key="runs/r1/ok.png", Body=b"\x89PNG")
    xml = tmp_path / "evil.xml"
    xml.write_text(
        '<testsuite name="x"><properties><property name="run_id" value="r1"/>'
        f'<property name="artifacts_location" value="s3://{bucket}/runs/r1/"/></properties>'
        '<testcase classname="t" name="a"><properties>'
        f'<property name="artifact:ok.png" value="s3://{bucket}/runs/r1/ok.png"/>'
        f'<property name="artifact:evil.png" value="s3://{bucket}/runs/r1/../../../../evil.png"/>'
        "</properties></testcase></testsuite>"
    )
    result = report(capsys, "download", str(xml), str(tmp_path / "dl"))
    # the bad key is skipped and reported (exit 1), the good one still downloaded
    assert result.code == 1 and "downloaded 1 of 2" in result.out and "'..' parts" in result.err
    assert not (tmp_path / "evil.png").exists() and not list(tmp_path.parent.glob("evil.png"))


# -- malicious and broken inputs -------------------------------------------------------


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<testsuite name="x"><testcase classname="t" name="&lol3;"/></testsuite>"""
DEEP = '<testsuite name="x"><testcase classname="t" name="a"><system-out>' + "<a>" * 1000 + "</a>" * 1000 + "</system-out></testcase></testsuite>"
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<testsuite name="x"><testcase classname="t" name="a"><failure message="&secret;"/></testcase></testsuite>"""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (BILLION_LAUGHS, "refusing to parse: the file declares a DOCTYPE"),
        (EXTERNAL_ENTITY, "refusing to parse: the file declares a DOCTYPE"),
        ('<?xml version="1.0"?><!-- <a> --><!DOCTYPE x [<!ENTITY e "boom">]><testsuite name="&e;"/>', "the file declares a DOCTYPE"),
        ('<testsuite name="x"><testcase classname="t" name="a"><failure message="cut', "not well-formed XML"),
        ("", "the file is empty"),
        ("<html><body>not junit</body></html>", "not a JUnit report: the root element is <html>"),
        (DEEP, "nested more than 100 levels deep"),
        ('<?xml version="1.0" encoding="x-bogus"?><testsuite name="x"/>', "names an encoding the parser cannot read (unknown encoding: x-bogus)"),
    ],
    ids=["billion-laughs", "external-entity", "doctype-after-comment", "truncated", "empty", "not-junit", "deep-nesting", "bogus-encoding"],
)
@pytest.mark.parametrize("command", ["summary", "html", "merge", "download"])
def test_bad_reports_get_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str, command: str) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(content)
    argv = {
        "summary": ["summary", str(bad)],
        "html": ["html", str(bad), "-o", str(tmp_path / "r.html")],
        "merge": ["merge", str(tmp_path / "m.xml"), str(bad)],
        "download": ["download", str(bad), str(tmp_path / "dl")],
    }[command]
    result = report(capsys, *argv)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"lambda-ui report: error: {bad}: ") and expected in lines[0], result.err
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "m.xml").exists()
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]  # nothing half-written


def test_a_100_mb_report_is_refused_before_reading(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB without writing them
    result = report(capsys, "summary", str(big))
    assert result.code == 2
    assert result.err.strip() == f"lambda-ui report: error: {big}: 104.9 MB is over the 50 MB limit for a report; if it really is a JUnit file, raise the limit with --max-size-mb"
    assert report(capsys, "summary", str(big), "--max-size-mb", "200").err.count("not well-formed XML") == 1


def test_missing_paths_globs_and_buckets(tmp_path: Path, s3_env: LoopbackS3, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.xml"
    assert report(capsys, "summary", str(missing)).err.strip() == f"lambda-ui report: error: {missing}: no such file"
    assert "no file matches this pattern" in report(capsys, "merge", str(tmp_path / "m.xml"), str(tmp_path / "shards/*.xml")).err
    assert "is a folder, not a JUnit file" in report(capsys, "summary", str(tmp_path)).err
    result = report(capsys, "summary", "s3://no-such-bucket-for-reports/runs/r.xml")
    assert result.code == 2
    assert result.err.strip() == (
        f"lambda-ui report: error: s3://no-such-bucket-for-reports/runs/r.xml: bucket 'no-such-bucket-for-reports' does not exist at {s3_env.endpoint}"
    )


def test_unreachable_s3_endpoint_is_one_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # discard port: nothing listens
    result = report(capsys, "summary", "s3://reports/r.xml")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "cannot reach S3 at http://127.0.0.1:9" in lines[0]


@real_chrome
def test_missing_local_artifacts_are_marked_in_html(shards: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Run from elsewhere: the relative artifact paths resolve neither here nor next to the report.
    copy = tmp_path / "moved.xml"
    copy.write_text(shards[0].read_text())
    result = report(capsys, "html", str(copy), "-o", str(tmp_path / "r.html"), "--artifacts-root", str(tmp_path))
    assert result.code == 0 and "0 image(s) embedded" in result.out
    page = (tmp_path / "r.html").read_text()
    assert "screenshot not available: file not found: art/" in page and "pass --artifacts-root DIR" in page


OTHER_TOOL = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="com.example.FooTest" tests="3" time="0.5">
<testsuite name="nested"><testcase classname="com.example.FooTest" name="bar" time="0.1"><failure message="expected 1" type="AssertionError">trace</failure></testcase></testsuite>
<testcase classname="com.example.FooTest" name="baz" time="n/a"/><testcase name="noclass"><skipped/></testcase>
</testsuite></testsuites>"""


@real_chrome
def test_another_tools_junit_is_read_without_our_properties(flip: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "surefire.xml"
    other.write_text(OTHER_TOOL)
    result = report(capsys, "summary", str(other))
    assert result.code == 1 and "3 tests: 1 failed, 1 passed, 1 skipped" in result.out and "com.example.FooTest::bar" in result.out
    merged = tmp_path / "m.xml"
    assert report(capsys, "merge", str(merged), str(other), str(flip[1])).code == 0
    assert xunit2.JUnitXml.fromfile(str(merged)).tests == 5
    assert report(capsys, "html", str(other), "-o", str(tmp_path / "r.html")).code == 0
    assert "No timeline: the report has no run_offset_s/wall_s properties" in (tmp_path / "r.html").read_text()


RERUN_SUITE = """
ATTEMPTS = []

def test_flaky_once():
    ATTEMPTS.append(1)
    assert len(ATTEMPTS) > 1, "fails the first time"

def test_always_fails():
    assert False, "always"

def test_passes():
    pass
"""


@pytest.mark.parametrize("plugin", ["on", "off"])
def test_a_pytest_rerunfailures_report_counts_each_test_once(tmp_path: Path, capsys: pytest.CaptureFixture[str], plugin: str) -> None:
    # pytest-rerunfailures writes a <testcase> per attempt, the rerun ones with no result: the
    # summary read 5 tests, 4 passed, and merge kept the always-failing test as passed.
    (tmp_path / "test_suite.py").write_text(RERUN_SUITE)
    off = ["-p", "no:lambda_ui"] if plugin == "off" else []
    pytest_run(*off, "--reruns=1", "--junitxml=r.xml", "-p", "no:randomly", cwd=tmp_path, env={"PYTHONPATH": os.path.join(REPO, ".venv", "parity-plugins")})
    xml = tmp_path / "r.xml"
    entries = [c.get("name") for c in ET.parse(xml).getroot().iter("testcase")]
    assert sorted(entries) == sorted(["test_flaky_once"] * 2 + ["test_always_fails"] * 2 + ["test_passes"]), entries
    # With the plugin, each attempt run again says why on its entry (pytest's own records no result).
    recorded = [p.get("value") for p in ET.parse(xml).getroot().iter("property") if p.get("name") == "rerun_failure"]
    why = {"on": ["AssertionError: always", "AssertionError: fails the first time"], "off": []}[plugin]
    assert sorted(recorded) == why
    summary = report(capsys, "summary", str(xml))
    assert summary.code == 1 and "3 tests: 1 failed, 2 passed, 1 flaky" in summary.out, summary.out
    said = {"on": "earlier attempt (rerun: attempt 1): AssertionError: always", "off": "rerun by pytest-rerunfailures (its entry records no result)"}[plugin]
    assert "test_suite.py::test_always_fails" in summary.out and said in summary.out, summary.out
    merged = tmp_path / "merged.xml"
    assert report(capsys, "merge", str(merged), str(xml)).code == 0
    result = xunit2.JUnitXml.fromfile(str(merged))
    assert (result.tests, result.failures, result.errors) == (3, 1, 0)
    cases = {c.name: c for c in next(iter(result))}
    assert not cases["test_always_fails"].is_passed and cases["test_flaky_once"].is_flaky
    flaky = ET.parse(merged).getroot().find(".//testcase[@name='test_flaky_once']/flakyFailure")
    assert flaky is not None and flaky.get("message") == ("AssertionError: fails the first time" if plugin == "on" else "rerun by pytest-rerunfailures (its entry records no result)")


def test_help_and_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    result = report(capsys, "--help")
    assert result.code == 0 and "Exit codes: 0 done" in result.out
    for sub in ("summary", "merge", "html", "download"):
        assert report(capsys, sub, "--help").code == 0
    result = report(capsys, "html", "r.xml", "--expires", "999999")
    assert result.code == 2 and "must be between 1 and 604800 seconds" in result.err
    result = report(capsys, "download", "r.xml", "out", "--jobs", "0")  # a pool of no threads would fail later, less clearly
    assert result.code == 2 and "--jobs" in result.err and "at least 1" in result.err and "got 0" in result.err
    assert report(capsys).code == 2
    assert report(capsys, "frobnicate").code == 2


def test_command_line_entry_point_prints_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text(BILLION_LAUGHS)
    proc = subprocess.run([sys.executable, "-m", "lambda_ui.cli.report", "summary", str(bad)], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "DOCTYPE" in proc.stderr
