"""The execution environment as a pytest-xdist worker (lambda_pkg/xdist_worker.py)."""

from __future__ import annotations

from pathlib import Path

from lambda_ui.function.xdist_worker import basetemp, export, worker_id_of


def test_worker_ids_are_xdist_shaped_and_differ_per_environment() -> None:
    assert worker_id_of("00000000002a") == "gw42"
    assert worker_id_of("ffffffffffff") == f"gw{2**48 - 1}"
    assert len({worker_id_of(f"{n:012x}") for n in range(1000)}) == 1000


def test_the_variables_are_the_ones_xdist_sets() -> None:
    environ: dict[str, str] = {}
    export(environ, "gw7", 64, "20261202-1")
    assert environ == {"PYTEST_XDIST_WORKER": "gw7", "PYTEST_XDIST_WORKER_COUNT": "64", "PYTEST_XDIST_TESTRUNUID": "20261202-1"}


def test_basetemp_lies_in_a_folder_of_the_run_and_earlier_runs_go(tmp_path: Path) -> None:
    root = tmp_path / "pytest-tmp"
    (root / "run-a" / "gw1").mkdir(parents=True)
    (root / "run-a" / "catalog.json").write_text("{}")
    (root / "run-b" / "gw1").mkdir(parents=True)
    (root / "run-b" / "catalog.json").write_text("{}")
    # pytest makes the basetemp itself (and empties it); its parent must exist.
    assert basetemp(root, "run-b", "gw1") == root / "run-b" / "gw1"
    assert sorted(p.name for p in root.iterdir()) == ["run-b"] and (root / "run-b" / "catalog.json").is_file()
    assert basetemp(root, "run-c", "gw1") == root / "run-c" / "gw1"
    assert [p.name for p in root.iterdir()] == ["run-c"] and not (root / "run-c" / "gw1").exists()
