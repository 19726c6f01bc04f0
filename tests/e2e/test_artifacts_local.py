"""The browser fixture and artifacts, end to end through pytest, with a local folder."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import HEADLESS_SHELL, REPO, needs_headless_shell

FAILING_SUITE = """
import pytest

def test_passes(browser, artifacts):
    browser.get("data:text/html,<h1>hello</h1>")
    artifacts.screenshot("home")

def test_fails(browser):
    browser.get("data:text/html,<h1>bye</h1><script>console.error('broken widget')</script>")
    assert browser.find_element("tag name", "h1").text == "hello"

@pytest.fixture
def broken_login(browser):
    browser.get("data:text/html,<h1>login</h1>")
    raise RuntimeError("login service down")

def test_errors(broken_login):
    pass

def test_no_browser():
    assert True

@pytest.mark.xfail(reason="dark mode is not built")
def test_expected_to_fail(browser):
    browser.get("data:text/html,<h1>light</h1>")
    assert False

@pytest.mark.xfail(reason="fixed by now", strict=True)
def test_strict_xpass(browser):
    browser.get("data:text/html,<h1>fixed</h1>")
"""


def _cases(xml_path: Path) -> dict[str, ET.Element]:
    root = ET.parse(xml_path).getroot()
    return {case.get("name", ""): case for case in root.iter("testcase")}


def _props(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.findall("./properties/property")}


def _links(case: ET.Element) -> tuple[dict[str, str], list[str]]:
    props = {p.get("name", ""): p.get("value", "") for p in case.findall("./properties/property")}
    out = case.findtext("system-out") or ""
    attachments = [line[len("[[ATTACHMENT|") : -2] for line in out.splitlines() if line.startswith("[[ATTACHMENT|")]
    return {k: v for k, v in props.items() if k.startswith("artifact:")}, attachments


@pytest.mark.parametrize("junit_logging", ["no", "all"])
def test_failure_artifacts_are_saved_and_linked_both_ways(pytester: pytest.Pytester, junit_logging: str) -> None:
    pytester.makepyfile(test_suite=FAILING_SUITE)
    result = pytester.runpytest_subprocess(
        "--junitxml=r.xml", "--run-id=run1", "--artifacts=out", "-o", f"junit_logging={junit_logging}"
    )
    result.assert_outcomes(passed=2, failed=2, errors=1, xfailed=1)
    result.stdout.fnmatch_lines(["*lambda-ui artifacts*", "run run1: 10 file(s) from 4 test(s) in out/run1/*"])
    cases = _cases(pytester.path / "r.xml")

    props, attachments = _links(cases["test_fails"])
    folder = "out/run1/test_suite.py/test_fails"
    assert props == {
        "artifact:failure-screenshot.png": f"{folder}/failure-screenshot.png",
        "artifact:failure-page.html": f"{folder}/failure-page.html",
        "artifact:failure-console.log": f"{folder}/failure-console.log",
    }
    assert attachments == list(props.values())
    png = (pytester.path / folder / "failure-screenshot.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    assert "<h1>bye</h1>" in (pytester.path / folder / "failure-page.html").read_text()
    assert "broken widget" in (pytester.path / folder / "failure-console.log").read_text()

    # A setup error with an open browser is captured too.
    props, attachments = _links(cases["test_errors"])
    assert sorted(props) == ["artifact:failure-console.log", "artifact:failure-page.html", "artifact:failure-screenshot.png"]
    assert len(attachments) == 3
    assert "login" in (pytester.path / props["artifact:failure-page.html"]).read_text()

    props, attachments = _links(cases["test_passes"])
    assert props == {"artifact:home.png": "out/run1/test_suite.py/test_passes/home.png"} == dict(zip(props, attachments, strict=True))
    assert _links(cases["test_no_browser"]) == ({}, [])
    # An expected failure is no failure to capture; a strict xfail that passed is one.
    assert _links(cases["test_expected_to_fail"]) == ({}, [])
    assert len(_links(cases["test_strict_xpass"])[0]) == 3
    # Timeline facts on every test, run facts on the suite.
    for name, case in cases.items():
        props = {p.get("name"): p.get("value") for p in case.findall("./properties/property")}
        assert float(props["run_offset_s"]) >= 0 and float(props["wall_s"]) >= 0
        assert props["nodeid"] == f"test_suite.py::{name}" and "lambda_outcome" not in props  # outcomes are a --lambda run's
    suite = ET.parse(pytester.path / "r.xml").getroot().find("testsuite")
    facts = {p.get("name"): p.get("value") for p in suite.findall("./properties/property")}
    assert facts["run_id"] == "run1" and facts["run_mode"] == "local" and facts["artifacts_location"] == "out/run1/"
    assert float(facts["run_wall_s"]) > 0
    if junit_logging == "all":
        # pytest's own captured output is kept next to our lines.
        assert cases["test_fails"].find("system-out") is not None


def test_links_survive_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=FAILING_SUITE)
    result = pytester.runpytest_subprocess("-n", "2", "--junitxml=r.xml", "--run-id=xd", "--artifacts=out")
    result.assert_outcomes(passed=2, failed=2, errors=1, xfailed=1)
    cases = _cases(pytester.path / "r.xml")
    assert set(cases) == {"test_passes", "test_fails", "test_errors", "test_no_browser", "test_expected_to_fail", "test_strict_xpass"}
    for name, count in [("test_passes", 1), ("test_fails", 3), ("test_errors", 3), ("test_expected_to_fail", 0), ("test_strict_xpass", 3)]:
        props, attachments = _links(cases[name])
        assert len(props) == count and attachments == list(props.values()), name
        for location in attachments:
            assert (pytester.path / location).is_file(), location
    # Both workers filed under the controller's run id.
    assert {p.name for p in (pytester.path / "out").iterdir()} == {"xd"}
    # The controller, which writes the report, recorded the node ids and the run's facts, once each.
    assert all(_props(case)["nodeid"] == f"test_suite.py::{name}" for name, case in cases.items())
    suite = ET.parse(pytester.path / "r.xml").getroot().find("testsuite")
    names = [p.get("name") for p in suite.findall("./properties/property")]
    facts = {p.get("name"): p.get("value") for p in suite.findall("./properties/property")}
    assert sorted(names) == ["artifacts_location", "lambda_ui_version", "pytest_version", "python_version", "run_id", "run_mode", "run_wall_s", "selenium_version"], names
    assert facts["run_id"] == "xd" and facts["run_mode"] == "local" and facts["artifacts_location"] == "out/xd/"


RERUN_SUITE = """
ATTEMPTS = []

def test_flaky_once(browser):
    ATTEMPTS.append(1)
    browser.get("data:text/html,<h1>flaky</h1>")
    assert len(ATTEMPTS) > 1

def test_always_fails(browser):
    browser.get("data:text/html,<h1>nope</h1>")
    assert False
"""


def test_each_pytest_rerunfailures_attempt_keeps_its_own_files(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    # pytest-rerunfailures reuses the item: the second attempt wrote over the first one's
    # screenshot, and the passing attempt's entry linked the failed one's files.
    monkeypatch.setenv("PYTHONPATH", os.path.join(REPO, ".venv", "parity-plugins"))  # scripts/setup.sh
    pytester.makepyfile(test_suite=RERUN_SUITE)
    result = pytester.runpytest_subprocess("--reruns=1", "--junitxml=r.xml", "--run-id=rr", "--artifacts=out", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["*1 failed, 1 passed, 2 rerun in *"])
    entries = [(case.get("name"), _links(case)[0]) for case in ET.parse(pytester.path / "r.xml").getroot().iter("testcase")]
    by_name: dict[str, list[dict[str, str]]] = {}
    for name, links in entries:
        by_name.setdefault(str(name), []).append(links)
    first, final = by_name["test_flaky_once"]
    assert final == {} and first["artifact:failure-screenshot.png"] == "out/rr/test_suite.py/test_flaky_once/failure-screenshot.png"
    first, final = by_name["test_always_fails"]
    assert first["artifact:failure-screenshot.png"] == "out/rr/test_suite.py/test_always_fails/failure-screenshot.png"
    assert final["artifact:failure-screenshot.png"] == "out/rr/test_suite.py/test_always_fails/rerun-2/failure-screenshot.png"
    for links in (first, final):
        assert all((pytester.path / location).is_file() for location in links.values()), links


def test_filmstrip_records_every_navigation_and_click(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_journey(browser):
            browser.get("data:text/html,<button onclick=\\"document.body.style.background='red'\\">go</button>")
            browser.find_element("tag name", "button").click()
            browser.find_element("tag name", "button").click()
            browser.get("data:text/html,<h1>second page</h1>")
            browser.back()
        """
    )
    result = pytester.runpytest_subprocess("--artifacts-mode=filmstrip", "--run-id=fs", "--artifacts=out", "--junitxml=r.xml")
    result.assert_outcomes(passed=1)
    frames = sorted(p.name for p in (pytester.path / "out/fs/test_filmstrip_records_every_navigation_and_click.py/test_journey/filmstrip").iterdir())
    assert frames == ["001-navigate.png", "002-click.png", "003-click.png", "004-navigate.png", "005-back.png"]
    props, attachments = _links(_cases(pytester.path / "r.xml")["test_journey"])
    assert list(props) == [f"artifact:filmstrip/{f}" for f in frames]


def test_capture_failure_is_a_warning_not_an_outcome(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_kills_browser_then_fails(browser):
            browser.quit()
            assert False, "the real failure"

        def test_saves_without_browser(artifacts):
            assert artifacts.screenshot("nothing") is None
        """
    )
    result = pytester.runpytest_subprocess("--junitxml=r.xml", "--artifacts=out")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: the real failure*", "*lambda-ui artifact warnings*", "*failure-screenshot.png not captured*"])
    case = _cases(pytester.path / "r.xml")["test_saves_without_browser"]
    warnings = [p.get("value") for p in case.findall("./properties/property") if p.get("name") == "artifact_warning"]
    assert warnings == ["nothing.png not captured: this test has no browser (request the `browser` fixture)"]


def test_run_facts_reach_the_report_through_junitxml_itself(pytester: pytest.Pytester) -> None:
    """The run's facts are pytest's own global properties: already in the file when its junitxml
    wrote it (a later plugin copies it then), next to what the suite records itself, once each."""
    pytester.makeconftest(
        """
        import shutil
        import pytest

        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(session):
            shutil.copy("r.xml", "as-junitxml-wrote-it.xml")  # before any rewrite of ours
        """
    )
    pytester.makepyfile(test_plain="def test_a(record_testsuite_property):\n    record_testsuite_property('build', '7')\n")
    pytester.runpytest_subprocess("--junitxml=r.xml", "--run-id=gp", "--artifacts=out").assert_outcomes(passed=1)
    suite = ET.parse(pytester.path / "as-junitxml-wrote-it.xml").getroot().find("testsuite")
    assert suite is not None
    names = [p.get("name") for p in suite.findall("./properties/property")]
    assert sorted(names) == ["artifacts_location", "build", "lambda_ui_version", "pytest_version", "python_version", "run_id", "run_mode", "run_wall_s", "selenium_version"], names
    case = ET.parse(pytester.path / "r.xml").getroot().find("./testsuite/testcase")
    assert case is not None and _props(case)["nodeid"] == "test_plain.py::test_a"


@needs_headless_shell
def test_the_headless_shell_gives_the_same_outcomes_and_captures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_suite=FAILING_SUITE)
    result = pytester.runpytest_subprocess("--junitxml=r.xml", "--run-id=shell", "--artifacts=out", f"--chrome-binary={HEADLESS_SHELL}")
    result.assert_outcomes(passed=2, failed=2, errors=1, xfailed=1)
    props, attachments = _links(_cases(pytester.path / "r.xml")["test_fails"])
    assert sorted(props) == ["artifact:failure-console.log", "artifact:failure-page.html", "artifact:failure-screenshot.png"] and len(attachments) == 3
    folder = pytester.path / "out/shell/test_suite.py/test_fails"
    png = (folder / "failure-screenshot.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    assert "broken widget" in (folder / "failure-console.log").read_text()
