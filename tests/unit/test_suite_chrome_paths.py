"""A suite's own Chrome in the function: paths its CI machine has and the function lacks,
and the download folder a local run would use."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from selenium.webdriver import ChromeOptions
from selenium.webdriver.chrome.service import Service

from lambda_ui.runner.chrome_defaults import prepare_launch

CHROME = shutil.which("chromium") or shutil.which("chromium-headless-shell") or ""
CHROMEDRIVER = shutil.which("chromedriver") or ""

pytestmark = pytest.mark.skipif(not (CHROME and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (scripts/setup.sh)")


def test_paths_the_function_lacks_give_way_to_its_own_and_are_said(tmp_path: Path) -> None:
    # A conftest written for a CI image: options.binary_location and Service(...) name its files.
    options = ChromeOptions()
    options.binary_location = "/opt/ci-image/chrome/chrome"
    service = Service("/opt/ci-image/bin/chromedriver")
    environ = {"CHROME_BINARY": CHROME, "CHROMEDRIVER": CHROMEDRIVER, "PATH": ""}
    filled, service, launch = prepare_launch(options, service, environ, str(tmp_path))
    assert (filled.binary_location, service.path) == (CHROME, CHROMEDRIVER)
    assert launch.notes == [
        f"the suite's Chrome binary /opt/ci-image/chrome/chrome is not in the function; its own {CHROME} ran instead",
        f"the suite's chromedriver /opt/ci-image/bin/chromedriver is not in the function; its own {CHROMEDRIVER} ran instead",
    ]


def test_paths_the_function_has_are_kept_without_a_word(tmp_path: Path) -> None:
    options = ChromeOptions()
    options.binary_location = CHROME
    filled, service, launch = prepare_launch(options, Service(CHROMEDRIVER), {"PATH": ""}, str(tmp_path))
    assert (filled.binary_location, service.path, launch.notes) == (CHROME, CHROMEDRIVER, [])


def _download_prefs(options: ChromeOptions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # the test process's HOME (/tmp in the image)
    filled, service, _ = prepare_launch(options, Service(CHROMEDRIVER), {"CHROME_BINARY": CHROME, "PATH": ""}, str(tmp_path))
    assert service.env is not None and service.env["HOME"] != str(tmp_path / "home")  # Chrome's own HOME is private
    return filled.experimental_options.get("prefs")


def test_a_download_lands_in_the_test_s_own_home_as_it_does_locally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    prefs = _download_prefs(ChromeOptions(), tmp_path, monkeypatch)
    assert prefs == {"download.default_directory": str(tmp_path / "home" / "Downloads")}


def test_the_suite_s_other_prefs_stay_beside_the_download_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    options = ChromeOptions()
    options.add_experimental_option("prefs", {"intl.accept_languages": "de"})
    prefs = _download_prefs(options, tmp_path, monkeypatch)
    assert prefs == {"intl.accept_languages": "de", "download.default_directory": str(tmp_path / "home" / "Downloads")}
    assert options.experimental_options["prefs"] == {"intl.accept_languages": "de"}  # the suite's object is untouched


@pytest.mark.parametrize("chosen", [{"download.default_directory": "/tmp/mine"}, {"download": {"default_directory": "/tmp/mine"}}])
def test_a_download_folder_the_suite_chose_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chosen: dict[str, object]) -> None:
    options = ChromeOptions()
    options.add_experimental_option("prefs", chosen)
    assert _download_prefs(options, tmp_path, monkeypatch) == chosen


def _profile_flags(folder: str, tmp_path: Path) -> tuple[list[str], list[str]]:
    options = ChromeOptions()
    options.add_argument(f"--user-data-dir={folder}")
    filled, _, launch = prepare_launch(options, Service(CHROMEDRIVER), {"CHROME_BINARY": CHROME, "PATH": ""}, str(tmp_path))
    return [a for a in filled.arguments if a.startswith("--user-data-dir=")], launch.notes


@pytest.mark.parametrize("folder", ["profiles/ci", "{tmp}/suite-profile/deeper"])
def test_a_profile_folder_the_function_can_write_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: str) -> None:
    monkeypatch.chdir(tmp_path)  # a relative folder is the test's working directory's, the bundle's copy in the function
    folder = folder.format(tmp=tmp_path)
    assert _profile_flags(folder, tmp_path) == ([f"--user-data-dir={folder}"], [])


@pytest.mark.skipif(os.access("/proc/sys", os.W_OK), reason="needs a read-only folder: /proc/sys is writable on this machine")
def test_a_profile_folder_in_a_read_only_place_gives_way_and_is_said(tmp_path: Path) -> None:
    flags, notes = _profile_flags("/proc/sys/ci-profile", tmp_path)
    assert len(flags) == 1 and flags[0].startswith(f"--user-data-dir={tmp_path}/")  # the environment's own
    assert notes == ["the suite's Chrome profile folder /proc/sys/ci-profile cannot be written in the function (only /tmp is); a fresh one in /tmp was used"]
