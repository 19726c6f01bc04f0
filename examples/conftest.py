"""Shared fixtures for the example suites: the demo app and two small helpers.

Everything here builds on `app_url` and on the `browser` fixture that the
runner plugin provides. Keep this the only conftest.py under examples/:
rootless conftest files with the same name clash under --import-mode=append.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

APP_DIR = Path(__file__).resolve().parent / "app"
# A name of our own, so the app never clashes with some other top-level "app".
APP_MODULE = "trailhead_example_app"
# Generous: a loaded 2-core CI machine can take seconds to render a page.
WAIT_SECONDS = 20
#: WebDriverWait polls every 0.5 s unless told: a page ready in 50 ms cost each wait up to 0.5 s.
POLL_SECONDS = 0.1


def _load_app() -> ModuleType:
    """Import examples/app by file path.

    This needs no install and no sys.path entry, so it works from any
    rootdir and under every `--import-mode`.
    """
    if APP_MODULE in sys.modules:
        return sys.modules[APP_MODULE]
    spec = importlib.util.spec_from_file_location(
        APP_MODULE, APP_DIR / "__init__.py", submodule_search_locations=[str(APP_DIR)]
    )
    assert spec is not None and spec.loader is not None, f"cannot load {APP_DIR}"
    module = importlib.util.module_from_spec(spec)
    # Register before executing: the package's relative imports look it up here.
    sys.modules[APP_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[APP_MODULE]
        raise
    return module


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """Base URL of a demo app served from this process (one per xdist worker)."""
    app = _load_app().start_app(host="127.0.0.1", port=0)
    try:
        yield app.url
    finally:
        app.stop()


@pytest.fixture
def wait(browser: WebDriver) -> WebDriverWait[WebDriver]:
    """An explicit wait on the test's browser with the suite-wide timeout."""
    return WebDriverWait(browser, WAIT_SECONDS, poll_frequency=POLL_SECONDS)


@pytest.fixture
def open_page(browser: WebDriver, app_url: str) -> Callable[[str], None]:
    """Navigate to a path of the demo app, e.g. open_page("/products")."""

    def _open(path: str) -> None:
        browser.get(app_url + path)

    return _open
