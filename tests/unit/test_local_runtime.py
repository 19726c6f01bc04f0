"""The local Lambda's runtime check and today's answer shapes, without starting a process
(except the interpreter whose version is asked)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lambda_ui.local_lambda import TemplateError, load_function_config, wire
from lambda_ui.local_lambda.logs import Report, init_start_line
from lambda_ui.local_lambda.runtimes import (
    RuntimeProblem,
    check,
    dockerfile_base,
    interpreter_version,
    python_version_of,
    runtime_of_image,
)
from lambda_ui.local_lambda.template import FunctionConfig
from lambda_ui.local_lambda.variables import execution_env

REPO = Path(__file__).resolve().parents[2]
HERE = sys.version_info[:3]


def test_python_runtime_names() -> None:
    assert python_version_of("python3.12") == (3, 12)
    assert python_version_of("python3.99") == (3, 99)
    assert python_version_of("nodejs20.x") is None
    assert python_version_of("python3") is None


@pytest.mark.parametrize(("image", "runtime"), [
    ("public.ecr.aws/lambda/python:3.12", "python3.12"),
    ("public.ecr.aws/lambda/python:3.12.2026.11.20.10-x86_64@sha256:" + "a" * 64, "python3.12"),
    ("public.ecr.aws/lambda/python:3.13-arm64", "python3.13"),
    ("amazon/aws-lambda-python:3.11", "python3.11"),
    ("public.ecr.aws/lambda/nodejs:20", "nodejs20"),
    ("python:3.12-slim", "python3.12"),
    ("public.ecr.aws/lambda/python:latest", None),
    ("debian:12", None),
])
def test_the_runtime_of_a_base_image(image: str, runtime: str | None) -> None:
    assert runtime_of_image(image) == runtime


def test_the_base_image_is_the_last_stage_with_build_arguments_at_their_defaults(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG BASE_IMAGE=public.ecr.aws/lambda/python:3.13@sha256:" + "b" * 64 + "\n"
        "FROM --platform=$BUILDPLATFORM ${BASE_IMAGE} AS base\n"
        "FROM --platform=linux/amd64 debian:12 AS chrome\n"
        "RUN true\n"
        "FROM base\n"
        "ARG BASE_IMAGE=ignored-after-the-first-from\n"
        'CMD ["app.handler"]\n'
    )
    assert dockerfile_base(dockerfile) == "public.ecr.aws/lambda/python:3.13@sha256:" + "b" * 64
    assert dockerfile_base(tmp_path / "missing") is None


def test_the_project_image_is_a_python_3_12_function() -> None:
    config = load_function_config(REPO / "template.yaml")
    assert config.package_type == "Image" and config.runtime is None
    assert config.effective_runtime == "python3.12"
    assert execution_env(config, (3, 11)) == "AWS_Lambda_python3.12"


def _zip_template(tmp_path: Path, runtime: str, code_uri: str | None = "code/") -> Path:
    (tmp_path / "code").mkdir(exist_ok=True)
    uri = f"      CodeUri: {code_uri}\n" if code_uri else ""
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        f"      Runtime: {runtime}\n      Handler: app.handler\n{uri}"
    )
    return template


def test_a_zip_function_runs_from_its_code_uri_unless_code_dir_says_otherwise(tmp_path: Path) -> None:
    template = _zip_template(tmp_path, "python3.12")
    config = load_function_config(template)
    assert (config.code_dir, config.effective_runtime) == (str(tmp_path / "code"), "python3.12")
    assert execution_env(config, (3, 11)) == "AWS_Lambda_python3.12"
    assert load_function_config(template, code_dir=str(REPO)).code_dir == str(REPO)
    assert load_function_config(_zip_template(tmp_path, "python3.12", None)).code_dir == str(tmp_path)


def test_a_code_uri_that_is_not_a_folder_here_asks_for_code_dir(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="CodeUri 's3://bucket/code.zip' is not a local folder; give the code's folder with --code-dir"):
        load_function_config(_zip_template(tmp_path, "python3.12", "s3://bucket/code.zip"))
    with pytest.raises(TemplateError, match="--code-dir"):
        load_function_config(_zip_template(tmp_path, "python3.12", "missing/"))
    assert load_function_config(_zip_template(tmp_path, "python3.12", "s3://bucket/code.zip"), code_dir=str(tmp_path)).code_dir == str(tmp_path)


def test_the_execution_env_names_the_interpreter_only_when_the_runtime_is_unknown() -> None:
    assert execution_env(FunctionConfig(), (3, 11)) == "AWS_Lambda_python3.11"
    assert execution_env(FunctionConfig(package_type="Zip", runtime="python3.13"), (3, 11)) == "AWS_Lambda_python3.13"


@pytest.mark.parametrize(("runtime", "words"), [
    ("nodejs20.x", "the function's runtime nodejs20.x is not Python"),
    ("nodejs20", "the function's runtime nodejs20 is not Python"),
    ("provided.al2023", "the function's runtime provided.al2023 is not Python"),
    ("python3.99", "the function's runtime python3.99 is not a Lambda runtime"),
    ("python2.7", "the function's runtime python2.7 is not a Lambda runtime"),
])
def test_another_language_or_an_unknown_runtime_cannot_run(runtime: str, words: str) -> None:
    with pytest.raises(RuntimeProblem) as raised:
        check(runtime, "/usr/bin/python3", (3, 11, 2))
    assert str(raised.value).startswith(words) and "\n" not in str(raised.value)


def test_another_minor_version_runs_with_one_warning_naming_both() -> None:
    verdict = check("python3.12", "/opt/py/bin/python", (3, 11, 7))
    assert verdict is not None and verdict.version == (3, 12)
    assert verdict.warning == (
        "the function's runtime is python3.12 but its environments run Python 3.11.7 (/opt/py/bin/python); "
        "give --python a Python 3.12 interpreter to run it as deployed"
    )
    same = check("python3.11", "/opt/py/bin/python", (3, 11, 7))
    assert same is not None and same.warning == ""
    assert check(None, "/opt/py/bin/python", (3, 11, 7)) is None  # an image that does not say


def test_python_must_be_an_interpreter(tmp_path: Path) -> None:
    assert interpreter_version(sys.executable) == HERE
    with pytest.raises(RuntimeProblem, match="no such file"):
        interpreter_version(str(tmp_path / "python9"))
    script = tmp_path / "not-python"
    script.write_text("#!/bin/sh\necho hello\n")
    script.chmod(0o755)
    with pytest.raises(RuntimeProblem, match="is not a Python interpreter"):
        interpreter_version(str(script))


def test_today_s_timeout_answer() -> None:
    payload = json.loads(wire.timeout_payload("rid-1", 3.0))
    assert payload == {"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: rid-1 Error: Task timed out after 3.00 seconds"}
    assert json.loads(wire.exit_payload("rid-2", 1)) == {
        "errorType": "Runtime.ExitError", "errorMessage": "RequestId: rid-2 Error: Runtime exited with error: exit status 1",
    }


def test_report_lines_say_how_the_platform_ended_an_invocation() -> None:
    timeout = Report("r", 3001.5, 128, 40, status="timeout").line()
    assert timeout == "REPORT RequestId: r\tDuration: 3001.50 ms\tBilled Duration: 3002 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\tStatus: timeout\t"
    crash = Report("r", 10.0, 128, 40, status="error", error_type="Runtime.ExitError").line()
    assert crash.endswith("Max Memory Used: 40 MB\tStatus: error\tError Type: Runtime.ExitError\t")
    assert "Status" not in Report("r", 10.0, 128, 40, init_duration_ms=5.0).line()


def test_init_start_names_the_runtime() -> None:
    assert init_start_line("python3.12", "eu-west-1") == (
        "INIT_START Runtime Version: python:3.12.local\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:local"
    )
    assert init_start_line(None, "us-east-1").startswith("INIT_START Runtime Version: local\t")
