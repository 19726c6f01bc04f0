"""Who may call the local Lambda: the checks every Invoke and control-plane request passes.

A web page open in a browser on this machine can send a "simple" cross-origin request to
127.0.0.1 (a POST with ``Content-Type: text/plain``) without asking first, and a DNS
rebinding page can do it under a name of its own. Neither can send an ``Authorization``
header without a CORS preflight, which is refused, and the browser always adds ``Origin``
and its own ``Host``. So a request is refused (403) when:

- it is a CORS preflight (``OPTIONS``), or carries an ``Origin`` header;
- its ``Host`` does not name the address the stand-in is bound to (``127.0.0.1``,
  ``localhost``, or the ``--host`` given). The port is not compared: a browser always
  sends the name it connected to, so a rebinding page shows itself by its name, while a
  loopback proxy in front of the stand-in (a test's recorder) forwards its own port;
- it has no SigV4 ``Authorization`` header (boto3 and runner/aws/sigv4.py always send one);
- the stand-in was given credentials to expect and the signature, checked with botocore's
  ``SigV4Auth`` over the path as it arrived, is not theirs, or its date is more than five
  minutes away (as the service checks).

Errors have the service's shapes: ``MissingAuthenticationTokenException``,
``UnrecognizedClientException``, ``InvalidSignatureException``; the rest
``AccessDeniedException``.
"""

from __future__ import annotations

import datetime
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message

from lambda_ui.local_lambda import wire

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/,\s]+)/(?P<day>\d{8})/(?P<region>[^/,\s]+)/(?P<service>[^/,\s]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<names>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)
#: How far a request's X-Amz-Date may be from now (Lambda's limit).
MAX_SKEW = datetime.timedelta(minutes=5)
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


@dataclass(frozen=True)
class Credentials:
    """The access key and secret a caller must sign with."""

    access_key: str
    secret_key: str


def allowed_hosts(host: str) -> frozenset[str]:
    """Host names (``Host`` without its port) a request to the stand-in bound to ``host``
    may carry."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    names = {shown.lower()}
    if host in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"):
        names.update(_LOOPBACK_NAMES)
    return frozenset(names)


def host_name(value: str) -> str:
    """``Host`` without its port: ``127.0.0.1:3001`` -> ``127.0.0.1``, ``[::1]:80`` -> ``[::1]``."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    name, _, port = value.rpartition(":")
    return name if name and port.isdigit() else value


def refusal_before_body(method: str, headers: Mapping[str, str] | Message, hosts: frozenset[str]) -> wire.ServiceError | None:
    """Why the request is refused on its method and headers alone (None: go on)."""
    if method == "OPTIONS":
        return _denied("CORS preflight requests are refused: the local Lambda answers only signed API calls.")
    if headers.get("Origin") is not None:
        return _denied(f"Requests from a web page (Origin: {headers.get('Origin')}) are refused.")
    host = (headers.get("Host") or "").strip()
    if host_name(host) not in hosts:
        return _denied(f"Host {host or '(none)'} does not name this endpoint ({', '.join(sorted(hosts))}).")
    if _AUTHORIZATION.fullmatch(headers.get("Authorization") or "") is None:
        return wire.ServiceError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    return None


def signature_problem(
    credentials: Credentials, method: str, raw_path: str, headers: Mapping[str, str] | Message, body: bytes, now: datetime.datetime | None = None
) -> wire.ServiceError | None:
    """Check the SigV4 signature as the service would (None: it is the expected caller's)."""
    # Imported here: only a stand-in that expects credentials needs botocore.
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    match = _AUTHORIZATION.fullmatch(headers.get("Authorization") or "")
    if match is None:
        return wire.ServiceError(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    if not hmac.compare_digest(match["key"], credentials.access_key):
        return wire.ServiceError(403, "UnrecognizedClientException", "The security token included in the request is invalid.")
    names = match["names"].split(";")
    if "host" not in names or "x-amz-date" not in names:
        return _invalid_signature("'Host' and 'X-Amz-Date' must be signed.")
    stamp = headers.get("X-Amz-Date") or ""
    try:
        signed_at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return _invalid_signature(f"X-Amz-Date {stamp!r} is not a date.")
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if abs(now - signed_at) > MAX_SKEW or not stamp.startswith(match["day"]):
        return _invalid_signature(f"Signature expired: {stamp} is not within 5 minutes of {now:%Y%m%dT%H%M%SZ}.")
    request = AWSRequest(method, f"http://{headers.get('Host', '')}{raw_path}", data=body, headers={n: headers.get(n, "") for n in names})
    request.context["timestamp"] = stamp
    signer = SigV4Auth(BotoCredentials(credentials.access_key, credentials.secret_key), match["service"], match["region"])
    expected = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    if not hmac.compare_digest(expected, match["signature"]):
        return _invalid_signature("The request signature we calculated does not match the signature you provided.")
    return None


def _denied(message: str) -> wire.ServiceError:
    return wire.ServiceError(403, "AccessDeniedException", message)


def _invalid_signature(message: str) -> wire.ServiceError:
    return wire.ServiceError(403, "InvalidSignatureException", message)
