"""The pytest plugin the handler adds to each in-Lambda session (warm: one per session).

It hands the warm browser and S3 uploader of the execution environment to the
runner plugin, and turns every report into pytest's own serializable form
(the same path pytest-xdist's workers use), so the client can replay them.
"""

from __future__ import annotations

import linecache
import os
import warnings
from collections.abc import Generator
from typing import Any

import pytest

from lambda_ui.contract import MAX_TEST_WARNINGS, MAX_WARNING_CHARS, TestWarning
from lambda_ui.function import xdist_worker
from lambda_ui.runner.artifacts.sinks import ArtifactSink
from lambda_ui.runner.browsers import BrowserManager
from lambda_ui.runner.plugin import run_key

#: The deadline leaves a margin of seconds for capture, teardown, uploads and the
#: answer; the captures take at most this much of it, a hung browser included.
DEADLINE_CALL_S = 3.0
DEADLINE_BUDGET_S = 5.0


def capture_budget(margin_s: float) -> float:
    """The captures get at most half the margin: the rest is for teardown, uploads and
    the answer, which must all reach the client before Lambda's own timeout."""
    return min(DEADLINE_BUDGET_S, margin_s / 2)


def bundle_relative(path: str, root: str) -> str:
    """``path`` relative to the bundle root when it lies under it, else as it is; the client
    anchors relative paths at its rootdir (``lambda_ui.contract.anchored``)."""
    prefix = root.rstrip(os.sep) + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else path


def relativize_paths(data: dict[str, Any], root: str) -> dict[str, Any]:
    """Make the report's file paths relative to the bundle root."""
    longrepr = data.get("longrepr")
    if isinstance(longrepr, (list, tuple)) and len(longrepr) == 3 and (path := bundle_relative(str(longrepr[0]), root)) != str(longrepr[0]):
        data["longrepr"] = [path, longrepr[1], longrepr[2]]
    elif isinstance(longrepr, dict):
        crash = longrepr.get("reprcrash")
        if isinstance(crash, dict) and (path := bundle_relative(str(crash.get("path", "")), root)) != str(crash.get("path", "")):
            crash["path"] = path
    return data


def warning_to_wire(message: warnings.WarningMessage, root: str) -> TestWarning:
    """One recorded warning as the client rebuilds it; the source line is read here, where the file is."""
    filename = str(message.filename)
    line = message.line if message.line is not None else linecache.getline(filename, message.lineno)
    category = message.category
    return {
        "message": str(message.message)[:MAX_WARNING_CHARS],
        "category": f"{category.__module__}.{category.__qualname__}",
        "filename": bundle_relative(filename, root),
        "lineno": int(message.lineno or 0),
        "line": line.strip()[:500],
        "count": 1,
    }


class WorkerPlugin:
    def __init__(self, browsers: BrowserManager, sink: ArtifactSink, destination: str, attempt: int = 1) -> None:
        self._browsers = browsers
        #: The event's attempt: its files go under ``attempt-N/`` (issue 17), never over an earlier attempt's.
        self.attempt = attempt
        self._sink = sink
        self._destination = destination
        self.config: pytest.Config | None = None
        self.reports: list[dict[str, Any]] = []
        self.collect_reports: list[dict[str, Any]] = []
        #: Said in the answer's warnings: what the handler met around the tests, not in them.
        self.answer_warnings: list[str] = []
        self.current_item: pytest.Item | None = None
        self.test_ms = 0.0
        self.call_ms = 0.0
        self._warnings: dict[tuple[str, str, str, int], TestWarning] = {}
        self.warnings_dropped = 0
        #: Node ids a ``pytest_collection_modifyitems`` hook left out here.
        self.deselected: set[str] = set()

    def begin(self, attempt: int = 1) -> None:
        """Start a new invocation's answer: a warm session serves many (lambda_pkg/session.py)."""
        self.attempt = attempt
        self.reports = []
        self.collect_reports = []
        self.answer_warnings = []
        self.current_item = None
        self.test_ms = 0.0
        self.call_ms = 0.0
        self._warnings = {}
        self.warnings_dropped = 0
        self.deselected = set()

    @property
    def test_warnings(self) -> list[TestWarning]:
        return list(self._warnings.values())

    def pytest_lambda_ui_browser_manager(self, config: pytest.Config) -> BrowserManager:
        return self._browsers

    def pytest_lambda_ui_artifact_sink(self, config: pytest.Config, destination: str) -> ArtifactSink | None:
        return self._sink if destination == self._destination else None

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config
        xdist_worker.register(config)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        self.current_item = item
        run = item.config.stash.get(run_key, None)
        if run is not None:
            run.attempt = self.attempt
        try:
            return (yield)
        finally:
            self.current_item = None

    def reported_whole(self, nodeids: list[str]) -> bool:
        """True once every one of ``nodeids`` has its teardown report: its outcome is complete."""
        ended = {report.get("nodeid") for report in self.reports if report.get("when") == "teardown"}
        return bool(nodeids) and all(nodeid in ended for nodeid in nodeids)

    @property
    def any_failed(self) -> bool:
        return any(report.get("outcome") == "failed" for report in self.reports)

    def _serialize(self, report: pytest.TestReport | pytest.CollectReport) -> dict[str, Any]:
        assert self.config is not None
        data = self.config.hook.pytest_report_to_serializable(config=self.config, report=report)
        return relativize_paths(data, str(self.config.rootpath))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.test_ms += report.duration * 1000
        if report.when == "call":
            self.call_ms += report.duration * 1000
        self.reports.append(self._serialize(report))

    def pytest_warning_recorded(self, warning_message: warnings.WarningMessage, when: str) -> None:
        # Configuration and collection ran on the client too: their warnings are already there.
        if when != "runtest" or self.config is None:
            return
        wire = warning_to_wire(warning_message, str(self.config.rootpath))
        key = (wire["category"], wire["message"], wire["filename"], wire["lineno"])
        if key in self._warnings:
            self._warnings[key]["count"] += 1
        elif len(self._warnings) < MAX_TEST_WARNINGS:
            self._warnings[key] = wire
        else:
            self.warnings_dropped += 1

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected.update(item.nodeid for item in items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        # A skipped module too: its tests were never collected here, and the client reports them as skipped.
        if report.failed or report.skipped:
            self.collect_reports.append(self._serialize(report))

    def capture_current(self, budget_s: float = DEADLINE_BUDGET_S) -> bool:
        """Deadline capture: artifacts of the test that is running now, from every
        WebDriver it holds (the ``browser`` fixture's or one the suite built).
        False when no test is running (pytest is still starting or collecting)."""
        item = self.current_item
        if item is None:
            return False
        run = item.config.stash[run_key]
        run.capture_failure(item, "deadline", call_timeout_s=min(DEADLINE_CALL_S, budget_s), budget_s=budget_s)
        return True
