"""No chrome or chromedriver process outlives a session, whatever the tests did to the browser."""

from __future__ import annotations

import pytest

from tests.support.procs import settled_browser_pids

ROUGH_SUITE = """
import os
import signal

import psutil


def _chrome_pids(browser):
    driver_pid = browser.service.process.pid
    return [p.pid for p in psutil.Process(driver_pid).children(recursive=True)]


def test_1_quits_its_browser(browser):
    browser.get("data:text/html,<h1>one</h1>")
    browser.quit()


def test_2_gets_a_fresh_one(browser):
    browser.get("data:text/html,<h1>two</h1>")
    assert browser.find_element("tag name", "h1").text == "two"


def test_3_kills_chrome(browser):
    browser.get("data:text/html,<h1>three</h1>")
    for pid in _chrome_pids(browser):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # Chrome's helpers exit on their own once the browser process dies


def test_4_still_works(browser):
    browser.get("data:text/html,<h1>four</h1>")
    assert browser.find_element("tag name", "h1").text == "four"


def test_5_kills_chromedriver(browser):
    os.kill(browser.service.process.pid, signal.SIGKILL)


def test_6_still_works(browser):
    browser.get("data:text/html,<h1>six</h1>")
    assert browser.find_element("tag name", "h1").text == "six"


def test_7_leaves_state_behind(browser):
    browser.get("data:text/html,<h1>seven</h1>")
    browser.execute_script("window.open('about:blank')")
"""




@pytest.mark.parametrize("args", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_no_browser_process_survives(pytester: pytest.Pytester, args: list[str], run_tmpdir: str) -> None:
    pytester.makepyfile(test_rough=ROUGH_SUITE)
    result = pytester.runpytest_subprocess(*args)
    result.assert_outcomes(passed=7)
    assert settled_browser_pids(run_tmpdir) == set()


def test_an_alert_left_open_costs_no_browser_restart(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import time

        PIDS = []

        def test_leaves_an_alert(browser):
            PIDS.append(browser.service.process.pid)
            browser.get("data:text/html,<h1>form</h1>")
            browser.execute_script("setTimeout(() => alert('unsaved changes'), 0)")
            time.sleep(0.3)

        def test_next_gets_the_same_browser(browser):
            assert browser.service.process.pid == PIDS[0]
            browser.get("data:text/html,<h1>next</h1>")
            assert browser.find_element("tag name", "h1").text == "next"
        """
    )
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=2)


def test_state_does_not_leak_between_tests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import http.server, threading, pytest

        ZONE = "return Intl.DateTimeFormat().resolvedOptions().timeZone"
        SEEN = {}

        @pytest.fixture(scope="module")
        def site():
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            yield f"http://127.0.0.1:{server.server_port}/"
            server.shutdown()

        def test_a_dirties(browser, site):
            browser.get(site)
            browser.add_cookie({"name": "session", "value": "abc"})
            browser.execute_script("localStorage.setItem('k', 'v'); sessionStorage.setItem('s', 'v')")
            browser.execute_script("window.open('about:blank')")
            browser.set_window_size(500, 400)
            browser.implicitly_wait(7)
            browser.set_page_load_timeout(11)
            browser.set_script_timeout(13)
            SEEN["zone"] = browser.execute_script(ZONE)
            SEEN["tab"] = browser.current_window_handle
            browser.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Pacific/Chatham"})
            assert browser.execute_script(ZONE) == "Pacific/Chatham"

        def test_b_is_clean(browser, site):
            timeouts = browser.timeouts
            assert (timeouts.implicit_wait, timeouts.page_load, timeouts.script) == (0, 300, 30)
            # A DevTools override lives on its tab: after a test that sent one, a new tab.
            assert browser.current_window_handle != SEEN["tab"]
            SEEN["tab"] = browser.current_window_handle
            assert browser.current_url == "about:blank"
            assert len(browser.window_handles) == 1
            assert browser.get_window_size() == {"width": 1280, "height": 900}
            browser.get(site)
            assert browser.get_cookies() == []
            assert browser.execute_script("return [localStorage.getItem('k'), sessionStorage.getItem('s')]") == [None, None]
            assert browser.execute_script(ZONE) == SEEN["zone"]

        def test_c_keeps_the_tab_of_a_test_without_devtools(browser):
            assert browser.current_window_handle == SEEN["tab"]  # the usual, cheaper reset
        """
    )
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=3)
