"""A report as plain text for a terminal or a CI log.

Sections come in the order a person triaging a red build needs them: totals,
failed tests, errors, infrastructure outcomes (kept apart: those tests never
got a verdict), tests not run (the run stopped, or Lambda was unreachable: one
block per cause, its message once), flaky tests, tests that needed infrastructure retries, the
slowest tests and what the run cost. Colour is ANSI, only when asked for or
when writing to a terminal without ``NO_COLOR``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from lambda_ui.runner import junit_contract as junit
from lambda_ui.runner.reports.model import OUTCOMES, Artifact, Case, Outcome, Report, number, unwrap_phase
from lambda_ui.runner.reports.names import MERGED_INPUTS, MERGED_WALL

_LABELS = {
    "screenshot.png": "screenshot",
    "page.html": "page source",
    "console.log": "console log",
}


def use_color(choice: str, stream: TextIO) -> bool:
    """``always``/``never`` as given; ``auto``: a terminal, unless NO_COLOR is set or TERM is dumb."""
    if choice == "always":
        return True
    if choice == "never":
        return False
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@dataclass(frozen=True)
class Style:
    color: bool

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def red(self, text: str) -> str:
        return self._wrap("31;1", text)

    def green(self, text: str) -> str:
        return self._wrap("32", text)

    def yellow(self, text: str) -> str:
        return self._wrap("33", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)


def format_seconds(value: float | None) -> str:
    if value is None:
        return "?"
    if value >= 120:
        return f"{int(value // 60)} min {value % 60:.0f} s"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def format_usd(value: float) -> str:
    if value >= 1:
        return f"${value:,.2f}"
    if value >= 0.01:
        return f"${value:.4f}"
    return f"${value:.6f}"


def artifact_label(artifact: Artifact) -> str:
    if artifact.in_filmstrip:
        step, _, event = artifact.name[len("filmstrip/") :].rpartition(".")[0].partition("-")
        return f"step {step.lstrip('0') or '0'}: {event}" if step.isdigit() and event else artifact.name
    prefix, _, rest = artifact.name.partition("-")
    if rest in _LABELS and prefix in ("failure", "deadline"):
        return _LABELS[rest] if prefix == "failure" else f"deadline {_LABELS[rest]}"
    return artifact.name


def _clip(line: str, width: int = 300) -> str:
    line = line.rstrip()
    return line if len(line) <= width else line[: width - 1] + "…"


def _message_lines(message: str, limit: int) -> list[str]:
    lines = [line for line in unwrap_phase(message).splitlines() if line.strip()] or ["(no message)"]
    if len(lines) > 1 and lines[-1].endswith("; full report in element text]"):
        lines[-1] = "(message cut by pytest; the report has the full text)"
    shown = [_clip(line) for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"… {len(lines) - limit} more line(s)")
    return shown


def not_run(report: Report) -> dict[str, list[Case]]:
    """Tests the run never got to, by cause (``interrupted``, ``deadline``, ``unreachable``)."""
    found: dict[str, list[Case]] = {}
    for case in report.cases:
        cause = junit.not_run_cause(case.props.get(junit.OUTCOME, ""), case.cause)
        if case.outcome is Outcome.INFRA and cause is not None:
            found.setdefault(cause.value, []).append(case)
    return found


def totals_line(report: Report, style: Style) -> str:
    counts = report.count()
    never = not_run(report)
    counts[Outcome.INFRA] -= sum(len(cases) for cases in never.values())
    parts = []
    for outcome in OUTCOMES:
        n = counts[outcome]
        if n == 0 and outcome not in (Outcome.PASSED, Outcome.FAILED):
            continue
        text = f"{n} {outcome.label}"
        if n and outcome.is_problem:
            text = style.red(text)
        elif n and outcome is Outcome.PASSED:
            text = style.green(text)
        parts.append(text)
    parts += [style.yellow(f"{len(cases)} not run ({cause})") for cause, cases in never.items()]
    flaky = len(report.flaky)
    if flaky:
        parts.append(style.yellow(f"{flaky} flaky"))
    return f"{len(report.cases)} tests: " + ", ".join(parts)


def run_facts(report: Report) -> list[str]:
    """Short "name value" facts about the run, for the header of each view."""
    run = report.run
    facts = []
    for key, label in ((junit.RUN_ID, "run"), (junit.RUN_MODE, "mode"), (junit.FUNCTION, "function")):
        if run.get(key):
            facts.append(f"{label} {run[key]}")
    if report.wall_s is not None:
        merged = f" ({run[MERGED_WALL]})" if run.get(MERGED_WALL) else ""
        facts.append(f"wall {format_seconds(report.wall_s)}{merged}")
    if run.get(junit.CONCURRENCY):
        peak = f", {run[junit.PEAK_CONCURRENCY]} at peak" if run.get(junit.PEAK_CONCURRENCY) else ""
        facts.append(f"concurrency {run[junit.CONCURRENCY]}{peak}")
    if number(run.get(junit.MEMORY_AT_LIMIT_TESTS)):
        facts.append(f"{run[junit.MEMORY_AT_LIMIT_TESTS]} test(s) at the memory limit")
    for key, label in ((junit.INVOCATIONS, "invocations"), (junit.INFRA_RETRIES, "infra retries"), (junit.RERUNS, "reruns"), (junit.RUN_THROTTLES, "throttles")):
        if run.get(key):
            facts.append(f"{label} {run[key]}")
    if report.cost_usd is not None:
        facts.append(f"cost {format_usd(report.cost_usd)}")
    if run.get(MERGED_INPUTS):
        facts.append(f"merged from {run[MERGED_INPUTS]} reports")
    return facts


def _case_block(case: Case, style: Style, message_lines: int) -> list[str]:
    extras = []
    if case.attempts and case.attempts > 1:
        extras.append(f"{case.attempts} invocations")
    if case.cause:
        extras.append(f"cause: {case.cause}")
    head = f"  {style.bold(case.nodeid)}  {style.dim(format_seconds(case.time))}" + (f"  ({', '.join(extras)})" if extras else "")
    lines = [head]
    lines.extend(f"    {line}" for line in _message_lines(case.message, message_lines))
    for attempt in case.earlier:
        lines.append(f"    earlier attempt ({attempt.source}): {_clip(unwrap_phase(attempt.message).splitlines()[0] if attempt.message.strip() else attempt.kind, 200)}")
    shots = [a for a in case.artifacts if not a.in_filmstrip]
    width = max((len(artifact_label(a)) for a in shots), default=0)
    for artifact in shots:
        lines.append(f"    {artifact_label(artifact).ljust(width)}  {style.dim(artifact.location)}")
    frames = case.filmstrip
    if frames:
        lines.append(f"    filmstrip  {len(frames)} frame(s), first {style.dim(frames[0].location)}")
    for warning in case.warnings:
        lines.append(f"    {style.yellow('capture warning')}: {_clip(warning)}")
    return lines


def _section(title: str, cases: list[Case], limit: int, style: Style, block: Callable[[Case], list[str]]) -> list[str]:
    if not cases:
        return []
    lines = ["", style.bold(f"{title} ({len(cases)})")]
    shown = cases if limit <= 0 else cases[:limit]
    for case in shown:
        lines.extend(block(case))
    if len(shown) < len(cases):
        lines.append(f"  … and {len(cases) - len(shown)} more (--max-failures 0 lists all)")
    return lines


def render(report: Report, style: Style, *, slowest: int = 10, max_failures: int = 30, message_lines: int = 4) -> str:
    """The whole summary as text (no trailing newline)."""
    counts = report.count()
    lines = [style.bold("lambda-ui report: " + ", ".join(report.sources))]
    facts = run_facts(report)
    if facts:
        lines.append(" · ".join(facts))
    lines.append(totals_line(report, style))

    def failure_block(case: Case) -> list[str]:
        return _case_block(case, style, message_lines)

    never = not_run(report)
    skipped = {id(c) for cases in never.values() for c in cases}
    by_outcome = {o: [c for c in report.cases if c.outcome is o and id(c) not in skipped] for o in (Outcome.FAILED, Outcome.ERROR, Outcome.INFRA)}
    lines += _section(style.red("FAILED"), by_outcome[Outcome.FAILED], max_failures, style, failure_block)
    lines += _section(style.red("ERRORS"), by_outcome[Outcome.ERROR], max_failures, style, failure_block)
    lines += _section(
        style.red("INFRASTRUCTURE: no verdict (not a test failure)"), by_outcome[Outcome.INFRA], max_failures, style, failure_block
    )
    for cause, cases in never.items():
        lines += _not_run_section(cause, cases, style)

    def flaky_block(case: Case) -> list[str]:
        lines = [f"  {style.bold(case.nodeid)}  {style.dim(format_seconds(case.time))}"]
        for attempt in case.earlier:
            first = unwrap_phase(attempt.message).strip().splitlines()
            lines.append(f"    failed ({attempt.source}): {_clip(first[0] if first else attempt.kind, 200)}")
            for artifact in attempt.artifacts:
                if artifact.kind == "image":
                    lines.append(f"      {artifact_label(artifact)}  {style.dim(artifact.location)}")
        return lines

    lines += _section(style.yellow("FLAKY: failed, then passed"), report.flaky, max_failures, style, flaky_block)

    retried = [c for c in report.cases if c.infra_failures and c.outcome is not Outcome.INFRA]

    def retry_block(case: Case) -> list[str]:
        causes = case.infra_failures
        return [f"  {case.nodeid}: {case.outcome.label} after {len(causes)} infrastructure fault(s)", *(f"    {_clip(c, 200)}" for c in causes)]

    lines += _section("INFRASTRUCTURE RETRIES: completed after a fault", retried, max_failures, style, retry_block)

    if slowest > 0:
        timed = sorted((c for c in report.cases if c.outcome not in (Outcome.SKIPPED,)), key=lambda c: c.wall_s or c.time, reverse=True)[:slowest]
        if timed:
            lines += ["", style.bold(f"SLOWEST ({len(timed)})")]
            lines += [f"  {format_seconds(c.wall_s or c.time):>9}  {c.nodeid}" for c in timed]
    lines += _cost_lines(report, style)
    problems = sum(counts[o] for o in OUTCOMES if o.is_problem)  # a test not run is no pass
    verdict = style.red("FAILED") if problems else style.green("PASSED")
    lines += ["", f"RESULT: {verdict} ({totals_line(report, style)})"]
    return "\n".join(lines)


def _not_run_section(cause: str, cases: list[Case], style: Style) -> list[str]:
    """One block per cause: each distinct message once, then the node ids it applies to."""
    lines = ["", style.bold(style.yellow(f"NOT RUN: {len(cases)} ({cause})"))]
    by_message: dict[str, list[str]] = {}
    for case in cases:
        first = _message_lines(case.message, 1)[0]
        by_message.setdefault(first, []).append(case.nodeid)
    for message, nodeids in by_message.items():
        lines.append(f"  {message}")
        lines += [f"    {nodeid}" for nodeid in nodeids]
    return lines


def _cost_lines(report: Report, style: Style) -> list[str]:
    cost = report.cost_usd
    if cost is None:
        return []
    run = report.run
    detail = []
    if run.get(junit.INVOCATIONS):
        detail.append(f"{run[junit.INVOCATIONS]} invocations")
    billed = number(run.get(junit.BILLED_GB_S))
    if billed is not None:
        detail.append(f"{billed:.3f} GB-s billed")
    price = number(run.get(junit.PRICE_PER_GB_S))
    if price is not None:
        detail.append(f"at ${price:.10f}".rstrip("0") + "/GB-s")
    lines = ["", style.bold("COST"), f"  {format_usd(cost)}" + (f" ({', '.join(detail)})" if detail else "")]
    costly = sorted((c for c in report.cases if c.cost_usd), key=lambda c: c.cost_usd or 0.0, reverse=True)[:5]
    if costly:
        lines.append("  most expensive tests:")
        lines += [f"  {format_usd(c.cost_usd or 0.0):>11}  {c.nodeid}" for c in costly]
    return lines
