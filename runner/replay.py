"""Feeding results from Lambda back into pytest's own hooks, as pytest-xdist does.

One block per test on the main thread: ``pytest_runtest_logstart``, one
``pytest_runtest_logreport`` per phase, ``pytest_runtest_logfinish``. The
terminal, ``--junitxml``, ``--lf`` and ``-x`` then work unchanged.

Answers arrive in completion order, not file by file. :class:`FileGroups` holds
them so that pytest's terminal prints each file's row once, as in a local run.
"""

from __future__ import annotations

import re
import sys
import warnings
from collections import Counter
from typing import Any, Literal

import pytest

from lambda_ui.contract import MAX_TEST_WARNINGS, MAX_WARNING_CHARS, anchored, report_from_wire
from lambda_ui.runner import junit_contract as jc
from lambda_ui.runner.junit_contract import Cause, RecordedOutcome
from lambda_ui.runner.lambda_facts import recorded_outcome

#: Attribute of the setup report of a test the run never got to (its value: the :class:`Cause`).
NOT_RUN_ATTR = "lambda_not_run"


def replay(item: pytest.Item, reports: list[pytest.TestReport]) -> None:
    ihook = item.ihook
    ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    shown = _shown_output(item.config)
    live_log = _live_log(item.config)
    logged = False  # a phase's live log printed already
    for report in reports:
        if shown:
            _print_output(report, keep=shown == "tee-sys")
        if live_log is not None and _print_live_log(live_log, report, first=not logged):
            logged = True
        ihook.pytest_runtest_logreport(report=report)
    ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)


def _live_log(config: pytest.Config) -> Any:
    """The terminal reporter when the suite logs live (``log_cli``, ``--log-cli-level``), else None."""
    if config.pluginmanager.get_plugin("logging-plugin") is None:
        return None  # -p no:logging: no live log, and no log_cli ini key to read
    if config.getoption("log_cli_level", None) is None and not config.getini("log_cli"):
        return None
    return config.pluginmanager.get_plugin("terminalreporter")


def _print_live_log(terminal: Any, report: pytest.TestReport, first: bool) -> bool:
    """A phase's log records under ``live log <phase>``, laid out as pytest's live logging does
    locally; True when there were any. They come from the report's captured log, which the
    function filtered by its ``log_level`` rather than ``log_cli_level``."""
    records = "".join(content for title, content in report.sections if title == f"Captured log {report.when}")
    if not records:
        return False
    if first or report.when == "teardown":
        terminal.write("\n")  # off the test's line (after its outcome, for teardown), keeping its prefix
    terminal.section(f"live log {report.when}", sep="-", bold=True)
    terminal.write(records if records.endswith("\n") else records + "\n")
    return True


#: Report sections of what a test printed, and the stream a local run prints them to under -s.
_OUTPUT_SECTIONS = {"Captured stdout ": "stdout", "Captured stderr ": "stderr"}


def _shown_output(config: pytest.Config) -> str | None:
    """``no`` (``-s``) or ``tee-sys`` when the command line asked to see the tests' output."""
    capture = getattr(config.option, "capture", None)
    return capture if capture in ("no", "tee-sys") else None


def _print_output(report: pytest.TestReport, keep: bool) -> None:
    """A phase's output as a local ``-s`` run prints it: on this terminal, between the file's
    name and the test's result. The function captured it (``-s`` is not forwarded: there
    nobody would see it); under ``-s`` the report then carries no such section, as locally."""
    sections = []
    for title, content in report.sections:
        stream = next((name for prefix, name in _OUTPUT_SECTIONS.items() if title.startswith(prefix)), None)
        if stream is not None:
            getattr(sys, stream).write(content)  # as it is now: pytest may have replaced it
            if not keep:
                continue
        sections.append((title, content))
    report.sections = sections


def rebuild(config: pytest.Config, item: pytest.Item, wire_reports: list[dict[str, Any]]) -> list[pytest.TestReport]:
    reports = [report_from_wire(config, data) for data in wire_reports]
    for report in reports:
        report.location = item.location  # the client's view of the path, for the terminal
    return reports


#: Identical warnings recorded per test, at most: a warning raised in a loop stays a count, not a flood.
MAX_WARNING_REPEATS = 1000
_DOTTED_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def record_warnings(config: pytest.Config, item: pytest.Item, payload: dict[str, Any], handler_notes: bool = True) -> None:
    """The test's warnings from Lambda into ``pytest_warning_recorded``, as a local run records
    them (pytest-xdist does the same with its workers'): the terminal's "warnings summary"
    and its count then match a local run. Malformed entries are skipped, never fatal.

    ``handler_notes``: also what the handler said about the invocation (the answer's
    ``warnings``: a deadline that struck after the test, a path of the suite's that the
    function lacks), as the plugin's own warnings on the test. Off when the test has no
    reports: its error already quotes them."""
    entries = payload.get("test_warnings")
    root = str(config.rootpath)
    parsed = (_warning_from_wire(data, root) for data in (entries[:MAX_TEST_WARNINGS] if isinstance(entries, list) else []))
    messages = [found for found in parsed if found is not None]
    notes = payload.get("warnings") if handler_notes else None
    for note in (notes[:MAX_TEST_WARNINGS] if isinstance(notes, list) else []):
        if isinstance(note, str) and note:
            warning = pytest.PytestWarning(f"lambda-ui: {note[:MAX_WARNING_CHARS]}")
            messages.append((warnings.WarningMessage(warning, pytest.PytestWarning, item.location[0], 0, line=""), 1))
    dropped = payload.get("test_warnings_dropped")
    if isinstance(dropped, int) and dropped > 0:
        note = f"lambda-ui: {dropped} more distinct warning(s) of this test were left out of Lambda's answer (at most {MAX_TEST_WARNINGS} are sent)"
        messages.append((warnings.WarningMessage(pytest.PytestWarning(note), pytest.PytestWarning, item.location[0], 0, line=""), 1))
    for message, count in messages:
        for _ in range(count):
            config.hook.pytest_warning_recorded.call_historic(kwargs={"warning_message": message, "when": "runtest", "nodeid": item.nodeid, "location": item.location})


def _warning_from_wire(data: object, root: str) -> tuple[warnings.WarningMessage, int] | None:
    if not isinstance(data, dict):
        return None
    message, category, filename, lineno, line, count = (data.get(k) for k in ("message", "category", "filename", "lineno", "line", "count"))
    if not (isinstance(message, str) and isinstance(category, str) and isinstance(filename, str) and isinstance(line, str)):
        return None
    if not (isinstance(lineno, int) and isinstance(count, int) and count > 0):
        return None
    # ``line`` is always a string here: formatwarning then reads no file the answer names.
    return warnings.WarningMessage(message[:MAX_WARNING_CHARS], _category(category), anchored(filename, root), lineno, line=line[:500]), min(count, MAX_WARNING_REPEATS)


def _category(name: str) -> type[Warning]:
    """The warning class ``name`` names when this process already has it (the suite's own modules
    were imported by collection); never imports a module an answer names. Otherwise a stand-in
    class of the same name, which is all the terminal shows."""
    module, _, qualname = name.rpartition(".")
    if not _DOTTED_NAME.fullmatch(name) or len(name) > 200 or not module:
        return Warning
    found: object = sys.modules.get(module)
    for part in qualname.split("."):
        # vars(), not getattr(): no module __getattr__ or descriptor of the suite's runs for an answer.
        found = vars(found).get(part) if hasattr(found, "__dict__") else None
    if isinstance(found, type) and issubclass(found, Warning):
        return found
    return type(qualname, (Warning,), {"__module__": module})


#: The most collection errors of one answer shown, and the characters shown of each.
MAX_COLLECT_ERRORS = 5
MAX_COLLECT_ERROR_CHARS = 8000


def not_run_detail(config: pytest.Config, payload: dict[str, Any]) -> str:
    """Why the function's pytest ran no test: its warnings, then each collection error there as
    pytest prints one (a module that failed to import, a data file missing from the bundle)."""
    parts = [str(w) for w in payload.get("warnings") or [] if isinstance(w, str)]
    collect_reports = payload.get("collect_reports")
    errors = [data for data in collect_reports if isinstance(data, dict) and data.get("outcome") != "skipped"] if isinstance(collect_reports, list) else []
    parts += [_collection_error(config, data) for data in errors[:MAX_COLLECT_ERRORS]]
    if len(errors) > MAX_COLLECT_ERRORS:
        parts.append(f"({len(errors) - MAX_COLLECT_ERRORS} more collection error(s) there left out)")
    return "\n".join(parts) or "no reports"


def _collection_error(config: pytest.Config, data: dict[str, Any]) -> str:
    try:  # the answer is hostile input: a report pytest cannot rebuild is shown as its raw text
        report = report_from_wire(config, data)
        where, text = str(report.nodeid), str(report.longreprtext)
    except Exception:
        where, text = str(data.get("nodeid", "")), str(data.get("longrepr", ""))
    if len(text) > MAX_COLLECT_ERROR_CHARS:
        text = text[:MAX_COLLECT_ERROR_CHARS] + "\n[... cut]"
    return f"collecting {where or 'the test'} failed there:\n{text}"


def not_run_cause(properties: list[tuple[str, object]]) -> Cause | None:
    """The cause when ``properties`` say the test was never run (:func:`junit_contract.not_run_cause`)."""
    values = dict(properties)
    return jc.not_run_cause(str(values.get(jc.OUTCOME, "")), str(values.get(jc.CAUSE, "")))


def error_reports(item: pytest.Item, message: str, properties: list[tuple[str, object]] | None = None) -> list[pytest.TestReport]:
    """A test that never produced reports of its own ends as a setup error with ``message``
    (the way pytest-xdist reports a crashed worker's test), plus a passing teardown so
    that ``--junitxml`` closes the test case. A test the run never got to is marked
    (:data:`NOT_RUN_ATTR`): the terminal counts it as "not run", not as an error."""
    reports = _setup_and_teardown(item, "failed", message, properties)
    cause = not_run_cause(list(properties or []))
    if cause is not None:
        setattr(reports[0], NOT_RUN_ATTR, cause.value)
    return reports


def _setup_and_teardown(
    item: pytest.Item, outcome: Literal["failed", "skipped"], longrepr: str | tuple[str, int | None, str], properties: list[tuple[str, object]] | None = None
) -> list[pytest.TestReport]:
    """A test that ran no phase of its own here: its setup report with ``outcome``, and a passing
    teardown (carrying ``properties``) so that ``--junitxml`` closes its test case."""
    keywords: dict[str, Literal[1]] = dict.fromkeys(item.keywords, 1)
    setup = pytest.TestReport(item.nodeid, item.location, keywords, outcome, longrepr, "setup", user_properties=[])  # type: ignore[arg-type]
    teardown = pytest.TestReport(item.nodeid, item.location, keywords, "passed", None, "teardown", user_properties=list(properties or []))
    return [setup, teardown]


def skipped_with_its_module(config: pytest.Config, item: pytest.Item, payload: dict[str, Any]) -> list[pytest.TestReport] | None:
    """The test as skipped, when the function's pytest skipped the module or package holding it
    (``pytest.skip(..., allow_module_level=True)``, a module-level ``importorskip``) and so never
    collected it: what a local run reports for each of its tests when the module skips there.
    None when the answer says no such thing."""
    collect_reports = payload.get("collect_reports")
    for data in collect_reports if isinstance(collect_reports, list) else []:
        if not isinstance(data, dict) or data.get("outcome") != "skipped":
            continue
        try:  # hostile input: a report pytest cannot rebuild says nothing
            report = report_from_wire(config, data)
            path, line, reason = report.longrepr
        except Exception:
            continue
        holder = str(report.nodeid)
        if not holder or not (item.nodeid.startswith(holder + "::") or item.nodeid.startswith(holder.rstrip("/") + "/")):
            continue
        why = (str(path), int(line) if isinstance(line, int) else None, str(reason).removeprefix("Skipped: "))
        return _setup_and_teardown(item, "skipped", why)
    return None


def failed(reports: list[pytest.TestReport]) -> bool:
    return any(r.failed for r in reports)


def short_failure(reports: list[pytest.TestReport]) -> str:
    for report in reports:
        if report.failed:
            crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
            text = crash.message if crash is not None else str(report.longrepr)
            return f"{report.when} failed: {text.strip().splitlines()[0] if text.strip() else ''}"[:300]
    return "passed"


def tally_key(reports: list[pytest.TestReport]) -> str:
    """The word a test counts under in the status line: passed, failed, error, skipped or not run."""
    if any(getattr(r, NOT_RUN_ATTR, None) for r in reports):
        return "not run"
    outcome = recorded_outcome(reports)
    return "skipped" if outcome is RecordedOutcome.XFAILED else outcome.value


class FileGroups:
    """Replays tests so that the terminal prints each file's results together.

    pytest prints a file's name each time a result comes from another file than the
    last one; answers in completion order would repeat names. With ``-v`` every test
    has its own line: results pass straight through. Otherwise one file is open and
    its results go out as they come; the others wait until it is complete, then the
    first of them (in collection order) opens with what it holds. ``flush`` sends
    what is left (the run ends or stops).
    """

    def __init__(self, items: dict[str, pytest.Item], *, verbose: bool) -> None:
        self.verbose = verbose
        self._order: dict[str, int] = {}
        self._left: Counter[str] = Counter()
        for nodeid in items:
            path = _file_of(nodeid)
            self._order.setdefault(path, len(self._order))
            self._left[path] += 1
        self._waiting: dict[str, list[tuple[pytest.Item, list[pytest.TestReport]]]] = {}
        self._open: str | None = None
        #: Tests answered so far, by :func:`tally_key` (whether or not printed yet).
        self.tally: Counter[str] = Counter()

    def add(self, item: pytest.Item, reports: list[pytest.TestReport]) -> None:
        self.tally[tally_key(reports)] += 1
        path = _file_of(item.nodeid)
        self._left[path] -= 1
        if self.verbose:
            replay(item, reports)
            return
        if self._open in (None, path):
            self._open = path
            replay(item, reports)
        else:
            self._waiting.setdefault(path, []).append((item, reports))
        self._advance()

    def _advance(self) -> None:
        """Send out the files that may go now."""
        while True:
            if self._open is not None and self._left[self._open] > 0:
                return  # the open file is still being answered
            self._open = None
            if not self._waiting:
                return
            path = min(self._waiting, key=self._order.__getitem__)
            self._open = path
            for item, reports in self._waiting.pop(path):
                replay(item, reports)

    def flush(self) -> None:
        """Send every held result, file by file."""
        for path in sorted(self._waiting, key=self._order.__getitem__):
            for item, reports in self._waiting.pop(path):
                replay(item, reports)
        self._open = None


def _file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]
