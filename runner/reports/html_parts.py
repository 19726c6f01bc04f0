"""Pieces of the HTML report a person reads first: formatted facts, the environment,
files with their counts, the per-file duration chart and the history panel.

Every function returns escaped HTML (or plain text for the ``format_*`` ones);
values from the report are untrusted and never reach the page unescaped.
Sizes in the SVG chart are attributes, not ``style``: the page's CSP allows no
inline styles.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from lambda_ui.runner import junit_contract as junit
from lambda_ui.runner.reports import history as history_mod
from lambda_ui.runner.reports.model import OUTCOMES, Case, Outcome, Report, number, outcome_counts
from lambda_ui.runner.reports.summary import format_seconds

#: Outcomes by how much a person wants to see them first (the "outcome" sort).
RANK = {Outcome.FAILED: 0, Outcome.ERROR: 1, Outcome.INFRA: 2, Outcome.XFAILED: 3, Outcome.SKIPPED: 4, Outcome.PASSED: 5}


# -- numbers -------------------------------------------------------------------------


def format_usd(value: float) -> str:
    """Dollars a person reads at a glance: ``$1.23``, ``$0.0123``, ``$0.000052`` (two significant digits)."""
    if value <= 0:
        return "$0"
    if value >= 0.01:
        return f"${value:,.2f}" if value >= 1 else f"${value:.4f}".rstrip("0")
    digits = 1 - math.floor(math.log10(value))
    return f"${value:.{digits}f}"


def format_count(value: float, unit: str) -> str:
    """A whole number with thousands separators and its unit: ``1,564 ms``."""
    return f"{round(value):,} {unit}"


def file_of(nodeid: str) -> str:
    """The file part of a node id (``tests/test_x.py::test_a[1]`` → ``tests/test_x.py``)."""
    return nodeid.split("::", 1)[0] or nodeid


def fact_bits(props: dict[str, str]) -> list[str]:
    """A test's Lambda facts as words: ``cold start``, ``billed 1,564 ms``, ``$0.000052``."""
    bits: list[str] = []
    if props.get(junit.CAUSE):
        bits.append(f"cause: {props[junit.CAUSE]}")
    attempts = number(props.get(junit.ATTEMPTS))
    if attempts is not None and attempts > 1:
        bits.append(f"{int(attempts)} invocations")
    cold = props.get(junit.COLD, "").lower()
    if cold in ("true", "false"):
        bits.append("cold start" if cold == "true" else "warm start")
    for key, label, unit in ((junit.BILLED_MS, "billed", "ms"), (junit.INIT_MS, "init", "ms")):
        value = number(props.get(key))
        if value is not None:
            bits.append(f"{label} {format_count(value, unit)}")
    memory = number(props.get(junit.MAX_MEMORY_MB))
    if memory is not None:
        limit = number(props.get(junit.MEMORY_MB))
        of = f" of {format_count(limit, 'MB')}" if limit else ""
        at_limit = props.get(junit.MEMORY_AT_LIMIT, "").lower() == "true" or (limit is not None and memory >= limit > 0)
        bits.append(f"memory {format_count(memory, 'MB')}{of}" + (" (at the limit: out-of-memory risk)" if at_limit else ""))
    cost = number(props.get(junit.COST_USD))
    if cost is not None:
        bits.append(f"cost {format_usd(cost)}")
    if props.get(junit.CHROME_VERSION):
        bits.append(f"Chrome {props[junit.CHROME_VERSION]}")
    if props.get(junit.ENVIRONMENT_ID):
        bits.append(f"environment {props[junit.ENVIRONMENT_ID]}")
    return bits


# -- environment -----------------------------------------------------------------------


def environment_rows(report: Report) -> list[tuple[str, str]]:
    """What the run ran on, from the suite properties (and the tests' Chrome versions)."""
    run = report.run
    rows: list[tuple[str, str]] = []
    for key, label in (
        (junit.RUN_ID, "run id"), (junit.RUN_MODE, "mode"), (junit.FUNCTION, "function"), (junit.REGION, "region"),
    ):
        if run.get(key):
            rows.append((label, run[key]))
    chromes = list(dict.fromkeys(c.props[junit.CHROME_VERSION] for c in report.cases if c.props.get(junit.CHROME_VERSION)))
    if chromes:
        rows.append(("Chrome", ", ".join(chromes[:5]) + (" …" if len(chromes) > 5 else "")))
    for key, label in (
        (junit.PYTHON_VERSION, "Python"), (junit.PYTEST_VERSION, "pytest"), (junit.PLUGIN_VERSION, "pytest-lambda-ui"),
        (junit.SELENIUM_VERSION, "Selenium"), (junit.GIT_COMMIT, "git commit"), (junit.ARTIFACTS_LOCATION, "artifacts"),
    ):
        if run.get(key):
            rows.append((label, run[key]))
    if report.hostname:
        rows.append(("host", report.hostname))
    if report.timestamp:
        rows.append(("started", report.timestamp))
    return rows


def environment(report: Report) -> str:
    rows = environment_rows(report)
    if not rows:
        return '<p class="caption">The report names no environment (no run properties).</p>'
    cells = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in rows)
    return f'<dl class="env">{cells}</dl>'


# -- files -----------------------------------------------------------------------------


@dataclass
class FileGroup:
    """The tests of one file, in report order."""

    path: str
    cases: list[Case] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(c.time for c in self.cases)

    def counts(self) -> dict[Outcome, int]:
        return outcome_counts(self.cases)

    @property
    def worst(self) -> int:
        return min(RANK[c.outcome] for c in self.cases)


def group_by_file(cases: Sequence[Case]) -> list[FileGroup]:
    """Tests grouped by file; files in name order, tests in report order."""
    groups: dict[str, FileGroup] = {}
    for case in cases:
        path = file_of(case.nodeid)
        groups.setdefault(path, FileGroup(path)).cases.append(case)
    return [groups[path] for path in sorted(groups)]


def counts_text(counts: dict[Outcome, int]) -> str:
    """``3 tests: 2 passed, 1 failed``."""
    total = sum(counts.values())
    parts = [f"{n} {o.label}" for o in OUTCOMES if (n := counts[o])]
    return f"{total} test{'s' if total != 1 else ''}: " + ", ".join(parts)


def group_open(group: FileGroup, number_: int, rows: str) -> str:
    counts = group.counts()
    badges = "".join(
        f'<span class="count"><span class="badge o-{o.value}">{escape(o.label)}</span> {n}</span>' for o in OUTCOMES if (n := counts[o])
    )
    return (
        f'<section class="file" id="f{number_}" data-name="{escape(group.path)}" data-time="{group.seconds:.3f}" '
        f'data-rank="{group.worst}" data-index="{number_}">'
        f'<h3><span class="fname">{escape(group.path)}</span> <span class="fcount">{escape(counts_text(counts))}</span>'
        f'{badges}<span class="time">{escape(format_seconds(group.seconds))}</span>'
        f'<span class="fshown"></span></h3><ol class="tests">{rows}</ol></section>'
    )


def file_chart(groups: Sequence[FileGroup]) -> str:
    """Each file's summed test time as a horizontal bar (inline SVG), slowest first."""
    if not groups:
        return ""
    ordered = sorted(groups, key=lambda g: -g.seconds)
    longest = max(g.seconds for g in ordered) or 1.0
    row_h, label_w, bar_w, width = 22, 380, 480, 1000
    parts = [
        f'<svg class="filechart" viewBox="0 0 {width} {row_h * len(ordered) + 4}" role="img" '
        f'aria-label="test time per file, {len(ordered)} files">'
    ]
    for n, group in enumerate(ordered):
        y = n * row_h + 2
        w = max(1.0, bar_w * group.seconds / longest)
        name = group.path if len(group.path) <= 56 else "…" + group.path[-55:]
        failing = any(c.outcome.is_problem for c in group.cases)
        parts.append(
            f'<g class="frow"><text class="flabel" x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(name)}</text>'
            f'<rect class="fbar{" problem" if failing else ""}" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}">'
            f"<title>{escape(group.path)}: {escape(format_seconds(group.seconds))}</title></rect>"
            f'<text class="fvalue" x="{label_w + w + 6:.1f}" y="{y + 15}">{escape(format_seconds(group.seconds))} · '
            f"{len(group.cases)} test{'s' if len(group.cases) != 1 else ''}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


# -- history ---------------------------------------------------------------------------


def pass_rate_text(entry: history_mod.TestHistory) -> str:
    rate = entry.pass_rate
    if rate is None:
        return "not run"
    return f"{rate:.0%} ({entry.passes} of {entry.runs})"


def history_panel(reports: Sequence[Report]) -> str:
    """A table per test of the current report over the given ones (oldest first): pass rate,
    outcome per run, duration trend; flaky tests first and marked."""
    entries = history_mod.build(reports)
    if len(reports) < 2 or not entries:
        return ""
    entries.sort(key=lambda e: (not e.flaky, e.pass_rate if e.pass_rate is not None else 2.0, e.nodeid))
    flaky = sum(1 for e in entries if e.flaky)
    head = (
        f'<p class="caption">{len(reports)} reports, oldest first (the last is this one); '
        f"{flaky} flaky test{'s' if flaky != 1 else ''}.</p>"
    )
    rows = []
    for entry in entries:
        dots = "".join(
            f'<span class="dot o-{o.value}" title="{escape(o.label)}"></span>' if o else '<span class="dot none" title="absent"></span>'
            for o in entry.outcomes
        )
        times = " → ".join(format_seconds(d) if d is not None else "–" for d in entry.durations)
        tag = '<span class="tag">flaky</span>' if entry.flaky else ""
        rows.append(
            f'<tr data-flaky="{int(entry.flaky)}"><td class="name">{escape(entry.nodeid)} {tag}</td>'
            f'<td class="rate">{escape(pass_rate_text(entry))}</td><td class="dots">{dots}</td>'
            f'<td class="durations">{escape(times)} <span class="trend">({history_mod.trend(entry.durations)})</span></td></tr>'
        )
    return (
        f'<section id="history-section"><h2>History</h2>{head}<table class="history"><thead><tr><th>test</th><th>pass rate</th>'
        f'<th>outcomes</th><th>duration trend</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>'
    )
