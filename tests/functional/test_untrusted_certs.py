"""A test whose certificate check failed in Lambda on an address this machine trusts is told why
(runner/untrusted_certs.py)."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambda_ui.runner.untrusted_certs import SECTION, UntrustedCerts, verified_here
from stand_ins.tls import self_signed
from tests.support.failed_reports import app_url_config, failed_report

CHROME_UNTRUSTED = "selenium.common.exceptions.WebDriverException: Message: unknown error: net::ERR_CERT_AUTHORITY_INVALID"
TRUSTED_HERE = {("shop.staging.corp", 443), ("api.staging.corp", 8443)}


def _certs(config: pytest.Config, args: list[str], env: dict[str, str] | None = None) -> tuple[UntrustedCerts, list[tuple[str, int]]]:
    asked: list[tuple[str, int]] = []

    def verify(host: str, port: int) -> bool:
        asked.append((host, port))
        return (host, port) in TRUSTED_HERE

    return UntrustedCerts(config, args, env or {}, verify), asked


def test_an_address_trusted_here_is_named_once_per_address_and_a_variable_by_name(pytester: pytest.Pytester) -> None:
    config = app_url_config(pytester, "https://shop.staging.corp/cart")
    certs, asked = _certs(config, ["--api=https://api.staging.corp:8443/v1", "--other=https://public.example.com"], {"TOKEN_URL": "https://x:secret@api.staging.corp:8443"})
    requests_style = "requests.exceptions.SSLError: ... [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate"
    first, second = failed_report("test_a.py::test_a", CHROME_UNTRUSTED), failed_report("test_a.py::test_b", requests_style)
    certs.explain([first, second])
    ((title, text),) = first.sections
    assert title == SECTION
    assert text.startswith(
        "the test's certificate check failed, and this machine verifies the certificate of "
        "https://api.staging.corp:8443 (command line), --lambda-env TOKEN_URL, https://shop.staging.corp (ini app_url): its chain"
    ), text
    assert "accept_insecure_certs" in text and "secret" not in text and "/cart" not in text
    assert second.sections == first.sections
    assert sorted(asked) == [("api.staging.corp", 8443), ("public.example.com", 443), ("shop.staging.corp", 443)]  # each once
    assert certs.summary()[0].startswith("lambda: 2 test(s) met a certificate the function does not trust (test_a.py::test_a, test_a.py::test_b)")


def test_other_failures_and_addresses_not_trusted_here_say_nothing(pytester: pytest.Pytester) -> None:
    config = app_url_config(pytester, "https://public.example.com/")
    certs, asked = _certs(config, ["--app-url=https://broken.example.com", "--plain=http://shop.staging.corp"])
    untrusted = failed_report("test_a.py::test_untrusted", CHROME_UNTRUSTED)  # trusted nowhere: the certificate is broken
    other = failed_report("test_a.py::test_assert", "AssertionError: assert 'Cart' == 'Checkout'\n    driver.get('https://shop.staging.corp')")
    certs.explain([untrusted, other])
    assert untrusted.sections == [] and other.sections == [] and certs.summary() == []
    assert ("shop.staging.corp", 443) not in asked  # an http address, and a failure with no certificate words: not checked


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A loopback server that completes TLS handshakes with a certificate of its own CA."""
    ca, context = self_signed(tmp_path)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], ca
    stop.set()
    thread.join(timeout=5)
    listener.close()


def test_this_machine_s_trust_decides(tls_server: tuple[int, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    port, ca = tls_server
    assert verified_here("127.0.0.1", port) is False  # its CA is nobody's
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # as a company CA installed on the CI machine
    assert verified_here("127.0.0.1", port) is True
    closed = socket.create_server(("127.0.0.1", 0))
    free = closed.getsockname()[1]
    closed.close()
    assert verified_here("127.0.0.1", free) is False  # nothing answers
