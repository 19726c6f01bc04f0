"""Feeding results from Lambda back into pytest's own hooks, as pytest-xdist does.

One block per test on the main thread: ``pytest_runtest_logstart``, one
``pytest_runtest_logreport`` per phase, ``pytest_runtest_logfinish``. The
terminal, ``--junitxml``, ``--lf`` and ``-x`` then work unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

import pytest

from lambda_ui.contract import report_from_wire


def replay(item: pytest.Item, reports: list[pytest.TestReport]) -> None:
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for report in reports:
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)


def rebuild(config: pytest.Config, item: pytest.Item, wire_reports: list[dict[str, Any]]) -> list[pytest.TestReport]:
    reports = [report_from_wire(config, data) for data in wire_reports]
    for report in reports:
        report.location = item.location  # the client's view of the path, for the terminal
    return reports


def error_reports(item: pytest.Item, message: str, properties: list[tuple[str, object]] | None = None) -> list[pytest.TestReport]:
    """A test that never produced reports of its own ends as a setup error with ``message``
    (the way pytest-xdist reports a crashed worker's test), plus a passing teardown so
    that ``--junitxml`` closes the test case."""
    keywords: dict[str, Literal[1]] = dict.fromkeys(item.keywords, 1)
    setup = pytest.TestReport(item.nodeid, item.location, keywords, "failed", message, "setup", user_properties=[])
    teardown = pytest.TestReport(item.nodeid, item.location, keywords, "passed", None, "teardown", user_properties=list(properties or []))
    return [setup, teardown]


def failed(reports: list[pytest.TestReport]) -> bool:
    return any(r.failed for r in reports)


def short_failure(reports: list[pytest.TestReport]) -> str:
    for report in reports:
        if report.failed:
            crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
            text = crash.message if crash is not None else str(report.longrepr)
            return f"{report.when} failed: {text.strip().splitlines()[0] if text.strip() else ''}"[:300]
    return "passed"
