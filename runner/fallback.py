"""``--lambda-fallback=local``: tests that Lambda could not run go to local Chrome afterwards.

A test whose invocations failed for infrastructure reasons (retries spent, the
endpoint unreachable, the throttle budget spent) is not reported as an error
while the Lambda dispatch runs; it is held here. Once the dispatch ends, each
held test runs in this pytest process through pytest's own
``pytest_runtest_protocol``, so the local ``browser`` fixture, the artifacts
(same ``--artifacts`` destination) and ``--junitxml`` work as in a plain local
run. Each such test carries ``lambda_fallback=local`` among its user properties.

A held test that cannot run (``-x``/``--maxfail`` reached, Ctrl-C or SIGTERM,
the ``--lambda-deadline``) is reported as it would have been without the
fallback: one outcome per test, always.
"""

from __future__ import annotations

import enum
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from runner.replay import error_reports, replay

#: The JUnit property that marks a test run on local Chrome after Lambda could not run it.
PROP_FALLBACK = "lambda_fallback"
#: Why it fell back: the error the test would have had.
PROP_FALLBACK_CAUSE = "lambda_fallback_cause"
INTERRUPTED = "run aborted (interrupted) before this test finished"


class FallbackCause(enum.Enum):
    """Why Lambda could not run a test; the value is what the summary says."""

    RETRIES_SPENT = "infrastructure retries spent"
    UNREACHABLE = "Lambda unreachable"
    THROTTLED = "throttle budget spent"


@dataclass
class Held:
    item: pytest.Item
    #: The error the test gets when it cannot run locally.
    message: str
    cause: FallbackCause
    properties: list[tuple[str, object]]


class _Finished:
    """Notes which tests pytest finished reporting (their teardown report)."""

    def __init__(self) -> None:
        self.nodeids: set[str] = set()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "teardown":
            self.nodeids.add(report.nodeid)


class Fallback:
    """The tests held for local Chrome during one ``--lambda`` run (main thread only)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.held: list[Held] = []
        #: Tests run locally, by cause.
        self.ran: Counter[FallbackCause] = Counter()

    def hold(self, item: pytest.Item, message: str, cause: FallbackCause | None, properties: list[tuple[str, object]]) -> bool:
        """Keep a test for local Chrome instead of reporting ``message``; False when there is no fallback for it."""
        if not self.enabled or cause is None:
            return False
        self.held.append(Held(item, message, cause, properties))
        return True

    def report_as_errors(self, message: str | None = None) -> None:
        """Report every held test as an error: its own Lambda error, or ``message`` (an abort)."""
        held, self.held = self.held, []
        for h in held:
            replay(h.item, error_reports(h.item, message or h.message, h.properties))

    def run(self, session: pytest.Session, deadline: float | None, deadline_s: float | None) -> None:
        """Run the held tests on local Chrome, in the order they were held."""
        if not self.held:
            return
        if session.shouldfail or session.shouldstop:
            self.report_as_errors()  # -x or --maxfail stopped the run: no new tests
            return
        _write(session.config, f"lambda: {len(self.held)} test(s) fall back to local Chrome ({_causes(Counter(h.cause for h in self.held))})")
        finished = _Finished()
        session.config.pluginmanager.register(finished, "lambda-ui-fallback-finished")
        try:
            while self.held:
                if deadline is not None and time.monotonic() > deadline:
                    self.report_as_errors(f"run aborted: the --lambda-deadline of {deadline_s:.0f} s was reached before this test ran on local Chrome")
                    return
                current = self.held.pop(0)
                item = current.item
                item.user_properties.extend([(PROP_FALLBACK, "local"), (PROP_FALLBACK_CAUSE, current.message), *current.properties])
                self.ran[current.cause] += 1
                try:
                    item.ihook.pytest_runtest_protocol(item=item, nextitem=self.held[0].item if self.held else None)
                except KeyboardInterrupt:
                    if item.nodeid not in finished.nodeids:  # stopped mid-test: it ends as aborted, once
                        replay(item, error_reports(item, INTERRUPTED, list(item.user_properties)))
                    self.report_as_errors(INTERRUPTED)
                    raise
                if session.shouldfail or session.shouldstop:
                    self.report_as_errors()
                    return
        finally:
            session.config.pluginmanager.unregister(finished)

    def summary(self) -> str:
        """The terminal summary's line, or "" when no test fell back."""
        if not self.ran:
            return ""
        return f"fell back to local Chrome: {sum(self.ran.values())} test(s) ({_causes(self.ran)})"


def _causes(counts: Counter[FallbackCause]) -> str:
    if len(counts) == 1:
        return next(iter(counts)).value
    return ", ".join(f"{cause.value}: {n}" for cause, n in counts.most_common())


def _write(config: pytest.Config, line: str) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(line)
