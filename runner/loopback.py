"""Tests that failed to connect to a loopback address the run gave them: say why on the test.

CI often starts the app under test on localhost and runs ``pytest --lambda --base-url
http://localhost:8000``. In Lambda that address is the test's own execution environment:
a server started here is out of reach, and every test that opens it fails with
``net::ERR_CONNECTION_REFUSED``. A suite may also start the app itself on that address
(a session fixture), which works in Lambda as locally; so nothing is said before the run,
only for a test that failed to connect while the run names such an address: on the
command line, in an ini value, in a ``--lambda-env`` value, or in the failed test's own
traceback (``driver.get("http://127.0.0.1:5000")`` written into a conftest).
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence

import pytest

from lambda_ui.runner.failure_hints import NamedAddresses
from lambda_ui.runner.terminal import listed

#: A URL in an argument or a setting: scheme, then up to the next space or quote.
_URL = re.compile(r"\b(?:https?|wss?)://[^\s'\"<>]+", re.IGNORECASE)
#: Chrome's page-load error (its message names no address, and Chrome opens no other connection
#: a test waits on), and Python's, which counts only next to one of the named ports: a test's
#: own chromedriver on loopback refuses connections too once it has died.
_CHROME_REFUSED = "ERR_CONNECTION_REFUSED"
_PYTHON_REFUSED = "Connection refused"
SECTION = "lambda-ui: this machine's loopback"


def is_loopback_host(host: str | None) -> bool:
    """localhost, 127.0.0.0/8, ::1, and 0.0.0.0 (which browsers treat as this machine)."""
    if not host:
        return False
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def url_hosts(places: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str, int | None, str]]:
    """``(origin, host, port, where)`` for each URL in ``(where, text)`` pairs.

    The origin only (``http://localhost:8000``): a path or a user and password stay unsaid."""
    for where, text in places:
        for match in _URL.finditer(text):
            try:
                url = urllib.parse.urlsplit(match.group())
                host, port = url.hostname, url.port
            except ValueError:
                continue  # not a URL after all ("http://[oops", a port of letters)
            if host:
                shown = f"[{host}]" if ":" in host else host
                yield f"{url.scheme}://{shown}{f':{port}' if port else ''}", host, port, where


def loopback_urls(places: Iterable[tuple[str, str]]) -> Iterator[tuple[str, int | None, str]]:
    """``(origin, port, where)`` for each URL of a loopback host in ``(where, text)`` pairs."""
    for origin, host, port, where in url_hosts(places):
        if is_loopback_host(host):
            yield origin, port, where


def ini_values(config: pytest.Config, set_only: bool = False) -> Iterator[tuple[str, str]]:
    """``(where, text)`` for every string value of a registered ini key; with ``set_only``,
    of those whose value is not the key's registered default (a plugin's documentation link)."""
    # pytest names its registered ini keys and defaults nowhere public; the parser's table holds them.
    for name, registered in getattr(config._parser, "_inidict", {}).items():
        try:
            value = config.getini(name)
        except Exception:
            continue
        if set_only and isinstance(registered, tuple) and len(registered) == 3 and value == registered[2]:
            continue
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                yield f"ini {name}", text


def run_places(config: pytest.Config, pytest_args: Sequence[str], env: Mapping[str, str], set_only: bool = False) -> list[tuple[str, str]]:
    """``(where, text)`` of every place a run gives the function an address: the command line,
    the ``--lambda-env`` values and the ini values (``set_only``: see :func:`ini_values`)."""
    places = [("command line", arg) for arg in pytest_args]
    places += [(f"--lambda-env {name}", value) for name, value in env.items()]
    return [*places, *ini_values(config, set_only=set_only)]


class LoopbackRefusals:
    """The loopback addresses a run gives the function, and the tests that failed to connect."""

    def __init__(self, config: pytest.Config, pytest_args: Sequence[str], env: Mapping[str, str]) -> None:
        found = list(loopback_urls(run_places(config, pytest_args, env)))
        # A --lambda-env value may hold a secret, as the dry run knows: name the variable only.
        self.named = list(dict.fromkeys(where if where.startswith("--lambda-env") else f"{origin} ({where})" for origin, _, where in found))
        self._ports = {port for _, port, _ in found if port is not None}
        self.said = NamedAddresses(SECTION)

    @staticmethod
    def _refused(text: str, ports: set[int]) -> bool:
        if _CHROME_REFUSED in text:
            return True
        return _PYTHON_REFUSED in text and any(f"port={port}" in text or f":{port}" in text for port in ports)

    def explain(self, reports: list[pytest.TestReport]) -> None:
        """Add the section to each failed report that could not connect."""
        for report in reports:
            if not report.failed:
                continue
            text = report.longreprtext
            own = list(loopback_urls([("in the test's traceback", text)]))
            named = list(dict.fromkeys([*self.named, *(f"{origin} ({where})" for origin, _, where in own)]))
            if named and self._refused(text, self._ports | {port for _, port, _ in own if port is not None}):
                self.said.explain(report, named, f"the test could not connect, and {_why(named)}")

    def summary(self) -> list[str]:
        return self.said.summary("failed to connect", _why(self.said.seen))


def _why(named: list[str]) -> str:
    return (
        f"this machine's loopback is named: {listed(named, shown=3)}. In Lambda, localhost is the test's "
        "own execution environment, so a server running here cannot be reached from there. Give an address Lambda "
        "can reach (a staging or tunnel URL), or let the suite start the app itself (a session fixture)."
    )
