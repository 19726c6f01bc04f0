"""pytest-xdist's ``xdist_group`` under ``--dist loadgroup``: a group's tests never run at once.

Under ``-n N --dist loadgroup`` pytest-xdist sends every test of a group to one worker, one
after another; suites mark that way the tests that share an account, a database row or a
file. Under ``--lambda`` each test has an invocation of its own, and the scheduler keeps two
tests of a group from being in flight together (runner/scheduler.py). They need not land in
the same execution environment (Lambda routes each invocation), so the module and session
fixtures of a group's tests run wherever each test runs.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

#: Whether the run asked for ``--dist loadgroup`` (on the command line or in the addopts),
#: recorded before the plugin turns pytest-xdist's own distribution off.
loadgroup_key = pytest.StashKey[bool]()


def remember_dist(config: pytest.Config) -> None:
    config.stash[loadgroup_key] = getattr(config.option, "dist", "no") == "loadgroup"


def groups_of(config: pytest.Config, items: Mapping[str, pytest.Item]) -> dict[str, str]:
    """Node id -> group name, as pytest-xdist names them; empty unless ``--dist loadgroup``."""
    if not config.stash.get(loadgroup_key, False):
        return {}
    groups: dict[str, str] = {}
    for nodeid, item in items.items():
        mark = item.get_closest_marker("xdist_group")
        if mark is not None:
            groups[nodeid] = str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    return groups


def summary(groups: Mapping[str, str]) -> str | None:
    if not groups:
        return None
    names = len(set(groups.values()))
    return f"lambda: {len(groups)} test(s) in {names} xdist group(s) (--dist loadgroup): a group's tests run one at a time"
