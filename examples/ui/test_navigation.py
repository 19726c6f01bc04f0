"""The shared navigation bar, the home page and the 404 page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

NAV_LABELS = ["Home", "Products", "Sign up", "Trail report", "Workspace", "Diagnostics"]


def heading(browser: WebDriver) -> str:
    return browser.find_element(By.ID, "page-title").text


def test_home_page_shows_hero_and_featured_products(browser: WebDriver, open_page: Callable[[str], None]) -> None:
    open_page("/")
    assert browser.title == "Home · Trailhead Supply"
    assert heading(browser) == "Gear up for the trail"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#featured .feature-card")) == 3


def test_nav_lists_every_section(browser: WebDriver, open_page: Callable[[str], None]) -> None:
    open_page("/")
    labels = [link.text for link in browser.find_elements(By.CSS_SELECTOR, ".site-nav .nav-link")]
    assert labels == NAV_LABELS
    # Checked by href only: visiting it would wait on the slow back end (see test_slow.py).
    slow = browser.find_element(By.CSS_SELECTOR, "a[data-nav=slow]")
    assert (slow.get_attribute("href") or "").endswith("/slow")


@pytest.mark.parametrize(
    ("start", "nav", "path", "title"),
    [
        ("/", "products", "/products", "Products"),
        ("/", "signup", "/signup", "Create your account"),
        ("/", "workspace", "/workspace", "Workspace"),
        ("/", "diagnostics", "/diagnostics", "Diagnostics"),
        ("/products", "home", "/", "Gear up for the trail"),
    ],
)
def test_nav_link_opens_page(
    browser: WebDriver,
    wait: WebDriverWait[WebDriver],
    app_url: str,
    open_page: Callable[[str], None],
    start: str,
    nav: str,
    path: str,
    title: str,
) -> None:
    open_page(start)
    browser.find_element(By.CSS_SELECTOR, f"a[data-nav={nav}]").click()
    wait.until(EC.url_to_be(app_url + path))
    wait.until(EC.text_to_be_present_in_element((By.ID, "page-title"), title))
    assert heading(browser) == title


def test_nav_marks_only_the_current_page(browser: WebDriver, open_page: Callable[[str], None]) -> None:
    open_page("/workspace")
    active = browser.find_elements(By.CSS_SELECTOR, ".site-nav .nav-link.active")
    assert [link.text for link in active] == ["Workspace"]
    assert active[0].get_attribute("aria-current") == "page"


def test_brand_link_returns_home(
    browser: WebDriver, wait: WebDriverWait[WebDriver], app_url: str, open_page: Callable[[str], None]
) -> None:
    open_page("/diagnostics")
    browser.find_element(By.ID, "brand").click()
    wait.until(EC.url_to_be(app_url + "/"))
    assert heading(browser) == "Gear up for the trail"


def test_featured_card_opens_its_product(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_page("/")
    card = browser.find_element(By.CSS_SELECTOR, "#featured .feature-card")
    name = card.find_element(By.TAG_NAME, "strong").text
    card.click()
    wait.until(EC.url_contains("/products/1"))
    assert heading(browser) == name


@pytest.mark.parametrize("path", ["/no/such/page", "/products/999"])
def test_unknown_path_shows_not_found_page(
    browser: WebDriver, wait: WebDriverWait[WebDriver], app_url: str, open_page: Callable[[str], None], path: str
) -> None:
    open_page(path)
    assert heading(browser) == "Page not found"
    assert browser.find_element(By.ID, "missing-path").text == path
    browser.find_element(By.ID, "home-link").click()
    wait.until(EC.url_to_be(app_url + "/"))


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/api/products", 200), ("/api/products/999", 404), ("/missing", 404)],
)
def test_http_status(browser: WebDriver, open_page: Callable[[str], None], path: str, status: int) -> None:
    # WebDriver cannot see status codes, so ask the page's own fetch().
    open_page("/")
    code = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => done(r.status), e => done(String(e)));",
        path,
    )
    assert code == status


def test_home_page_screenshot(browser: WebDriver, open_page: Callable[[str], None], artifacts: Any) -> None:
    open_page("/")
    assert browser.find_element(By.ID, "shop-now").is_displayed()
    artifacts.screenshot("home")
