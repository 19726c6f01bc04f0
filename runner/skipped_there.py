"""Tests the function skipped that this machine would run: say so on the skip and in the summary.

A suite guards tests that need a secret or a service with ``skipif(not os.getenv("API_TOKEN"))``
or ``pytest.skip("no API_TOKEN")``. The CI job sets the variable, so a local run runs them;
the function's environment lacks it, so there they are skipped, the run stays green and
nothing says that fewer tests ran. A skip counts when the skip marks would not skip the test
here (pytest's own evaluation, strings and booleans alike), or, for a skip the test called
itself, when its reason names a variable set here and not handed over, or a module that
``pytest.importorskip`` could not import there and imports here. The reason in the
terminal and the JUnit report gets what differs; the summary counts them. Names only,
never values.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Collection, Mapping

import pytest

from lambda_ui.contract import env_problem
from lambda_ui.runner.terminal import listed

#: Capitalised words of a skip reason that may name an environment variable.
_NAME = re.compile(r"\b[A-Z][A-Z0-9_]{2,127}\b")
#: pytest.importorskip's reason.
_IMPORT = re.compile(r"could not import '([A-Za-z_][\w.]{0,200})'")


def _imports_here(module: str) -> bool:
    """The module's top-level package is installed here (found without importing it)."""
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def _skipped_here_by_marks(item: pytest.Item) -> bool | None:
    """Whether the test's skip marks skip it on this machine; None when it has none, or they
    cannot be evaluated here."""
    if item.get_closest_marker("skip") is None and item.get_closest_marker("skipif") is None:
        return None
    try:
        from _pytest.skipping import evaluate_skip_marks  # pytest's own: string conditions need its namespace

        return evaluate_skip_marks(item) is not None
    except Exception:
        return None


class SkippedThere:
    def __init__(self, items: Mapping[str, pytest.Item], handed_over: Collection[str], environ: Mapping[str, str] | None = None) -> None:
        self._items = items
        self._handed_over = frozenset(handed_over)
        self._environ = os.environ if environ is None else environ
        #: node id -> what differs, for the summary.
        self.found: dict[str, str] = {}

    def _why(self, item: pytest.Item | None, reason: str) -> str | None:
        by_marks = _skipped_here_by_marks(item) if item is not None else None
        if by_marks:
            return None  # skipped here as well
        if (missing := _IMPORT.search(reason)) and _imports_here(missing.group(1)):
            return (
                f"{missing.group(1)} imports here but not in the function's image: add its distribution to the "
                "requirements file the image is built with (--lambda-requirements)"
            )
        # A name the runtime owns (PATH, HOME, AWS_*) cannot be handed over: not the difference to name.
        names = sorted(
            {name for name in _NAME.findall(reason) if name in self._environ and name not in self._handed_over and env_problem(name, "") is None}
        )
        if names:
            return f"{', '.join(names)} {'is' if len(names) == 1 else 'are'} set here and not handed to the function ({' '.join(f'--lambda-env {n}' for n in names)})"
        if by_marks is False:
            return "its skip condition is false here: the function's environment differs (a variable, a file, the platform)"
        return None

    def explain(self, reports: list[pytest.TestReport]) -> None:
        """Add what differs to the reason of a skip this machine would not make."""
        for report in reports:
            longrepr = report.longrepr
            if not report.skipped or not isinstance(longrepr, tuple) or len(longrepr) != 3 or not isinstance(longrepr[2], str):
                continue
            path, line, reason = longrepr
            why = self._why(self._items.get(report.nodeid), reason)
            if why is None or report.nodeid in self.found:
                continue
            self.found[report.nodeid] = why
            report.longrepr = (path, line, f"{reason} (in Lambda only: {why})")

    def summary(self) -> list[str]:
        if not self.found:
            return []
        return [
            f"lambda: {len(self.found)} test(s) were skipped in the function that this machine would run "
            f"({listed(sorted(self.found), shown=2)}); each skip's reason says what differs. Hand a variable "
            "they need over with --lambda-env NAME (or the ini lambda_env), or set it on the function"
        ]
