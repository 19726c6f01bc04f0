"""The line a pytest-rerunfailures attempt's JUnit entry records: why it was run again."""

from __future__ import annotations

import pytest

from lambda_ui.runner.run import rerun_reason


def _report(when: str, longrepr: object) -> pytest.TestReport:
    return pytest.TestReport("t.py::test_a", ("t.py", 1, "test_a"), {}, "failed", longrepr, when)  # type: ignore[arg-type]


def test_the_exception_line_of_a_call_and_the_phase_of_an_error() -> None:
    class Crash:
        message = "AssertionError: cart shows 2\nassert 2 == 3"

    class Longrepr:
        reprcrash = Crash()

        def __str__(self) -> str:
            return "the whole traceback"

    assert rerun_reason(_report("call", Longrepr())) == "AssertionError: cart shows 2"
    assert rerun_reason(_report("setup", Longrepr())) == "error in setup: AssertionError: cart shows 2"


def test_a_failure_given_as_text_gives_its_last_line_and_nothing_gives_a_word() -> None:
    assert rerun_reason(_report("call", "Traceback ...\nE   TimeoutError: page never loaded\n")) == "E   TimeoutError: page never loaded"
    assert rerun_reason(_report("call", None)) == "failed"
    assert len(rerun_reason(_report("call", "x" * 5000))) == 500
