"""The client side of the browser smoke event: one call for ``lambda-ui doctor`` and the tests.

The event and answer are defined in ``lambda_ui.contract`` (``SmokeEvent``,
``SmokeResponse``); the invocation goes through :class:`LambdaFunction`, so its outcome
is classified as every other Invoke's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lambda_ui.contract import CONTRACT_VERSION, SmokeResponse
from lambda_ui.runner.aws.lambda_client import InvokeOutcome, LambdaFunction, OutcomeKind


@dataclass(frozen=True)
class SmokeAnswer:
    """What the smoke invocation showed: ``ok`` only when the function answered and every check passed."""

    ok: bool
    #: One line per problem, for a person: the function's own, or why there is no answer.
    problems: list[str] = field(default_factory=list)
    #: The function's answer; None when the invocation failed or answered something else.
    response: SmokeResponse | None = None
    outcome: InvokeOutcome | None = None


def smoke_event(bucket: str | None = None, key: str | None = None) -> dict[str, Any]:
    """The event; the screenshot goes to ``s3://bucket/key`` when both are given."""
    if (bucket is None) != (key is None):
        raise ValueError("give both the bucket and the key for the screenshot, or neither")
    event: dict[str, Any] = {"version": CONTRACT_VERSION, "kind": "smoke"}
    if bucket is not None and key is not None:
        event["screenshot"] = {"bucket": bucket, "key": key}
    return event


def invoke_smoke(lambda_client: Any, function: str, bucket: str | None = None, key: str | None = None) -> SmokeAnswer:
    """Invoke ``function`` with the smoke event and read its answer."""
    outcome = LambdaFunction(function, lambda_client).invoke(smoke_event(bucket, key))
    return read_smoke_outcome(outcome)


def read_smoke_outcome(outcome: InvokeOutcome) -> SmokeAnswer:
    """The smoke answer from an Invoke outcome, whatever came back."""
    if outcome.kind is OutcomeKind.THROTTLED:
        return SmokeAnswer(False, ["the smoke invocation was throttled; try again when the function is idle"], outcome=outcome)
    if outcome.kind is not OutcomeKind.OK:
        return SmokeAnswer(False, [f"the smoke invocation failed: {outcome.cause or outcome.kind.value}"], outcome=outcome)
    payload = outcome.payload
    if isinstance(payload, dict) and payload.get("kind") == "error":
        message = str(payload.get("message", ""))[:500]
        hint = "; deploy an image built from this release (older ones do not know the smoke event)" if "event.kind" in message else ""
        return SmokeAnswer(False, [f"the function refused the smoke event: {payload.get('error_type')}: {message}{hint}"], outcome=outcome)
    if not isinstance(payload, dict) or payload.get("kind") != "smoke":
        return SmokeAnswer(False, [f"the function answered something else than a smoke answer: {str(payload)[:200]}"], outcome=outcome)
    problems = [str(line) for line in payload.get("problems") or []]
    ok = payload.get("ok") is True and not problems
    if payload.get("ok") is not True and not problems:
        problems = ["the smoke answer is not ok and names no problem"]
    return SmokeAnswer(ok, problems, response=payload, outcome=outcome)  # type: ignore[arg-type]
