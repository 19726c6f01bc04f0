"""What the scale benchmarks run against: the fake Invoke API and a loopback S3.

Shared by bench/fanout.py, bench/scheduling.py and bench/client_startup.py: each
writes a suite of scripted test names (see stand_ins/fake_invoke_api.py) and runs
``pytest --lambda`` on it with the environment this yields.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3

from stand_ins.fake_invoke_api import start_in_process
from stand_ins.services import AWS_TEST_ENV, LoopbackS3, free_port


def write_suite(path: Path, ids: list[str]) -> None:
    """One parametrized test whose ids tell the stand-in what to do (``sleepms2500_0``...)."""
    quoted = ", ".join(f'"{i}"' for i in ids)
    path.write_text(textwrap.dedent(f"""
        import pytest
        IDS = [{quoted}]
        @pytest.mark.parametrize("case", IDS, ids=IDS)
        def test_ui(case):
            pass
    """))


@contextmanager
def stand_ins(bucket: str, timeout_s: int) -> Iterator[dict[str, str]]:
    """The stand-in (function ``ui-tests``, in its own process) and S3 with ``bucket``; yields the environment for pytest."""
    s3 = LoopbackS3.start()
    port = free_port()
    server = start_in_process(port, timeout_s=timeout_s)
    try:
        boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id=AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
                     aws_secret_access_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1").create_bucket(Bucket=bucket)
        yield dict(os.environ, **AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=s3.endpoint, AWS_ENDPOINT_URL_LAMBDA=f"http://127.0.0.1:{port}")
    finally:
        server.kill()
        server.wait()
        s3.stop()
