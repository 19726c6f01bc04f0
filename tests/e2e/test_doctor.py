"""``lambda-ui doctor`` against the local stand-ins: a setup that passes, and five broken ones.

Doctor runs as a subprocess, as a person or CI runs it, against the local Lambda (the real
handler, Chromium) and moto_server's S3. Each broken setup must name its problem on a ✗
line and exit 1; nothing else may fail with it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from lambda_ui.local_lambda import LocalLambda, Options, load_function_config, with_overrides
from lambda_ui.local_lambda.cfn import load_template
from stand_ins.services import AWS_TEST_ENV, EXPECTED_CREDENTIALS, LoopbackS3, scoped_environ
from tests.conftest import REPO

pytestmark = pytest.mark.e2e
BUCKET = "doctor-artifacts"


def _configure_like_the_template(endpoint: str, bucket: str) -> None:
    """The bucket as template.yaml makes it: SSE-S3, public access blocked, runs/ expiring."""
    s3 = boto3.client(
        "s3", endpoint_url=endpoint, region_name=AWS_TEST_ENV["AWS_REGION"],
        aws_access_key_id=AWS_TEST_ENV["AWS_ACCESS_KEY_ID"], aws_secret_access_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
    )
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")})
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [{"ID": "expire-run-artifacts", "Status": "Enabled", "Filter": {"Prefix": "runs/"}, "Expiration": {"Days": 14}}]}
    )


def _template_copy(tmp: Path, change: dict[str, Any]) -> Path:
    """template.yaml with the function's Properties changed; the image's Dockerfile is still found.

    Properties are set on the function itself, never through the template's parameters, so
    the copy does not depend on their allowed ranges.
    """
    template = load_template(Path(REPO, "template.yaml"))
    function = template["Resources"]["UiTestFunction"]
    function["Metadata"]["DockerContext"] = REPO  # absolute: the copy lives elsewhere
    for key, value in change.items():
        if key == "Environment":
            function["Properties"]["Environment"]["Variables"].update(value)
        else:
            function["Properties"][key] = value
    path = tmp / "template.yaml"
    path.write_text(yaml.safe_dump(template, sort_keys=False))
    return path


class Setup:
    """A local Lambda and the loopback S3, and doctor run against them from a suite folder."""

    def __init__(self, s3: LoopbackS3, lam: LocalLambda, suite: Path) -> None:
        self.s3, self.lam, self.suite = s3, lam, suite

    def doctor(self, *args: str, cwd: Path | None = None) -> tuple[int, list[str]]:
        env = {**os.environ, **AWS_TEST_ENV, "AWS_ENDPOINT_URL_S3": self.s3.endpoint, "AWS_ENDPOINT_URL_LAMBDA": self.lam.endpoint, "PYTHONIOENCODING": "utf-8"}
        for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM", "AWS_PROFILE"):
            env.pop(name, None)
        result = subprocess.run(
            [sys.executable, "-m", "lambda_ui.cli.main", "doctor", "--template", os.path.join(REPO, "template.yaml"), *args],
            cwd=cwd or self.suite, env=env, capture_output=True, text=True, timeout=600,
        )
        lines = result.stdout.splitlines()
        assert lines and lines[-1].startswith("doctor: "), result.stdout + result.stderr
        return result.returncode, lines[:-1]


def _suite(tmp: Path, requirements: str = "") -> Path:
    """A suite folder whose ini names the function and destination, as pytest --lambda reads them."""
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "pytest.ini").write_text(f"[pytest]\nlambda_function = UiTestFunction\nartifacts = s3://{BUCKET}/runs\n")
    (tmp / "test_ui.py").write_text("def test_nothing():\n    pass\n")
    if requirements:
        (tmp / "requirements-ui.txt").write_text(requirements)
    return tmp


@contextmanager
def _running(s3: LoopbackS3, template: str | Path, suite: Path, **overrides: Any) -> Iterator[Setup]:
    config = with_overrides(load_function_config(template), timeout=60, concurrency=2, **overrides)
    with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=s3.endpoint), LocalLambda(config, Options(port=0, expect_credentials=EXPECTED_CREDENTIALS)) as lam:
        yield Setup(s3, lam, suite)


@pytest.fixture(scope="module")
def setup(loopback_s3: LoopbackS3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    _configure_like_the_template(loopback_s3.endpoint, BUCKET)
    with _running(loopback_s3, os.path.join(REPO, "template.yaml"), _suite(tmp_path_factory.mktemp("suite"))) as running:
        yield running


def _failed(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("✗")]


def test_a_ready_setup_passes_every_check_and_saves_the_screenshot(setup: Setup, tmp_path: Path) -> None:
    shot = tmp_path / "smoke.png"
    status, lines = setup.doctor("--save-screenshot", str(shot))
    assert status == 0 and all(line.startswith("✓") for line in lines), "\n".join(lines)
    topics = [line.split(":", 1)[0][2:] for line in lines]
    assert topics == [
        "region", "credentials", "function", "package type", "architecture", "memory", "timeout", "concurrency",
        "bucket", "encryption", "public access", "lifecycle", "artifacts prefix", "image", "smoke", "screenshot",
    ]
    # The ini's function and destination were used, as pytest --lambda would use them.
    assert any(f"{BUCKET} is reachable" in line for line in lines)
    assert any("'runs' is inside the role's rule runs/*" in line and "local stand-in has no IAM" in line for line in lines)
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_no_bucket(setup: Setup) -> None:
    status, lines = setup.doctor("--bucket", "no-such-doctor-bucket")
    assert status == 1
    assert [line.split(":", 1)[0] for line in _failed(lines)] == ["✗ bucket"]
    assert "'no-such-doctor-bucket' does not exist" in _failed(lines)[0]


def test_prefix_outside_the_role_rule(setup: Setup) -> None:
    status, lines = setup.doctor("--prefix", "artifacts")
    assert status == 1
    failed = _failed(lines)
    # The lifecycle rule covers runs/ only, so it fails too: both name the prefix.
    assert [line.split(":", 1)[0] for line in failed] == ["✗ lifecycle", "✗ artifacts prefix"], failed
    assert "'artifacts' is outside what the function's role may write (runs/*" in failed[1]
    assert "denied on AWS" in failed[1]


def test_image_drift(setup: Setup, tmp_path: Path) -> None:
    suite = _suite(tmp_path / "drifting", requirements="packaging<1\n")
    status, lines = setup.doctor(cwd=suite)
    assert status == 1
    failed = _failed(lines)
    assert len(failed) == 1 and failed[0].startswith("✗ image:"), failed
    assert "packaging<1 (requirements-ui.txt): the image has" in failed[0]


def test_function_too_small(loopback_s3: LoopbackS3, tmp_path: Path) -> None:
    _configure_like_the_template(loopback_s3.endpoint, BUCKET)
    template = _template_copy(tmp_path, {"MemorySize": 512})
    with _running(loopback_s3, template, _suite(tmp_path / "suite")) as small:
        status, lines = small.doctor()
    assert status == 1
    failed = _failed(lines)
    assert len(failed) == 1 and failed[0].startswith("✗ memory: 512 MB is below the recommended minimum 1024 MB"), failed


def test_chrome_that_cannot_start(loopback_s3: LoopbackS3, tmp_path: Path) -> None:
    _configure_like_the_template(loopback_s3.endpoint, BUCKET)
    template = _template_copy(tmp_path, {"Environment": {"CHROME_BINARY": "/bin/false"}})
    with _running(loopback_s3, template, _suite(tmp_path / "suite")) as broken:
        status, lines = broken.doctor()
    assert status == 1
    failed = _failed(lines)
    assert len(failed) == 1 and failed[0].startswith("✗ smoke: the browser check in the function failed:") and "Chrome" in failed[0], failed
