"""Build one execution environment's sandbox, then run its runtime there as an
unprivileged user.

Run by path as ``python -S -I _launcher.py SPEC_JSON COMMAND...`` (it imports nothing from
the project, so it starts in a few milliseconds), as root, as the first process of a new
PID namespace (the stand-in starts it there, sandbox.spawn). It joins the network namespace
the stand-in made for the environment (an inherited descriptor), enters a new mount
namespace, and there:

- mounts a tmpfs of the function's EphemeralStorage size on /tmp, owned by the sandbox
  user, and a small private tmpfs on /dev/shm (Lambda's is restricted too);
- hides each directory the sandbox user may not enter (``/root`` holding the interpreter,
  say) under an empty tmpfs and binds back only the paths the runtime needs from it, so the
  interpreter keeps its path and nothing else there is visible (paths under the host's /tmp
  are bound back into the private /tmp the same way);
- remounts every other mount read-only and nosuid, the code directory included, as
  Lambda's filesystem is read-only except /tmp;
- mounts a /proc of the new PID namespace, so only the environment's processes are seen.

Then it forks the runtime, which drops to the sandbox user (no capabilities, no new
privileges through setuid files) and execs COMMAND. This process stays as the namespace's
init, like Lambda's own init: it reaps orphans (Chrome's helpers), and when the runtime
ends it writes the runtime's status (``exit N`` or ``signal N``) to the status descriptor
and exits, which ends every process left in the namespace.

After a reset (a timeout or a crash) the stand-in starts a new launcher with ``mntns_fd``,
a descriptor on the mount namespace of the environment's previous sandbox: it joins that
namespace instead of building one, so /tmp and everything written there is kept, as Lambda
keeps /tmp across a reset, and only mounts a /proc of its own new PID namespace.

``SPEC_JSON``: {"tmp_mb": int, "shm_mb": int, "hide": {dir: [paths to bind back]},
"netns_fd": int or null, "status_fd": int or null, "mntns_fd": int or null, "uid": int,
"gid": int}. Exit status
111 and one ``local-lambda: cannot isolate the environment: ...`` line on stderr when a step
is refused.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_NOATIME = 0x400
MS_NODIRATIME = 0x800
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
MS_RELATIME = 0x200000
MS_STRICTATIME = 0x1000000
MNT_DETACH = 0x2
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
#: Per-mount flags a read-only remount keeps (mountinfo's names for them).
_KEPT_FLAGS = {
    "nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME, "strictatime": MS_STRICTATIME,
}
#: Mounts that stay writable: the environment's own.
_WRITABLE = ("/tmp", "/dev/shm", "/proc")
FAILED = 111

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


def _mounts() -> list[tuple[str, set[str]]]:
    """Mount points of this namespace with their per-mount options, parents first."""
    found = []
    with open("/proc/self/mountinfo") as table:
        for line in table:
            fields = line.split()
            point = re.sub(r"\\([0-7]{3})", lambda code: chr(int(code[1], 8)), fields[4])  # "\040" is a space
            found.append((point, set(fields[5].split(","))))
    return found


def _hide(directory: str, keep: list[str], data: str) -> None:
    """An empty tmpfs over ``directory``, with the ``keep`` paths under it bound back."""
    original = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        _mount("lambda-sandbox", directory, "tmpfs", MS_NOSUID, data)
        for path in keep:
            relative = os.path.relpath(path, directory)
            source = f"/proc/self/fd/{original}/{relative}"
            if os.path.isdir(source):
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "a").close()
            _mount(source, path, None, MS_BIND | MS_REC, None)
    finally:
        os.close(original)


def _read_only_everywhere() -> None:
    for point, options in _mounts():
        if "ro" in options or point in _WRITABLE or point.startswith("/proc/"):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID
        flags |= sum(flag for name, flag in _KEPT_FLAGS.items() if name in options)
        try:
            _mount(None, point, None, flags, None)
        except OSError as exc:
            # A mount point now under one of our tmpfs mounts is out of sight already.
            if exc.errno not in (errno.EINVAL, errno.ENOENT) or point == "/":
                raise


def _mount_proc() -> None:
    if os.getpid() == 1:  # a new PID namespace: a /proc that shows it
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


def rejoin(mntns_fd: int) -> None:
    """Enter the previous sandbox's mount namespace (a reset): its /tmp, as it was left."""
    cwd = os.getcwd()
    _check(_libc.setns(mntns_fd, CLONE_NEWNS), "setns(CLONE_NEWNS)")
    os.close(mntns_fd)
    _libc.umount2(b"/proc", MNT_DETACH)  # the old PID namespace's; failing leaves it under ours
    _mount_proc()
    os.chdir(cwd)  # setns moved us to the namespace's root


def isolate(spec: dict[str, Any]) -> None:
    netns_fd = spec.get("netns_fd")
    if isinstance(netns_fd, int):
        _check(_libc.setns(netns_fd, CLONE_NEWNET), "setns(CLONE_NEWNET)")
        os.close(netns_fd)  # the runtime and its children need no handle on it
    mntns_fd = spec.get("mntns_fd")
    if isinstance(mntns_fd, int):
        rejoin(mntns_fd)
        return
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    # Nothing mounted here may leak back to the host.
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    owner = f"uid={int(spec['uid'])},gid={int(spec['gid'])}"
    hide: dict[str, list[str]] = spec.get("hide", {})
    _hide("/tmp", hide.get("/tmp", []), f"size={int(spec['tmp_mb'])}m,mode=1777,{owner}")
    for directory in sorted(d for d in hide if d != "/tmp"):
        _hide(directory, hide[directory], "size=1m,mode=0755")
    if os.path.isdir("/dev/shm"):
        _mount("lambda-shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={int(spec['shm_mb'])}m,mode=1777,{owner}")
    _read_only_everywhere()
    _mount_proc()
    # Re-resolve the working directory, which may now be one of the mounts above.
    os.chdir(os.getcwd())


def drop_privileges(uid: int, gid: int) -> None:
    """Become ``uid``:``gid`` for good: no capabilities, none to regain by exec."""
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    with open("/proc/sys/kernel/cap_last_cap") as last:
        for cap in range(int(last.read()) + 1):
            _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"prctl(PR_CAPBSET_DROP, {cap})")
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)  # clears the permitted and effective capabilities
    if os.geteuid() == 0 or os.getegid() == 0:
        raise OSError(errno.EPERM, "still root after setresuid")


def _status_text(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"


def _exit_code(status: int) -> int:
    return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.waitstatus_to_exitcode(status)


def run_as_init(spec: dict[str, Any], command: list[str]) -> int:
    """Fork the runtime as the sandbox user, reap every child until it ends, report it."""
    status_fd = spec.get("status_fd")
    error_read, error_write = os.pipe()
    runtime = os.fork()
    if runtime == 0:
        os.close(error_read)
        try:
            if isinstance(status_fd, int):
                os.close(status_fd)
            drop_privileges(int(spec["uid"]), int(spec["gid"]))
            os.set_inheritable(error_write, False)
            os.set_blocking(error_write, True)
            os.execv(command[0], command)
        except OSError as exc:
            os.write(error_write, f"cannot start the runtime as uid {spec['uid']}: {exc}".encode())
        os._exit(FAILED)
    os.close(error_write)
    problem = os.read(error_read, 4096).decode("utf-8", "replace")  # empty once exec succeeded
    os.close(error_read)
    if problem:
        print(f"local-lambda: cannot isolate the environment: {problem}", file=sys.stderr, flush=True)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:  # pragma: no cover - the runtime is always a child
            return FAILED
        if pid == runtime:
            break
    if isinstance(status_fd, int):
        os.write(status_fd, _status_text(status).encode())
        os.close(status_fd)
    return FAILED if problem else _exit_code(status)


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    try:
        isolate(spec)
    except OSError as exc:
        print(f"local-lambda: cannot isolate the environment: {exc}", file=sys.stderr)
        return FAILED
    return run_as_init(spec, argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
