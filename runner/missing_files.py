"""A test that failed in Lambda opening a file the bundle left out: say so on the test.

In git the bundle holds what git tracks; outside git, what collection imported and read.
A data file a test opens only while it runs (a CSV of users, a JSON fixture) that git does
not track, or any such file outside git, is in the developer's tree but not in the
function's copy: the test fails there with ``FileNotFoundError`` and passes here. When a
failed test's text names a file that exists here below the rootdir and is not in the
bundle, its report gets a section naming the file and what to do, and the run's summary
counts them.

The text comes from an answer: a name in it is only ever looked up (``os.path.isfile``)
below the rootdir, never read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from pathlib import Path

import pytest

from lambda_ui.runner.failure_hints import failed_matching
from lambda_ui.runner.terminal import listed

_MISSING = re.compile(r"No such file or directory: '([^'\n]{1,1024})'")
#: The function's unpacked copy of a bundle (lambda_pkg/bundles.py): what follows is rootdir-relative.
_COPY = re.compile(r"^.*?/lambda-ui/bundles/[0-9a-f]{64}/")
SECTION = "lambda-ui: not in the test bundle"


class MissingFiles:
    def __init__(self, root: Path, workdir: str, bundled: Collection[str], in_git: bool) -> None:
        self.root = root.resolve()
        self.start = self.root / workdir
        self._bundled = frozenset(bundled)
        self._in_git = in_git
        #: rootdir-relative path -> node ids of the tests that failed opening it.
        self.found: dict[str, list[str]] = {}

    def _local(self, name: str) -> str | None:
        """``name`` as a rootdir-relative path of a file here that the bundle lacks, else None."""
        inside = _COPY.sub("", name, count=1)
        if inside == name and os.path.isabs(name):
            return None  # an absolute path elsewhere in the function: not the suite's file
        base = self.root if inside != name else self.start  # in the copy: rootdir-relative; else from the working folder
        try:
            rel = (base / inside).resolve().relative_to(self.root).as_posix()
        except (ValueError, OSError):
            return None
        return rel if rel not in self._bundled and os.path.isfile(self.root / rel) else None

    def explain(self, reports: list[pytest.TestReport]) -> None:
        """Add the section to each failed report whose text names such a file."""
        for report, matches in failed_matching(reports, _MISSING):
            names = sorted({rel for name in matches if (rel := self._local(name)) is not None})
            if not names:
                continue
            for rel in names:
                self.found.setdefault(rel, []).append(report.nodeid)
            report.sections.append((SECTION, "\n".join(f"{rel}: {self._why()}" for rel in names)))

    def _why(self) -> str:
        if self._in_git:
            return "it is here, but git does not track it, so the function's copy lacks it: git add it, or name it in the ini lambda_bundle_include"
        return (
            "it is here, but outside git the bundle holds only the files collection imported or read, "
            "so the function's copy lacks it: name it in the ini lambda_bundle_include"
        )

    def summary(self) -> list[str]:
        if not self.found:
            return []
        tests = len({nodeid for nodeids in self.found.values() for nodeid in nodeids})
        shown = listed(sorted(self.found))
        how = "git add them, or name them in" if self._in_git else "name them in"
        return [f"lambda: {tests} test(s) failed in Lambda opening files that are here but not in the test bundle ({shown}): {how} the ini lambda_bundle_include"]
