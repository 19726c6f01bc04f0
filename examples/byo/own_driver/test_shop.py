"""The shop through a driver the suite builds itself."""

from __future__ import annotations

import os

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

TIMEOUT = 20
# BYO_FAIL=1 expects a console line the page does not write, to show a failure's captures.
EXPECTED_ERROR = "inventory service unreachable" if os.environ.get("BYO_FAIL") == "1" else "payment service unreachable"


def test_home_page_heading(driver: WebDriver, app_url: str, request: pytest.FixtureRequest) -> None:
    # In the JUnit report: which --app-port the run used.
    request.node.user_properties.append(("app_url", app_url))
    driver.get(app_url + "/")
    assert driver.find_element(By.ID, "page-title").text == "Gear up for the trail"


def test_category_filter_shows_only_shelters(driver: WebDriver, app_url: str) -> None:
    driver.get(app_url + "/products")
    wait = WebDriverWait(driver, TIMEOUT)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#product-grid[data-state=ready]")))
    Select(driver.find_element(By.ID, "category")).select_by_value("Shelter")
    wait.until(EC.text_to_be_present_in_element((By.ID, "result-count"), "2 of 8 products"))
    badges = driver.find_elements(By.CSS_SELECTOR, "#product-grid .product-card .category")
    assert [el.text for el in badges] == ["Shelter", "Shelter"]


def test_unknown_page_says_not_found(driver: WebDriver, app_url: str) -> None:
    driver.get(app_url + "/no-such-page")
    assert driver.find_element(By.ID, "page-title").text == "Page not found"
    assert driver.find_element(By.ID, "missing-path").text == "/no-such-page"


def test_diagnostics_reports_the_payment_outage(driver: WebDriver, app_url: str) -> None:
    driver.get(app_url + "/diagnostics")
    WebDriverWait(driver, TIMEOUT).until(
        EC.text_to_be_present_in_element_attribute((By.ID, "console-entries"), "data-count", "3")
    )
    last_line = driver.find_elements(By.CSS_SELECTOR, "#console-entries li")[-1].text
    assert EXPECTED_ERROR in last_line
