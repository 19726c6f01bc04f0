"""The sign-up form, as a unittest suite: one Chrome per class (``cls.driver``).

python -m pytest examples/byo/unittest_style
(or, from examples/: python -m unittest byo.unittest_style.test_signup)

The module serves the shop on port 8768 while its tests run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import unittest
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

# Selenium Manager otherwise asks the internet for a matching Chrome before it settles
# for the chromedriver on PATH.
os.environ.setdefault("SE_OFFLINE", "true")

SHOP_SERVER = Path(__file__).resolve().parents[2] / "app" / "server.py"
SHOP_URL = "http://127.0.0.1:8768"
TIMEOUT = 20
# BYO_FAIL=1 expects a greeting the shop does not show, to show a failure's captures.
GREETING = "Welcome aboard, Ada!" if os.environ.get("BYO_FAIL") == "1" else "Welcome aboard, Ada Lovelace!"

_shop: subprocess.Popen[str] | None = None


def setUpModule() -> None:
    global _shop
    _shop = subprocess.Popen(
        [sys.executable, str(SHOP_SERVER), "--port", SHOP_URL.rsplit(":", 1)[1]],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert _shop.stdout is not None
    # The server prints its banner once it listens; an early end means the port is taken.
    if "running at" not in _shop.stdout.readline():
        raise RuntimeError(f"the shop did not start at {SHOP_URL} (exit code {_shop.wait()}): is the port in use?")


def tearDownModule() -> None:
    if _shop is not None:
        _shop.terminate()
        _shop.wait(timeout=10)
        assert _shop.stdout is not None
        _shop.stdout.close()


class SignupTests(unittest.TestCase):
    driver: webdriver.Chrome

    @classmethod
    def setUpClass(cls) -> None:
        options = webdriver.ChromeOptions()
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-background-networking", "--window-size=1280,900"):
            options.add_argument(flag)
        cls.driver = webdriver.Chrome(options=options)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.driver.quit()

    def setUp(self) -> None:
        self.driver.delete_all_cookies()
        self.driver.get(SHOP_URL + "/signup")
        self.wait = WebDriverWait(self.driver, TIMEOUT)

    def fill(self, name: str, email: str, password: str) -> None:
        for field, value in (("name", name), ("email", email), ("password", password), ("confirm", password)):
            self.driver.find_element(By.ID, field).send_keys(value)
        Select(self.driver.find_element(By.ID, "plan")).select_by_value("free")
        self.driver.find_element(By.ID, "terms").click()

    def test_form_has_its_heading(self) -> None:
        self.assertEqual(self.driver.find_element(By.ID, "page-title").text, "Create your account")

    def test_short_password_is_refused(self) -> None:
        self.fill("Ada Lovelace", "ada@example.com", "pass1")
        self.driver.find_element(By.ID, "submit").click()
        self.wait.until(EC.visibility_of_element_located((By.ID, "password-error")))
        self.assertEqual(self.driver.find_element(By.ID, "password-error").text, "Use at least 8 characters.")

    def test_valid_form_welcomes_the_new_member(self) -> None:
        self.fill("Ada Lovelace", "ada@example.com", "analytical1")
        self.driver.find_element(By.ID, "submit").click()
        self.wait.until(EC.visibility_of_element_located((By.ID, "welcome-plan")))
        self.assertEqual(self.driver.find_element(By.ID, "page-title").text, GREETING)


if __name__ == "__main__":
    unittest.main()
