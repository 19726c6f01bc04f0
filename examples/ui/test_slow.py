"""The trail report, which waits 2-5 s on a slow back end.

These are the only tests that call /api/slow. Like slow real back ends,
they dominate the suite's wall time: about 14 s of pure waiting between them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

# Longest clamped delay (5 s) plus plenty of room for a loaded machine.
REPORT_TIMEOUT = 30
POLL_SECONDS = 0.1  # as the suite's `wait` fixture (examples/conftest.py)


def wait_for_report(browser: WebDriver) -> None:
    WebDriverWait(browser, REPORT_TIMEOUT, poll_frequency=POLL_SECONDS).until(EC.visibility_of_element_located((By.ID, "report")))


def test_spinner_shows_until_the_report_arrives(browser: WebDriver, open_page: Callable[[str], None]) -> None:
    # 4 s leaves a wide margin for the spinner check even when page load is slow.
    open_page("/slow?seconds=4")
    assert browser.find_element(By.ID, "spinner").is_displayed()
    assert not browser.find_element(By.ID, "report").is_displayed()
    wait_for_report(browser)
    assert not browser.find_element(By.ID, "spinner").is_displayed()
    rows = browser.find_elements(By.CSS_SELECTOR, "#report-table tbody tr")
    assert len(rows) == 4
    assert not browser.find_element(By.ID, "report-error").is_displayed()


@pytest.mark.parametrize(("asked", "served"), [("0", "2"), ("9", "5")])
def test_delay_is_clamped_to_two_to_five_seconds(
    browser: WebDriver, open_page: Callable[[str], None], asked: str, served: str
) -> None:
    open_page(f"/slow?seconds={asked}")
    wait_for_report(browser)
    served_in = browser.find_element(By.ID, "served-in")
    assert served_in.get_attribute("data-seconds") == served
    assert served_in.text.startswith(f"The back end took {served} s")


def test_report_screenshot(browser: WebDriver, open_page: Callable[[str], None], artifacts: Any) -> None:
    open_page("/slow?seconds=3")
    wait_for_report(browser)
    first_trail = browser.find_element(By.CSS_SELECTOR, "#report-table tbody tr td")
    assert first_trail.text == "Ridge Loop"
    artifacts.screenshot("trail-report")
