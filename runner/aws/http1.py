"""A keep-alive HTTP/1.1 client for one kind of request: POST a body, read the answer.

The invocation loop sends a request and reads an answer per test, and every
microsecond it spends doing so delays the next test in that slot. aiohttp
spent ~190 µs of loop time per invocation; this client spends about a third
of that (docs/benchmarks.md), because it does only what Invoke needs:

- http and https (with the given ``ssl.SSLContext``), connections kept alive
  and reused, TCP keepalive on each (NAT gateways drop connections idle for
  the minutes a long test takes);
- a proxy: absolute-form requests for http, a ``CONNECT`` tunnel for https,
  basic credentials from the proxy URL.

The answer's framing (``Content-Length``, chunked, until the server closes)
and whether the connection may be reused are llhttp's call, through
httptools' ``HttpResponseParser``: a parser we do not own rejects what a
hand-written one let through (issue 14).

It never retries: a re-sent Invoke runs the test again.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import socket
import ssl
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar, overload
from urllib.parse import unquote, urlsplit

import httptools

#: An answer's head larger than this is not an HTTP answer we understand.
MAX_HEAD_BYTES = 64 * 1024
#: Connect errors that mean nobody is there (as opposed to a peer that answered wrongly).
UNREACHABLE_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ETIMEDOUT})

_T = TypeVar("_T")


class HttpError(Exception):
    """The request got no complete answer; the subclass says why."""


class ConnectFailed(HttpError):
    """No connection to the endpoint (name, refusal, timeout, TLS handshake, or the proxy said no).

    ``unreachable``: nothing answered at all (the name does not resolve, every address refused
    or timed out), as opposed to a peer that answered wrongly (TLS, a proxy's refusal).
    """

    def __init__(self, message: str, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class ConnectionClosed(HttpError):
    """The connection ended before the whole answer arrived."""


class ReadTimeout(HttpError):
    """No complete answer within the read timeout."""


class MalformedAnswer(HttpError):
    """Bytes came back that are not an HTTP/1.1 answer."""


class Headers(Mapping[str, str]):
    """An answer's header fields; ``in``, ``[]`` and ``get`` ignore the case of the name.

    A field sent more than once reads as its values joined with ``", "`` (RFC 9110 §5.3).
    Names are kept lower-case.
    """

    __slots__ = ("_fields",)

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        self._fields: dict[str, str] = {}
        for name, value in fields:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        key = name.lower()
        known = self._fields.get(key)
        self._fields[key] = value if known is None else f"{known}, {value}"

    def __getitem__(self, name: str) -> str:
        return self._fields[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._fields

    @overload
    def get(self, name: str) -> str | None: ...
    @overload
    def get(self, name: str, default: str | _T) -> str | _T: ...
    def get(self, name: str, default: object = None) -> object:
        return self._fields.get(name.lower(), default)

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Headers({self._fields!r})"


@dataclass
class Answer:
    status: int
    headers: Headers
    body: bytes


class _Connection(asyncio.Protocol):
    """One socket: a request at a time, its answer fed to llhttp as bytes arrive.

    The ``on_*`` methods are httptools' callbacks; llhttp keeps its state across the
    answers of a kept-alive connection.
    """

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Answer] | None = None
        self._no_body = False
        self._status = 0
        self._headers = Headers()
        self._body: list[bytes] = []
        self._head_done = False  # the final (not 1xx) answer's head is parsed
        self._head_bytes = 0
        self._received = False

    # -- asyncio.Protocol -------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        waiter = self._waiter
        if waiter is None or waiter.done():
            self.reusable = False  # bytes on an idle connection (a 408 before closing, say) answer nothing we sent
            return
        self._received = True
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self.fail(MalformedAnswer(f"the server switched protocols (HTTP {self._status})"))
        except httptools.HttpParserError as exc:
            self.fail(MalformedAnswer(f"the answer's {'body' if self._head_done else 'head'} is not HTTP/1.1: {exc}"))
        else:
            if not self._head_done and not waiter.done():
                self._head_bytes += len(data)
                if self._head_bytes > MAX_HEAD_BYTES:
                    self.fail(MalformedAnswer(f"no end to the answer's head in {self._head_bytes} bytes"))

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if exc is None and self._head_done and not self._no_body and _runs_until_close(self._headers):
            self._finish()  # llhttp reads such a body to the end of the stream, which only we see
        else:
            received = "after part of the answer" if self._received else "before any answer"
            waiter.set_exception(ConnectionClosed(f"the server closed the connection {received}" + (f" ({exc})" if exc else "")))

    # -- httptools callbacks ----------------------------------------------------
    def on_message_begin(self) -> None:
        if self._waiter is None or self._waiter.done():
            self.reusable = False  # bytes beyond the answer: the connection is out of step

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._head_done:  # trailers after a chunked body are not needed
            self._headers.add(name.decode("latin-1"), value.decode("latin-1").strip())

    def on_headers_complete(self) -> None:
        self._status = status = self._parser.get_status_code()
        if status < 200:
            return  # 100 Continue and friends: the answer follows
        self._head_done = True
        if self._no_body:
            self._finish()  # a CONNECT answer: after a 200 the tunnel's bytes follow, not a body

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if not self._head_done:
            self._headers = Headers()  # an interim answer's fields are not the answer's
            return
        if not self._parser.should_keep_alive():  # Connection: close, or HTTP/1.0 without keep-alive
            self.reusable = False
        if self._waiter is not None and not self._waiter.done():
            self._finish()

    # -- requests ---------------------------------------------------------------
    def send(self, data: bytes, no_body: bool = False) -> asyncio.Future[Answer]:
        """Write a request; the future completes with its answer. ``no_body``: a CONNECT answer."""
        assert self.transport is not None and (self._waiter is None or self._waiter.done())
        self._waiter = asyncio.get_running_loop().create_future()
        self._no_body = no_body
        self._status, self._headers, self._body = 0, Headers(), []
        self._head_done, self._head_bytes, self._received = False, 0, False
        self.transport.write(data)
        return self._waiter

    def tunnel_opened(self) -> None:
        """Start a fresh parser for what comes through the tunnel (llhttp took the CONNECT answer's body to run until close)."""
        self._parser = httptools.HttpResponseParser(self)

    def usable(self) -> bool:
        """Open, quiet, and kept alive by the last answer."""
        return self.reusable and not self.closed and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    def fail(self, exc: HttpError) -> None:
        """End the request in flight with ``exc`` and drop the connection (its answer may still come)."""
        self.close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    def _finish(self) -> None:
        assert self._waiter is not None
        self._waiter.set_result(Answer(self._status, self._headers, b"".join(self._body)))


def _runs_until_close(headers: Headers) -> bool:
    """Whether an answer with this head has a body that ends when the connection does (RFC 9112 §6.3)."""
    if "content-length" in headers:
        return False
    codings = headers.get("transfer-encoding")
    return codings is None or codings.rsplit(",", 1)[-1].strip().lower() != "chunked"


class _HeadReader:
    """httptools callbacks that keep a head's fields (for :func:`parse_head`)."""

    def __init__(self) -> None:
        self.headers = Headers()
        self.complete = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.add(name.decode("latin-1"), value.decode("latin-1").strip())

    def on_headers_complete(self) -> None:
        self.complete = True


def parse_head(head: bytes) -> tuple[int, Headers]:
    """The status and fields of an answer's head (status line and field lines, without the empty line)."""
    reader = _HeadReader()
    parser = httptools.HttpResponseParser(reader)
    try:
        parser.feed_data(head + b"\r\n\r\n")
    except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
        raise MalformedAnswer(f"the answer's head is not HTTP/1.1: {exc}") from None
    if not reader.complete:
        raise MalformedAnswer("the answer's head is incomplete")
    return parser.get_status_code(), reader.headers


class Http1Client:
    """POSTs to one URL's origin over a pool of kept-alive connections; use it on one loop."""

    def __init__(self, url: str, ssl_context: ssl.SSLContext | None, proxy: str | None = None, connect_timeout_s: float = 10.0) -> None:
        parts = urlsplit(url)
        self.scheme = parts.scheme
        if self.scheme not in ("http", "https"):
            raise ValueError(f"only http and https endpoints are supported, not {url!r}")
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.scheme == "https" else 80)
        self._ssl = ssl_context if self.scheme == "https" else None
        if self.scheme == "https" and self._ssl is None:
            self._ssl = ssl.create_default_context()
        self._connect_timeout_s = connect_timeout_s
        self._proxy = urlsplit(proxy) if proxy else None
        if self._proxy is not None and (self._proxy.scheme != "http" or not self._proxy.hostname):
            raise ValueError(f"the proxy {proxy!r} is not an http:// URL. Set HTTPS_PROXY/HTTP_PROXY to http://host:port (HTTPS to Lambda is tunnelled through it with CONNECT).")
        self._proxy_auth = _basic_auth(self._proxy) if self._proxy else None
        self._idle: list[_Connection] = []
        self._all: set[_Connection] = set()

    def request_target(self, path: str) -> str:
        """The request line's target: the path, or the absolute URL through an http proxy."""
        if self._proxy is not None and self.scheme == "http":
            return f"http://{self.host}:{self.port}{path}"
        return path

    async def post(self, head: bytes, body: bytes, read_timeout_s: float) -> Answer:
        """Send ``head`` (request line and headers, ending in an empty line) and ``body``."""
        connection = await self._checkout()
        loop = asyncio.get_running_loop()
        answer = connection.send(head + body)
        timer = loop.call_later(read_timeout_s, connection.fail, ReadTimeout(f"no answer within {read_timeout_s:g} s"))
        try:
            result = await answer
        except BaseException:  # no answer, a broken one, or cancelled: the connection goes
            self._drop(connection)
            raise
        finally:
            timer.cancel()
        if connection.usable():
            self._idle.append(connection)
        else:  # Connection: close, closed by the server, or bytes beyond the answer
            self._drop(connection)
        return result

    def _drop(self, connection: _Connection) -> None:
        connection.close()
        self._all.discard(connection)

    async def aclose(self) -> None:
        for connection in list(self._all):
            connection.close()
        self._all.clear()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing

    async def _checkout(self) -> _Connection:
        while self._idle:
            connection = self._idle.pop()
            if connection.usable():
                return connection
            self._drop(connection)
        try:
            connection = await asyncio.wait_for(self._connect(), self._connect_timeout_s)
        except asyncio.TimeoutError:
            raise ConnectFailed(f"no connection to {self._origin()} within {self._connect_timeout_s:g} s", unreachable=True) from None
        except ssl.SSLError as exc:
            raise ConnectFailed(f"TLS with {self.host}:{self.port} failed: {exc}") from exc
        except _Unreachable as exc:
            raise ConnectFailed(f"cannot connect to {self._origin()}: {exc}", unreachable=True) from exc
        except OSError as exc:
            raise ConnectFailed(f"cannot connect to {self._origin()}: {exc}") from exc
        self._all.add(connection)
        return connection

    def _origin(self) -> str:
        where = f"{self.host}:{self.port}"
        return f"{where} through the proxy {self._proxy.hostname}:{self._proxy.port}" if self._proxy else where

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        if self._proxy is None:
            sock = await _open_socket(self.host, self.port)
            transport, connection = await loop.create_connection(_Connection, sock=sock, ssl=self._ssl, server_hostname=self.host if self._ssl else None)
            _keepalive(transport)
            return connection
        proxy_port = self._proxy.port or (443 if self._proxy.scheme == "https" else 80)
        sock = await _open_socket(self._proxy.hostname or "", proxy_port)
        transport, connection = await loop.create_connection(_Connection, sock=sock)
        _keepalive(transport)
        if self._ssl is None:
            return connection  # an http endpoint: requests go to the proxy in absolute form
        auth = f"Proxy-Authorization: {self._proxy_auth}\r\n" if self._proxy_auth else ""
        tunnel = f"CONNECT {self.host}:{self.port} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{auth}\r\n".encode("latin-1")
        try:
            answer = await connection.send(tunnel, no_body=True)
        except HttpError as exc:
            connection.close()
            raise ConnectFailed(f"the proxy did not open a tunnel to {self.host}:{self.port}: {exc}") from exc
        if answer.status != 200:
            connection.close()
            raise ConnectFailed(f"the proxy answered CONNECT {self.host}:{self.port} with HTTP {answer.status}")
        connection.tunnel_opened()
        tls = await loop.start_tls(transport, connection, self._ssl, server_hostname=self.host)
        if tls is None:
            raise ConnectFailed("the tunnel closed during the TLS handshake")
        connection.transport = tls
        return connection

    def proxy_authorization(self) -> str | None:
        """The ``Proxy-Authorization`` value for absolute-form requests through an http proxy."""
        return self._proxy_auth if self._proxy is not None and self.scheme == "http" else None


class _Unreachable(OSError):
    """Every address of the host refused or was out of reach, or the name did not resolve."""


def _is_unreachable(exc: OSError) -> bool:
    return isinstance(exc, (ConnectionRefusedError, TimeoutError, socket.gaierror)) or exc.errno in UNREACHABLE_ERRNOS


async def _open_socket(host: str, port: int) -> socket.socket:
    """A socket connected to the first address of ``host`` that accepts, tried in order as asyncio does.

    asyncio merges the errors of several addresses (``localhost``: ::1 and 127.0.0.1) into one
    plain OSError; kept apart here, they tell a refused endpoint from any other failure.
    """
    loop = asyncio.get_running_loop()
    try:
        addresses = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise _Unreachable(f"cannot resolve {host}: {exc}") from exc
    errors: list[OSError] = []
    for family, kind, proto, _name, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
            return sock
        except OSError as exc:
            sock.close()
            errors.append(exc)
        except BaseException:
            sock.close()
            raise
    if not errors:
        raise _Unreachable(f"no address for {host}")
    message = "; ".join(dict.fromkeys(str(exc) for exc in errors))
    if all(_is_unreachable(exc) for exc in errors):
        raise _Unreachable(message)
    raise OSError(message)


def _keepalive(transport: asyncio.BaseTransport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)


def _basic_auth(proxy: object) -> str | None:
    user = getattr(proxy, "username", None)
    if not user:
        return None
    password = getattr(proxy, "password", None) or ""
    return "Basic " + base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
