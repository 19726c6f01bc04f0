"""Tests a ``--lambda`` run never got to, counted and shown as "not run".

Ctrl-C, SIGTERM, the ``--lambda-deadline`` or an unreachable service leave tests
without a verdict. Each still ends as one error in the JUnit file (one outcome per
test), but the terminal counts them under their own word in pytest's summary line
("52 not run") and lists them in one block per cause, its message said once,
instead of one ``ERROR at setup`` block per test.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from lambda_ui.runner.replay import NOT_RUN_ATTR

#: The key in the terminal reporter's stats, and so the word of pytest's summary line.
CATEGORY = "not run"


class NotRunBlock:
    """A pytest plugin: the "not run" status of marked reports and their grouped block."""

    def __init__(self) -> None:
        #: cause -> message -> node ids, in the order reported.
        self.by_cause: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
        if getattr(report, NOT_RUN_ATTR, None) and report.when == "setup":
            return CATEGORY, "n", ("NOT RUN", {"yellow": True})
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        cause = getattr(report, NOT_RUN_ATTR, None)
        if cause and report.when == "setup":
            self.by_cause[str(cause)][str(report.longrepr)].append(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        for cause, messages in self.by_cause.items():
            total = sum(len(ids) for ids in messages.values())
            terminalreporter.write_sep("=", f"{CATEGORY}: {total} ({cause})", yellow=True)
            for message, nodeids in messages.items():
                terminalreporter.line(message, yellow=True)
                for nodeid in nodeids:
                    terminalreporter.line(f"  {nodeid}")
