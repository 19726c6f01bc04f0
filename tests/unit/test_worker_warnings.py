"""The function's side of a test's warnings: what travels back in the answer, and how much."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lambda_ui.contract import MAX_TEST_WARNINGS, MAX_WARNING_CHARS
from lambda_ui.function.worker import WorkerPlugin


def _worker(root: Path) -> WorkerPlugin:
    worker = WorkerPlugin(browsers=None, sink=None, destination="")  # type: ignore[arg-type]
    worker.config = SimpleNamespace(rootpath=root)  # type: ignore[assignment]
    return worker


def _record(worker: WorkerPlugin, message: str, filename: str, lineno: int = 2, when: str = "runtest", category: Any = DeprecationWarning) -> None:
    worker.pytest_warning_recorded(warnings.WarningMessage(category(message), category, filename, lineno), when)


def test_identical_warnings_travel_once_with_their_count_and_source_line(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("import x\n    old_api()  \n")
    worker = _worker(tmp_path)
    for _ in range(3):
        _record(worker, "old_api is deprecated", str(tmp_path / "test_a.py"))
    _record(worker, "from a library", "/var/lang/lib/python3.12/site-packages/lib.py", category=UserWarning)
    _record(worker, "seen at collection: the client collected too", str(tmp_path / "test_a.py"), when="collect")
    assert worker.test_warnings == [
        {"message": "old_api is deprecated", "category": "builtins.DeprecationWarning", "filename": "test_a.py", "lineno": 2, "line": "old_api()", "count": 3},
        {"message": "from a library", "category": "builtins.UserWarning", "filename": "/var/lang/lib/python3.12/site-packages/lib.py", "lineno": 2, "line": "", "count": 1},
    ]


def test_distinct_warnings_are_capped_counted_and_cut(tmp_path: Path) -> None:
    worker = _worker(tmp_path)
    for n in range(MAX_TEST_WARNINGS + 5):
        _record(worker, f"warning {n} " + "x" * MAX_WARNING_CHARS, "t.py", lineno=n)
    assert len(worker.test_warnings) == MAX_TEST_WARNINGS and worker.warnings_dropped == 5
    assert all(len(w["message"]) == MAX_WARNING_CHARS for w in worker.test_warnings)
    worker.begin()  # a warm session's next invocation starts empty
    assert worker.test_warnings == [] and worker.warnings_dropped == 0
