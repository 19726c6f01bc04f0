from __future__ import annotations

import json
from typing import Any

import pytest

from lambda_ui.contract import CONTRACT_VERSION, InvalidEvent, error_response, forbidden_args, utf8_safe, validate_event


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
    assert checked["allure"] is False and validate_event(_event(allure=True))["allure"] is True
    assert checked["log_file"] is False and validate_event(_event(log_file=True))["log_file"] is True
    assert checked["workers"] == 1 and validate_event(_event(workers=64))["workers"] == 64
    assert checked["workdir"] == "" and validate_event(_event(workdir="ui/smoke tests"))["workdir"] == "ui/smoke tests"
    assert checked["env"] == {} and validate_event(_event(env={"BASE_URL": "https://pr-7.example"}))["env"] == {"BASE_URL": "https://pr-7.example"}
    assert validate_event(json.loads(json.dumps(checked))) == checked


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"attempt": 0}, "positive integer"),
        ({"attempt": True}, "positive integer"),
        ({"attempt": 1.0}, "positive integer, got 1.0"),
        ({"attempt": "2"}, "positive integer"),
        ({"version": True}, "event.version must be an integer, got bool True"),
        ({"version": 1.0}, "event.version must be an integer, got float 1.0"),
        ({"version": "1"}, "event.version must be an integer, got str"),
        ({"run_id": ".."}, "not '.' or '..'"),
        ({"run_id": "."}, "not '.' or '..'"),
        ({"run_id": "r1\n"}, "must be 1-128 characters"),
        ({"bundle": {"bucket": "b", "key": "k", "sha256": "a" * 64 + "\n"}}, "64 lowercase hex"),
        ({"pytest_args": ["-vx"]}, "client owns: -vx"),
        ({"nodeids": []}, "non-empty list"),
        ({"nodeids": ["--collect-only"]}, "non-empty list"),
        ({"run_id": "../x"}, "must be 1-128 characters"),
        ({"pytest_args": "-v"}, "list of strings"),
        ({"pytest_args": ["--lf"]}, "client owns: --lf"),
        ({"pytest_args": ["-x"]}, "client owns: -x"),
        ({"pytest_args": ["--maxfail=3"]}, "client owns: --maxfail=3"),
        ({"bundle": {"bucket": "b", "key": "k"}}, "event.bundle has no 'sha256'"),
        ({"artifacts": {"bucket": 3, "prefix": ""}}, "event.artifacts.bucket must be str"),
        ({"allure": 1}, "event.allure must be true or false, got 1"),
        ({"allure": "yes"}, "event.allure must be true or false"),
        ({"log_file": 1}, "event.log_file must be true or false, got 1"),
        ({"log_file": "logs/run.log"}, "event.log_file must be true or false, got 'logs/run.log'"),
        ({"workers": 0}, "event.workers must be a positive integer, got 0"),
        ({"workers": "8"}, "event.workers must be a positive integer"),
        ({"workers": 10**6}, "event.workers must be at most 100000, got 1000000"),
        ({"workdir": "../up"}, "event.workdir must be a relative folder below the rootdir"),
        ({"workdir": "/abs"}, "event.workdir must be a relative folder"),
        ({"workdir": "a/./b"}, "event.workdir must be a relative folder"),
        ({"workdir": "a\\b"}, "event.workdir must be a relative folder"),
        ({"workdir": "a//b"}, "event.workdir must be a relative folder"),
        ({"workdir": "a\nb"}, "event.workdir must be a relative folder"),
        ({"workdir": 3}, "event.workdir must be a relative folder"),
        ({"env": ["BASE_URL"]}, "event.env must be an object of names to values, got list"),
        ({"env": {"AWS_SECRET_ACCESS_KEY": "x"}}, "event.env: AWS_SECRET_ACCESS_KEY is the runtime's or the runner's own"),
        ({"env": {"PYTEST_ADDOPTS": "-x"}}, "event.env: PYTEST_ADDOPTS is the runtime's or the runner's own"),
        ({"env": {"LD_PRELOAD": "/tmp/x.so"}}, "event.env: LD_PRELOAD is the runtime's"),
        ({"env": {"PYTHONPATH": "/tmp"}}, "event.env: PYTHONPATH is the runtime's"),
        ({"env": {"1X": "x"}}, "event.env: '1X' is not an environment variable name"),
        ({"env": {"A=B": "x"}}, "is not an environment variable name"),
        ({"env": {"BASE_URL": 3}}, "event.env: the value of BASE_URL must be text without NUL"),
        ({"env": {"BASE_URL": "a\x00b"}}, "event.env: the value of BASE_URL must be text without NUL"),
        ({"env": {f"V{i}": "" for i in range(101)}}, "event.env has 101 variables, more than 100"),
        ({"env": {"BIG": "x" * 40_000}}, "event.env holds 40,003 bytes, more than 32,768"),
    ],
)
def test_invalid_events_say_what_is_wrong(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEvent, match=message.replace("[", r"\[").replace(".", r"\.")):
        validate_event(_event(**changes))


def test_forbidden_args_leave_ordinary_ones() -> None:
    assert forbidden_args(["-v", "-k", "login", "--tb=short", "-n2", "--junitxml=r.xml"]) == ["-n2", "--junitxml=r.xml"]


@pytest.mark.parametrize("arg", ["-vx", "-xv", "-nauto", "-sx", "-vvx", "-qn4", "-lsvx", "-x", "-n", "-n=2"])
def test_clusters_of_short_flags_hide_no_client_option(arg: str) -> None:
    """`-vx` is `-v -x` to pytest: the check reads a cluster as pytest does."""
    assert forbidden_args(["--tb=short", arg]) == [arg]


@pytest.mark.parametrize("arg", ["-kx", "-k", "-mnot_slow", "-rxX", "-pxdist.plugin", "-Wignore", "-ox=1", "-c", "-vkx", "-Zx", "-1", "-"])
def test_a_value_in_a_cluster_is_not_an_option(arg: str) -> None:
    """After a letter that takes a value (`-kx`: keyword "x") or one pytest does not
    define (a plugin's `-Z`, whose arity is unknown), the rest is not read as flags."""
    assert forbidden_args([arg, "x"]) == []


def test_version_one_is_the_integer_one() -> None:
    for bad in (True, 1.0, "1"):
        with pytest.raises(InvalidEvent) as info:
            validate_event(_event(version=bad))
        assert info.value.error_type == "InvalidEvent"
    with pytest.raises(InvalidEvent) as info:
        validate_event(_event(version=2))
    assert info.value.error_type == "UnsupportedVersion"
    with pytest.raises(InvalidEvent) as info:
        validate_event({"version": True, "kind": "info"})
    assert validate_event({"version": 1, "kind": "info"})["kind"] == "info"


def test_error_responses_say_whether_to_retry() -> None:
    assert error_response("EnvironmentUnhealthy", "full /tmp")["retryable"] is True
    assert error_response("BundleMismatch", "x")["retryable"] is False


def test_answers_encode_as_utf8_with_lone_surrogates_written_out() -> None:
    answer = {"reports": [{"longrepr": "assert '\udcff' == 'x'", "sections": [["out\udcfe", "ok ✓"]]}], "exit_code": 1}
    safe = utf8_safe(answer)
    assert json.dumps(safe, ensure_ascii=False).encode()  # what the runtime sends; it raised before
    assert safe == {"reports": [{"longrepr": "assert '\\udcff' == 'x'", "sections": [["out\\udcfe", "ok ✓"]]}], "exit_code": 1}
    clean = {"kind": "run", "text": "ok ✓"}
    assert utf8_safe(clean) is clean
