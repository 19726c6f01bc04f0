"""webdriver-manager inside the function: its install() answers with the environment's
chromedriver while a session runs, and is its own again afterwards (runner/chrome_defaults.py)."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from lambda_ui.runner.chrome_defaults import SuiteChromeDefaults
from tests.conftest import REPO

DRIVER_MANAGER = os.path.join(REPO, ".venv", "driver-manager")


@pytest.fixture
def manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    assert os.path.isdir(DRIVER_MANAGER), f"{DRIVER_MANAGER} is missing: run scripts/setup.sh"
    monkeypatch.syspath_prepend(DRIVER_MANAGER)
    yield importlib.import_module("webdriver_manager.chrome").ChromeDriverManager
    for name in [m for m in sys.modules if m == "webdriver_manager" or m.startswith("webdriver_manager.")]:
        del sys.modules[name]


def test_install_returns_the_environment_s_chromedriver_until_the_session_ends(manager: Any, tmp_path: Any) -> None:
    own = manager.__dict__.get("install")
    driver = tmp_path / "chromedriver"
    driver.write_text("#!/bin/sh\n")
    driver.chmod(0o755)
    defaults = SuiteChromeDefaults(str(tmp_path), environ={"CHROMEDRIVER": str(driver), "PATH": ""})
    defaults.install()
    try:
        assert manager().install() == str(driver)  # no download, no look at PATH
    finally:
        defaults.uninstall()
    assert manager.__dict__.get("install") is own
