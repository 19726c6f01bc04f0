"""Chrome's flag sets per environment, and the defaults filled into a suite's own Chrome.

Nothing here starts Chrome: where Selenium gets as far as starting chromedriver,
``Service.start`` is replaced by a stub that records the service and stops.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchDriverException, SessionNotCreatedException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common import service as common_service
from selenium.webdriver.common.options import ArgOptions

from lambda_ui.runner import chrome_options, chrome_service
from lambda_ui.runner.chrome import (
    HEADLESS_SHELL,
    SINGLE_PROCESS_FLAG,
    ChromeLauncher,
    ChromeLocation,
    ChromeNotFound,
    ChromeProcess,
    ChromeStartFailed,
    chrome_flags,
    in_lambda,
    is_headless_shell,
    name_the_shell,
)
from lambda_ui.runner.chrome_defaults import (
    SUITE_DIR_PREFIX,
    SuiteChromeDefaults,
    flag_name,
    missing_flags,
    prepare_launch,
    remote_chrome_options,
)

LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "ui-tests", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}
#: The local/CI set (the Lambda set adds to it); a change here is a change for every user.
LOCAL_SET = [
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-crash-reporter",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--password-store=basic",
    "--mute-audio",
    "--disable-features=WebUIOmniboxPopup,WebUIOmniboxAimPopup",
    "--window-size=800,600",
    "--user-data-dir=/tmp/w/profile",
]


def _exe(folder: Path, name: str) -> str:
    path = folder / name
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture
def fakes(tmp_path: Path) -> dict[str, str]:
    """An environment whose Chrome and chromedriver are stand-in files, as $CHROME_BINARY/$CHROMEDRIVER."""
    folder = tmp_path / "bin"
    folder.mkdir()
    return dict(LAMBDA, CHROME_BINARY=_exe(folder, "chrome"), CHROMEDRIVER=_exe(folder, "chromedriver"))


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


# -- flag sets ---------------------------------------------------------------------------


def test_local_set_is_unchanged() -> None:
    flags = chrome_flags("/tmp/w/profile", (800, 600), environ={})
    expected = LOCAL_SET + (["--no-sandbox"] if os.geteuid() == 0 else [])
    assert flags == expected


def test_lambda_set_adds_what_its_sandbox_needs() -> None:
    flags = chrome_flags("/tmp/w/profile", (800, 600), environ=LAMBDA, scratch_dir="/tmp/w")
    for needed in ("--headless=new", "--no-sandbox", "--no-zygote", "--in-process-gpu", "--disable-dev-shm-usage", "--disable-gpu", "--disable-background-networking"):
        assert needed in flags
    assert "--user-data-dir=/tmp/w/profile" in flags
    assert "--data-path=/tmp/w/data" in flags and "--disk-cache-dir=/tmp/w/cache" in flags
    assert set(LOCAL_SET) <= set(flags)
    names = [flag_name(flag) for flag in flags]
    assert len(names) == len(set(names)), "each flag once"


def test_lambda_set_keeps_scratch_inside_the_profile_by_default() -> None:
    flags = chrome_flags("/tmp/p", (800, 600), environ=LAMBDA)
    assert "--data-path=/tmp/p/data" in flags and "--disk-cache-dir=/tmp/p/cache" in flags
    for absent in ("--no-zygote", "--in-process-gpu", "--data-path", "--disk-cache-dir"):
        assert absent not in {flag_name(flag) for flag in chrome_flags("/tmp/p", (800, 600), environ={})}


def test_the_current_environment_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fn")
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    assert "--no-zygote" in chrome_flags("/tmp/p", (800, 600))
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    assert "--no-zygote" not in chrome_flags("/tmp/p", (800, 600))


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, True),
        ({"AWS_LAMBDA_FUNCTION_NAME": "fn", "LAMBDA_TASK_ROOT": "/var/task"}, True),
        # A name exported on a laptop (a deploy script's) is not Lambda.
        ({"AWS_LAMBDA_FUNCTION_NAME": "fn"}, False),
        ({"AWS_LAMBDA_FUNCTION_NAME": "", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, False),
        ({"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "LAMBDA_TASK_ROOT": "/var/task"}, False),
        ({}, False),
    ],
)
def test_lambda_is_detected_from_its_variables(environ: dict[str, str], expected: bool) -> None:
    assert in_lambda(environ) is expected
    names = {flag_name(flag) for flag in chrome_flags("/tmp/p", (800, 600), environ=environ)}
    assert ({"--no-zygote", "--in-process-gpu"} <= names) is expected


# -- starting with the single-process fallback ------------------------------------------


class _FakeStarts:
    """Stands in for ``start_chrome``: fails unless the flags include what ``needs`` names."""

    def __init__(self, needs: str | None) -> None:
        self.needs = needs
        self.calls: list[list[str]] = []

    def __call__(self, location: ChromeLocation, window_size: tuple[int, int], **kwargs: Any) -> ChromeProcess:
        extra = list(kwargs.get("extra_flags") or [])
        self.calls.append(extra)
        if self.needs is not None and self.needs not in extra:
            raise SessionNotCreatedException("session not created: Chrome failed to start: exited abnormally.\n  (stack trace)")
        return ChromeProcess(driver=None, workdir="/tmp/x", driver_pid=0, flags=extra)  # type: ignore[arg-type]


def _launcher(environ: dict[str, str], starts: _FakeStarts) -> ChromeLauncher:
    return ChromeLauncher(lambda: ChromeLocation("/c", "/d"), (800, 600), environ=environ, start=starts)


def test_on_lambda_a_failed_start_is_retried_once_with_single_process() -> None:
    starts = _FakeStarts(needs=SINGLE_PROCESS_FLAG)
    launcher = _launcher(LAMBDA, starts)
    assert launcher.start().flags == [SINGLE_PROCESS_FLAG]
    assert starts.calls == [[], [SINGLE_PROCESS_FLAG]] and launcher.single_process_retry
    # The environment does not change: a restart uses the flag at once.
    launcher.start()
    assert starts.calls[2:] == [[SINGLE_PROCESS_FLAG]]


def test_a_start_that_works_needs_no_retry() -> None:
    starts = _FakeStarts(needs=None)
    launcher = _launcher(LAMBDA, starts)
    launcher.start()
    assert starts.calls == [[]] and not launcher.single_process_retry


def test_when_the_retry_fails_too_both_causes_are_named() -> None:
    starts = _FakeStarts(needs="--never-given")
    launcher = _launcher(LAMBDA, starts)
    with pytest.raises(ChromeStartFailed, match=r"did not start: .*exited abnormally\.; with --single-process neither: .*exited abnormally\.$"):
        launcher.start()
    assert starts.calls == [[], [SINGLE_PROCESS_FLAG]] and not launcher.single_process_retry


def test_locally_a_failed_start_is_not_retried() -> None:
    starts = _FakeStarts(needs=SINGLE_PROCESS_FLAG)
    with pytest.raises(SessionNotCreatedException):
        _launcher({}, starts).start()
    assert starts.calls == [[]]


def test_a_missing_chrome_is_not_retried() -> None:
    def missing(*args: Any, **kwargs: Any) -> ChromeProcess:
        raise ChromeNotFound("no Chrome")

    calls: list[int] = []
    launcher = ChromeLauncher(lambda: ChromeLocation("/c", "/d"), (800, 600), environ=LAMBDA, start=lambda *a, **k: calls.append(1) or missing())
    with pytest.raises(ChromeNotFound):
        launcher.start()
    assert calls == [1]


# -- the public helpers ------------------------------------------------------------------


def test_chrome_options_for_lambda(fakes: dict[str, str], scratch: Path) -> None:
    options = chrome_options(environ=fakes, tmp_root=str(scratch))
    assert options.binary_location == fakes["CHROME_BINARY"]
    (workdir,) = scratch.iterdir()
    assert workdir.name.startswith(SUITE_DIR_PREFIX)
    assert f"--user-data-dir={workdir}/profile" in options.arguments
    assert f"--disk-cache-dir={workdir}/cache" in options.arguments and "--no-zygote" in options.arguments
    assert chrome_service(environ=fakes).path == fakes["CHROMEDRIVER"]


def test_chrome_options_locally_use_the_local_set(fakes: dict[str, str], scratch: Path) -> None:
    local = {k: v for k, v in fakes.items() if k not in LAMBDA}
    options = chrome_options(environ=local, tmp_root=str(scratch), window_size=(1024, 768))
    assert "--no-zygote" not in options.arguments and "--window-size=1024,768" in options.arguments
    assert "--headless=new" not in chrome_options(environ=local, tmp_root=str(scratch), headless=False).arguments


# -- filling a suite's own options -------------------------------------------------------


def test_missing_flags_compare_by_name() -> None:
    given = ["--window-size=800,600", "--headless", "--user-data-dir=/mine"]
    assert missing_flags(given, ["--window-size=1280,900", "--headless=new", "--user-data-dir=/ours", "--no-zygote"]) == ["--no-zygote"]
    # chromedriver merges every --disable-features: the suite's own list does not replace ours.
    assert missing_flags(["--disable-features=VizDisplayCompositor"], ["--disable-features=WebUIOmniboxPopup"]) == ["--disable-features=WebUIOmniboxPopup"]


def test_nothing_set_gets_everything(fakes: dict[str, str], scratch: Path) -> None:
    options, service, launch = prepare_launch(None, None, fakes, str(scratch), (1280, 900))
    assert options.binary_location == fakes["CHROME_BINARY"]
    assert service.path == fakes["CHROMEDRIVER"]
    workdir = launch.workdir
    assert workdir is not None and Path(workdir).parent == scratch and Path(workdir).name.startswith(SUITE_DIR_PREFIX)
    assert options.arguments == chrome_flags(f"{workdir}/profile", (1280, 900), environ=fakes, scratch_dir=workdir)
    assert service.env["HOME"] == workdir and service.popen_kw == {"start_new_session": True}


def test_explicit_settings_are_kept(fakes: dict[str, str], scratch: Path, tmp_path: Path) -> None:
    # The suite's own Chrome and chromedriver, there in the function too (paths it lacks give way:
    # tests/unit/test_suite_chrome_paths.py).
    my_chrome, my_driver = tmp_path / "my-chrome", tmp_path / "my-chromedriver"
    for path in (my_chrome, my_driver):
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    mine = webdriver.ChromeOptions()
    mine.binary_location = str(my_chrome)
    for flag in ("--window-size=640,480", "--user-data-dir=/mine/profile", "--headless", "--lang=de"):
        mine.add_argument(flag)
    their_service = Service(executable_path=str(my_driver), env={"HOME": "/mine"})
    options, service, launch = prepare_launch(mine, their_service, fakes, str(scratch))
    assert options.binary_location == str(my_chrome) and launch.notes == []
    assert service is their_service and service.path == str(my_driver) and service.env == {"HOME": "/mine"}
    args = options.arguments
    assert args[:4] == ["--window-size=640,480", "--user-data-dir=/mine/profile", "--headless", "--lang=de"]
    for name in ("--window-size", "--user-data-dir", "--headless"):
        assert [flag_name(a) for a in args].count(name) == 1
    # What the test left out is still filled in, in this invocation's own directory.
    assert "--no-zygote" in args and "--in-process-gpu" in args and "--no-sandbox" in args
    assert f"--disk-cache-dir={launch.workdir}/cache" in args
    # The suite's object is not changed: it may build a second driver from it.
    assert mine.arguments == ["--window-size=640,480", "--user-data-dir=/mine/profile", "--headless", "--lang=de"]


def test_extra_flags_join_the_defaults_and_the_suites_own_win(fakes: dict[str, str], scratch: Path) -> None:
    options, _service, _launch = prepare_launch(None, None, fakes, str(scratch), extra_flags=[SINGLE_PROCESS_FLAG])
    assert options.arguments.count(SINGLE_PROCESS_FLAG) == 1
    mine = webdriver.ChromeOptions()
    mine.add_argument("--single-process=yes")
    options, _service, _launch = prepare_launch(mine, None, fakes, str(scratch), extra_flags=[SINGLE_PROCESS_FLAG])
    assert [a for a in options.arguments if flag_name(a) == SINGLE_PROCESS_FLAG] == ["--single-process=yes"]


def test_every_directory_named_by_the_test_means_no_directory_of_ours(fakes: dict[str, str], scratch: Path) -> None:
    mine = webdriver.ChromeOptions()
    for flag in ("--user-data-dir=/mine/p", "--data-path=/mine/d", "--disk-cache-dir=/mine/c"):
        mine.add_argument(flag)
    _options, service, launch = prepare_launch(mine, None, fakes, str(scratch))
    assert launch.workdir is None and list(scratch.iterdir()) == []
    assert service.env is os.environ


def test_chrome_options_directory_is_ours_to_remove(fakes: dict[str, str], scratch: Path) -> None:
    options, _service, launch = prepare_launch(chrome_options(environ=fakes, tmp_root=str(scratch)), None, fakes, str(scratch))
    (workdir,) = scratch.iterdir()
    assert launch.workdir == str(workdir)
    launch.finish([])
    assert not workdir.exists()


def test_extensions_are_not_disabled_when_the_test_loads_one(fakes: dict[str, str], scratch: Path) -> None:
    mine = webdriver.ChromeOptions()
    mine.add_encoded_extension("UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==")
    options, _service, _launch = prepare_launch(mine, None, fakes, str(scratch))
    assert "--disable-extensions" not in options.arguments
    assert "--disable-extensions" in prepare_launch(None, None, fakes, str(scratch))[0].arguments


# -- the wrapper around webdriver.Chrome -------------------------------------------------


class _Stop(Exception):
    """Raised by the stub in place of starting chromedriver."""


@pytest.fixture
def no_chromedriver_start(monkeypatch: pytest.MonkeyPatch) -> list[common_service.Service]:
    started: list[common_service.Service] = []

    def start(service: common_service.Service) -> None:
        started.append(service)
        raise _Stop

    monkeypatch.setattr(common_service.Service, "start", start)
    return started


@pytest.fixture
def selenium_manager_trap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A Selenium Manager that only leaves a mark: if it runs, the mark exists."""
    mark = tmp_path / "selenium-manager-ran"
    script = tmp_path / "selenium-manager"
    script.write_text(f"#!/bin/sh\n: > '{mark}'\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("SE_MANAGER_PATH", str(script))
    monkeypatch.delenv("SE_CHROMEDRIVER", raising=False)
    return mark


@pytest.fixture
def installed(fakes: dict[str, str], scratch: Path) -> Iterator[SuiteChromeDefaults]:
    defaults = SuiteChromeDefaults(str(scratch), fakes, (1280, 900))
    defaults.install()
    yield defaults
    defaults.uninstall()


@pytest.mark.parametrize(
    "make",
    [
        lambda: webdriver.Chrome(),
        lambda: webdriver.Chrome(options=webdriver.ChromeOptions()),
        # pytest-selenium's --driver Chrome: Service(executable_path=driver_path or None, ...) and empty Options.
        lambda: webdriver.Chrome(service=Service(executable_path=None, service_args=None, log_output=os.devnull), options=webdriver.ChromeOptions()),
    ],
    ids=["no-arguments", "options", "pytest-selenium"],
)
def test_selenium_manager_is_never_asked(
    installed: SuiteChromeDefaults, make: object, fakes: dict[str, str], scratch: Path, selenium_manager_trap: Path, no_chromedriver_start: list[common_service.Service]
) -> None:
    with pytest.raises(_Stop):
        make()  # type: ignore[operator]
    assert not selenium_manager_trap.exists()
    assert no_chromedriver_start[0].path == fakes["CHROMEDRIVER"]
    assert list(scratch.iterdir()) == [], "a Chrome that failed to start leaves no directory"


def test_without_the_defaults_selenium_manager_would_run(selenium_manager_trap: Path, no_chromedriver_start: list[common_service.Service]) -> None:
    """The control for the test above: the trap does catch Selenium Manager."""
    with pytest.raises(NoSuchDriverException):
        webdriver.Chrome()
    assert selenium_manager_trap.exists()


def test_uninstall_restores_webdriver_chrome(fakes: dict[str, str], scratch: Path) -> None:
    original = webdriver.Chrome.__init__
    defaults = SuiteChromeDefaults(str(scratch), fakes)
    defaults.install()
    assert webdriver.Chrome.__init__ is not original
    defaults.uninstall()
    assert webdriver.Chrome.__init__ is original


SESSION_TEST = """
from selenium import webdriver

def test_wrapped():
    assert hasattr(webdriver.Chrome.__init__, "__wrapped__") is {expected}
"""


@pytest.mark.parametrize(("ini", "expected"), [("", True), ("lambda_chrome_defaults = true", True), ("lambda_chrome_defaults = false", False)])
def test_the_ini_key_turns_the_defaults_off(pytester: pytest.Pytester, fakes: dict[str, str], ini: str, expected: bool) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makepyfile(SESSION_TEST.format(expected=expected))
    defaults = SuiteChromeDefaults(str(pytester.path), fakes)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", plugins=[defaults])
    result.assert_outcomes(passed=1)
    assert not hasattr(webdriver.Chrome.__init__, "__wrapped__"), "removed at session end"


def test_a_remote_session_is_chrome_by_its_options_or_its_browser_name() -> None:
    chrome = webdriver.ChromeOptions()
    assert remote_chrome_options(chrome) is chrome
    assert remote_chrome_options(webdriver.FirefoxOptions()) is None and remote_chrome_options(None) is None
    generic = ArgOptions()
    generic.set_capability("browserName", "chrome")
    generic.set_capability("acceptInsecureCerts", True)
    converted = remote_chrome_options(generic)
    assert isinstance(converted, webdriver.ChromeOptions) and converted.to_capabilities()["acceptInsecureCerts"] is True


# -- chrome-headless-shell -----------------------------------------------------------------
def test_the_headless_shell_is_known_by_its_name_or_its_link(tmp_path: Path) -> None:
    shell = tmp_path / "chromium-headless-shell"
    shell.write_text("")
    link = tmp_path / "chrome"
    link.symlink_to(shell)
    assert is_headless_shell("/opt/chrome-headless-shell/chrome-headless-shell")
    assert is_headless_shell("/usr/lib/chromium/headless_shell")
    assert is_headless_shell(str(link))  # an image that links it as chrome
    assert not is_headless_shell("/usr/bin/chromium") and not is_headless_shell("/opt/chrome/chrome")
    assert not is_headless_shell(None) and not is_headless_shell("")


def test_the_headless_shell_is_named_as_the_browser_only_when_it_is_one() -> None:
    shell = webdriver.ChromeOptions()
    shell.binary_location = "/usr/bin/chromium-headless-shell"
    name_the_shell(shell)
    assert shell.to_capabilities()["browserName"] == HEADLESS_SHELL == "chrome-headless-shell"
    chrome = webdriver.ChromeOptions()
    chrome.binary_location = "/usr/bin/chromium"
    name_the_shell(chrome)
    assert chrome.to_capabilities()["browserName"] == "chrome"
    chosen = webdriver.ChromeOptions()  # a suite that named its browser keeps its choice
    chosen.binary_location = "/usr/bin/chromium-headless-shell"
    chosen.set_capability("browserName", "chromium")
    name_the_shell(chosen)
    assert chosen.to_capabilities()["browserName"] == "chromium"
