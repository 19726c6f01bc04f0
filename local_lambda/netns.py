"""A private network namespace for one execution environment: its own loopback and nothing
of the host's network, as in Lambda's sandbox.

The stand-in makes it from a short-lived thread (a namespace belongs to a thread, so the
rest of the stand-in stays on the host's network), brings ``lo`` up there, and opens in it
the listening sockets the environment needs from outside: its Runtime API and one per
relayed host port. A socket stays in the namespace it was made in, so the stand-in then
serves them from its own threads like any other socket: the runtime's connection to its
Runtime API needs no relay at all. The runtime joins the namespace through :attr:`fd`
(``setns`` in the launcher) before it execs.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

CLONE_NEWNET = 0x40000000
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ = "16sH22x"  # struct ifreq: the name, then ifr_flags in the union
_BACKLOG = 256

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass
class NetworkNamespace:
    """An open namespace: ``fd`` for the runtime to join, ``listeners`` in the order asked."""

    fd: int
    listeners: list[socket.socket] = field(default_factory=list)

    def close(self) -> None:
        """Close our references; the namespace goes when its last process and socket do."""
        for listener in self.listeners:
            listener.close()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack(_IFREQ, b"lo", 0)
        flags = struct.unpack(_IFREQ, fcntl.ioctl(probe, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        if family == socket.AF_INET6:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listener.bind((host, port))
        listener.listen(_BACKLOG)
    except OSError:
        listener.close()
        raise
    return listener


def _build(addresses: Sequence[tuple[str, int]]) -> NetworkNamespace:
    # Runs on a thread of its own that ends right after: nothing else ever runs in here.
    if _libc.unshare(CLONE_NEWNET) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"unshare(CLONE_NEWNET): {os.strerror(errno)}")
    _loopback_up()
    namespace = NetworkNamespace(os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY | os.O_CLOEXEC))
    # Fixed ports first: a port-0 listener opened before them could be given one of them by the
    # kernel (seen: the Runtime API took the loopback S3's port, and the relay's bind failed).
    order = sorted(range(len(addresses)), key=lambda i: addresses[i][1] == 0)
    opened: dict[int, socket.socket] = {}
    try:
        for index in order:
            opened[index] = _listen(*addresses[index])
    except BaseException:
        for listener in opened.values():
            listener.close()
        namespace.close()
        raise
    namespace.listeners = [opened[index] for index in range(len(addresses))]
    return namespace


def create(addresses: Sequence[tuple[str, int]] = ()) -> NetworkNamespace:
    """A new network namespace with ``lo`` up and a listener on each ``(host, port)``."""
    outcome: dict[str, object] = {}

    def build() -> None:
        try:
            outcome["namespace"] = _build(addresses)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=build, name="netns-create", daemon=True)
    thread.start()
    thread.join()
    error = outcome.get("error")
    if isinstance(error, BaseException):
        raise error
    namespace = outcome["namespace"]
    assert isinstance(namespace, NetworkNamespace)
    return namespace
