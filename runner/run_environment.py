"""Where a run happened, as suite properties: versions, git commit, region.

The HTML report's environment section reads them; a report without them
(another tool's, or an older one) simply has a shorter section.
"""

from __future__ import annotations

import os
import platform
import re
from importlib import metadata
from pathlib import Path

from lambda_ui.runner import junit_contract as jc

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _git_dir(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / ".git"
        if candidate.is_dir():
            return candidate
        if candidate.is_file():  # a worktree: "gitdir: <path>"
            text = candidate.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                return (folder / text[len("gitdir:") :].strip()).resolve()
    return None


def git_commit(start: Path) -> str | None:
    """The commit checked out at ``start`` (read from ``.git``, no git process), or None."""
    try:
        git = _git_dir(start.resolve())
        if git is None:
            return None
        head = (git / "HEAD").read_text(encoding="utf-8", errors="replace").strip()
        if not head.startswith("ref:"):
            return head if _SHA.fullmatch(head) else None
        ref = head[len("ref:") :].strip()
        common = git
        if (git / "commondir").is_file():
            common = (git / (git / "commondir").read_text(encoding="utf-8").strip()).resolve()
        for base in (git, common):
            loose = base / ref
            if loose.is_file():
                sha = loose.read_text(encoding="utf-8", errors="replace").strip()
                return sha if _SHA.fullmatch(sha) else None
        packed = common / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8", errors="replace").splitlines():
                sha, _, name = line.partition(" ")
                if name == ref and _SHA.fullmatch(sha):
                    return sha
    except OSError:
        return None
    return None


def environment_facts(rootdir: Path, environ: dict[str, str] | None = None) -> dict[str, object]:
    """Suite properties naming the interpreter, the packages, the checkout and the region."""
    env = os.environ if environ is None else environ
    facts: dict[str, object] = {jc.PYTHON_VERSION: platform.python_version()}
    for key, distribution in ((jc.PYTEST_VERSION, "pytest"), (jc.PLUGIN_VERSION, "pytest-lambda-ui"), (jc.SELENIUM_VERSION, "selenium")):
        version = _version(distribution)
        if version:
            facts[key] = version
    commit = git_commit(rootdir)
    if commit:
        facts[jc.GIT_COMMIT] = commit
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        facts[jc.REGION] = region
    return facts
