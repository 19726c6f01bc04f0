"""The HTML report's pure parts: formatted facts, file groups, environment rows, history."""

from __future__ import annotations

from pathlib import Path

from lambda_ui.runner import junit_contract as junit
from lambda_ui.runner.reports import history, html_parts, timeline
from lambda_ui.runner.reports.model import Case, Outcome, Report
from lambda_ui.runner.run_environment import environment_facts, git_commit


def _case(nodeid: str, outcome: Outcome = Outcome.PASSED, seconds: float = 1.0, index: int = 0, **props: str) -> Case:
    return Case("c", nodeid.rpartition("::")[2], seconds, outcome, index, properties=[(junit.NODEID, nodeid), *props.items()])


def test_money_and_counts_read_as_a_person_writes_them() -> None:
    assert html_parts.format_usd(5.233e-05) == "$0.000052"
    assert html_parts.format_usd(0.0123) == "$0.0123"
    assert html_parts.format_usd(12.5) == "$12.50"
    assert html_parts.format_usd(0) == "$0"
    assert html_parts.format_count(1564.0, "ms") == "1,564 ms"


def test_lambda_facts_are_words_not_raw_properties() -> None:
    props = {
        junit.COLD: "False", junit.BILLED_MS: "1564.0", junit.INIT_MS: "312.4", junit.COST_USD: "5.233e-05",
        junit.MAX_MEMORY_MB: "2134.0", junit.MEMORY_MB: "2048", junit.ATTEMPTS: "2",
    }
    bits = html_parts.fact_bits(props)
    assert bits == [
        "2 invocations", "warm start", "billed 1,564 ms", "init 312 ms",
        "memory 2,134 MB of 2,048 MB (at the limit: out-of-memory risk)", "cost $0.000052",
    ]
    assert html_parts.fact_bits({junit.COLD: "True", junit.ATTEMPTS: "1"}) == ["cold start"]


def test_tests_group_by_file_with_counts() -> None:
    cases = [
        _case("b/test_y.py::test_1", index=0),
        _case("a/test_x.py::test_2", Outcome.FAILED, 2.5, index=1),
        _case("a/test_x.py::C::test_3[p]", index=2),
    ]
    groups = html_parts.group_by_file(cases)
    assert [(g.path, [c.index for c in g.cases]) for g in groups] == [("a/test_x.py", [1, 2]), ("b/test_y.py", [0])]
    assert html_parts.counts_text(groups[0].counts()) == "2 tests: 1 failed, 1 passed"
    assert groups[0].seconds == 3.5 and groups[0].worst == html_parts.RANK[Outcome.FAILED]


def test_environment_rows_come_from_the_suite_properties() -> None:
    run = {junit.RUN_ID: "r1", junit.FUNCTION: "ui", junit.REGION: "eu-west-1", junit.PYTHON_VERSION: "3.11.2", junit.GIT_COMMIT: "abc"}
    report = Report(["r.xml"], run, [_case("t.py::a", **{junit.CHROME_VERSION: "126.0"})])
    rows = dict(html_parts.environment_rows(report))
    assert rows == {"run id": "r1", "function": "ui", "region": "eu-west-1", "Chrome": "126.0", "Python": "3.11.2", "git commit": "abc"}
    assert "&lt;b&gt;" in html_parts.environment(Report(["r.xml"], {junit.RUN_ID: "<b>"}, []))


def test_history_pass_rate_flaky_and_trend() -> None:
    def report(*cases: Case) -> Report:
        return Report(["r.xml"], {}, list(cases))

    old = report(_case("t.py::a", Outcome.PASSED, 1.0), _case("t.py::b", Outcome.PASSED, 1.0), _case("t.py::gone"))
    mid = report(_case("t.py::a", Outcome.FAILED, 1.0), _case("t.py::b", Outcome.SKIPPED, 1.0))
    new = report(_case("t.py::a", Outcome.PASSED, 2.0), _case("t.py::b", Outcome.PASSED, 1.0), _case("t.py::new", Outcome.FAILED))
    entries = {e.nodeid: e for e in history.build([old, mid, new])}
    assert set(entries) == {"t.py::a", "t.py::b", "t.py::new"}  # the current report's tests only
    a, b, fresh = entries["t.py::a"], entries["t.py::b"], entries["t.py::new"]
    assert (a.passes, a.runs, a.flaky) == (2, 3, True)
    assert (b.passes, b.runs, b.flaky) == (2, 2, False)  # a skip is not a run
    assert fresh.outcomes == [None, None, Outcome.FAILED] and not fresh.flaky and fresh.pass_rate == 0.0
    assert html_parts.pass_rate_text(a) == "67% (2 of 3)"
    assert history.trend(a.durations) == "slower" and history.trend(b.durations) == "steady"
    assert history.trend([2.0, 1.0]) == "faster"
    panel = html_parts.history_panel([old, mid, new])
    assert panel.index("t.py::a") < panel.index("t.py::b")  # flaky first
    assert html_parts.history_panel([new]) == ""


def test_history_counts_a_rerun_flaky_pass_as_flaky() -> None:
    marked = _case("t.py::a", Outcome.PASSED, **{junit.FLAKY: "true"})
    entry = history.build([Report(["o.xml"], {}, [_case("t.py::a")]), Report(["n.xml"], {}, [marked])])[0]
    assert entry.flaky and entry.pass_rate == 1.0


def test_timeline_bars_get_the_test_name_when_it_fits() -> None:
    assert timeline.label("tests/test_x.py::test_checkout", 400, 14) == "test_checkout"
    assert timeline.label("tests/test_x.py::test_checkout_with_a_long_name", 60, 14).endswith("…")
    assert timeline.label("tests/test_x.py::test_checkout", 20, 14) == ""
    svg = timeline.render([_case("t.py::test_a", index=0, **{junit.RUN_OFFSET_S: "0", junit.WALL_S: "1"})])
    assert '<text class="label"' in svg and ">test_a</text>" in svg


def test_git_commit_is_read_from_the_checkout_without_git(tmp_path: Path) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    (tmp_path / ".git" / "refs" / "heads").mkdir(parents=True)
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".git" / "refs" / "heads" / "main").write_text(sha + "\n")
    (tmp_path / "sub").mkdir()
    facts = environment_facts(tmp_path / "sub", environ={"AWS_REGION": "eu-west-1"})
    assert facts[junit.GIT_COMMIT] == sha and facts[junit.REGION] == "eu-west-1"
    assert facts[junit.PYTHON_VERSION] and facts[junit.PYTEST_VERSION]
    (tmp_path / ".git" / "refs" / "heads" / "main").unlink()
    (tmp_path / ".git" / "packed-refs").write_text(f"# pack-refs\n{sha} refs/heads/main\n")
    assert git_commit(tmp_path) == sha
