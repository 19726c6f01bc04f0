"""Invoke on an asyncio loop: a thousand invocations in flight on one thread.

boto3 holds a thread per call for the whole test. At a thousand calls in
flight those threads spent most of their time waiting for the GIL, and each
answer reached the client hundreds of milliseconds late (docs/benchmarks.md).
This sends the request boto3 would send, to the endpoint boto3 resolved
(``AWS_ENDPOINT_URL_LAMBDA`` included), signed with SigV4 with the credentials
boto3 found (runner/aws/sigv4.py, checked against botocore's signer), over
kept-alive connections (runner/aws/http1.py); the answer goes through the
same interpretation as the boto3 path
(:func:`lambda_ui.runner.aws.lambda_client.outcome_from_answer`).

Like the boto3 client it replaces, it never retries: a retried Invoke runs the
test again.
"""

from __future__ import annotations

import json
import platform
import ssl
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import botocore
import botocore.session
from botocore.httpsession import get_cert_path

from lambda_ui.runner.aws.http1 import ConnectFailed, ConnectionClosed, Headers, Http1Client, HttpError, MalformedAnswer, ReadTimeout
from lambda_ui.runner.aws.lambda_client import (
    InvokeOutcome,
    OutcomeKind,
    default_session,
    outcome_from_answer,
    outcome_from_error,
    read_timeout,
)
from lambda_ui.runner.aws.sigv4 import InvokeSigner, canonical_host

#: What botocore sends for Invoke(InvocationType="RequestResponse", LogType="Tail").
INVOKE_HEADERS = {"X-Amz-Invocation-Type": "RequestResponse", "X-Amz-Log-Type": "Tail"}


def proxy_for(url: str) -> str | None:
    """The proxy botocore would use for ``url``: HTTPS_PROXY / HTTP_PROXY unless NO_PROXY matches."""
    parts = urlsplit(url)
    if parts.hostname is None or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


class AsyncInvoker:
    """Invoke one function; use it on one asyncio loop (it connects on first use)."""

    def __init__(self, region: str, function: str, read_timeout_s: float) -> None:
        session = default_session()  # the start-up probe's: resolved once per run
        client = session.client("lambda", region_name=region)
        core = botocore.session.get_session()  # for the ca_bundle setting only
        self.region = client.meta.region_name
        self.url = f"{client.meta.endpoint_url.rstrip('/')}/2015-03-31/functions/{quote(function, safe='')}/invocations"
        self.user_agent = f"pytest-lambda-ui botocore/{botocore.__version__} Python/{platform.python_version()}"
        self._signer = InvokeSigner(self.url, self.region)
        self._headers = {**INVOKE_HEADERS, "User-Agent": self.user_agent}
        credentials = session.get_credentials()
        if credentials is None:
            raise ValueError("no AWS credentials found for Lambda. Configure them (AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a role).")
        self._credentials = credentials
        verify = core.get_config_variable("ca_bundle") or True  # AWS_CA_BUNDLE or the profile's ca_bundle
        tls = ssl.create_default_context(cafile=get_cert_path(verify)) if self.url.startswith("https:") else None
        self._read_timeout_s = read_timeout_s  # outlasts the function's own timeout (see make_client)
        self._http = Http1Client(self.url, tls, proxy=proxy_for(self.url), connect_timeout_s=10)
        # The request line and Host, as signed: the path stays percent-encoded (a function named by ARN).
        target = self._http.request_target(urlsplit(self.url).path)
        proxy_auth = self._http.proxy_authorization()
        self._request_line = f"POST {target} HTTP/1.1\r\nHost: {canonical_host(self.url)}\r\n" + (f"Proxy-Authorization: {proxy_auth}\r\n" if proxy_auth else "")

    @property
    def endpoint(self) -> str:
        """Scheme, host and port of the Invoke URL, for messages."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def signed_headers(self, body: bytes) -> dict[str, str]:
        credentials = self._credentials.get_frozen_credentials()  # refreshes when they are about to expire
        if credentials.access_key is None or credentials.secret_key is None:  # a refresh that came back empty
            raise RuntimeError("the AWS credentials have no access key any more; check the credential source (profile, role, environment)")
        return self._signer.headers(body, self._headers, credentials.access_key, credentials.secret_key, credentials.token)

    async def invoke(self, payload: Mapping[str, Any]) -> InvokeOutcome:
        body = json.dumps(payload).encode()
        head = self._request_line + "".join(f"{name}: {value}\r\n" for name, value in self.signed_headers(body).items()) + f"Content-Length: {len(body)}\r\n\r\n"
        try:
            answer = await self._http.post(head.encode("latin-1"), body, self._read_timeout_s)
        except ReadTimeout:
            return read_timeout()
        except ConnectFailed as exc:
            # The causes read as botocore's would (runner/aws/lambda_client.py).
            return InvokeOutcome(OutcomeKind.INFRA, cause=f"connection lost: EndpointConnectionError: {exc}", unreachable=exc.unreachable)
        except ConnectionClosed as exc:
            return InvokeOutcome(OutcomeKind.INFRA, cause=f"connection lost: ConnectionClosedError: {exc}")
        except MalformedAnswer as exc:
            return InvokeOutcome(OutcomeKind.INFRA, cause=f"the Lambda endpoint's answer is not HTTP: {exc}")
        except HttpError as exc:
            return InvokeOutcome(OutcomeKind.INFRA, cause=f"{type(exc).__name__}: {exc}")
        headers = answer.headers
        request_id = headers.get("x-amzn-RequestId") or ""
        if answer.status >= 300:
            return _error_outcome(answer.status, headers, answer.body, request_id)
        return outcome_from_answer(answer.body, request_id, headers.get("X-Amz-Function-Error"), headers.get("X-Amz-Log-Result"))

    async def aclose(self) -> None:
        await self._http.aclose()


def _error_outcome(status: int, headers: Headers, raw: bytes, request_id: str) -> InvokeOutcome:
    """An error answer as botocore reads it: the code from ``x-amzn-ErrorType`` (before any
    ``:``) or the body's ``__type``/``code``; the message from ``message``/``Message``."""
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = (headers.get("x-amzn-ErrorType") or str(body.get("__type") or body.get("code") or "")).split(":")[0].split("#")[-1]
    message = str(body.get("message") or body.get("Message") or raw[:300].decode("utf-8", "replace"))
    retry_after = headers.get("Retry-After") or body.get("retryAfterSeconds")
    return outcome_from_error(status, code, message, request_id, str(body.get("Reason", "")), retry_after)
