"""A test that asked the function for a browser its image lacks is told so (runner/other_browsers.py).

The message is what Selenium 4.51 raised in the function for ``webdriver.Firefox()`` (seen
through the local Lambda: a parametrized chrome/firefox test, chrome passed, firefox failed
after 5 s with nothing saying the image has Chrome only)."""

from __future__ import annotations

import pytest

from lambda_ui.runner.other_browsers import SECTION, OtherBrowsers

NO_FIREFOX = (
    "selenium.common.exceptions.NoSuchDriverException: Message: Unable to obtain driver for firefox; "
    "For documentation on this error, please visit: https://www.selenium.dev/documentation/webdriver/troubleshooting/errors/driver_location"
)


def _report(nodeid: str, outcome: str, text: str | None) -> pytest.TestReport:
    return pytest.TestReport(nodeid, ("test_a.py", 1, nodeid), {}, outcome, text, "setup")


def test_a_test_that_asked_for_firefox_is_told_the_image_has_chrome_only() -> None:
    hints = OtherBrowsers()
    firefox = _report("test_a.py::test_home[firefox]", "failed", NO_FIREFOX)
    chrome = _report("test_a.py::test_home[chrome]", "failed", "Unable to obtain driver for chrome")  # the image's own: another cause
    other = _report("test_a.py::test_other", "failed", "AssertionError: assert 1 == 2")
    passed = _report("test_a.py::test_ok", "passed", None)
    hints.explain([firefox, chrome, other, passed])
    assert [(r.nodeid, r.sections[0][0]) for r in (firefox, chrome, other, passed) if r.sections] == [("test_a.py::test_home[firefox]", SECTION)]
    assert firefox.sections[0][1].startswith("firefox: the function's image has Chrome and its chromedriver only")
    (line,) = hints.summary()
    assert line.startswith("lambda: 1 test(s) asked for firefox (test_a.py::test_home[firefox]): the function's image has Chrome")
    assert OtherBrowsers().summary() == []
