"""A suite or plugin with an option of the plugin's short names keeps it (runner/option_names.py).

SeleniumBase registers ``--window-size`` (dest ``window_size``); suites' conftests add
``--artifacts`` or ``--run-id``. Before, pytest refused to start with both installed.
"""

from __future__ import annotations

import gc

import pytest

from lambda_ui.runner.forwarding import forwarded_args

#: A conftest like many real suites': its own --artifacts, --run-id and --window-size.
SUITE_OPTIONS = """
import pytest

def pytest_addoption(parser):
    parser.addoption("--artifacts", default="none")
    parser.addoption("--run-id")
    parser.addoption("--window-size")

@pytest.fixture
def suite_options(request):
    return tuple(request.config.getoption(name) for name in ("artifacts", "run_id", "window_size"))
"""

#: What SeleniumBase's plugin does: its own group, its own dest ``window_size``.
SELENIUMBASE_LIKE = """
def pytest_addoption(parser):
    group = parser.getgroup("SeleniumBase", "SeleniumBase specific configuration options")
    group.addoption("--window-size", "--window_size", action="store", dest="window_size", default=None)
"""


def test_a_conftest_keeps_its_own_artifacts_run_id_and_window_size(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SUITE_OPTIONS)
    pytester.makepyfile(
        """
        def test_options(suite_options, artifacts):
            assert suite_options == ("build/out", "42", "1920,1080")
            artifacts.save("note.txt", "the plugin's artifacts")
        """
    )
    shots = pytester.path / "shots"
    result = pytester.runpytest_subprocess(
        "--artifacts", "build/out", "--run-id=42", "--window-size=1920,1080",
        f"--lambda-ui-artifacts={shots}", "--lambda-ui-run-id=r1", "--lambda-ui-window-size=800x600",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "lambda-ui: --window-size is the suite's or a plugin's own option; the plugin's is --lambda-ui-window-size",
        "lambda-ui: --artifacts is the suite's or a plugin's own option; the plugin's is --lambda-ui-artifacts",
        "lambda-ui: --run-id is the suite's or a plugin's own option; the plugin's is --lambda-ui-run-id",
    ])
    assert [p.read_text() for p in (shots / "r1").rglob("note.txt")] == ["the plugin's artifacts"]


def test_a_plugin_loaded_first_keeps_window_size_and_its_dest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(sbplugin=SELENIUMBASE_LIKE)
    pytester.makepyfile("def test_size(request):\n    assert request.config.getoption('window_size') == '1920,1080'\n")
    pytester.syspathinsert()
    # "1920,1080" is SeleniumBase's format; read as the plugin's own size it is a usage error.
    result = pytester.runpytest_subprocess("-p", "sbplugin", "--window-size=1920,1080")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["lambda-ui: --window-size is an option of 'SeleniumBase'; the plugin's is --lambda-ui-window-size"])


def test_short_names_work_and_say_nothing_when_free(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_saves(artifacts):\n    artifacts.save('note.txt', 'x')\n")
    result = pytester.runpytest_subprocess("--artifacts", "out", "--run-id", "r2", "--window-size", "800x600")
    result.assert_outcomes(passed=1)
    assert "lambda-ui: --" not in result.stdout.str()
    assert len(list((pytester.path / "out" / "r2").rglob("note.txt"))) == 1


def test_a_value_after_a_short_name_is_not_taken_for_a_test_path(pytester: pytest.Pytester) -> None:
    # pytest reads the command line once before the short names exist: `out` looked like a
    # path, so the initial conftests came from there, not from testpaths, and the suite's
    # own option was unknown.
    pytester.makeini("[pytest]\ntestpaths = checks\n")
    checks = pytester.mkdir("checks")
    (checks / "conftest.py").write_text("def pytest_addoption(parser):\n    parser.addoption('--env-name')\n")
    (checks / "test_env.py").write_text("def test_env(request):\n    assert request.config.getoption('env_name') == 'qa'\n")
    result = pytester.runpytest_subprocess("--artifacts", "out", "--env-name=qa")
    result.assert_outcomes(passed=1)


def test_the_plugin_s_options_reach_the_function_by_their_long_names(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makeconftest("def pytest_addoption(parser):\n    parser.addoption('--run-id')\n")
    pytester.makepyfile("def test_a(): pass")
    gc.collect()
    config = pytester.parseconfigure("--run-id=nightly-7", "--window-size=800x600", "--artifacts-mode=filmstrip", "--lambda-ui-run-id=r3", "--artifacts=s3://b/p")
    # The suite's --run-id goes with the tests; the plugin's run id and destination are the client's.
    assert forwarded_args(config) == ["--run-id=nightly-7", "--lambda-ui-window-size=800x600", "--lambda-ui-artifacts-mode=filmstrip"]


#: A conftest with ini keys of the plugin's short names, as public suites have
#: (``artifacts``: "the manifest file for artifacts"); pytest lets the second registration
#: of an ini key replace the first without a word.
SUITE_INI_KEYS = """
def pytest_addoption(parser):
    parser.addini("artifacts", "The manifest file for artifacts")
    parser.addini("window_size", "the suite's screen sizes", type="args")
"""


def test_a_suite_keeps_its_own_ini_keys_and_the_plugin_reads_its_long_ones(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SUITE_INI_KEYS)
    pytester.makeini("[pytest]\nartifacts = manifest.yaml\nwindow_size = 1920x1080 800x600\nlambda_ui_artifacts = shots\nlambda_ui_window_size = 640x480\n")
    pytester.makepyfile(
        """
        def test_keys(pytestconfig, artifacts, browser):
            assert pytestconfig.getini("artifacts") == "manifest.yaml"
            assert pytestconfig.getini("window_size") == ["1920x1080", "800x600"]
            assert browser.get_window_size() == {"width": 640, "height": 480}
            artifacts.save("note.txt", "the plugin's artifacts")
        """
    )
    result = pytester.runpytest_subprocess("--run-id=r4")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "lambda-ui: ini key window_size is the suite's or a plugin's own; the plugin's is lambda_ui_window_size",
        "lambda-ui: ini key artifacts is the suite's or a plugin's own; the plugin's is lambda_ui_artifacts",
    ])
    assert [p.read_text() for p in (pytester.path / "shots" / "r4").rglob("note.txt")] == ["the plugin's artifacts"]
    assert not (pytester.path / "manifest.yaml").exists()


def test_short_ini_keys_work_when_free_and_the_long_ones_win(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nartifacts = short-out\nartifacts_mode = filmstrip\nwindow_size = 700x500\nlambda_ui_window_size = 640x480\n")
    pytester.makepyfile(
        """
        def test_keys(browser):
            assert browser.get_window_size() == {"width": 640, "height": 480}
            browser.get("about:blank")
        """
    )
    result = pytester.runpytest_subprocess("--run-id=r5", "--strict-config")
    result.assert_outcomes(passed=1)
    assert "lambda-ui: ini key" not in result.stdout.str()
    # filmstrip from the short key: a screenshot after the navigation, in the short key's folder.
    assert list((pytester.path / "short-out" / "r5").rglob("filmstrip/*.png"))
