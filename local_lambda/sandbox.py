"""How an execution environment is isolated, and the command that starts it.

Three modes. ``namespace`` (root, and the kernel allows it) is a sandbox like Lambda's: the
runtime runs as an unprivileged user (``sbx_user1051``, created on first use) without
capabilities, in a PID namespace of its own with its own ``/proc``, in a mount namespace
where everything is read-only (the code directory included) except its own ``/tmp`` (a
tmpfs sized like the function's EphemeralStorage) and a small private ``/dev/shm``, and in
a private network namespace with only its own loopback (netns.py), host services reached
through the relay (relay.py). ``mount``: the same without the network namespace (the
host's network is shared). ``tmpdir`` (no namespaces, or not root): a private directory
with a short path (``/tmp/lle-XXXXXX``, short because Chrome's Unix socket paths must stay
under ~100 characters) given as ``TMPDIR``, and the runtime runs as the stand-in's own user.
``auto`` takes the first of these that works here. _launcher.py builds the sandbox.
"""

from __future__ import annotations

import ctypes
import json
import os
import pwd
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_ui.local_lambda import netns

LAUNCHER = str(Path(__file__).with_name("_launcher.py"))
NAMESPACE = "namespace"
MOUNT = "mount"
TMPDIR = "tmpdir"
MODES = ("auto", NAMESPACE, MOUNT, TMPDIR)
#: The user Lambda runs functions as; created here as a system user without a home.
SANDBOX_USER = "sbx_user1051"
#: Lambda's /dev/shm is restricted; Chrome runs with --disable-dev-shm-usage there.
SHM_MB = 64
CLONE_NEWPID = 0x20000000
_PROBE_TIMEOUT_S = 60

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True)
class Isolation:
    mode: str
    #: Why this mode, for the log line that says which one is in use.
    reason: str
    #: The sandbox user's (uid, gid) in the namespace modes.
    user: tuple[int, int] | None = None
    #: Directories hidden under an empty tmpfs, each with the paths bound back into it.
    hidden: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def private_mounts(self) -> bool:
        """/tmp is a tmpfs of the environment's own (a mount namespace)."""
        return self.mode in (NAMESPACE, MOUNT)

    @property
    def private_network(self) -> bool:
        """The environment has its own loopback and reaches host services by the relay."""
        return self.mode == NAMESPACE


# -- the sandbox user ----------------------------------------------------------------------
def sandbox_user(name: str = SANDBOX_USER) -> tuple[int, int]:
    """``name``'s uid and gid, adding it as a system user without a home when missing."""
    deadline = time.monotonic() + 10
    while True:
        try:
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            pass
        added = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--user-group", "--home-dir", "/tmp", "--shell", "/usr/sbin/nologin", name],
            capture_output=True, text=True, check=False,
        )
        # 9: added meanwhile by another stand-in; 10: /etc/passwd locked by one, try again.
        if added.returncode not in (0, 9, 10) or time.monotonic() > deadline:
            raise OSError(f"cannot add the sandbox user {name}: {added.stderr.strip() or f'useradd exited with {added.returncode}'}")
        if added.returncode == 10:
            time.sleep(0.05)


# -- paths the runtime needs ---------------------------------------------------------------
def _interpreter_paths(python: str) -> list[str]:
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        return [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *[p for p in sys.path if p]]
    ask = "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path]))"
    try:
        answer = subprocess.run([python, "-c", ask], capture_output=True, text=True, timeout=30, cwd="/", check=True)
        return [str(p) for p in json.loads(answer.stdout) if p]
    except (OSError, subprocess.SubprocessError, ValueError):
        return []


def runtime_paths(python: str, code_dir: str, extra: Iterable[str]) -> list[str]:
    """Real paths the runtime reads: the code, the interpreter (and the links to it), its
    prefixes and import path, and ``extra``."""
    # A script's own folder on the import path may be /tmp itself: not one the runtime reads.
    interpreter = [p for p in _interpreter_paths(python) if p and os.path.realpath(p) not in ("/", "/tmp")]
    candidates = [code_dir, os.path.dirname(os.path.dirname(os.path.abspath(python))), *interpreter, *extra]
    # Each link on the way from the venv's python to the real interpreter.
    link = os.path.abspath(python)
    for _ in range(40):
        candidates.append(os.path.dirname(os.path.dirname(os.path.realpath(link))))
        if not os.path.islink(link):
            break
        link = os.path.join(os.path.dirname(link), os.readlink(link))
    found = {os.path.realpath(p) for p in candidates if p and os.path.exists(p)}
    return sorted(found)


def _outermost(paths: Iterable[str]) -> list[str]:
    outer: list[str] = []
    for path in sorted(set(paths), key=len):
        if not any(path == o or path.startswith(o.rstrip("/") + "/") for o in outer):
            outer.append(path)
    return sorted(outer)


def _closed_ancestor(path: str) -> str | None:
    """The outermost directory above ``path`` that other users cannot enter."""
    parts = Path(path).parts
    for depth in range(2, len(parts)):
        directory = str(Path(*parts[:depth]))
        try:
            if not os.stat(directory).st_mode & stat.S_IXOTH:
                return directory
        except OSError:
            return None
    return None


def hidden_dirs(paths: Iterable[str]) -> dict[str, list[str]]:
    """What the launcher hides under an empty tmpfs, and what it binds back into each:
    always /tmp (the environment's own), and each directory the sandbox user could not
    enter on the way to a path the runtime needs (``/root`` above a pyenv interpreter)."""
    hidden: dict[str, list[str]] = {"/tmp": []}
    for path in paths:
        if path == "/tmp" or path.startswith("/tmp/"):
            hidden["/tmp"].append(path)
            continue
        closed = _closed_ancestor(path)
        if closed is not None:
            hidden.setdefault(closed, []).append(path)
    return {directory: _outermost(kept) for directory, kept in hidden.items()}


# -- starting a sandboxed process ----------------------------------------------------------
def spawn(argv: list[str], **popen_args: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen`` as the first process (init) of a new PID namespace.

    A thread's ``unshare(CLONE_NEWPID)`` places the next child it forks in a new namespace;
    a thread of its own that ends right after keeps the rest of the stand-in's children in
    the host's.
    """
    outcome: dict[str, Any] = {}

    def start() -> None:
        try:
            if _libc.unshare(CLONE_NEWPID) != 0:
                errno = ctypes.get_errno()
                raise OSError(errno, f"unshare(CLONE_NEWPID): {os.strerror(errno)}")
            outcome["proc"] = subprocess.Popen(argv, **popen_args)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=start, name="pidns-spawn", daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    proc: subprocess.Popen[bytes] = outcome["proc"]
    return proc


class RuntimeStatus:
    """How the runtime inside a sandbox ended, as the launcher (its init) reports it on a pipe."""

    def __init__(self) -> None:
        self._read, self.write_fd = os.pipe()

    def sent(self) -> None:
        """The child holds the write end now."""
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1  # never closed twice: the number may belong to another file by then

    def returncode(self, launcher_code: int | None) -> int | None:
        """The runtime's code as Popen gives it (negative: a signal), else the launcher's."""
        text = ""
        if self._read >= 0:
            try:
                os.set_blocking(self._read, False)
                text = os.read(self._read, 64).decode()
            except OSError:
                pass
        kind, _, number = text.partition(" ")
        if kind == "exit" and number.lstrip("-").isdigit():
            return int(number)
        if kind == "signal" and number.isdigit():
            return -int(number)
        return launcher_code

    def close(self) -> None:
        self.sent()
        if self._read >= 0:
            os.close(self._read)
            self._read = -1


# -- choosing the mode ---------------------------------------------------------------------
def _spec(
    tmp_mb: int, isolation_user: tuple[int, int], hidden: dict[str, list[str]], netns_fd: int | None, status_fd: int | None,
    mntns_fd: int | None = None,
) -> str:
    uid, gid = isolation_user
    return json.dumps(
        {
            "tmp_mb": tmp_mb, "shm_mb": SHM_MB, "hide": hidden, "netns_fd": netns_fd, "status_fd": status_fd,
            "mntns_fd": mntns_fd, "uid": uid, "gid": gid,
        }
    )


def _probe(python: str, network: bool, user: tuple[int, int], hidden: dict[str, list[str]], code_dir: str) -> str | None:
    """Why an environment cannot be sandboxed here (None: it can). Builds a whole sandbox
    and imports awslambdaric in it as the sandbox user."""
    namespace = None
    status = RuntimeStatus()
    try:
        if network:
            namespace = netns.create([("127.0.0.1", 0)])
        fds = (status.write_fd,) if namespace is None else (status.write_fd, namespace.fd)
        spec = _spec(16, user, hidden, namespace.fd if namespace else None, status.write_fd)
        check = f"import os, awslambdaric; os.listdir({code_dir!r})"
        # cwd "/": the probe's own working directory may be hidden by its tmpfs.
        probe = spawn(
            [python, "-S", "-I", LAUNCHER, spec, python, "-c", check],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/", pass_fds=fds,
        )
        status.sent()
        _out, err = probe.communicate(timeout=_PROBE_TIMEOUT_S)
        code = status.returncode(probe.returncode)
        if code != 0:
            text = err.decode("utf-8", "replace").strip().splitlines()
            return (text[-1] if text else f"the probe exited with {code}").removeprefix("local-lambda: ")
    except (OSError, subprocess.SubprocessError) as exc:
        return str(exc)
    finally:
        status.close()
        if namespace is not None:
            namespace.close()
    return None


def detect(python: str, wanted: str, code_dir: str, extra_keep: list[str]) -> Isolation:
    """Pick the isolation mode: ``auto`` tries namespace, then mount, then tmpdir."""
    if wanted == TMPDIR:
        return Isolation(TMPDIR, "requested with --isolation tmpdir; the runtime runs as this user, sharing its /tmp, processes and network")
    sandbox = f"user {SANDBOX_USER}, own PID namespace and /proc, read-only filesystem but a private tmpfs on /tmp"
    problem = None
    user = None
    hidden: dict[str, list[str]] = {}
    if os.geteuid() != 0:
        problem = "not running as root"
    else:
        paths = runtime_paths(python, code_dir, extra_keep)
        hidden = hidden_dirs(paths)
        if "/tmp" in paths:
            problem = "the code or interpreter lives directly in /tmp"
        else:
            try:
                user = sandbox_user()
            except OSError as exc:
                problem = str(exc)
    frozen = tuple((d, tuple(kept)) for d, kept in sorted(hidden.items()))
    if problem is None and user is not None:
        if wanted != MOUNT:
            # One probe checks everything; only when it fails is the host network tried.
            network_problem = _probe(python, True, user, hidden, code_dir)
            if network_problem is None:
                return Isolation(NAMESPACE, f"{sandbox}; private network namespace (own loopback; host ports by relay)", user, frozen)
            problem = _probe(python, False, user, hidden, code_dir)
            if problem is None:
                if wanted == NAMESPACE:
                    raise RuntimeError(f"--isolation namespace is not possible here (no private network): {network_problem}")
                reason = f"{sandbox}; the host's network, as no private network namespace is possible ({network_problem})"
                return Isolation(MOUNT, reason, user, frozen)
        else:
            problem = _probe(python, False, user, hidden, code_dir)
            if problem is None:
                return Isolation(MOUNT, f"{sandbox}; the host's network (requested with --isolation mount)", user, frozen)
    if wanted in (NAMESPACE, MOUNT):
        raise RuntimeError(f"--isolation {wanted} is not possible here: {problem}")
    return Isolation(TMPDIR, f"no sandbox, only a private TMPDIR directory; the runtime runs as this user with the host's network ({problem})")


def make_private_tmp() -> str:
    """A new short-path directory for one environment (tmpdir mode)."""
    return tempfile.mkdtemp(prefix="lle-", dir="/tmp")


def command(
    isolation: Isolation, python: str, handler: str, tmp_mb: int, netns_fd: int | None = None, status_fd: int | None = None,
    mntns_fd: int | None = None,
) -> list[str]:
    """The argv that starts one environment's runtime (awslambdaric) under its isolation;
    ``netns_fd`` (to pass to the child) is the network namespace it joins, ``status_fd``
    where the launcher reports how the runtime ended, ``mntns_fd`` the mount namespace of
    the environment's earlier sandbox, rejoined after a reset (its /tmp kept)."""
    runtime = [python, "-m", "awslambdaric", handler]
    if not isolation.private_mounts or isolation.user is None:
        return runtime
    hidden = {d: list(kept) for d, kept in isolation.hidden}
    return [python, "-S", "-I", LAUNCHER, _spec(tmp_mb, isolation.user, hidden, netns_fd, status_fd, mntns_fd), *runtime]
