"""The small HTTP server both APIs use: a thread per connection, Nagle off, and a stop
that returns at once (``serve_forever`` polls and would add up to its poll interval per
environment at shutdown)."""

from __future__ import annotations

import logging
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("lambda_ui.local_lambda")


class ThreadedServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # Many callers connect at once under concurrency (the default backlog is 5).
    request_queue_size = 256

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], listener: socket.socket | None = None
    ) -> None:
        """Bind ``address``, or serve ``listener``, a socket already listening (one made in
        an environment's network namespace)."""
        super().__init__(address, handler, bind_and_activate=listener is None)
        if listener is not None:
            self.socket.close()
            self.socket = listener
            self.server_address = listener.getsockname()
            self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])
        self._stopping = False
        self._thread = threading.Thread(target=self._accept_loop, name=f"http-{self.server_address[1]}", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping:
            try:
                request, client = self.socket.accept()
            except OSError:
                break
            if self._stopping:
                request.close()
                break
            try:
                self.process_request(request, client)
            except Exception:
                self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A runtime killed mid-request (timeout, memory, shutdown) resets its connection:
        # expected, and reported through the invocation, not as a traceback here.
        kind = sys.exc_info()[0]
        if kind is not None and issubclass(kind, (ConnectionError, TimeoutError)):
            return
        log.exception("error while serving %s", client_address)

    def stop(self) -> None:
        self._stopping = True
        try:
            self.socket.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        except OSError:
            pass
        self.server_close()
        if self._thread.is_alive():  # never started when the environment failed to spawn
            self._thread.join(timeout=5)


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without it a kept-alive client stalls ~40 ms per call (Nagle plus delayed ACK).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_raw(self, status: int, body: bytes, headers: dict[str, str] | None = None, reason: str | None = None) -> None:
        """Status line, headers and body in a single write."""
        phrase = reason or self.responses.get(status, ("",))[0]
        all_headers = {"Content-Length": str(len(body)), **(headers or {})}
        head = f"HTTP/1.1 {status} {phrase}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in all_headers.items()) + "\r\n"
        self.wfile.write(head.encode("latin-1") + body)

    def read_body(self, limit: int | None = None) -> tuple[bytes, int]:
        """The request body and its size (Content-Length or chunked). A body over ``limit``
        is read to the end, so the answer still reaches the client, and dropped (``b""``)."""
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        parts: list[bytes] = []
        size = 0
        remaining = 0 if chunked else int(self.headers.get("Content-Length") or 0)
        while True:
            if chunked:
                remaining = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if remaining == 0:
                    self.rfile.readline()
                    break
            while remaining > 0:
                data = self.rfile.read(min(remaining, 1 << 20))
                if not data:
                    remaining = 0
                    break
                remaining -= len(data)
                size += len(data)
                if limit is None or size <= limit:
                    parts.append(data)
            if chunked:
                self.rfile.readline()
            else:
                break
        if limit is not None and size > limit:
            return b"", size
        return b"".join(parts), size
