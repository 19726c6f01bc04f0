"""Test bundles: content-addressed zips of the suite, fetched from S3 into /tmp.

A bundle is unpacked once per execution environment and reused while its hash
stays the same. Older bundles are evicted so /tmp stays bounded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.contract import BundleRef, InvalidEvent

_COMPLETE = ".lambda-ui-complete"


@dataclass(frozen=True)
class Bundle:
    path: Path
    sha256: str
    cached: bool
    fetch_ms: float


class BundleCache:
    """Unpacked bundles under ``root``, at most ``keep`` of them."""

    def __init__(self, root: str | os.PathLike[str], keep: int = 2) -> None:
        self.root = Path(root)
        self.keep = keep

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
            body = s3_client.get_object(Bucket=ref["bucket"], Key=ref["key"])["Body"]
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            raise InvalidEvent(f"test bundle s3://{ref['bucket']}/{ref['key']} cannot be read ({code}); upload it again", "BundleMissing") from None
        digest = hashlib.sha256()
        with archive.open("wb") as out:
            for chunk in iter(lambda: body.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
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
                for info in zf.infolist():
                    name = info.filename
                    if name.startswith("/") or ".." in Path(name).parts:
                        raise InvalidEvent(f"test bundle has an unsafe path: {name!r}", "BundleInvalid")
                zf.extractall(staging)
        except zipfile.BadZipFile as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise InvalidEvent(f"test bundle is not a valid zip: {exc}", "BundleInvalid") from None
        except InvalidEvent:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        (staging / _COMPLETE).touch()
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)

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
