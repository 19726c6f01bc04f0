"""The relay: host services on loopback (the loopback S3, any ``AWS_ENDPOINT_URL*``) made
reachable from environments that have a network namespace of their own.

Each environment gets a listener on ``127.0.0.1:<port>`` inside its namespace (netns.py);
a connection accepted there is joined to a new connection to the same address made from
the stand-in's namespace, the host's. One asyncio loop on one thread serves every
environment, so there is no relay process to start, to count in the environment's memory,
or to leak: listeners and connections of an environment are closed when it ends, and all
of them when the stand-in stops.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("lambda_ui.local_lambda")

_CALL_TIMEOUT_S = 10.0


class _Half(asyncio.Protocol):
    """One side of a relayed connection: what it reads is written to its peer, and a full
    peer makes it stop reading (back-pressure both ways)."""

    def __init__(self, connections: set[asyncio.Transport]) -> None:
        self.connections = connections
        self.transport: asyncio.Transport | None = None
        self.peer: _Half | None = None
        self.got_eof = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.connections.add(transport)

    def data_received(self, data: bytes) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.write(data)

    def eof_received(self) -> bool:
        # Half-close: pass it on and keep the other direction open until it ends too.
        self.got_eof = True
        peer = self.peer
        if peer is None or peer.transport is None or peer.got_eof:
            return False
        if peer.transport.can_write_eof():
            peer.transport.write_eof()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.connections.discard(self.transport)
        peer = self.peer
        if peer is not None and peer.transport is not None and not peer.transport.is_closing():
            if exc is None:
                peer.transport.close()  # flushes what is still buffered
            else:
                peer.transport.abort()

    def pause_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.peer is not None and self.peer.transport is not None:
            self.peer.transport.resume_reading()


class _Inbound(_Half):
    """A connection made inside an environment; it dials the host service once accepted."""

    def __init__(self, connections: set[asyncio.Transport], upstream: tuple[str, int]) -> None:
        super().__init__(connections)
        self.upstream = upstream
        self._dialing: asyncio.Task[None] | None = None  # held: the loop keeps only weak references

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        assert self.transport is not None
        self.transport.pause_reading()  # until the other side exists
        self._dialing = asyncio.get_running_loop().create_task(self._dial())

    async def _dial(self) -> None:
        assert self.transport is not None
        outbound = _Half(self.connections)
        outbound.peer, self.peer = self, outbound
        try:
            await asyncio.get_running_loop().create_connection(lambda: outbound, *self.upstream)
        except OSError as exc:
            # Nothing listens on the host: the caller sees its connection dropped.
            log.debug("relay: cannot reach %s:%d: %s", *self.upstream, exc)
            self.peer = None
            self.transport.abort()
            return
        if self.transport.is_closing():
            assert outbound.transport is not None
            outbound.transport.close()
            return
        self.transport.resume_reading()


@dataclass
class _Owner:
    servers: list[asyncio.AbstractServer] = field(default_factory=list)
    connections: set[asyncio.Transport] = field(default_factory=set)


class Relay:
    """Relays listeners made inside environments' namespaces to host addresses."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="relay", daemon=True)
        self._owners: dict[str, _Owner] = {}  # touched only on the loop's thread

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread.start()

    def _run(self) -> None:
        assert self._loop is not None
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        if self._loop is None or not self._thread.is_alive():
            coroutine.close()
            raise RuntimeError("the relay is not running")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(_CALL_TIMEOUT_S)

    def add(self, owner: str, listener: socket.socket, upstream: tuple[str, int]) -> None:
        """Serve ``listener`` (made in ``owner``'s namespace) by connecting to ``upstream``."""
        self._call(self._add(owner, listener, upstream))

    async def _add(self, owner: str, listener: socket.socket, upstream: tuple[str, int]) -> None:
        assert self._loop is not None
        state = self._owners.setdefault(owner, _Owner())
        server = await self._loop.create_server(lambda: _Inbound(state.connections, upstream), sock=listener)
        state.servers.append(server)

    def remove(self, owner: str) -> None:
        """Stop relaying for ``owner`` (its environment ended): listeners and connections."""
        if self._thread.is_alive():
            self._call(self._remove(owner))

    async def _remove(self, owner: str) -> None:
        state = self._owners.pop(owner, None)
        if state is None:
            return
        for server in state.servers:
            server.close()
        for transport in list(state.connections):
            transport.abort()

    def connection_count(self, owner: str | None = None) -> int:
        """Open relayed connections (both halves), of one environment or of all."""
        return int(self._call(self._count(owner)))

    async def _count(self, owner: str | None) -> int:
        if owner is None:
            states = list(self._owners.values())
        else:
            states = [self._owners[owner]] if owner in self._owners else []
        return sum(len(state.connections) for state in states)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def owners(self) -> int:
        """Environments relayed for now."""
        return len(self._owners)

    def stop(self) -> None:
        if self._loop is None or not self._thread.is_alive():
            return
        for owner in list(self._owners):
            self.remove(owner)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
