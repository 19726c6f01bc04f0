"""``--lambda-fallback=local``: tests that Lambda could not run go to local Chrome afterwards.

A test whose invocations failed for infrastructure reasons (retries spent, the
endpoint unreachable, the throttle budget spent) is not reported as an error
while the Lambda dispatch runs; it is held here. Once the dispatch ends, each
held test runs in this pytest process through pytest's own
``pytest_runtest_protocol``, so the local ``browser`` fixture, the artifacts
(same ``--artifacts`` destination) and ``--junitxml`` work as in a plain local
run. Each such test carries ``lambda_fallback=local`` among its user properties
(:mod:`lambda_ui.runner.junit_contract`), and its ``lambda_outcome`` is its local outcome.

A held test that cannot run (``-x``/``--maxfail`` reached, Ctrl-C or SIGTERM,
the ``--lambda-deadline``) is reported as it would have been without the
fallback: one outcome per test, always.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import pytest

from lambda_ui.runner import junit_contract as jc
from lambda_ui.runner.junit_contract import Cause, RecordedOutcome
from lambda_ui.runner.lambda_facts import outcome_properties
from lambda_ui.runner.replay import error_reports, replay
from lambda_ui.runner.terminal import write_line

INTERRUPTED = "run aborted (interrupted) before this test finished"

#: Why Lambda could not run a test, as the summary says it.
CAUSE_TEXT = {
    Cause.RETRIES_SPENT: "infrastructure retries spent",
    Cause.UNREACHABLE: "Lambda unreachable",
    Cause.THROTTLED: "throttle budget spent",
}


@dataclass
class Held:
    item: pytest.Item
    #: The error the test gets when it cannot run locally.
    message: str
    cause: Cause
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
        self.ran: Counter[Cause] = Counter()

    def hold(self, item: pytest.Item, message: str, cause: Cause, properties: list[tuple[str, object]]) -> bool:
        """Keep a test for local Chrome instead of reporting ``message``; False when there is no fallback."""
        if not self.enabled:
            return False
        self.held.append(Held(item, message, cause, properties))
        return True

    def report_as_errors(self, message: str | None = None, abort: Cause | None = None) -> None:
        """Report every held test as an error: its own Lambda error, or ``message`` for an ``abort``
        (:attr:`Cause.INTERRUPTED`, :attr:`Cause.DEADLINE`)."""
        held, self.held = self.held, []
        for h in held:
            if message is None:
                props = h.properties + outcome_properties(RecordedOutcome.INFRA, h.cause)
            else:
                props = h.properties + outcome_properties(RecordedOutcome.INTERRUPTED, abort or Cause.INTERRUPTED)
            replay(h.item, error_reports(h.item, message or h.message, props))

    def run(self, session: pytest.Session, deadline: float | None, deadline_s: float | None) -> None:
        """Run the held tests on local Chrome, in the order they were held."""
        if not self.held:
            return
        if session.shouldfail or session.shouldstop:
            self.report_as_errors()  # -x or --maxfail stopped the run: no new tests
            return
        write_line(session.config, f"lambda: {len(self.held)} test(s) fall back to local Chrome ({_causes(Counter(h.cause for h in self.held))})")
        finished = _Finished()
        session.config.pluginmanager.register(finished, "lambda-ui-fallback-finished")
        try:
            while self.held:
                if deadline is not None and time.monotonic() > deadline:
                    self.report_as_errors(f"run aborted: the --lambda-deadline of {deadline_s:.0f} s was reached before this test ran on local Chrome", Cause.DEADLINE)
                    return
                current = self.held.pop(0)
                item = current.item
                item.user_properties.extend([(jc.FALLBACK, "local"), (jc.FALLBACK_CAUSE, current.message), *current.properties])
                self.ran[current.cause] += 1
                try:
                    item.ihook.pytest_runtest_protocol(item=item, nextitem=self.held[0].item if self.held else None)
                except KeyboardInterrupt:
                    if item.nodeid not in finished.nodeids:  # stopped mid-test: it ends as aborted, once
                        props = list(item.user_properties) + outcome_properties(RecordedOutcome.INTERRUPTED, Cause.INTERRUPTED)
                        replay(item, error_reports(item, INTERRUPTED, props))
                    self.report_as_errors(INTERRUPTED, Cause.INTERRUPTED)
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


def _causes(counts: Counter[Cause]) -> str:
    if len(counts) == 1:
        return CAUSE_TEXT[next(iter(counts))]
    return ", ".join(f"{CAUSE_TEXT[cause]}: {n}" for cause, n in counts.most_common())
