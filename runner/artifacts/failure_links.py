"""A failed test's files named where pytest shows the failure (issue 17).

Two places: a "Captured artifacts" section of the failing report, which pytest
prints under the traceback as it prints "Captured stdout call", and one line
per failed test under pytest's short test summary. Both are built on the
controller from the test's ``artifact:<name>`` properties, so a local run, an
xdist run and a replayed ``--lambda`` run read the same.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from lambda_ui.runner import junit_contract as jc

SECTION = "Captured artifacts"
#: A link for an ``s3://`` location, or None when it has none.
Presigner = Callable[[str], "str | None"]


def artifact_links(properties: list[tuple[str, object]]) -> list[tuple[str, str]]:
    return [(name[len(jc.ARTIFACT_PREFIX) :], str(value)) for name, value in properties if name.startswith(jc.ARTIFACT_PREFIX)]


def section_text(links: list[tuple[str, str]], presign: Presigner | None = None) -> str:
    """One line per file: its name and location; an HTTPS link under an ``s3://`` one when asked."""
    lines = []
    for name, location in links:
        lines.append(f"{name}: {location}")
        link = presign(location) if presign is not None and location.startswith("s3://") else None
        if link:
            lines.append(f"    {link}")
    return "\n".join(lines)


def screenshot_of(links: list[tuple[str, str]]) -> str | None:
    """The file a person opens first: the failure screenshot, else any image."""
    images = [location for name, location in links if name.lower().endswith((".png", ".jpg", ".jpeg"))]
    failures = [location for name, location in links if name.startswith("failure") and name.lower().endswith(".png")]
    found = failures or images
    return found[0] if found else None


def s3_presigner(client: Any, seconds: int) -> Presigner:
    """Presigned GET links made with ``client`` (no request is sent)."""
    from lambda_ui.runner.aws.s3 import split_s3_url

    def presign(location: str) -> str | None:
        try:
            bucket, key = split_s3_url(location)
            url: str = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=seconds)
        except Exception:  # a link is a convenience: no link rather than a broken report
            return None
        return url

    return presign


class FailureArtifacts:
    """Registered on the process that prints the terminal (never on an xdist worker or in Lambda)."""

    def __init__(self, presign: Presigner | None = None) -> None:
        self._presign = presign
        #: The failed phase reports of the test being reported.
        self._failed: dict[str, list[pytest.TestReport]] = {}
        #: (node id, screenshot location) of each failed test, in report order.
        self.screenshots: list[tuple[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self._failed.setdefault(report.nodeid, []).append(report)
        if report.when != "teardown":
            return
        failed = self._failed.pop(report.nodeid, [])
        links = artifact_links(list(report.user_properties))
        if not failed or not links:
            return
        # The terminal prints the failing reports at the end of the session: the section added now is shown.
        text = section_text(links, self._presign)
        for phase in failed:
            if all(name != SECTION for name, _ in phase.sections):
                phase.sections.append((SECTION, text))
        if shot := screenshot_of(links):
            self.screenshots.append((report.nodeid, shot))

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> Generator[None, None, None]:
        # Outermost wrapper: pytest writes its short test summary after its own yield, so these lines follow it.
        result = yield
        chars = getattr(terminalreporter, "reportchars", "")
        if self.screenshots and not terminalreporter.no_summary and any(c in chars for c in "fEaA"):
            for nodeid, location in self.screenshots:
                terminalreporter.write_line(f"SCREENSHOT {nodeid} - {location}")
        return result
