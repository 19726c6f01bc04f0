"""The JavaScript-rendered product list and the product detail page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

TOTAL = 8


def open_grid(open_page: Callable[[str], None], wait: WebDriverWait[WebDriver]) -> None:
    """Open /products and wait until the script has rendered the fetched list."""
    open_page("/products")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#product-grid[data-state=ready]")))


def cards(browser: WebDriver) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, "#product-grid .product-card")


def card_names(browser: WebDriver) -> list[str]:
    return [el.text for el in browser.find_elements(By.CSS_SELECTOR, "#product-grid .product-card .name")]


def card_prices(browser: WebDriver) -> list[float]:
    prices = browser.find_elements(By.CSS_SELECTOR, "#product-grid .product-card .price")
    return [float(el.text.lstrip("$")) for el in prices]


def wait_for_count(wait: WebDriverWait[WebDriver], shown: int) -> None:
    wait.until(EC.text_to_be_present_in_element((By.ID, "result-count"), f"{shown} of {TOTAL} products"))


def test_grid_renders_every_product(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_grid(open_page, wait)
    assert len(cards(browser)) == TOTAL
    assert browser.find_element(By.ID, "result-count").text == f"{TOTAL} of {TOTAL} products"
    assert not browser.find_element(By.ID, "empty-state").is_displayed()


def test_grid_matches_the_json_endpoint(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_grid(open_page, wait)
    api = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];fetch('/api/products').then(r => r.json()).then(done);"
    )
    assert card_names(browser) == [item["name"] for item in api]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tent", ["Summit 2P Tent"]),
        ("JACKET", ["Ridgeline Down Jacket"]),
        # "pack" also matches the jacket's summary ("packs into its own pocket").
        ("pack", ["Ridgeline Down Jacket", "Trail Runner Pack 28L"]),
    ],
)
def test_search_filters_by_name_and_summary(
    browser: WebDriver,
    wait: WebDriverWait[WebDriver],
    open_page: Callable[[str], None],
    query: str,
    expected: list[str],
) -> None:
    open_grid(open_page, wait)
    browser.find_element(By.ID, "search").send_keys(query)
    wait_for_count(wait, len(expected))
    assert card_names(browser) == expected


def test_search_without_matches_shows_empty_state(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_grid(open_page, wait)
    browser.find_element(By.ID, "search").send_keys("snowmobile")
    wait.until(EC.visibility_of_element_located((By.ID, "empty-state")))
    assert cards(browser) == []
    browser.find_element(By.ID, "clear-filters").click()
    wait_for_count(wait, TOTAL)
    assert browser.find_element(By.ID, "search").get_attribute("value") == ""


def test_category_filter(browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]) -> None:
    open_grid(open_page, wait)
    Select(browser.find_element(By.ID, "category")).select_by_visible_text("Accessories")
    wait_for_count(wait, 3)
    badges = {el.text for el in browser.find_elements(By.CSS_SELECTOR, ".product-card .category")}
    assert badges == {"Accessories"}


@pytest.mark.parametrize(("order", "descending"), [("price-asc", False), ("price-desc", True)])
def test_sort_by_price(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None], order: str, descending: bool
) -> None:
    open_grid(open_page, wait)
    before = card_names(browser)
    Select(browser.find_element(By.ID, "sort")).select_by_value(order)
    # Rendering is synchronous on "input", but wait for the new order all the same.
    wait.until(lambda driver: card_names(driver) != before)
    prices = card_prices(browser)
    assert prices == sorted(prices, reverse=descending)


def test_sort_by_name(browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]) -> None:
    open_grid(open_page, wait)
    Select(browser.find_element(By.ID, "sort")).select_by_value("name")
    wait.until(lambda driver: card_names(driver)[0] == "Alpine Trekking Poles")
    names = card_names(browser)
    assert names == sorted(names)


def test_card_link_opens_detail_page(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_grid(open_page, wait)
    card = browser.find_element(By.CSS_SELECTOR, ".product-card[data-product-id='6']")
    price = card.find_element(By.CSS_SELECTOR, ".price").text
    card.find_element(By.CSS_SELECTOR, ".name").click()
    wait.until(EC.url_contains("/products/6"))
    assert browser.find_element(By.ID, "page-title").text == "Canyon Water Filter"
    assert browser.find_element(By.ID, "product-price").text == price == "$44.95"


@pytest.mark.parametrize(
    ("product_id", "label", "buyable"),
    [(1, "In stock", True), (2, "Only 3 left", True), (4, "Out of stock", False)],
)
def test_detail_page_shows_stock_state(
    browser: WebDriver, open_page: Callable[[str], None], product_id: int, label: str, buyable: bool
) -> None:
    open_page(f"/products/{product_id}")
    assert browser.find_element(By.ID, "stock-status").text == label
    button = browser.find_element(By.ID, "add-to-cart")
    assert button.is_enabled() is buyable
    assert button.text == ("Add to cart" if buyable else "Sold out")


def test_add_to_cart_updates_badge_across_pages(
    browser: WebDriver, wait: WebDriverWait[WebDriver], app_url: str, open_page: Callable[[str], None]
) -> None:
    open_page("/products/1")
    assert browser.find_element(By.ID, "cart-count").text == "0"
    quantity = browser.find_element(By.ID, "quantity")
    quantity.clear()
    quantity.send_keys("2")
    browser.find_element(By.ID, "add-to-cart").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "toast"), "Added 2 × Summit 2P Tent"))
    assert browser.find_element(By.ID, "cart-count").text == "2"

    # The cart lives in localStorage, so another page shows the same count.
    browser.find_element(By.CSS_SELECTOR, "a[data-nav=home]").click()
    wait.until(EC.url_to_be(app_url + "/"))
    wait.until(EC.text_to_be_present_in_element((By.ID, "cart-count"), "2"))


def test_product_grid_screenshot(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None], artifacts: Any
) -> None:
    open_grid(open_page, wait)
    assert len(cards(browser)) == TOTAL
    artifacts.screenshot("product-grid")
