"""How an execution environment is isolated: its own /tmp and network, and the command
that starts it.

Three modes. ``namespace`` (root, and the kernel allows it): a private mount namespace with
a tmpfs on /tmp sized like the function's EphemeralStorage, so the function sees the same
empty, size-limited /tmp it gets on Lambda, and the code directory read-only; plus a
private network namespace with only its own loopback (netns.py), host services reached
through the relay (relay.py). ``mount``: the same without the network namespace (the
host's network is shared). ``tmpdir`` (no namespaces): a private directory with a short
path (``/tmp/lle-XXXXXX``, short because Chrome's Unix socket paths must stay under ~100
characters) given as ``TMPDIR``. ``auto`` takes the first of these that works here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lambda_pkg.emulator import netns

LAUNCHER = str(Path(__file__).with_name("_launcher.py"))
NAMESPACE = "namespace"
MOUNT = "mount"
TMPDIR = "tmpdir"
MODES = ("auto", NAMESPACE, MOUNT, TMPDIR)


@dataclass(frozen=True)
class Isolation:
    mode: str
    #: Why this mode, for the log line that says which one is in use.
    reason: str

    @property
    def private_mounts(self) -> bool:
        """/tmp is a tmpfs of the environment's own (a mount namespace)."""
        return self.mode in (NAMESPACE, MOUNT)

    @property
    def private_network(self) -> bool:
        """The environment has its own loopback and reaches host services by the relay."""
        return self.mode == NAMESPACE


def _under_tmp(path: str) -> bool:
    real = os.path.realpath(path)
    return real == "/tmp" or real.startswith("/tmp/")


def keep_paths(python: str, code_dir: str, extra: list[str]) -> list[str]:
    """Paths under the host's /tmp that the runtime needs once /tmp is replaced."""
    candidates = [code_dir, os.path.dirname(os.path.dirname(os.path.abspath(python))), *extra]
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        candidates += [sys.prefix, sys.base_prefix, sys.exec_prefix, *[p for p in sys.path if p]]
    found: list[str] = []
    for path in candidates:
        if path and os.path.exists(path) and _under_tmp(path):
            found.append(os.path.realpath(path))
    # Keep the outermost of nested paths: binding /tmp/venv covers /tmp/venv/lib.
    found = sorted(set(found), key=len)
    outer: list[str] = []
    for path in found:
        if not any(path == o or path.startswith(o + "/") for o in outer):
            outer.append(path)
    return outer


def _probe(python: str, network: bool) -> str | None:
    """Why the launcher cannot isolate an environment here (None: it can)."""
    namespace = None
    try:
        if network:
            namespace = netns.create([("127.0.0.1", 0)])
        spec = json.dumps({"tmp_mb": 16, "keep": [], "readonly": [], "netns_fd": namespace.fd if namespace else None})
        # cwd "/": the probe's own working directory may be hidden by its tmpfs.
        probe = subprocess.run(
            [python, "-S", "-I", LAUNCHER, spec, "--probe"], capture_output=True, text=True, timeout=30, cwd="/",
            pass_fds=(namespace.fd,) if namespace else (),
        )
        if probe.returncode != 0:
            return probe.stderr.strip().removeprefix("local-lambda: ") or f"probe exited with {probe.returncode}"
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    finally:
        if namespace is not None:
            namespace.close()
    return None


def detect(python: str, wanted: str, code_dir: str, extra_keep: list[str]) -> Isolation:
    """Pick the isolation mode: ``auto`` tries namespace, then mount, then tmpdir."""
    if wanted == TMPDIR:
        return Isolation(TMPDIR, "requested with --isolation tmpdir")
    mounts = "private mount namespace with a tmpfs on /tmp"
    problem = None
    if os.geteuid() != 0:
        problem = "not running as root"
    elif "/tmp" in keep_paths(python, code_dir, extra_keep):
        problem = "the code or interpreter lives directly in /tmp"
    elif wanted != MOUNT:
        # One probe checks both namespaces; only when it fails is the mount one tried alone.
        network_problem = _probe(python, network=True)
        if network_problem is None:
            return Isolation(NAMESPACE, f"{mounts}; private network namespace (own loopback; host ports by relay)")
        problem = _probe(python, network=False)
        if problem is None:
            if wanted == NAMESPACE:
                raise RuntimeError(f"--isolation namespace is not possible here (no private network): {network_problem}")
            return Isolation(MOUNT, f"{mounts}; the host's network, as no private network namespace is possible ({network_problem})")
    else:
        problem = _probe(python, network=False)
    if problem is None:
        return Isolation(MOUNT, f"{mounts}; the host's network (requested with --isolation mount)")
    if wanted in (NAMESPACE, MOUNT):
        raise RuntimeError(f"--isolation {wanted} is not possible here: {problem}")
    return Isolation(TMPDIR, f"private TMPDIR directory and the host's network ({problem})")


def make_private_tmp() -> str:
    """A new short-path directory for one environment (tmpdir mode)."""
    return tempfile.mkdtemp(prefix="lle-", dir="/tmp")


def command(
    isolation: Isolation, python: str, handler: str, tmp_mb: int, code_dir: str, extra_keep: list[str], netns_fd: int | None = None
) -> list[str]:
    """The argv that starts one environment's runtime (awslambdaric) under its isolation;
    ``netns_fd`` (to pass to the child) is the network namespace it joins."""
    runtime = [python, "-m", "awslambdaric", handler]
    if not isolation.private_mounts:
        return runtime
    spec = {
        "tmp_mb": tmp_mb,
        "keep": keep_paths(python, code_dir, extra_keep),
        "readonly": [os.path.realpath(code_dir)],
        "netns_fd": netns_fd,
    }
    return [python, "-S", "-I", LAUNCHER, json.dumps(spec), *runtime]
