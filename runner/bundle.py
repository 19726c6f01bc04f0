"""Test bundles: the suite's sources as one deterministic, content-addressed zip.

The same files give the same bytes and so the same sha256, which names the
object in S3: an unchanged suite is uploaded once.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
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


#: Folders never shipped when the suite is not a git checkout.
EXCLUDED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", ".venv-lint", "env", "node_modules", "__pycache__", ".pytest_cache",
     ".mypy_cache", ".ruff_cache", ".tox", ".nox", "build", "dist", "artifacts", "reports", ".aws-sam", ".idea", ".vscode"}
)
EXCLUDED_SUFFIXES = (".pyc", ".pyo", ".egg-info")

#: Lambda's /tmp is bounded and a bundle is fetched on every cold start.
DEFAULT_MAX_BUNDLE_BYTES = 100 * 1024 * 1024


class BundleProblem(Exception):
    """The suite cannot be bundled; the message says what to do."""


def select_files(root: str | os.PathLike[str], exclude: Iterable[str | os.PathLike[str]] = ()) -> list[str]:
    """Files to ship: tracked plus untracked-but-not-ignored in git, else a walk with excludes.

    ``exclude`` names files this run writes itself (its JUnit report), which must
    not change the bundle's hash from one run to the next.
    """
    base = Path(root)
    skip = {os.path.relpath(os.path.abspath(p), os.path.abspath(base)) for p in exclude}
    return [rel for rel in _select(base) if rel not in skip]


def _select(base: Path) -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "."],
            cwd=base, capture_output=True, timeout=60, check=True,
        ).stdout
        inside = subprocess.run(["git", "rev-parse", "--show-prefix"], cwd=base, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return _walk(base)
    files = []
    for raw in out.split(b"\0"):
        if not raw:
            continue
        rel = raw.decode("utf-8", "surrogateescape")
        # git prints paths relative to the cwd (our root) for "."; keep the ones that exist
        # (deleted but still tracked files are skipped).
        if inside and rel.startswith(inside):
            rel = rel[len(inside):]
        if (base / rel).is_file() and not rel.endswith(EXCLUDED_SUFFIXES):
            files.append(rel)
    return sorted(files)


def _walk(base: Path) -> list[str]:
    files = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d not in EXCLUDED_DIRS and not d.endswith(".egg-info"))
        for name in filenames:
            if not name.endswith(EXCLUDED_SUFFIXES):
                files.append(os.path.relpath(os.path.join(dirpath, name), base))
    return sorted(files)


def check_size(root: str | os.PathLike[str], relpaths: list[str], limit: int = DEFAULT_MAX_BUNDLE_BYTES) -> int:
    base = Path(root)
    sizes = [((base / rel).stat().st_size, rel) for rel in relpaths]
    total = sum(size for size, _ in sizes)
    if total > limit:
        largest = ", ".join(f"{rel} ({size / 1e6:.1f} MB)" for size, rel in sorted(sizes, reverse=True)[:5])
        raise BundleProblem(
            f"the test bundle would be {total / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit. "
            f"Largest files: {largest}. Ignore them in .gitignore, or raise --lambda-max-bundle-mb."
        )
    return total
