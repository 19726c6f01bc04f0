"""Give one execution environment a private /tmp (and network), then exec its runtime.

Run by path as ``python -S -I _launcher.py SPEC_JSON COMMAND...`` (it imports nothing from
the project, so it starts in a few milliseconds). As root it joins the network namespace
the stand-in made for the environment (an inherited descriptor), enters a new mount
namespace, mounts a tmpfs of the function's EphemeralStorage size on /tmp, binds back the
few paths under the host's /tmp the runtime needs (a virtualenv, say), makes the code
directory read-only as Lambda's /var/task is, and execs COMMAND in place (same pid).

``SPEC_JSON``: {"tmp_mb": int, "keep": [paths under /tmp], "readonly": [paths],
"netns_fd": int or null}. With ``--probe`` instead of a command it only checks that all
this is permitted.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


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


def isolate(spec: dict[str, object]) -> None:
    netns_fd = spec.get("netns_fd")
    if isinstance(netns_fd, int):
        _check(_libc.setns(netns_fd, CLONE_NEWNET), "setns(CLONE_NEWNET)")
        os.close(netns_fd)  # the runtime and its children need no handle on it
    _check(_libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    # Nothing mounted here may leak back to the host.
    _mount("none", "/", None, MS_REC | MS_PRIVATE, None)
    # A handle on the host's /tmp, to bind paths from it once the tmpfs hides it.
    host_tmp = os.open("/tmp", os.O_RDONLY | os.O_DIRECTORY)
    _mount("lambda-tmp", "/tmp", "tmpfs", 0, f"size={int(spec['tmp_mb'])}m,mode=1777")  # type: ignore[call-overload]
    for path in spec.get("keep", []):  # type: ignore[attr-defined]
        relative = os.path.relpath(path, "/tmp")
        os.makedirs(path, exist_ok=True)
        _mount(f"/proc/self/fd/{host_tmp}/{relative}", path, None, MS_BIND | MS_REC, None)
    os.close(host_tmp)
    for path in spec.get("readonly", []):  # type: ignore[attr-defined]
        _mount(path, path, None, MS_BIND | MS_REC, None)
        _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
    # Re-resolve the working directory, which may now be one of the mounts above.
    os.chdir(os.getcwd())


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    try:
        isolate(spec)
    except OSError as exc:
        print(f"local-lambda: cannot isolate the environment: {exc}", file=sys.stderr)
        return 111
    if argv[2:] == ["--probe"]:
        return 0
    os.execv(argv[2], argv[2:])
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv))
