"""``pytest --lambda`` repeats the local Lambda's runtime warning: the function's info answer
says which runtime it is deployed with (AWS_EXECUTION_ENV) and which Python answered."""

from __future__ import annotations

import pytest

from stand_ins.fake_invoke_api import FakeInvokeApi


def _run(pytester: pytest.Pytester, bucket: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite="def test_ok(): pass\n")
    return pytester.runpytest_subprocess("--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs")


def test_a_function_on_another_python_than_its_runtime_is_named_at_start_up(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    fake_lambda.state.info_facts = {"execution_env": "AWS_Lambda_python3.12", "python_version": "3.11.7"}
    result = _run(pytester, bucket)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "lambda: WARNING: the function's runtime is python3.12 but it runs Python 3.11.7: "
        "a local Lambda on another interpreter? (lambda-ui local-lambda --python picks one)",
    ])


def test_a_function_on_its_own_runtime_gets_no_warning(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    fake_lambda.state.info_facts = {"execution_env": "AWS_Lambda_python3.12", "python_version": "3.12.4"}
    result = _run(pytester, bucket)
    result.assert_outcomes(passed=1)
    assert "runtime is python3.12" not in result.stdout.str()
