"""Failed reports and a suite that takes its app's address, for the tests of the failure hints."""

from __future__ import annotations

import gc

import pytest

#: A suite that takes its app's address from the command line or the ini, as pytest-base-url's
#: --base-url and ini base_url do.
APP_URL_CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--app-url")
    parser.addini("app_url", "the app under test")
"""


def failed_report(nodeid: str, text: str) -> pytest.TestReport:
    """A failed call report of ``nodeid`` whose failure text is ``text``."""
    return pytest.TestReport(nodeid, ("test_a.py", 1, nodeid), {}, "failed", text, "call")


def app_url_config(pytester: pytest.Pytester, app_url: str) -> pytest.Config:
    """The configured session of a suite with :data:`APP_URL_CONFTEST` and ``app_url`` in its ini."""
    pytester.makeconftest(APP_URL_CONFTEST)
    pytester.makeini(f"[pytest]\napp_url = {app_url}\n")
    gc.collect()  # an earlier pytester config's plugins must not answer for this one
    return pytester.parseconfigure()
