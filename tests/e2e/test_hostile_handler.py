"""Hostile input to the handler: a clean, typed answer, never a crash or a full /tmp."""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_ui.contract import CONTRACT_VERSION
from stand_ins.lambda_like import LambdaLikeProcess
from stand_ins.services import AWS_TEST_ENV
from tests.e2e.test_handler import _bundle_ref, _event, _read_only_paths

MB = 1024 * 1024


def zeros_bomb(name: str, size_mb: int) -> bytes:
    """A real zip whose one member is ``size_mb`` MB of zeros, in about ``size_mb`` KB.

    Built by hand: one deflate block of 1 MB of zeros, repeated (a full flush
    makes each block stand alone), takes a second where zipfile takes five.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = block * size_mb + zlib.compressobj(9, zlib.DEFLATED, -15).flush()  # an empty final block
    crc = 0
    for _ in range(size_mb):
        crc = zlib.crc32(bytes(MB), crc)
    size = size_mb * MB
    raw = name.encode()
    # version 20, no flags, deflate, no time; the sizes are true ones.
    common = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0, crc, len(data), size)
    local = b"PK\x03\x04" + common + struct.pack("<HH", len(raw), 0) + raw
    central = b"PK\x01\x02" + struct.pack("<H", 20) + common + struct.pack("<HHHHHII", len(raw), 0, 0, 0, 0, 0o100644 << 16, 0) + raw
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    return local + data + central + end


@pytest.fixture
def small_tmp() -> Iterator[Path]:
    """A real 400 MB /tmp (a tmpfs), as Lambda's ephemeral storage is a fixed size."""
    path = Path(tempfile.mkdtemp(prefix="lt-", dir="/tmp"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400m,mode=1777", "lambda-ui-test", str(path)], capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        shutil.rmtree(path, ignore_errors=True)
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=False)
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="lt-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _environment(tmp: Path, s3_env: Any) -> LambdaLikeProcess:
    env = dict(AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=s3_env.endpoint, LAMBDA_UI_DEADLINE_MARGIN_S="4")
    return LambdaLikeProcess(tmp, env=env, read_only_code=_read_only_paths())


def test_a_zip_bomb_gets_bundle_invalid_not_a_full_tmp(small_tmp: Path, s3_env: Any, bucket: str, s3_client: Any) -> None:
    data = zeros_bomb("tests/zeros.bin", 1024)
    assert len(data) < 1.1 * MB
    s3_client.put_object(Bucket=bucket, Key="bundles/bomb.zip", Body=data)
    ref = {"bucket": bucket, "key": "bundles/bomb.zip", "sha256": hashlib.sha256(data).hexdigest()}
    process = _environment(small_tmp, s3_env)
    try:
        response = process.invoke(_event("tests/test_a.py::test_a", ref, bucket))
        assert response["kind"] == "error" and response["error_type"] == "BundleInvalid", response
        assert "unpacks to 1 file(s) of 1,024.0 MB" in response["message"], response["message"]
        assert "MB free" in response["message"] and "tests/zeros.bin (1,024.0 MB)" in response["message"]
        assert response["retryable"] is False
        # Nothing half-written is left, and the environment still answers.
        assert sorted(p.name for p in (small_tmp / "lambda-ui" / "bundles").iterdir()) == []
        assert process.invoke({"version": CONTRACT_VERSION, "kind": "info"})["kind"] == "info"
    finally:
        process.close()


def test_a_pytest_usage_error_comes_back_with_its_text(short_tmp: Path, s3_env: Any, bucket: str, s3_client: Any, tmp_path: Path) -> None:
    """pytest writes usage errors to stderr; the answer carries them, so the client can say why."""
    folder = tmp_path / "suite"
    folder.mkdir()
    ref = _bundle_ref(s3_client, bucket, folder, {"test_a.py": "def test_a():\n    pass\n"})
    process = _environment(short_tmp, s3_env)
    try:
        response = process.invoke(_event("test_a.py::test_a", ref, bucket, pytest_args=["--no-such-option"]))
    finally:
        process.close()
    assert response["kind"] == "run" and response["exit_code"] == 4 and response["reports"] == []
    assert "unrecognized arguments: --no-such-option" in " ".join(response["warnings"]), response["warnings"]
