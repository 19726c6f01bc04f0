"""A test that fails to connect while the run gives the function this machine's loopback
is told why (runner/loopback.py); the end-to-end case is in tests/e2e/test_lambda_end_to_end.py."""

from __future__ import annotations

import gc

import pytest

from lambda_ui.runner.loopback import SECTION, LoopbackRefusals
from tests.support.failed_reports import app_url_config, failed_report

CHROME_REFUSED = "selenium.common.exceptions.WebDriverException: Message: unknown error: net::ERR_CONNECTION_REFUSED"


@pytest.fixture
def config(pytester: pytest.Pytester) -> pytest.Config:
    return app_url_config(pytester, "http://127.0.0.1:5000/shop")


def test_every_place_is_named_by_origin_and_a_variable_s_value_never(config: pytest.Config) -> None:
    refusals = LoopbackRefusals(config, ["--app-url=http://user:pw@localhost:8000/login"], {"API_URL": "ws://u:pw@[::1]:9000/feed"})
    report = failed_report("test_a.py::test_a", CHROME_REFUSED)
    refusals.explain([report])
    ((title, text),) = report.sections
    assert title == SECTION
    assert text.startswith(
        "the test could not connect, and this machine's loopback is named: "
        "http://localhost:8000 (command line), --lambda-env API_URL, http://127.0.0.1:5000 (ini app_url). In Lambda"
    )
    # No path, user or password, and nothing of a variable's value (it may be a secret).
    assert all(secret not in text for secret in ("/login", "pw", "[::1]", "/shop"))
    assert refusals.summary() == [f"lambda: 1 test(s) failed to connect (test_a.py::test_a), and {text[len('the test could not connect, and '):]}"]


def test_addresses_lambda_can_reach_and_other_failures_say_nothing(pytester: pytest.Pytester) -> None:
    config = app_url_config(pytester, "https://staging.example.com/?next=http%3A//localhost")
    refusals = LoopbackRefusals(config, ["--app-url=http://10.0.0.7:8000", "localhost:8000"], {"NOTE": "see http://example.com"})
    report = failed_report("test_a.py::test_a", CHROME_REFUSED)
    refusals.explain([report])
    assert report.sections == [] and refusals.summary() == []


def test_python_s_connection_refused_counts_only_at_a_named_port(config: pytest.Config) -> None:
    refusals = LoopbackRefusals(config, ["--app-url=http://localhost:8000"], {})
    # The test's own chromedriver, dead, on another loopback port: not the app's address.
    chromedriver = failed_report("test_a.py::test_dead_driver", "MaxRetryError: HTTPConnectionPool(host='localhost', port=40417): ... [Errno 111] Connection refused")
    api = failed_report("test_a.py::test_api", "ConnectionError: HTTPConnectionPool(host='localhost', port=8000): ... [Errno 111] Connection refused")
    passed = pytest.TestReport("test_a.py::test_ok", ("test_a.py", 1, "ok"), {}, "passed", None, "call")
    refusals.explain([chromedriver, api, passed])
    assert [r.nodeid for r in (chromedriver, api, passed) if r.sections] == ["test_a.py::test_api"]
    assert refusals.said.tests == ["test_a.py::test_api"]


def test_a_loopback_url_in_the_failed_test_s_own_traceback_counts_too(pytester: pytest.Pytester) -> None:
    # A conftest that opens a hard-coded address (seen in public suites: driver.get("http://127.0.0.1:5000")).
    gc.collect()
    refusals = LoopbackRefusals(pytester.parseconfigure(), [], {})
    text = '    def browser():\n>       driver.get("http://127.0.0.1:5000")\nE   WebDriverException: unknown error: net::ERR_CONNECTION_REFUSED'
    report, elsewhere = failed_report("test_a.py::test_a", text), failed_report("test_a.py::test_b", 'driver.get("https://shop.example")\n' + CHROME_REFUSED)
    refusals.explain([report, elsewhere])
    assert report.sections[0][1].startswith("the test could not connect, and this machine's loopback is named: http://127.0.0.1:5000 (in the test's traceback)")
    assert elsewhere.sections == []
    assert refusals.summary()[0].startswith("lambda: 1 test(s) failed to connect (test_a.py::test_a), and this machine's loopback is named: http://127.0.0.1:5000")
