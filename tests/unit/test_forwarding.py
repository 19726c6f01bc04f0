"""The local command line as the in-function pytest gets it (runner/forwarding.py)."""

from __future__ import annotations

import gc

import pytest

from lambda_ui.runner.forwarding import ForwardingProblem, forwarded_args, working_folder

CONFTEST = """
def pytest_addoption(parser):
    parser.addoption("--browser", default="")
    parser.addoption("--offset", default="0")
    parser.addoption("--data-dir", default="")
    parser.addoption("--tags", nargs="*", default=[])
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(myplug="", test_a="def test_a(): pass")
    pytester.syspathinsert()
    (pytester.path / "data").mkdir()
    return pytester


def _forward(pytester: pytest.Pytester, *args: str) -> list[str]:
    # A `-W error` below also applies to garbage that earlier tests in this process left
    # (an unclosed socket's ResourceWarning); collect it first so it cannot fail this test.
    gc.collect()
    config = pytester.parseconfigure(*args)
    return forwarded_args(config)


def test_suite_options_plugins_and_overrides_are_forwarded(suite: pytest.Pytester) -> None:
    args = _forward(suite, "--browser", "chrome", "-p", "myplug", "-o", "xfail_strict=true", "-W", "error", "--tb=short", "--capture=sys", "test_a.py")
    assert args == ["--browser=chrome", "-p", "myplug", "--override-ini=xfail_strict=true", "--pythonwarnings=error", "--tb=short", "--capture=sys"]


def test_s_stays_here_the_function_captures_and_the_client_prints(suite: pytest.Pytester) -> None:
    assert _forward(suite, "-s", "--tb=short") == _forward(suite, "--capture=no", "--tb=short") == ["--tb=short"]
    assert _forward(suite, "--capture=tee-sys") == ["--capture=tee-sys"]


def test_client_only_options_stay_behind(suite: pytest.Pytester) -> None:
    args = _forward(
        suite,
        "-k", "a or b", "-m", "slow", "--junitxml=r.xml", "-x", "--maxfail=2", "-n", "2", "--dist=load", "-v", "-ra",
        "--lambda", "--lambda-function=f", "--lambda-pytest-args=-p x", "--deselect", "test_a.py::test_b", "--run-id=r1",
        "--chrome-binary=/usr/bin/chromium", "--durations=5", "--color=yes", "--basetemp=/tmp/bt", "test_a.py::test_a",
    )
    assert args == []


def test_short_option_clusters_split_as_pytest_splits_them(suite: pytest.Pytester) -> None:
    # -vx: two flags, both the client's; -smyplug is not a cluster pytest accepts, so -s then -p
    # (-s itself stays here: the client prints what the tests wrote)
    assert _forward(suite, "-vx", "-spmyplug") == ["-p", "myplug"]
    assert _forward(suite, "-kfoo", "-Werror") == ["--pythonwarnings=error"]


def test_values_that_look_like_options_stay_values(suite: pytest.Pytester) -> None:
    assert _forward(suite, "--offset=-5") == ["--offset=-5"]
    # nargs="*" takes every word up to the next option, as argparse did locally.
    assert _forward(suite, "--tags", "smoke", "fast", "-v", "test_a.py") == ["--tags", "smoke", "fast"]


def test_ini_addopts_and_environment_addopts_come_first_and_are_filtered(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    suite.makeini("[pytest]\naddopts = -p myplug --strict-markers -n 2 --junitxml=x.xml -ra\n")
    monkeypatch.setenv("PYTEST_ADDOPTS", "--browser=firefox -x")
    assert _forward(suite, "--offset", "3") == ["-p", "myplug", "--strict-markers", "--browser=firefox", "--offset=3"]


def test_an_addopts_override_is_not_forwarded(suite: pytest.Pytester) -> None:
    # Its effect arrives expanded (first, as addopts); the handler turns the bundle's own addopts off.
    assert _forward(suite, "-o", "addopts=--browser=x", "-o", "console_output_style=classic") == ["--browser=x", "--override-ini=console_output_style=classic"]


def test_paths_inside_the_rootdir_are_made_relative_to_it(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    suite.makeini("[pytest]\n")
    root = suite.path
    assert _forward(suite, f"--data-dir={root / 'data'}") == ["--data-dir=data"]
    assert _forward(suite, "--confcutdir", str(root)) == ["--confcutdir=."]
    sub = root / "data"
    monkeypatch.chdir(sub)
    # Typed relative to a subfolder of the rootdir: the function's pytest starts in the same
    # folder of the bundle (working_folder), so a value stays relative to it.
    config = suite.parseconfigure("--data-dir=.", "--rootdir", str(root))
    assert working_folder(config) == "data"
    assert forwarded_args(config) == ["--data-dir=."]
    config = suite.parseconfigure(f"--data-dir={root}", "--rootdir", str(root))
    assert forwarded_args(config) == ["--data-dir=.."]


def test_a_path_outside_the_rootdir_is_an_error_naming_the_option(suite: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere")
    with pytest.raises(ForwardingProblem, match=r"--data-dir .*points outside the test bundle"):
        _forward(suite, f"--data-dir={outside}")
    (suite.path.parent / "sibling").mkdir()
    with pytest.raises(ForwardingProblem, match=r"--data-dir '\.\./sibling' points outside"):
        _forward(suite, "--data-dir=../sibling")


def test_ini_path_overrides_are_rewritten_or_refused(suite: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory) -> None:
    suite.makeini("[pytest]\n")
    (suite.path / "src").mkdir()
    assert _forward(suite, "-o", f"pythonpath={suite.path / 'src'}") == ["--override-ini=pythonpath=src"]
    outside = tmp_path_factory.mktemp("libs")
    with pytest.raises(ForwardingProblem, match="-o pythonpath"):
        _forward(suite, "-o", f"pythonpath={outside}")


def test_a_value_that_names_no_file_is_left_alone(suite: pytest.Pytester) -> None:
    assert _forward(suite, "--data-dir=/no/such/place", "--browser=http://127.0.0.1:8000/x") == ["--data-dir=/no/such/place", "--browser=http://127.0.0.1:8000/x"]


def test_debugger_options_are_refused(suite: pytest.Pytester) -> None:
    with pytest.raises(ForwardingProblem, match="--pdb cannot be used with --lambda"):
        _forward(suite, "--pdb")
