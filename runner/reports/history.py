"""Each test across earlier reports and this one: pass rate, duration trend, flakiness.

Reports are given oldest first, the current one last. A test is flaky when it
passed in one report and failed in another, or when any report marks it flaky
(failed, then passed on a rerun). Tests skipped in a run do not count towards
its pass rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lambda_ui.runner.reports.model import Outcome, Report

_NOT_COUNTED = (Outcome.SKIPPED, Outcome.XFAILED)


@dataclass
class TestHistory:
    """One test's record: an outcome and duration per report (None where it did not appear)."""

    nodeid: str
    outcomes: list[Outcome | None] = field(default_factory=list)
    durations: list[float | None] = field(default_factory=list)
    marked_flaky: bool = False

    @property
    def runs(self) -> int:
        return sum(1 for o in self.outcomes if o is not None and o not in _NOT_COUNTED)

    @property
    def passes(self) -> int:
        return sum(1 for o in self.outcomes if o is Outcome.PASSED)

    @property
    def pass_rate(self) -> float | None:
        return self.passes / self.runs if self.runs else None

    @property
    def flaky(self) -> bool:
        counted = {o for o in self.outcomes if o is not None and o not in _NOT_COUNTED}
        return self.marked_flaky or (Outcome.PASSED in counted and any(o.is_problem for o in counted))


def build(reports: Sequence[Report]) -> list[TestHistory]:
    """Every test of the last report (the current one), with its record in all of them."""
    if not reports:
        return []
    current = reports[-1]
    found: dict[str, TestHistory] = {}
    for case in current.cases:
        found.setdefault(case.nodeid, TestHistory(case.nodeid))
    for position, report in enumerate(reports):
        for case in report.cases:
            entry = found.get(case.nodeid)
            if entry is None:
                continue
            while len(entry.outcomes) <= position:  # a node id twice in one report: the last one counts
                entry.outcomes.append(None)
                entry.durations.append(None)
            entry.outcomes[position] = case.outcome
            entry.durations[position] = case.time
            entry.marked_flaky = entry.marked_flaky or case.flaky
    for entry in found.values():
        entry.outcomes += [None] * (len(reports) - len(entry.outcomes))
        entry.durations += [None] * (len(reports) - len(entry.durations))
    return list(found.values())


def trend(durations: Sequence[float | None]) -> str:
    """"slower", "faster" or "steady": the latest duration against the median of the earlier ones."""
    known = [d for d in durations[:-1] if d is not None]
    latest = durations[-1] if durations else None
    if latest is None or not known:
        return "steady"
    earlier = sorted(known)[(len(known) - 1) // 2]
    if latest > earlier * 1.25 and latest - earlier >= 0.1:
        return "slower"
    if latest < earlier * 0.8 and earlier - latest >= 0.1:
        return "faster"
    return "steady"
