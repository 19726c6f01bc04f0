"""The invocation loop's HTTP/1.1 client against scripted servers on real loopback sockets."""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from lambda_ui.runner.aws.http1 import ConnectFailed, ConnectionClosed, Http1Client, MalformedAnswer, ReadTimeout
from stand_ins.tls import self_signed
from tests.support.connect_proxy import ConnectProxy

Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]
HEAD = b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\n"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    return await reader.readexactly(length)


def serve(script: Script, tls: ssl.SSLContext | None = None) -> Callable[[Callable[[str, list[int]], Awaitable[None]]], None]:
    """Run ``client(url, connections)`` against a server that runs ``script`` on each connection."""

    def run(client: Callable[[str, list[int]], Awaitable[None]]) -> None:
        async def main() -> None:
            connections: list[int] = []

            async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                connections.append(len(connections))
                try:
                    await script(reader, writer, len(connections))
                except (asyncio.IncompleteReadError, ConnectionError):
                    pass
                finally:
                    writer.close()

            server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
            port = server.sockets[0].getsockname()[1]
            async with server:
                await client(f"{'https' if tls else 'http'}://127.0.0.1:{port}", connections)

        asyncio.run(main())

    return run


def bodies_and_connections(script: Script, requests: int = 2) -> tuple[list[bytes], int]:
    """Post ``requests`` pings in a row to a server running ``script``: the bodies answered, and how many connections that took."""
    bodies: list[bytes] = []
    opened: list[int] = []

    async def client(url: str, connections: list[int]) -> None:
        http = Http1Client(url, None)
        for _ in range(requests):
            bodies.append((await http.post(HEAD, b"ping", 5)).body)
        opened.append(len(connections))
        await http.aclose()

    serve(script)(client)
    return bodies, opened[0]


async def answer_with(writer: asyncio.StreamWriter, *pieces: bytes) -> None:
    for piece in pieces:  # separate writes: the client must put the answer together
        writer.write(piece)
        await writer.drain()
        await asyncio.sleep(0.01)


def test_answers_are_read_by_length_and_the_connection_is_reused() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        while True:
            body = await read_request(reader)
            await answer_with(writer, b"HTTP/1.1 200 OK\r\nX-Amzn-RequestId: r", b"id\r\nContent-Length: 6\r\n\r\nec", b"ho" + body[:2])

    async def client(url: str, connections: list[int]) -> None:
        http = Http1Client(url, None)
        first = await http.post(HEAD, b"ping", 5)
        second = await http.post(HEAD, b"pong", 5)
        assert (first.status, first.body, second.body) == (200, b"echopi", b"echopo")
        assert first.headers.get("x-amzn-requestid") == first.headers.get("X-Amzn-RequestId") == "rid"
        assert len(connections) == 1
        await http.aclose()

    serve(script)(client)


def test_chunked_answers_with_extensions_and_trailers() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_request(reader)
        await answer_with(writer, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhel", b"lo\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n", b"\r\n")
        await read_request(reader)
        await answer_with(writer, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")

    assert bodies_and_connections(script) == ([b"hello world", b"ok"], 1)


def test_connection_close_and_bodies_that_run_until_close_open_a_new_connection() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        if n == 1:
            await answer_with(writer, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        else:
            await answer_with(writer, b"HTTP/1.1 200 OK\r\n\r\nuntil ", b"close")

    assert bodies_and_connections(script) == ([b"ok", b"until close"], 2)


def test_a_408_on_an_idle_connection_is_not_taken_for_the_next_answer() -> None:
    timed_out = asyncio.Event()

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        await answer_with(writer, f"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n{n}".encode())
        if n == 1:  # the server times the idle connection out, says so, and leaves it half open
            await answer_with(writer, b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n")
            timed_out.set()
            await reader.read()

    async def client(url: str, connections: list[int]) -> None:
        http = Http1Client(url, None)
        assert (await http.post(HEAD, b"ping", 5)).body == b"1"
        await asyncio.wait_for(timed_out.wait(), 5)  # the 408 is on the idle connection now
        assert (await http.post(HEAD, b"ping", 5)).body == b"2"
        await http.aclose()

    serve(script)(client)


@pytest.mark.parametrize(
    ("answer", "error", "says"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", ConnectionClosed, "after part of the answer"),
        (b"", ConnectionClosed, "before any answer"),
        (b"SSH-2.0-OpenSSH\r\n\r\n", MalformedAnswer, "head is not HTTP/1.1: Expected HTTP/"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", MalformedAnswer, "Content-Length"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", MalformedAnswer, "chunk size"),
    ],
)
def test_broken_answers_fail_the_request_with_their_cause(answer: bytes, error: type[Exception], says: str) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_request(reader)
        await answer_with(writer, answer)

    async def client(url: str, connections: list[int]) -> None:
        http = Http1Client(url, None)
        with pytest.raises(error, match=says):
            await http.post(HEAD, b"ping", 5)
        await http.aclose()

    serve(script)(client)


def test_a_read_timeout_drops_the_connection() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        await read_request(reader)
        if n == 1:
            await asyncio.sleep(1)  # answers after the client gave up
        await answer_with(writer, f"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n{n}".encode())

    async def client(url: str, connections: list[int]) -> None:
        http = Http1Client(url, None)
        with pytest.raises(ReadTimeout):
            await http.post(HEAD, b"ping", 0.2)
        assert (await http.post(HEAD, b"ping", 5)).body == b"2"  # not the late answer to the first
        await http.aclose()

    serve(script)(client)


def test_a_refused_connection_is_a_connect_failure() -> None:
    async def client() -> None:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        with pytest.raises(ConnectFailed, match=f"127.0.0.1:{port}"):
            await Http1Client(f"http://127.0.0.1:{port}", None).post(HEAD, b"ping", 5)

    asyncio.run(client())


def test_https_through_a_connect_proxy_with_credentials(tmp_path: Path) -> None:
    """The corporate case: an HTTPS endpoint whose name only the proxy can reach, a tunnel
    opened with CONNECT and basic credentials, TLS verified for the endpoint's name."""
    ca, server_tls = self_signed(tmp_path, dns_names=("lambda.example.invalid",))
    trust = ssl.create_default_context(cafile=str(ca))

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        while True:
            body = await read_request(reader)
            await answer_with(writer, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n" + body)

    async def client(url: str, connections: list[int]) -> None:
        proxy = ConnectProxy(upstream=("127.0.0.1", int(url.rsplit(":", 1)[1])), credentials="user:p@ss").start()
        try:
            http = Http1Client("https://lambda.example.invalid:8443/x", trust, proxy=proxy.url)
            assert (await http.post(HEAD, b"ping", 5)).body == b"ping"
            assert (await http.post(HEAD, b"pong", 5)).body == b"pong"
            assert proxy.tunnels == ["lambda.example.invalid:8443"]  # one tunnel, kept alive
            await http.aclose()

            wrong = Http1Client("https://lambda.example.invalid:8443/x", trust, proxy=proxy.url.replace("p%40ss", "nope"))
            with pytest.raises(ConnectFailed, match="HTTP 407"):
                await wrong.post(HEAD, b"ping", 5)
            untrusted = Http1Client("https://lambda.example.invalid:8443/x", ssl.create_default_context(), proxy=proxy.url)
            with pytest.raises(ConnectFailed, match="certificate verify failed"):
                await untrusted.post(HEAD, b"ping", 5)
        finally:
            proxy.stop()

    serve(script, tls=server_tls)(client)


def test_a_proxy_it_cannot_speak_to_is_refused_with_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """An https:// proxy URL (TLS to the proxy itself) is refused when the invoker is built, at start-up."""
    from lambda_ui.runner.aws.lambda_async import AsyncInvoker

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("NO_PROXY", "no_proxy", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_LAMBDA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "https://proxy.example.invalid:3128")
    with pytest.raises(ValueError, match=r"not an http:// URL\. Set HTTPS_PROXY/HTTP_PROXY to http://host:port"):
        AsyncInvoker("us-east-1", "ui-tests", read_timeout_s=60)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.invalid:3128")
    assert AsyncInvoker("us-east-1", "ui-tests", read_timeout_s=60).url.startswith("https://lambda.us-east-1.amazonaws.com/")


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        # "²" is a digit to str.isdigit(); the partial body must not come back as a success.
        (b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\n\r\nab", "Invalid character in Content-Length"),
        (CHUNKED + b"-1\r\n", "Invalid character in chunk size"),
        (CHUNKED + b"0x3\r\nabc\r\n0\r\n\r\n", "Invalid character in chunk size"),
        (CHUNKED + b"0_3\r\nabc\r\n0\r\n\r\n", "Invalid character in chunk size"),
        (CHUNKED + b"3\r\nabcXY0\r\n\r\n", "after chunk data"),
        (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n", "switched protocols"),
        (b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 70_000, "no end to the answer's head"),
    ],
    ids=["content-length-superscript-two", "chunk-size-minus-one", "chunk-size-0x3", "chunk-size-0_3", "chunk-data-without-crlf", "upgrade", "endless-head"],
)
def test_malformed_answers_fail_at_once_while_the_server_holds_the_connection(answer: bytes, says: str) -> None:
    """The server sends a malformed answer and keeps the connection open: the request fails on the
    bytes themselves, not when the server closes or the read timeout (the function's timeout + 60 s) runs out."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_request(reader)
        await answer_with(writer, answer)
        await reader.read()  # until the client hangs up

    async def client(url: str, connections: list[int]) -> None:
        http = Http1Client(url, None)
        with pytest.raises(MalformedAnswer, match=says):
            await http.post(HEAD, b"ping", 10)
        await http.aclose()

    serve(script)(client)


@pytest.mark.parametrize(
    ("status_line", "connection", "bodies", "opened"),
    [
        (b"HTTP/1.0 200 OK", b"", [b"1", b"2"], 2),  # HTTP/1.0 closes by default, even if the server forgets to
        (b"HTTP/1.0 200 OK", b"Connection: keep-alive\r\n", [b"1", b"1"], 1),
        (b"HTTP/1.1 200 OK", b"Connection: close\r\n", [b"1", b"2"], 2),
    ],
    ids=["http-1.0", "http-1.0-keep-alive", "http-1.1-close"],
)
def test_connections_go_back_into_the_pool_only_when_the_answer_keeps_them_alive(status_line: bytes, connection: bytes, bodies: list[bytes], opened: int) -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:  # the server keeps every connection open whatever it said
            await read_request(reader)
            await answer_with(writer, status_line + b"\r\n" + connection + b"Content-Length: 1\r\n\r\n" + str(n).encode())

    assert bodies_and_connections(script) == (bodies, opened)


def test_an_interim_answer_and_bytes_beyond_the_answer() -> None:
    """A 100 Continue before the answer is skipped; bytes after the answer leave the connection out of the pool."""

    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        while True:
            await read_request(reader)
            extra = b"HTTP/1.1 200 OK\r\n" if n == 1 else b""
            await answer_with(writer, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + str(n).encode() + extra)

    assert bodies_and_connections(script, requests=3) == ([b"1", b"2", b"2"], 2)


def test_a_body_that_runs_until_close_is_not_complete_when_the_connection_is_reset() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_request(reader)
        await answer_with(writer, b"HTTP/1.1 200 OK\r\n\r\npart of the")
        writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()  # an RST, not a clean end of the stream

    async def client(url: str, connections: list[int]) -> None:
        http = Http1Client(url, None)
        with pytest.raises(ConnectionClosed):
            await http.post(HEAD, b"ping", 5)
        await http.aclose()

    serve(script)(client)


def test_header_names_are_case_insensitive_for_in_brackets_and_get() -> None:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _n: int) -> None:
        await read_request(reader)
        await answer_with(writer, b"HTTP/1.1 200 OK\r\nx-amzn-requestid: rid\r\nX-Amz-Executed-Version: $LATEST\r\nVia: a\r\nvia: b\r\nContent-Length: 0\r\n\r\n")

    async def client(url: str, connections: list[int]) -> None:
        http = Http1Client(url, None)
        headers = (await http.post(HEAD, b"ping", 5)).headers
        assert "X-Amzn-RequestId" in headers and "x-amz-executed-version" in headers
        assert headers["X-AMZN-REQUESTID"] == headers.get("X-Amzn-RequestId") == "rid"
        assert headers["Via"] == "a, b"  # repeated fields are joined, as RFC 9110 allows
        assert "X-Amz-Function-Error" not in headers and headers.get("X-Amz-Function-Error") is None
        with pytest.raises(KeyError):
            headers["X-Amz-Function-Error"]
        await http.aclose()

    serve(script)(client)
