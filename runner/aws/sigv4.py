"""SigV4 for the one request shape the client sends thousands of: POST Invoke.

botocore's ``SigV4Auth`` is general (any header set, query strings, streaming
bodies) and derives the signing key anew for every request; at a thousand
invocations a second it was a third of the invocation loop's time
(docs/benchmarks.md). This signs the same canonical request (AWS's
specification, checked against ``SigV4Auth`` byte for byte in
tests/unit/test_sigv4.py) and keeps the day's signing key.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import time
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def canonical_host(url: str) -> str:
    """``host[:port]``, without the scheme's default port (as botocore writes it)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # IPv6
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return host if parts.port in (None, default) else f"{host}:{parts.port}"


class InvokeSigner:
    """Signs ``POST url`` with fixed headers for one service and region."""

    def __init__(self, url: str, region: str, service: str = "lambda") -> None:
        self.region = region
        self.service = service
        self._host = canonical_host(url)
        # Non-S3 services sign the path URI-encoded once more (an already encoded ':' becomes %253A).
        self._canonical_path = quote(urlsplit(url).path or "/", safe="/~")
        self._keys: dict[tuple[str, str], bytes] = {}
        self._stamp: tuple[int, str] = (-1, "")  # the current second's X-Amz-Date
        self._fixed: tuple[tuple[tuple[str, str], ...], dict[str, str]] = ((), {})  # headers given -> their canonical form

    def _signing_key(self, secret_key: str, day: str) -> bytes:
        key = self._keys.get((secret_key, day))
        if key is None:
            k_date = _hmac(f"AWS4{secret_key}".encode(), day)
            key = _hmac(_hmac(_hmac(k_date, self.region), self.service), "aws4_request")
            self._keys = {(secret_key, day): key}  # one day's key for the current credentials
        return key

    def _now_stamp(self) -> str:
        second = int(time.time())
        if self._stamp[0] != second:
            self._stamp = (second, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second)))
        return self._stamp[1]

    def _canonical(self, headers: dict[str, str]) -> dict[str, str]:
        """Names lower-cased, values with runs of spaces folded; the same headers come every time."""
        given = tuple(headers.items())
        if self._fixed[0] != given:
            self._fixed = (given, {k.lower(): " ".join(str(v).split()) for k, v in given if k.lower() != "user-agent"})
        return self._fixed[1]

    def headers(
        self,
        body: bytes,
        headers: dict[str, str],
        access_key: str,
        secret_key: str,
        token: str | None,
        now: datetime.datetime | None = None,
    ) -> dict[str, str]:
        """``headers`` plus X-Amz-Date, X-Amz-Security-Token and Authorization.

        Every header given is signed except User-Agent (which botocore leaves out too).
        """
        stamp = now.strftime("%Y%m%dT%H%M%SZ") if now is not None else self._now_stamp()
        day = stamp[:8]
        signed = dict(self._canonical(headers))
        signed["host"] = self._host
        signed["x-amz-date"] = stamp
        if token:
            signed["x-amz-security-token"] = " ".join(token.split())
        names = sorted(signed)
        canonical = "\n".join([
            "POST",
            self._canonical_path,
            "",
            "".join(f"{name}:{signed[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ])
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        to_sign = f"{ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
        signature = hmac.digest(self._signing_key(secret_key, day), to_sign.encode("utf-8"), "sha256").hex()
        out = dict(headers)
        out["X-Amz-Date"] = stamp
        if token:
            out["X-Amz-Security-Token"] = token
        out["Authorization"] = f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
        return out
