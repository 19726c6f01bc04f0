"""The shop through pytest-selenium's ``selenium`` fixture.

With ``--base-url`` set, pytest-selenium treats every URL as sensitive (``--sensitive-url``
defaults to ``.*``) and skips tests it may not assume harmless, so these are marked
``nondestructive``: they only read pages.
"""

from __future__ import annotations

import os

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

pytestmark = pytest.mark.nondestructive

TIMEOUT = 20
# BYO_FAIL=1 expects a name the shop does not use, to show a failure's captures.
JACKET = "Ridgeline Down Parka" if os.environ.get("BYO_FAIL") == "1" else "Ridgeline Down Jacket"


def test_home_page_heading(selenium: WebDriver, base_url: str) -> None:
    selenium.get(base_url + "/")
    assert selenium.title == "Home · Trailhead Supply"
    assert selenium.find_element(By.ID, "page-title").text == "Gear up for the trail"


def test_catalogue_lists_every_product(selenium: WebDriver, base_url: str) -> None:
    selenium.get(base_url + "/products")
    WebDriverWait(selenium, TIMEOUT).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#product-grid[data-state=ready]")))
    assert len(selenium.find_elements(By.CSS_SELECTOR, "#product-grid .product-card")) == 8


def test_search_finds_the_tent(selenium: WebDriver, base_url: str) -> None:
    selenium.get(base_url + "/products")
    wait = WebDriverWait(selenium, TIMEOUT)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#product-grid[data-state=ready]")))
    selenium.find_element(By.ID, "search").send_keys("tent")
    wait.until(EC.text_to_be_present_in_element((By.ID, "result-count"), "1 of 8 products"))
    assert [el.text for el in selenium.find_elements(By.CSS_SELECTOR, "#product-grid .product-card .name")] == ["Summit 2P Tent"]


def test_product_page_names_the_jacket(selenium: WebDriver, base_url: str) -> None:
    selenium.get(base_url + "/products/2")
    WebDriverWait(selenium, TIMEOUT).until(EC.visibility_of_element_located((By.ID, "add-to-cart")))
    assert selenium.find_element(By.ID, "page-title").text == JACKET
