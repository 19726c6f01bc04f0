"""A test that failed in Lambda on an environment variable set here: say so on the test.

The function's tests see the function's environment (the template's variables, and those
``--lambda-env`` hands the run), not this shell's. A suite that reads
``os.environ["BASE_URL"]``, set by the CI job, passes here and fails there with
``KeyError: 'BASE_URL'``. When a failed test's text holds such a KeyError for a variable
that is set here and was not handed over, its report gets a section naming it and what to
do, and the run's summary counts them. Only names are said, never values; a name from an
answer is only looked up in this process's environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping

import pytest

from lambda_ui.runner.failure_hints import failed_matching
from lambda_ui.runner.terminal import listed

_KEY_ERROR = re.compile(r"KeyError: '([A-Za-z_][A-Za-z0-9_]{0,127})'")
#: Variables are named in capitals by convention; a dict key of another shape counts only where
#: the text shows the environment being read.
_VARIABLE_SHAPED = re.compile(r"[A-Z][A-Z0-9_]*")
SECTION = "lambda-ui: not in the function's environment"


class MissingVariables:
    def __init__(self, handed_over: Collection[str], environ: Mapping[str, str] | None = None) -> None:
        self._handed_over = frozenset(handed_over)
        self._environ = os.environ if environ is None else environ
        #: variable name -> node ids of the tests that failed reading it.
        self.found: dict[str, list[str]] = {}

    def _missing(self, name: str, text: str) -> bool:
        if name not in self._environ or name in self._handed_over:
            return False
        return bool(_VARIABLE_SHAPED.fullmatch(name)) or "environ" in text

    def explain(self, reports: list[pytest.TestReport]) -> None:
        """Add the section to each failed report whose KeyError names such a variable."""
        for report, names in failed_matching(reports, _KEY_ERROR):
            text = report.longreprtext
            missing = sorted({name for name in names if self._missing(name, text)})
            for name in missing:
                self.found.setdefault(name, []).append(report.nodeid)
            if missing:
                report.sections.append((SECTION, "\n".join(f"{name}: {_WHY.format(name=name)}" for name in missing)))

    def summary(self) -> list[str]:
        if not self.found:
            return []
        tests = len({nodeid for nodeids in self.found.values() for nodeid in nodeids})
        return [
            f"lambda: {tests} test(s) failed in Lambda reading environment variables set here but not in the function "
            f"({listed(sorted(self.found))}): hand each over with --lambda-env NAME (or the ini lambda_env), or set it on the function"
        ]


_WHY = (
    "set here, but the function's tests see the function's environment, not this shell's: hand it over with "
    "--lambda-env {name} (or the ini lambda_env), or set it in the function's Environment"
)
