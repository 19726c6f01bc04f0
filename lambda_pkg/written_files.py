"""Files a test wrote into its working directory: the bundle's unpacked copy.

Locally a test (or a conftest hook) that saves ``screenshots/login.png`` or
``out/result.json`` relative to its working directory leaves the file in the
developer's tree, where CI archives it. In the function that directory is the
bundle's copy in /tmp. After each test the regular files it added or changed there go
to S3 (``<prefix>/<run id>/_written/<invocation>/<path>``), are linked on the test as
``artifact:written/<path>`` and named in the answer; the client puts the ones
``lambda_return_files`` matches back into its rootdir (runner/returned_files.py).

A warm environment keeps the copy for later runs. Within a run its tests share it, as
a local run's tests share the developer's tree; the next run finds it as it was
unpacked: what tests added is removed, and a copy whose own files they changed or
removed is thrown away and unpacked again.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambda_ui.contract import MAX_WRITTEN_FILE_BYTES as MAX_FILE_BYTES
from lambda_ui.contract import WRITTEN_FOLDER, WrittenFile
from lambda_ui.runner import junit_contract
from lambda_ui.runner.aws import s3

#: At most this many files and bytes per test go to S3; the rest are named in a warning.
MAX_FILES = 100
MAX_TOTAL_BYTES = 100 * 1024 * 1024
#: A written file's artifact name on the test: ``written/<path>``.
ARTIFACT_NAME_PREFIX = "written/"
#: Written by Python, never a test's output (hidden files and folders are tools' state, such as
#: pytest-cov's ``.coverage.*`` at each session's end, and the client never puts one back).
_NOISE_DIRS = frozenset({"__pycache__"})

#: (kind, size, mtime in ns) of one path: ``f`` file, ``l`` link, ``d`` folder, ``o`` other.
Signature = tuple[str, int, int]
Snapshot = dict[str, Signature]


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "f"
    if stat.S_ISLNK(mode):
        return "l"
    return "d" if stat.S_ISDIR(mode) else "o"


def _signature(path: str) -> Signature:
    """A path's kind, size and time, the link itself not followed (a folder's size and time: 0)."""
    info = os.lstat(path)
    kind = _kind(info.st_mode)
    return (kind, info.st_size, info.st_mtime_ns) if kind != "d" else (kind, 0, 0)


def _entries(folder: str, rel: str) -> Iterator[tuple[str, Signature]]:
    try:
        children = list(os.scandir(folder))
    except OSError:
        return
    for child in children:
        path = f"{rel}{child.name}"
        try:
            sig = _signature(child.path)
        except OSError:
            continue
        yield path, sig
        if sig[0] == "d":
            yield from _entries(child.path, path + "/")


def snapshot(root: Path, skip: str = "") -> Snapshot:
    """Every path below ``root`` (links not followed), except the top-level name ``skip``."""
    return {rel: sig for rel, sig in _entries(str(root), "") if rel != skip}


def _noise(rel: str) -> bool:
    parts = rel.split("/")
    return rel.endswith((".pyc", ".pyo")) or any(part.startswith(".") for part in parts) or bool(_NOISE_DIRS.intersection(parts[:-1]))


class BundleWrites:
    """One unpacked bundle as it was unpacked, and what tests added to it since.

    A look after each test costs a stat per folder, not per file (a bundle of 5,000 files
    in 140 folders: bench/bundle_writes.py): a folder whose time did not move gained or
    lost no entry, and only the files tests added are stat'ed for changes in place. A
    change to one of the bundle's own files is no test output (the client never puts it
    back); :meth:`restore` finds it, with a look at every file, when another run begins.
    """

    def __init__(self, root: Path, pristine: Snapshot, skip: str = "") -> None:
        self.root = root
        self._base = str(root) + os.sep
        self.pristine = pristine
        self._skip = skip
        #: Paths not in the copy as unpacked, as last seen (a leftover of an earlier process too).
        self._added: Snapshot = {}
        #: Every folder ("" the root) and its time when it was last listed.
        self._folders: dict[str, int] = {}
        #: The run whose tests use the copy now: another run's find it restored.
        self.run_id = ""
        self._list("")

    def _list(self, folder: str) -> list[str]:
        """List ``folder`` (new folders below it in full): the regular files added or changed there."""
        where = self._base + folder
        found: list[str] = []
        try:
            self._folders[folder] = os.stat(where).st_mtime_ns  # before listing: a later entry moves it again
            entries = list(os.scandir(where))
        except OSError:
            self._forget(folder)
            return found
        for entry in entries:
            rel = f"{folder}/{entry.name}" if folder else entry.name
            if rel == self._skip:
                continue
            try:
                sig = _signature(entry.path)
            except OSError:
                continue
            if sig[0] == "d" and rel not in self._folders:
                found += self._list(rel)
            if rel in self.pristine or self._added.get(rel) == sig:
                continue
            self._added[rel] = sig
            if sig[0] == "f" and not _noise(rel):
                found.append(rel)
        return found

    def _forget(self, folder: str) -> None:
        below = folder + "/"
        for table in (self._folders, self._added):
            for rel in [r for r in table if r == folder or r.startswith(below)]:
                del table[rel]

    def changed(self) -> list[str]:
        """Regular files tests added, or changed after adding them, since the last call."""
        found: list[str] = []
        for folder, listed in list(self._folders.items()):
            if folder not in self._folders:  # went with a parent folder
                continue
            try:
                moved = os.stat(self._base + folder).st_mtime_ns != listed
            except OSError:
                self._forget(folder)
                continue
            if moved:
                found += self._list(folder)
        for rel, sig in list(self._added.items()):  # rewritten in place: their folder's time stays
            if sig[0] == "d" or rel in found:
                continue
            try:
                now = _signature(self._base + rel)
            except OSError:
                del self._added[rel]
                continue
            if now != sig:
                self._added[rel] = now
                if now[0] == "f" and not _noise(rel):
                    found.append(rel)
        return sorted(set(found))

    def restore(self) -> bool:
        """Remove what tests added; False when an unpacked file was changed or removed."""
        now = snapshot(self.root, self._skip)
        for rel in sorted(set(now) - set(self.pristine), reverse=True):  # children before their folders
            path = self.root / rel
            if now[rel][0] == "d":
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    path.unlink()
        self._added.clear()
        self._folders.clear()
        self._list("")
        return all(now.get(rel) == sig for rel, sig in self.pristine.items())


@dataclass
class Shipped:
    files: list[WrittenFile] = field(default_factory=list)
    #: (property name, value) pairs for the test's last report: links and what stayed behind.
    properties: list[list[str]] = field(default_factory=list)


def _read(path: Path) -> bytes:
    """The file's bytes, never through a link (a test's link to /proc/self/environ stays unread)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        return handle.read(MAX_FILE_BYTES + 1)


def ship(client: Any, location: s3.S3Location, run_id: str, root: Path, relpaths: list[str]) -> Shipped:
    """Upload ``relpaths`` (below ``root``) within the limits; links and notes for the test's report."""
    shipped = Shipped()
    if not relpaths:
        return shipped
    folder = location.key(run_id, WRITTEN_FOLDER, uuid.uuid4().hex[:16])  # two tests may write the same path
    chosen: list[str] = []
    total = 0
    for rel in relpaths:
        try:
            size = (root / rel).stat().st_size
        except OSError:
            continue
        if size > MAX_FILE_BYTES:
            shipped.properties.append([junit_contract.ARTIFACT_WARNING, f"{rel} written in Lambda ({size:,} bytes) is over {MAX_FILE_BYTES:,} bytes: not uploaded"])
        elif len(chosen) >= MAX_FILES or total + size > MAX_TOTAL_BYTES:
            shipped.properties.append([junit_contract.ARTIFACT_WARNING, f"{rel} written in Lambda: over {MAX_FILES} files or {MAX_TOTAL_BYTES:,} bytes for one test, not uploaded"])
        else:
            chosen.append(rel)
            total += size

    def upload(rel: str) -> WrittenFile | str:
        key = f"{folder}/{rel}"
        try:
            s3.put_bytes(client, location, key, _read(root / rel), mimetypes.guess_type(rel)[0] or "application/octet-stream")
        except (OSError, s3.S3Problem) as exc:
            return f"{rel} written in Lambda was not uploaded: {exc}"
        return {"path": rel, "key": key}

    with ThreadPoolExecutor(max_workers=8) as pool:
        for result in pool.map(upload, chosen):
            if isinstance(result, str):
                shipped.properties.append([junit_contract.ARTIFACT_WARNING, result])
            else:
                shipped.files.append(result)
                shipped.properties.append([f"{junit_contract.ARTIFACT_PREFIX}{ARTIFACT_NAME_PREFIX}{result['path']}", location.url(result["key"])])
    return shipped
