"""The team's shared browser plugin, loaded with ``-p examples.byo.page_objects.chrome_plugin``.

Suites of the team get their Chrome options from here, so the flags that headless
Chrome needs on CI machines live in one place. It also says in the report header that
it was loaded.
"""

from __future__ import annotations

import pytest
from selenium.webdriver.chrome.options import Options

FLAGS = (
    "--headless=new",
    "--no-sandbox",  # Chrome refuses to sandbox itself as root (containers, CI)
    "--disable-dev-shm-usage",  # a small /dev/shm crashes tabs
    "--disable-background-networking",  # no update or metrics calls on a closed network
    "--window-size=1280,900",
)


def pytest_report_header(config: pytest.Config) -> str:
    return "chrome_plugin: headless Chrome options for the team's suites"


@pytest.fixture
def team_chrome_options() -> Options:
    """Chrome options every suite of the team starts from."""
    options = Options()
    for flag in FLAGS:
        options.add_argument(flag)
    return options
