"""A pytest-selenium suite: pytest-selenium builds the driver, pytest-base-url names the site.

python -m pytest examples/byo/selenium_fixture --driver Chrome --base-url http://127.0.0.1:8765

The suite serves the shop itself, at the port of ``--base-url``, for the whole session.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from selenium.webdriver.chrome.options import Options

# Selenium Manager otherwise asks the internet for a matching Chrome before it settles
# for the chromedriver on PATH; offline it only warns, but it costs a request per driver.
os.environ.setdefault("SE_OFFLINE", "true")

SHOP_SERVER = Path(__file__).resolve().parents[2] / "app" / "server.py"
HEADLESS_FLAGS = (
    "--headless=new",
    "--no-sandbox",  # Chrome refuses to sandbox itself as root (containers, CI)
    "--disable-dev-shm-usage",  # a small /dev/shm crashes tabs
    "--disable-background-networking",  # no update or metrics calls on a closed network
    "--window-size=1280,900",
)


@pytest.fixture
def chrome_options(chrome_options: Options) -> Options:
    """pytest-selenium's Chrome options, made headless."""
    for flag in HEADLESS_FLAGS:
        chrome_options.add_argument(flag)
    return chrome_options


@pytest.fixture(scope="session")
def base_url(base_url: str | None) -> Iterator[str]:
    """``--base-url``, with the shop listening on its port until the session ends.

    Overriding pytest-base-url's fixture starts the shop before anything that checks
    the URL (``--verify-base-url``, pytest-selenium's sensitive-URL probe) reaches it.
    """
    if not base_url:
        pytest.fail("this suite needs --base-url, e.g. --base-url http://127.0.0.1:8765", pytrace=False)
    port = urlsplit(base_url).port or 80
    shop = subprocess.Popen(
        [sys.executable, str(SHOP_SERVER), "--port", str(port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert shop.stdout is not None
    # The server prints its banner once it listens; an early end means the port is taken.
    if "running at" not in shop.stdout.readline():
        pytest.fail(f"the shop did not start on port {port} (exit code {shop.wait()}): is the port in use?", pytrace=False)
    try:
        yield base_url.rstrip("/")
    finally:
        shop.terminate()
        shop.wait(timeout=10)
        shop.stdout.close()
