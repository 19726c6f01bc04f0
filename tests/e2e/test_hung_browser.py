"""A browser that stops answering is abandoned and killed; no signal to pytest leaves it running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO
from tests.support.procs import live_browser_pids, settled_browser_pids

#: Half a second later the page's main thread spins for ever: chromedriver then
#: answers neither a screenshot nor a script nor a page-source request. (Spinning
#: at once would hang this very script call: chromedriver needs the page after it.)
HANG = "setTimeout(function () { for (;;) {} }, 500)"

CONFTEST = """
import lambda_ui.runner.artifacts.recorder as recorder

recorder.CALL_TIMEOUT_S = 2.0  # the bound of one capture call, shortened for the test
"""


def test_a_hung_screenshot_is_abandoned_and_the_browser_replaced(pytester: pytest.Pytester, run_tmpdir: str) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_hang=f"""
        def test_1_hangs_its_page(browser, artifacts):
            browser.get("data:text/html,<h1>one</h1>")
            browser.execute_script({HANG!r})
            for _ in range(200):  # until the page spins: each screenshot before that succeeds
                if artifacts.screenshot("stuck") is None:
                    break
            else:
                raise AssertionError("the page never hung")
            print("WARNINGS", artifacts.warnings)
            assert browser.service.process.poll() is not None, "the hung browser's chromedriver is killed at once"

        def test_2_gets_a_new_browser(browser):
            browser.get("data:text/html,<h1>two</h1>")
            assert browser.find_element("tag name", "h1").text == "two"
        """
    )
    result = pytester.runpytest_subprocess("-s", timeout=240)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*WARNINGS*stuck.png not captured: CaptureTimeout: 2 s; the browser was killed and is restarted for the next test*"])
    assert settled_browser_pids(run_tmpdir) == set()


def _hanging_run(folder: Path, tmpdir: str) -> tuple[subprocess.Popen[bytes], Path]:
    """pytest in a session of its own (as a CI job), stuck in a WebDriver call on a spinning page."""
    flag = folder / "hanging"
    (folder / "test_stuck.py").write_text(
        "from pathlib import Path\n\n"
        "def test_stuck(browser):\n"
        '    browser.get("data:text/html,<h1>stuck</h1>")\n'
        f"    browser.execute_script({HANG!r})\n"
        f"    Path({str(flag)!r}).write_text('now')\n"
        "    while True:  # until the page spins; then this call never answers\n"
        '        browser.execute_script("return 1")\n'
    )
    env = {**os.environ, "TMPDIR": tmpdir, "PYTHONPATH": REPO}
    env.pop("PYTEST_ADDOPTS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_stuck.py"],
        cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not (flag.exists() and _spinning(tmpdir)):
        assert process.poll() is None, process.communicate()[0].decode()[-3000:]
        assert time.monotonic() < deadline, "the test never reached its hang"
        time.sleep(0.1)
    return process, flag


def _spinning(tmpdir: str) -> bool:
    """True once a renderer of the run's browser has burnt a second of CPU: its page spins."""
    for pid in live_browser_pids(tmpdir):
        try:
            for child in psutil.Process(pid).children(recursive=True):
                if "--type=renderer" in child.cmdline() and child.cpu_times().user > 1.0:
                    return True
        except psutil.Error:
            continue
    return False


@pytest.fixture
def run_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "suite"
    folder.mkdir()
    yield folder


def test_sigterm_ends_a_hung_run_without_leftovers(run_folder: Path, run_tmpdir: str) -> None:
    process, _ = _hanging_run(run_folder, run_tmpdir)
    os.kill(process.pid, signal.SIGTERM)
    try:
        output = process.communicate(timeout=120)[0].decode()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output[-3000:]
    assert settled_browser_pids(run_tmpdir) == set()
    assert not list(Path(run_tmpdir).glob("lambda-ui-chrome-*"))


def test_sigkill_leaves_no_orphan(run_folder: Path, run_tmpdir: str) -> None:
    """A CI runner that gives up kills the job's process group: the browser's watchdog ends it."""
    process, _ = _hanging_run(run_folder, run_tmpdir)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert settled_browser_pids(run_tmpdir, timeout=30) == set()
    deadline = time.monotonic() + 30
    while list(Path(run_tmpdir).glob("lambda-ui-chrome-*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not list(Path(run_tmpdir).glob("lambda-ui-chrome-*")), "the watchdog removes the profile too"
