"""``pytest --lambda``: the controller that owns the test loop.

Collection stays local (so ``-k``, ``-m``, ``--lf`` and node ids select as
usual). Then the start-up checks (:mod:`lambda_ui.runner.startup`), the bundle upload
(:mod:`lambda_ui.runner.bundle_upload`) or the dry run (:mod:`lambda_ui.runner.plan`); each test is
invoked in its own Lambda call from an asyncio loop (:mod:`lambda_ui.runner.dispatch`),
every answer settled there (:mod:`lambda_ui.runner.settle`) and replayed here, on the main
thread, into pytest's hooks (:mod:`lambda_ui.runner.replay`) with its JUnit properties
(:mod:`lambda_ui.runner.lambda_facts`).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

import pytest

from lambda_ui.contract import CONTRACT_VERSION, RunEvent
from lambda_ui.runner import junit_contract as jc
from lambda_ui.runner import signals
from lambda_ui.runner.allure_results import AllureDownloads, allure_dir
from lambda_ui.runner.artifacts.failure_links import artifact_links
from lambda_ui.runner.aws import s3
from lambda_ui.runner.aws.lambda_client import InvokeOutcome, OutcomeKind
from lambda_ui.runner.bundle_upload import upload_bundle
from lambda_ui.runner.constants import DEFAULT_ARTIFACTS
from lambda_ui.runner.cost import billed_gb_s, invocation_cost, run_cost
from lambda_ui.runner.dispatch import Invokers
from lambda_ui.runner.failure_hints import FailureHints
from lambda_ui.runner.fallback import INTERRUPTED, Fallback
from lambda_ui.runner.forwarding import working_folder
from lambda_ui.runner.history import history_path, read_history, write_history
from lambda_ui.runner.junit_contract import Cause, RecordedOutcome
from lambda_ui.runner.lambda_facts import (
    Properties,
    answer_properties,
    attempt_artifact_properties,
    attempt_properties,
    has_outcome,
    memory_at_limit,
    memory_line,
    outcome_properties,
    recorded_outcome,
    rerun_properties,
    run_facts_line,
)
from lambda_ui.runner.log_file import LogFileText
from lambda_ui.runner.loopback import LoopbackRefusals
from lambda_ui.runner.missing_files import MissingFiles
from lambda_ui.runner.missing_variables import MissingVariables
from lambda_ui.runner.not_run import NotRunBlock
from lambda_ui.runner.option_names import ini_value
from lambda_ui.runner.options import GENERAL_BY_SHORT, LambdaSettings
from lambda_ui.runner.other_browsers import OtherBrowsers
from lambda_ui.runner.parity import warnings_before_run
from lambda_ui.runner.plan import dry_run
from lambda_ui.runner.private_hosts import PrivateHosts
from lambda_ui.runner.read_only_writes import ReadOnlyWrites
from lambda_ui.runner.replay import (
    FileGroups,
    error_reports,
    failed,
    not_run_detail,
    rebuild,
    record_warnings,
    replay,
    short_failure,
    skipped_with_its_module,
)
from lambda_ui.runner.returned_files import ReturnedFiles
from lambda_ui.runner.run import UiRun
from lambda_ui.runner.scheduler import Scheduler, Task
from lambda_ui.runner.settle import Action, Settler, Verdict
from lambda_ui.runner.skipped_there import SkippedThere
from lambda_ui.runner.startup import Target, check_image, check_target, make_invoker
from lambda_ui.runner.terminal import StatusLine, eta_s, status_text, write_line
from lambda_ui.runner.untrusted_certs import UntrustedCerts
from lambda_ui.runner.xdist_groups import groups_of
from lambda_ui.runner.xdist_groups import summary as groups_summary

DURATIONS_KEY = "lambda_ui/durations"


@dataclass
class RunTotals:
    started: float = 0.0
    finished: float = 0.0
    flaky: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)
    #: Tests whose invocation used all of the function's MemorySize.
    memory_at_limit: list[str] = field(default_factory=list)


def quiet_aws_sdk_info() -> None:
    """The tests run in Lambda: this process's boto3 is the run's own, and its INFO lines
    ("Found credentials in environment variables.") are no part of the suite's live log
    (``log_cli``). A level the suite set itself stays."""
    for name in ("boto3", "botocore"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


class LambdaSession:
    """State of one ``--lambda`` run on the controller."""

    def __init__(self, config: pytest.Config, settings: LambdaSettings, run: UiRun) -> None:
        self.config = config
        self.settings = settings
        self.run = run
        self.totals = RunTotals()
        self.target: Target | None = None
        self.scheduler: Scheduler | None = None
        self.settler: Settler | None = None
        self.fallback = Fallback(settings.fallback == "local")
        #: Allure result files from the function into the local --alluredir, when there is one.
        self.allure: AllureDownloads | None = None
        #: Files tests wrote below the rootdir in the function, back into the local rootdir.
        self.returned: ReturnedFiles | None = None
        #: The tests' records for pytest's log file, when the run writes one.
        self.log_file = LogFileText(config)
        #: Why failed tests failed where a local run would not (a file the bundle left out, this
        #: machine's loopback, a browser the image lacks): on the test and in the summary, in order.
        self.hints: list[FailureHints] = []
        #: The folder below the rootdir pytest started in: the function's tests run there too.
        self._workdir = ""
        self._durations: dict[str, float] = {}
        #: The terminal's side of the loop: results grouped per file, the status line.
        self.groups: FileGroups | None = None
        self.status = StatusLine(config, settings.status_interval_s)  # again once the terminal reporter is there
        self._expected: dict[str, float | None] = {}
        self._answered: set[str] = set()
        config.pluginmanager.register(NotRunBlock(), "lambda-ui-not-run")
        #: Phase reports of each test being reported, for its ``lambda_outcome``.
        self._phases: dict[str, list[pytest.TestReport]] = {}
        quiet_aws_sdk_info()

    # -- start-up -----------------------------------------------------------------
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.target = check_target(self.config, self.settings, self.run.settings.artifacts)
        self._invoker = make_invoker(self.target)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            raise session.Interrupted(f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} during collection")
        if session.config.option.collectonly:
            return True
        assert self.target is not None
        items = {item.nodeid: item for item in session.items}
        history = self._history()
        self.hints = [
            LoopbackRefusals(self.config, self.target.pytest_args, self.settings.env),
            PrivateHosts(self.config, self.target.pytest_args, self.settings.env),
            UntrustedCerts(self.config, self.target.pytest_args, self.settings.env),
            OtherBrowsers(),
            ReadOnlyWrites(),
            MissingVariables(self.settings.env),
            SkippedThere(items, self.settings.env),
        ]
        for warning in warnings_before_run(self.config, items):
            write_line(self.config, f"lambda: WARNING: {warning}", yellow=True)
        if self.settings.dry_run:
            dry_run(session, self.settings, self.target, list(items), history, self._local_artifacts(), groups_of(self.config, items))
            return True
        if not items:
            return True
        check_image(self.config, self.settings, self.target.distributions)  # after collection: conftests deeper down may register plugins too
        bundle_ref, bundled = upload_bundle(session, self.settings, self.target.location, self._s3_client(), self._local_artifacts())
        self.returned = ReturnedFiles(
            self._s3_client(), self.target.location, self.run.run_id, self.config.rootpath, self.config.getini("lambda_return_files") or (), bundled.files
        )
        self._workdir = working_folder(self.config)
        self.hints.insert(0, MissingFiles(self.config.rootpath, self._workdir, bundled.files, in_git=bundled.source == "git"))
        self._dispatch(session, items, history, bundle_ref)
        return True

    def _local_artifacts(self) -> list[str]:
        """The local artifacts folders: the run's outputs, never part of the bundle.

        With an S3 destination for this run, still the folder local runs write to (the ini's, else
        the default): an earlier local run's screenshots are no test source."""
        return [self.run.settings.artifacts, ini_value(self.config, GENERAL_BY_SHORT["--artifacts"]) or DEFAULT_ARTIFACTS]

    def _history(self) -> dict[str, float]:
        """The plugin's own history file (it works with -p no:cacheprovider), over what pytest's cache kept."""
        cache = getattr(self.config, "cache", None)
        cached = dict(cache.get(DURATIONS_KEY, {})) if cache is not None else {}
        return {**cached, **read_history(history_path(self.config))}

    def _save_history(self, history: dict[str, float]) -> None:
        if not self._durations:
            return
        merged = {**history, **self._durations}
        if problem := write_history(history_path(self.config), merged):
            write_line(self.config, f"lambda: {problem}", yellow=True)
        cache = getattr(self.config, "cache", None)
        if cache is not None:
            cache.set(DURATIONS_KEY, merged)

    def _event(self, task: Task, bundle_ref: dict[str, str]) -> RunEvent:
        assert self.target is not None
        return {
            "version": CONTRACT_VERSION,
            "kind": "run",
            "run_id": self.run.run_id,
            "nodeids": [task.nodeid],
            "bundle": bundle_ref,  # type: ignore[typeddict-item]
            "pytest_args": self.target.pytest_args,
            "artifacts": {"bucket": self.target.location.bucket, "prefix": self.target.location.prefix},
            "attempt": task.attempt,
            "session": self.settings.session,  # type: ignore[typeddict-item]
            "allure": self.allure is not None,
            "log_file": self.log_file.wanted,
            "workers": self.target.concurrency,
            "workdir": self._workdir,
            "env": self.settings.env,
        }

    # -- the loop -------------------------------------------------------------------
    def _dispatch(self, session: pytest.Session, items: dict[str, pytest.Item], history: dict[str, float], bundle_ref: dict[str, str]) -> None:
        target = self.target
        assert target is not None
        groups = groups_of(self.config, items)
        if line := groups_summary(groups):
            write_line(self.config, line)
        scheduler = self.scheduler = Scheduler(
            items, history, target.concurrency, self.settings.retries, self.settings.reruns, self.settings.throttle_budget_s, now=time.monotonic(),
            breaker=self.settings.breaker, groups=groups,
        )
        invoker = self._invoker
        settler = self.settler = Settler(
            scheduler, memory_mb=target.memory_mb, throttle_budget_s=self.settings.throttle_budget_s, endpoint=invoker.endpoint,
            fallback_enabled=self.fallback.enabled, maxfail=session.config.option.maxfail,
        )

        async def invoke(task: Task) -> InvokeOutcome:
            outcome = await invoker.invoke(self._event(task, bundle_ref))
            if outcome.kind is OutcomeKind.OK and isinstance(outcome.payload, dict) and outcome.payload.get("spilled"):
                try:
                    outcome.payload = await asyncio.get_running_loop().run_in_executor(None, self._fetch_spilled, outcome.payload)
                except Exception as exc:  # any failure to fetch is an infrastructure fault
                    return InvokeOutcome(
                        OutcomeKind.INFRA, request_id=outcome.request_id, report_line=outcome.report_line,
                        cause=f"the answer spilled to S3 could not be fetched: {type(exc).__name__}: {exc}",
                    )
            return outcome

        if folder := allure_dir(self.config):
            self.allure = AllureDownloads(self._s3_client(), target.location, self.run.run_id, folder)
        invokers: Invokers[Verdict] = Invokers(scheduler, invoke, settler.settle, on_exit=invoker.aclose)
        self.groups = FileGroups(items, verbose=self.config.get_verbosity() > 0)
        self.status = StatusLine(self.config, self.status.interval_s)
        self._expected = {nodeid: history.get(nodeid) for nodeid in items}
        self.totals.started = time.monotonic()
        self.status.start(self.totals.started)
        # What start-up and collection built (pytest, boto3, the items) lives until the process
        # ends: keep the cycle collector off it, so no full collection pauses the replay and
        # pytest's gc.collect() at exit scans only what the run made (0.5 s less per run at 24
        # tests, bench/fanout.py). Reference counting still frees those objects; never unfrozen,
        # since unfreezing before pytest's collection at exit gives half the saving back.
        gc.freeze()
        invokers.start()
        deadline = self.totals.started + self.settings.deadline_s if self.settings.deadline_s else None
        stopping = False
        #: The answer being reported: taken from the queue, so an interrupt now must still end its tests.
        in_hand: tuple[Task, Verdict] | None = None
        with signals.noting_interrupts() as interrupts:
            try:
                while True:
                    if interrupts.arrived():  # its KeyboardInterrupt was lost in a finalizer
                        raise KeyboardInterrupt
                    now = time.monotonic()
                    if deadline is not None and now > deadline:
                        limit = f"run aborted: the --lambda-deadline of {self.settings.deadline_s:.0f} s was reached"
                        self._abort(invokers, items, f"{limit} before this test was dispatched", f"{limit} while this test ran", Cause.DEADLINE)
                        break
                    # The loop times its own backoffs; this wait only paces the status line and the deadline.
                    wait = 1.0 if deadline is None else max(0.01, min(1.0, deadline - now))
                    invokers.wait_for_quiet()  # before taking an answer: an interrupt here loses none
                    try:
                        in_hand = entry = invokers.settled.get(timeout=wait)
                    except Empty:
                        self._status(invokers, items)
                        continue
                    if entry is None:
                        if invokers.finished():
                            break
                        continue
                    with interrupts.held_back():
                        self.status.hide()
                        self._report(items, *entry)
                        in_hand = None
                    self._status(invokers, items)
                    if (session.shouldfail or session.shouldstop) and not stopping:
                        stopping = True
                        invokers.stop()  # as pytest -x: tests not yet started are not run
            except KeyboardInterrupt:
                self._abort(invokers, items, INTERRUPTED, INTERRUPTED, Cause.INTERRUPTED, in_hand)
                raise
            finally:
                invokers.close()
                if self.allure is not None:
                    self.allure.finish()
                if self.returned is not None:
                    self.returned.finish()
                self.status.close()
                self.groups.flush()
                self.totals.finished = time.monotonic()
                self._save_history(history)
                self.run.suite_properties.update(self._suite_facts())
        try:
            self.fallback.run(session, deadline, self.settings.deadline_s)  # after the loop, as in a plain local run
        finally:
            self.run.suite_properties[jc.FALLBACK_LOCAL] = sum(self.fallback.ran.values())
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)

    def _abort(
        self,
        invokers: Invokers[Verdict],
        items: dict[str, pytest.Item],
        waiting_message: str,
        running_message: str,
        cause: Cause,
        in_hand: tuple[Task, Verdict] | None = None,
    ) -> None:
        """Stop at once: report what was already answered, and every other test as interrupted,
        those of an answer the interrupt cut short while it was being reported included."""
        self.status.hide()
        waiting, running = invokers.abort()
        cut_short = self._unreported(in_hand, waiting + running)
        for task, verdict in invokers.drain_settled():
            self._report(items, task, verdict)
        self._end_as_errors(items, waiting, waiting_message, RecordedOutcome.INTERRUPTED, cause)
        self._end_as_errors(items, running + cut_short, running_message, RecordedOutcome.INTERRUPTED, cause)
        if self.groups is not None:
            self.groups.flush()
        self.fallback.report_as_errors()  # the run stops: held tests keep their Lambda errors

    def _status(self, invokers: Invokers[Verdict], items: dict[str, pytest.Item]) -> None:
        """The status line: on a terminal at every call, else at its interval (:class:`StatusLine`)."""
        now = time.monotonic()
        if not self.status.enabled or self.groups is None:
            return
        answered = self.groups.tally
        progress = invokers.progress()
        running = {nodeid: now - dispatched_at for nodeid, dispatched_at in progress.dispatched_at.items()}
        left = {nodeid: running.get(nodeid, 0.0) for nodeid in items if nodeid not in self._answered}
        eta = eta_s(self._expected, self._durations, left, progress.window)
        queue = {"in flight": len(running), "queued": progress.queued, "throttled": progress.throttled, "retried": progress.retried}
        self.status.update(status_text(now - self.totals.started, answered, queue, eta), now)

    # -- reporting a verdict (main thread) ------------------------------------------
    def _report(self, items: dict[str, pytest.Item], task: Task, verdict: Verdict) -> None:
        if verdict.action is Action.NONE:
            return
        if verdict.action is Action.GIVE_UP:
            self._end_as_errors(items, verdict.tasks, verdict.message, RecordedOutcome.INFRA, verdict.cause, verdict.may_fall_back)
            return
        if verdict.action is Action.ERROR:
            self._end_as_errors(items, [task], verdict.message, RecordedOutcome.INFRA, verdict.cause, verdict.may_fall_back)
            return
        item = items[task.nodeid]
        payload = verdict.payload or {}
        if self.allure is not None:
            self.allure.fetch(payload.get("allure_files"))  # an attempt that goes again keeps its result: Allure shows retries
        if self.returned is not None:
            self.returned.fetch(payload.get("written_files"))  # as locally, a later attempt's file replaces an earlier one's
        self.log_file.write(payload.get("log_text"))  # every attempt's, as a local run with reruns logs them
        outcome = verdict.outcome or InvokeOutcome(OutcomeKind.OK)
        reports = rebuild(self.config, item, payload.get("reports") or [])
        props: Properties = []
        answered_with_reports = bool(reports)
        if not reports:
            skipped = skipped_with_its_module(self.config, item, payload)
            if skipped is not None:
                reports = skipped
            else:
                reports = error_reports(item, f"the in-Lambda pytest did not run this test: {not_run_detail(self.config, payload)}")
                props += outcome_properties(RecordedOutcome.INFRA, Cause.NOT_RUN)
        if verdict.action is Action.RERUN:
            # The attempt's files stay linked under its number (issue 17): its sink wrote them under attempt-N/.
            links = [{"name": name, "location": location} for name, location in artifact_links(reports[-1].user_properties)]
            task.earlier_attempts.append([{"summary": short_failure(reports), "attempt": str(payload.get("attempt") or task.attempt)}, *links])
            return
        assert self.target is not None
        for hints in self.hints:
            hints.explain(reports)
        is_failed = failed(reports)
        props = [(jc.NODEID, item.nodeid), *props, *attempt_properties(task, answered=True)]
        props += answer_properties(payload.get("facts") or {}, outcome.report_line)
        props.append((jc.RUN_OFFSET_S, round(task.dispatched_at - self.totals.started, 3)))
        props.append((jc.WALL_S, round(verdict.answered_at - task.dispatched_at, 3)))
        gb_s = billed_gb_s(outcome.report_line, self.target.memory_mb)
        if gb_s:
            props.append((jc.COST_USD, round(invocation_cost(gb_s, self.settings.price_per_gb_s), 8)))
        props += rerun_properties([attempt[0]["summary"] for attempt in task.earlier_attempts], passed=not is_failed)
        for attempt in task.earlier_attempts:
            props += attempt_artifact_properties(int(attempt[0].get("attempt", "1")), [(a["name"], a["location"]) for a in attempt[1:]])
        if memory_at_limit(outcome.report_line):
            self.totals.memory_at_limit.append(task.nodeid)
        if task.earlier_attempts and not is_failed:
            self.totals.flaky.append(task.nodeid)
        reports[-1].user_properties = list(reports[-1].user_properties) + props
        record_warnings(self.config, item, payload, handler_notes=answered_with_reports)
        self._replay(item, reports)
        self._durations[task.nodeid] = round(sum(r.duration for r in reports), 3)

    def _unreported(self, entry: tuple[Task, Verdict] | None, still_scheduled: list[Task]) -> list[Task]:
        """The tests of an answer whose reporting was cut short that have no outcome yet: out of
        the scheduler (settled), not replayed, not held for local Chrome."""
        if entry is None:
            return []
        task, verdict = entry
        if verdict.action not in (Action.REPORT, Action.ERROR, Action.GIVE_UP):
            return []  # throttled, retried or rerun: still scheduled; or dropped while stopping (-x)
        scheduled = {t.nodeid for t in still_scheduled}
        held = {h.item.nodeid for h in self.fallback.held}
        tasks = verdict.tasks if verdict.action is Action.GIVE_UP else [task]
        return [t for t in tasks if t.nodeid not in self._answered and t.nodeid not in scheduled and t.nodeid not in held]

    def _end_as_errors(
        self, items: dict[str, pytest.Item], tasks: list[Task], message: str, outcome: RecordedOutcome, cause: Cause | None, may_fall_back: bool = False
    ) -> None:
        """Tests the runner could not run end as errors with ``message``, or wait for local Chrome."""
        for task in tasks:
            item = items[task.nodeid]
            props = attempt_properties(task)
            if may_fall_back and cause is not None and self.fallback.hold(item, message, cause, props):
                continue
            self.totals.gave_up.append(task.nodeid)
            self._replay(item, error_reports(item, message, [(jc.NODEID, item.nodeid), *props, *outcome_properties(outcome, cause)]))

    def _replay(self, item: pytest.Item, reports: list[pytest.TestReport]) -> None:
        """Into pytest's hooks, grouped per file for the terminal; a failure under -x/--maxfail goes out at once.

        A test counts as answered once its reports are in (or queued for) pytest's hooks, so an
        interrupt before that leaves it to :meth:`_abort`."""
        if self.groups is None:
            replay(item, reports)
            self._answered.add(item.nodeid)
            return
        self.groups.add(item, reports)
        self._answered.add(item.nodeid)
        if self.config.option.maxfail and failed(reports):
            self.groups.flush()  # pytest's own -x bookkeeping must see it now

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Every test of the run gets its ``lambda_outcome``: the runner's own errors already carry
        it; a replayed or local-fallback test gets it from its reports, before junitxml reads them."""
        phases = self._phases.setdefault(report.nodeid, [])
        phases.append(report)
        if report.when != "teardown":
            return
        del self._phases[report.nodeid]
        if not has_outcome(report.user_properties):
            report.user_properties = [*report.user_properties, *outcome_properties(recorded_outcome(phases))]

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self._phases.pop(nodeid, None)  # a test reported again (stopped mid-test) starts afresh

    def _suite_facts(self) -> dict[str, object]:
        s, tally = self.scheduler, self.settler.tally if self.settler else None
        invocations = tally.invocations if tally else 0
        gb_s = tally.billed_gb_s if tally else 0.0
        return {
            jc.RUN_MODE: "lambda",
            jc.RUN_WALL_S: round(self.totals.finished - self.totals.started, 3),
            jc.FUNCTION: self.settings.function,
            jc.CONCURRENCY: self.target.concurrency if self.target else 0,
            jc.PEAK_CONCURRENCY: s.peak_in_flight if s else 0,
            **({jc.MIN_WINDOW: int(s.min_window_seen)} if s and s.throttled and s.min_window_seen < s.max_in_flight else {}),
            jc.MEMORY_AT_LIMIT_TESTS: len(self.totals.memory_at_limit),
            jc.RUN_THROTTLES: s.throttled if s else 0,
            jc.INFRA_RETRIES: s.retried if s else 0,
            jc.RERUNS: s.rerun_count if s else 0,
            jc.INVOCATIONS: invocations,
            jc.BILLED_GB_S: round(gb_s, 3),
            jc.RUN_COST_USD: round(run_cost(gb_s, invocations, self.settings.price_per_gb_s), 6),
            jc.PRICE_PER_GB_S: self.settings.price_per_gb_s,
        }

    def _s3_client(self) -> Any:
        """The artifact sink's S3 client when it has one (already configured), else a new one."""
        return self.run.sink.client if hasattr(self.run.sink, "client") else s3.make_client()

    def _fetch_spilled(self, payload: dict[str, Any]) -> dict[str, Any]:
        ref = payload["spilled"]
        client = self._s3_client()
        body = client.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
        answer: dict[str, Any] = json.loads(body)
        return answer

    # -- summary --------------------------------------------------------------------
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.scheduler is None or self.settler is None or self.target is None:
            return
        s, tally = self.scheduler, self.settler.tally
        wall = self.totals.finished - self.totals.started
        cost = run_cost(tally.billed_gb_s, tally.invocations, self.settings.price_per_gb_s)
        terminalreporter.write_sep("-", "lambda-ui run")
        facts = run_facts_line(
            tally.invocations, self.settings.function, wall, self.target.concurrency, s.peak_in_flight, s.throttled, s.min_window_seen, s.retried, s.rerun_count
        )
        terminalreporter.line(f"run {self.run.run_id}: {facts}")
        terminalreporter.line(f"billed {tally.billed_gb_s:.1f} GB-s, about ${cost:.4f}")
        if line := memory_line(self.totals.memory_at_limit, self.target.memory_mb):
            terminalreporter.line(line, red=True)
        if self.totals.flaky:
            terminalreporter.line("flaky (failed, then passed on a rerun): " + ", ".join(self.totals.flaky), yellow=True)
        if s.tripped:
            terminalreporter.line(f"Lambda unreachable: {s.unreachable_in_row} invocations in a row could not connect to {self._invoker.endpoint}; dispatching stopped (--lambda-breaker)", red=True)
        if line := self.fallback.summary():
            terminalreporter.line(line, yellow=True)
        for line in (line for hints in self.hints for line in hints.summary()):
            terminalreporter.line(line, yellow=True)
        if self.returned is not None:
            back, warnings = self.returned.summary()
            for line in back:
                terminalreporter.line(line)
            for line in warnings:
                terminalreporter.line(line, yellow=True)
        if self.allure is not None:
            first, *problems = self.allure.summary()
            terminalreporter.line(first)
            for line in problems:
                terminalreporter.line(line, yellow=True)
