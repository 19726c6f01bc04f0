"""Failure captures from every WebDriver a test holds, whatever built it (issue 12).

One suite run shows most of it: drivers a conftest builds, a page object's
``.driver``, a ``unittest`` class's ``cls.driver``, pytest-selenium's
``selenium``, two drivers in one test, a quit driver and ``attach(name=...)``.
The deadline capture of the Lambda handler has a test of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.abstract_event_listener import AbstractEventListener
from selenium.webdriver.support.event_firing_webdriver import EventFiringWebDriver

from lambda_ui.function.worker import WorkerPlugin
from lambda_ui.runner.artifacts.drivers import find_drivers
from lambda_ui.runner.artifacts.recorder import NO_WARNINGS_OR_ERRORS, Artifacts
from lambda_ui.runner.artifacts.sinks import LocalSink
from lambda_ui.runner.browsers import BrowserManager
from lambda_ui.runner.chrome import ChromeProcess
from tests.support.procs import settled_browser_pids

# The suite uses pytest-selenium's `selenium` fixture and `--driver`.
pytestmark = [pytest.mark.e2e, pytest.mark.third_party_plugins]

#: Builds Chrome the way a suite would, without this plugin's help. Every profile
#: lives under TMPDIR, the run's own folder, so the leak check can find them.
CHROMES = """
import os
import shutil
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from lambda_ui.runner.chrome import chrome_flags


def chrome_options():
    profile = tempfile.mkdtemp(prefix="ud-", dir=os.environ["TMPDIR"])
    options = Options()
    options.binary_location = shutil.which("chromium") or shutil.which("google-chrome")
    for flag in chrome_flags(profile, (800, 600)):
        options.add_argument(flag)
    return options, profile


def make_chrome():
    options, profile = chrome_options()
    service = Service(executable_path="/usr/bin/chromedriver", env={**os.environ, "HOME": profile})
    return webdriver.Chrome(service=service, options=options)


_SHARED = []
ENDED = []  # drivers the conftest quits once their test's call report exists


def shared_chrome():  # one Chrome for the tests that need none of their own, kept in a module
    if not _SHARED:
        _SHARED.append(make_chrome())
    return _SHARED[0]


def quit_shared():
    while _SHARED:
        _SHARED.pop().quit()
"""

CONFTEST = """
import pytest

import chromes


def pytest_sessionfinish(session):
    chromes.quit_shared()


@pytest.fixture
def chrome_options():  # pytest-selenium builds its driver with these
    return chromes.chrome_options()[0]


class Session:  # what SeleniumBase's sb fixture yields: an object holding its driver

    def __init__(self):
        self.driver = chromes.make_chrome()


@pytest.fixture
def sb(request):
    request.node.sb_session = Session()
    return request.node.sb_session


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # As SeleniumBase does for its sb fixture: tear the driver down once the call's report exists.
    outcome = yield
    session = getattr(item, "sb_session", None)
    if session is not None and outcome.get_result().when == "call":
        session.driver.quit()
        del session.driver
    if outcome.get_result().when == "call":
        while chromes.ENDED:
            chromes.ENDED.pop().quit()
"""

SUITE = '''
import unittest
from types import SimpleNamespace

import pytest
from selenium.webdriver.support.abstract_event_listener import AbstractEventListener
from selenium.webdriver.support.event_firing_webdriver import EventFiringWebDriver

from chromes import ENDED, make_chrome, shared_chrome


def page(text):
    return f"data:text/html,<h1>{text}</h1><script>console.error('{text} broke')</script>"


@pytest.fixture
def watched():
    """A suite's own driver, wrapped for events."""
    return EventFiringWebDriver(shared_chrome(), AbstractEventListener())


def test_own_fixture(watched):
    watched.get(page("own fixture"))
    assert False, "own fixture"


PROPERTY_READS = []


class LoginPage:
    def __init__(self, driver):
        self.driver = driver

    @property
    def browser(self):
        """A well-known name behind a property: discovery must not run it."""
        PROPERTY_READS.append("browser")
        raise RuntimeError("a property ran during capture")


@pytest.fixture
def login_page():
    return LoginPage(shared_chrome())


def test_page_object(login_page):
    login_page.driver.get(page("page object"))
    assert False, "page object"


def test_page_object_property_untouched():
    assert PROPERTY_READS == []


@pytest.fixture
def customer():
    return shared_chrome()


@pytest.fixture(scope="module")
def support():
    driver = make_chrome()
    yield driver
    driver.quit()


def test_two_drivers(customer, support):
    customer.get(page("customer view"))
    support.get(page("support view"))
    assert False, "two drivers"


def test_attach_by_name(artifacts, support):
    admin = shared_chrome()  # out of the search's sight: a module-level helper
    artifacts.attach(admin, name="admin")
    admin.get(page("admin view"))
    support.get(page("support again"))
    assert False, "attached"


@pytest.fixture
def closed_driver():
    driver = make_chrome()
    driver.get(page("closed"))
    driver.quit()  # the suite is done with it before the test fails
    return driver


def test_quit_driver(closed_driver):
    assert False, "after quit"


def test_requested_by_name(request):
    # As pytest-bdd's steps get their fixtures: by name, as the test runs.
    request.getfixturevalue("customer").get(page("by name"))
    assert False, "by name"


def test_info_only(customer):
    customer.get("data:text/html,<h1>quiet</h1><script>console.log('an info line')</script>")
    assert False, "info only"


class Browser:  # as selene's global browser: the driver three stored steps in, behind a lazy property
    def __init__(self):
        self._config = SimpleNamespace(box=SimpleNamespace(value=None))

    @property
    def driver(self):
        PROPERTY_READS.append("Browser.driver")
        raise RuntimeError("a property ran during capture")


browser = Browser()


def test_module_global():
    browser._config.box.value = make_chrome()
    browser._config.box.value.get(page("module global"))
    try:
        assert False, "module global"
    finally:
        ENDED.append(browser._config.box.value)


class BrowseTheWeb:  # Screenplay: the actor's ability holds the browser, two steps in
    def __init__(self, browser):
        self.browser = browser


class Actor:
    def __init__(self, *abilities):
        self.abilities = list(abilities)


@pytest.fixture
def actor():
    return Actor(BrowseTheWeb(shared_chrome()))


def test_screenplay(actor):
    actor.abilities[0].browser.get(page("screenplay"))
    assert False, "screenplay"


def test_without_a_driver():
    # The shared browser is alive, kept in chromes.py, which only the conftest imports as a
    # module: the failure is not this test's browser's (an API check in a UI suite).
    shared_chrome()
    assert False, "no driver"


def test_sb_style(sb):
    sb.driver.get(page("sb style"))
    assert False, "sb style"


def test_pytest_selenium(selenium):
    selenium.get(page("pytest-selenium"))
    assert False, "pytest-selenium"


class TestLegacy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.chrome = make_chrome()  # not a well-known name: found on the class

    @classmethod
    def tearDownClass(cls):
        cls.chrome.quit()

    def test_in_class(self):
        self.chrome.get(page("legacy"))
        self.assertEqual(self.chrome.title, "never")
'''


@dataclass
class SuiteRun:
    folder: Path
    stdout: str
    stderr: str
    returncode: int
    cases: dict[str, ET.Element]
    leftover: set[int]

    def links(self, test: str) -> dict[str, str]:
        props = self.cases[test].findall("./properties/property")
        return {p.get("name", "")[len("artifact:") :]: p.get("value", "") for p in props if p.get("name", "").startswith("artifact:")}

    def warnings(self, test: str) -> list[str]:
        return [p.get("value", "") for p in self.cases[test].findall("./properties/property") if p.get("name") == "artifact_warning"]

    def read(self, location: str) -> bytes:
        return (self.folder / location).read_bytes()




@pytest.fixture(scope="module")
def suite_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SuiteRun]:
    folder = tmp_path_factory.mktemp("any-webdriver")
    (folder / "chromes.py").write_text(CHROMES)
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "test_suite.py").write_text(SUITE)
    marker = tempfile.mkdtemp(prefix="awd-", dir="/tmp")  # short: Chrome's socket paths must fit in 108 bytes
    try:
        proc = subprocess.run(
            [
                sys.executable, "-m", "pytest", "test_suite.py", f"--rootdir={folder}", "-p", "no:cacheprovider",
                "--junitxml=r.xml", "--artifacts=out", "--run-id=r1",
                "--driver", "Chrome", "--driver-path", "/usr/bin/chromedriver",
            ],
            cwd=folder,
            env={**os.environ, "TMPDIR": marker},
            capture_output=True,
            text=True,
            timeout=600,
        )
        leftover = settled_browser_pids(marker)
    finally:
        shutil.rmtree(marker, ignore_errors=True)
    root = ET.parse(folder / "r.xml").getroot()
    cases = {case.get("name", ""): case for case in root.iter("testcase")}
    yield SuiteRun(folder, proc.stdout, proc.stderr, proc.returncode, cases, leftover)


SET = ("failure-screenshot.png", "failure-page.html", "failure-console.log")


def _assert_set(run: SuiteRun, test: str, text: str, prefix: str = "failure") -> None:
    links = run.links(test)
    shot, page, console = (links[f"{prefix}-{what}"] for what in ("screenshot.png", "page.html", "console.log"))
    assert run.read(shot).startswith(b"\x89PNG")
    assert f"<h1>{text}</h1>" in run.read(page).decode()
    # Before pytest-selenium's own capture: the console entries are here (chromedriver
    # hands each entry out once).
    assert f"{text} broke" in run.read(console).decode()


def test_every_test_ran_and_no_browser_outlived_it(suite_run: SuiteRun) -> None:
    assert "13 failed, 1 passed" in suite_run.stdout, suite_run.stdout[-3000:]
    assert suite_run.leftover == set()
    # A quit driver is skipped without a request: no urllib3 "Retrying ..." lines anywhere.
    assert "Retrying" not in suite_run.stdout + suite_run.stderr


@pytest.mark.parametrize(
    ("test", "text"),
    [
        ("test_own_fixture", "own fixture"),  # a conftest driver, behind an EventFiringWebDriver
        ("test_page_object", "page object"),  # one attribute deep: LoginPage.driver
        ("test_pytest_selenium", "pytest-selenium"),  # pytest-selenium's `selenium` fixture
        ("test_sb_style", "sb style"),  # a driver another plugin tears down from its makereport wrapper
        ("test_requested_by_name", "by name"),  # request.getfixturevalue, as pytest-bdd's steps
        ("test_in_class", "legacy"),  # unittest: cls.chrome from setUpClass
        ("test_module_global", "module global"),  # kept in a module global, as selene's browser
        ("test_screenplay", "screenplay"),  # two steps into a fixture value: actor.abilities[0].browser
    ],
)
def test_one_driver_keeps_the_plain_names(suite_run: SuiteRun, test: str, text: str) -> None:
    folder = f"out/r1/test_suite.py/{'TestLegacy/' if test == 'test_in_class' else ''}{test}"
    assert suite_run.links(test) == {name: f"{folder}/{name}" for name in SET}
    assert suite_run.warnings(test) == []
    _assert_set(suite_run, test, text)


def test_several_drivers_get_a_set_each_named(suite_run: SuiteRun) -> None:
    assert sorted(suite_run.links("test_two_drivers")) == sorted(
        f"failure-{who}-{what}" for who in ("customer", "support") for what in ("screenshot.png", "page.html", "console.log")
    )
    _assert_set(suite_run, "test_two_drivers", "customer view", "failure-customer")
    _assert_set(suite_run, "test_two_drivers", "support view", "failure-support")
    # An attached driver goes by the name it was given, next to the one found.
    assert len(suite_run.links("test_attach_by_name")) == 6
    _assert_set(suite_run, "test_attach_by_name", "admin view", "failure-admin")
    _assert_set(suite_run, "test_attach_by_name", "support again", "failure-support")
    # Discovery read stored attributes only: the page object's `browser` property never ran.
    assert "test_page_object_property_untouched" in suite_run.cases
    assert suite_run.cases["test_page_object_property_untouched"].find("failure") is None


def test_an_empty_console_of_a_suite_s_browser_says_what_chromedriver_keeps(suite_run: SuiteRun) -> None:
    # Its console.log line is not kept without goog:loggingPrefs ALL: "no console output" would be wrong.
    console = suite_run.read(suite_run.links("test_info_only")["failure-console.log"]).decode()
    assert console == NO_WARNINGS_OR_ERRORS


def test_a_browser_the_test_never_held_is_not_captured(suite_run: SuiteRun) -> None:
    # The conftest's shared browser was alive as it failed.
    assert "no driver" in (suite_run.cases["test_without_a_driver"].find("failure").get("message") or "")  # type: ignore[union-attr]
    assert suite_run.links("test_without_a_driver") == {}


def test_a_quit_driver_is_left_alone(suite_run: SuiteRun) -> None:
    case = suite_run.cases["test_quit_driver"]
    assert "after quit" in (case.find("failure").get("message") or "")  # type: ignore[union-attr]
    assert suite_run.links("test_quit_driver") == {}
    assert suite_run.warnings("test_quit_driver") == []


DEADLINE_SUITE = """
import threading

import pytest

from chromes import make_chrome
from lambda_ui.function.deadline import Deadline


@pytest.fixture
def portal():
    driver = make_chrome()
    yield driver
    driver.quit()


def test_runs_out_of_time(portal, request):
    portal.get("data:text/html,<h1>still loading</h1>")
    worker = next(p for p in request.config.pluginmanager.get_plugins() if type(p).__name__ == "WorkerPlugin")
    deadline = Deadline(worker.capture_current)  # what the handler arms before Lambda's own timeout
    deadline.arm(0.2)
    try:
        threading.Event().wait(120)  # a test that hangs; the deadline interrupts it
    finally:
        deadline.disarm()
"""


def _no_warm_browser() -> ChromeProcess:
    raise AssertionError("the deadline capture must not start the plugin's browser")


def test_deadline_capture_finds_a_suite_built_driver(pytester: pytest.Pytester, run_tmpdir: str) -> None:
    pytester.makepyfile(chromes=CHROMES, test_deadline=DEADLINE_SUITE)
    worker = WorkerPlugin(BrowserManager(_no_warm_browser, (800, 600)), LocalSink(pytester.path / "out", pytester.path), "out")
    result = pytester.runpytest_inprocess("--artifacts=out", "--run-id=d1", "-p", "no:cacheprovider", plugins=[worker])
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*LambdaDeadlineExceeded*"])
    teardown = next(r for r in worker.reports if r["when"] == "teardown")
    links = {k[len("artifact:") :]: v for k, v in teardown["user_properties"] if k.startswith("artifact:")}
    folder = "out/d1/test_deadline.py/test_runs_out_of_time"
    assert links == {name: f"{folder}/{name}" for name in ("deadline-screenshot.png", "deadline-page.html", "deadline-console.log")}
    assert (pytester.path / folder / "deadline-screenshot.png").read_bytes().startswith(b"\x89PNG")
    assert "still loading" in (pytester.path / folder / "deadline-page.html").read_text()
    assert settled_browser_pids(run_tmpdir) == set()


# -- without a browser: what discovery reads, and the time bound --------------------------


def _bare_driver() -> WebDriver:
    """A WebDriver with no session: discovery looks at types, never at the browser."""
    return WebDriver.__new__(WebDriver)


def test_discovery_reads_stored_attributes_only() -> None:
    direct, in_slot, in_list = _bare_driver(), _bare_driver(), _bare_driver()

    class Slotted:
        __slots__ = ("driver",)

    reads = []

    class LazyPage:
        @property
        def driver(self) -> WebDriver:  # a page object that starts its browser on first use
            reads.append("driver")
            return _bare_driver()

    slotted = Slotted()
    slotted.driver = in_slot
    item = SimpleNamespace(
        funcargs={"direct": direct, "lazy": LazyPage(), "slotted": slotted, "pair": [in_list, direct], "again": EventFiringWebDriver(direct, AbstractEventListener())},
        cls=None,
    )
    assert find_drivers(item) == [("direct", direct), ("pair-0", in_list), ("slotted", in_slot)]  # type: ignore[arg-type]
    assert reads == []


class _HungDriver:
    """Answers a screenshot only after ``release`` is set, like a browser stuck in a script."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def get_screenshot_as_png(self) -> bytes:
        self.release.wait(30)
        return b"\x89PNG late"


def test_a_hung_driver_costs_one_bounded_call(tmp_path: Path) -> None:
    arts = Artifacts(LocalSink(tmp_path, tmp_path), "r", "test_x.py::test_hangs")
    hung = _HungDriver()
    try:
        arts.capture_failure(found=[("stuck", hung)], call_timeout_s=0.2)
    finally:
        hung.release.set()
    assert arts.saved == []
    assert arts.warnings == ["failure-screenshot.png not captured: `stuck` did not answer within 0.2 s; its other captures are skipped"]
