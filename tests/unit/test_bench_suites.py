"""The benchmark suites (bench/suites.py): what they ship to the function, and how results are read."""

from __future__ import annotations

import configparser
from pathlib import Path

from bench.suites import junit_cases, junit_suite_properties, write_latency_suite, write_slow_start_suite
from lambda_ui.runner.bundle import BundleRules, select


def _bundle_of(root: Path, needed: list[str]) -> set[str]:
    """The --lambda bundle of a suite outside git, as the client selects it from its pytest.ini."""
    ini = configparser.ConfigParser()
    ini.read(root / "pytest.ini")
    include = tuple(line for line in ini["pytest"]["lambda_bundle_include"].splitlines() if line.strip())
    rules = BundleRules(include=include, needed=tuple(str(root / rel) for rel in needed))
    return set(select(root, rules).files)


def test_the_latency_suite_ships_the_app_pages_collection_does_not_import(tmp_path: Path) -> None:
    # Outside git only what collection imported ships: the app's templates and static files
    # must come from the ini's include, or every page in the function answers 500.
    seconds = write_latency_suite(tmp_path, 10)
    files = _bundle_of(tmp_path, ["conftest.py", "test_latency.py", "app/__init__.py"])
    assert {"app/templates/slow.html", "app/static/slow.js", "app/routes.py", "conftest.py", "test_latency.py"} <= files
    assert len(seconds) == 10 and set(seconds) <= {2, 3, 4, 5}
    assert sum(seconds) / len(seconds) >= 3  # the suite waits on the app, mostly


def test_the_slow_start_suite_ships_its_app_too(tmp_path: Path) -> None:
    write_slow_start_suite(tmp_path, 3, start_s=1.0)
    files = _bundle_of(tmp_path, ["conftest.py", "conftest_app.py", "test_app.py"])
    assert {"app/templates/home.html", "app/server.py", "conftest_app.py"} <= files
    assert "START_SECONDS = 1.0" in (tmp_path / "conftest.py").read_text()


def test_junit_cases_read_node_ids_times_and_run_properties(tmp_path: Path) -> None:
    junit = tmp_path / "r.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest"><properties><property name="run_wall_s" value="9.5"/>'
        '<property name="lambda_billed_gb_s" value="1.25"/></properties>'
        '<testcase classname="test_latency" name="test_x[00-5s]" time="5.75"><properties>'
        '<property name="nodeid" value="test_latency.py::test_x[00-5s]"/></properties></testcase>'
        '<testcase classname="t" name="test_y" time="0.5"/></testsuite></testsuites>'
    )
    cases = junit_cases(junit)
    assert [(c.nodeid, c.time_s) for c in cases] == [("test_latency.py::test_x[00-5s]", 5.75), ("t::test_y", 0.5)]
    assert junit_suite_properties(junit) == {"run_wall_s": "9.5", "lambda_billed_gb_s": "1.25"}
