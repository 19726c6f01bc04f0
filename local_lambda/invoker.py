"""Running one invocation end to end: concurrency, an environment, the outcome, the log.

This is the service's behaviour between "request accepted" and "answer ready", with no
HTTP in it, so it can be driven directly as well as through the Invoke API. Every request
ends as one record in the invocation log, throttled ones included.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

from lambda_ui.local_lambda import invocations
from lambda_ui.local_lambda.environment import Invocation, LocalEnvironment, Outcome
from lambda_ui.local_lambda.logs import FUNCTION_LOGGER, Report, end_line, invocation_log
from lambda_ui.local_lambda.pool import EnvironmentPool, PoolClosed, Throttled

log = logging.getLogger("lambda_ui.local_lambda")

#: Environments that die before taking the event are replaced this many times.
_DELIVERY_ATTEMPTS = 3
#: Outcome.kind -> the REPORT line's Status, for what the platform ended.
_STATUS = {"timeout": "timeout", "exited": "error"}


@dataclass
class InvokeResult:
    request_id: str
    outcome: Outcome
    #: The invocation's log (START ... REPORT); ``LogType=Tail`` returns its last 4 KB.
    log: bytes
    environment_id: str
    cold: bool
    duration_ms: float


class Invoker:
    def __init__(self, pool: EnvironmentPool, records: invocations.InvocationLog | None = None) -> None:
        self.pool = pool
        self.config = pool.config
        self.records = records if records is not None else invocations.InvocationLog()

    def invoke(
        self,
        payload: bytes,
        client_context: str | None = None,
        invoked_arn: str | None = None,
        block: bool = False,
        request_id: str | None = None,
        invocation_type: str = "RequestResponse",
    ) -> InvokeResult:
        """Run one event; raises pool.Throttled when no concurrency is left (unless ``block``)."""
        request_id = request_id or str(uuid.uuid4())
        started = time.time()

        def record(outcome: str, result: InvokeResult | None = None, error_type: str | None = None) -> None:
            nodeids, run_id = invocations.run_event_fields(payload)
            self.records.add(invocations.InvocationRecord(
                request_id, invocation_type, outcome, started, time.time(),
                environment_id=result.environment_id if result else None, cold=result.cold if result else False,
                duration_ms=round(result.duration_ms, 3) if result else None, error_type=error_type,
                nodeids=nodeids, run_id=run_id,
            ))

        try:
            self.pool.acquire(block=block)
        except Throttled as throttle:
            record(invocations.THROTTLED, error_type=throttle.reason)
            raise
        except PoolClosed:
            record(invocations.SERVICE_ERROR, error_type="PoolClosed")
            raise
        try:
            result = self._invoke(payload, client_context, invoked_arn or self.config.arn, request_id)
        except Exception as exc:
            record(invocations.SERVICE_ERROR, error_type=type(exc).__name__)
            raise
        finally:
            self.pool.release()
        outcome = result.outcome
        error_type = invocations.error_type_of(outcome.body, outcome.error_type) if outcome.function_error else None
        record(invocations.outcome_of(outcome.kind), result, error_type)
        return result

    def _invoke(self, payload: bytes, client_context: str | None, invoked_arn: str, request_id: str) -> InvokeResult:
        # Every idle environment may have died unnoticed; then one more, new, is tried.
        attempts = _DELIVERY_ATTEMPTS + self.pool.idle_count
        for _attempt in range(attempts):
            env, cold = self.pool.checkout()
            invocation = Invocation(payload, self.config.timeout, invoked_arn, client_context, request_id)
            outcome = env.run(invocation)
            if outcome.kind == "undelivered":
                # Its runtime died (or lost its poll connection) while waiting for work: the
                # event was never seen. Lambda would not lose it either: run it elsewhere.
                log.info("environment %s was gone before it took %s; running it in another", env.id, request_id)
                self.pool.discard(env)
                continue
            result = self._result(env, invocation, outcome, cold and not self.pool.is_prestarted(env))
            self.pool.checkin(env)
            return result
        raise RuntimeError(f"{attempts} environments in a row died before taking event {request_id}")

    def _result(self, env: LocalEnvironment, invocation: Invocation, outcome: Outcome, cold: bool) -> InvokeResult:
        output = env.logs.take() if env.logs is not None else b""
        report = Report(
            request_id=invocation.request_id,
            duration_ms=invocation.duration_ms,
            memory_size_mb=self.config.memory_mb,
            max_memory_used_mb=invocation.max_memory_mb or env.max_memory_used_mb(),
            # A reset's suppressed init is not reported; nor is a prestarted environment's.
            init_duration_ms=env.init_duration_ms if cold else None,
            status=_STATUS.get(outcome.kind, ""),
            error_type=outcome.error_type,
        )
        text = invocation_log(invocation.request_id, invocation.init_output, output, outcome.platform_lines, report)
        # The console shows START and the function's lines as they come; add the rest.
        for line in outcome.platform_lines:
            FUNCTION_LOGGER.info(line, extra={"environment": env.id})
        FUNCTION_LOGGER.info(end_line(invocation.request_id), extra={"environment": env.id})
        FUNCTION_LOGGER.info(report.line(), extra={"environment": env.id})
        return InvokeResult(invocation.request_id, outcome, text, env.id, cold, invocation.duration_ms)
