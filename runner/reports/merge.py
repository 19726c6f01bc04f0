"""Several JUnit files (CI shards, reruns) as one, with junitparser.

Each test (same ``classname`` and ``name``) ends with one final outcome:

Attempts' outcomes are read as :mod:`lambda_ui.runner.reports.model` reads them (the
``lambda_outcome`` property, or a guess for files without it). Then:

- if any attempt passed, the last passing attempt is kept; when another attempt
  failed or errored, the test is flaky: it gets ``lambda_flaky=true`` (what the
  plugin writes for a Lambda rerun) and one Surefire-style ``<flakyFailure>``
  (or ``<flakyError>``) per failed attempt, with the message, the traceback as
  ``<stackTrace>``, and a ``<system-out>`` saying where that attempt was recorded
  (``recorded in <file> (run <id>)``) followed by its artifact links as
  ``[[ATTACHMENT|…]]`` lines;
- otherwise the latest attempt in input order is kept, and earlier failed
  attempts become ``<rerunFailure>``/``<rerunError>``.

A test seen more than once also gets ``merge_attempts`` (how many) and
``merge_attempt_<k>`` (``<source>: <outcome>[: <message>]``) properties.
Run facts are combined by :func:`lambda_ui.runner.reports.model.combine_run_facts`; the
run's wall time is the union of the inputs' run intervals (start to start + wall) when
every input has a timestamp, so parallel shards count once and a gap between
sequential ones not at all; ``merged_wall`` says so. Without timestamps it is the
longest. Each test's ``run_offset_s`` is moved onto the common clock so the
timeline stays true.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from junitparser import junitparser as jp
from junitparser import xunit2

from lambda_ui.runner import junit_contract as junit
from lambda_ui.runner.reports import model
from lambda_ui.runner.reports.atomic import write_atomic
from lambda_ui.runner.reports.model import RECORDED_IN, Outcome
from lambda_ui.runner.reports.names import MERGE_ATTEMPT_PREFIX, MERGE_ATTEMPTS, MERGED_INPUTS, MERGED_WALL
from lambda_ui.runner.reports.safety import ReportError, check_junit_root, parse_xml
from lambda_ui.runner.reports.sources import S3Reader, is_s3, read_input, split_s3

_RESULT_CLASSES: tuple[tuple[type, str], ...] = ((jp.Failure, "failure"), (jp.Error, "error"), (jp.Skipped, "skipped"))
_INTERIM = {
    (True, "failure"): xunit2.FlakyFailure,
    (True, "error"): xunit2.FlakyError,
    (False, "failure"): xunit2.RerunFailure,
    (False, "error"): xunit2.RerunError,
}


def element_of(obj: Any) -> Any:
    """The tree element behind a junitparser object (it offers no public accessor)."""
    return obj._elem


@dataclass
class _Attempt:
    source: str
    case: xunit2.TestCase
    outcome: Outcome
    message: str
    result_type: str
    text: str
    shift_s: float


@dataclass
class MergeResult:
    xml: xunit2.JUnitXml
    inputs: int
    tests: int = 0
    repeated: int = 0
    flaky: int = 0
    counts: dict[Outcome, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def load_inputs(locations: list[str], max_bytes: int, reader: S3Reader | None = None) -> list[tuple[str, Any]]:
    """Each input parsed (safely) into a root element junitparser can use."""
    loaded = []
    for location in locations:
        root = parse_xml(location, read_input(location, max_bytes, reader), for_junitparser=True)
        check_junit_root(location, root)
        loaded.append((location, root))
    return loaded


def _props(case: xunit2.TestCase) -> dict[str, str]:
    return {p.name or "": p.value or "" for p in case.properties()}


def _final_result(case: xunit2.TestCase) -> tuple[Outcome, str, str, str]:
    recorded = _props(case).get(junit.OUTCOME)
    chosen: tuple[int, Any, str] | None = None
    for result in case.result:
        for rank, (cls, tag) in enumerate(_RESULT_CLASSES):
            if isinstance(result, cls) and (chosen is None or rank < chosen[0]):
                chosen = (rank, result, tag)
    if chosen is None:
        return model.outcome_of(recorded, None, "", ""), "", "", ""
    _rank, result, tag = chosen
    message, result_type = result.message or "", result.type or ""
    return model.outcome_of(recorded, tag, message, result_type), message, result_type, result.text or ""


def _label(location: str, facts: dict[str, str]) -> str:
    name = location.rstrip("/").rpartition("/")[2] or location
    run_id = facts.get(junit.RUN_ID)
    return f"{name} (run {run_id})" if run_id else name


def _suite_window(suite: Any, facts: dict[str, str]) -> tuple[datetime | None, float]:
    wall = model.number(facts.get(junit.RUN_WALL_S)) or model.number(suite.get("time")) or 0.0
    return model.parse_timestamp(suite.get("timestamp")), wall


def union_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """Seconds covered by at least one ``(start, end)`` interval: overlaps count once, gaps not at all."""
    total = 0.0
    reach: float | None = None
    for start, end in sorted(intervals):
        if reach is None or start > reach:
            total += end - start
            reach = end
        elif end > reach:
            total += end - reach
            reach = end
    return total


def _links(case: xunit2.TestCase) -> list[str]:
    found = [p.value for p in case.properties() if (p.name or "").startswith(junit.ARTIFACT_PREFIX) and p.value]
    attached, _ = model.attachments(case.system_out or "")
    return list(dict.fromkeys(found + attached))


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:200] if text.strip() else ""


def _record_attempts(final: _Attempt, attempts: list[_Attempt]) -> bool:
    """Put the other attempts' failures on the final case; True when it is flaky."""
    case = final.case
    passed = final.outcome is Outcome.PASSED
    earlier = [a for a in attempts if a is not final and a.outcome.is_problem]
    interim: list[xunit2.InterimResult] = []
    for attempt in earlier:
        kind = "failure" if attempt.outcome is Outcome.FAILED else "error"
        result = _INTERIM[(passed, kind)](attempt.message, attempt.result_type or None)
        if attempt.text:
            result.stack_trace = attempt.text
        links = _links(attempt.case)
        result.system_out = "\n".join([f"{RECORDED_IN}{attempt.source}", *(f"[[ATTACHMENT|{link}]]" for link in links)]) + "\n"
        interim.append(result)
        # Interim results an already merged input carried along.
        for old in attempt.case.interim_result:
            copy = _INTERIM[(passed, "error" if isinstance(old, (xunit2.RerunError, xunit2.FlakyError)) else "failure")](old.message, old.type)
            if old.stack_trace:
                copy.stack_trace = old.stack_trace
            if old.system_out:
                copy.system_out = old.system_out
            interim.append(copy)
    if interim:
        # Surefire's order: results, interim results, then system-out and system-err.
        tail = [c for c in (case.child(jp.SystemOut), case.child(jp.SystemErr)) if c is not None]
        for element in tail:
            element_of(case).remove(element_of(element))
        for result in interim:
            case.add_interim_result(result)
        for element in tail:
            case.append(element)
    names = {p.name for p in case.properties()}
    case.add_property(MERGE_ATTEMPTS, str(len(attempts)))
    for number, attempt in enumerate(attempts, 1):
        line = _first_line(model.unwrap_phase(attempt.message))
        case.add_property(f"{MERGE_ATTEMPT_PREFIX}{number}", f"{attempt.source}: {attempt.outcome.label}" + (f": {line}" if line else ""))
    flaky = passed and bool(earlier)
    if flaky and junit.FLAKY not in names:
        case.add_property(junit.FLAKY, "true")
    return flaky


def _shift_offset(case: xunit2.TestCase, shift_s: float) -> None:
    for prop in case.properties():
        if prop.name == junit.RUN_OFFSET_S:
            value = model.number(prop.value)
            if value is not None:
                prop.value = f"{value + shift_s:.3f}"


def _different_runs(suites: list[tuple[str, Any, dict[str, str]]]) -> list[str]:
    """A warning naming the runs when the inputs come from more than one (still merged)."""
    runs: dict[str, list[str]] = {}
    for location, _suite, facts in suites:
        name = location.rstrip("/").rpartition("/")[2] or location
        for run_id in (r.strip() for r in facts.get(junit.RUN_ID, "").split(",")):
            names = runs.setdefault(run_id, []) if run_id else []
            if run_id and name not in names:
                names.append(name)
    if len(runs) < 2:
        return []
    shown = [f"{run_id} ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})" for run_id, names in list(runs.items())[:10]]
    more = f" and {len(runs) - 10} more" if len(runs) > 10 else ""
    warning = (
        f"the inputs come from {len(runs)} different runs: {'; '.join(shown)}{more}; merged anyway "
        "(expected for CI shards with their own --run-id; check the inputs if they should be one run)"
    )
    return [warning]


def merge_roots(inputs: Iterable[tuple[str, Any]]) -> MergeResult:
    """Merge parsed inputs (see the module docstring for the rules)."""
    suites: list[tuple[str, Any, dict[str, str]]] = []
    for location, root in inputs:
        xml = xunit2.JUnitXml.fromroot(root)
        for suite in xml:
            facts = {p.name or "": p.value or "" for p in suite.properties()}
            suites.append((location, suite, facts))
    if not suites:
        raise ReportError("no <testsuite> in the inputs")
    warnings = _different_runs(suites)
    windows = [_suite_window(element_of(s), f) for _l, s, f in suites]
    starts = [w[0] for w in windows]
    common = all(s is not None for s in starts)
    t0 = min(s for s in starts if s is not None) if common else None

    attempts: dict[tuple[str, str], list[_Attempt]] = {}
    for (location, suite, facts), (start, _wall) in zip(suites, windows):
        shift = (start - t0).total_seconds() if common and start is not None and t0 is not None else 0.0
        source = _label(location, facts)
        cases = list(suite)
        keys = [(case.classname or "", case.name or "") for case in cases]
        for key, case, earlier in zip(keys, cases, model.superseded(keys)):
            element = element_of(case)
            if element.get("time") is not None and model.number(element.get("time")) is None:
                del element.attrib["time"]  # another tool's "time" junitparser cannot add up
            outcome, message, result_type, text = _final_result(case)
            if earlier:  # an attempt pytest-rerunfailures ran again
                recorded = dict(model.properties(element)).get(junit.RERUN_FAILURE, "")
                outcome, message = model.rerun_outcome(outcome, message, recorded)
            attempts.setdefault(key, []).append(_Attempt(source, case, outcome, message, result_type, text, shift))

    out_suite = xunit2.TestSuite(element_of(suites[0][1]).get("name") or "merged")
    facts = model.combine_run_facts([f for _l, _s, f in suites if f])
    if common and t0 is not None:
        offsets = [((s - t0).total_seconds(), w) for s, w in windows if s is not None]
        facts[junit.RUN_WALL_S] = f"{union_seconds((start, start + wall) for start, wall in offsets):.3f}"
        facts[MERGED_WALL] = f"union of {len(offsets)} run intervals"
    facts[MERGED_INPUTS] = str(len({location for location, _s, _f in suites}))
    for name, value in facts.items():
        out_suite.add_property(name, value)

    result = MergeResult(xml=xunit2.JUnitXml(), inputs=len({location for location, _s, _f in suites}), warnings=warnings)
    counts = dict.fromkeys(model.OUTCOMES, 0)
    for tries in attempts.values():
        passing = [a for a in tries if a.outcome is Outcome.PASSED]
        final = passing[-1] if passing else tries[-1]
        if len(tries) > 1:
            result.repeated += 1
            result.flaky += _record_attempts(final, tries)
        elif final.outcome is Outcome.PASSED and _props(final.case).get(junit.FLAKY) == "true":
            result.flaky += 1
        if final.shift_s:
            _shift_offset(final.case, final.shift_s)
        out_suite.append(final.case)
        counts[final.outcome] += 1
    result.xml.add_testsuite(out_suite)
    result.xml.update_statistics()
    # update_statistics sums test times; a run's time is its wall time.
    wall = model.number(facts.get(junit.RUN_WALL_S))
    if wall is not None:
        out_suite.time = wall
        result.xml.time = wall
    if t0 is not None:
        out_suite.timestamp = t0.isoformat()
    hosts = list(dict.fromkeys(element_of(s).get("hostname") for _l, s, _f in suites if element_of(s).get("hostname")))
    if hosts:
        out_suite.hostname = ",".join(hosts)
    result.tests = len(attempts)
    result.counts = counts
    return result


def merge_files(locations: list[str], max_bytes: int, reader: S3Reader | None = None) -> MergeResult:
    return merge_roots(load_inputs(locations, max_bytes, reader))


def write_xml(xml: xunit2.JUnitXml, destination: str, reader: S3Reader | None = None) -> None:
    """Write atomically to a path, or upload to ``s3://bucket/key``."""
    if is_s3(destination):
        bucket, key = split_s3(destination)
        with tempfile.TemporaryDirectory() as folder:
            local = os.path.join(folder, "report.xml")
            xml.write(local)
            data = Path(local).read_bytes()
        s3reader = reader or S3Reader()
        try:
            s3reader.client.put_object(Bucket=bucket, Key=key, Body=data, ContentType="application/xml")
        except Exception as exc:
            raise ReportError(f"{destination}: upload failed: {s3reader.explain(exc, bucket, key).reason}") from None
        return
    target = Path(destination)
    try:
        write_atomic(target, lambda path: xml.write(str(path)))
    except OSError as exc:
        raise ReportError(f"{destination}: cannot write: {exc.strerror or exc}") from None


def read_report(locations: list[str], max_bytes: int, reader: S3Reader | None = None) -> model.Report:
    """One report from one or more inputs; several are merged first (same rules as ``merge``)."""
    if len(locations) == 1:
        location = locations[0]
        root = parse_xml(location, read_input(location, max_bytes, reader))
        check_junit_root(location, root)
        return model.from_root(root, [location])
    merged = merge_files(locations, max_bytes, reader)
    report = model.from_root(element_of(merged.xml), list(locations))
    report.warnings.extend(merged.warnings)
    return report
