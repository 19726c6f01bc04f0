"""The project's tests choose their browser by marker (tests/conftest.py): marked modules and
tests get chromium-headless-shell, the rest the default, full Chrome."""

from __future__ import annotations

import os

import pytest

from lambda_ui.runner.constants import ENV_CHROME_BINARY
from tests.conftest import HEADLESS_SHELL, needs_headless_shell

#: A developer's own $CHROME_BINARY wins over the marker; these tests then have nothing to check.
#: (Read as the module is collected, before any fixture of this conftest set it.)
chosen_by_developer = pytest.mark.skipif(bool(os.environ.get(ENV_CHROME_BINARY)), reason="$CHROME_BINARY is set for the whole run")


@needs_headless_shell
@chosen_by_developer
@pytest.mark.headless_shell
def test_a_marked_test_runs_its_browsers_on_the_shell() -> None:
    assert os.environ.get(ENV_CHROME_BINARY) == HEADLESS_SHELL


@chosen_by_developer
def test_an_unmarked_test_runs_the_default_chrome() -> None:
    # The marked test before it ran in this worker; its choice must not outlive it.
    assert not os.environ.get(ENV_CHROME_BINARY)
