"""What one Invoke answer means for its test: the settle step of the invocation loop.

Pure: :meth:`Settler.settle` updates the scheduler and returns a :class:`Verdict`;
no pytest, no threads, no I/O. The loop (:mod:`lambda_ui.runner.dispatch`) calls it under its
lock as each answer arrives; the main thread (:mod:`lambda_ui.runner.session`) turns each
verdict into pytest reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from lambda_ui.runner.aws.lambda_client import InvokeOutcome, OutcomeKind
from lambda_ui.runner.cost import billed_gb_s
from lambda_ui.runner.junit_contract import Cause
from lambda_ui.runner.scheduler import Scheduler, Task


class Action(Enum):
    """What the main thread does with a verdict."""

    NONE = "none"  # nothing to report: throttled, retried, or dropped while stopping
    RERUN = "rerun"  # a failed attempt that goes again; its reports become an earlier attempt
    ERROR = "error"  # the test ends as an error with the verdict's message
    GIVE_UP = "give_up"  # every one of the verdict's tasks ends as an error with its message
    REPORT = "report"  # the test's own reports, in the payload


@dataclass
class Verdict:
    """What the settle step decided about one answer, for the main thread to report."""

    action: Action
    answered_at: float
    payload: dict[str, Any] | None = None
    outcome: InvokeOutcome | None = None
    message: str = ""
    tasks: list[Task] = field(default_factory=list)
    #: Counts towards ``--maxfail``/``-x``.
    failed: bool = True
    #: For ERROR and GIVE_UP: why the runner could not run the test(s).
    cause: Cause | None = None
    #: Lambda could not run it: ``--lambda-fallback=local`` may run it on local Chrome.
    may_fall_back: bool = False


@dataclass
class Tally:
    """Invocations and billing, counted from the answers."""

    invocations: int = 0
    billed_gb_s: float = 0.0
    #: Tests ended as failures or errors so far (``--maxfail``).
    failures: int = 0


class Settler:
    """Turns each answer into a :class:`Verdict`, keeping the scheduler and the tally current.

    ``endpoint`` names the Lambda endpoint in messages; ``fallback_enabled`` says whether a
    test Lambda could not run is held for local Chrome (then it is no failure yet);
    ``maxfail`` (0: none) empties the queue as soon as that many tests failed.
    """

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        memory_mb: int,
        throttle_budget_s: float,
        endpoint: str,
        fallback_enabled: bool = False,
        maxfail: int = 0,
    ) -> None:
        self.scheduler = scheduler
        self.memory_mb = memory_mb
        self.throttle_budget_s = throttle_budget_s
        self.endpoint = endpoint
        self.fallback_enabled = fallback_enabled
        self.maxfail = maxfail
        self.tally = Tally()

    def settle(self, task: Task, outcome: InvokeOutcome, now: float, repeat: bool) -> Verdict:
        """``repeat`` is False once the run stops: nothing goes again."""
        try:
            verdict = self._decide(task, outcome, now, repeat)
        except Exception as exc:  # never lose a test to a bug here
            self.scheduler.forget(task)
            verdict = Verdict(Action.ERROR, now, cause=Cause.CLIENT_ERROR, message=f"client error while handling the answer: {type(exc).__name__}: {exc}")
        if verdict.action in (Action.ERROR, Action.REPORT) and verdict.failed:
            self.tally.failures += 1
            if self.maxfail and self.tally.failures >= self.maxfail:
                self.scheduler.drain_queue()  # -x: stop dispatching before the main thread catches up
        return verdict

    def _decide(self, task: Task, outcome: InvokeOutcome, now: float, repeat: bool) -> Verdict:
        scheduler = self.scheduler
        if scheduler.tripped:  # the breaker took every test: later answers do not count
            return Verdict(Action.NONE, now)
        if not outcome.unreachable:
            scheduler.on_reachable()
        if outcome.kind is OutcomeKind.THROTTLED:
            return self._throttled(task, outcome, now, repeat)
        self.tally.invocations += 1
        self.tally.billed_gb_s += billed_gb_s(outcome.report_line, self.memory_mb)
        payload = outcome.payload
        if outcome.kind is OutcomeKind.OK and isinstance(payload, dict) and payload.get("kind") == "error":
            message = f"{payload.get('error_type')}: {payload.get('message')}"
            if not payload.get("retryable"):
                scheduler.on_infra_fault(task, message, outcome.request_id, now, fatal=True)
                return Verdict(Action.ERROR, now, cause=Cause.REFUSED, message=f"the Lambda handler refused this test: {message}")
            outcome = InvokeOutcome(OutcomeKind.INFRA, request_id=outcome.request_id, cause=message, report_line=outcome.report_line)
        if outcome.kind is OutcomeKind.INFRA:
            return self._infra(task, outcome, now, repeat)
        if not isinstance(payload, dict) or payload.get("kind") != "run":
            scheduler.on_infra_fault(task, "malformed response", outcome.request_id, now, fatal=True)
            return Verdict(Action.ERROR, now, cause=Cause.MALFORMED, message=f"the Lambda answered something that is not a test result: {str(payload)[:300]}")
        wire = payload.get("reports") or []
        # The same test as pytest's report.failed, read from the wire: no pytest hooks off the main thread.
        is_failed = not wire or any(isinstance(r, dict) and r.get("outcome") == "failed" for r in wire)
        if scheduler.on_result(task, is_failed, outcome.request_id, now, repeat=repeat):
            return Verdict(Action.RERUN, now, payload=payload, outcome=outcome)
        return Verdict(Action.REPORT, now, payload=payload, outcome=outcome, failed=is_failed)

    def _throttled(self, task: Task, outcome: InvokeOutcome, now: float, repeat: bool) -> Verdict:
        scheduler = self.scheduler
        if not repeat:
            scheduler.forget(task)  # stopping: a test that never started is not run
            return Verdict(Action.NONE, now)
        if scheduler.on_throttle(task, now, outcome.retry_after_s):
            return Verdict(Action.NONE, now)
        gave_up = [task] + scheduler.drain_queue()
        for t in gave_up:
            scheduler.forget(t)
        return Verdict(
            Action.GIVE_UP, now, tasks=gave_up, cause=Cause.THROTTLED, may_fall_back=True,
            message=f"throttled: Lambda refused invocations ({outcome.reason or 'TooManyRequestsException'}) for over "
            f"{self.throttle_budget_s:.0f} s without progress; raise the function's concurrency or lower --lambda-concurrency",
        )

    def _infra(self, task: Task, outcome: InvokeOutcome, now: float, repeat: bool) -> Verdict:
        scheduler = self.scheduler
        if outcome.unreachable and (taken := scheduler.on_unreachable(task, outcome.cause)) is not None:
            return Verdict(
                Action.GIVE_UP, now, tasks=taken, cause=Cause.UNREACHABLE, may_fall_back=True,
                message=f"Lambda unreachable: {scheduler.first_unreachable}; {scheduler.unreachable_in_row} invocations in a row could not connect to {self.endpoint}",
            )
        if scheduler.on_infra_fault(task, outcome.cause, outcome.request_id, now, fatal=outcome.fatal or not repeat):
            return Verdict(Action.NONE, now)
        causes = "; ".join(f"attempt {i}: {c}" for i, c in enumerate(task.infra_failures, 1))
        ids = ", ".join(task.request_ids) or "none"
        # Retries spent (not a fault that must not be repeated, nor a stopping run): Lambda could not run it.
        spent = not outcome.fatal and repeat
        cause = (Cause.UNREACHABLE if outcome.unreachable else Cause.RETRIES_SPENT) if spent else Cause.NOT_RETRIED
        return Verdict(
            Action.ERROR, now, cause=cause, may_fall_back=spent,
            failed=not (spent and self.fallback_enabled),  # held for local Chrome: not a failure yet
            message=f"infrastructure failure after {len(task.infra_failures)} attempt(s) ({causes}); request ids: {ids}",
        )
