"""The per-process state of a UI run and the hooks that capture and link artifacts.

One :class:`UiRun` is registered per pytest process (controller and each
pytest-xdist worker). It owns the run id, the artifact sink and the warm
browser; reports carry artifact links as ``user_properties``, so whatever
process writes the JUnit report sees them.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from lambda_ui.runner import junit, signals
from lambda_ui.runner import junit_contract as jc
from lambda_ui.runner.artifacts.drivers import find_drivers
from lambda_ui.runner.artifacts.failure_links import FailureArtifacts, Presigner, s3_presigner
from lambda_ui.runner.artifacts.paths import new_run_id, rerun_number
from lambda_ui.runner.artifacts.recorder import Artifacts
from lambda_ui.runner.artifacts.sinks import ArtifactSink, SinkProblem, make_sink
from lambda_ui.runner.chrome import ChromeLocation, ChromeNotFound, ChromeProcess, in_lambda, locate_chrome, start_chrome
from lambda_ui.runner.constants import WORKERINPUT_RUN_ID
from lambda_ui.runner.options import Settings, lambda_fallback
from lambda_ui.runner.run_environment import environment_facts

if TYPE_CHECKING:
    from lambda_ui.runner.browsers import BrowserManager

artifacts_key = pytest.StashKey[Artifacts]()

#: How long a test's report waits for its uploads before warning.
FLUSH_TIMEOUT_S = 60.0
#: Fixtures of this plugin; a session that selects a test using one is active (UiRun.activate).
_USES_PLUGIN = frozenset({"browser", "artifacts"})


class UiRun:
    """Run id, artifact sink and warm browser of this pytest process.

    It stays passive until the session uses it (see :meth:`activate`): a plain run that
    never opens a browser or saves a file pays for no browser code and keeps Python's
    own SIGTERM behaviour.
    """

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        workerinput = getattr(config, "workerinput", None)
        self.is_worker = workerinput is not None
        self.run_id = (workerinput or {}).get(WORKERINPUT_RUN_ID) or settings.run_id or new_run_id()
        hook = config.hook
        hosted_sink = hook.pytest_lambda_ui_artifact_sink(config=config, destination=settings.artifacts)
        hosted_browsers = hook.pytest_lambda_ui_browser_manager(config=config)
        #: A host (the Lambda handler) may own the sink and browser across sessions.
        self.owns_sink = hosted_sink is None
        self.owns_browsers = hosted_browsers is None
        try:
            self.sink: ArtifactSink = hosted_sink or make_sink(settings.artifacts, config.invocation_params.dir)
        except SinkProblem as exc:
            raise pytest.UsageError(str(exc)) from None
        self._location: ChromeLocation | None = None
        self._browsers: BrowserManager | None = hosted_browsers
        # Controller-side tallies, built from reports so they also cover xdist workers.
        self.linked_tests = 0
        self.linked_files = 0
        self.capture_warnings: list[tuple[str, str]] = []
        self.startup_problem = ""
        self._sigterm_armed = False
        self._previous_sigterm: object = None
        #: Run-level facts for the JUnit report; a --lambda session adds its own.
        self.suite_properties: dict[str, object] = {}
        self.started = time.time()
        self._test_started: dict[str, float] = {}
        #: Why pytest-rerunfailures runs a test again, until its attempt's teardown report.
        self._rerun_failures: dict[str, str] = {}
        #: Which attempt of the test this process runs: the Lambda worker sets it per invocation.
        self.attempt = 1
        if not self.is_worker and self.owns_browsers:
            # Where the terminal is printed: failures name their files (a Lambda-hosted session's client does it).
            config.pluginmanager.register(FailureArtifacts(self._presigner()), "lambda_ui_failure_artifacts")

    def activate(self) -> None:
        """From now on this session holds what a kill would lose: SIGTERM ends it as Ctrl-C does.

        CI cancels a job with SIGTERM, which by default ends Python on the spot: Chrome
        left running, uploads cut off, no JUnit file, tests of a --lambda run unreported.
        As a KeyboardInterrupt pytest unwinds instead. Active means: this process runs
        the --lambda loop or drives pytest-xdist workers, its selected tests use the
        ``browser`` or ``artifacts`` fixture, selenium is loaded by the end of collection
        (the suite builds its own drivers), or a test's artifacts were made. A plain run
        keeps Python's default. Only the main thread may install a handler; a call from
        another thread leaves it to the next call from the main one.
        """
        if self._sigterm_armed or threading.current_thread() is not threading.main_thread():
            return
        if in_lambda():  # there SIGTERM means shutdown: lambda_pkg/shutdown.py ends the warm session
            return
        self._sigterm_armed = True
        self._previous_sigterm = signals.sigterm_as_interrupt()

    def _presigner(self) -> Presigner | None:
        """HTTPS links for S3 files, when --artifacts-presign asks and the sink is S3."""
        if not self.settings.presign_s or not hasattr(self.sink, "client"):
            return None
        sink = self.sink
        seconds = self.settings.presign_s
        made: list[Presigner] = []

        def presign(location: str) -> str | None:
            if not made:  # the S3 client only once a failed test has a file
                made.append(s3_presigner(sink.client, seconds))
            return made[0](location)

        return presign

    # -- browser --------------------------------------------------------------
    @property
    def browsers(self) -> BrowserManager:
        """The warm browser's manager: the host's, or this process's own, made on first use."""
        if self._browsers is None:
            from lambda_ui.runner.browsers import BrowserManager  # psutil and the watchdog: browser sessions only

            self._browsers = BrowserManager(self._start_browser, self.settings.window_size)
        return self._browsers

    def chrome_location(self) -> ChromeLocation:
        if self._location is None:
            s = self.settings
            self._location = locate_chrome(s.chrome_binary_cli, s.chrome_binary_ini, s.chromedriver_cli, s.chromedriver_ini)
        return self._location

    def _start_browser(self) -> ChromeProcess:
        return start_chrome(self.chrome_location(), self.settings.window_size)

    def artifacts_for(self, item: pytest.Item) -> Artifacts:
        self.activate()
        arts = _current_artifacts(item)
        if arts is None:
            arts = item.stash[artifacts_key] = Artifacts(self.sink, self.run_id, item.nodeid, self.attempt, rerun_number(item))
        return arts

    def capture_failure(self, item: pytest.Item, label: str = "failure", **bounds: float) -> None:
        """Screenshot, page source and console log of every WebDriver the test holds.

        Drivers the suite built itself count as much as the ``browser``
        fixture's; a test holding any gets its artifacts on demand.
        ``bounds``: ``call_timeout_s``, ``budget_s`` of :meth:`Artifacts.capture_failure`.
        """
        arts = _current_artifacts(item)
        if arts is not None and arts.failure_captured:
            return  # the innermost report wrapper (plugin.py) took them: no second look for drivers
        found = find_drivers(item)
        if arts is None and found:
            arts = self.artifacts_for(item)
        if arts is not None:
            arts.capture_failure(label, found, **bounds)

    # -- hooks ----------------------------------------------------------------
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.started = time.time()
        if self.is_worker or not self.owns_sink:
            return  # the controller (or the host) already checked the destination
        try:
            self.sink.check()
        except SinkProblem as exc:
            raise pytest.UsageError(str(exc)) from None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if "selenium" in sys.modules or any(_USES_PLUGIN & set(getattr(item, "fixturenames", ())) for item in session.items):
            self.activate()
        # Fail once, at start-up, rather than once per test with a traceback.
        # Under --lambda the browser runs in Lambda; this machine needs one only to fall back on.
        if self.config.getoption("lambda_mode", False) and lambda_fallback(self.config) != "local":
            return
        if any("browser" in getattr(item, "fixturenames", ()) for item in session.items):
            try:
                self.chrome_location()
            except ChromeNotFound as exc:
                if not self.is_worker:
                    raise pytest.UsageError(str(exc)) from None
                # A pytest-xdist worker cannot end the session with a usage
                # error; it asks the controller to stop with this message.
                self.startup_problem = session.shouldstop = str(exc)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        return True if self.startup_problem else None

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: object) -> None:
        """pytest-xdist: every worker files its artifacts under the controller's run id."""
        self.activate()  # a kill of the controller should reach its workers' teardown through xdist
        node.workerinput[WORKERINPUT_RUN_ID] = self.run_id  # type: ignore[attr-defined]

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when in ("setup", "call") and report.failed:
            self.capture_failure(item)
        arts = _current_artifacts(item)
        if arts is None:
            return report
        if report.when == "teardown":
            for problem in self.sink.flush(FLUSH_TIMEOUT_S):
                arts.warn(problem)
            report.user_properties.extend((f"{jc.ARTIFACT_PREFIX}{name}", loc) for name, loc in arts.saved)
            report.user_properties.extend((jc.ARTIFACT_WARNING, w) for w in arts.warnings)
            if arts.warnings:
                report.sections.append(("lambda-ui artifact warnings", "\n".join(arts.warnings)))
        return report

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self._test_started.setdefault(nodeid, time.time())

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # tryfirst: the node id and the timeline must be on the report before junitxml reads it.
        if self.is_worker:
            return
        if str(report.outcome) == "rerun":  # pytest-rerunfailures runs it again: say why on this attempt's entry
            self._rerun_failures.setdefault(report.nodeid, rerun_reason(report))
        if report.when != "teardown":
            return
        names = {name for name, _ in report.user_properties}
        reason = self._rerun_failures.pop(report.nodeid, None)
        if reason is not None and jc.RERUN_FAILURE not in names:
            report.user_properties.append((jc.RERUN_FAILURE, reason))
        started = self._test_started.pop(report.nodeid, None)
        # Inside Lambda (a hosted session) the node id and the timeline are the client's to record.
        if self.owns_browsers:
            if jc.NODEID not in names:
                report.user_properties.append((jc.NODEID, report.nodeid))
            if started is not None and jc.RUN_OFFSET_S not in names:
                report.user_properties.append((jc.RUN_OFFSET_S, round(started - self.started, 3)))
                report.user_properties.append((jc.WALL_S, round(time.time() - started, 4)))
        files = [v for k, v in report.user_properties if k.startswith(jc.ARTIFACT_PREFIX)]
        if files:
            self.linked_tests += 1
            self.linked_files += len(files)
        self.capture_warnings.extend((report.nodeid, str(v)) for k, v in report.user_properties if k == jc.ARTIFACT_WARNING)

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> Generator[None, None, None]:
        # Around pytest's LogXML: the run's facts go in before it writes the file, the
        # attachment lines (no pytest route for them) after. Under xdist the controller owns it.
        if not self.is_worker and junit.writes_report(self.config):
            facts: dict[str, object] = {
                jc.RUN_ID: self.run_id,
                jc.RUN_MODE: "local",
                jc.RUN_WALL_S: round(time.time() - self.started, 3),
                jc.ARTIFACTS_LOCATION: self.sink.run_location(self.run_id),
            }
            facts.update(self.suite_properties)
            environment = environment_facts(self.config.rootpath)
            if facts[jc.RUN_MODE] != "lambda":  # the region names where the function ran
                environment.pop(jc.REGION, None)
            facts.update(environment)
            junit.add_suite_properties(self.config, facts)
        result = yield
        xmlpath = self.config.option.xmlpath if not self.is_worker else None
        if xmlpath and os.path.exists(xmlpath):
            junit.add_attachment_lines(xmlpath)
        return result

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.is_worker:
            return
        if self.capture_warnings:
            terminalreporter.section("lambda-ui artifact warnings", yellow=True)
            for nodeid, message in self.capture_warnings:
                terminalreporter.line(f"{nodeid}: {message}")
        if self.linked_files:
            terminalreporter.write_sep("-", "lambda-ui artifacts")
            terminalreporter.line(
                f"run {self.run_id}: {self.linked_files} file(s) from {self.linked_tests} test(s) in {self.sink.run_location(self.run_id)}"
            )

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        signals.restore(self._previous_sigterm)
        if self.owns_browsers and self._browsers is not None:
            self._browsers.shutdown()
        if self.owns_sink:
            self.sink.close()


def _current_artifacts(item: pytest.Item) -> Artifacts | None:
    """The test's artifacts of this attempt: a pytest-rerunfailures rerun reuses the item, and
    its files and links must not be the earlier attempt's."""
    arts = item.stash.get(artifacts_key, None)
    return arts if arts is not None and arts.rerun == rerun_number(item) else None


def rerun_reason(report: pytest.TestReport) -> str:
    """Why an attempt is run again, in a line: its exception's (``reprcrash``), or the last line
    of its failure text; an error in setup or teardown says which."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    if not isinstance(message, str) or not message.strip():
        lines = report.longreprtext.strip().splitlines()
        message = lines[-1] if lines else "failed"
    line = message.strip().splitlines()[0][:500]
    return line if report.when == "call" else f"error in {report.when}: {line}"
