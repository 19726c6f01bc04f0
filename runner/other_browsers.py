"""A test that asked the function for a browser its image lacks: say so on the test.

The function's image has Chrome and its chromedriver (lambda_pkg/Dockerfile). A suite
that also runs Firefox, Edge or Safari (a ``--browser`` option, a parametrized driver)
gets Selenium's ``Unable to obtain driver for firefox`` there: Selenium Manager finds
no such browser and cannot fetch one in time. Locally the same test passes, so the
report names the cause and what to do.
"""

from __future__ import annotations

import re

import pytest

from lambda_ui.runner.failure_hints import failed_matching
from lambda_ui.runner.terminal import listed

#: Selenium's NoSuchDriverException message, with the browser it was asked for.
_NO_DRIVER = re.compile(r"Unable to obtain driver for (\w+)")
SECTION = "lambda-ui: a browser the function does not have"


class OtherBrowsers:
    def __init__(self) -> None:
        #: browser name -> node ids of the tests that asked for it.
        self.found: dict[str, list[str]] = {}

    def explain(self, reports: list[pytest.TestReport]) -> None:
        """Add the section to each failed report that could not get a driver for another browser."""
        for report, names in failed_matching(reports, _NO_DRIVER):
            browsers = sorted({name for name in names if name.lower() != "chrome"})
            for name in browsers:
                self.found.setdefault(name, []).append(report.nodeid)
            if browsers:
                report.sections.append((SECTION, f"{', '.join(browsers)}: {_WHY}"))

    def summary(self) -> list[str]:
        if not self.found:
            return []
        tests = sorted({nodeid for nodeids in self.found.values() for nodeid in nodeids})
        return [f"lambda: {len(tests)} test(s) asked for {', '.join(sorted(self.found))} ({listed(tests, shown=2)}): {_WHY}"]


_WHY = (
    "the function's image has Chrome and its chromedriver only, so Selenium found no driver there. "
    "Run those tests without --lambda (deselect them with -k or -m for --lambda runs), or add the "
    "browser and its driver to the image (lambda_pkg/Dockerfile)."
)
