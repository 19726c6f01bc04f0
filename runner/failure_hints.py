"""What the hints share that explain a failure in Lambda a local run would not have.

Each hint (runner/loopback.py, private_hosts.py, untrusted_certs.py, other_browsers.py, read_only_writes.py, missing_files.py,
missing_variables.py) adds a section to the failed reports it recognises and sums them up at
the end of the run; skipped_there.py does the same for skips, in their reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Protocol

import pytest


class FailureHints(Protocol):
    """Says on each failed test why it failed in Lambda where a local run would not, and sums up."""

    def explain(self, reports: list[pytest.TestReport]) -> None: ...

    def summary(self) -> list[str]: ...


def failed_matching(reports: list[pytest.TestReport], pattern: re.Pattern[str]) -> Iterator[tuple[pytest.TestReport, list[Any]]]:
    """Each failed report whose text ``pattern`` finds something in, with what it found."""
    for report in reports:
        if report.failed and (found := pattern.findall(report.longreprtext)):
            yield report, found
