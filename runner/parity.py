"""What a ``--lambda`` run cannot do as a local run does, said before it starts.

Each test runs in an invocation of its own, in another process on another machine. Two
plugins real suites use read what that process cannot see:

* pytest-dependency skips a test whose ``depends=`` names a test it has not seen pass in
  this pytest session; the other test ran in another invocation (or, in a warm session,
  maybe earlier in the same environment), so a test a local run runs may be skipped.
  pytest-xdist has the same limit across workers.
* pytest-order sorts the collected tests; the dispatch runs them all at once, longest first,
  so a test that needs an earlier one to have run (a user it created in the app) is left to
  timing.
* pytest-cov measures the process it runs in: here, only what collection imported. Its
  report and ``--cov-fail-under`` would judge a run whose tests executed elsewhere.
* A URL of this machine's loopback (``--base-url http://localhost:8000``, an ini value, a
  ``--lambda-env`` value) names, in Lambda, the test's own execution environment: a server
  CI started here is out of reach, and every test that opens it fails to connect.

The run goes on; the user is told what differs and what to do.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence

import pytest

from lambda_ui.runner.terminal import listed

#: pytest-dependency's plugin name (its pytest11 entry point) and marker.
DEPENDENCY_PLUGIN = "dependency"
DEPENDENCY_MARK = "dependency"
#: pytest-order's plugin name (its pytest11 entry point) and marker.
ORDER_PLUGIN = "pytest_order"
ORDER_MARK = "order"
#: The name pytest-cov registers its measuring plugin under when ``--cov`` is given.
COVERAGE_PLUGIN = "_cov"


def dependent_tests(config: pytest.Config, items: Mapping[str, pytest.Item]) -> list[str]:
    """Node ids of the tests whose ``dependency`` mark names tests they depend on."""
    if not config.pluginmanager.hasplugin(DEPENDENCY_PLUGIN):
        return []  # without the plugin the mark is inert: the test runs here and there alike
    return [nodeid for nodeid, item in items.items() if any(mark.kwargs.get("depends") for mark in item.iter_markers(DEPENDENCY_MARK))]


def dependency_warning(nodeids: list[str]) -> str:
    return (
        f"{len(nodeids)} test(s) depend on other tests (pytest-dependency's depends=): {listed(nodeids, shown=1)}. "
        "Each test runs in an invocation of its own, where pytest-dependency does not see the other "
        "test's outcome, so they may be skipped ('depends on ...') where a local run runs them. "
        "Run them without --lambda (e.g. pytest -m dependency), or make each test set up what it needs."
    )


def ordered_tests(config: pytest.Config, items: Mapping[str, pytest.Item]) -> list[str]:
    """Node ids of the tests pytest-order places (an ``order`` mark, with the plugin active)."""
    if not config.pluginmanager.hasplugin(ORDER_PLUGIN):
        return []
    return [nodeid for nodeid, item in items.items() if item.get_closest_marker(ORDER_MARK) is not None]


def order_warning(nodeids: list[str]) -> str:
    return (
        f"{len(nodeids)} test(s) carry pytest-order marks (first: {nodeids[0]}). --lambda runs every "
        "test at once, longest first, in no collected order: a test that needs an earlier one to have "
        "run passes or fails by timing. Run them without --lambda, or make each test set up what it needs."
    )


def measures_this_process(config: pytest.Config) -> bool:
    """pytest-cov measures coverage here (``--cov`` given, ``--no-cov`` not)."""
    return config.pluginmanager.get_plugin(COVERAGE_PLUGIN) is not None and not config.getoption("no_cov", False)


COVERAGE_WARNING = (
    "--cov (pytest-cov) measures this process, where the tests are only collected; they run in "
    "Lambda, so its report (and --cov-fail-under) covers what collection imported here, not what "
    "the tests ran. Measure coverage with a local run, or add --no-cov to --lambda runs."
)


#: A URL in an argument or a setting: scheme, then up to the next space or quote.
_URL = re.compile(r"\b(?:https?|wss?)://[^\s'\"<>]+", re.IGNORECASE)


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


def loopback_urls(places: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str]]:
    """``(origin, where)`` for each URL of a loopback host in ``(where, text)`` pairs.

    The origin only (``http://localhost:8000``): a path or a user and password stay unsaid."""
    for where, text in places:
        for match in _URL.finditer(text):
            try:
                url = urllib.parse.urlsplit(match.group())
                host, port = url.hostname, url.port
            except ValueError:
                continue  # not a URL after all ("http://[oops", a port of letters)
            if is_loopback_host(host):
                shown = f"[{host}]" if host and ":" in host else host
                yield f"{url.scheme}://{shown}{f':{port}' if port else ''}", where


def _ini_values(config: pytest.Config) -> Iterator[tuple[str, str]]:
    # pytest names its registered ini keys nowhere public; the parser's table holds them.
    for name in getattr(config._parser, "_inidict", {}):
        try:
            value = config.getini(name)
        except Exception:
            continue
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                yield f"ini {name}", text


def loopback_warning(found: Sequence[tuple[str, str]]) -> str:
    # A --lambda-env value may hold a secret: name the variable, never its value.
    named = listed(list(dict.fromkeys(where if where.startswith("--lambda-env") else f"{url} ({where})" for url, where in found)), shown=3)
    return (
        f"the run names this machine's loopback: {named}. In Lambda, localhost is the test's own execution "
        "environment, so a server running here cannot be reached from there and tests that open it fail to "
        "connect. Give an address Lambda can reach (a staging or tunnel URL), or let the suite start the app "
        "itself (a session fixture) so it runs beside the tests."
    )


def warnings_before_run(
    config: pytest.Config, items: Mapping[str, pytest.Item], pytest_args: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> list[str]:
    """What to tell the user before the dispatch; ``pytest_args`` and ``env`` are what the function gets."""
    found = []
    places = [("command line", arg) for arg in pytest_args]
    places += [(f"--lambda-env {name}", value) for name, value in (env or {}).items()]  # named, not shown
    if urls := list(loopback_urls([*places, *_ini_values(config)])):
        found.append(loopback_warning(urls))
    if dependent := dependent_tests(config, items):
        found.append(dependency_warning(dependent))
    if ordered := ordered_tests(config, items):
        found.append(order_warning(ordered))
    if measures_this_process(config):
        found.append(COVERAGE_WARNING)
    return found
