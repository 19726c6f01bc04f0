"""One line to pytest's terminal, from anywhere in the runner (main thread only)."""

from __future__ import annotations

import pytest


def write_line(config: pytest.Config, line: str, **markup: bool) -> None:
    """Write ``line`` on its own line; nothing when the terminal reporter is off (``-p no:terminal``)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(line, **markup)
