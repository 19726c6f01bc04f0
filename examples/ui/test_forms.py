"""The sign-up form: client-side checks, server-side checks and the success page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

#: How long a form post may take to replace the page (as the suite's explicit waits).
NAVIGATION_SECONDS = 20
POLL_SECONDS = 0.1  # as the suite's `wait` fixture (examples/conftest.py)
FIELDS = ["name", "email", "password", "confirm", "plan", "terms"]
VALID: dict[str, Any] = {
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "password": "analytical1",
    "confirm": "analytical1",
    "plan": "free",
    "terms": True,
}

BAD_EMAIL = "Enter a valid email address, like ada@example.com."

# (field whose message should show, changes to the valid form, expected message)
INVALID = [
    pytest.param("name", {"name": "   "}, "Please enter your name.", id="name-blank"),
    pytest.param("email", {"email": ""}, "Please enter your email address.", id="email-missing"),
    pytest.param("email", {"email": "ada@example"}, BAD_EMAIL, id="email-no-dot"),
    pytest.param("email", {"email": "ada at example.com"}, BAD_EMAIL, id="email-no-at"),
    pytest.param(
        "password", {"password": "pass1", "confirm": "pass1"}, "Use at least 8 characters.", id="password-short"
    ),
    pytest.param(
        "password",
        {"password": "mountains", "confirm": "mountains"},
        "Include at least one number.",
        id="password-no-digit",
    ),
    pytest.param(
        "password",
        {"password": "12345678", "confirm": "12345678"},
        "Include at least one letter.",
        id="password-no-letter",
    ),
    pytest.param("confirm", {"confirm": "analytical2"}, "Passwords do not match.", id="confirm-mismatch"),
    pytest.param("terms", {"terms": False}, "You must accept the terms to continue.", id="terms-unchecked"),
]


def fill_form(browser: WebDriver, values: dict[str, Any]) -> None:
    for field in ("name", "email", "password", "confirm"):
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(values[field])
    Select(browser.find_element(By.ID, "plan")).select_by_value(values["plan"])
    terms = browser.find_element(By.ID, "terms")
    if terms.is_selected() != values["terms"]:
        terms.click()


def error_text(browser: WebDriver, field: str) -> str:
    # textContent, not .text: an empty error paragraph is display:none.
    return browser.find_element(By.ID, f"{field}-error").get_attribute("textContent") or ""


def submit_to_server(browser: WebDriver) -> None:
    """Post the form and wait until the server's page replaced it (the old form goes stale).

    A command that races the navigation can fail with chromedriver's "aborted by navigation"
    (seen once in CI); while the form is being replaced such a poll is tried again.
    """
    form = browser.find_element(By.ID, "signup-form")
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, NAVIGATION_SECONDS, poll_frequency=POLL_SECONDS, ignored_exceptions=(WebDriverException,)).until(EC.staleness_of(form))


def disable_client_checks(browser: WebDriver) -> None:
    """Let the form post straight to the server, as a script-less client would."""
    browser.execute_script("document.getElementById('signup-form').dataset.clientValidation = 'off';")


@pytest.mark.parametrize(("field", "changes", "message"), INVALID)
def test_client_side_validation(
    browser: WebDriver,
    wait: WebDriverWait[WebDriver],
    app_url: str,
    open_page: Callable[[str], None],
    field: str,
    changes: dict[str, Any],
    message: str,
) -> None:
    open_page("/signup")
    fill_form(browser, {**VALID, **changes})
    browser.find_element(By.ID, "submit").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, f"{field}-error"), message))
    assert browser.find_element(By.ID, field).get_attribute("aria-invalid") == "true"
    assert [f for f in FIELDS if error_text(browser, f)] == [field]
    # The browser never posted: no server banner, still on the form.
    assert browser.current_url == app_url + "/signup"
    assert browser.find_elements(By.ID, "form-alert") == []


def test_client_errors_clear_as_fields_are_fixed(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_page("/signup")
    browser.find_element(By.ID, "submit").click()
    wait.until(EC.text_to_be_present_in_element((By.ID, "name-error"), "Please enter your name."))
    assert [f for f in FIELDS if error_text(browser, f)] == ["name", "email", "password", "terms"]

    browser.find_element(By.ID, "name").send_keys("Ada")
    wait.until(lambda driver: error_text(driver, "name") == "")
    assert browser.find_element(By.ID, "name").get_attribute("aria-invalid") is None
    assert error_text(browser, "email") == "Please enter your email address."


@pytest.mark.parametrize(
    ("field", "changes", "message"),
    [INVALID[2], INVALID[6], INVALID[8]],
)
def test_server_side_validation(
    browser: WebDriver,
    wait: WebDriverWait[WebDriver],
    open_page: Callable[[str], None],
    field: str,
    changes: dict[str, Any],
    message: str,
) -> None:
    open_page("/signup")
    disable_client_checks(browser)
    fill_form(browser, {**VALID, **changes})
    submit_to_server(browser)
    # Only the server renders this banner, so its presence proves the POST happened.
    alert = wait.until(EC.visibility_of_element_located((By.ID, "form-alert")))
    assert "1 highlighted field" in alert.text
    assert error_text(browser, field) == message
    # Entered values come back, except passwords, which a server never echoes.
    expected = {**VALID, **changes}
    assert browser.find_element(By.ID, "name").get_attribute("value") == expected["name"]
    assert browser.find_element(By.ID, "email").get_attribute("value") == expected["email"]
    assert browser.find_element(By.ID, "password").get_attribute("value") == ""


def test_server_rejects_an_empty_form(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None], artifacts: Any
) -> None:
    open_page("/signup")
    disable_client_checks(browser)
    submit_to_server(browser)
    alert = wait.until(EC.visibility_of_element_located((By.ID, "form-alert")))
    assert "4 highlighted field" in alert.text
    assert [f for f in FIELDS if error_text(browser, f)] == ["name", "email", "password", "terms"]
    artifacts.page_source("server-validation")
    artifacts.screenshot("server-validation")


def test_valid_signup_shows_welcome_page(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_page("/signup")
    fill_form(browser, {**VALID, "plan": "pro"})
    submit_to_server(browser)
    wait.until(EC.url_contains("/welcome"))
    assert browser.find_element(By.ID, "page-title").text == "Welcome aboard, Ada Lovelace!"
    assert browser.find_element(By.ID, "welcome-plan").text == "Pro"
    # The success page is a separate GET (post/redirect/get), so the nav still says Sign up.
    assert browser.find_element(By.CSS_SELECTOR, ".nav-link.active").text == "Sign up"


def test_welcome_page_escapes_markup_in_the_name(
    browser: WebDriver, wait: WebDriverWait[WebDriver], open_page: Callable[[str], None]
) -> None:
    open_page("/signup")
    fill_form(browser, {**VALID, "name": "<b>Ada</b>"})
    submit_to_server(browser)
    wait.until(EC.url_contains("/welcome"))
    title = browser.find_element(By.ID, "page-title")
    assert title.text == "Welcome aboard, <b>Ada</b>!"
    assert title.find_elements(By.TAG_NAME, "b") == []
