"""Tests that read other tests' outcomes in the same process, which ``--lambda`` cannot give them.

pytest-dependency skips a test whose ``depends=`` names a test it has not seen pass in this
pytest session. Each test runs in an invocation of its own, so the test it depends on ran in
another invocation (or, in a warm session, maybe earlier in the same environment): a test that
runs locally is skipped in Lambda, or not, by where its dependency happened to run. pytest-xdist
has the same limit across workers. The run goes on; the user is told before it starts.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

#: pytest-dependency's plugin name (its pytest11 entry point) and marker.
DEPENDENCY_PLUGIN = "dependency"
DEPENDENCY_MARK = "dependency"


def dependent_tests(config: pytest.Config, items: Mapping[str, pytest.Item]) -> list[str]:
    """Node ids of the tests whose ``dependency`` mark names tests they depend on."""
    if not config.pluginmanager.hasplugin(DEPENDENCY_PLUGIN):
        return []  # without the plugin the mark is inert: the test runs here and there alike
    return [nodeid for nodeid, item in items.items() if any(mark.kwargs.get("depends") for mark in item.iter_markers(DEPENDENCY_MARK))]


def dependency_warning(nodeids: list[str]) -> str | None:
    """The start-up warning for ``nodeids`` (None when there are none)."""
    if not nodeids:
        return None
    first = nodeids[0] + (f" and {len(nodeids) - 1} more" if len(nodeids) > 1 else "")
    return (
        f"{len(nodeids)} test(s) depend on other tests (pytest-dependency's depends=): {first}. "
        "Each test runs in an invocation of its own, where pytest-dependency does not see the other "
        "test's outcome, so they may be skipped ('depends on ...') where a local run runs them. "
        "Run them without --lambda (e.g. pytest -m dependency), or make each test set up what it needs."
    )
