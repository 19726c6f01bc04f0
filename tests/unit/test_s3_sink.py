"""The S3 sink's background uploads: a failure anywhere in one is reported, never dropped."""

from __future__ import annotations

import pytest

from lambda_ui.runner.artifacts.sinks import S3Sink
from lambda_ui.runner.aws.s3 import S3Location


def test_a_client_that_cannot_be_made_is_an_upload_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # An xdist worker's sink makes its client on the first upload's thread. The error was the
    # future's, which nobody reads: the report linked a screenshot that never reached S3.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "not a url")
    sink = S3Sink(S3Location("artifacts", "runs"))
    errors: list[str] = []
    try:
        url = sink.put("run/test/failure-screenshot.png", b"\x89PNG", "image/png", errors.append)
        assert sink.flush(timeout=10) == []
    finally:
        sink.close()
    assert url == "s3://artifacts/runs/run/test/failure-screenshot.png"
    assert len(errors) == 1 and errors[0].startswith(f"upload of {url} failed: ") and "Invalid endpoint" in errors[0], errors
