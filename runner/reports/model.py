"""A JUnit report as typed objects: one :class:`Case` per ``<testcase>``.

The reader expects what this project's plugin writes (``artifact:<name>``
links, ``lambda_*`` facts, ``run_offset_s``/``wall_s`` for the timeline,
run facts on the ``<testsuite>``) but needs none of it: a plain pytest,
Surefire or other JUnit file gives cases with outcomes and messages, and the
missing facts are simply absent (``None``).

Outcomes are pytest's, plus one of ours: a test that never got a verdict
(the Lambda gave up, throttling, an aborted run, a refused bundle) is
:attr:`Outcome.INFRA`, kept apart from test errors.

What the plugin knew is read from the properties of
:mod:`lambda_ui.runner.junit_contract`: the node id from ``nodeid``, the outcome from
``lambda_outcome``. Only a ``<testcase>`` without them (another tool's file, a
report from before the contract) is guessed at: its node id from the classname,
and infrastructure from the wording of the ``<error>`` message. Rewording a
message therefore changes nothing for a report this plugin wrote.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import cached_property
from typing import Any

from lambda_ui.runner import junit_contract as junit
from lambda_ui.runner.junit_contract import RecordedOutcome

#: Guessing only: an ``<error>`` message starting with one of these is an infrastructure outcome.
INFRA_PREFIXES = ("infrastructure failure after", "throttled:", "run aborted", "the Lambda handler refused", "Lambda unreachable")
_PHASE_WRAPPER = re.compile(r'^failed on (setup|teardown) with "')
_ATTACHMENT = re.compile(r"^\[\[ATTACHMENT\|(.+)\]\]\s*$")
INTERIM_TAGS = ("flakyFailure", "flakyError", "rerunFailure", "rerunError")
#: ``merge`` starts an interim result's ``<system-out>`` with this and where the attempt ran.
RECORDED_IN = "recorded in "
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp")
PAGE_EXTENSIONS = (".html", ".htm")
TEXT_EXTENSIONS = (".log", ".txt", ".json")

#: Run facts added up when reports are combined; the rest are taken as the largest, or listed.
SUMMED_RUN_FACTS = (junit.MEMORY_AT_LIMIT_TESTS, junit.RUN_THROTTLES, junit.INFRA_RETRIES, junit.RERUNS, junit.INVOCATIONS, junit.BILLED_GB_S, junit.RUN_COST_USD)
MAXED_RUN_FACTS = (junit.CONCURRENCY, junit.PEAK_CONCURRENCY, junit.RUN_WALL_S)
UNCAPPED_RUN_FACTS = (junit.RUN_ID, junit.ARTIFACTS_LOCATION)
_MAX_LISTED = 20


class Outcome(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    INFRA = "infra"
    SKIPPED = "skipped"
    XFAILED = "xfailed"

    @property
    def label(self) -> str:
        return "infrastructure" if self is Outcome.INFRA else self.value

    @property
    def is_problem(self) -> bool:
        return self in (Outcome.FAILED, Outcome.ERROR, Outcome.INFRA)


#: Display order.
OUTCOMES = (Outcome.FAILED, Outcome.ERROR, Outcome.INFRA, Outcome.PASSED, Outcome.SKIPPED, Outcome.XFAILED)

#: The reader's outcome for each value of ``lambda_outcome``.
# "interrupted" reads as infrastructure until the reader has a word of its own for it.
_RECORDED = {
    RecordedOutcome.PASSED: Outcome.PASSED,
    RecordedOutcome.FAILED: Outcome.FAILED,
    RecordedOutcome.ERROR: Outcome.ERROR,
    RecordedOutcome.SKIPPED: Outcome.SKIPPED,
    RecordedOutcome.XFAILED: Outcome.XFAILED,
    RecordedOutcome.INFRA: Outcome.INFRA,
    RecordedOutcome.INTERRUPTED: Outcome.INFRA,
    RecordedOutcome.RERUN: Outcome.FAILED,  # an attempt is rerun because it failed or errored
}
#: The message of an attempt pytest-rerunfailures ran again, whose entry records no result.
RERUN_MESSAGE = "rerun by pytest-rerunfailures (its entry records no result)"


def outcome_counts(cases: Iterable[Case]) -> dict[Outcome, int]:
    """How many cases ended each way, every outcome listed (zeros included)."""
    counts = dict.fromkeys(OUTCOMES, 0)
    for case in cases:
        counts[case.outcome] += 1
    return counts


def number(text: str | None) -> float | None:
    """A finite float from a property value, or None for anything else."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def recorded_outcome(value: str | None) -> Outcome | None:
    """The outcome a ``lambda_outcome`` value names; None when absent or not a value the contract knows."""
    try:
        return _RECORDED[RecordedOutcome(value)] if value else None
    except ValueError:  # a newer writer's word: guess, as for a file without the property
        return None


def outcome_of(recorded: str | None, tag: str | None, message: str, result_type: str) -> Outcome:
    """A test's outcome: the recorded one when the writer gave it, else guessed from its result element."""
    known = recorded_outcome(recorded)
    if known is not None:
        return known
    return classify(tag, message, result_type) if tag else Outcome.PASSED


# -- guessing, for <testcase> elements without the contract's properties ----------------


def unwrap_phase(message: str) -> str:
    """pytest wraps setup/teardown errors: ``failed on setup with "<message>"``.

    pytest 9 may also cut a long message, which then lacks the closing quote.
    """
    match = _PHASE_WRAPPER.match(message)
    if not match:
        return message
    inner = message[match.end() :]
    return inner[:-1] if inner.endswith('"') else inner


def is_infra_message(message: str) -> bool:
    return unwrap_phase(message).startswith(INFRA_PREFIXES)


def classify(tag: str, message: str, result_type: str) -> Outcome:
    """The outcome guessed from a result element's tag and message (no ``lambda_outcome``)."""
    if tag == "failure":
        return Outcome.FAILED
    if tag == "error":
        return Outcome.INFRA if is_infra_message(message) else Outcome.ERROR
    if tag == "skipped":
        return Outcome.XFAILED if result_type == "pytest.xfail" else Outcome.SKIPPED
    return Outcome.PASSED


def nodeid(classname: str, name: str) -> str:
    """pytest's node id guessed from a classname that looks like pytest's, else ``classname::name``.

    The guess fails for folders with a dot, modules outside ``test_*``/``*_test``
    and lower-case classes; the ``nodeid`` property, when present, is exact.
    """
    if not classname:
        return name
    parts = classname.split(".")
    split = len(parts)
    while split > 1 and parts[split - 1][:1].isupper():
        split -= 1
    module, classes = parts[:split], parts[split:]
    if module[-1].startswith("test") or module[-1].endswith("_test"):
        return "/".join(module) + ".py::" + "::".join([*classes, name])
    return f"{classname}::{name}"


# -- reading a <testcase> ----------------------------------------------------------------

_RESULT_RANK = {"failure": 0, "error": 1, "skipped": 2}


def case_result(case: Any, props: dict[str, str]) -> tuple[Outcome, Any | None]:
    """The outcome of a ``<testcase>`` element (``props``: its properties) and its result element.

    A test that failed and then errored in teardown has both; the failure is the one shown.
    """
    chosen = None
    for child in case:
        tag = child.tag
        if tag in _RESULT_RANK and (chosen is None or _RESULT_RANK[tag] < _RESULT_RANK[chosen.tag]):
            chosen = child
    if chosen is None:
        return outcome_of(props.get(junit.OUTCOME), None, "", ""), None
    return outcome_of(props.get(junit.OUTCOME), chosen.tag, chosen.get("message") or "", chosen.get("type") or ""), chosen


def attachments(text: str) -> tuple[list[str], str]:
    """``[[ATTACHMENT|…]]`` locations in a ``<system-out>``, and the text without them."""
    if "[[ATTACHMENT|" not in text:
        return [], text
    found: list[str] = []
    kept: list[str] = []
    for line in text.splitlines():
        match = _ATTACHMENT.match(line.strip())
        if match:
            found.append(match.group(1))
        else:
            kept.append(line)
    return found, "\n".join(kept).strip("\n")


@dataclass(frozen=True)
class Artifact:
    """One saved file: its name (``failure-screenshot.png``, ``filmstrip/002-click.png``) and link."""

    name: str
    location: str

    @property
    def kind(self) -> str:
        lowered = self.name.lower()
        if lowered.endswith(IMAGE_EXTENSIONS):
            return "image"
        if lowered.endswith(PAGE_EXTENSIONS):
            return "page"
        if lowered.endswith(TEXT_EXTENSIONS):
            return "text"
        return "other"

    @property
    def in_filmstrip(self) -> bool:
        return self.name.startswith("filmstrip/")


@dataclass
class Attempt:
    """An earlier failed attempt of a test that ran more than once."""

    kind: str  # "failure" | "error"
    message: str
    text: str = ""
    artifacts: list[Artifact] = field(default_factory=list)
    source: str = ""  # where it was recorded: "rerun N" (plugin) or the interim element's tag


@dataclass
class Case:
    classname: str
    name: str
    time: float
    outcome: Outcome
    index: int
    message: str = ""
    result_type: str = ""
    text: str = ""
    properties: list[tuple[str, str]] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    output: str = ""
    errout: str = ""
    earlier: list[Attempt] = field(default_factory=list)

    @cached_property
    def props(self) -> dict[str, str]:
        return dict(self.properties)

    @cached_property
    def nodeid(self) -> str:
        """Exact from the ``nodeid`` property; guessed from the classname without it."""
        return self.props.get(junit.NODEID) or nodeid(self.classname, self.name)

    @property
    def cause(self) -> str:
        """Why the runner could not run it (a :class:`~lambda_ui.runner.junit_contract.Cause` value), or ""."""
        return self.props.get(junit.CAUSE, "")

    @property
    def key(self) -> tuple[str, str]:
        return self.classname, self.name

    @property
    def flaky(self) -> bool:
        return self.props.get(junit.FLAKY, "").lower() == "true" or any(a.source.startswith("flaky") for a in self.earlier)

    @property
    def warnings(self) -> list[str]:
        return [v for k, v in self.properties if k == junit.ARTIFACT_WARNING]

    @property
    def infra_failures(self) -> list[str]:
        return [v for k, v in self.properties if k.startswith(junit.INFRA_FAILURE_PREFIX)]

    @property
    def attempts(self) -> int | None:
        value = number(self.props.get(junit.ATTEMPTS))
        return int(value) if value is not None else None

    @property
    def offset_s(self) -> float | None:
        return number(self.props.get(junit.RUN_OFFSET_S))

    @property
    def wall_s(self) -> float | None:
        value = number(self.props.get(junit.WALL_S))
        return value if value is not None else (self.time if self.offset_s is not None else None)

    @property
    def cost_usd(self) -> float | None:
        return number(self.props.get(junit.COST_USD))

    @property
    def screenshots(self) -> list[Artifact]:
        return [a for a in self.artifacts if a.kind == "image" and not a.in_filmstrip]

    @property
    def filmstrip(self) -> list[Artifact]:
        return sorted((a for a in self.artifacts if a.in_filmstrip), key=lambda a: a.name)


@dataclass
class Report:
    """Every test of one report (or of several, already merged) and the run's facts."""

    sources: list[str]
    run: dict[str, str]
    cases: list[Case]
    suite_time: float | None = None
    timestamp: str = ""
    hostname: str = ""
    warnings: list[str] = field(default_factory=list)  # from reading it (different runs merged)

    def count(self) -> dict[Outcome, int]:
        return outcome_counts(self.cases)

    @property
    def problems(self) -> list[Case]:
        return [c for c in self.cases if c.outcome.is_problem]

    @property
    def flaky(self) -> list[Case]:
        return [c for c in self.cases if c.flaky and not c.outcome.is_problem]

    @property
    def wall_s(self) -> float | None:
        return number(self.run.get(junit.RUN_WALL_S)) or self.suite_time

    @property
    def cost_usd(self) -> float | None:
        value = number(self.run.get(junit.RUN_COST_USD))
        if value is not None:
            return value
        costs = [c.cost_usd for c in self.cases if c.cost_usd is not None]
        return sum(costs) if costs else None


def properties(element: Any) -> list[tuple[str, str]]:
    """The ``<property>`` name and value pairs of a testcase or testsuite element, in order."""
    found = []
    for props in element.iterfind("properties"):
        for prop in props.iterfind("property"):
            found.append((prop.get("name") or "", prop.get("value") or prop.text or ""))
    return found


def _interim(element: Any) -> Attempt:
    tag = element.tag
    trace = element.findtext("stackTrace") or element.text or ""
    links, rest = attachments(element.findtext("system-out") or "")
    first = rest.strip().splitlines()[0] if rest.strip() else ""
    flavour = "flaky" if tag.startswith("flaky") else "rerun"
    return Attempt(
        kind="error" if tag.endswith("Error") else "failure",
        message=element.get("message") or "",
        text=trace.strip("\n"),
        artifacts=[Artifact(_name_of(link), link) for link in links],
        source=f"{flavour}: {first[len(RECORDED_IN):]}" if first.startswith(RECORDED_IN) else flavour,
    )


def _name_of(location: str) -> str:
    return location.rstrip("/").rpartition("/")[2] or location


def parse_case(element: Any, index: int) -> Case:
    props = properties(element)
    outcome, result = case_result(element, dict(props))
    artifacts = [Artifact(k[len(junit.ARTIFACT_PREFIX) :], v) for k, v in props if k.startswith(junit.ARTIFACT_PREFIX)]
    linked = {a.location for a in artifacts}
    output, errout = "", ""
    earlier: list[Attempt] = []
    for child in element:
        tag = child.tag
        if tag == "system-out":
            links, output = attachments(child.text or "")
            artifacts.extend(Artifact(_name_of(link), link) for link in links if link not in linked)
            linked.update(links)
        elif tag == "system-err":
            errout = (child.text or "").strip("\n")
        elif tag in INTERIM_TAGS:
            earlier.append(_interim(child))
    by_attempt = attempt_artifacts(props)
    reruns = [(key, value) for key, value in props if key.startswith(junit.RERUN_PREFIX)]
    # The k-th rerun's failure and the k-th earlier attempt's files belong together (both in attempt order).
    for (key, value), files in zip(reruns, [*by_attempt.values(), *([[]] * len(reruns))]):
        earlier.append(Attempt(kind="failure", message=value, artifacts=files, source=f"rerun {key[len(junit.RERUN_PREFIX):]}"))
    return Case(
        classname=element.get("classname") or "",
        name=element.get("name") or "",
        time=number(element.get("time")) or 0.0,
        outcome=outcome,
        index=index,
        message=(result.get("message") or "") if result is not None else "",
        result_type=(result.get("type") or "") if result is not None else "",
        text=(result.text or "").strip("\n") if result is not None else "",
        properties=props,
        artifacts=artifacts,
        output=output,
        errout=errout,
        earlier=earlier,
    )


def superseded(keys: Sequence[Hashable]) -> list[bool]:
    """For entries in file order: True where a later entry has the same key. pytest-rerunfailures
    writes a ``<testcase>`` per attempt, and only a test's last one in its suite is its outcome."""
    last = {key: position for position, key in enumerate(keys)}
    return [last[key] != position for position, key in enumerate(keys)]


def rerun_outcome(outcome: Outcome, message: str, recorded: str = "") -> tuple[Outcome, str]:
    """A superseded entry's outcome and message: an attempt is run again because it failed or
    errored, though pytest-rerunfailures' entry for it records no result; this plugin records
    why on it (``recorded``, the ``rerun_failure`` property)."""
    return (outcome, message) if outcome.is_problem else (Outcome.FAILED, recorded or RERUN_MESSAGE)


def fold_reruns(entries: list[tuple[int, Case]]) -> list[Case]:
    """One case per test: ``(suite, case)`` entries in file order; each test's last entry in its
    suite is its outcome and the :func:`superseded` ones become its earlier attempts (flaky when
    the last passed)."""
    keys = [(suite, case.key) for suite, case in entries]
    pending: dict[tuple[int, tuple[str, str]], list[Case]] = {}
    folded: list[Case] = []
    for key, (_suite, case), earlier in zip(keys, entries, superseded(keys)):
        if earlier:
            pending.setdefault(key, []).append(case)
            continue
        flavour = "flaky" if case.outcome is Outcome.PASSED else "rerun"
        reruns = [_rerun_attempt(attempt, f"{flavour}: attempt {number}") for number, attempt in enumerate(pending.pop(key, []), 1)]
        case.earlier[:0] = reruns
        case.index = len(folded)
        folded.append(case)
    return folded


def _rerun_attempt(case: Case, source: str) -> Attempt:
    outcome, message = rerun_outcome(case.outcome, case.message, case.props.get(junit.RERUN_FAILURE, ""))
    kind = "error" if outcome is Outcome.ERROR else "failure"
    return Attempt(kind=kind, message=message, text=case.text, artifacts=case.artifacts, source=source)


def attempt_artifacts(properties: list[tuple[str, str]]) -> dict[int, list[Artifact]]:
    """Earlier attempts' files by attempt number, from ``attempt_artifact_<N>:<name>`` properties."""
    found: dict[int, list[Artifact]] = {}
    for key, value in properties:
        if not key.startswith(junit.ATTEMPT_ARTIFACT_PREFIX):
            continue
        attempt, _, name = key[len(junit.ATTEMPT_ARTIFACT_PREFIX) :].partition(":")
        if attempt.isdigit() and name:
            found.setdefault(int(attempt), []).append(Artifact(name, value))
    return dict(sorted(found.items()))


def _format_number(value: float, integral: bool) -> str:
    if integral:
        return str(int(round(value)))
    text = f"{value:.8f}".rstrip("0").rstrip(".")
    return text or "0"


def combine_run_facts(items: list[dict[str, str]]) -> dict[str, str]:
    """Run facts of several suites as one: counts and cost added, concurrency and wall the largest,
    anything else kept when equal and listed (comma-separated) when not."""
    combined: dict[str, str] = {}
    keys: list[str] = []
    for item in items:
        keys.extend(k for k in item if k not in keys)
    for key in keys:
        values = [item[key] for item in items if key in item]
        numbers = [number(v) for v in values]
        if key in SUMMED_RUN_FACTS + MAXED_RUN_FACTS and all(n is not None for n in numbers):
            present = [n for n in numbers if n is not None]
            total = sum(present) if key in SUMMED_RUN_FACTS else max(present)
            combined[key] = _format_number(total, all(float(n).is_integer() for n in present) and key != junit.RUN_COST_USD)
            continue
        distinct = list(dict.fromkeys(values))
        # Every run's id and location stay: they say which artifacts the report may read.
        cap = len(distinct) if key in UNCAPPED_RUN_FACTS else _MAX_LISTED
        listed = distinct[:cap] + (["…"] if len(distinct) > cap else [])
        combined[key] = distinct[0] if len(distinct) == 1 else ",".join(listed)
    return combined


def parse_timestamp(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp if stamp.tzinfo is not None else None


def run_facts(root: Any) -> dict[str, str]:
    """The run facts of a parsed JUnit tree: its suites' properties, combined."""
    return combine_run_facts([f for f in (dict(properties(s)) for s in root.iter("testsuite")) if f])


def from_root(root: Any, sources: list[str]) -> Report:
    """The report in a parsed JUnit tree (``<testsuites>`` or a bare ``<testsuite>``)."""
    suites = list(root.iter("testsuite"))
    facts = [dict(properties(s)) for s in suites]
    cases = fold_reruns([(id(parent), parse_case(element, 0)) for parent in root.iter() for element in parent if element.tag == "testcase"])
    times = [number(s.get("time")) for s in suites]
    known_times = [t for t in times if t is not None]
    stamps = [s.get("timestamp") or "" for s in suites if s.get("timestamp")]
    hosts = list(dict.fromkeys(s.get("hostname") or "" for s in suites if s.get("hostname")))
    return Report(
        sources=sources,
        run=combine_run_facts([f for f in facts if f]),
        cases=cases,
        suite_time=max(known_times) if known_times else None,
        timestamp=min(stamps) if stamps else "",
        hostname=",".join(hosts),
    )
