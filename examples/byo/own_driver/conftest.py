"""The suite's own driver and app: nothing but Selenium and pytest.

python -m pytest examples/byo/own_driver [--app-port 8766]
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.webdriver import WebDriver

# Selenium Manager otherwise asks the internet for a matching Chrome before it settles
# for the chromedriver on PATH.
os.environ.setdefault("SE_OFFLINE", "true")

SHOP_SERVER = Path(__file__).resolve().parents[2] / "app" / "server.py"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--app-port", type=int, default=8766, help="port the shop under test listens on (default: 8766)")


@pytest.fixture(scope="session")
def app_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """The shop, served on ``--app-port`` for the whole session."""
    port = pytestconfig.getoption("app_port")
    shop = subprocess.Popen(
        [sys.executable, str(SHOP_SERVER), "--port", str(port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert shop.stdout is not None
    # The server prints its banner once it listens; an early end means the port is taken.
    if "running at" not in shop.stdout.readline():
        pytest.fail(f"the shop did not start on port {port} (exit code {shop.wait()}): is the port in use?", pytrace=False)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        shop.terminate()
        shop.wait(timeout=10)
        shop.stdout.close()


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    """One headless Chrome per test module."""
    options = webdriver.ChromeOptions()
    options.add_argument("--headless=new")
    options.add_argument("--no-sandbox")  # Chrome refuses to sandbox itself as root
    options.add_argument("--disable-dev-shm-usage")  # a small /dev/shm crashes tabs
    options.add_argument("--disable-background-networking")  # closed network: no update calls
    options.add_argument("--window-size=1280,900")
    # Keep every console line, not only warnings, for the logs a failure leaves behind.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options)
    yield chrome
    chrome.quit()


@pytest.fixture(autouse=True)
def _fresh_start(driver: WebDriver) -> None:
    """Tests share the module's browser: each starts without the last one's cookies."""
    driver.delete_all_cookies()
