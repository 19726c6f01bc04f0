"""Real loopback services for the tests: an S3 server in its own process."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hold_port(port: int) -> socket.socket:
    """Bind a dead server's ``port`` without listening, until the returned socket is closed.

    Connections to it are refused, as a test of a lost endpoint expects, and the kernel
    gives the port to no ``bind(port 0)`` meanwhile, which is how every server of the tests
    (the other xdist worker's included) picks its port: 0 of 200,000 such binds got a held
    port here, against 28 for a free one. SO_REUSEADDR lets it bind over the dead server's
    TIME_WAIT connections; an explicit bind to the number could still share it.
    """
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        holder.bind(("127.0.0.1", port))
    except OSError as exc:
        holder.close()
        raise RuntimeError(f"port {port} was taken as soon as its server stopped: {exc}") from None
    return holder


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # answering at all is enough
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.05)


@dataclass
class LoopbackS3:
    """``moto_server`` on 127.0.0.1, reached by boto3 through AWS_ENDPOINT_URL_S3."""

    endpoint: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls) -> LoopbackS3:
        port = free_port()
        exe = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or shutil.which("moto_server")
        if exe is None:
            raise RuntimeError("moto_server not found: pip install 'moto[server]' (part of the [test] extra)")
        process = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        endpoint = f"http://127.0.0.1:{port}"
        try:
            wait_http(endpoint + "/")
        except RuntimeError:
            process.kill()
            raise
        return cls(endpoint=endpoint, process=process)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@contextmanager
def scoped_environ(**values: str) -> Iterator[None]:
    """Set environment variables for a block (module-scoped fixtures cannot use monkeypatch);
    a local Lambda started inside hands them to its environments."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

#: What a local Lambda started by the tests expects requests to be signed with (its front door).
EXPECTED_CREDENTIALS = (AWS_TEST_ENV["AWS_ACCESS_KEY_ID"], AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"])
