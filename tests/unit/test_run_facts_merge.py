"""Issue 17: run facts that say what happened, the merged wall as a union, attempt folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambda_ui.runner.artifacts.paths import attempt_folder
from lambda_ui.runner.artifacts.recorder import Artifacts
from lambda_ui.runner.lambda_facts import answer_properties, memory_line, run_facts_line
from lambda_ui.runner.reports.merge import merge_files, union_seconds
from lambda_ui.runner.reports.model import from_root
from lambda_ui.runner.reports.summary import run_facts


def test_union_counts_overlaps_once_and_gaps_not_at_all() -> None:
    assert union_seconds([(0.0, 1.6), (0.5, 6.7)]) == pytest.approx(6.7)
    assert union_seconds([(0.0, 1.6), (2.5, 8.7)]) == pytest.approx(1.6 + 6.2)
    assert union_seconds([(1.0, 2.0), (0.0, 3.0), (2.5, 4.0)]) == 4.0
    assert union_seconds([]) == 0.0


def _report(path: Path, stamp: str, wall: float, name: str) -> str:
    path.write_text(
        f'<testsuites><testsuite name="pytest" tests="1" time="{wall}" timestamp="{stamp}">'
        f'<properties><property name="run_wall_s" value="{wall}"/><property name="lambda_concurrency" value="8"/>'
        f'<property name="lambda_peak_concurrency" value="3"/></properties>'
        f'<testcase classname="t" name="{name}" time="0.1"/></testsuite></testsuites>'
    )
    return str(path)


def test_merged_wall_is_the_union_of_overlapping_shards_and_says_so(tmp_path: Path) -> None:
    a = _report(tmp_path / "a.xml", "2026-01-01T10:00:00.000+00:00", 1.6, "test_a")
    b = _report(tmp_path / "b.xml", "2026-01-01T10:00:00.500+00:00", 6.2, "test_b")  # overlaps a
    c = _report(tmp_path / "c.xml", "2026-01-01T10:00:08.000+00:00", 1.0, "test_c")  # after a gap
    merged = merge_files([a, b, c], 10_000_000)
    out = tmp_path / "m.xml"
    merged.xml.write(str(out))
    from xml.etree import ElementTree as ET

    report = from_root(ET.parse(out).getroot(), [str(out)])
    assert report.wall_s == pytest.approx(7.7)  # 6.7 of a and b, 1.0 of c; not the 9.0 span, nor the 8.8 sum
    facts = run_facts(report)
    assert "wall 7.70 s (union of 3 run intervals)" in facts, facts
    assert "concurrency 8, 3 at peak" in facts, facts


def test_the_run_line_names_the_window_only_when_throttles_lowered_it() -> None:
    calm = run_facts_line(52, "fn", 61.0, 3, 3, 0, 3.0, 0, 0)
    assert "concurrency 3 configured, 3 at peak" in calm and "window" not in calm
    stormy = run_facts_line(52, "fn", 61.0, 8, 8, 14, 2.0, 0, 0)
    assert "(throttling lowered the window to 2)" in stormy and "14 throttled" in stormy


def test_memory_at_the_limit_is_flagged() -> None:
    assert ("lambda_memory_at_limit", "true") in answer_properties({}, {"memory_mb": 2048.0, "max_memory_mb": 2134.0})
    assert ("lambda_memory_at_limit", "true") not in answer_properties({}, {"memory_mb": 2048.0, "max_memory_mb": 2047.0})
    assert memory_line([], 2048) == ""
    assert "2 test(s) used all of the function's 2048 MB" in memory_line(["a", "b"], 2048)


class _Sink:
    def __init__(self) -> None:
        self.paths: list[str] = []

    def put(self, relpath: str, data: bytes, content_type: str, on_error: object) -> str:
        self.paths.append(relpath)
        return relpath


def test_a_later_attempt_writes_under_its_own_folder() -> None:
    assert attempt_folder("r", "t.py::test_a") == "r/t.py/test_a"
    assert attempt_folder("r", "t.py::test_a", 2) == "r/t.py/test_a/attempt-2"
    sink = _Sink()
    Artifacts(sink, "r", "t.py::test_a", attempt=1).save("failure-screenshot.png", b"1")  # type: ignore[arg-type]
    Artifacts(sink, "r", "t.py::test_a", attempt=2).save("failure-screenshot.png", b"2")  # type: ignore[arg-type]
    assert sink.paths == ["r/t.py/test_a/failure-screenshot.png", "r/t.py/test_a/attempt-2/failure-screenshot.png"]
