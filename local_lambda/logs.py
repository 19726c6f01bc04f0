"""An execution environment's log: its output captured from a pipe, the platform's
START/END/REPORT lines, and the 4 KB tail that ``X-Amz-Log-Result`` carries.
"""

from __future__ import annotations

import base64
import logging
import math
import os
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass

#: ``LogType=Tail`` returns at most this many bytes from the end of the invocation's log.
TAIL_BYTES = 4096
#: Output kept per invocation; only the tail is ever returned.
_KEEP_BYTES = 16384

FUNCTION_LOGGER = logging.getLogger("lambda_ui.local_lambda.function")


class LogCapture:
    """Reads one environment's stdout and stderr (one pipe) on its own thread.

    Lines go to ``sink`` as they arrive. Bytes since the last :meth:`take` are kept for the
    invocation's log. :meth:`sync` reads whatever is already in the pipe, so output the
    function printed before it answered is never attributed to the next invocation.
    """

    def __init__(self, read_fd: int, sink: Callable[[str], None]) -> None:
        self._fd = read_fd
        os.set_blocking(read_fd, False)
        self._sink = sink
        self._lock = threading.Lock()
        self._buffer = bytearray()
        self._partial = b""
        self._eof = False
        self._thread = threading.Thread(target=self._run, name=f"log-capture-{read_fd}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN | select.POLLHUP)
        while not self._eof:
            poller.poll()
            with self._lock:
                self._read_available()
        os.close(self._fd)

    def _read_available(self) -> None:
        # Caller holds the lock: reading and appending happen as one step.
        while not self._eof:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._eof = True
                self._emit_lines(final=True)
                return
            self._buffer += data
            if len(self._buffer) > _KEEP_BYTES:
                del self._buffer[: len(self._buffer) - _KEEP_BYTES]
            self._partial += data
            self._emit_lines(final=False)

    def _emit_lines(self, final: bool) -> None:
        *lines, rest = self._partial.split(b"\n")
        self._partial = rest
        if final and rest:
            lines.append(rest)
            self._partial = b""
        for line in lines:
            self._sink(line.decode("utf-8", "replace"))

    def sync(self) -> None:
        with self._lock:
            if not self._eof:
                self._read_available()

    def take(self) -> bytes:
        """Output since the previous call (after reading what is already in the pipe)."""
        with self._lock:
            if not self._eof:
                self._read_available()
            data = bytes(self._buffer)
            self._buffer.clear()
            return data

    def wait_closed(self, timeout: float) -> None:
        self._thread.join(timeout)


@dataclass
class Report:
    """The numbers of one invocation's REPORT line."""

    request_id: str
    duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int
    init_duration_ms: float | None = None
    #: ``timeout`` or ``error`` when the platform ended the invocation (today's REPORT
    #: lines say so), with the error's type for ``error``; empty for an answer.
    status: str = ""
    error_type: str = ""

    @property
    def billed_ms(self) -> int:
        # Image functions are billed for their init phase too, in 1 ms steps.
        total = self.duration_ms + (self.init_duration_ms or 0.0)
        return max(1, math.ceil(total))

    def line(self) -> str:
        fields = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_ms} ms",
            f"Memory Size: {self.memory_size_mb} MB",
            f"Max Memory Used: {self.max_memory_used_mb} MB",
        ]
        if self.init_duration_ms is not None:
            fields.append(f"Init Duration: {self.init_duration_ms:.2f} ms")
        if self.status:
            fields.append(f"Status: {self.status}")
        if self.status == "error" and self.error_type:
            fields.append(f"Error Type: {self.error_type}")
        return "\t".join(fields) + "\t"


def init_start_line(runtime: str | None, region: str) -> str:
    """Logged at every init, a reset's suppressed init included; ``python:3.12.local``
    says the runtime is this machine's interpreter, not a Lambda runtime build."""
    version = f"{runtime[:6]}:{runtime[6:]}.local" if runtime and runtime.startswith("python") else "local"
    return f"INIT_START Runtime Version: {version}\tRuntime Version ARN: arn:aws:lambda:{region}::runtime:local"


def start_line(request_id: str, version: str = "$LATEST") -> str:
    return f"START RequestId: {request_id} Version: {version}"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}"


def invocation_log(request_id: str, init_output: bytes, output: bytes, platform_lines: list[str], report: Report) -> bytes:
    """The invocation's log as CloudWatch shows it: init output (cold start), START, output,
    platform notes, END, REPORT."""
    text = b""
    for chunk in (init_output, start_line(request_id).encode() + b"\n", output):
        text += chunk
        if text and not text.endswith(b"\n"):
            text += b"\n"
    for line in (*platform_lines, end_line(request_id), report.line()):
        text += line.encode() + b"\n"
    return text


def tail(log: bytes) -> str:
    """Base64 of the last 4 KB, as ``X-Amz-Log-Result``."""
    return base64.b64encode(log[-TAIL_BYTES:]).decode("ascii")
