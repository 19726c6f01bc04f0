"""What a ``--lambda`` run cannot do as a local run does, said before it starts.

Each test runs in an invocation of its own, in another process on another machine. What
real suites use that reads what that process cannot see, or sees otherwise:

* pytest-dependency skips a test whose ``depends=`` names a test it has not seen pass in
  this pytest session; the other test ran in another invocation (or, in a warm session,
  maybe earlier in the same environment), so a test a local run runs may be skipped.
  pytest-xdist has the same limit across workers.
* pytest-order sorts the collected tests; the dispatch runs them all at once, longest first,
  so a test that needs an earlier one to have run (a user it created in the app) is left to
  timing.
* pytest-cov measures the process it runs in: here, only what collection imported. Its
  report and ``--cov-fail-under`` would judge a run whose tests executed elsewhere.
* A conftest that tells pytest-xdist's workers from its controller by ``config.workerinput``
  (or xdist's ``is_xdist_worker()``) keeps work for the controller: creating a TestRail run,
  posting to Slack. The function's sessions carry no ``workerinput`` (pytest-rerunfailures and
  pytest-cov would take them for xdist workers and wait for a controller), so that work runs
  in every session there as well as here. ``PYTEST_XDIST_WORKER`` tells them apart.

The run goes on; the user is told what differs and what to do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pytest

from lambda_ui.runner.conftests import loaded_conftests
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


#: What a conftest reads to tell pytest-xdist's workers from its controller.
_XDIST_ROLE = re.compile(r"\bworkerinput\b|\bis_xdist_(?:worker|controller|master)\b|\bget_xdist_worker_id\b")


def xdist_role_checks(config: pytest.Config) -> list[str]:
    """Rootdir-relative paths of the suite's conftests that tell xdist's workers from its controller."""
    rootdir = Path(str(config.rootpath))
    found = []
    for plugin in loaded_conftests(config.pluginmanager):
        path = Path(str(plugin.__file__))
        if not path.is_relative_to(rootdir):
            continue
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        if _XDIST_ROLE.search(text):
            found.append(path.relative_to(rootdir).as_posix())
    return sorted(found)


def xdist_role_warning(paths: list[str]) -> str:
    return (
        f"{listed(paths, shown=2)} {'tells' if len(paths) == 1 else 'tell'} pytest-xdist's workers from its controller by config.workerinput "
        "(or xdist's is_xdist_worker()): the function's pytest sessions do not look like workers to that "
        "check, so what it keeps for the controller (creating a TestRail run, posting to Slack) runs in every "
        "session there as well as once here. Check os.environ.get('PYTEST_XDIST_WORKER') instead: set in the "
        "function, as on xdist's workers, and unset here."
    )


def warnings_before_run(config: pytest.Config, items: Mapping[str, pytest.Item]) -> list[str]:
    found = []
    if role_checks := xdist_role_checks(config):
        found.append(xdist_role_warning(role_checks))
    if dependent := dependent_tests(config, items):
        found.append(dependency_warning(dependent))
    if ordered := ordered_tests(config, items):
        found.append(order_warning(ordered))
    if measures_this_process(config):
        found.append(COVERAGE_WARNING)
    return found
