"""Command-line and ini options, and the settings resolved from them (CLI, then ini)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lambda_ui.contract import MAX_ENV_VARS, SESSION_MODES, env_problem, forbidden_args
from lambda_ui.runner.argtypes import bundle_mb, check_run_id, non_negative_int, number, positive_float, positive_int, positive_seconds
from lambda_ui.runner.chrome import parse_window_size
from lambda_ui.runner.constants import DEFAULT_ARTIFACTS, DEFAULT_RETURN_FILES, DEFAULT_STATUS_INTERVAL_S, DEFAULT_WINDOW_SIZE
from lambda_ui.runner.option_names import GROUP, GeneralOption, add_long_names, ini_value

ARTIFACT_MODES = ("failure", "filmstrip")
DRIFT_ACTIONS = ("error", "warn")
FALLBACK_MODES = ("none", "local")
#: Invocations in a row that could not connect before --lambda stops dispatching.
DEFAULT_BREAKER = 3
#: Public on-demand Lambda price, x86_64, us-east-1 (arm64 is about 20 % less).
DEFAULT_PRICE_PER_GB_S = 0.0000166667


def _window_size(value: str) -> str:
    try:
        parse_window_size(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    """An option type that takes one of ``choices``, with one message for anything else."""

    def check(value: str) -> str:
        if value not in choices:
            raise argparse.ArgumentTypeError(f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    return check


_mode = _choice(ARTIFACT_MODES)
_drift = _choice(DRIFT_ACTIONS)
_fallback = _choice(FALLBACK_MODES)
_session = _choice(SESSION_MODES)
#: ``lambda_remote_chrome``: connect where the suite says, or run on the function's own Chrome.
REMOTE_CHROME_MODES = ("remote", "function")
_remote_chrome = _choice(REMOTE_CHROME_MODES)
#: S3 signs a presigned GET for at most a week.
MAX_PRESIGN_S = 7 * 24 * 3600
_presign = number(int, "a whole number of seconds", 1, maximum=MAX_PRESIGN_S)
#: The plugin's own durations history (rootdir-relative unless absolute); ini lambda_history_file.
DEFAULT_HISTORY_FILE = ".lambda-ui/durations.json"


#: The options every run has, by their short names; runner/option_names.py registers each
#: under ``--lambda-ui-<name>`` too, and the short name only where no suite or plugin has it.
GENERAL_OPTIONS = (
    GeneralOption(
        "--chrome-binary", "Chrome/Chromium executable (default: ini chrome_binary, $CHROME_BINARY, then PATH).", {"metavar": "PATH"},
        ini_help="Chrome/Chromium executable for the browser fixture.",
    ),
    GeneralOption(
        "--chromedriver", "chromedriver executable (default: ini chromedriver, $CHROMEDRIVER, then PATH).", {"metavar": "PATH"},
        ini_help="chromedriver executable for the browser fixture.",
    ),
    GeneralOption(
        "--window-size", f"browser window size, 100x100 to 7680x4320 (default: ini window_size, else {DEFAULT_WINDOW_SIZE}).",
        {"metavar": "WxH", "type": _window_size},
        ini_help="browser window size, e.g. 1280x900.",
    ),
    GeneralOption(
        "--artifacts",
        f"where screenshots, page sources and console logs go: a folder (default: ini artifacts, else {DEFAULT_ARTIFACTS}/) "
        "or s3://bucket/prefix, streamed as they are taken. Files land under <run-id>/<test path>/.",
        {"metavar": "DEST"},
        ini_help="artifacts destination: a folder or s3://bucket/prefix.",
    ),
    GeneralOption(
        "--artifacts-presign",
        "with an s3:// artifacts destination: also print an HTTPS link valid for SECONDS (at most a week) next to each failed test's files.",
        {"metavar": "SECONDS", "type": _presign, "default": 0},
    ),
    GeneralOption(
        "--artifacts-mode",
        "failure: capture screenshot, DOM and console log of failing tests (default); "
        "filmstrip: also a screenshot after every navigation and click.",
        {"metavar": "MODE", "type": _mode},
        ini_help="failure or filmstrip.",
    ),
    GeneralOption(
        "--run-id",
        "name of this run's folder under the artifacts destination: 1-128 letters, digits, '.', '_' or '-' (default: time stamp + random).",
        {"metavar": "ID", "type": check_run_id},
    ),
)


GENERAL_BY_SHORT = {option.short: option for option in GENERAL_OPTIONS}


def lambda_fallback(config: pytest.Config) -> str:
    """Where tests go whose Lambda invocations failed for infrastructure reasons: none or local (CLI, then ini)."""
    return _ini_choice(config, "lambda_fallback", config.getoption("lambda_fallback"), _fallback)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup(GROUP, "UI tests on headless Chrome, locally or one test per AWS Lambda")
    add_long_names(parser, group, GENERAL_OPTIONS)
    lam = parser.getgroup("lambda-ui-dispatch", "pytest --lambda: one AWS Lambda invocation per test")
    lam.addoption("--lambda", dest="lambda_mode", action="store_true", help="run each collected test in its own Lambda invocation.")
    lam.addoption("--lambda-function", metavar="NAME", help="function name or ARN (default: ini lambda_function, $LAMBDA_UI_FUNCTION).")
    lam.addoption("--lambda-concurrency", metavar="N", type=positive_int, help="invocations in flight at most (default: the function's reserved concurrency, else 50).")
    lam.addoption("--lambda-retries", metavar="N", type=non_negative_int, help="new invocations after an infrastructure fault (crash, Lambda timeout, lost connection); default 2.")
    lam.addoption("--lambda-reruns", metavar="N", type=non_negative_int, help="re-dispatch a failed test up to N times; passing on a rerun is reported as flaky (default 0).")
    lam.addoption("--lambda-deadline", metavar="SECONDS", type=positive_seconds, help="stop dispatching after this long; unfinished tests are reported as errors.")
    lam.addoption("--lambda-status-interval", metavar="SECONDS", type=positive_seconds, help="when the output is not a terminal, seconds between two status lines (default 10); a terminal gets one line rewritten in place.")
    lam.addoption("--lambda-throttle-budget", metavar="SECONDS", type=positive_seconds, help="give up on tests after this long throttled without progress (default 300).")
    lam.addoption("--lambda-pytest-args", metavar="ARGS", help="extra pytest arguments for the in-Lambda sessions, e.g. \"-W error --tb=short\".")
    lam.addoption("--lambda-max-bundle-mb", metavar="MB", type=bundle_mb, help="largest test bundle to upload, at most 10240 (Lambda's largest /tmp); default 100.")
    lam.addoption("--lambda-read-timeout", metavar="SECONDS", type=positive_seconds, help="how long to wait for one invocation's answer (default: the function's timeout + 60 s; shorter answers late tests with an error, never a second run).")
    lam.addoption("--lambda-price-gb-s", metavar="USD", type=positive_float, help="price per GB-second for cost estimates (default 0.0000166667, x86_64 on-demand in us-east-1).")
    lam.addoption("--lambda-dry-run", action="store_true", help="print the plan (tests, concurrency, expected wall time and cost) and invoke nothing.")
    lam.addoption("--lambda-requirements", metavar="PATH", help="the suite's requirements file, built into the image as TEST_REQUIREMENTS; the image must satisfy it (default: ini lambda_requirements, else requirements-ui.txt in the rootdir if present).")
    lam.addoption("--lambda-breaker", metavar="N", type=non_negative_int, help=f"stop dispatching once N invocations in a row could not connect to Lambda (refused, name not resolved, connect timeout); 0: never (default {DEFAULT_BREAKER}).")
    lam.addoption("--lambda-fallback", metavar="MODE", type=_fallback, help="none (default): tests whose invocations failed for infrastructure reasons are errors; local: run them afterwards on local Chrome in this process.")
    lam.addoption(
        "--lambda-session", metavar="MODE", type=_session,
        help="warm (default): each execution environment keeps one pytest session (configure, conftests, session fixtures) "
        "and runs one test of it per invocation, as a pytest-xdist worker does; per-test: a whole pytest session per invocation.",
    )
    lam.addoption(
        "--lambda-env",
        metavar="NAME[=VALUE]",
        action="append",
        help="an environment variable for the function's tests, with its value here (NAME) or the one given (NAME=VALUE); "
        "repeatable; the ini lambda_env lists more. Values travel in each invocation's payload.",
    )
    lam.addoption("--lambda-image-drift", metavar="ACTION", type=_drift, help="error (default): stop before any test when the image lacks a plugin or package used here, or has another version; warn: say so and run.")
    parser.addini("lambda_env", "environment variables for the function's tests: NAME (its value here) or NAME=VALUE, one per line.", type="linelist", default=[])
    parser.addini("lambda_function", "Lambda function name or ARN for --lambda.", default="")
    parser.addini("lambda_concurrency", "invocations in flight at most for --lambda.", default="")
    parser.addini("lambda_retries", "infrastructure retries per test for --lambda.", default="2")
    parser.addini("lambda_reruns", "reruns of failed tests for --lambda.", default="0")
    parser.addini("lambda_requirements", "the suite's requirements file (TEST_REQUIREMENTS of the image), relative to the rootdir.", default="")
    parser.addini("lambda_status_interval", "seconds between two --lambda status lines when the output is not a terminal.", default="")
    parser.addini("lambda_breaker", "invocations in a row that could not connect before --lambda stops dispatching (0: never).", default=str(DEFAULT_BREAKER))
    parser.addini("lambda_fallback", "none or local: where tests go whose Lambda invocations failed for infrastructure reasons.", default="none")
    parser.addini("lambda_image_drift", "error or warn, when the image lacks or differs in what the suite uses.", default="error")
    parser.addini("lambda_session", "warm or per-test: one pytest session per execution environment, or one per test.", default="warm")
    parser.addini("lambda_bundle_include", "globs (fnmatch on rootdir-relative paths) of files to add to the --lambda bundle: untracked files, or names on the secret deny list.", type="linelist", default=[])
    parser.addini("lambda_bundle_exclude", "globs (fnmatch on rootdir-relative paths) of files to leave out of the --lambda bundle.", type="linelist", default=[])
    parser.addini(
        "lambda_return_files",
        "globs (fnmatch on rootdir-relative paths) of the files tests write below the rootdir in Lambda that come back "
        f"into it (default: {' '.join(DEFAULT_RETURN_FILES)}; empty: none); the others stay in S3, linked on their test.",
        type="linelist",
        default=list(DEFAULT_RETURN_FILES),
    )
    parser.addini("lambda_history_file", f"the JSON file of test durations --lambda keeps for its ordering, ETA and dry run (default {DEFAULT_HISTORY_FILE}, rootdir-relative).", default=DEFAULT_HISTORY_FILE)
    parser.addini("lambda_chrome_defaults", "in the function, fill in Chrome, chromedriver and the Lambda flags for Chrome the suite starts itself (false: off).", type="bool", default=True)
    parser.addini(
        "lambda_remote_chrome",
        "remote or function: in the function, a webdriver.Remote for Chrome connects where the suite says (remote), "
        "or runs on the function's own Chrome (function: a suite written for a Selenium Grid).",
        default="remote",
    )


@dataclass(frozen=True)
class Settings:
    chrome_binary_cli: str | None
    chrome_binary_ini: str | None
    chromedriver_cli: str | None
    chromedriver_ini: str | None
    window_size: tuple[int, int]
    artifacts: str
    artifacts_mode: str
    run_id: str | None
    #: Seconds a presigned link of a failed test's S3 files is valid; 0: no links.
    presign_s: int = 0

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        def ini(short: str) -> str | None:
            return ini_value(config, GENERAL_BY_SHORT[short])

        window = config.getoption("lambda_ui_window_size") or ini("--window-size") or DEFAULT_WINDOW_SIZE
        mode = config.getoption("lambda_ui_artifacts_mode") or ini("--artifacts-mode") or "failure"
        try:
            size = parse_window_size(window)
            _mode(mode)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            raise pytest.UsageError(f"lambda-ui ini option: {exc}") from None
        remote_chrome(config)  # a wrong value stops the run here, on the client, before any test
        return cls(
            chrome_binary_cli=config.getoption("lambda_ui_chrome_binary"),
            chrome_binary_ini=ini("--chrome-binary"),
            chromedriver_cli=config.getoption("lambda_ui_chromedriver"),
            chromedriver_ini=ini("--chromedriver"),
            window_size=size,
            artifacts=config.getoption("lambda_ui_artifacts") or ini("--artifacts") or DEFAULT_ARTIFACTS,
            artifacts_mode=mode,
            run_id=config.getoption("lambda_ui_run_id"),
            presign_s=int(config.getoption("lambda_ui_artifacts_presign") or 0),
        )


@dataclass(frozen=True)
class LambdaSettings:
    function: str
    concurrency: int | None
    retries: int
    reruns: int
    deadline_s: float | None
    throttle_budget_s: float
    pytest_args: list[str]
    max_bundle_bytes: int
    dry_run: bool
    price_per_gb_s: float
    read_timeout_s: float | None
    #: The suite's requirements file, or None.
    requirements: Path | None = None
    image_drift: str = "error"
    breaker: int = DEFAULT_BREAKER
    fallback: str = "none"
    #: warm or per-test (``RunEvent.session``).
    session: str = "warm"
    #: Seconds between two status lines when the output is not a terminal.
    status_interval_s: float = DEFAULT_STATUS_INTERVAL_S
    #: Environment variables handed to the function's tests (``--lambda-env``, ini ``lambda_env``).
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: pytest.Config) -> LambdaSettings:
        import os
        import shlex

        function = config.getoption("lambda_function") or str(config.getini("lambda_function") or "").strip() or os.environ.get("LAMBDA_UI_FUNCTION", "")
        if not function:
            raise pytest.UsageError(
                "--lambda needs a function: give --lambda-function NAME (or the ini option lambda_function, or $LAMBDA_UI_FUNCTION). "
                "The stack's FunctionName output names it; the local stand-in calls it UiTestFunction."
            )
        retries = config.getoption("lambda_retries")
        reruns = config.getoption("lambda_reruns")
        breaker = config.getoption("lambda_breaker")
        if breaker is None:
            breaker = _ini_value(config, "lambda_breaker", non_negative_int)
        max_mb = config.getoption("lambda_max_bundle_mb") or 100.0
        try:
            extra = shlex.split(config.getoption("lambda_pytest_args") or "")
        except ValueError as exc:
            raise pytest.UsageError(f"--lambda-pytest-args: {exc}") from None
        owned = forbidden_args(extra)
        if owned:
            # The function refuses them (runner/contract.py): say so once, before any invocation.
            raise pytest.UsageError(
                f"--lambda-pytest-args: {' '.join(owned)} cannot run inside the function: "
                "selection, -x/--maxfail, reports and -n are the client's; give them to pytest itself"
            )
        return cls(
            function=function,
            concurrency=config.getoption("lambda_concurrency") or _ini_value(config, "lambda_concurrency", positive_int),
            retries=retries if retries is not None else _ini_value(config, "lambda_retries", non_negative_int) or 0,
            reruns=reruns if reruns is not None else _ini_value(config, "lambda_reruns", non_negative_int) or 0,
            deadline_s=config.getoption("lambda_deadline"),
            throttle_budget_s=config.getoption("lambda_throttle_budget") or 300.0,
            pytest_args=extra,
            max_bundle_bytes=int(max_mb * 1024 * 1024),
            dry_run=bool(config.getoption("lambda_dry_run")),
            price_per_gb_s=config.getoption("lambda_price_gb_s") or DEFAULT_PRICE_PER_GB_S,
            read_timeout_s=config.getoption("lambda_read_timeout"),
            requirements=_requirements_file(config),
            image_drift=_ini_choice(config, "lambda_image_drift", config.getoption("lambda_image_drift"), _drift),
            breaker=DEFAULT_BREAKER if breaker is None else breaker,
            fallback=lambda_fallback(config),
            session=_ini_choice(config, "lambda_session", config.getoption("lambda_session"), _session),
            status_interval_s=config.getoption("lambda_status_interval", None) or _ini_value(config, "lambda_status_interval", positive_seconds) or DEFAULT_STATUS_INTERVAL_S,
            env=_forwarded_env(config, os.environ),
        )


def _forwarded_env(config: pytest.Config, environ: Mapping[str, str]) -> dict[str, str]:
    """``--lambda-env`` and the ini ``lambda_env``: ``NAME`` takes its value here, ``NAME=VALUE`` sets it."""
    entries = [*(config.getini("lambda_env") or ()), *(config.getoption("lambda_env") or ())]
    env: dict[str, str] = {}
    for entry in entries:
        name, eq, value = entry.strip().partition("=")
        if not eq:
            if name not in environ:
                raise pytest.UsageError(f"--lambda-env {name}: it is not set here; set it, give {name}=VALUE, or leave it out")
            value = environ[name]
        if problem := env_problem(name, value):
            raise pytest.UsageError(f"--lambda-env: {problem}")
        env[name] = value
    if len(env) > MAX_ENV_VARS:
        raise pytest.UsageError(f"--lambda-env: {len(env)} variables, more than the {MAX_ENV_VARS} a run hands its tests")
    return env


def remote_chrome(config: pytest.Config) -> str:
    """``lambda_remote_chrome``: ``remote`` or ``function`` (runner/chrome_defaults.py reads it in the function)."""
    return _ini_choice(config, "lambda_remote_chrome", None, _remote_chrome)


def _ini_value(config: pytest.Config, name: str, parse: Any) -> Any:
    """The ini value ``name`` through ``parse`` (an argtypes checker), None when unset."""
    raw = str(config.getini(name) or "").strip()
    if not raw:
        return None
    try:
        return parse(raw)
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"ini option {name}: {exc}") from None


def _ini_choice(config: pytest.Config, name: str, cli: str | None, check: Any) -> str:
    value = cli or str(config.getini(name) or "").strip()
    try:
        return str(check(value))
    except argparse.ArgumentTypeError as exc:
        raise pytest.UsageError(f"ini option {name}: {exc}") from None


def _requirements_file(config: pytest.Config) -> Path | None:
    """CLI (relative to where pytest ran), then ini (relative to the rootdir), then requirements-ui.txt if present."""
    cli = config.getoption("lambda_requirements")
    ini = str(config.getini("lambda_requirements") or "").strip()
    if cli or ini:
        path = Path(config.invocation_params.dir, cli) if cli else Path(config.rootpath, ini)
        if not path.is_file():
            source = "--lambda-requirements" if cli else "ini lambda_requirements"
            raise pytest.UsageError(f"{source}: no such file {str(path)!r}; name the requirements file the image is built with (TEST_REQUIREMENTS).")
        return path
    default = Path(config.rootpath, "requirements-ui.txt")
    return default if default.is_file() else None
