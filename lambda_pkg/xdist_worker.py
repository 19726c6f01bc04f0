"""Each execution environment is a pytest-xdist worker to the suite it runs.

Under ``pytest -n N`` a test can tell which worker runs it (the ``worker_id``
fixture, ``PYTEST_XDIST_WORKER``): suites name a database, an account or a port
after it, so that tests running at the same time never share one. Under
``--lambda`` the tests running at the same time are in different execution
environments, so each environment is a worker: ``gw`` and a number of its own
(from its random 48-bit id: environments come and go, and no two that run at
once share one), the run's concurrency as the worker count and the run id as the
test run's id. They are set as pytest-xdist's variables, and as its fixtures
(registered late, so they win over pytest-xdist's "master" where the image has
it, and lose to a suite's own conftest fixture as any plugin's do). Its pytest
temporary folder lies in one of the run, as a worker's lies in the controller's:
pytest-xdist's recipe for work done once per run keeps its result beside it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

import pytest

from lambda_ui.function.health import run_folder

WORKER = "PYTEST_XDIST_WORKER"
WORKER_COUNT = "PYTEST_XDIST_WORKER_COUNT"
TESTRUN_UID = "PYTEST_XDIST_TESTRUNUID"


def worker_id_of(environment_id: str) -> str:
    """``gw`` and a number, as pytest-xdist names its workers: suites parse the number."""
    return f"gw{int(environment_id, 16)}"


def export(environ: MutableMapping[str, str], worker: str, workers: int, run_id: str) -> None:
    """Set the variables pytest-xdist sets in each of its workers."""
    environ[WORKER] = worker
    environ[WORKER_COUNT] = str(workers)
    environ[TESTRUN_UID] = run_id


def basetemp(root: Path, run_id: str, worker: str) -> Path:
    """The ``--basetemp`` of this worker's sessions: ``root/<run id>/<worker>``.

    The recipe (a file in ``getbasetemp().parent`` under a lock) then shares its result
    among this run's sessions here and never hands it to another run, as pytest's own
    ``pytest-of-<user>`` folder would in a warm environment. Earlier runs' folders go:
    their sessions have ended (a new run replaces a warm session).
    """
    return run_folder(root, run_id) / worker


def register(config: pytest.Config) -> None:
    """Make this module's fixtures the session's, after every installed plugin's."""
    module = sys.modules[__name__]
    if not config.pluginmanager.is_registered(module):
        config.pluginmanager.register(module, "lambda-ui-xdist-worker")
    if not config.pluginmanager.hasplugin("xdist"):
        # The client has pytest-xdist, the image need not: a suite's --dist loadgroup marks
        # would fail collection here under --strict-markers.
        config.addinivalue_line("markers", "xdist_group(name): pytest-xdist's group, for --dist loadgroup on the client")


@pytest.fixture(scope="session")
def worker_id() -> str:
    """This environment's worker id, as pytest-xdist's fixture gives a worker's."""
    return os.environ.get(WORKER, "master")


@pytest.fixture(scope="session")
def testrun_uid() -> str:
    """The run id: the same for every test of one run, as in all workers of one ``pytest -n`` run."""
    return os.environ.get(TESTRUN_UID, "")
