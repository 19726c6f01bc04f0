"""Hooks this plugin adds to pytest, for hosts that keep state across sessions.

The Lambda handler runs one pytest session per invocation in a warm process;
it answers these hooks so that sessions share one browser and one S3 uploader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from lambda_ui.runner.artifacts.sinks import ArtifactSink
    from lambda_ui.runner.browsers import BrowserManager


@pytest.hookspec(firstresult=True)
def pytest_lambda_ui_browser_manager(config: pytest.Config) -> BrowserManager | None:
    """Return a browser manager that outlives this session, or None for a new one.

    A manager returned here is not shut down when the session ends.
    """


@pytest.hookspec(firstresult=True)
def pytest_lambda_ui_artifact_sink(config: pytest.Config, destination: str) -> ArtifactSink | None:
    """Return a ready sink for ``destination`` that outlives this session, or None.

    A sink returned here is neither checked at session start nor closed at the end.
    """
