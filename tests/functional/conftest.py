"""Fixtures of the pytester tests that drive ``pytest --lambda`` through the scripted Invoke API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stand_ins.fake_invoke_api import FakeInvokeApi, FakeState


@pytest.fixture
def fake_lambda(s3_env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeInvokeApi]:
    """The scripted Invoke API, reached by boto3 (here and in pytester subprocesses) through AWS_ENDPOINT_URL_LAMBDA."""
    api = FakeInvokeApi(FakeState(function="ui-tests")).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", api.endpoint)
    yield api
    api.stop()
