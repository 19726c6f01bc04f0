"""A keep-alive HTTP/1.1 client for one kind of request: POST a body, read the answer.

The invocation loop sends a request and reads an answer per test, and every
microsecond it spends doing so delays the next test in that slot. aiohttp
spent ~190 µs of loop time per invocation; this client spends about a third
of that (docs/benchmarks.md), because it does only what Invoke needs:

- http and https (with the given ``ssl.SSLContext``), connections kept alive
  and reused, TCP keepalive on each (NAT gateways drop connections idle for
  the minutes a long test takes);
- a proxy: absolute-form requests for http, a ``CONNECT`` tunnel for https,
  basic credentials from the proxy URL;
- answers with ``Content-Length``, ``Transfer-Encoding: chunked``, or read
  until the server closes; ``Connection: close`` honoured.

It never retries: a re-sent Invoke runs the test again.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

#: An answer's head larger than this is not an HTTP answer we understand.
MAX_HEAD_BYTES = 64 * 1024
#: Connect errors that mean nobody is there (as opposed to a peer that answered wrongly).
UNREACHABLE_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ETIMEDOUT})


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


class Headers(dict[str, str]):
    """Answer headers, looked up case-insensitively (names are stored lower-case)."""

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return super().get(name.lower(), default)


@dataclass
class Answer:
    status: int
    headers: Headers
    body: bytes


class _Connection(asyncio.Protocol):
    """One socket: a request at a time, the answer parsed as bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = True
        self._buffer = bytearray()
        self._waiter: asyncio.Future[Answer] | None = None
        self._head: tuple[int, Headers] | None = None
        self._length: int | None = None  # body bytes expected; None: chunked or until close
        self._chunked = False
        self._chunks: list[bytes] = []
        self._no_body = False

    # -- asyncio.Protocol -------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is not None and not self._waiter.done():
            try:
                self._parse()
            except MalformedAnswer as exc:
                self.fail(exc)

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if self._head is not None and self._length is None and not self._chunked:
            self._finish(bytes(self._buffer))  # the answer's body ran until the server closed
        else:
            received = "after part of the answer" if self._head is not None or self._buffer else "before any answer"
            self._waiter.set_exception(ConnectionClosed(f"the server closed the connection {received}" + (f" ({exc})" if exc else "")))

    # -- requests ---------------------------------------------------------------
    def send(self, data: bytes, no_body: bool = False) -> asyncio.Future[Answer]:
        """Write a request; the future completes with its answer. ``no_body``: a CONNECT answer."""
        assert self.transport is not None and (self._waiter is None or self._waiter.done())
        self._waiter = asyncio.get_running_loop().create_future()
        self._head, self._length, self._chunked, self._chunks, self._no_body = None, None, False, [], no_body
        self.transport.write(data)
        return self._waiter

    def usable(self) -> bool:
        """Open and quiet. Bytes on an idle connection (a 408 before closing, say) answer nothing we sent."""
        return self.reusable and not self.closed and not self._buffer and self.transport is not None and not self.transport.is_closing()

    def close(self) -> None:
        self.reusable = False
        if self.transport is not None:
            self.transport.close()

    def fail(self, exc: HttpError) -> None:
        """End the request in flight with ``exc`` and drop the connection (its answer may still come)."""
        self.close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    def _finish(self, body: bytes) -> None:
        assert self._head is not None and self._waiter is not None
        status, headers = self._head
        if "close" in (headers.get("connection") or "").lower() or self.closed:
            self.close()
        self._waiter.set_result(Answer(status, headers, body))

    def _parse(self) -> None:
        buffer = self._buffer
        while self._head is None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD_BYTES:
                    raise MalformedAnswer(f"no end to the answer's headers in {len(buffer)} bytes")
                return
            status, headers = parse_head(bytes(buffer[:end]))
            del buffer[: end + 4]
            if 100 <= status < 200:
                continue  # 100 Continue and friends: the answer follows
            self._head = (status, headers)
            if self._no_body or status in (204, 304):
                self._length = 0
            elif "chunked" in (headers.get("transfer-encoding") or "").lower():
                self._chunked = True
            elif (length := headers.get("content-length")) is not None:
                if not length.strip().isdigit():
                    raise MalformedAnswer(f"Content-Length is {length!r}")
                self._length = int(length)
            else:
                self.reusable = False  # the body runs until the server closes
                return
        if self._chunked:
            self._parse_chunks()
        elif self._length is not None and len(buffer) >= self._length:
            body = bytes(buffer[: self._length])
            del buffer[: self._length]
            self._finish(body)

    def _parse_chunks(self) -> None:
        buffer = self._buffer
        while True:
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                return
            size_text = bytes(buffer[:line_end]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise MalformedAnswer(f"bad chunk size {size_text[:40]!r}") from None
            if size == 0:
                # The last chunk, then optional trailers, then an empty line.
                rest = buffer.find(b"\r\n", line_end + 2) if buffer[line_end + 2 : line_end + 4] == b"\r\n" else buffer.find(b"\r\n\r\n", line_end + 2)
                if rest < 0:
                    return
                del buffer[: rest + (2 if rest == line_end + 2 else 4)]
                self._finish(b"".join(self._chunks))
                return
            if len(buffer) < line_end + 2 + size + 2:
                return
            self._chunks.append(bytes(buffer[line_end + 2 : line_end + 2 + size]))
            del buffer[: line_end + 2 + size + 2]


def parse_head(head: bytes) -> tuple[int, Headers]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise MalformedAnswer(f"not an HTTP/1.1 status line: {lines[0][:80]!r}")
    headers = Headers()
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise MalformedAnswer(f"not a header line: {line[:80]!r}")
        name = name.strip().lower()
        value = value.strip()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return int(parts[1]), headers


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
