"""Option values a typo (or a hostile CI variable) can produce: each is a usage error, exit 4."""

from __future__ import annotations

import argparse

import pytest

from lambda_ui.runner.argtypes import (
    bundle_mb,
    check_run_id,
    non_negative_int,
    positive_float,
    positive_int,
    positive_seconds,
)
from lambda_ui.runner.chrome import parse_window_size
from lambda_ui.runner.options import LambdaSettings, Settings

NOT_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "1e999"]


@pytest.mark.parametrize("parse", [positive_float, positive_seconds, bundle_mb], ids=["float", "seconds", "mb"])
@pytest.mark.parametrize("text", NOT_FINITE)
def test_floats_must_be_finite(parse: object, text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=f"got '{text}', which is not a finite number"):
        parse(text)  # type: ignore[operator]


@pytest.mark.parametrize("parse", [positive_int, non_negative_int])
@pytest.mark.parametrize("text", ["nan", "inf", "1.0", "1e3", "", "9" * 5000])
def test_whole_numbers_are_whole(parse: object, text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected a whole number"):
        parse(text)  # type: ignore[operator]


def test_bounds_say_what_is_expected() -> None:
    assert positive_seconds("0.5") == 0.5 and bundle_mb("10240") == 10240.0 and positive_int("3") == 3
    with pytest.raises(argparse.ArgumentTypeError, match="must be more than 0, got 0"):
        positive_seconds("0")
    with pytest.raises(argparse.ArgumentTypeError, match="must be at most 604800, got 1e300"):
        positive_seconds("1e300")
    with pytest.raises(argparse.ArgumentTypeError, match="must be at most 10240, got 20000"):
        bundle_mb("20000")


@pytest.mark.parametrize("text", ["../../../X", "..", ".", "a/b", "/abs", "", "x" * 129, "r1\n", "r 1", "ü"])
def test_run_ids_are_folder_names(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="expected 1-128 letters, digits"):
        check_run_id(text)


def test_ordinary_run_ids_pass() -> None:
    for text in ("20261127-144033-3fa9c1", "nightly.7", "a_b-c", "x" * 128, "..."):
        assert check_run_id(text) == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("100000x100000", "too large"),
        ("7681x100", "too large"),
        ("7680x4321", "too large"),
        ("99x900", "too small"),
        ("1280x900x2", "must look like"),
        ("1e3x900", "must look like"),
        ("-1280x900", "must look like"),
        ("1" * 5000 + "x900", "must look like"),
    ],
)
def test_window_sizes_are_bounded(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_window_size(text)


def test_window_sizes_up_to_8k_either_way_pass() -> None:
    assert parse_window_size("7680x4320") == (7680, 4320)
    assert parse_window_size("4320X7680") == (4320, 7680)
    assert parse_window_size(" 1280 x 900 ") == (1280, 900)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--lambda-max-bundle-mb", "nan"], "argument --lambda-max-bundle-mb: expected a size in MB, got 'nan', which is not a finite number"),
        (["--lambda-read-timeout", "nan"], "argument --lambda-read-timeout: expected a number of seconds, got 'nan', which is not a finite number"),
        (["--lambda-price-gb-s", "nan"], "argument --lambda-price-gb-s: expected a number, got 'nan', which is not a finite number"),
        (["--lambda-deadline", "nan"], "argument --lambda-deadline: expected a number of seconds, got 'nan', which is not a finite number"),
        (["--lambda-deadline", "inf"], "argument --lambda-deadline: expected a number of seconds, got 'inf', which is not a finite number"),
        (["--lambda-throttle-budget=-inf"], "argument --lambda-throttle-budget: expected a number of seconds, got '-inf', which is not a finite number"),
        (["--lambda-concurrency", "nan"], "argument --lambda-concurrency: expected a whole number, got 'nan'"),
        (["--run-id", "../../../X"], "argument --run-id: expected 1-128 letters, digits"),
        (["--window-size", "100000x100000"], "argument --window-size: window size '100000x100000' is too large"),
    ],
)
def test_bad_values_are_usage_errors(pytester: pytest.Pytester, args: list[str], says: str) -> None:
    pytester.makepyfile("def test_never_runs():\n    raise AssertionError\n")
    result = pytester.runpytest_inprocess(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert says in result.stderr.str(), result.stderr.str()
    assert not (pytester.path / "artifacts").exists() and not (pytester.path.parent / "X").exists()


def test_ini_window_size_is_bounded_too(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nwindow_size = 100000x100000\n")
    config = pytester.parseconfig()
    with pytest.raises(pytest.UsageError, match="lambda-ui ini option: window size '100000x100000' is too large"):
        Settings.from_config(config)


@pytest.mark.parametrize("name", ["lambda_concurrency", "lambda_retries", "lambda_reruns", "lambda_breaker"])
@pytest.mark.parametrize("value", ["nan", "inf", "2.5"])
def test_ini_numbers_refuse_what_is_not_a_number(pytester: pytest.Pytester, name: str, value: str) -> None:
    pytester.makeini(f"[pytest]\n{name} = {value}\n")
    config = pytester.parseconfig("--lambda", "--lambda-function", "f")
    with pytest.raises(pytest.UsageError, match=f"ini option {name}: expected a whole number, got '{value}'"):
        LambdaSettings.from_config(config)


@pytest.mark.parametrize("extra", ["-vx", "-x", "--maxfail=2", "-nauto", "--junitxml=r.xml"])
def test_client_owned_options_in_lambda_pytest_args_stop_at_start(pytester: pytest.Pytester, extra: str) -> None:
    """The function would refuse every event carrying them: one usage error instead."""
    config = pytester.parseconfig("--lambda", "--lambda-function", "f", f"--lambda-pytest-args={extra} --tb=short")
    with pytest.raises(pytest.UsageError, match=f"--lambda-pytest-args: {extra} cannot run inside the function"):
        LambdaSettings.from_config(config)
    ok = pytester.parseconfig("--lambda", "--lambda-function", "f", "--lambda-pytest-args=-W error -kx -p myplugin")
    assert LambdaSettings.from_config(ok).pytest_args == ["-W", "error", "-kx", "-p", "myplugin"]
