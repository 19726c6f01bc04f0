"""The local Lambda behaves as today's Lambda (issue 15): the function's runtime checked
against the interpreter, the current timeout answer, and a reset after a timeout or a crash
that keeps the sandbox's /tmp and reports no Init Duration. Real stand-in processes, small
handlers from stand_ins/functions; no browser.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lambda_ui.runner.aws.lambda_client import LambdaFunction
from tests.e2e.test_local_lambda import (
    function,
    invoke,
    lambda_client,
    log_of,
    record_of,
    report_of,
    runtime_pid,
    serving,
    wait_until,
)

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
PROBE = "stand_ins.functions.reset_probe.handler"
REAL_HANDLER = "lambda_ui.function.handler.handler"
HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"
#: A Lambda Python runtime that is not this interpreter's minor version.
OTHER = "python3.12" if HERE != "3.12" else "python3.13"


def zip_template(folder: Path, runtime: str, handler: str = PROBE) -> Path:
    template = folder / f"template-{runtime}.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        f"      FunctionName: fn\n      Runtime: {runtime}\n      Handler: {handler}\n      CodeUri: {REPO}\n      Timeout: 30\n"
    )
    return template


def image_template(folder: Path, base: str) -> Path:
    (folder / "Dockerfile").write_text(f"ARG BASE=public.ecr.aws/lambda/{base}\nFROM ${{BASE}}\nCMD [\"{PROBE}\"]\n")
    template = folder / "template.yaml"
    template.write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Metadata:\n      Dockerfile: Dockerfile\n"
        "    Properties:\n      PackageType: Image\n      ImageUri: x\n"
    )
    return template


def command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_ui.cli.local_lambda", "--port", "0", *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_another_language_or_an_unknown_runtime_refuses_to_start_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "image").mkdir()
    cases = {
        "nodejs20.x": (("--template", str(zip_template(tmp_path, "nodejs20.x"))), "the function's runtime nodejs20.x is not Python"),
        "python3.99": (("--template", str(zip_template(tmp_path, "python3.99"))), "the function's runtime python3.99 is not a Lambda runtime"),
        "node image": (("--template", str(image_template(tmp_path / "image", "nodejs:20"))), "the function's runtime nodejs20 is not Python"),
        "not python": (("--template", str(zip_template(tmp_path, OTHER)), "--python", "/bin/true"), "--python /bin/true is not a Python interpreter"),
    }
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        results = dict(zip(cases, pool.map(lambda case: command(*case[0]), cases.values()), strict=True))
    for name, (_args, expected) in cases.items():
        result = results[name]
        assert result.returncode == 2, (name, result.stderr)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"local-lambda: error: {expected}"), (name, result.stderr)


def test_another_python_minor_version_starts_warns_naming_both_and_the_client_repeats_it(tmp_path: Path) -> None:
    ready, err = tmp_path / "ready", tmp_path / "stderr"
    args = ["--template", str(zip_template(tmp_path, OTHER, REAL_HANDLER)), "--ready-file", str(ready), "-q", "--isolation", "tmpdir"]
    with err.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "lambda_ui.cli.local_lambda", "--port", "0", *args], cwd=REPO, stderr=stderr, text=True)
    try:
        assert wait_until(ready.exists, 60), err.read_text()
        warnings = [line for line in err.read_text().splitlines() if "but its environments run Python" in line]
        assert warnings == [
            f"local-lambda: the function's runtime is {OTHER} but its environments run Python {HERE}.{sys.version_info[2]} "
            f"({sys.executable}); give --python a Python {OTHER[6:]} interpreter to run it as deployed"
        ]
        # pytest --lambda learns it from the function's info answer (runner/startup.py prints it).
        info = LambdaFunction("fn", lambda_client(ready.read_text().strip())).describe()
        assert info.runtime_warning == (
            f"the function's runtime is {OTHER} but it runs Python {sys.version_info[0]}.{sys.version_info[1]}.{sys.version_info[2]}: "
            "a local Lambda on another interpreter? (lambda-ui local-lambda --python picks one)"
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_the_same_python_starts_without_a_warning_and_names_its_runtime(tmp_path: Path) -> None:
    from lambda_ui.local_lambda import load_function_config

    config = load_function_config(zip_template(tmp_path, f"python{HERE}"))
    with serving(config, isolation="tmpdir") as (lam, client):
        response, payload = invoke(client, {"action": "read", "name": "nothing"}, LogType="Tail")
    assert lam.runtime_warning == ""
    assert payload["execution_env"] == f"AWS_Lambda_python{HERE}"
    assert log_of(response).startswith(f"INIT_START Runtime Version: python:{HERE}.local\t")


@pytest.mark.parametrize("isolation", ["auto", "tmpdir"])
@pytest.mark.parametrize(("fault", "status"), [({"action": "sleep", "seconds": 30}, "timeout"), ({"action": "exit", "code": 1}, "error")])
def test_after_a_timeout_or_a_crash_the_same_sandbox_runs_on_with_its_tmp(isolation: str, fault: dict[str, object], status: str) -> None:
    name = f"kept-{uuid.uuid4().hex}"
    with serving(function(PROBE, timeout=2, reserved_concurrency=1), isolation=isolation) as (lam, client):
        first, written = invoke(client, {"action": "write", "name": name, "text": "left behind"}, LogType="Tail")
        first_runtime = runtime_pid(lam, first)
        response, payload = invoke(client, fault, LogType="Tail")
        after, read = invoke(client, {"action": "read", "name": name}, LogType="Tail")
        assert lam.pool is not None and lam.pool.started_count == 1
        assert [env.resets for env in lam.pool.environments()] == [1]
        assert runtime_pid(lam, after) != first_runtime  # a new runtime (host pids: a sandbox's is pid 2 inside)
    rid = report_of(response)["rid"]
    assert response["FunctionError"] == "Unhandled"
    if status == "timeout":
        assert payload == {"errorType": "Sandbox.Timedout", "errorMessage": f"RequestId: {rid} Error: Task timed out after {payload['errorMessage'][-12:]}"}
        assert re.fullmatch(r"RequestId: \S+ Error: Task timed out after 2\.\d\d seconds", payload["errorMessage"])
        assert report_of(response)["status"] == "timeout" and report_of(response)["error_type"] is None
    else:
        assert payload == {"errorType": "Runtime.ExitError", "errorMessage": f"RequestId: {rid} Error: Runtime exited with error: exit status 1"}
        assert (report_of(response)["status"], report_of(response)["error_type"]) == ("error", "Runtime.ExitError")
    # The next invocation: the same environment and /tmp, a new runtime, no Init Duration.
    assert "FunctionError" not in after, read
    assert read["text"] == "left behind" and read["tmp"] == written["tmp"]
    assert record_of(lam, after).environment_id == record_of(lam, first).environment_id
    assert report_of(first)["init"] is not None and report_of(after)["init"] is None
    assert log_of(first).startswith("INIT_START Runtime Version: ")
    assert log_of(after).startswith("INIT_START Runtime Version: ")  # the reset's init
    if isolation == "tmpdir":
        assert not os.path.exists(written["tmp"])  # the stand-in's stop removed it
