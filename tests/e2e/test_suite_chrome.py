"""Chrome that a suite starts itself, inside the function (issue 12).

The real handler runs in a Lambda-like process whose PATH has no chromedriver; the
image's $CHROME_BINARY and $CHROMEDRIVER name the browser and driver, and
SE_MANAGER_PATH points at a trap that leaves a mark if Selenium Manager is run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_ui.runner.chrome_defaults import SUITE_DIR_PREFIX
from stand_ins.lambda_like import LambdaLikeProcess
from stand_ins.services import AWS_TEST_ENV
from tests.conftest import HEADLESS_SHELL, REPO, needs_headless_shell
from tests.e2e.test_handler import _bundle_ref, _event
from tests.support.procs import live_browser_pids

pytestmark = pytest.mark.e2e

CONFTEST = """
import pytest
from selenium import webdriver


@pytest.fixture
def driver():
    driver = webdriver.Chrome()
    yield driver
    driver.quit()
"""

TESTS = """
import os
import tempfile

import psutil
from selenium import webdriver

def browser_command_line(driver):
    for proc in psutil.Process(driver.service.process.pid).children(recursive=True):
        line = proc.cmdline()
        if any(a.startswith("--user-data-dir=") for a in line) and not any(a.startswith("--type=") for a in line):
            return line
    return []


def test_gets_a_page(driver):
    driver.get("data:text/html,<h1>own chrome</h1>")
    assert driver.find_element("tag name", "h1").text == "own chrome"
    line = browser_command_line(driver)
    for flag in ("--headless=new", "--no-sandbox", "--no-zygote", "--in-process-gpu", "--disable-dev-shm-usage", "--disable-background-networking"):
        assert flag in line, (flag, line)
    (profile,) = [a.split("=", 1)[1] for a in line if a.startswith("--user-data-dir=")]
    assert profile.startswith(tempfile.gettempdir() + "/lambda-ui-chrome-suite-"), profile


def test_leaves_its_driver_running():
    options = webdriver.ChromeOptions()
    options.add_argument("--window-size=700,500")
    driver = webdriver.Chrome(options=options)  # never quit, and held by nothing once the test ends
    driver.get("data:text/html,<h1>still here</h1>")
    assert driver.get_window_size() == {"width": 700, "height": 500}
    assert "--no-zygote" in browser_command_line(driver)


def test_with_pytest_selenium(selenium):
    selenium.get("data:text/html,<h1>pytest-selenium</h1>")
    assert selenium.find_element("tag name", "h1").text == "pytest-selenium"
    assert "--in-process-gpu" in browser_command_line(selenium)


def test_plugin_browser_uses_the_lambda_set(browser):
    line = browser_command_line(browser)
    assert "--no-zygote" in line and "--in-process-gpu" in line, line


def test_defaults_are_installed():
    assert hasattr(webdriver.Chrome.__init__, "__wrapped__")


def test_on_the_image_s_browser(driver, browser):
    driver.get("data:text/html,<h1>which browser</h1>")
    assert driver.find_element("tag name", "h1").text == "which browser"
    assert driver.capabilities["browserName"] == browser.capabilities["browserName"] == os.environ["EXPECT_BROWSER"]
    assert len(browser.get_screenshot_as_png()) > 1000


def test_with_paths_of_a_ci_image():
    # Written for a CI image: its Chrome and chromedriver live where the function has neither.
    options = webdriver.ChromeOptions()
    options.binary_location = "/opt/ci-image/chrome/chrome"
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService("/opt/ci-image/bin/chromedriver"))
    try:
        driver.get("data:text/html,<h1>ci image</h1>")
        assert driver.find_element("tag name", "h1").text == "ci image"
    finally:
        driver.quit()


def test_on_a_grid():
    # Written for a Selenium Grid, whose address the function cannot reach.
    driver = webdriver.Remote(command_executor="http://selenium-grid.invalid:4444/wd/hub", options=webdriver.ChromeOptions())
    try:
        driver.get("data:text/html,<h1>grid chrome</h1>")
        assert driver.find_element("tag name", "h1").text == "grid chrome"
        assert isinstance(driver, webdriver.Remote) and "--no-sandbox" in browser_command_line(driver)
    finally:
        driver.quit()
"""


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """The function's /tmp, short enough for Chrome's socket paths (108 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="sc-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def selenium_manager_mark(tmp_path: Path) -> Path:
    return tmp_path / "selenium-manager-ran"


#: webdriver-manager, installed apart by scripts/setup.sh.
DRIVER_MANAGER = os.path.join(REPO, ".venv", "driver-manager")

WEBDRIVER_MANAGER_CONFTEST = """
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from webdriver_manager.chrome import ChromeDriverManager
from webdriver_manager.core.os_manager import ChromeType


@pytest.fixture
def driver():
    # What many suites do: download a chromedriver for the Chrome they find, then start it.
    service = Service(ChromeDriverManager(chrome_type=ChromeType.CHROMIUM).install())
    driver = webdriver.Chrome(service=service)
    yield driver
    driver.quit()
"""


@pytest.fixture
def function(short_tmp: Path, tmp_path: Path, s3_env: Any, selenium_manager_mark: Path) -> Iterator[LambdaLikeProcess]:
    process = LambdaLikeProcess(short_tmp, env=_function_env(tmp_path, s3_env, selenium_manager_mark))
    yield process
    process.close()


def _function_env(tmp_path: Path, s3_env: Any, selenium_manager_mark: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"  # /usr/bin without chromedriver, so only $CHROMEDRIVER names it
    bin_dir.mkdir()
    for entry in os.scandir("/usr/bin"):
        if entry.name != "chromedriver":
            (bin_dir / entry.name).symlink_to(entry.path)
    trap = tmp_path / "selenium-manager"
    trap.write_text(f"#!/bin/sh\n: > '{selenium_manager_mark}'\nexit 1\n")
    trap.chmod(0o755)
    env = dict(
        AWS_TEST_ENV,
        AWS_ENDPOINT_URL_S3=s3_env.endpoint,
        CHROME_BINARY="/usr/bin/chromium",
        CHROMEDRIVER="/usr/bin/chromedriver",
        PATH=str(bin_dir),
        SE_MANAGER_PATH=str(trap),
        EXPECT_BROWSER="chrome",
    )
    return env


def _bundle(tmp_path: Path, name: str, bucket: str, s3_client: Any, ini: str | None = None, conftest: str = CONFTEST) -> dict[str, str]:
    folder = tmp_path / name
    folder.mkdir()
    files = {"conftest.py": conftest, "test_own_chrome.py": TESTS}
    if ini is not None:
        files["pytest.ini"] = ini
    return _bundle_ref(s3_client, bucket, folder, files)


def _call(response: dict[str, Any]) -> dict[str, Any]:
    assert response.get("kind") == "run", response
    return next(r for r in response["reports"] if r["when"] == "call" or r["outcome"] != "passed")


def _suite_leftovers(tmp: Path) -> tuple[set[int], list[Path]]:
    return live_browser_pids(str(tmp / SUITE_DIR_PREFIX)), sorted(tmp.glob(SUITE_DIR_PREFIX + "*"))


def test_webdriver_chrome_with_no_arguments_works_in_the_function(
    function: LambdaLikeProcess, tmp_path: Path, bucket: str, s3_client: Any, selenium_manager_mark: Path, short_tmp: Path
) -> None:
    bundle = _bundle(tmp_path, "suite", bucket, s3_client)
    for name in ("test_gets_a_page", "test_leaves_its_driver_running", "test_plugin_browser_uses_the_lambda_set", "test_on_the_image_s_browser"):
        call = _call(function.invoke(_event(f"test_own_chrome.py::{name}", bundle, bucket)))
        assert call["outcome"] == "passed", call["longrepr"]
        # The driver left running is stopped and its directory removed when its test ends (warm
        # session) or the session does (per-test);
        # the plugin's own warm browser lives on in a directory of its own.
        assert _suite_leftovers(short_tmp) == (set(), [])
    assert not selenium_manager_mark.exists(), "Selenium Manager must never run in the function"


def test_paths_of_another_machine_give_way_to_the_function_s_and_the_answer_says_so(
    function: LambdaLikeProcess, tmp_path: Path, bucket: str, s3_client: Any, short_tmp: Path
) -> None:
    bundle = _bundle(tmp_path, "suite", bucket, s3_client)
    response = function.invoke(_event("test_own_chrome.py::test_with_paths_of_a_ci_image", bundle, bucket))
    call = _call(response)
    assert call["outcome"] == "passed", call["longrepr"]
    said = " ".join(response["warnings"])
    assert "the suite's Chrome binary /opt/ci-image/chrome/chrome is not in the function" in said, response["warnings"]
    assert "the suite's chromedriver /opt/ci-image/bin/chromedriver is not in the function" in said, response["warnings"]
    assert _suite_leftovers(short_tmp) == (set(), [])


def test_pytest_selenium_driver_chrome_works_in_the_function(
    function: LambdaLikeProcess, tmp_path: Path, bucket: str, s3_client: Any, selenium_manager_mark: Path, short_tmp: Path
) -> None:
    bundle = _bundle(tmp_path, "suite", bucket, s3_client)
    call = _call(function.invoke(_event("test_own_chrome.py::test_with_pytest_selenium", bundle, bucket, pytest_args=["--driver", "Chrome"])))
    assert call["outcome"] == "passed", call["longrepr"]
    assert not selenium_manager_mark.exists()
    assert _suite_leftovers(short_tmp) == (set(), [])


def test_webdriver_manager_gets_the_function_s_chromedriver(
    short_tmp: Path, tmp_path: Path, s3_env: Any, bucket: str, s3_client: Any, selenium_manager_mark: Path
) -> None:
    # Here, as on Lambda, it finds no Chromium on PATH; offline it cannot download either.
    assert os.path.isdir(DRIVER_MANAGER), f"{DRIVER_MANAGER} is missing: run scripts/setup.sh"
    env = {**_function_env(tmp_path, s3_env, selenium_manager_mark), "PYTHONPATH": DRIVER_MANAGER}
    process = LambdaLikeProcess(short_tmp, env=env)
    try:
        bundle = _bundle(tmp_path, "wdm", bucket, s3_client, conftest=WEBDRIVER_MANAGER_CONFTEST)
        call = _call(process.invoke(_event("test_own_chrome.py::test_gets_a_page", bundle, bucket)))
        assert call["outcome"] == "passed", call["longrepr"]
    finally:
        process.close()
    assert not selenium_manager_mark.exists() and _suite_leftovers(short_tmp) == (set(), [])


@needs_headless_shell
def test_an_image_with_the_headless_shell_runs_both_chromes_on_it(
    short_tmp: Path, tmp_path: Path, s3_env: Any, bucket: str, s3_client: Any, selenium_manager_mark: Path
) -> None:
    # chromedriver opens no page in the shell unless the session names it as the browser.
    env = {**_function_env(tmp_path, s3_env, selenium_manager_mark), "CHROME_BINARY": str(HEADLESS_SHELL), "EXPECT_BROWSER": "chrome-headless-shell"}
    process = LambdaLikeProcess(short_tmp, env=env)
    try:
        bundle = _bundle(tmp_path, "shell", bucket, s3_client)
        call = _call(process.invoke(_event("test_own_chrome.py::test_on_the_image_s_browser", bundle, bucket)))
        assert call["outcome"] == "passed", call["longrepr"]
    finally:
        process.close()
    assert not selenium_manager_mark.exists() and _suite_leftovers(short_tmp) == (set(), [])


def test_lambda_chrome_defaults_false_turns_them_off(
    function: LambdaLikeProcess, tmp_path: Path, bucket: str, s3_client: Any, selenium_manager_mark: Path
) -> None:
    # A session with the defaults first, in the same environment: they must not outlive it.
    on = _bundle(tmp_path, "on", bucket, s3_client)
    assert _call(function.invoke(_event("test_own_chrome.py::test_defaults_are_installed", on, bucket)))["outcome"] == "passed"
    off = _bundle(tmp_path, "off", bucket, s3_client, ini="[pytest]\nlambda_chrome_defaults = false\n")
    failed = _call(function.invoke(_event("test_own_chrome.py::test_gets_a_page", off, bucket)))
    assert (failed["when"], failed["outcome"]) == ("setup", "failed")
    assert "Unable to obtain driver for chrome" in str(failed["longrepr"])
    assert selenium_manager_mark.exists(), "without the defaults, Selenium Manager is what Selenium falls back on"


def test_lambda_remote_chrome_function_runs_a_grid_suite_s_chrome_in_the_function(
    function: LambdaLikeProcess, tmp_path: Path, bucket: str, s3_client: Any, selenium_manager_mark: Path, short_tmp: Path
) -> None:
    grid = _bundle(tmp_path, "grid", bucket, s3_client, ini="[pytest]\nlambda_remote_chrome = function\n")
    call = _call(function.invoke(_event("test_own_chrome.py::test_on_a_grid", grid, bucket)))
    assert call["outcome"] == "passed", call["longrepr"]
    assert not selenium_manager_mark.exists() and _suite_leftovers(short_tmp) == (set(), [])
    # By default a webdriver.Remote goes where the suite says, as it does locally.
    as_written = _bundle(tmp_path, "as_written", bucket, s3_client)
    failed = _call(function.invoke(_event("test_own_chrome.py::test_on_a_grid", as_written, bucket)))
    assert failed["outcome"] == "failed" and "selenium-grid.invalid" in str(failed["longrepr"])


SESSION_DRIVER = """
import pytest
from selenium import webdriver


@pytest.fixture(scope="session")
def shared_driver():
    driver = webdriver.Chrome()
    yield driver
    driver.quit()


def test_first_opens_a_page(shared_driver):
    shared_driver.get("data:text/html,<h1>kept</h1>")


def test_second_finds_the_same_browser_alive(shared_driver):
    assert shared_driver.find_element("tag name", "h1").text == "kept"
"""


LAZY_DRIVER = """
import pytest
from selenium import webdriver

_SHARED = []


@pytest.fixture
def driver():
    # One browser for the whole run, made by the first test that needs it (pytest-splinter's
    # browser pool works this way too).
    if not _SHARED:
        _SHARED.append(webdriver.Chrome())
    return _SHARED[0]


def test_first(driver):
    driver.get("data:text/html,<h1>shared</h1>")
    assert False, "a failure's traceback holds the driver too"


def test_second(driver):
    assert driver.find_element("tag name", "h1").text == "shared"


def test_third(driver):
    driver.get("data:text/html,<h1>third</h1>")


def test_forgets_its_own():
    mine = webdriver.Chrome()  # never quit: its failure's traceback is all that holds it
    mine.get("data:text/html,<h1>mine</h1>")
    assert False, "forgot quit()"
"""


MODULE_DRIVER = """
from selenium import webdriver

driver = webdriver.Chrome()  # built when the module is imported, as some suites do


def test_home():
    driver.get("data:text/html,<title>Home</title>")
    assert driver.title == "Home"


def test_cart():
    driver.get("data:text/html,<title>Cart</title>")
    assert driver.title == "Cart"
"""


def _all_pass_in_one_environment(function: LambdaLikeProcess, tmp_path: Path, bucket: str, s3_client: Any, module: str, tests: tuple[str, ...]) -> None:
    """Run ``tests`` of a one-module suite one after the other in the same environment; each passes."""
    folder = tmp_path / "one-module"
    folder.mkdir()
    bundle = _bundle_ref(s3_client, bucket, folder, {"conftest.py": "", "test_module.py": module})
    for name in tests:
        call = _call(function.invoke(_event(f"test_module.py::{name}", bundle, bucket)))
        assert call["outcome"] == "passed", call["longrepr"]


def test_a_driver_the_suite_keeps_serves_its_next_tests_in_a_warm_session(
    function: LambdaLikeProcess, tmp_path: Path, bucket: str, s3_client: Any, short_tmp: Path
) -> None:
    folder = tmp_path / "lazy"
    folder.mkdir()
    bundle = _bundle_ref(s3_client, bucket, folder, {"conftest.py": "", "test_module.py": LAZY_DRIVER})
    outcomes = [_call(function.invoke(_event(f"test_module.py::{name}", bundle, bucket)))
                for name in ("test_first", "test_second", "test_third")]
    assert [(c["outcome"], c["when"]) for c in outcomes] == [("failed", "call"), ("passed", "call"), ("passed", "call")], outcomes[1]["longrepr"]
    assert len(live_browser_pids(str(short_tmp / SUITE_DIR_PREFIX))) > 0
    # A test's forgotten Chrome is still stopped after it, failure or not; the kept one stays.
    assert _call(function.invoke(_event("test_module.py::test_forgets_its_own", bundle, bucket)))["outcome"] == "failed"
    assert len(list(short_tmp.glob(SUITE_DIR_PREFIX + "*"))) == 1
    # The session's end stops it: another bundle replaces the session.
    other = _bundle(tmp_path, "other", bucket, s3_client)
    assert _call(function.invoke(_event("test_own_chrome.py::test_defaults_are_installed", other, bucket)))["outcome"] == "passed"
    assert _suite_leftovers(short_tmp) == (set(), [])


def test_a_driver_built_at_import_serves_every_test_of_a_warm_session(
    function: LambdaLikeProcess, tmp_path: Path, bucket: str, s3_client: Any, short_tmp: Path
) -> None:
    _all_pass_in_one_environment(function, tmp_path, bucket, s3_client, MODULE_DRIVER, ("test_home", "test_cart"))
    # The session's end stops it: another bundle replaces the session.
    other = _bundle(tmp_path, "other", bucket, s3_client)
    assert _call(function.invoke(_event("test_own_chrome.py::test_defaults_are_installed", other, bucket)))["outcome"] == "passed"
    assert _suite_leftovers(short_tmp) == (set(), [])


def test_a_session_fixtures_chrome_outlives_its_tests_in_a_warm_session(
    function: LambdaLikeProcess, tmp_path: Path, bucket: str, s3_client: Any, short_tmp: Path
) -> None:
    """A test's own leftover Chrome is stopped after it; a session fixture's is the session's to keep."""
    _all_pass_in_one_environment(function, tmp_path, bucket, s3_client, SESSION_DRIVER, ("test_first_opens_a_page", "test_second_finds_the_same_browser_alive"))
    assert live_browser_pids(str(short_tmp / SUITE_DIR_PREFIX)), "the session fixture's Chrome is gone"
