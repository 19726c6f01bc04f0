"""pytest entry point: options, the run object, and the ``browser``/``artifacts`` fixtures.

pytest imports this module in every run, with or without ``--lambda``; so it loads
only what every run needs. The --lambda session (boto3, the AWS adapters) is imported
when --lambda is given, selenium when a browser starts.

``browser`` is a common name: pytest-splinter and pytest-playwright have a fixture of
that name. When another installed plugin provides one, the suite keeps it (it was
written for it) and this plugin's stays off; ``artifacts`` and the failure captures
work with any WebDriver the test holds.
"""

from __future__ import annotations

import types
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from lambda_ui.runner.artifacts.recorder import Artifacts
from lambda_ui.runner.collection_reads import Reads
from lambda_ui.runner.conftests import is_conftest
from lambda_ui.runner.option_names import add_free_short_names, taken_key, values_of_short_names
from lambda_ui.runner.options import GENERAL_OPTIONS, Settings, add_options
from lambda_ui.runner.run import UiRun

run_key = pytest.StashKey[UiRun]()
#: Files below the rootdir the suite read while pytest loaded its conftests and collected (--lambda only).
collection_reads_key = pytest.StashKey[Reads]()
#: The plugin module whose ``browser`` fixture the session uses instead of this plugin's.
browser_elsewhere_key = pytest.StashKey[str]()
#: What --lambda turned off of pytest-xdist's settings from the addopts, as a header line.
xdist_off_key = pytest.StashKey[str]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from lambda_ui.runner import hooks

    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_cmdline_main(config: pytest.Config) -> None:
    if not config.getoption("lambda_mode"):
        return
    from lambda_ui.runner.xdist_groups import remember_dist

    remember_dist(config)  # --dist loadgroup: its groups still hold under --lambda
    workers = getattr(config.option, "numprocesses", None)
    if not workers:
        return
    from lambda_ui.runner.forwarding import given_on_command_line

    if given_on_command_line(config, "numprocesses"):
        raise pytest.UsageError("--lambda and -n (pytest-xdist) do not mix: --lambda already runs every test in parallel; leave -n out.")
    # -n from the ini addopts or PYTEST_ADDOPTS: the suite's setting for local runs. Off before
    # pytest-xdist's own cmdline_main (trylast) turns it into workers.
    dist = config.option.dist
    config.option.numprocesses, config.option.dist, config.option.tx = None, "no", []
    config.stash[xdist_off_key] = f"lambda-ui: -n {workers} from the addopts is off: --lambda runs each test in its own invocation" + _SHARED_WORKER.get(dist, "")


#: What a distribution mode's shared worker gave that separate invocations do not.
_SHARED_WORKER = {
    mode: f"; --dist {mode} kept the tests of one {unit} on one worker, and here each runs alone, so a test that "
    "counts on what an earlier one left (a login, a page) fails: make it set that up itself"
    for mode, unit in (("loadscope", "module or class"), ("loadfile", "file"))
}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> Generator[None, None, None]:
    # pytest took `--artifacts DEST`'s DEST for a test path: the short name is not registered yet.
    paths = getattr(early_config.known_args_namespace, "file_or_dir", None)
    for value in values_of_short_names(args, GENERAL_OPTIONS):
        if isinstance(paths, list) and value in paths:
            paths.remove(value)
    # From here, not from pytest_configure: a conftest reads its data files when it is imported.
    if getattr(early_config.known_args_namespace, "lambda_mode", False):
        reads = Reads(early_config.rootpath)
        reads.start()
        early_config.stash[collection_reads_key] = reads
    result = yield
    # After the suite's initial conftests registered their options: a name they have stays theirs.
    early_config.stash[taken_key] = add_free_short_names(parser, GENERAL_OPTIONS)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_collection(session: pytest.Session) -> Generator[None, object, object]:
    try:
        return (yield)
    finally:
        reads = session.config.stash.get(collection_reads_key, None)
        if reads is not None:
            reads.stop()


def pytest_configure(config: pytest.Config) -> None:
    run = UiRun(config, Settings.from_config(config))
    config.stash[run_key] = run
    config.pluginmanager.register(run, "lambda-ui-run")
    if config.getoption("lambda_mode") and not hasattr(config, "workerinput"):
        run.activate()  # a cancelled --lambda run still reports every test
        from lambda_ui.runner.options import LambdaSettings
        from lambda_ui.runner.session import LambdaSession

        config.pluginmanager.register(LambdaSession(config, LambdaSettings.from_config(config), run), "lambda-ui-session")
    elsewhere = browser_elsewhere(config.pluginmanager)
    if elsewhere is None:
        config.pluginmanager.register(BrowserFixture(), "lambda-ui-browser")
    else:
        config.stash[browser_elsewhere_key] = elsewhere


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Capture a failure before other plugins see its report: SeleniumBase's ``sb``
    fixture quits its driver from its own makereport wrapper, so later is too late.

    Innermost, this wrapper sees a report before pytest's xfail handling turns it into
    an expected failure: tests marked xfail are left to the run's own wrapper, which
    captures them if the failure stays one (strict xfail, other exception)."""
    report = yield
    if report.failed and report.when in ("setup", "call") and item.get_closest_marker("xfail") is None:
        run = item.config.stash.get(run_key, None)
        if run is not None:
            run.capture_failure(item)
    return report


def pytest_report_header(config: pytest.Config) -> list[str]:
    lines = [taken.header_line() for taken in config.stash.get(taken_key, [])]
    if xdist_off := config.stash.get(xdist_off_key, None):
        lines.append(xdist_off)
    elsewhere = config.stash.get(browser_elsewhere_key, None)
    if elsewhere:
        lines.append(f"lambda-ui: the browser fixture is {elsewhere}'s; the plugin's own is off")
    return lines


def browser_elsewhere(pluginmanager: pytest.PytestPluginManager) -> str | None:
    """The name of another plugin module (not a conftest) that defines a ``browser`` fixture."""
    for plugin in pluginmanager.get_plugins():
        if not isinstance(plugin, types.ModuleType) or plugin.__name__ == __name__:
            continue
        if is_conftest(plugin):
            continue  # a conftest's fixture overrides this plugin's where it applies anyway
        for attribute, value in list(vars(plugin).items()):
            if isinstance(value, types.ModuleType):
                continue
            # pytest >= 8.4 keeps the marker on the fixture definition, older releases on the function.
            marker = getattr(value, "_fixture_function_marker", None) or getattr(value, "_pytestfixturefunction", None)
            if marker is not None and (getattr(marker, "name", None) or attribute) == "browser":
                return plugin.__name__
    return None


def _run(config: pytest.Config) -> UiRun:
    return config.stash[run_key]


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Artifacts:
    """Save named screenshots, page sources and console logs for this test."""
    return _run(request.config).artifacts_for(request.node)


class BrowserFixture:
    """The ``browser`` fixture, registered when no other plugin provides one."""

    @pytest.fixture
    def browser(self, request: pytest.FixtureRequest, artifacts: Artifacts) -> Iterator[Any]:
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
