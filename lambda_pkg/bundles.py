"""Test bundles: content-addressed zips of the suite, fetched from S3 into /tmp.

A bundle is unpacked once per execution environment and reused while its hash
stays the same. Older bundles are evicted so /tmp stays bounded.

A bundle is input from whoever may invoke the function: before it is written
to /tmp its size (the object's, then the sum of its members' unpacked sizes)
is checked against the free space, and extraction counts what it writes, so a
zip bomb or a lying header ends in ``BundleInvalid``, not a full /tmp.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import shutil
import stat
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from lambda_ui.contract import BundleRef, InvalidEvent
from lambda_ui.function.written_files import BundleWrites, snapshot

_COMPLETE = ".lambda-ui-complete"
_CHUNK = 1 << 20
#: Space kept free beside a bundle: Chrome's profile, captures and the health
#: check's own minimum (LAMBDA_UI_MIN_TMP_MB, 256 MB by default) need it.
DEFAULT_RESERVE_BYTES = 256 * 1024 * 1024
#: More members than any suite has; a zip of a million empty files fills inodes, not bytes.
MAX_MEMBERS = 100_000
#: A symlink's target is read into memory: no longer than Linux's PATH_MAX.
MAX_LINK_BYTES = 4096


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged writer may still use on the file system of ``path``."""
    usage = os.statvfs(path)
    return usage.f_bavail * usage.f_frsize


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def _disk_error(exc: OSError, what: str) -> InvalidEvent:
    """A write that failed: a full /tmp is the environment's problem (retry elsewhere),
    anything else (a name too long, a file where a folder should be) the bundle's."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return InvalidEvent(f"{what}: /tmp is full ({exc.strerror})", "EnvironmentUnhealthy")
    return InvalidEvent(f"{what}: {exc.strerror or exc}", "BundleInvalid")


class _Quota:
    """Bytes that may still be written to /tmp; passing it raises ``BundleInvalid``."""

    def __init__(self, left: int, free: int, reserve: int) -> None:
        self.left = left
        self.free = free
        self.reserve = reserve

    def too_big(self, what: str, size: int) -> InvalidEvent:
        return InvalidEvent(
            f"test bundle {what} {_mb(size)}, but /tmp has {_mb(self.free)} free and {_mb(self.reserve)} of it "
            "stays free for Chrome and captures; make the bundle smaller or raise the function's ephemeral storage",
            "BundleInvalid",
        )

    def copy(self, source: IO[bytes], target: Path, limit: int, what: str, digest: Any = None) -> int:
        """Stream ``source`` into ``target``: at most ``limit`` bytes and what the quota has left."""
        written = 0
        with target.open("wb") as out:
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                written += len(chunk)
                if written > limit:
                    raise InvalidEvent(f"test bundle {what} is larger than its header says ({limit:,} bytes)", "BundleInvalid")
                if written > self.left:
                    raise self.too_big(f"{what} is more than", written)
                if digest is not None:
                    digest.update(chunk)
                out.write(chunk)
        self.left -= written
        return written


@dataclass(frozen=True)
class Bundle:
    path: Path
    sha256: str
    cached: bool
    fetch_ms: float


class BundleCache:
    """Unpacked bundles under ``root``, at most ``keep`` of them."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        keep: int = 2,
        reserve_bytes: int = DEFAULT_RESERVE_BYTES,
        free_space: Callable[[Path], int] = free_bytes,
    ) -> None:
        self.root = Path(root)
        self.keep = keep
        self.reserve_bytes = reserve_bytes
        self._free_space = free_space

    def _quota(self) -> _Quota:
        """What a new bundle may take now: /tmp's free space less the reserve."""
        free = self._free_space(self.root)
        return _Quota(free - self.reserve_bytes, free, self.reserve_bytes)

    def get(self, ref: BundleRef, s3_client: Any) -> Bundle:
        started = time.perf_counter()
        sha = ref["sha256"]
        target = self.root / sha
        if (target / _COMPLETE).exists():
            os.utime(target / _COMPLETE)  # most recently used
            return Bundle(target, sha, True, (time.perf_counter() - started) * 1000)
        self.root.mkdir(parents=True, exist_ok=True)
        archive = self.root / f"{sha}.zip.part"
        try:
            self._download(ref, s3_client, archive)
            self._unpack(archive, target)
        finally:
            archive.unlink(missing_ok=True)
        self.evict(current=sha)
        return Bundle(target, sha, False, (time.perf_counter() - started) * 1000)

    def _download(self, ref: BundleRef, s3_client: Any, archive: Path) -> None:
        try:
            answer = s3_client.get_object(Bucket=ref["bucket"], Key=ref["key"])
            body = answer["Body"]
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            raise InvalidEvent(f"test bundle s3://{ref['bucket']}/{ref['key']} cannot be read ({code}); upload it again", "BundleMissing") from None
        where = f"s3://{ref['bucket']}/{ref['key']}"
        quota = self._quota()
        declared = _declared_length(answer)
        if declared is not None and declared > quota.left:
            raise quota.too_big(f"{where} is", declared)
        digest = hashlib.sha256()
        try:
            quota.copy(body, archive, declared if declared is not None else quota.left, where, digest)
        except OSError as exc:
            raise _disk_error(exc, f"test bundle {where} cannot be stored") from None
        if digest.hexdigest() != ref["sha256"]:
            raise InvalidEvent(
                f"test bundle s3://{ref['bucket']}/{ref['key']} has sha256 {digest.hexdigest()}, "
                f"but the event expects {ref['sha256']}; the object was changed or corrupted",
                "BundleMismatch",
            )

    def _unpack(self, archive: Path, target: Path) -> None:
        staging = target.with_name(target.name + ".unpacking")
        shutil.rmtree(staging, ignore_errors=True)
        try:
            with zipfile.ZipFile(archive) as zf:
                quota = self._quota()
                _check_members(zf.infolist(), quota)
                staging.mkdir(parents=True)  # an empty bundle is still a folder
                _extract(zf, staging, quota)
        except zipfile.BadZipFile as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise InvalidEvent(f"test bundle is not a valid zip: {exc}", "BundleInvalid") from None
        except InvalidEvent:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise _disk_error(exc, "test bundle cannot be unpacked") from None
        except (NotImplementedError, RuntimeError, EOFError, zlib.error) as exc:
            # A compression method zipfile lacks, an encrypted member, a truncated or corrupt stream.
            shutil.rmtree(staging, ignore_errors=True)
            raise InvalidEvent(f"test bundle cannot be unpacked: {type(exc).__name__}: {exc}", "BundleInvalid") from None
        # The marker holds the copy as unpacked: what tests write there is found and undone against it.
        (staging / _COMPLETE).write_text(json.dumps(snapshot(staging)))
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)

    def writes(self, bundle: Bundle) -> BundleWrites:
        """What tests change in ``bundle``'s copy, against the copy as it was unpacked."""
        try:
            pristine = {rel: (sig[0], sig[1], sig[2]) for rel, sig in json.loads((bundle.path / _COMPLETE).read_text()).items()}
        except (OSError, ValueError, TypeError, IndexError, AttributeError):
            pristine = snapshot(bundle.path, skip=_COMPLETE)  # a marker from before the manifest: trust the copy as it is
        return BundleWrites(bundle.path, pristine, skip=_COMPLETE)

    def discard(self, sha: str) -> None:
        """Throw a copy away (tests changed its files): the next test that needs it unpacks it again."""
        target = self.root / sha
        forget_modules(target)
        (target / _COMPLETE).unlink(missing_ok=True)
        shutil.rmtree(target, ignore_errors=True)

    def evict(self, current: str) -> list[str]:
        """Remove all but the ``keep`` most recently used bundles (never ``current``)."""
        if not self.root.exists():
            return []
        entries = []
        for child in self.root.iterdir():
            marker = child / _COMPLETE
            if child.name == current:
                continue
            if child.is_dir() and marker.exists():
                entries.append((marker.stat().st_mtime, child))
            else:
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        entries.sort(reverse=True)
        removed = []
        for _mtime, child in entries[max(0, self.keep - 1) :]:
            forget_modules(child)
            shutil.rmtree(child, ignore_errors=True)
            removed.append(child.name)
        return removed


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _check_members(members: list[zipfile.ZipInfo], quota: _Quota) -> None:
    """Before anything is written: unsafe names, too many members, oversized
    links, and more unpacked bytes (as the headers say) than /tmp can spare."""
    if len(members) > MAX_MEMBERS:
        raise InvalidEvent(f"test bundle has {len(members):,} members, more than {MAX_MEMBERS:,}", "BundleInvalid")
    for info in members:
        name = info.filename
        if name.startswith("/") or ".." in Path(name).parts:
            raise InvalidEvent(f"test bundle has an unsafe path: {name!r}", "BundleInvalid")
        if _is_link(info) and info.file_size > MAX_LINK_BYTES:
            raise InvalidEvent(f"test bundle has a symlink {name!r} of {info.file_size:,} bytes; a link target is at most {MAX_LINK_BYTES}", "BundleInvalid")
    total = sum(info.file_size for info in members)
    if total > quota.left:
        largest = sorted(members, key=lambda i: i.file_size, reverse=True)[:3]
        names = ", ".join(f"{i.filename} ({_mb(i.file_size)})" for i in largest)
        raise InvalidEvent(f"{quota.too_big(f'unpacks to {len(members):,} file(s) of', total)}. Largest: {names}", "BundleInvalid")


def _write_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, staging: Path, quota: _Quota) -> None:
    """One member, counted: more bytes than its header says, or than the quota, stop it."""
    path = staging.joinpath(*PurePosixPath(info.filename).parts)
    if info.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(info) as member:
        quota.copy(member, path, info.file_size, f"member {info.filename!r}")


def _extract(zf: zipfile.ZipFile, staging: Path, quota: _Quota) -> None:
    """Unpack files first, then symlinks (runner/bundle.py stores links inside the rootdir as links).

    A link must be relative, with ``..`` only at its start, and must stay inside the
    bundle; no member may lie under a link, so nothing is ever written through one.
    """
    links = {info.filename.rstrip("/"): info for info in zf.infolist() if _is_link(info)}
    for info in zf.infolist():
        name = info.filename.rstrip("/")
        if any(str(parent) in links for parent in PurePosixPath(name).parents):
            raise InvalidEvent(f"test bundle has a member under a symlink: {info.filename!r}", "BundleInvalid")
        if name not in links:
            _write_member(zf, info, staging, quota)
    for name, info in sorted(links.items()):
        raw = zf.read(info)
        target = raw.decode("utf-8", "replace")
        parts = PurePosixPath(target).parts
        ups = len(parts) - len(tuple(itertools.dropwhile(lambda part: part == "..", parts)))
        depth = len(PurePosixPath(name).parts) - 1  # folders between the bundle's root and the link
        if (
            not target or "\0" in target or target.startswith("/") or os.path.normpath(target) != target
            or ".." in parts[ups:] or ups > depth or target != raw.decode("utf-8", "surrogateescape")
        ):
            raise InvalidEvent(f"test bundle has a symlink that points outside it: {name!r} -> {target!r}", "BundleInvalid")
        link = staging / name
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(target, link)
        except OSError as exc:
            raise InvalidEvent(f"test bundle has a symlink that cannot be made: {name!r} ({exc.strerror})", "BundleInvalid") from None


def _declared_length(answer: dict[str, Any]) -> int | None:
    """The object's size as S3 announced it (``ContentLength``), if it did."""
    length = answer.get("ContentLength")
    return length if type(length) is int and length >= 0 else None


def forget_modules(folder: Path) -> int:
    """Drop every imported module that lives under ``folder`` and its sys.path entries.

    A warm process that switches bundles must import the new code, not find the
    old test modules and conftests in ``sys.modules``.
    """
    prefix = str(folder) + os.sep
    stale = [name for name, module in list(sys.modules.items()) if (getattr(module, "__file__", None) or "").startswith(prefix)]
    for name in stale:
        del sys.modules[name]
    sys.path[:] = [p for p in sys.path if not (p == str(folder) or p.startswith(prefix))]
    return len(stale)
