"""A CONNECT-only forward proxy on loopback, the usual corporate proxy in front of HTTPS.

Every tunnel goes to one upstream (the stand-in), whatever host the client
names, so an endpoint whose name does not resolve is reachable only through
it. It records what each CONNECT asked for, and can demand credentials.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from dataclasses import dataclass, field
from urllib.parse import quote


@dataclass
class ConnectProxy:
    upstream: tuple[str, int]
    #: ``user:password`` the proxy demands (407 without it), or None.
    credentials: str | None = None
    tunnels: list[str] = field(default_factory=list)  # CONNECT targets granted
    refused: int = 0
    port: int = 0

    def start(self) -> ConnectProxy:
        ready = threading.Event()
        self._stopped = asyncio.Event()

        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            async with server:
                await self._stopped.wait()

        # asyncio.run cancels the tunnels still open when serve() returns.
        self._thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    @property
    def url(self) -> str:
        user, _, password = (self.credentials or "").partition(":")
        auth = f"{quote(user)}:{quote(password, safe='')}@" if self.credentials else ""
        return f"http://{auth}127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(5)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, target, _ = head[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
            expected = "Basic " + base64.b64encode(self.credentials.encode()).decode() if self.credentials else None
            if method != "CONNECT" or (expected and headers.get("proxy-authorization") != expected):
                self.refused += 1
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n" if method == "CONNECT" else b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                writer.close()
                return
            self.tunnels.append(target)
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()
