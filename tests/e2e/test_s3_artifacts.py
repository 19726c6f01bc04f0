"""Artifacts streamed to a real S3 server on loopback."""

from __future__ import annotations

import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from tests.support.procs import live_browser_pids

SUITE = """
def test_fails(browser):
    browser.get("data:text/html,<h1>bye</h1><script>console.error('broken widget')</script>")
    assert browser.find_element("tag name", "h1").text == "hello"
"""


def _get(s3_client, bucket: str, key: str) -> bytes:  # noqa: ANN001
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_failure_artifacts_land_in_s3_and_are_linked(pytester: pytest.Pytester, bucket: str, s3_client) -> None:  # noqa: ANN001
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess("--junitxml=r.xml", "--run-id=r1", f"--artifacts=s3://{bucket}/ci/ui")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"run r1: 3 file(s) from 1 test(s) in s3://{bucket}/ci/ui/r1/"])
    prefix = "ci/ui/r1/test_suite.py/test_fails/"
    keys = sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket, Prefix="ci/ui/")["Contents"])
    assert keys == [prefix + "failure-console.log", prefix + "failure-page.html", prefix + "failure-screenshot.png"]
    assert _get(s3_client, bucket, prefix + "failure-screenshot.png").startswith(b"\x89PNG")
    assert b"<h1>bye</h1>" in _get(s3_client, bucket, prefix + "failure-page.html")
    assert b"broken widget" in _get(s3_client, bucket, prefix + "failure-console.log")
    head = s3_client.head_object(Bucket=bucket, Key=prefix + "failure-screenshot.png")
    assert head["ContentType"] == "image/png"

    case = next(ET.parse(pytester.path / "r.xml").getroot().iter("testcase"))
    props = {p.get("name"): p.get("value") for p in case.findall("./properties/property")}
    urls = [f"s3://{bucket}/{k}" for k in keys]
    assert sorted(v for k, v in props.items() if k.startswith("artifact:")) == urls
    attachments = sorted(line[13:-2] for line in (case.findtext("system-out") or "").splitlines())
    assert attachments == urls


def test_screenshot_is_in_s3_while_the_test_still_runs(pytester: pytest.Pytester, bucket: str, s3_client, run_tmpdir: str) -> None:  # noqa: ANN001
    """A test that hangs after a screenshot: the screenshot is in S3 before the test ends."""
    pytester.makepyfile(
        test_hang="""
        import time

        def test_hangs(browser, artifacts):
            browser.get("data:text/html,<h1>early</h1>")
            artifacts.screenshot("early")
            time.sleep(120)
        """
    )
    key = "live/streamed/test_hang.py/test_hangs/early.png"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--run-id=streamed", f"--artifacts=s3://{bucket}/live"],
        cwd=pytester.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        found = False
        while time.monotonic() < deadline and not found:
            listing = s3_client.list_objects_v2(Bucket=bucket, Prefix="live/")
            found = any(o["Key"] == key for o in listing.get("Contents", []))
            time.sleep(0.1)
        assert proc.poll() is None, "the test ended before we looked; it was meant to hang"
        assert found, "screenshot not in S3 while the test was running"
        assert _get(s3_client, bucket, key).startswith(b"\x89PNG")
    finally:
        # As a CI system cancels a job: SIGTERM, and the browser must go with the run.
        proc.terminate()
        proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while live_browser_pids(run_tmpdir) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert live_browser_pids(run_tmpdir) == set()
