"""A suite's own Chrome in the function: paths its CI machine has and the function lacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium.webdriver import ChromeOptions
from selenium.webdriver.chrome.service import Service

from lambda_ui.runner.chrome_defaults import prepare_launch

CHROME = shutil.which("chromium") or shutil.which("chromium-headless-shell") or ""
CHROMEDRIVER = shutil.which("chromedriver") or ""

pytestmark = pytest.mark.skipif(not (CHROME and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (scripts/setup.sh)")


def test_paths_the_function_lacks_give_way_to_its_own_and_are_said(tmp_path: Path) -> None:
    # A conftest written for a CI image: options.binary_location and Service(...) name its files.
    options = ChromeOptions()
    options.binary_location = "/opt/ci-image/chrome/chrome"
    service = Service("/opt/ci-image/bin/chromedriver")
    environ = {"CHROME_BINARY": CHROME, "CHROMEDRIVER": CHROMEDRIVER, "PATH": ""}
    filled, service, launch = prepare_launch(options, service, environ, str(tmp_path))
    assert (filled.binary_location, service.path) == (CHROME, CHROMEDRIVER)
    assert launch.notes == [
        f"the suite's Chrome binary /opt/ci-image/chrome/chrome is not in the function; its own {CHROME} ran instead",
        f"the suite's chromedriver /opt/ci-image/bin/chromedriver is not in the function; its own {CHROMEDRIVER} ran instead",
    ]


def test_paths_the_function_has_are_kept_without_a_word(tmp_path: Path) -> None:
    options = ChromeOptions()
    options.binary_location = CHROME
    filled, service, launch = prepare_launch(options, Service(CHROMEDRIVER), {"PATH": ""}, str(tmp_path))
    assert (filled.binary_location, service.path, launch.notes) == (CHROME, CHROMEDRIVER, [])
