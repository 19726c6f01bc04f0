"""A pytest plugin (``-p tests.support.dump_reports``) that writes every test report,
serialized by pytest's own hook, to the JSON file named by $DUMP_REPORTS_TO."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

_reports: list[dict[str, Any]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    config = _config[0]
    _reports.append(config.hook.pytest_report_to_serializable(config=config, report=report))


_config: list[pytest.Config] = []


def pytest_configure(config: pytest.Config) -> None:
    _config.append(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    with open(os.environ["DUMP_REPORTS_TO"], "w") as out:
        json.dump(_reports, out)
