"""The JUnit properties a ``--lambda`` run writes, under :mod:`lambda_ui.runner.junit_contract`'s names.

Per test they travel as ``user_properties`` on the test's last (teardown) report,
which ``--junitxml`` writes as ``<property>``; run-level facts go to the suite
through junitxml's global properties (:meth:`lambda_ui.runner.run.UiRun.pytest_sessionfinish`).
Values are written as text: numbers by ``str()``, enums by their value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from lambda_ui.runner import junit_contract as jc
from lambda_ui.runner.junit_contract import Cause, RecordedOutcome
from lambda_ui.runner.scheduler import Task
from lambda_ui.runner.terminal import listed

Properties = list[tuple[str, object]]


class PhaseReport(Protocol):
    """What :func:`recorded_outcome` reads of a ``pytest.TestReport``."""

    @property
    def when(self) -> str | None: ...
    @property
    def outcome(self) -> str: ...
    @property
    def failed(self) -> bool: ...
    @property
    def skipped(self) -> bool: ...


def recorded_outcome(reports: Iterable[PhaseReport]) -> RecordedOutcome:
    """The test's outcome as ``--junitxml`` classifies its phase reports (see :class:`RecordedOutcome`)."""
    reports = list(reports)
    if any(report.outcome == "rerun" for report in reports):  # pytest-rerunfailures runs it again
        return RecordedOutcome.RERUN
    # A phase may have several reports: each subtest's (pytest's subtests fixture, unittest's
    # subTest) is a call report of its own, beside the test's. junitxml writes each.
    if any(report.when == "setup" and report.failed for report in reports):
        return RecordedOutcome.ERROR
    if any(report.when == "call" and report.failed for report in reports):
        return RecordedOutcome.FAILED
    if any(report.when == "teardown" and report.failed for report in reports):
        return RecordedOutcome.ERROR
    for report in reports:
        if report.when in ("setup", "call") and report.skipped:
            return RecordedOutcome.XFAILED if hasattr(report, "wasxfail") else RecordedOutcome.SKIPPED
    return RecordedOutcome.PASSED


def outcome_properties(outcome: RecordedOutcome, cause: Cause | None = None) -> Properties:
    props: Properties = [(jc.OUTCOME, outcome.value)]
    if cause is not None:
        props.append((jc.CAUSE, cause.value))
    return props


def has_outcome(properties: Iterable[tuple[str, object]]) -> bool:
    return any(name == jc.OUTCOME for name, _ in properties)


def attempt_properties(task: Task, answered: bool = False) -> Properties:
    """Invocations, request ids, infrastructure causes and throttles of one test."""
    invocations = len(task.infra_failures) + task.reruns + (1 if answered else 0)
    props: Properties = [(jc.ATTEMPTS, invocations)]
    if task.request_ids:
        props.append((jc.REQUEST_IDS, ",".join(task.request_ids)))
    for number, cause in enumerate(task.infra_failures, 1):
        props.append((f"{jc.INFRA_FAILURE_PREFIX}{number}", cause))
    if task.throttles:
        props.append((jc.THROTTLES, task.throttles))
    return props


#: The handler's facts (``facts`` of a run answer) written per test.
_FACTS = {"cold": jc.COLD, "environment_id": jc.ENVIRONMENT_ID, "chrome_version": jc.CHROME_VERSION}
#: The numbers of Lambda's REPORT line written per test.
_REPORT_LINE = {"billed_ms": jc.BILLED_MS, "init_ms": jc.INIT_MS, "max_memory_mb": jc.MAX_MEMORY_MB, "memory_mb": jc.MEMORY_MB}


def answer_properties(facts: Mapping[str, Any], report_line: Mapping[str, float]) -> Properties:
    """What the handler and Lambda's REPORT line told about the invocation that ran the test."""
    props: Properties = [(name, facts[key]) for key, name in _FACTS.items() if key in facts]
    props += [(name, report_line[key]) for key, name in _REPORT_LINE.items() if key in report_line]
    if memory_at_limit(report_line):
        props.append((jc.MEMORY_AT_LIMIT, "true"))
    return props


def memory_at_limit(report_line: Mapping[str, float]) -> bool:
    """Max Memory Used reached the function's MemorySize: the test ran at the edge of an out-of-memory kill."""
    size, used = report_line.get("memory_mb"), report_line.get("max_memory_mb")
    return bool(size) and used is not None and used >= size  # type: ignore[operator]


def attempt_artifact_properties(attempt: int, artifacts: Iterable[tuple[str, str]]) -> Properties:
    """An earlier attempt's files, under its number: ``attempt_artifact_1:failure-screenshot.png``."""
    return [(f"{jc.ATTEMPT_ARTIFACT_PREFIX}{attempt}:{name}", location) for name, location in artifacts]


def run_facts_line(
    invocations: int, function: str, wall_s: float, configured: int, peak: int, throttled: int, min_window: float, retried: int, reruns: int
) -> str:
    """The run line of the terminal summary: configured and peak concurrency; the window only when throttles lowered it."""
    line = f"{invocations} invocation(s) of {function} in {wall_s:.1f} s, concurrency {configured} configured, {peak} at peak"
    if throttled and int(min_window) < configured:
        line += f" (throttling lowered the window to {int(min_window)})"
    return line + f", {throttled} throttled, {retried} infra retries, {reruns} reruns"


def memory_line(tests: list[str], memory_mb: int) -> str:
    """The run summary's out-of-memory warning, or "" when no test reached MemorySize."""
    if not tests:
        return ""
    return f"memory: {len(tests)} test(s) used all of the function's {memory_mb} MB (out-of-memory risk; raise MemorySize): {listed(tests)}"


def rerun_properties(earlier: list[str], passed: bool) -> Properties:
    """The short failure of each earlier attempt; flaky when the last one passed."""
    props: Properties = [(f"{jc.RERUN_PREFIX}{number}", summary) for number, summary in enumerate(earlier, 1)]
    if earlier and passed:
        props.append((jc.FLAKY, "true"))
    return props

