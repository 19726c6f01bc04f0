"""The Invoke signer signs exactly what botocore's SigV4Auth signs."""

from __future__ import annotations

import datetime
from urllib.parse import quote

import pytest
from botocore import auth as botocore_auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from lambda_ui.runner.aws.lambda_async import INVOKE_HEADERS
from lambda_ui.runner.aws.sigv4 import InvokeSigner, canonical_host

NOW = datetime.datetime(2026, 11, 27, 23, 59, 58, tzinfo=datetime.timezone.utc)


def botocore_headers(url: str, body: bytes, headers: dict[str, str], credentials: Credentials, region: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setattr(botocore_auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    request = AWSRequest("POST", url, data=body, headers=dict(headers))
    botocore_auth.SigV4Auth(credentials, "lambda", region).add_auth(request)
    return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}


def invoke_url(endpoint: str, function: str) -> str:
    return f"{endpoint}/2015-03-31/functions/{quote(function, safe='')}/invocations"


CASES = {
    "https, plain name, session token": ("https://lambda.eu-west-1.amazonaws.com", "ui-tests", "eu-west-1", "FwoGZXIvYXdzEJr//////////wEaDHk/token+with/slashes=="),
    "https, ARN with colons and a qualifier": ("https://lambda.us-east-1.amazonaws.com", "arn:aws:lambda:us-east-1:123456789012:function:ui-tests:live", "us-east-1", None),
    "loopback with a port": ("http://127.0.0.1:50123", "ui-tests", "us-east-1", None),
    "https on a non-default port": ("https://vpce-0a1b.lambda.eu-central-1.vpce.amazonaws.com:8443", "UiTestFunction", "eu-central-1", "tok"),
    "http on port 80": ("http://localhost:80", "f", "ap-south-1", None),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("body", [b'{"version": 1, "kind": "run"}', "{\"nodeids\": [\"test_ü.py::test_ö[✓]\"]}".encode(), b""])
def test_signature_matches_botocore(case: str, body: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint, function, region, token = CASES[case]
    url = invoke_url(endpoint, function)
    credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    headers = {**INVOKE_HEADERS, "User-Agent": "pytest-lambda-ui test"}
    expected = botocore_headers(url, body, headers, credentials, region, monkeypatch)
    signer = InvokeSigner(url, region)
    for _ in range(2):  # the second one uses the cached signing key
        ours = signer.headers(body, headers, credentials.access_key, credentials.secret_key, credentials.token, now=NOW)
        assert ours == expected


def test_a_new_day_or_new_credentials_change_the_key() -> None:
    signer = InvokeSigner(invoke_url("https://lambda.eu-west-1.amazonaws.com", "f"), "eu-west-1")
    first = signer.headers(b"{}", dict(INVOKE_HEADERS), "AK", "secret-1", None, now=NOW)["Authorization"]
    next_day = signer.headers(b"{}", dict(INVOKE_HEADERS), "AK", "secret-1", None, now=NOW + datetime.timedelta(seconds=2))["Authorization"]
    rotated = signer.headers(b"{}", dict(INVOKE_HEADERS), "AK", "secret-2", None, now=NOW)["Authorization"]
    assert "20261127/eu-west-1/lambda/aws4_request" in first and "20261128/eu-west-1/lambda/aws4_request" in next_day
    assert len({first.split("Signature=")[1], next_day.split("Signature=")[1], rotated.split("Signature=")[1]}) == 3


def test_canonical_host_drops_only_default_ports() -> None:
    assert canonical_host("https://h.example:443/x") == "h.example"
    assert canonical_host("http://h.example:80/x") == "h.example"
    assert canonical_host("http://h.example:443/x") == "h.example:443"
    assert canonical_host("http://[::1]:9000/x") == "[::1]:9000"
