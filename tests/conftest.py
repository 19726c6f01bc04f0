from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator

import boto3
import pytest

from tests.support.services import AWS_TEST_ENV, LoopbackS3

pytest_plugins = ["pytester"]

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def loopback_s3() -> Iterator[LoopbackS3]:
    server = LoopbackS3.start()
    yield server
    server.stop()


@pytest.fixture
def s3_env(loopback_s3: LoopbackS3, monkeypatch: pytest.MonkeyPatch) -> LoopbackS3:
    """Point boto3 (here and in pytester subprocesses) at the loopback S3."""
    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", loopback_s3.endpoint)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return loopback_s3


@pytest.fixture
def bucket(s3_env: LoopbackS3) -> str:
    name = f"artifacts-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=s3_env.endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_client(s3_env: LoopbackS3):  # noqa: ANN201 - boto3 client type
    return boto3.client("s3", endpoint_url=s3_env.endpoint)


@pytest.fixture
def run_tmpdir(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A TMPDIR of one run's own, which marks its browser processes (see tests/support/procs.py).
    Short, because Chrome's socket paths must fit in 108 bytes."""
    path = tempfile.mkdtemp(prefix="run-", dir="/tmp")
    monkeypatch.setenv("TMPDIR", path)
    yield path
    shutil.rmtree(path, ignore_errors=True)
