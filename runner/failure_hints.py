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

from lambda_ui.runner.terminal import listed


class FailureHints(Protocol):
    """Says on each failed test why it failed in Lambda where a local run would not, and sums up."""

    def explain(self, reports: list[pytest.TestReport]) -> None: ...

    def summary(self) -> list[str]: ...


def failed_matching(reports: list[pytest.TestReport], pattern: re.Pattern[str]) -> Iterator[tuple[pytest.TestReport, list[Any]]]:
    """Each failed report whose text ``pattern`` finds something in, with what it found."""
    for report in reports:
        if report.failed and (found := pattern.findall(report.longreprtext)):
            yield report, found


class NamedAddresses:
    """What an address hint (loopback, private network, certificate) said: the tests it
    explained, and every address it named on them, for its summary line."""

    def __init__(self, section: str) -> None:
        self.section = section
        self.tests: list[str] = []
        self.seen: list[str] = []

    def explain(self, report: pytest.TestReport, named: list[str], text: str) -> None:
        """Add ``text`` as the hint's section of ``report``, which named ``named``."""
        if report.nodeid not in self.tests:
            self.tests.append(report.nodeid)
            self.seen.extend(name for name in named if name not in self.seen)
        report.sections.append((self.section, text))

    def summary(self, what: str, why: str) -> list[str]:
        """``lambda: N test(s) <what> (<tests>), and <why>``, or nothing when no test was explained."""
        if not self.tests:
            return []
        return [f"lambda: {len(self.tests)} test(s) {what} ({listed(self.tests, shown=2)}), and {why}"]
