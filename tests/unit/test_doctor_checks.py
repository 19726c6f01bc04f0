"""``lambda-ui doctor``'s checks against stubbed AWS answers (botocore Stubber).

What only a real account shows: IAM's verdict on the function's role, and a caller (the
template's CallerPolicy) that may not read the function's configuration or the bucket's
settings. Those become "could not check" lines, never failures.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from lambda_ui.runner.doctor import Clients, Doctor, DoctorTarget
from lambda_ui.runner.doctor_lines import Line, Status
from lambda_ui.runner.doctor_policy import WriteRule

ROLE = "arn:aws:iam::111122223333:role/stack-FunctionRole-ABC"
INFO = {"version": 1, "kind": "info", "facts": {"python_version": "3.12.3", "chrome_version": "156.0"}, "distributions": {"pytest": "9.2.0"}, "limits": {"memory_mb": 2048, "remaining_ms": 299_000}}


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)


class Stubs:
    """One stubbed client per service; the Doctor gets them through :class:`Clients`."""

    def __init__(self, lambda_endpoint: str | None = None) -> None:
        self.clients = {
            "lambda": boto3.client("lambda", region_name="eu-west-1", endpoint_url=lambda_endpoint),
            "s3": boto3.client("s3", region_name="eu-west-1"),
            "iam": boto3.client("iam", region_name="eu-west-1"),
            "sts": boto3.client("sts", region_name="eu-west-1"),
        }
        self.stubbers = {name: Stubber(client) for name, client in self.clients.items()}

    def __getitem__(self, service: str) -> Stubber:
        return self.stubbers[service]

    def doctor(self, prefix: str = "runs", rule: WriteRule | None = None) -> Doctor:
        return Doctor(DoctorTarget("ui-tests", "artifacts-bucket", prefix), Clients(self.clients.__getitem__), write_rule=rule, rule_source="template.yaml", environ={})

    def invoke_answers(self, *payloads: dict[str, Any]) -> None:
        for payload in payloads:
            body = json.dumps(payload).encode()
            self["lambda"].add_response("invoke", {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))})

    def function_readable(self, memory: int = 2048) -> None:
        config = {"FunctionName": "ui-tests", "FunctionArn": "arn:aws:lambda:eu-west-1:111122223333:function:ui-tests", "Role": ROLE,
                  "PackageType": "Image", "Architectures": ["arm64"], "MemorySize": memory, "Timeout": 300}
        self["lambda"].add_response("get_function", {"Configuration": config, "Concurrency": {"ReservedConcurrentExecutions": 100}})

    def __enter__(self) -> Stubs:
        for stubber in self.stubbers.values():
            stubber.activate()
        return self

    def __exit__(self, *exc: object) -> None:
        for stubber in self.stubbers.values():
            stubber.deactivate()


def _by_topic(lines: Iterator[Line]) -> dict[str, Line]:
    return {line.topic: line for line in lines}


def test_on_aws_iam_decides_the_prefix() -> None:
    with Stubs() as stubs:
        stubs.function_readable()
        stubs.invoke_answers(INFO)
        stubs["lambda"].add_response("get_account_settings", {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 900}})
        stubs["iam"].add_response(
            "simulate_principal_policy",
            {"EvaluationResults": [{"EvalActionName": "s3:PutObject", "EvalDecision": "implicitDeny"}]},
            {"PolicySourceArn": ROLE, "ActionNames": ["s3:PutObject"], "ResourceArns": ["arn:aws:s3:::artifacts-bucket/artifacts/doctor-run/probe.png"]},
        )
        doctor = stubs.doctor(prefix="artifacts", rule=WriteRule(["*"]))  # the template would allow it: IAM wins
        lines = _by_topic([*doctor.function(), *doctor.prefix()])
    assert lines["architecture"].status is Status.PASS and lines["architecture"].found == "arm64"
    assert lines["concurrency"].found.startswith("reserved 100")
    prefix = lines["artifacts prefix"]
    assert prefix.status is Status.FAIL and "implicitDeny, IAM simulation" in prefix.found


def test_without_iam_permission_the_template_decides_and_says_so() -> None:
    with Stubs() as stubs:
        stubs.function_readable()
        stubs.invoke_answers(INFO)
        stubs["lambda"].add_response("get_account_settings", {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 900}})
        stubs["iam"].add_client_error("simulate_principal_policy", "AccessDenied", http_status_code=403)
        doctor = stubs.doctor(rule=WriteRule(["runs/*"]))
        lines = _by_topic([*doctor.function(), *doctor.prefix()])
    prefix = lines["artifacts prefix"]
    assert prefix.status is Status.PASS and "iam:SimulatePrincipalPolicy: AccessDenied, so checked against the template" in prefix.found


def test_a_ci_role_gets_could_not_check_lines_not_failures() -> None:
    """The CallerPolicy allows Invoke and GetFunctionConcurrency, nothing else read here."""
    with Stubs() as stubs:
        stubs["lambda"].add_client_error("get_function", "AccessDeniedException", http_status_code=403)
        stubs["lambda"].add_response("get_function_concurrency", {"ReservedConcurrentExecutions": 100})
        stubs.invoke_answers(INFO)
        stubs["lambda"].add_client_error("get_account_settings", "AccessDeniedException", http_status_code=403)
        stubs["s3"].add_client_error("head_bucket", "403", http_status_code=403)
        for call in ("get_bucket_encryption", "get_public_access_block", "get_bucket_lifecycle_configuration"):
            stubs["s3"].add_client_error(call, "AccessDenied", http_status_code=403)
        doctor = stubs.doctor(rule=None)
        lines = list(doctor.function()) + list(doctor.bucket()) + list(doctor.prefix())
    statuses = {line.topic: line.status for line in lines}
    assert Status.FAIL not in statuses.values(), lines
    assert [t for t, s in statuses.items() if s is Status.SKIP] == [
        "package type", "architecture", "concurrency", "encryption", "public access", "lifecycle", "artifacts prefix",
    ]
    by_topic = _by_topic(iter(lines))
    assert by_topic["memory"].found == "2048 MB" and by_topic["timeout"].found == "299 s"  # from the info answer
    assert "s3:GetLifecycleConfiguration is denied" in by_topic["lifecycle"].found


def test_a_missing_function_stops_the_checks_that_need_it() -> None:
    with Stubs() as stubs:
        stubs["lambda"].add_client_error("get_function", "ResourceNotFoundException", http_status_code=404)
        doctor = stubs.doctor()
        lines = list(doctor.function()) + list(doctor.image()) + list(doctor.smoke())
    assert [(line.topic, line.status) for line in lines] == [("function", Status.FAIL), ("image", Status.SKIP), ("smoke", Status.SKIP)]
    assert "'ui-tests' does not exist" in lines[0].found


def test_expired_credentials_fail_on_aws() -> None:
    with Stubs() as stubs:
        stubs["sts"].add_client_error("get_caller_identity", "ExpiredToken", "The security token included in the request is expired", http_status_code=403)
        lines = list(stubs.doctor().credentials())
    assert [(line.topic, line.status) for line in lines] == [("region", Status.PASS), ("credentials", Status.FAIL)]
    assert "expired" in lines[1].found


def test_locally_sts_is_not_asked() -> None:
    with Stubs(lambda_endpoint="http://127.0.0.1:3001") as stubs:  # no STS response queued: a call would fail
        lines = list(stubs.doctor().credentials())
    assert all(line.status is Status.PASS for line in lines)
    assert "identity not asked" in lines[1].found


def test_a_failed_smoke_names_the_problem_and_a_small_function_fails_memory() -> None:
    smoke = {"version": 1, "kind": "smoke", "ok": False, "problems": ["Chrome did not start: exit 1"], "rendered": {}, "timings": {}}
    with Stubs() as stubs:
        stubs.function_readable(memory=512)
        stubs.invoke_answers(INFO)
        stubs["lambda"].add_response("get_account_settings", {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 900}})
        stubs.invoke_answers(smoke)
        doctor = stubs.doctor()
        lines = _by_topic([*doctor.function(), *doctor.smoke()])
    assert lines["memory"].status is Status.FAIL and "512 MB" in lines["memory"].found
    assert lines["smoke"].status is Status.FAIL and "Chrome did not start: exit 1" in lines["smoke"].found
