"""The diagnostics page, which writes to the browser console on purpose."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def entry_count(wait: WebDriverWait[WebDriver], count: int) -> None:
    """Wait until the page has mirrored `count` console lines."""
    wait.until(EC.text_to_be_present_in_element_attribute((By.ID, "console-entries"), "data-count", str(count)))


def levels(browser: WebDriver) -> list[str]:
    entries = browser.find_elements(By.CSS_SELECTOR, "#console-entries li")
    return [el.get_attribute("data-level") or "" for el in entries]


def test_page_logs_one_line_per_level(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None], artifacts: Any
) -> None:
    open_page("/diagnostics")
    entry_count(wait, 3)
    assert levels(browser) == ["log", "warn", "error"]
    last = browser.find_elements(By.CSS_SELECTOR, "#console-entries li")[-1]
    assert "payment service unreachable" in last.text
    artifacts.console_log("diagnostics")


def test_run_checks_again_logs_another_round(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_page("/diagnostics")
    entry_count(wait, 3)
    browser.find_element(By.ID, "run-checks").click()
    entry_count(wait, 6)
    assert levels(browser)[3:] == ["log", "warn", "error"]
    assert "round 2" in browser.find_elements(By.CSS_SELECTOR, "#console-entries li")[-1].text


def test_uncaught_error_leaves_the_page_working(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None], artifacts: Any
) -> None:
    open_page("/diagnostics")
    entry_count(wait, 3)
    browser.find_element(By.ID, "throw-error").click()
    entry_count(wait, 4)
    # The page keeps working after the error.
    browser.find_element(By.ID, "run-checks").click()
    entry_count(wait, 7)
    artifacts.console_log("after-uncaught-error")
