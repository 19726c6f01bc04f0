"""The page-object suite's fixtures: the shop on port 8767 and a home page holding a Chrome.

python -m pytest -p examples.byo.page_objects.chrome_plugin examples/byo/page_objects

The Chrome options come from the team plugin (``team_chrome_options``), which this
suite expects on the command line as ``-p``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options

from .pages import HomePage

# Selenium Manager otherwise asks the internet for a matching Chrome before it settles
# for the chromedriver on PATH.
os.environ.setdefault("SE_OFFLINE", "true")

SHOP_SERVER = Path(__file__).resolve().parents[2] / "app" / "server.py"
SHOP_PORT = 8767


@pytest.fixture(scope="session")
def shop_url() -> Iterator[str]:
    shop = subprocess.Popen(
        [sys.executable, str(SHOP_SERVER), "--port", str(SHOP_PORT)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert shop.stdout is not None
    # The server prints its banner once it listens; an early end means the port is taken.
    if "running at" not in shop.stdout.readline():
        pytest.fail(f"the shop did not start on port {SHOP_PORT} (exit code {shop.wait()}): is the port in use?", pytrace=False)
    try:
        yield f"http://127.0.0.1:{SHOP_PORT}"
    finally:
        shop.terminate()
        shop.wait(timeout=10)
        shop.stdout.close()


@pytest.fixture
def home(shop_url: str, team_chrome_options: Options) -> Iterator[HomePage]:
    """The home page, open in a Chrome of its own (``home.driver``)."""
    driver = webdriver.Chrome(options=team_chrome_options)
    try:
        yield HomePage(driver, shop_url).open()
    finally:
        driver.quit()
