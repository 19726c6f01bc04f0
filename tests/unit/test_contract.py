from __future__ import annotations

import json
from typing import Any

import pytest

from runner.contract import CONTRACT_VERSION, InvalidEvent, error_response, forbidden_args, validate_event


def _event(**changes: Any) -> dict[str, Any]:
    event = {
        "version": CONTRACT_VERSION,
        "kind": "run",
        "run_id": "20261127-1",
        "nodeids": ["ui/test_a.py::test_b[x]"],
        "bundle": {"bucket": "b", "key": "bundles/k.zip", "sha256": "a" * 64},
        "pytest_args": ["-v", "--tb=short"],
        "artifacts": {"bucket": "b", "prefix": "/runs/"},
        "attempt": 2,
    }
    event.update(changes)
    return event


def test_a_valid_event_round_trips_through_json() -> None:
    checked = validate_event(json.loads(json.dumps(_event())))
    assert checked["artifacts"]["prefix"] == "runs" and checked["attempt"] == 2
    assert validate_event(json.loads(json.dumps(checked))) == checked


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"attempt": 0}, "positive integer"),
        ({"attempt": True}, "positive integer"),
        ({"nodeids": []}, "non-empty list"),
        ({"nodeids": ["--collect-only"]}, "non-empty list"),
        ({"run_id": "../x"}, "must be 1-128 characters"),
        ({"pytest_args": "-v"}, "list of strings"),
        ({"pytest_args": ["--lf"]}, "client owns: --lf"),
        ({"pytest_args": ["-x"]}, "client owns: -x"),
        ({"pytest_args": ["--maxfail=3"]}, "client owns: --maxfail=3"),
        ({"bundle": {"bucket": "b", "key": "k"}}, "event.bundle has no 'sha256'"),
        ({"artifacts": {"bucket": 3, "prefix": ""}}, "event.artifacts.bucket must be str"),
    ],
)
def test_invalid_events_say_what_is_wrong(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEvent, match=message.replace("[", r"\[").replace(".", r"\.")):
        validate_event(_event(**changes))


def test_forbidden_args_leave_ordinary_ones() -> None:
    assert forbidden_args(["-v", "-k", "login", "--tb=short", "-n2", "--junitxml=r.xml"]) == ["-n2", "--junitxml=r.xml"]


def test_error_responses_say_whether_to_retry() -> None:
    assert error_response("EnvironmentUnhealthy", "full /tmp")["retryable"] is True
    assert error_response("BundleMismatch", "x")["retryable"] is False
