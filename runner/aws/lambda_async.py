"""Invoke on an asyncio loop: a thousand invocations in flight on one thread.

boto3 holds a thread per call for the whole test. At a thousand calls in
flight those threads spent most of their time waiting for the GIL, and each
answer reached the client hundreds of milliseconds late (docs/benchmarks.md).
This sends the request boto3 would send, to the endpoint boto3 resolved
(``AWS_ENDPOINT_URL_LAMBDA`` included), signed with SigV4
with the credentials boto3 found (runner/aws/sigv4.py, checked against botocore's
signer), through one aiohttp session; the answer goes
through the same interpretation as the boto3 path
(:func:`runner.aws.lambda_client.outcome_from_answer`).

Like the boto3 client it replaces, it never retries: a retried Invoke runs the
test again.
"""

from __future__ import annotations

import json
import socket
import ssl
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import boto3
import botocore
import botocore.session
import yarl
from botocore.httpsession import get_cert_path

from runner.aws.lambda_client import InvokeOutcome, outcome_from_answer, outcome_from_error, read_timeout
from runner.aws.sigv4 import InvokeSigner

#: What botocore sends for Invoke(InvocationType="RequestResponse", LogType="Tail").
INVOKE_HEADERS = {"X-Amz-Invocation-Type": "RequestResponse", "X-Amz-Log-Type": "Tail"}


def proxy_for(url: str) -> str | None:
    """The proxy botocore would use for ``url``: HTTPS_PROXY / HTTP_PROXY unless NO_PROXY matches."""
    parts = urlsplit(url)
    if parts.hostname is None or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def _keepalive_socket(addr_info: Any) -> socket.socket:
    """A socket with TCP keepalive: NAT gateways drop connections idle for minutes (a long test)."""
    family, kind, proto, _name, _addr = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    return sock


class AsyncInvoker:
    """Invoke one function; create and use it on the loop that awaits it."""

    def __init__(self, region: str, function: str, read_timeout_s: float, max_connections: int) -> None:
        core = botocore.session.get_session()
        session = boto3.session.Session(botocore_session=core, region_name=region)
        client = session.client("lambda")
        self.region = client.meta.region_name
        self.url = f"{client.meta.endpoint_url.rstrip('/')}/2015-03-31/functions/{quote(function, safe='')}/invocations"
        # encoded=True: sent exactly as signed (the function name stays percent-encoded).
        self._wire_url = yarl.URL(self.url, encoded=True)
        self.user_agent = f"pytest-lambda-ui botocore/{botocore.__version__} aiohttp/{aiohttp.__version__}"
        self._signer = InvokeSigner(self.url, self.region)
        self._headers = {**INVOKE_HEADERS, "User-Agent": self.user_agent}
        self._credentials = session.get_credentials()
        if self._credentials is None:
            raise ValueError("no AWS credentials found for Lambda")
        verify = core.get_config_variable("ca_bundle") or True  # AWS_CA_BUNDLE or the profile's ca_bundle
        self._ssl = ssl.create_default_context(cafile=get_cert_path(verify)) if self.url.startswith("https:") else None
        self._read_timeout_s = read_timeout_s
        self._max_connections = max(1, max_connections)
        self._http: aiohttp.ClientSession | None = None

    def signed_headers(self, body: bytes) -> dict[str, str]:
        credentials = self._credentials.get_frozen_credentials()  # refreshes when they are about to expire
        return self._signer.headers(body, self._headers, credentials.access_key, credentials.secret_key, credentials.token)

    async def invoke(self, payload: Mapping[str, Any]) -> InvokeOutcome:
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl if self._ssl is not None else True, socket_factory=_keepalive_socket),
                # The read timeout outlasts the function's own timeout (see make_client).
                timeout=aiohttp.ClientTimeout(total=None, connect=10, sock_read=self._read_timeout_s),
                # Not trust_env: it looks up the proxy and ~/.netrc again for every request,
                # on a thread. The proxy is looked up once (proxy_for).
                proxy=proxy_for(self.url),
                auto_decompress=False,
                cookie_jar=aiohttp.DummyCookieJar(),  # the Lambda API sets no cookies
            )
        body = json.dumps(payload).encode()
        headers = self.signed_headers(body)
        try:
            async with self._http.post(self._wire_url, data=body, headers=headers) as response:
                raw = await response.read()
                answer_headers = response.headers
                status = response.status
        except aiohttp.SocketTimeoutError:
            return read_timeout()
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError):
            # The causes read as botocore's would (runner/aws/lambda_client.py).
            return InvokeOutcome("infra", cause="connection lost: EndpointConnectionError")
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError, ConnectionError):
            return InvokeOutcome("infra", cause="connection lost: ConnectionClosedError")
        except aiohttp.ClientError as exc:
            return InvokeOutcome("infra", cause=f"{type(exc).__name__}: {exc}")
        request_id = answer_headers.get("x-amzn-RequestId", "")
        if status >= 300:
            return _error_outcome(status, answer_headers, raw, request_id)
        return outcome_from_answer(raw, request_id, answer_headers.get("X-Amz-Function-Error"), answer_headers.get("X-Amz-Log-Result"))

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None


def _error_outcome(status: int, headers: Any, raw: bytes, request_id: str) -> InvokeOutcome:
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
