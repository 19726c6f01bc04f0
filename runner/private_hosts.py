"""Tests that could not reach an app only a private network knows: say why on the test.

Staging behind the company network (``https://shop.staging.corp``), a docker-compose
service (``http://web:8000``), an address in ``10.0.0.0/8``: CI reaches them, and the
function, outside any VPC (template.yaml), resolves none of those names and reaches none
of those addresses. Every test then fails with ``net::ERR_NAME_NOT_RESOLVED`` or a
connection timeout, which says nothing about why. So a test that failed that way, in a run
that names such an address (command line, ini values, a ``--lambda-env`` value, or the
test's own traceback), gets a section naming it and what to do. An address counts as
private when it is an IP literal outside the public internet, or a name that resolves
here only to such addresses; a name that does not resolve here either is the suite's
own problem, as it would be locally.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import pytest

from lambda_ui.runner.failure_hints import NamedAddresses
from lambda_ui.runner.loopback import is_loopback_host, run_places, url_hosts
from lambda_ui.runner.terminal import listed

SECTION = "lambda-ui: an address of a private network"
#: Chrome's page-load errors for a name that does not resolve and an address that never answers
#: (or, in a network with no route out, as the local Lambda's sandbox has, none at all).
_CHROME = re.compile(r"ERR_NAME_NOT_RESOLVED|ERR_CONNECTION_TIMED_OUT|ERR_ADDRESS_UNREACHABLE|ERR_TIMED_OUT|ERR_INTERNET_DISCONNECTED")
#: Python's (socket, urllib3, requests, httpx) for a name that does not resolve.
_UNRESOLVED = re.compile(
    r"Name or service not known|Temporary failure in name resolution|No address associated with hostname"
    r"|nodename nor servname provided|Failed to resolve|getaddrinfo failed|Network is unreachable"
)
#: How long one name's lookup here may take before the hint gives up on it.
RESOLVE_TIMEOUT_S = 2.0

Resolver = Callable[[str], list[str] | None]


def resolve_here(host: str) -> list[str] | None:
    """The addresses ``host`` has from this machine, or None when it has none (or the lookup
    took longer than :data:`RESOLVE_TIMEOUT_S`: a slow resolver must not hold up the run)."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(socket.getaddrinfo, host, None, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=RESOLVE_TIMEOUT_S)
    except (OSError, FutureTimeout, UnicodeError):
        return None
    finally:
        pool.shutdown(wait=False)
    return sorted({str(info[4][0]) for info in infos})


def _is_private_address(text: str) -> bool:
    try:
        address = ipaddress.ip_address(text.split("%")[0])  # a scoped IPv6 address carries its interface
    except ValueError:
        return False
    return not address.is_global and not address.is_loopback and not address.is_unspecified and not address.is_multicast


class PrivateHosts:
    """The private addresses a run gives the function, and the tests that could not reach them."""

    def __init__(self, config: pytest.Config, pytest_args: Sequence[str], env: Mapping[str, str], resolve: Resolver = resolve_here) -> None:
        # The ini values the suite set: a plugin's default (a documentation link) is no app to look up.
        self._given = [found for found in url_hosts(run_places(config, pytest_args, env, set_only=True)) if not is_loopback_host(found[1])]
        self._resolve = resolve
        self._addresses: dict[str, list[str] | None] = {}
        self.said = NamedAddresses(SECTION)

    def _private(self, host: str) -> list[str] | None:
        """The addresses ``host`` stands for here when all of them are private, else None."""
        if _is_private_address(host):
            return [host]
        if host not in self._addresses:
            try:
                ipaddress.ip_address(host)
                self._addresses[host] = None  # a public IP literal
            except ValueError:
                self._addresses[host] = self._resolve(host)
        found = self._addresses[host]
        return found if found and all(_is_private_address(a) for a in found) else None

    def explain(self, reports: list[pytest.TestReport]) -> None:
        """Add the section to each failed report that could not reach a private address the run names."""
        for report in reports:
            if not report.failed:
                continue
            text = report.longreprtext
            chrome = _CHROME.search(text) is not None
            python = _UNRESOLVED.search(text) is not None
            if not (chrome or python or "timed out" in text):
                continue
            candidates = [*self._given, *((o, h, p, "in the test's traceback") for o, h, p, _ in url_hosts([("", text)]) if not is_loopback_host(h))]
            named: list[str] = []
            for origin, host, _port, where in candidates:
                # "timed out" alone is any wait's word: it counts only just after the host's own name
                # (urllib3: "Connection to web timed out. (connect timeout=5)").
                if not (chrome or python or re.search(re.escape(host) + r".{0,80}timed out", text, re.DOTALL)):
                    continue
                addresses = self._private(host)
                if addresses is None:
                    continue
                if where.startswith("--lambda-env"):
                    line = f"{where} (a private address here)"  # the value may hold a secret: its name only
                elif addresses == [host]:
                    line = f"{origin} ({where})"
                else:
                    line = f"{origin} ({where}; {', '.join(addresses[:3])} here)"
                if line not in named:
                    named.append(line)
            if not named:
                continue
            self.said.explain(report, named, f"the test could not reach its app, and {_why(named)}")

    def summary(self) -> list[str]:
        return self.said.summary("could not reach their app", _why(self.said.seen))


def _why(named: list[str]) -> str:
    return (
        f"the run names an address only a private network knows: {listed(named, shown=3)}. The function runs outside "
        "your networks, where such a name does not resolve and such an address leads nowhere. Give an address the "
        "function can reach (a public staging URL or a tunnel), or attach the function to that network: VpcConfig in "
        "template.yaml, as docs/deploy.md describes."
    )
