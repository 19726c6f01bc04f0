"""When a warm session serves the next test, and what the run event says about it (issue 16)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from lambda_ui.contract import InvalidEvent, validate_event
from lambda_ui.function.session import ProcessState, Replacement, SessionKey, key_of, replacement

SHA = "a" * 64


def _event(**changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "version": 1, "kind": "run", "run_id": "run-1", "nodeids": ["test_a.py::test_one"],
        "bundle": {"bucket": "b-1", "key": "bundles/x.zip", "sha256": SHA},
        "pytest_args": ["--base-url", "http://app"], "artifacts": {"bucket": "b-1", "prefix": "runs"}, "attempt": 1,
    }
    event.update(changes)
    return event


def _key(**changes: Any) -> SessionKey:
    checked = validate_event(_event(**changes))
    assert checked["kind"] == "run"
    return key_of(checked)


def test_same_bundle_arguments_and_run_keep_the_session_whatever_the_test() -> None:
    assert replacement(_key(), _key(nodeids=["test_b.py::test_two"], attempt=2), None) is None


@pytest.mark.parametrize(
    "changes",
    [
        {"bundle": {"bucket": "b-1", "key": "bundles/y.zip", "sha256": "b" * 64}},
        {"pytest_args": ["--base-url", "http://other"]},
        {"pytest_args": []},
        {"run_id": "run-2"},
        {"artifacts": {"bucket": "b-1", "prefix": "elsewhere"}},
    ],
    ids=["bundle", "argument value", "arguments", "run", "artifacts"],
)
def test_another_bundle_arguments_or_run_replace_the_session(changes: dict[str, Any]) -> None:
    assert replacement(_key(), _key(**changes), None) is Replacement.OTHER_RUN


@pytest.mark.parametrize("taint", [Replacement.DEADLINE, Replacement.BROWSER, Replacement.UNHEALTHY, Replacement.BROKEN])
def test_a_tainted_session_is_replaced_even_for_the_same_key(taint: Replacement) -> None:
    assert replacement(_key(), _key(), taint) is taint


def test_a_per_test_invocation_ends_a_warm_session_and_nothing_is_ended_when_there_is_none() -> None:
    assert replacement(_key(), None, None) is Replacement.PER_TEST
    assert replacement(None, _key(), Replacement.DEADLINE) is None
    assert replacement(None, None, None) is None


def test_the_event_carries_the_session_mode_warm_by_default() -> None:
    assert validate_event(_event())["session"] == "warm"  # type: ignore[typeddict-item]
    assert validate_event(_event(session="per-test"))["session"] == "per-test"  # type: ignore[typeddict-item]
    for bad in ("cold", 1, None, ["warm"]):
        with pytest.raises(InvalidEvent, match="event.session"):
            validate_event(_event(session=bad))


def test_process_state_puts_environ_path_and_directory_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("H5_KEPT", "before")
    monkeypatch.setattr(sys, "path", list(sys.path))
    state = ProcessState()
    os.environ["H5_ADDED"] = "x"
    os.environ["H5_KEPT"] = "changed"
    sys.path.insert(0, "/h5-leak")
    (tmp_path / "sub").mkdir()
    os.chdir(tmp_path / "sub")
    assert state.restore() == ["os.environ", "sys.path", "working directory"]
    assert "H5_ADDED" not in os.environ and os.environ["H5_KEPT"] == "before"
    assert "/h5-leak" not in sys.path and os.getcwd() == str(tmp_path)
    assert state.restore() == []
