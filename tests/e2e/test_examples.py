"""The example suite and the demo suite, run as a user runs them."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import REPO

UI = "examples/ui"
DEMO = "examples/demo"


def _pytest(*args: str, cwd: str = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
    )


def _collected(*paths: str) -> set[str]:
    out = _pytest("--collect-only", "-q", *paths).stdout
    return {line.strip() for line in out.splitlines() if "::" in line}


def _xml_ids(xml_path: Path) -> list[str]:
    root = ET.parse(xml_path).getroot()
    ids = []
    for case in root.iter("testcase"):
        module = case.get("classname", "").replace(".", "/")
        ids.append(f"{module}::{case.get('name')}")
    return ids


def _outcome(case: ET.Element) -> str:
    for tag in ("failure", "error", "skipped"):
        if case.find(tag) is not None:
            return tag
    return "passed"


#: The example suite runs locally once per CI run: these files serially, the others under xdist.
SERIAL_FILES = ["test_forms.py", "test_navigation.py"]


def _example_files(serial: bool) -> list[str]:
    return sorted(f"{UI}/{path.name}" for path in Path(REPO, UI).glob("test_*.py") if (path.name in SERIAL_FILES) == serial)


def test_example_suite_passes_serially(tmp_path: Path) -> None:
    """Plain `pytest` on a laptop."""
    files = _example_files(serial=True)
    proc = _pytest(*files, f"--artifacts={tmp_path}/a")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"{len(_collected(*files))} passed" in proc.stdout.splitlines()[-1]


@pytest.mark.headless_shell  # the other half runs on Chrome, as on a laptop (tests/conftest.py)
def test_example_suite_under_xdist_reports_every_test(tmp_path: Path) -> None:
    xml = tmp_path / "r.xml"
    files = _example_files(serial=False)
    proc = _pytest("-n", "2", *files, f"--junitxml={xml}", f"--artifacts={tmp_path}/a")
    assert proc.returncode == 0, proc.stdout[-3000:]
    collected = _collected(*files)
    reported = _xml_ids(xml)
    assert len(reported) == len(collected) >= 30
    assert len(set(reported)) == len(reported)
    root = ET.parse(xml).getroot()
    assert all(_outcome(case) == "passed" for case in root.iter("testcase"))


@pytest.fixture(params=["local", "s3"])
def destination(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return str(tmp_path / "artifacts")
    bucket = request.getfixturevalue("bucket")
    return f"s3://{bucket}/runs"


def _read(location: str, request: pytest.FixtureRequest) -> bytes:
    if location.startswith("s3://"):
        bucket, _, key = location[5:].partition("/")
        return request.getfixturevalue("s3_client").get_object(Bucket=bucket, Key=key)["Body"].read()
    path = Path(location)
    return (path if path.is_absolute() else Path(REPO) / path).read_bytes()


def test_demo_suite_links_failure_artifacts(destination: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    xml = tmp_path / "r.xml"
    proc = _pytest(DEMO, f"--junitxml={xml}", f"--artifacts={destination}", "--run-id=demo-run")
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "2 passed" in proc.stdout and "1 failed" in proc.stdout and "1 error" in proc.stdout
    assert "1 skipped" in proc.stdout and "1 xfailed" in proc.stdout

    cases = list(ET.parse(xml).getroot().iter("testcase"))
    failed = [c for c in cases if _outcome(c) == "failure"]
    errored = [c for c in cases if _outcome(c) == "error"]
    assert len(failed) == 1 and len(errored) == 1
    for case in failed + errored:
        props = {p.get("name"): p.get("value", "") for p in case.findall("./properties/property")}
        links = {k: v for k, v in props.items() if k.startswith("artifact:failure-")}
        assert sorted(links) == ["artifact:failure-console.log", "artifact:failure-page.html", "artifact:failure-screenshot.png"]
        attachments = [line[13:-2] for line in (case.findtext("system-out") or "").splitlines() if line.startswith("[[ATTACHMENT|")]
        assert set(links.values()) <= set(attachments)
        for location in links.values():
            assert "/demo-run/" in location
            if destination.startswith("s3://"):
                assert location.startswith(destination + "/demo-run/")
        assert _read(links["artifact:failure-screenshot.png"], request).startswith(b"\x89PNG")
        assert b"<html" in _read(links["artifact:failure-page.html"], request).lower()
    # The failing test's page writes to the console; the log carries it.
    failing_props = {p.get("name"): p.get("value", "") for p in failed[0].findall("./properties/property")}
    console = _read(failing_props["artifact:failure-console.log"], request).decode()
    assert console.strip() and console.strip() != "(no console output)"
