"""A test that wrote outside /tmp in the function: say so on the test.

Lambda's file system is read-only except /tmp: the image (site-packages included), the
function's code and the home directory. Tools that write beside their install or into
``~`` pass locally and fail there with ``[Errno 30] Read-only file system``: SeleniumBase's
``--uc`` copies chromedriver into its own package, driver managers cache in ``~/.wdm``, a
suite saves screenshots under a fixed path. The test's working directory (the bundle's copy)
and pytest's ``tmp_path`` are below /tmp and writable, so the report names the path and that.
"""

from __future__ import annotations

import re

import pytest

from lambda_ui.runner.failure_hints import failed_matching
from lambda_ui.runner.terminal import listed

#: OSError's text for EROFS, with the path when the call had one.
_READ_ONLY = re.compile(r"\[Errno 30\] Read-only file system(?:: '([^']*)')?")
SECTION = "lambda-ui: a write the function's file system refused"


class ReadOnlyWrites:
    def __init__(self) -> None:
        #: node id -> the paths its failure names (empty when the error named none).
        self.found: dict[str, list[str]] = {}

    def explain(self, reports: list[pytest.TestReport]) -> None:
        """Add the section to each failed report whose error is a refused write."""
        for report, matches in failed_matching(reports, _READ_ONLY):
            paths = sorted({path for path in matches if path})
            known = self.found.setdefault(report.nodeid, [])
            known.extend(path for path in paths if path not in known)
            where = f"{', '.join(paths)}: " if paths else ""
            report.sections.append((SECTION, f"{where}{_WHY}"))

    def summary(self) -> list[str]:
        if not self.found:
            return []
        tests = sorted(self.found)
        paths = sorted({path for found in self.found.values() for path in found})
        named = f" ({listed(paths, shown=2)})" if paths else ""
        return [f"lambda: {len(tests)} test(s) were refused a write{named} ({listed(tests, shown=2)}): {_WHY}"]


_WHY = (
    "in Lambda only /tmp is writable; the image, the function's code and the home directory are "
    "read-only. Write below the test's working directory or pytest's tmp_path, or point the tool "
    "that writes there at a folder below /tmp (its cache or driver folder setting, or HOME)."
)
