"""Test bundles: the suite's sources as one deterministic, content-addressed zip.

The same files give the same bytes and so the same sha256, which names the
object in S3: an unchanged suite is uploaded once.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_FIXED_TIME = (2000, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class BuiltBundle:
    data: bytes
    sha256: str
    files: int

    @property
    def key(self) -> str:
        return f"bundles/{self.sha256}.zip"


def build_bundle(root: str | os.PathLike[str], relpaths: Iterable[str]) -> BuiltBundle:
    """Zip ``relpaths`` (relative to ``root``) with fixed timestamps and modes."""
    base = Path(root)
    buffer = io.BytesIO()
    count = 0
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for rel in sorted(set(relpaths)):
            info = zipfile.ZipInfo(rel.replace(os.sep, "/"), date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, (base / rel).read_bytes())
            count += 1
    data = buffer.getvalue()
    return BuiltBundle(data=data, sha256=hashlib.sha256(data).hexdigest(), files=count)
