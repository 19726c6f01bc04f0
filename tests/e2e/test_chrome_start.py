"""What a started Chrome runs before any test asks for anything (runner/chrome.py)."""

from __future__ import annotations

import pytest
from selenium import webdriver

from lambda_ui.runner.chrome import is_headless_shell, locate_chrome, start_chrome
from lambda_ui.runner.chrome_defaults import prepare_launch

pytestmark = pytest.mark.e2e


def test_chrome_starts_on_a_blank_tab_without_the_address_bar_s_pages() -> None:
    # Headless Chromium loaded its omnibox popups (WebUI pages nobody sees) and the new tab page
    # at every start: about 1 CPU-s in their renderers (bench/chrome_start.py).
    location = locate_chrome(None, None, None, None)
    chrome = start_chrome(location, (800, 600))
    try:
        targets = chrome.driver.execute_cdp_cmd("Target.getTargets", {})["targetInfos"]
        urls = [target["url"] for target in targets]
        assert not [url for url in urls if url.startswith("chrome://")], urls
        # The headless shell opens no page of its own: chromedriver opens data:, (runner/chrome.py).
        assert chrome.driver.current_url == ("data:," if is_headless_shell(location.binary) else "about:blank")
    finally:
        chrome.stop()


def test_a_suite_s_own_disabled_features_keep_the_address_bar_s_pages_out(tmp_path_factory: pytest.TempPathFactory) -> None:
    # Copied headless recipes pass --disable-features=VizDisplayCompositor; chromedriver merges
    # every --disable-features it is given, so the function adds its own beside the suite's.
    options = webdriver.ChromeOptions()
    options.add_argument("--disable-features=VizDisplayCompositor")
    filled, service, launch = prepare_launch(options, None, tmp_root=str(tmp_path_factory.mktemp("suite")))
    driver = webdriver.Chrome(options=filled, service=service)
    try:
        urls = [target["url"] for target in driver.execute_cdp_cmd("Target.getTargets", {})["targetInfos"]]
        assert not [url for url in urls if url.startswith("chrome://omnibox")], urls
    finally:
        driver.quit()
        launch.finish([])
