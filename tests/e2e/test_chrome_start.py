"""What a started Chrome runs before any test asks for anything (runner/chrome.py)."""

from __future__ import annotations

import pytest

from lambda_ui.runner.chrome import locate_chrome, start_chrome

pytestmark = pytest.mark.e2e


def test_chrome_starts_on_a_blank_tab_without_the_address_bar_s_pages() -> None:
    # Headless Chromium loaded its omnibox popups (WebUI pages nobody sees) and the new tab page
    # at every start: about 1 CPU-s in their renderers (bench/chrome_start.py).
    chrome = start_chrome(locate_chrome(None, None, None, None), (800, 600))
    try:
        targets = chrome.driver.execute_cdp_cmd("Target.getTargets", {})["targetInfos"]
        urls = [target["url"] for target in targets]
        assert not [url for url in urls if url.startswith("chrome://")], urls
        assert chrome.driver.current_url == "about:blank"
    finally:
        chrome.stop()
