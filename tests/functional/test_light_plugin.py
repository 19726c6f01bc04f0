"""The installed plugin costs a plain pytest run almost nothing (issue 14, item 3).

Without ``--lambda`` and without a test that uses the plugin, a run loads neither boto3
nor the AWS adapters, the local Lambda, selenium or psutil, and keeps Python's own
SIGTERM behaviour. Once the session uses the plugin (its fixtures, ``--lambda``), the
SIGTERM handler that lets a cancelled CI job tear down and report is installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from stand_ins.fake_invoke_api import FakeInvokeApi

#: What a plain run must not import: the AWS side, the stand-in, the browser side.
HEAVY = ("boto3", "botocore", "selenium", "psutil", "lambda_ui.runner.aws", "lambda_ui.local_lambda", "lambda_ui.runner.session")

#: Written by the suite's conftest when the session ends (before the plugin restores SIGTERM).
PROBE = f"HEAVY = {HEAVY!r}\n" + """
import json, signal, sys


def pytest_sessionfinish(session):
    handler = signal.getsignal(signal.SIGTERM)
    loaded = {m if m.startswith("lambda_ui") else m.split(".")[0] for m in sys.modules if any(m == h or m.startswith(h + ".") for h in HEAVY)}
    name = "default" if handler is signal.SIG_DFL else f"{handler.__module__}.{handler.__qualname__}"
    with open("probe.json", "w") as out:
        json.dump({"loaded": sorted(loaded), "sigterm": name}, out)
"""

#: The plugin's handler, as the probe names it.
PLUGIN_HANDLER = "lambda_ui.runner.signals._interrupt"


def _run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    # pytest-selenium (installed for other tests) imports selenium when pytest loads it; the
    # autouse fixture in tests/conftest.py keeps it out of this run, as of every unmarked test's.
    pytester.makeconftest(PROBE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    probe = json.loads((pytester.path / "probe.json").read_text())
    return result, probe


def test_a_plain_run_loads_no_aws_no_browser_code_and_keeps_sigterm(pytester: pytest.Pytester) -> None:
    # A failing test too: its report goes through the failure capture, which looks for drivers.
    pytester.makepyfile(test_plain="def test_passes():\n    assert True\n\ndef test_fails():\n    assert False\n")
    result, probe = _run(pytester, "--window-size=800x600")  # the plugin's own option: it is loaded
    result.assert_outcomes(passed=1, failed=1)
    assert probe == {"loaded": [], "sigterm": "default"}


def test_a_test_using_the_artifacts_fixture_arms_sigterm_without_loading_selenium(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_files="def test_saves(artifacts):\n    assert artifacts.save('note.txt', 'hello')\n")
    result, probe = _run(pytester, "--artifacts=out", "--run-id=r1")
    result.assert_outcomes(passed=1)
    assert probe == {"loaded": [], "sigterm": PLUGIN_HANDLER}
    assert (pytester.path / "out" / "r1" / "test_files.py" / "test_saves" / "note.txt").read_text() == "hello"


def test_collecting_a_browser_test_arms_sigterm(pytester: pytest.Pytester) -> None:
    """A session that will open the browser is active from the end of collection (no Chrome here: --co)."""
    pytester.makepyfile(test_ui="def test_page(browser):\n    pass\n")
    result, probe = _run(pytester, "--co")
    assert result.ret == pytest.ExitCode.OK
    assert probe["sigterm"] == PLUGIN_HANDLER


def test_a_suite_that_loads_selenium_itself_arms_sigterm(pytester: pytest.Pytester) -> None:
    """Its own drivers would be left running by a kill; the plugin also captures from them on failure."""
    pytester.makepyfile(test_own="import selenium.webdriver\n\ndef test_x():\n    pass\n")
    result, probe = _run(pytester)
    result.assert_outcomes(passed=1)
    assert probe["sigterm"] == PLUGIN_HANDLER


def test_lambda_loads_the_aws_side_and_arms_sigterm(pytester: pytest.Pytester, fake_lambda: FakeInvokeApi, bucket: str) -> None:
    pytester.makepyfile(test_plain="def test_passes():\n    pass\n")
    result, probe = _run(pytester, "--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs", "--lambda-dry-run")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert {"boto3", "botocore", "lambda_ui.runner.aws", "lambda_ui.runner.session"} <= set(probe["loaded"])
    assert probe["sigterm"] == PLUGIN_HANDLER
    assert fake_lambda.state.calls == []


def test_the_public_names_load_on_first_use() -> None:
    script = (
        "import sys, lambda_ui.runner as r\n"
        "assert 'selenium' not in sys.modules\n"
        "assert {'Artifacts', 'chrome_options', 'chrome_service'} <= set(dir(r))\n"
        "from lambda_ui.runner import chrome_options, Artifacts\n"
        "assert callable(chrome_options) and Artifacts.__name__ == 'Artifacts'\n"
        "assert 'selenium' in sys.modules\n"
        "try:\n    r.no_such_name\nexcept AttributeError as exc:\n    assert 'no_such_name' in str(exc)\nelse:\n    raise SystemExit('no AttributeError')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_find_drivers_sees_drivers_once_selenium_is_loaded_and_none_before(monkeypatch: pytest.MonkeyPatch) -> None:
    from selenium.webdriver.remote.webdriver import WebDriver

    from lambda_ui.runner.artifacts.drivers import find_drivers

    driver = WebDriver.__new__(WebDriver)  # no session: discovery reads no attribute of it
    item = SimpleNamespace(funcargs={"driver": driver})
    assert find_drivers(item) == [("driver", driver)]  # type: ignore[arg-type]
    # A process that never imported selenium's WebDriver module holds no WebDriver.
    monkeypatch.delitem(sys.modules, "selenium.webdriver.remote.webdriver")
    assert find_drivers(item) == []  # type: ignore[arg-type]


def test_another_plugin_s_browser_fixture_stays_the_suite_s(pytester: pytest.Pytester) -> None:
    # pytest-splinter and pytest-playwright name their fixture `browser` too: a suite written for
    # one of them got this plugin's Chrome instead once the plugin was installed.
    pytester.makepyfile(
        other_browser_plugin="import pytest\n\n@pytest.fixture\ndef browser():\n    return 'theirs'\n",
        test_x="def test_x(browser):\n    assert browser == 'theirs'\n",
    )
    result = pytester.runpytest_subprocess("-p", "other_browser_plugin", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["lambda-ui: the browser fixture is other_browser_plugin's; the plugin's own is off"])
    assert "the browser fixture is" not in pytester.runpytest_subprocess("-p", "no:cacheprovider", "--co").stdout.str()
