"""Escape probes: what test code inside an environment can see and touch of the host.

Each action tries one way out of the sandbox and reports what happened; the test decides
whether that is an escape. Actions: ``write_secret`` (a file in its own /tmp, held while
``hold`` seconds pass), ``host_tmp`` (read and write the host's /tmp through
``/proc/<pid>/root``), ``other_tmp`` (read a file in another environment's /tmp the same
way), ``identity`` (uid and capabilities), ``setns`` (join the stand-in's network
namespace, then connect to a host port), ``write_outside`` (create files outside /tmp),
``processes`` (what /proc lists).
"""

from __future__ import annotations

import ctypes
import os
import socket
import sys
import sysconfig
import time
from typing import Any

CLONE_NEWNET = 0x40000000


def handler(event: dict[str, Any], context: Any) -> Any:
    action = event.get("action")
    if action == "write_secret":
        with open(f"/tmp/{event['name']}", "w") as out:
            out.write(event["text"])
        time.sleep(float(event.get("hold", 0)))
        return {"written": True}
    if action == "host_tmp":
        return _through_proc_root(event)
    if action == "other_tmp":
        return {"read": _read_any(_proc_roots(event.get("pids", [])), event["name"])}
    if action == "identity":
        return {"uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(), "cap_eff": _status_field("CapEff")}
    if action == "setns":
        return _setns_then_connect(event)
    if action == "write_outside":
        return _write_outside(event)
    if action == "processes":
        return _processes()
    return {"unknown_action": action}


def _status_field(name: str) -> str:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return line.split()[1]
    return ""


def _all_pids() -> list[int]:
    return sorted(int(entry) for entry in os.listdir("/proc") if entry.isdigit())


def _proc_roots(pids: list[int]) -> list[str]:
    """``/proc/<pid>/root`` of the pids given, then of every pid /proc lists."""
    ordered = [*pids, *[pid for pid in _all_pids() if pid not in pids]]
    return [f"/proc/{pid}/root" for pid in ordered]


def _read_any(roots: list[str], name: str) -> str | None:
    for root in roots:
        try:
            with open(f"{root}/tmp/{name}") as found:
                return found.read()
        except OSError:
            continue
    return None


def _through_proc_root(event: dict[str, Any]) -> dict[str, Any]:
    roots = _proc_roots([int(event["pid"]), 1])
    written = []
    for root in roots:
        try:
            with open(f"{root}/tmp/{event['write_name']}", "w") as out:
                out.write("written from inside an environment")
            written.append(root)
        except OSError:
            continue
    return {"read": _read_any(roots, event["read_name"]), "written_through": written}


def _setns_then_connect(event: dict[str, Any]) -> dict[str, Any]:
    libc = ctypes.CDLL(None, use_errno=True)
    outcome: dict[str, Any] = {"setns": None, "error": None}
    try:
        fd = os.open(f"/proc/{int(event['pid'])}/ns/net", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) == 0:
                outcome["setns"] = "joined"
            else:
                outcome["error"] = os.strerror(ctypes.get_errno())
        finally:
            os.close(fd)
    except OSError as exc:
        outcome["error"] = f"open: {exc.strerror}"
    try:
        socket.create_connection(("127.0.0.1", int(event["port"])), timeout=2).close()
        outcome["port_reachable"] = True
    except OSError:
        outcome["port_reachable"] = False
    return outcome


def _write_outside(event: dict[str, Any]) -> dict[str, Any]:
    name = event["name"]
    targets = [
        os.environ.get("LAMBDA_TASK_ROOT", os.getcwd()),
        sysconfig.get_paths()["purelib"],
        os.path.dirname(sys.executable),
        "/var/tmp",
        "/etc",
        "/",
        "/dev/shm",
    ]
    written = []
    for folder in targets:
        try:
            with open(os.path.join(folder, name), "w") as out:
                out.write("written from inside an environment")
            written.append(folder)
        except OSError:
            continue
    return {"written": written}


def _processes() -> dict[str, Any]:
    seen = {}
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                seen[pid] = cmdline.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue
    return {"own_pid": os.getpid(), "processes": seen}
