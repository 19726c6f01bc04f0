"""The workspace page: tabs, a localStorage packing list, a counter and a modal dialog."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def open_workspace(open_page: Callable[[str], None], wait: WebDriverWait[WebDriver]) -> None:
    open_page("/workspace")
    # workspace.js marks the body once it has restored saved state.
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "body[data-ready=true]")))


def item_count_is(count: int) -> Callable[[WebDriver], bool]:
    return lambda driver: len(items(driver)) == count


def add_items(browser: WebDriver, wait: WebDriverWait[WebDriver], *texts: str) -> None:
    for text in texts:
        expected = len(items(browser)) + 1
        browser.find_element(By.ID, "todo-input").send_keys(text, Keys.ENTER)
        wait.until(item_count_is(expected))


def items(browser: WebDriver) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, "#todo-list .todo-item")


def item_texts(browser: WebDriver) -> list[str]:
    return [el.text for el in browser.find_elements(By.CSS_SELECTOR, "#todo-list .todo-text")]


def remaining(browser: WebDriver) -> str:
    return browser.find_element(By.ID, "todo-remaining").text


def test_fresh_browser_starts_with_an_empty_workspace(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    # Holds only if the browser fixture really clears storage between tests.
    open_workspace(open_page, wait)
    assert items(browser) == []
    assert browser.find_element(By.ID, "todo-empty").is_displayed()
    assert browser.find_element(By.ID, "counter-value").get_attribute("textContent") == "0"
    assert browser.find_element(By.ID, "tab-todos").get_attribute("aria-selected") == "true"


@pytest.mark.parametrize(("tab", "panel"), [("tab-counter", "panel-counter"), ("tab-help", "panel-help")])
def test_tabs_switch_panels(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None], tab: str, panel: str
) -> None:
    open_workspace(open_page, wait)
    browser.find_element(By.ID, tab).click()
    wait.until(EC.visibility_of_element_located((By.ID, panel)))
    assert not browser.find_element(By.ID, "panel-todos").is_displayed()
    assert browser.find_element(By.ID, tab).get_attribute("aria-selected") == "true"
    assert browser.find_element(By.ID, "tab-todos").get_attribute("aria-selected") == "false"


def test_selected_tab_survives_a_reload(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_workspace(open_page, wait)
    browser.find_element(By.ID, "tab-help").click()
    browser.refresh()
    wait.until(EC.visibility_of_element_located((By.ID, "panel-help")))
    assert browser.find_element(By.ID, "tab-help").get_attribute("aria-selected") == "true"


def test_add_items_with_button_and_enter(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_workspace(open_page, wait)
    browser.find_element(By.ID, "todo-input").send_keys("Rain jacket")
    browser.find_element(By.ID, "todo-add").click()
    wait.until(item_count_is(1))
    add_items(browser, wait, "Head torch")
    assert item_texts(browser) == ["Rain jacket", "Head torch"]
    assert remaining(browser) == "2 items left"
    assert browser.find_element(By.ID, "todo-input").get_attribute("value") == ""


def test_blank_item_is_rejected(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_workspace(open_page, wait)
    browser.find_element(By.ID, "todo-input").send_keys("   ", Keys.ENTER)
    wait.until(EC.text_to_be_present_in_element((By.ID, "todo-error"), "Write something first."))
    assert items(browser) == []


def test_packing_an_item_updates_the_count(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_workspace(open_page, wait)
    add_items(browser, wait, "Tent", "Stove", "Map")
    items(browser)[1].find_element(By.CSS_SELECTOR, ".todo-toggle").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "todo-remaining"), "2 items left"))
    assert "done" in (items(browser)[1].get_attribute("class") or "").split()


def test_delete_and_clear_packed(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_workspace(open_page, wait)
    add_items(browser, wait, "Tent", "Stove", "Map", "Snacks")
    items(browser)[0].find_element(By.CSS_SELECTOR, ".todo-delete").click()
    wait.until(lambda driver: item_texts(driver) == ["Stove", "Map", "Snacks"])
    items(browser)[1].find_element(By.CSS_SELECTOR, ".todo-toggle").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "todo-remaining"), "2 items left"))
    browser.find_element(By.ID, "todo-clear-done").click()
    wait.until(lambda driver: item_texts(driver) == ["Stove", "Snacks"])


def test_items_survive_a_reload(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_workspace(open_page, wait)
    add_items(browser, wait, "Water filter", "Sunscreen")
    items(browser)[0].find_element(By.CSS_SELECTOR, ".todo-toggle").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "todo-remaining"), "1 item left"))
    browser.refresh()
    wait.until(lambda driver: item_texts(driver) == ["Water filter", "Sunscreen"])
    assert items(browser)[0].find_element(By.CSS_SELECTOR, ".todo-toggle").is_selected()
    assert remaining(browser) == "1 item left"


def test_clear_all_asks_for_confirmation(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_workspace(open_page, wait)
    add_items(browser, wait, "Tent", "Stove")
    browser.find_element(By.ID, "todo-clear-all").click()
    dialog = wait.until(EC.visibility_of_element_located((By.ID, "confirm-dialog")))
    assert "all 2 item(s)" in dialog.find_element(By.ID, "confirm-text").text
    browser.find_element(By.ID, "confirm-ok").click()
    wait.until(EC.invisibility_of_element_located((By.ID, "confirm-dialog")))
    wait.until(lambda driver: items(driver) == [])
    wait.until(EC.text_to_be_present_in_element((By.ID, "toast"), "Packing list cleared"))


@pytest.mark.parametrize("how", ["cancel-button", "escape-key"])
def test_dismissing_the_dialog_keeps_items(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None], how: str
) -> None:
    open_workspace(open_page, wait)
    add_items(browser, wait, "Tent", "Stove")
    browser.find_element(By.ID, "todo-clear-all").click()
    wait.until(EC.visibility_of_element_located((By.ID, "confirm-dialog")))
    if how == "cancel-button":
        browser.find_element(By.ID, "confirm-cancel").click()
    else:
        # A modal <dialog> has focus inside it, so Escape goes to the dialog.
        browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait.until(EC.invisibility_of_element_located((By.ID, "confirm-dialog")))
    assert item_texts(browser) == ["Tent", "Stove"]


def test_counter_counts_stops_at_zero_and_persists(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_workspace(open_page, wait)
    browser.find_element(By.ID, "tab-counter").click()
    wait.until(EC.visibility_of_element_located((By.ID, "panel-counter")))
    assert not browser.find_element(By.ID, "counter-dec").is_enabled()
    for _ in range(3):
        browser.find_element(By.ID, "counter-inc").click()
    browser.find_element(By.ID, "counter-dec").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "counter-value"), "2"))

    # The count is in localStorage and the open tab in sessionStorage: both come back.
    browser.refresh()
    wait.until(EC.visibility_of_element_located((By.ID, "panel-counter")))
    wait.until(EC.text_to_be_present_in_element((By.ID, "counter-value"), "2"))
    browser.find_element(By.ID, "counter-reset").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "counter-value"), "0"))
    assert not browser.find_element(By.ID, "counter-dec").is_enabled()
