"""pytest entry point: options, the run object, and the ``browser``/``artifacts`` fixtures.

pytest imports this module in every run, with or without ``--lambda``; so it loads
only what every run needs. The --lambda session (boto3, the AWS adapters) is imported
when --lambda is given, selenium when a browser starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lambda_ui.runner.artifacts.recorder import Artifacts
from lambda_ui.runner.options import Settings, add_options
from lambda_ui.runner.run import UiRun

run_key = pytest.StashKey[UiRun]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from lambda_ui.runner import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_cmdline_main(config: pytest.Config) -> None:
    if config.getoption("lambda_mode") and getattr(config.option, "numprocesses", None):
        raise pytest.UsageError("--lambda and -n (pytest-xdist) do not mix: --lambda already runs every test in parallel.")


def pytest_configure(config: pytest.Config) -> None:
    run = UiRun(config, Settings.from_config(config))
    config.stash[run_key] = run
    config.pluginmanager.register(run, "lambda-ui-run")
    if config.getoption("lambda_mode") and not hasattr(config, "workerinput"):
        run.activate()  # a cancelled --lambda run still reports every test
        from lambda_ui.runner.options import LambdaSettings
        from lambda_ui.runner.session import LambdaSession

        config.pluginmanager.register(LambdaSession(config, LambdaSettings.from_config(config), run), "lambda-ui-session")


def _run(config: pytest.Config) -> UiRun:
    return config.stash[run_key]


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Artifacts:
    """Save named screenshots, page sources and console logs for this test."""
    return _run(request.config).artifacts_for(request.node)


@pytest.fixture
def browser(request: pytest.FixtureRequest, artifacts: Artifacts) -> Iterator[Any]:
    """A Selenium WebDriver on headless Chrome, in a clean state for this test.

    The browser is shared across the tests of a process and reset in between
    (cookies, storage, extra windows, ``about:blank``); a test that closes or
    crashes it gets a fresh one for the next test.
    """
    run = _run(request.config)
    chrome = run.browsers.acquire()
    artifacts.attach(chrome.driver, name="browser")
    if run.settings.artifacts_mode == "filmstrip":
        # selenium is loaded by now (a browser runs); the wrapper is imported only in filmstrip mode.
        from selenium.webdriver.support.event_firing_webdriver import EventFiringWebDriver

        from lambda_ui.runner.artifacts.filmstrip import FilmstripListener

        yield EventFiringWebDriver(chrome.driver, FilmstripListener(artifacts))
    else:
        yield chrome.driver
    artifacts.pull_console()  # before the next test's reset drops them
