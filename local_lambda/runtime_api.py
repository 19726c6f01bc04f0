"""The Lambda Runtime API for one execution environment (what awslambdaric talks to).

One server per environment, so a poll connection always belongs to exactly one runtime:
an event handed to a runtime that was killed while parked in ``/next`` is detected (its
socket is closed) and given back instead of being lost. The same server answers the
Extensions API calls of an internal extension (register, event/next: extensions.py).
"""

from __future__ import annotations

import errno
import json
import select
import socket
import time
from typing import Any, Protocol

from lambda_ui.local_lambda import extensions
from lambda_ui.local_lambda._http import QuietHandler, ThreadedServer

PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"


class Delivery(Protocol):
    """An event on its way to the runtime."""

    request_id: str
    payload: bytes

    def runtime_headers(self) -> dict[str, str]: ...


class RuntimeChannel(Protocol):
    """The environment's side of the Runtime API."""

    def wait_for_invocation(self) -> Delivery | None: ...

    def delivered(self, delivery: Delivery) -> None: ...

    def undelivered(self, delivery: Delivery) -> None: ...

    def connection_verdict(self, delivery: Delivery, unread: bool) -> None: ...

    def post_response(self, request_id: str, body: bytes) -> tuple[int, dict[str, Any]]: ...

    def post_error(self, request_id: str, body: bytes, error_type: str) -> tuple[int, dict[str, Any]]: ...

    def post_init_error(self, body: bytes, error_type: str) -> tuple[int, dict[str, Any]]: ...

    def register_extension(self, name: str, body: bytes) -> extensions.Answer: ...

    def extension_next(self, identifier: str) -> extensions.Answer | None:
        """Block until the extension's next event; None: the environment ends (close)."""
        ...


def peer_gone(sock: socket.socket) -> bool:
    """True when the other end closed the connection (the runtime died while it waited)."""
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLHUP | select.POLLERR | select.POLLRDHUP)
        events = poller.poll(0)
        if not events:
            return False
        if events[0][1] & (select.POLLHUP | select.POLLERR | select.POLLRDHUP):
            return True
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except (OSError, ValueError):
        return True


def _reset_follows(sock: socket.socket, wait_s: float = 0.02) -> bool:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        except OSError:
            return False
        if error in (errno.EPIPE, errno.ECONNRESET):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.001)


class _Handler(QuietHandler):
    """One runtime connection. After an event is written, what happens next on the
    connection tells whether the runtime read it: a new request or a clean close means it
    did; a reset means it died with the event unread in its socket (the kernel resets a
    connection closed with unread data), so the event was never seen."""

    server: RuntimeApiServer
    _sent: Delivery | None = None

    def _settle(self, unread: bool) -> None:
        if self._sent is not None:
            self.server.channel.connection_verdict(self._sent, unread)
            self._sent = None

    def handle(self) -> None:
        try:
            super().handle()
        except ConnectionResetError:
            self._settle(unread=True)
        finally:
            # A plain close after the event: did the runtime close before the event arrived?
            # Then its kernel answered our bytes with a reset (EPIPE here, as our side had
            # already seen the close); a runtime that read the event closes without one.
            self._settle(unread=self._sent is not None and _reset_follows(self.connection))

    def parse_request(self) -> bool:
        self._settle(unread=False)  # a new request: the runtime read what was sent
        return super().parse_request()

    def _send_json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.send_raw(status, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})})

    def do_GET(self) -> None:
        if self.path == f"{extensions.PREFIX}/event/next":
            answer = self.server.channel.extension_next(self.headers.get(extensions.IDENTIFIER_HEADER, ""))
            if answer is None:  # the environment ends: as Lambda's kill, no answer
                self.close_connection = True
                return
            self._send_json(*answer)
            return
        if self.path != f"{PREFIX}/invocation/next":
            self._send_json(404, {"errorMessage": "Not Found", "errorType": "NotFound"})
            return
        channel = self.server.channel
        delivery = channel.wait_for_invocation()
        if delivery is None:  # the environment is going away
            self.close_connection = True
            return
        if peer_gone(self.connection):
            channel.undelivered(delivery)
            self.close_connection = True
            return
        headers = {"Content-Type": "application/json", **delivery.runtime_headers()}
        channel.delivered(delivery)
        try:
            self.send_raw(200, delivery.payload, headers)
        except OSError:
            channel.undelivered(delivery)
            self.close_connection = True
            return
        self._sent = delivery

    def do_POST(self) -> None:
        body, _size = self.read_body()
        channel = self.server.channel
        if self.path == f"{extensions.PREFIX}/register":
            self._send_json(*channel.register_extension(self.headers.get(extensions.NAME_HEADER, ""), body))
            return
        parts = self.path[len(PREFIX) :].strip("/").split("/") if self.path.startswith(PREFIX) else []
        error_type = self.headers.get(ERROR_TYPE_HEADER, "")
        if parts == ["init", "error"]:
            status, answer = channel.post_init_error(body, error_type)
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "response":
            status, answer = channel.post_response(parts[1], body)
        elif len(parts) == 3 and parts[0] == "invocation" and parts[2] == "error":
            status, answer = channel.post_error(parts[1], body, error_type)
        else:
            status, answer = 404, {"errorMessage": "Not Found", "errorType": "NotFound"}
        self._send_json(status, answer)


class RuntimeApiServer(ThreadedServer):
    """Serves one environment's Runtime API on 127.0.0.1 and a free port: the host's, or,
    given ``listener``, the environment's own network namespace (the runtime then connects
    straight to the stand-in, with no relay in between)."""

    def __init__(self, channel: RuntimeChannel, host: str = "127.0.0.1", listener: socket.socket | None = None) -> None:
        self.channel = channel
        super().__init__((host, 0), _Handler, listener)

    @property
    def address(self) -> str:
        return f"{self.server_address[0]!s}:{self.port}"
