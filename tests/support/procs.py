"""Processes in the tests: browser processes left behind, a stand-in killed as a crash would."""

from __future__ import annotations

import socket
import subprocess
import time

import psutil

from stand_ins.services import hold_port

BROWSER_NAMES = ("chromium", "chrome", "chromedriver", "chrome_crashpad", "chrome_crashpad_handler", "headless_shell")


def _mentions(proc: psutil.Process, marker: str) -> bool:
    """Chrome's processes carry their profile directory on the command line; chromedriver
    carries it as HOME (the plugin points HOME into that directory)."""
    try:
        if any(marker in part for part in proc.cmdline()):
            return True
        return marker in proc.environ().get("HOME", "")
    except psutil.Error:
        return False


def live_browser_pids(marker: str | None = None) -> set[int]:
    """Browser processes that still run (zombies hold no resources but a pid entry).

    With ``marker`` (a TMPDIR given to one run), only that run's processes count, so that
    other suites on the same machine cannot make a leak check pass or fail.
    """
    pids = set()
    for proc in psutil.process_iter(["name", "status"]):
        try:
            name = (proc.info["name"] or "").lower()
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
        except psutil.Error:
            continue
        if any(name.startswith(n) for n in BROWSER_NAMES) and (marker is None or _mentions(proc, marker)):
            pids.add(proc.pid)
    return pids


def settled_browser_pids(marker: str, timeout: float = 15.0) -> set[int]:
    """The run's browser processes still alive once they had ``timeout`` seconds to go."""
    deadline = time.monotonic() + timeout
    while True:
        left = live_browser_pids(marker)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def kill_stand_in(server: subprocess.Popen[bytes], port: int) -> socket.socket:
    """Kill a local Lambda and its environments at once, as a crash would.

    Its ``port`` stays held (:func:`~stand_ins.services.hold_port`) until the returned
    socket is closed, so the client's next connections are refused.
    """
    environments = psutil.Process(server.pid).children(recursive=True)
    server.kill()
    server.wait()
    holder = hold_port(port)
    for process in environments:  # orphaned now
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(environments, timeout=10)
    return holder


def port_users(port: int) -> list[str]:
    """Every socket on this machine at local or remote ``port``, with its owner's command."""
    found = []
    for conn in psutil.net_connections("tcp"):
        ends = [conn.laddr, conn.raddr]
        if any(end and end.port == port for end in ends):
            try:
                owner = " ".join(psutil.Process(conn.pid).cmdline()[:4]) if conn.pid else "?"
            except psutil.Error:
                owner = "gone"
            found.append(f"{conn.status} {conn.laddr}->{conn.raddr or '-'} pid {conn.pid} ({owner})")
    return found
