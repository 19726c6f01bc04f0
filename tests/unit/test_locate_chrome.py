from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lambda_ui.runner.chrome import ChromeNotFound, chrome_flags, in_lambda, locate_chrome, parse_window_size


def _exe(folder: Path, name: str) -> str:
    path = folder / name
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_order_is_cli_ini_env_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    on_path = _exe(tmp_path, "chromium")
    driver = _exe(tmp_path, "chromedriver")
    cli, ini, env = _exe(tmp_path, "cli-chrome"), _exe(tmp_path, "ini-chrome"), _exe(tmp_path, "env-chrome")
    environ = {"CHROME_BINARY": env}
    assert locate_chrome(cli, ini, None, None, environ).binary == cli
    assert locate_chrome(None, ini, None, None, environ).binary == ini
    assert locate_chrome(None, None, None, None, environ).binary == env
    assert locate_chrome(None, None, None, None, {}).binary == on_path
    assert locate_chrome(None, None, None, None, {}).driver == driver


def test_missing_driver_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    _exe(tmp_path, "google-chrome")
    with pytest.raises(ChromeNotFound) as info:
        locate_chrome(None, None, None, None, {})
    message = str(info.value)
    assert "no chromedriver" in message and "no Chrome" not in message and "chromium-driver" in message


def test_flags_suit_containers_and_lambda() -> None:
    flags = chrome_flags("/tmp/p", (800, 600))
    for expected in ("--headless=new", "--disable-dev-shm-usage", "--disable-background-networking", "--user-data-dir=/tmp/p", "--window-size=800,600"):
        assert expected in flags
    assert ("--no-sandbox" in flags) == (os.geteuid() == 0 or in_lambda())
    assert "--headless=new" not in chrome_flags("/tmp/p", (800, 600), headless=False)


@pytest.mark.parametrize("bad", ["big", "10x10", "1280", "1280x"])
def test_window_size_is_validated(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_window_size(bad)
    assert parse_window_size("1024X768") == (1024, 768)


def test_no_sandbox_in_lambda_even_when_not_root() -> None:
    from lambda_ui.runner.chrome import needs_no_sandbox

    assert needs_no_sandbox({"AWS_LAMBDA_FUNCTION_NAME": "ui-tests", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"})
    assert needs_no_sandbox({}) == (os.geteuid() == 0)
