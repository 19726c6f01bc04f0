"""Mistakes a new user makes: one clear message, a non-zero exit, no traceback wall."""

from __future__ import annotations

import fnmatch
import os
import stat

import pytest

BROWSER_TEST = """
def test_uses_browser(browser):
    browser.get("about:blank")
"""


def _assert_one_clear_error(result: pytest.RunResult, *patterns: str) -> str:
    """Exit code != 0, no traceback, and each pattern said exactly once."""
    assert result.ret != 0
    output = result.stdout.str() + "\n" + result.stderr.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    for pattern in patterns:
        matching = [line for line in output.splitlines() if fnmatch.fnmatch(line, f"*{pattern}*")]
        assert len(matching) == 1, (pattern, output)
    return output


@pytest.fixture
def no_chrome_path(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path_factory.mktemp("emptybin")
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("CHROME_BINARY", raising=False)
    monkeypatch.delenv("CHROMEDRIVER", raising=False)


@pytest.mark.parametrize("xdist", [False, True])
def test_no_chrome_on_path(pytester: pytest.Pytester, no_chrome_path: None, xdist: bool) -> None:
    pytester.makepyfile(BROWSER_TEST)
    args = ["-n", "2"] if xdist else []
    result = pytester.runpytest_subprocess(*args)
    _assert_one_clear_error(result, "no Chrome (looked at --chrome-binary (not set)", "apt-get install chromium chromium-driver")


def test_no_chrome_is_fine_without_browser_tests(pytester: pytest.Pytester, no_chrome_path: None) -> None:
    pytester.makepyfile("def test_plain():\n    assert True\n")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_named_chrome_that_does_not_exist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BROWSER_TEST)
    result = pytester.runpytest_subprocess("--chrome-binary=/nowhere/chrome")
    _assert_one_clear_error(result, "Chrome named by --chrome-binary is not an executable file: '/nowhere/chrome'")


def test_chrome_from_environment_wins_over_path(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    monkeypatch.setenv("CHROME_BINARY", "/nowhere/from-env")
    pytester.makepyfile(BROWSER_TEST)
    result = pytester.runpytest_subprocess()
    _assert_one_clear_error(result, "Chrome named by $CHROME_BINARY is not an executable file: '/nowhere/from-env'")
    # ...and the ini option wins over the environment, the command line over both.
    pytester.makeini("[pytest]\nchrome_binary = /nowhere/from-ini\n")
    _assert_one_clear_error(pytester.runpytest_subprocess(), "named by ini chrome_binary")
    _assert_one_clear_error(pytester.runpytest_subprocess("--chrome-binary=/nowhere/cli"), "named by --chrome-binary")


def test_unwritable_artifacts_folder(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BROWSER_TEST)
    blocker = pytester.path / "not-a-dir"
    blocker.write_text("a file where a folder should be")
    result = pytester.runpytest_subprocess(f"--artifacts={blocker}/sub")
    _assert_one_clear_error(result, "cannot write artifacts to", "Choose a writable folder with --artifacts DIR")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_read_only_artifacts_folder(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BROWSER_TEST)
    ro = pytester.mkdir("ro")
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    _assert_one_clear_error(pytester.runpytest_subprocess(f"--artifacts={ro}"), "cannot write artifacts to")


def test_bad_window_size(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BROWSER_TEST)
    result = pytester.runpytest_subprocess("--window-size=big")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--window-size: window size must look like 1280x900, got 'big'*"])


def test_bad_artifacts_mode_in_ini(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BROWSER_TEST)
    pytester.makeini("[pytest]\nartifacts_mode = video\n")
    _assert_one_clear_error(pytester.runpytest_subprocess(), "expected one of failure, filmstrip, got 'video'")


def test_missing_bucket(pytester: pytest.Pytester, s3_env) -> None:  # noqa: ANN001
    pytester.makepyfile(BROWSER_TEST)
    result = pytester.runpytest_subprocess("--artifacts=s3://no-such-bucket/x")
    _assert_one_clear_error(result, "bucket 'no-such-bucket' does not exist at http://127.0.0.1:*. Create it, or fix the s3:// destination.")


def test_s3_endpoint_refusing_connections(pytester: pytest.Pytester, s3_env, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    from stand_ins.services import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{free_port()}")
    pytester.makepyfile(BROWSER_TEST)
    result = pytester.runpytest_subprocess("--artifacts=s3://some-bucket/x")
    _assert_one_clear_error(result, "cannot reach S3 at http://127.0.0.1:*", "AWS_ENDPOINT_URL_S3")


def test_s3_url_without_bucket(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(BROWSER_TEST)
    _assert_one_clear_error(pytester.runpytest_subprocess("--artifacts=s3://"), "no bucket in 's3://'")
