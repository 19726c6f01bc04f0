"""``pytest --lambda``: the controller that owns the test loop.

Collection stays local (so ``-k``, ``-m``, ``--lf`` and node ids select as
usual). Then the suite is bundled and uploaded once, each test is invoked in
its own Lambda call from an asyncio loop (:mod:`runner.dispatch`), and every
answer is replayed on the main thread into pytest's hooks (see :mod:`runner.replay`).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from queue import Empty
from typing import Any

import pytest

from runner import bundle as bundling
from runner import image_check
from runner.aws import s3
from runner.aws.lambda_async import AsyncInvoker
from runner.aws.lambda_client import InvokeOutcome, LambdaFunction, LambdaProblem, default_region, make_client
from runner.contract import CONTRACT_VERSION, RunEvent
from runner.dispatch import Invokers
from runner.fallback import Fallback, FallbackCause
from runner.forwarding import ForwardingProblem, forwarded_args
from runner.options import LambdaSettings
from runner.replay import error_reports, failed, rebuild, replay, short_failure
from runner.run import UiRun
from runner.scheduler import Scheduler, Task, dispatch_order, lpt_makespan

DURATIONS_KEY = "lambda_ui/durations"
#: Lambda's public price per request (on top of GB-seconds).
PRICE_PER_REQUEST = 0.0000002


@dataclass
class Settled:
    """What the invocation loop decided about one answer, for the main thread to report.

    ``none``: nothing to report (throttled, retried, or dropped when stopping);
    ``rerun``: a failed attempt that goes again; ``error``: the test ends as an error
    with ``message``; ``give_up``: ``tasks`` end as errors with ``message``;
    ``report``: the test's own reports in ``payload``. ``fallback``: why Lambda could
    not run the test(s), when ``--lambda-fallback`` may run them locally instead.
    """

    action: str
    answered_at: float
    payload: dict[str, Any] | None = None
    outcome: InvokeOutcome | None = None
    message: str = ""
    tasks: list[Task] = field(default_factory=list)
    failed: bool = True
    fallback: FallbackCause | None = None


@dataclass
class RunTotals:
    started: float = 0.0
    finished: float = 0.0
    invocations: int = 0
    billed_gb_s: float = 0.0
    flaky: list[str] = field(default_factory=list)
    gave_up: list[str] = field(default_factory=list)


class LambdaSession:
    """State of one ``--lambda`` run on the controller."""

    def __init__(self, config: pytest.Config, settings: LambdaSettings, run: UiRun) -> None:
        self.config = config
        self.settings = settings
        self.run = run
        self.totals = RunTotals()
        self.function_name = ""
        self.memory_mb = 0
        self.image_distributions: dict[str, str] = {}
        self.concurrency = 0
        self.scheduler: Scheduler | None = None
        self.fallback = Fallback(settings.fallback == "local")
        self._durations: dict[str, float] = {}
        self._last_status = 0.0
        self._pytest_args: list[str] = []
        self._maxfail = 0
        self._failures = 0

    # -- start-up checks ----------------------------------------------------------
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        try:
            # The local command line, as the function's pytest should see it; checked first (no AWS call).
            self._pytest_args = forwarded_args(self.config) + self.settings.pytest_args
        except ForwardingProblem as exc:
            raise pytest.UsageError(str(exc)) from None
        destination = self.run.settings.artifacts
        if not destination.startswith("s3://"):
            raise pytest.UsageError(
                f"--lambda needs an S3 artifacts destination, got {destination!r}: give --artifacts s3://BUCKET/runs "
                "(the stack's ArtifactsBucket output; the function may write only under runs/)."
            )
        self.location = s3.S3Location.parse(destination)
        # The probe's info call may meet a cold start (image pull, init): give it time.
        probe = LambdaFunction(self.settings.function, make_client(read_timeout_s=180, max_connections=2))
        try:
            info = probe.describe()
        except LambdaProblem as exc:
            raise pytest.UsageError(str(exc)) from None
        self.memory_mb = info.memory_mb
        self.image_distributions = info.distributions
        self.concurrency = self.settings.concurrency or info.reserved_concurrency or 50
        # The read timeout must outlast the function's own timeout: a read timeout
        # would otherwise look like a fault while the test still runs.
        self.read_timeout_s = self.settings.read_timeout_s or info.timeout_s + 60
        self.function_name = info.name
        self._invoker = self._async_invoker()  # a proxy it cannot use stops the run here, not after the upload

    # -- the loop ---------------------------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            raise session.Interrupted(f"{session.testsfailed} error{'s' if session.testsfailed != 1 else ''} during collection")
        if session.config.option.collectonly:
            return True
        items = {item.nodeid: item for item in session.items}
        history = self._history()
        if self.settings.dry_run:
            self._print_plan(list(items), history)
            self._print_bundle(session)
            for problem in self._image_problems():
                self._write(f"lambda dry run: the image would stop this run: {problem}", yellow=True)
            return True
        if not items:
            return True
        self._check_image()  # after collection: conftests deeper down may register plugins too
        bundle_ref = self._upload_bundle(session)
        self._dispatch(session, items, history, bundle_ref)
        return True

    def _history(self) -> dict[str, float]:
        cache = getattr(self.config, "cache", None)
        return dict(cache.get(DURATIONS_KEY, {})) if cache is not None else {}

    def _save_history(self, history: dict[str, float]) -> None:
        cache = getattr(self.config, "cache", None)
        if cache is not None and self._durations:
            cache.set(DURATIONS_KEY, {**history, **self._durations})

    def _write(self, line: str, **markup: bool) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(line, **markup)

    def _select_bundle(self, session: pytest.Session) -> bundling.Selection:
        """The bundle's files under runner/bundle.py's rules; the local artifacts folders are the run's outputs."""
        local_artifacts = [self.run.settings.artifacts, str(self.config.getini("artifacts") or "")]
        return bundling.select(self.config.rootpath, bundling.rules_for(session, local_artifacts))

    def _print_bundle(self, session: pytest.Session) -> None:
        selection = self._select_bundle(session)
        self._write(f"lambda dry run: the bundle, largest files first ({'git-tracked files' if selection.source == 'git' else 'the files collection used'}):")
        for line in selection.listing():
            self._write(f"  {line}")
        for line in selection.warnings():
            self._write(f"lambda: bundle: {line}", yellow=True)
        try:
            bundling.check_size(self.config.rootpath, selection.files, self.settings.max_bundle_bytes)
        except bundling.BundleProblem as exc:
            self._write(f"lambda dry run: the bundle would stop this run: {exc}", yellow=True)

    def _upload_bundle(self, session: pytest.Session) -> dict[str, str]:
        root = self.config.rootpath
        selection = self._select_bundle(session)
        for line in selection.warnings():  # once, before anything is uploaded
            self._write(f"lambda: bundle: {line}", yellow=True)
        try:
            files = selection.files
            size = bundling.check_size(root, files, self.settings.max_bundle_bytes)
            built = bundling.build_bundle(root, files)
        except bundling.BundleProblem as exc:
            raise pytest.UsageError(str(exc)) from None
        client = self._s3_client()
        key = built.key
        try:
            client.head_object(Bucket=self.location.bucket, Key=key)
            uploaded = False
        except Exception:
            s3.put_bytes(client, self.location, key, built.data, "application/zip")
            uploaded = True
        self._write(
            f"lambda: bundle {built.sha256[:12]} ({built.files} files, {size / 1e6:.1f} MB) "
            f"{'uploaded to' if uploaded else 'already in'} s3://{self.location.bucket}/{key}"
        )
        return {"bucket": self.location.bucket, "key": key, "sha256": built.sha256}

    def _image_problems(self) -> list[str]:
        """What the function's image lacks or has in another version (runner/image_check.py)."""
        if not self.image_distributions:
            self._write("lambda: WARNING: the function's info answer listed no Python packages; versions not compared", yellow=True)
            return []
        try:
            needed = image_check.used_here(self.config, self.settings.requirements)
        except image_check.RequirementsProblem as exc:
            raise pytest.UsageError(str(exc)) from None
        return image_check.problems(needed, self.image_distributions)

    def _check_image(self) -> None:
        """Stop before any test runs when the image cannot run this suite as it runs here."""
        found = self._image_problems()
        if not found:
            return
        text = (
            f"lambda: the function's image does not match what this suite uses here: {'; '.join(found)}. "
            "A plugin missing in the image errors every test. Add what is missing to the suite's requirements file "
            "(the image's TEST_REQUIREMENTS build argument; --lambda-requirements names it here), rebuild and deploy the image "
            "(docs/deploy.md)"
        )
        if self.settings.image_drift == "warn":
            self._write(f"{text}. Running anyway (--lambda-image-drift=warn).", yellow=True)
            return
        raise pytest.UsageError(f"{text}; or pass --lambda-image-drift=warn to run anyway.")

    def _print_plan(self, nodeids: list[str], history: dict[str, float]) -> None:
        known = [history[n] for n in nodeids if n in history]
        guess = sum(known) / len(known) if known else 10.0
        durations = [history.get(n, guess) for n in nodeids]
        wall = lpt_makespan(durations, self.concurrency) if durations else 0.0
        gb_s = sum(durations) * self.memory_mb / 1024
        cost = gb_s * self.settings.price_per_gb_s + len(nodeids) * PRICE_PER_REQUEST
        self._write(
            f"lambda dry run: {len(nodeids)} tests ({len(known)} with history, others assumed {guess:.1f} s), "
            f"concurrency {self.concurrency}, function {self.settings.function} ({self.memory_mb} MB)"
        )
        self._write(f"lambda dry run: expected wall time {wall:.1f} s (longest test {max(durations, default=0):.1f} s), about {gb_s:.0f} GB-s, ${cost:.4f}")
        for nodeid, expected in dispatch_order(nodeids, history)[:10]:
            self._write(f"  {nodeid}  {'unknown' if expected is None else f'{expected:.1f} s'}")

    def _event(self, task: Task, bundle_ref: dict[str, str]) -> RunEvent:
        return {
            "version": CONTRACT_VERSION,
            "kind": "run",
            "run_id": self.run.run_id,
            "nodeids": [task.nodeid],
            "bundle": bundle_ref,  # type: ignore[typeddict-item]
            "pytest_args": self._pytest_args,
            "artifacts": {"bucket": self.location.bucket, "prefix": self.location.prefix},
            "attempt": task.attempt,
        }

    def _async_invoker(self) -> AsyncInvoker:
        try:
            return AsyncInvoker(default_region(), self.function_name, self.read_timeout_s)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None

    def _dispatch(self, session: pytest.Session, items: dict[str, pytest.Item], history: dict[str, float], bundle_ref: dict[str, str]) -> None:
        scheduler = self.scheduler = Scheduler(
            items, history, self.concurrency, self.settings.retries, self.settings.reruns, self.settings.throttle_budget_s, now=time.monotonic(),
            breaker=self.settings.breaker,
        )

        invoker = self._invoker

        async def invoke(task: Task) -> InvokeOutcome:
            outcome = await invoker.invoke(self._event(task, bundle_ref))
            if outcome.kind == "ok" and isinstance(outcome.payload, dict) and outcome.payload.get("spilled"):
                try:
                    outcome.payload = await asyncio.get_running_loop().run_in_executor(None, self._fetch_spilled, outcome.payload)
                except Exception as exc:  # noqa: BLE001 - any failure to fetch is an infrastructure fault
                    return InvokeOutcome("infra", request_id=outcome.request_id, cause=f"the answer spilled to S3 could not be fetched: {type(exc).__name__}: {exc}", report_line=outcome.report_line)
            return outcome

        invokers: Invokers[Settled] = Invokers(scheduler, invoke, self._settle, on_exit=invoker.aclose)
        self._maxfail = session.config.option.maxfail
        self.totals.started = time.monotonic()
        invokers.start()
        deadline = self.totals.started + self.settings.deadline_s if self.settings.deadline_s else None
        stopping = False
        try:
            while True:
                now = time.monotonic()
                if deadline is not None and now > deadline:
                    self._abort(invokers, items, f"run aborted: the --lambda-deadline of {self.settings.deadline_s:.0f} s was reached before this test was dispatched",
                                f"run aborted: the --lambda-deadline of {self.settings.deadline_s:.0f} s was reached while this test ran")
                    break
                # The loop times its own backoffs; this wait only paces the status line and the deadline.
                wait = 1.0 if deadline is None else max(0.01, min(1.0, deadline - now))
                invokers.wait_for_quiet()  # before taking an answer: an interrupt here loses none
                try:
                    entry = invokers.settled.get(timeout=wait)
                except Empty:
                    self._status(scheduler)
                    continue
                if entry is None:
                    if invokers.finished():
                        break
                    continue
                self._report(items, *entry)
                if (session.shouldfail or session.shouldstop) and not stopping:
                    stopping = True
                    invokers.stop()  # as pytest -x: tests not yet started are not run
        except KeyboardInterrupt:
            message = "run aborted (interrupted) before this test finished"
            self._abort(invokers, items, message, message)
            raise
        finally:
            invokers.close()
            self.totals.finished = time.monotonic()
            self._save_history(history)
            self.run.suite_properties.update(self._suite_facts())
        try:
            self.fallback.run(session, deadline, self.settings.deadline_s)  # after the loop, as in a plain local run
        finally:
            self.run.suite_properties["lambda_fallback_local"] = sum(self.fallback.ran.values())
        if session.shouldfail:
            raise session.Failed(session.shouldfail)
        if session.shouldstop:
            raise session.Interrupted(session.shouldstop)

    def _abort(self, invokers: Invokers[Settled], items: dict[str, pytest.Item], waiting_message: str, running_message: str) -> None:
        """Stop at once: report what was already answered, and every other test as an error."""
        waiting, running = invokers.abort()
        for task, settled in invokers.drain_settled():
            self._report(items, task, settled)
        self._give_up(items, waiting, waiting_message)
        self._give_up(items, running, running_message)
        self.fallback.report_as_errors()  # the run stops: held tests keep their Lambda errors

    def _status(self, scheduler: Scheduler) -> None:
        now = time.monotonic()
        if now - self._last_status < 10:
            return
        self._last_status = now
        self._write(
            f"lambda: {len(scheduler.in_flight)} in flight, {scheduler.queued} queued, "
            f"{scheduler.throttled} throttled, {scheduler.retried} retried, window {int(scheduler.window)}"
        )

    def _give_up(self, items: dict[str, pytest.Item], tasks: list[Task], message: str, fallback: FallbackCause | None = None) -> None:
        for task in tasks:
            if self.fallback.hold(items[task.nodeid], message, fallback, self._attempt_properties(task)):
                continue
            self.totals.gave_up.append(task.nodeid)
            replay(items[task.nodeid], error_reports(items[task.nodeid], message, self._attempt_properties(task)))

    def _attempt_properties(self, task: Task, answered: bool = False) -> list[tuple[str, object]]:
        invocations = len(task.infra_failures) + task.reruns + (1 if answered else 0)
        props: list[tuple[str, object]] = [("lambda_attempts", invocations)]
        if task.request_ids:
            props.append(("lambda_request_ids", ",".join(task.request_ids)))
        for number, cause in enumerate(task.infra_failures, 1):
            props.append((f"lambda_infra_failure_{number}", cause))
        if task.throttles:
            props.append(("lambda_throttles", task.throttles))
        return props

    # -- settling an answer (the invocation loop, under the scheduler's lock) ---------------------
    def _settle(self, task: Task, outcome: InvokeOutcome, now: float, repeat: bool) -> Settled:
        try:
            settled = self._decide(task, outcome, now, repeat)
        except Exception as exc:  # noqa: BLE001 - never lose a test to a bug here
            self.scheduler.in_flight.pop(task.nodeid, None)  # type: ignore[union-attr]
            settled = Settled("error", now, message=f"client error while handling the answer: {type(exc).__name__}: {exc}")
        if settled.action in ("error", "report") and settled.failed:
            self._failures += 1
            if self._maxfail and self._failures >= self._maxfail:
                self.scheduler.drain_queue()  # type: ignore[union-attr]  # -x: stop dispatching before the main thread catches up
        return settled

    def _decide(self, task: Task, outcome: InvokeOutcome, now: float, repeat: bool) -> Settled:
        scheduler = self.scheduler
        assert scheduler is not None
        if scheduler.tripped:  # the breaker took every test: later answers do not count
            return Settled("none", now)
        if not outcome.unreachable:
            scheduler.on_reachable()
        if outcome.kind == "throttled":
            if not repeat:
                scheduler.in_flight.pop(task.nodeid, None)  # stopping: a test that never started is not run
                return Settled("none", now)
            if not scheduler.on_throttle(task, now, outcome.retry_after_s):
                gave_up = [task] + scheduler.drain_queue()
                for t in gave_up:
                    scheduler.in_flight.pop(t.nodeid, None)
                return Settled(
                    "give_up", now, tasks=gave_up, failed=True, fallback=FallbackCause.THROTTLED,
                    message=f"throttled: Lambda refused invocations ({outcome.reason or 'TooManyRequestsException'}) for over "
                    f"{self.settings.throttle_budget_s:.0f} s without progress; raise the function's concurrency or lower --lambda-concurrency",
                )
            return Settled("none", now)
        self.totals.invocations += 1
        if outcome.report_line.get("billed_ms"):
            self.totals.billed_gb_s += outcome.report_line["billed_ms"] / 1000 * outcome.report_line.get("memory_mb", self.memory_mb) / 1024
        payload = outcome.payload
        if outcome.kind == "ok" and isinstance(payload, dict) and payload.get("kind") == "error":
            message = f"{payload.get('error_type')}: {payload.get('message')}"
            if payload.get("retryable"):
                outcome = InvokeOutcome("infra", request_id=outcome.request_id, cause=message, report_line=outcome.report_line)
            else:
                scheduler.on_infra_fault(task, message, outcome.request_id, now, fatal=True)
                return Settled("error", now, message=f"the Lambda handler refused this test: {message}")
        if outcome.kind == "infra":
            if outcome.unreachable and (taken := scheduler.on_unreachable(task, outcome.cause)) is not None:
                return Settled(
                    "give_up", now, tasks=taken, fallback=FallbackCause.UNREACHABLE,
                    message=f"Lambda unreachable: {scheduler.first_unreachable}; {scheduler.unreachable_in_row} invocations in a row could not connect to {self._invoker.endpoint}",
                )
            if scheduler.on_infra_fault(task, outcome.cause, outcome.request_id, now, fatal=outcome.reason == "fatal" or not repeat):
                return Settled("none", now)
            causes = "; ".join(f"attempt {i}: {c}" for i, c in enumerate(task.infra_failures, 1))
            ids = ", ".join(task.request_ids) or "none"
            # Retries spent (not a fault that must not be repeated, nor a stopping run): Lambda could not run it.
            spent = outcome.reason != "fatal" and repeat
            fallback = (FallbackCause.UNREACHABLE if outcome.unreachable else FallbackCause.RETRIES_SPENT) if spent else None
            return Settled(
                "error", now, fallback=fallback, failed=not (fallback and self.fallback.enabled),  # held for local Chrome: not a failure yet
                message=f"infrastructure failure after {len(task.infra_failures)} attempt(s) ({causes}); request ids: {ids}",
            )
        if not isinstance(payload, dict) or payload.get("kind") != "run":
            scheduler.on_infra_fault(task, "malformed response", outcome.request_id, now, fatal=True)
            return Settled("error", now, message=f"the Lambda answered something that is not a test result: {str(payload)[:300]}")
        wire = payload.get("reports") or []
        # The same test as pytest's report.failed, read from the wire: no pytest hooks off the main thread.
        is_failed = not wire or any(isinstance(r, dict) and r.get("outcome") == "failed" for r in wire)
        if scheduler.on_result(task, is_failed, outcome.request_id, now, repeat=repeat):
            return Settled("rerun", now, payload=payload, outcome=outcome)
        return Settled("report", now, payload=payload, outcome=outcome, failed=is_failed)

    # -- reporting a settled answer (main thread) ---------------------------------
    def _report(self, items: dict[str, pytest.Item], task: Task, settled: Settled) -> None:
        item = items[task.nodeid]
        if settled.action == "none":
            return
        if settled.action == "give_up":
            self._give_up(items, settled.tasks, settled.message, settled.fallback)
            return
        if settled.action == "error":
            if not self.fallback.hold(item, settled.message, settled.fallback, self._attempt_properties(task)):
                replay(item, error_reports(item, settled.message, self._attempt_properties(task)))
            return
        payload = settled.payload or {}
        outcome = settled.outcome or InvokeOutcome("ok")
        reports = rebuild(self.config, item, payload.get("reports") or [])
        if not reports:
            detail = " ".join(payload.get("warnings") or []) or "no reports"
            for collect in payload.get("collect_reports") or []:
                detail += " " + str(collect.get("longrepr", ""))[:2000]
            reports = error_reports(item, f"the in-Lambda pytest did not run this test: {detail.strip()}")
        if settled.action == "rerun":
            task.earlier_attempts.append([{"summary": short_failure(reports)}])
            return
        is_failed = failed(reports)
        props = self._attempt_properties(task, answered=True)
        props += _facts_properties(payload.get("facts") or {}, outcome)
        props.append(("run_offset_s", round(task.dispatched_at - self.totals.started, 3)))
        props.append(("wall_s", round(settled.answered_at - task.dispatched_at, 3)))
        billed_ms = outcome.report_line.get("billed_ms")
        if billed_ms:
            gb_s = billed_ms / 1000 * outcome.report_line.get("memory_mb", self.memory_mb) / 1024
            props.append(("lambda_cost_usd", round(gb_s * self.settings.price_per_gb_s + PRICE_PER_REQUEST, 8)))
        for number, attempt in enumerate(task.earlier_attempts, 1):
            props.append((f"lambda_rerun_{number}", attempt[0]["summary"]))
        if task.earlier_attempts and not is_failed:
            props.append(("lambda_flaky", "true"))
            self.totals.flaky.append(task.nodeid)
        reports[-1].user_properties = list(reports[-1].user_properties) + props
        replay(item, reports)
        self._durations[task.nodeid] = round(sum(r.duration for r in reports), 3)

    def _run_cost(self) -> float:
        return self.totals.billed_gb_s * self.settings.price_per_gb_s + self.totals.invocations * PRICE_PER_REQUEST

    def _suite_facts(self) -> dict[str, object]:
        s = self.scheduler
        return {
            "run_mode": "lambda",
            "run_wall_s": round(self.totals.finished - self.totals.started, 3),
            "lambda_function": self.settings.function,
            "lambda_concurrency": self.concurrency,
            "lambda_throttles": s.throttled if s else 0,
            "lambda_infra_retries": s.retried if s else 0,
            "lambda_reruns": s.rerun_count if s else 0,
            "lambda_invocations": self.totals.invocations,
            "lambda_billed_gb_s": round(self.totals.billed_gb_s, 3),
            "lambda_cost_usd": round(self._run_cost(), 6),
            "lambda_price_per_gb_s": self.settings.price_per_gb_s,
        }

    def _s3_client(self) -> Any:
        """The artifact sink's S3 client when it has one (already configured), else a new one."""
        return self.run.sink.client if hasattr(self.run.sink, "client") else s3.make_client()

    def _fetch_spilled(self, payload: dict[str, Any]) -> dict[str, Any]:
        ref = payload["spilled"]
        client = self._s3_client()
        body = client.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"].read()
        return json.loads(body)

    # -- summary ----------------------------------------------------------------
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.scheduler is None:
            return
        s = self.scheduler
        wall = self.totals.finished - self.totals.started
        cost = self._run_cost()
        terminalreporter.write_sep("-", "lambda-ui run")
        terminalreporter.line(
            f"run {self.run.run_id}: {self.totals.invocations} invocation(s) of {self.settings.function} in {wall:.1f} s, "
            f"concurrency {self.concurrency} (window went down to {int(s.min_window_seen)}), "
            f"{s.throttled} throttled, {s.retried} infra retries, {s.rerun_count} reruns"
        )
        terminalreporter.line(f"billed {self.totals.billed_gb_s:.1f} GB-s, about ${cost:.4f}")
        if self.totals.flaky:
            terminalreporter.line("flaky (failed, then passed on a rerun): " + ", ".join(self.totals.flaky), yellow=True)
        if s.tripped:
            terminalreporter.line(f"Lambda unreachable: {s.unreachable_in_row} invocations in a row could not connect to {self._invoker.endpoint}; dispatching stopped (--lambda-breaker)", red=True)
        if line := self.fallback.summary():
            terminalreporter.line(line, yellow=True)


def _facts_properties(facts: dict[str, Any], outcome: InvokeOutcome) -> list[tuple[str, object]]:
    props: list[tuple[str, object]] = []
    for key in ("cold", "environment_id", "chrome_version"):
        if key in facts:
            props.append((f"lambda_{key}" if key != "chrome_version" else key, facts[key]))
    for key, name in (("billed_ms", "lambda_billed_ms"), ("init_ms", "lambda_init_ms"), ("max_memory_mb", "lambda_max_memory_mb"), ("memory_mb", "lambda_memory_mb")):
        if key in outcome.report_line:
            props.append((name, outcome.report_line[key]))
    return props
