"""Suites the handler and latency benchmarks write into a scratch folder, and how they read results.

Each suite is self-contained: the example app (examples/app) and the example
conftest are copied next to the tests, and ``pytest.ini`` ships the app's
templates and static files in the ``--lambda`` bundle (outside git the bundle
holds only what collection imported).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

INI = """[pytest]
lambda_bundle_include =
    app/
"""

#: Each test waits this long on the app's slow back end; 2-5 s as staging servers take.
SLOW_PATTERN = (5, 2, 4, 3, 3, 4, 2, 5)

LATENCY_TEST = '''"""Tests that mostly wait on the app under test: /slow answers after N seconds."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

SECONDS = {seconds!r}


@pytest.mark.parametrize("seconds", SECONDS, ids=[f"{{i:02d}}-{{s}}s" for i, s in enumerate(SECONDS)])
def test_waits_on_the_back_end(browser, open_page, seconds):
    open_page(f"/slow?seconds={{seconds}}")
    WebDriverWait(browser, 60).until(EC.visibility_of_element_located((By.ID, "report")))
    assert browser.find_element(By.ID, "served-in").get_attribute("data-seconds") == str(seconds)
'''

TRIVIAL_TEST = '''"""Browser tests that take about 0.1 s each: the handler's overhead dominates."""

import pytest


@pytest.mark.parametrize("n", range({count}))
def test_trivial(browser, n):
    browser.get(f"data:text/html,<h1>hello {{n}}</h1>")
    assert browser.find_element("tag name", "h1").text == f"hello {{n}}"
'''

#: A conftest like many real suites': pytest_configure starts the app under test.
SLOW_START_CONFTEST = '''"""Starts the app under test in pytest_configure, as many real suites do (~1 s)."""

from __future__ import annotations

import time

import pytest

from conftest_app import load_app

START_SECONDS = {start_s!r}


def pytest_configure(config):
    started = time.monotonic()
    config._bench_app = load_app().start_app(host="127.0.0.1", port=0)
    # Stands for the app's own boot (migrations, caches): the figure the issue names.
    time.sleep(max(0.0, START_SECONDS - (time.monotonic() - started)))


def pytest_unconfigure(config):
    app = getattr(config, "_bench_app", None)
    if app is not None:
        app.stop()


@pytest.fixture
def app_url(pytestconfig):
    return pytestconfig._bench_app.url
'''

APP_LOADER = '''"""Import the copied example app by file path (as examples/conftest.py does)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

NAME = "trailhead_example_app"


def load_app():
    if NAME in sys.modules:
        return sys.modules[NAME]
    folder = Path(__file__).resolve().parent / "app"
    spec = importlib.util.spec_from_file_location(NAME, folder / "__init__.py", submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module
    spec.loader.exec_module(module)
    return module
'''

APP_TEST = '''"""A short browser test against the app started in pytest_configure."""

import pytest


@pytest.mark.parametrize("n", range({count}))
def test_home(browser, app_url, n):
    browser.get(app_url + "/")
    assert browser.title
'''


def _copy_app(root: Path) -> None:
    shutil.copytree(EXAMPLES / "app", root / "app", ignore=shutil.ignore_patterns("__pycache__"))


def write_latency_suite(root: Path, tests: int) -> list[int]:
    """``tests`` tests each waiting 2-5 s on /slow, with the example conftest; returns the waits."""
    root.mkdir(parents=True, exist_ok=True)
    _copy_app(root)
    shutil.copy(EXAMPLES / "conftest.py", root / "conftest.py")
    (root / "pytest.ini").write_text(INI)
    seconds = [SLOW_PATTERN[i % len(SLOW_PATTERN)] for i in range(tests)]
    (root / "test_latency.py").write_text(LATENCY_TEST.format(seconds=seconds))
    return seconds


def write_trivial_suite(root: Path, tests: int) -> None:
    """``tests`` trivial browser tests, no app."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "test_trivial.py").write_text(TRIVIAL_TEST.format(count=tests))


def write_slow_start_suite(root: Path, tests: int, start_s: float = 1.0) -> None:
    """A suite whose ``pytest_configure`` starts the example app and takes ``start_s`` seconds."""
    root.mkdir(parents=True, exist_ok=True)
    _copy_app(root)
    (root / "pytest.ini").write_text(INI)
    (root / "conftest_app.py").write_text(APP_LOADER)
    (root / "conftest.py").write_text(SLOW_START_CONFTEST.format(start_s=start_s))
    (root / "test_app.py").write_text(APP_TEST.format(count=tests))


@dataclass(frozen=True)
class Case:
    """One test case of a JUnit file: node id, setup+call+teardown seconds, properties."""

    nodeid: str
    time_s: float
    properties: dict[str, str]


def junit_cases(path: Path) -> list[Case]:
    cases = []
    for case in ElementTree.parse(path).iter("testcase"):
        props = {p.get("name", ""): p.get("value", "") for p in case.iter("property")}
        nodeid = props.get("nodeid") or f"{case.get('classname')}::{case.get('name')}"
        cases.append(Case(nodeid, float(case.get("time") or 0.0), props))
    return cases


def junit_suite_properties(path: Path) -> dict[str, str]:
    suite = ElementTree.parse(path).find(".//testsuite/properties")
    return {p.get("name", ""): p.get("value", "") for p in suite.iter("property")} if suite is not None else {}
