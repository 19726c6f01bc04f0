"""Command-line and ini options, and the settings resolved from them (CLI, then ini)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import pytest

from runner.chrome import parse_window_size
from runner.constants import DEFAULT_ARTIFACTS, DEFAULT_WINDOW_SIZE

ARTIFACT_MODES = ("failure", "filmstrip")


def _window_size(value: str) -> str:
    try:
        parse_window_size(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _mode(value: str) -> str:
    if value not in ARTIFACT_MODES:
        raise argparse.ArgumentTypeError(f"expected one of {', '.join(ARTIFACT_MODES)}, got {value!r}")
    return value


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("lambda-ui", "UI tests on headless Chrome, locally or one test per AWS Lambda")
    group.addoption("--chrome-binary", metavar="PATH", help="Chrome/Chromium executable (default: ini, $CHROME_BINARY, then PATH).")
    group.addoption("--chromedriver", metavar="PATH", help="chromedriver executable (default: ini, $CHROMEDRIVER, then PATH).")
    group.addoption("--window-size", metavar="WxH", type=_window_size, help=f"browser window size (default {DEFAULT_WINDOW_SIZE}).")
    group.addoption(
        "--artifacts",
        metavar="DEST",
        help=f"where screenshots, page sources and console logs go: a folder (default {DEFAULT_ARTIFACTS}/) "
        "or s3://bucket/prefix, streamed as they are taken. Files land under <run-id>/<test path>/.",
    )
    group.addoption(
        "--artifacts-mode",
        metavar="MODE",
        type=_mode,
        help="failure: capture screenshot, DOM and console log of failing tests (default); "
        "filmstrip: also a screenshot after every navigation and click.",
    )
    group.addoption("--run-id", metavar="ID", help="name of this run in artifact paths (default: time stamp + random).")
    parser.addini("chrome_binary", "Chrome/Chromium executable for the browser fixture.", default="")
    parser.addini("chromedriver", "chromedriver executable for the browser fixture.", default="")
    parser.addini("window_size", "browser window size, e.g. 1280x900.", default=DEFAULT_WINDOW_SIZE)
    parser.addini("artifacts", "artifacts destination: a folder or s3://bucket/prefix.", default=DEFAULT_ARTIFACTS)
    parser.addini("artifacts_mode", "failure or filmstrip.", default="failure")


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

    @classmethod
    def from_config(cls, config: pytest.Config) -> Settings:
        def ini(name: str) -> str | None:
            value = str(config.getini(name) or "").strip()
            return value or None

        window = config.getoption("window_size") or ini("window_size") or DEFAULT_WINDOW_SIZE
        mode = config.getoption("artifacts_mode") or ini("artifacts_mode") or "failure"
        try:
            size = parse_window_size(window)
            _mode(mode)
        except (ValueError, argparse.ArgumentTypeError) as exc:
            raise pytest.UsageError(f"lambda-ui ini option: {exc}") from None
        return cls(
            chrome_binary_cli=config.getoption("chrome_binary"),
            chrome_binary_ini=ini("chrome_binary"),
            chromedriver_cli=config.getoption("chromedriver"),
            chromedriver_ini=ini("chromedriver"),
            window_size=size,
            artifacts=config.getoption("artifacts") or ini("artifacts") or DEFAULT_ARTIFACTS,
            artifacts_mode=mode,
            run_id=config.getoption("run_id"),
        )
