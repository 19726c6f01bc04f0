"""How an execution environment is isolated: its own /tmp, and the command that starts it.

Two modes. ``namespace`` (root, and the kernel allows it): a private mount namespace with a
tmpfs on /tmp sized like the function's EphemeralStorage, so the function sees the same
empty, size-limited /tmp it gets on Lambda, and the code directory read-only. ``tmpdir``
(otherwise): a private directory with a short path (``/tmp/lle-XXXXXX``, short because
Chrome's Unix socket paths must stay under ~100 characters) given as ``TMPDIR``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

LAUNCHER = str(Path(__file__).with_name("_launcher.py"))
NAMESPACE = "namespace"
TMPDIR = "tmpdir"


@dataclass(frozen=True)
class Isolation:
    mode: str
    #: Why this mode, for the log line that says which one is in use.
    reason: str


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


def detect(python: str, wanted: str, code_dir: str, extra_keep: list[str]) -> Isolation:
    """Pick the isolation mode: ``auto`` tries the namespace and falls back to tmpdir."""
    if wanted == TMPDIR:
        return Isolation(TMPDIR, "requested with --isolation tmpdir")
    problem = None
    if os.geteuid() != 0:
        problem = "not running as root"
    elif "/tmp" in keep_paths(python, code_dir, extra_keep):
        problem = "the code or interpreter lives directly in /tmp"
    else:
        spec = json.dumps({"tmp_mb": 16, "keep": [], "readonly": []})
        try:
            probe = subprocess.run(
                [python, "-S", "-I", LAUNCHER, spec, "--probe"], capture_output=True, text=True, timeout=30
            )
            if probe.returncode != 0:
                problem = probe.stderr.strip() or f"probe exited with {probe.returncode}"
        except (OSError, subprocess.SubprocessError) as exc:
            problem = str(exc)
    if problem is None:
        return Isolation(NAMESPACE, "private mount namespace with a tmpfs on /tmp")
    if wanted == NAMESPACE:
        raise RuntimeError(f"--isolation namespace is not possible here: {problem}")
    return Isolation(TMPDIR, f"private TMPDIR directory ({problem})")


def make_private_tmp() -> str:
    """A new short-path directory for one environment (tmpdir mode)."""
    return tempfile.mkdtemp(prefix="lle-", dir="/tmp")


def command(
    isolation: Isolation, python: str, handler: str, tmp_mb: int, code_dir: str, extra_keep: list[str]
) -> list[str]:
    """The argv that starts one environment's runtime (awslambdaric) under its isolation."""
    runtime = [python, "-m", "awslambdaric", handler]
    if isolation.mode != NAMESPACE:
        return runtime
    spec = {
        "tmp_mb": tmp_mb,
        "keep": keep_paths(python, code_dir, extra_keep),
        "readonly": [os.path.realpath(code_dir)],
    }
    return [python, "-S", "-I", LAUNCHER, json.dumps(spec), *runtime]
