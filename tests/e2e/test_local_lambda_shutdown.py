"""Environment shutdown as Lambda does it (issue 16): a function that registered an internal
extension gets SIGTERM and 500 ms before SIGKILL, on the idle timeout and on the stand-in's
own shutdown, and its shutdown callbacks run; without an extension it is killed outright.
Real stand-in processes; no browser (the real handler answers an info event only).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from lambda_ui.contract import CONTRACT_VERSION
from lambda_ui.local_lambda import LocalLambda
from lambda_ui.local_lambda.environment import LocalEnvironment
from tests.e2e.test_local_lambda import function, invoke, serving, wait_until

pytestmark = pytest.mark.e2e

PROBE = "stand_ins.functions.shutdown_probe.handler"
REAL_HANDLER = "lambda_ui.function.handler.handler"
TEARDOWN_RAN = "probe: teardown ran"


def _function_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "lambda_ui.local_lambda.function"]


def _only_environment(lam: LocalLambda) -> LocalEnvironment:
    assert lam.pool is not None
    (env,) = lam.pool.environments()
    return env


def _ended(env: LocalEnvironment) -> bool:
    return env.shutdown_via is not None and env.watcher_done.is_set()


@pytest.mark.parametrize("runtime", [None, "python3.12"], ids=["runtime waits in native code", "runtime polls in a thread"])
def test_an_idle_environment_with_the_extension_gets_sigterm_and_its_callbacks_run(runtime: str | None, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lambda_ui.local_lambda")
    with serving(function(PROBE, runtime=runtime), idle_timeout_s=1.0) as (lam, client):
        _response, answer = invoke(client, {})
        assert answer["extension"]  # registered: the identifier Lambda gave
        env = _only_environment(lam)
        assert [e.name for e in env.extensions.registered] == ["lambda-ui-shutdown"]
        assert wait_until(lambda: _ended(env), 30)
        assert env.shutdown_via == "sigterm" and env.killed_for == "idle"
    lines = _function_lines(caplog)
    assert f"{TEARDOWN_RAN} in pid {answer['pid']}" in lines
    assert any(line.startswith("lambda-ui shutdown: 1 callback(s) done in") for line in lines), lines


def test_the_stand_ins_own_shutdown_sends_sigterm_first(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lambda_ui.local_lambda")
    with serving(function(PROBE)) as (lam, client):
        invoke(client, {})
        env = _only_environment(lam)
    # stop() returns once every environment is gone.
    assert env.shutdown_via == "sigterm" and env.killed_for == "shutdown"
    assert any(line.startswith(TEARDOWN_RAN) for line in _function_lines(caplog))


def test_without_an_extension_there_is_no_sigterm_the_runtime_is_killed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lambda_ui.local_lambda")
    with serving(function(PROBE, environment={"PROBE_REGISTER": "0"}), idle_timeout_s=1.0) as (lam, client):
        _response, answer = invoke(client, {})
        assert answer["extension"] is None
        env = _only_environment(lam)
        assert not env.extensions.any
        assert wait_until(lambda: _ended(env), 30)
        assert env.shutdown_via == "kill" and env.exit_code == -9
    assert not any(line.startswith((TEARDOWN_RAN, "lambda-ui shutdown:")) for line in _function_lines(caplog))


def test_a_teardown_longer_than_the_budget_is_cut_and_the_log_names_it(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lambda_ui.local_lambda")
    with serving(function(PROBE, environment={"PROBE_SLOW_S": "30"})) as (lam, client):
        invoke(client, {})
        env = _only_environment(lam)
        # A long grace here, so the function's own budget is what ends the teardown.
        env.shut_down("shutdown", grace_s=30.0)
        assert env.shutdown_via == "sigterm"
        assert wait_until(env.watcher_done.is_set, 30)
    lines = _function_lines(caplog)
    assert not any(line.startswith(TEARDOWN_RAN) for line in lines)
    assert any("cut at the 400 ms budget: _teardown did not finish" in line for line in lines), lines


def test_the_real_handler_registers_and_runs_its_callbacks_at_shutdown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="lambda_ui.local_lambda")
    with serving(function(REAL_HANDLER, timeout=60)) as (lam, client):
        _response, answer = invoke(client, {"version": CONTRACT_VERSION, "kind": "info"})
        assert answer["kind"] == "info"
        env = _only_environment(lam)
        assert [e.name for e in env.extensions.registered] == ["lambda-ui-shutdown"]
    assert env.shutdown_via == "sigterm"
    # The session's end (a no-op without a warm session) and the warm browser's shutdown.
    lines: list[Any] = [line for line in _function_lines(caplog) if line.startswith("lambda-ui shutdown:")]
    assert len(lines) == 1 and lines[0].startswith("lambda-ui shutdown: 2 callback(s) done in"), lines
