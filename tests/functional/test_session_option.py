"""``--lambda-session`` and the ini ``lambda_session``: warm or per-test, refused otherwise (issue 16)."""

from __future__ import annotations

import pytest

from lambda_ui.runner.options import LambdaSettings


def test_a_bad_command_line_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a="def test_a(): pass\n")
    result = pytester.runpytest_subprocess("--lambda-session=cold")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--lambda-session: expected one of warm, per-test, got 'cold'*"])


@pytest.mark.parametrize(("ini", "cli", "expected"), [("", None, "warm"), ("per-test", None, "per-test"), ("per-test", "warm", "warm")])
def test_the_command_line_wins_over_the_ini_and_warm_is_the_default(pytester: pytest.Pytester, ini: str, cli: str | None, expected: str) -> None:
    pytester.makeini(f"[pytest]\nlambda_session = {ini}\n" if ini else "[pytest]\n")
    config = pytester.parseconfig("--lambda-function=f", *([f"--lambda-session={cli}"] if cli else []))
    assert LambdaSettings.from_config(config).session == expected


def test_a_bad_ini_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nlambda_session = cold\n")
    config = pytester.parseconfig("--lambda-function=f")
    with pytest.raises(pytest.UsageError, match="ini option lambda_session: expected one of warm, per-test"):
        LambdaSettings.from_config(config)
