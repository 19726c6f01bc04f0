"""Run ids and the folder layout of artifacts: ``<root>/<run-id>/<test path>/<name>``."""

from __future__ import annotations

import hashlib
import re
import secrets
import time

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_SEGMENT = 80


def new_run_id(now: float | None = None) -> str:
    """Sortable and unique enough for concurrent CI jobs: 20261127-144033-3fa9c1."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    return f"{stamp}-{secrets.token_hex(3)}"


def _safe_segment(segment: str) -> str:
    cleaned = _UNSAFE.sub("_", segment).strip("._") or "_"
    if cleaned != segment or len(cleaned) > _MAX_SEGMENT:
        # Keep distinct ids distinct after cleaning: test[a b] vs test[a_b].
        digest = hashlib.sha256(segment.encode()).hexdigest()[:8]
        cleaned = f"{cleaned[:_MAX_SEGMENT]}-{digest}"
    return cleaned


def nodeid_path(nodeid: str) -> str:
    """A node id as a relative path safe for file systems and S3 keys.

    ``ui/test_forms.py::TestSignup::test_email[bad@]`` becomes
    ``ui/test_forms.py/TestSignup/test_email_bad-<hash>``.
    """
    segments: list[str] = []
    for part in nodeid.split("::"):
        segments.extend(p for p in part.split("/") if p not in ("", ".", ".."))
    return "/".join(_safe_segment(s) for s in segments)


def attempt_folder(run_id: str, nodeid: str, attempt: int = 1, rerun: int = 1) -> str:
    """A test's artifacts folder; a later attempt (a rerun or retry in Lambda) gets its own
    ``attempt-N`` subfolder, and a later pytest-rerunfailures attempt in the same process a
    ``rerun-N`` one, so no attempt overwrites an earlier one's files."""
    folder = f"{run_id}/{nodeid_path(nodeid)}"
    if attempt > 1:
        folder = f"{folder}/attempt-{attempt}"
    return folder if rerun <= 1 else f"{folder}/rerun-{rerun}"


def rerun_number(item: object) -> int:
    """pytest-rerunfailures' attempt of ``item`` in this process (it counts in
    ``execution_count`` from 1); 1 without that plugin."""
    count = getattr(item, "execution_count", 1)
    return count if isinstance(count, int) and count > 1 else 1


def artifact_name(name: str, extension: str) -> str:
    """A user-given artifact name as a file name with the right extension."""
    base = _UNSAFE.sub("_", name).strip("._") or "artifact"
    return base if base.endswith(extension) else base + extension
