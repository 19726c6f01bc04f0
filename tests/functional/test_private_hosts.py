"""A test that cannot reach an app only a private network knows is told why (runner/private_hosts.py)."""

from __future__ import annotations

import pytest

from lambda_ui.runner.private_hosts import SECTION, PrivateHosts, resolve_here
from tests.support.failed_reports import app_url_config, failed_report

NOT_RESOLVED = "selenium.common.exceptions.WebDriverException: Message: unknown error: net::ERR_NAME_NOT_RESOLVED"
#: What this machine's resolver answers, for names a test cannot make resolve here otherwise.
ADDRESSES = {
    "web": ["172.18.0.3"],  # a docker-compose service
    "shop.staging.corp": ["10.1.2.3", "10.1.2.4"],
    "split.example.com": ["10.9.9.9", "93.184.216.34"],  # one public address: Lambda may reach it
    "public.example.com": ["93.184.216.34"],
}


@pytest.fixture
def config(pytester: pytest.Pytester) -> pytest.Config:
    return app_url_config(pytester, "http://shop.staging.corp/cart")


def _hosts(config: pytest.Config, args: list[str], env: dict[str, str] | None = None) -> tuple[PrivateHosts, list[str]]:
    asked: list[str] = []

    def resolve(host: str) -> list[str] | None:
        asked.append(host)
        return ADDRESSES.get(host)

    return PrivateHosts(config, args, env or {}, resolve), asked


def test_private_names_and_addresses_are_named_with_what_they_resolve_to_and_secrets_never(config: pytest.Config) -> None:
    hosts, asked = _hosts(config, ["--app-url=http://user:pw@web:8000/login", "--api=http://10.0.0.7:9000"], {"API_URL": "https://token@shop.staging.corp/x"})
    first, second = failed_report("test_a.py::test_a", NOT_RESOLVED), failed_report("test_a.py::test_b", NOT_RESOLVED)
    hosts.explain([first, second])
    ((title, text),) = first.sections
    assert title == SECTION
    assert text.startswith(
        "the test could not reach its app, and the run names an address only a private network knows: "
        "http://web:8000 (command line; 172.18.0.3 here), http://10.0.0.7:9000 (command line), --lambda-env API_URL (a private address here)"
    ), text
    assert "VpcConfig in template.yaml" in text
    assert all(secret not in text for secret in ("/login", "pw", "token", "/cart"))
    assert second.sections == first.sections
    assert sorted(asked) == ["shop.staging.corp", "web"]  # each name looked up once
    assert hosts.summary()[0].startswith("lambda: 2 test(s) could not reach their app (test_a.py::test_a, test_a.py::test_b), and the run names")


def test_public_addresses_other_failures_and_names_unknown_here_say_nothing(pytester: pytest.Pytester) -> None:
    config = app_url_config(pytester, "https://public.example.com/")
    hosts, _ = _hosts(config, ["--app-url=http://split.example.com", "--other=http://93.184.216.34", "--gone=http://nowhere.test", "--local=http://localhost:8000"])
    reports = [
        failed_report("test_a.py::test_unresolved", NOT_RESOLVED),
        failed_report("test_a.py::test_assert", "AssertionError: assert 'Cart' == 'Checkout'"),
    ]
    hosts.explain(reports)
    assert [r.sections for r in reports] == [[], []] and hosts.summary() == []
    # A private address in a run whose test failed some other way: nothing either.
    hosts, _ = _hosts(config, ["--app-url=http://web:8000"])
    other = failed_report("test_a.py::test_assert", "AssertionError: assert 'Cart' == 'Checkout'")
    hosts.explain([other])
    assert other.sections == []


def test_a_timeout_counts_only_next_to_the_host_s_name(config: pytest.Config) -> None:
    hosts, _ = _hosts(config, [])
    api = failed_report("test_a.py::test_api", "ConnectTimeoutError(<urllib3.connection.HTTPConnection>, 'Connection to web timed out. (connect timeout=5)')\nrequests.get('http://web:8000/api')")
    wait = failed_report("test_a.py::test_wait", "selenium.common.exceptions.TimeoutException: the cart timed out\n    driver.get('http://web:8000/cart')")
    hosts.explain([api, wait])
    assert [r.nodeid for r in (api, wait) if r.sections] == ["test_a.py::test_api"]
    assert "http://web:8000 (in the test's traceback; 172.18.0.3 here)" in api.sections[0][1]
    assert "shop.staging.corp" not in api.sections[0][1]  # named in the ini, but not the address that timed out


def test_this_machine_s_resolver_answers_addresses_or_none() -> None:
    assert resolve_here("127.0.0.1") == ["127.0.0.1"]
    assert resolve_here("no-such-host.invalid") is None  # RFC 6761: never resolves
