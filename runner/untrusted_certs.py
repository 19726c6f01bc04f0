"""Tests that met a certificate this machine trusts and the function does not: say why on the test.

A staging app behind a company's own certificate authority works from CI, whose machines
trust that CA. The function's Chrome and Python trust the public CAs only, so every page
fails with ``net::ERR_CERT_AUTHORITY_INVALID`` (and ``requests`` with
``CERTIFICATE_VERIFY_FAILED``), which reads like a broken certificate. A test that failed
that way, in a run that names an https address (command line, ini values the suite set, a
``--lambda-env`` value by name only, the test's traceback) whose certificate this machine
verifies, gets a section naming it and what to do. Each address is checked once, with a TLS
handshake from here, on the first such failure.
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Callable, Mapping, Sequence

import pytest

from lambda_ui.runner.failure_hints import NamedAddresses
from lambda_ui.runner.loopback import is_loopback_host, run_places, url_hosts
from lambda_ui.runner.terminal import listed

SECTION = "lambda-ui: a certificate only this machine trusts"
#: Chrome's and Python's words for a chain that ends in a CA they do not trust.
_UNTRUSTED = re.compile(
    r"ERR_CERT_AUTHORITY_INVALID|CERTIFICATE_VERIFY_FAILED|unable to get local issuer certificate"
    r"|self[- ]signed certificate in certificate chain"
)
#: How long one handshake from here may take before the hint gives up on that address.
HANDSHAKE_TIMEOUT_S = 3.0

Verifier = Callable[[str, int], bool]


def verified_here(host: str, port: int) -> bool:
    """This machine's default trust verifies ``host:port``'s certificate (a completed TLS
    handshake); False when it does not, or the address does not answer in time."""
    context = ssl.create_default_context()
    try:
        with socket.create_connection((host, port), timeout=HANDSHAKE_TIMEOUT_S) as raw, context.wrap_socket(raw, server_hostname=host):
            return True
    except (OSError, ValueError):  # ssl.SSLError is an OSError
        return False


class UntrustedCerts:
    """The https addresses a run gives the function, and the tests whose certificate check failed there."""

    def __init__(self, config: pytest.Config, pytest_args: Sequence[str], env: Mapping[str, str], verify: Verifier = verified_here) -> None:
        self._given = [found for found in url_hosts(run_places(config, pytest_args, env, set_only=True)) if _https(found[0])]
        self._verify = verify
        self._verified: dict[tuple[str, int], bool] = {}
        self.said = NamedAddresses(SECTION)

    def _trusted_here(self, host: str, port: int | None) -> bool:
        key = (host, port or 443)
        if key not in self._verified:
            self._verified[key] = self._verify(*key)
        return self._verified[key]

    def explain(self, reports: list[pytest.TestReport]) -> None:
        """Add the section to each failed report whose certificate check failed on an address
        this machine trusts."""
        for report in reports:
            if not report.failed:
                continue
            text = report.longreprtext
            if not _UNTRUSTED.search(text):
                continue
            own = [(o, h, p, "in the test's traceback") for o, h, p, _ in url_hosts([("", text)]) if _https(o)]
            named: list[str] = []
            for origin, host, port, where in [*self._given, *own]:
                if is_loopback_host(host) or not self._trusted_here(host, port):
                    continue
                line = where if where.startswith("--lambda-env") else f"{origin} ({where})"  # a variable's value may be a secret
                if line not in named:
                    named.append(line)
            if not named:
                continue
            self.said.explain(report, named, f"the test's certificate check failed, and {_why(named)}")

    def summary(self) -> list[str]:
        return self.said.summary("met a certificate the function does not trust", _why(self.said.seen))


def _https(origin: str) -> bool:
    return origin.lower().startswith(("https://", "wss://"))


def _why(named: list[str]) -> str:
    return (
        f"this machine verifies the certificate of {listed(named, shown=3)}: its chain ends in a CA this "
        "machine trusts (a company's own, most likely) and the function's image does not. Serve the app "
        "with a publicly trusted certificate, or, for a staging app, let the suite accept it in the "
        "function (Chrome: options.accept_insecure_certs = True; requests: verify= the CA file, kept in "
        "your repository)."
    )
