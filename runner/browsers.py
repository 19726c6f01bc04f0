"""One warm browser, reset between tests and restarted when it is unhealthy.

Used per pytest process locally and per execution environment in Lambda: a new
Chrome costs seconds, a reset tens of milliseconds.

A browser that stops answering (a page spinning in JavaScript, a screenshot
that never finishes) is killed, not waited on: every call the plugin makes on
it is bounded, and a capture abandoned after its bound kills it through
:func:`abandon`. Each browser also has a watchdog process that kills it when
the pytest process ends without stopping it (SIGKILL, a crash), so no
chrome or chromedriver outlives the run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

import psutil

from lambda_ui.runner.chrome import CallTimeout, ChromeProcess, call_within

log = logging.getLogger(__name__)

#: The localStorage/sessionStorage/IndexedDB of every origin, not only the current one.
_ALL_ORIGINS = {"origin": "*", "storageTypes": "all"}
#: A new WebDriver session's timeouts (W3C WebDriver, "timeouts" defaults), in ms.
_DEFAULT_TIMEOUTS_MS = {"implicit": 0, "pageLoad": 300_000, "script": 30_000}
#: A reset takes tens of milliseconds; one that takes this long means a hung browser.
RESET_TIMEOUT_S = 15.0

#: Every live manager, so that a capture abandoned on a driver can find the browser it belongs to.
_managers: weakref.WeakSet[BrowserManager] = weakref.WeakSet()


class BrowserHung(Exception):
    """The browser did not answer within its bound."""


class BrowserManager:
    """Hands out a clean browser per test.

    ``start`` creates a new :class:`ChromeProcess`; it is called lazily, so a
    session without browser tests never starts Chrome.
    """

    def __init__(self, start: Callable[[], ChromeProcess], window_size: tuple[int, int]) -> None:
        self._start = start
        self._window_size = window_size
        self.current: ChromeProcess | None = None
        self.starts = 0
        #: Set when a test sends the current browser a DevTools command (:func:`_watch_cdp`).
        self._cdp_used = threading.Event()
        self._watchdog: Watchdog | None = None
        _managers.add(self)

    def acquire(self) -> ChromeProcess:
        """Return a healthy browser in a clean state, restarting it if needed."""
        if self.current is not None:
            try:
                if self.current.stopped:
                    raise BrowserHung("it was killed after it stopped answering")
                _within(RESET_TIMEOUT_S, self.current.driver, lambda _: self._reset(self.current))  # type: ignore[arg-type]
                return self.current
            except Exception as exc:  # a test closed, crashed or hung its browser
                log.info("browser unhealthy, restarting: %s", exc)
                self._discard(polite=not isinstance(exc, BrowserHung))
        self.current = self._start()
        self.starts += 1
        self._watchdog = Watchdog.watch(self.current)
        _watch_cdp(self.current.driver, self._cdp_used)
        self._drain_console(self.current)
        return self.current

    def _reset(self, chrome: ChromeProcess) -> None:
        driver = chrome.driver
        handles = driver.window_handles  # raises at once if the session is gone
        if self._cdp_used.is_set():
            # The test sent DevTools commands: overrides (timezone, geolocation, device metrics,
            # network conditions, blocked URLs) live on its tab, so it gets a new one. About
            # twice the cost of the usual reset, paid only after such a test.
            _past_dialog(driver, lambda: driver.switch_to.new_window("tab"))
            fresh = driver.current_window_handle
            for old in handles:
                driver.switch_to.window(old)
                driver.close()
            driver.switch_to.window(fresh)
            driver.execute_cdp_cmd("Browser.resetPermissions", {})
        else:
            for extra in handles[1:]:
                driver.switch_to.window(extra)
                driver.close()
            driver.switch_to.window(handles[0])
            _past_dialog(driver, lambda: driver.get("about:blank"))
        driver.delete_all_cookies()
        driver.execute_cdp_cmd("Storage.clearDataForOrigin", _ALL_ORIGINS)
        # A test's implicitly_wait() or page load timeout would otherwise hold for whichever tests
        # this browser runs next: W3C's defaults, as a new session starts with.
        driver.execute("setTimeouts", _DEFAULT_TIMEOUTS_MS)
        self._cdp_used.clear()  # the reset's own DevTools calls are not a test's
        width, height = self._window_size
        if driver.get_window_size() != {"width": width, "height": height}:
            driver.set_window_size(width, height)
        self._drain_console(chrome)

    @staticmethod
    def _drain_console(chrome: ChromeProcess) -> None:
        # chromedriver hands out each console entry once; drop the previous test's.
        try:
            _within(RESET_TIMEOUT_S, chrome.driver, lambda d: d.get_log("browser"))
        except Exception:
            pass

    def kill_if_mine(self, driver: Any) -> bool:
        """Kill the current browser at once if ``driver`` is its driver; the next test gets a new one."""
        chrome = self.current
        if chrome is None or chrome.driver is not driver or chrome.stopped:
            return False
        log.warning("the browser did not answer in time; it is killed and restarted for the next test")
        chrome.kill()
        self._release_watchdog()
        return True

    def _discard(self, polite: bool) -> None:
        if self.current is not None:
            self.current.stop() if polite else self.current.kill()
            self.current = None
        self._release_watchdog()

    def _release_watchdog(self) -> None:
        if self._watchdog is not None:
            self._watchdog.release()
            self._watchdog = None

    def shutdown(self) -> None:
        self._discard(polite=True)


def _past_dialog(driver: Any, call: Callable[[], object]) -> None:
    """``call``, once more after a dialog the test left open (``alert()``): chromedriver
    refuses the first page command while dismissing it. The browser is fine; restarting it
    would cost a Chrome start."""
    from selenium.common.exceptions import UnexpectedAlertPresentException

    try:
        call()
    except UnexpectedAlertPresentException:
        with contextlib.suppress(Exception):
            driver.switch_to.alert.dismiss()  # already gone under "dismiss and notify"
        call()


def _watch_cdp(driver: Any, used: threading.Event) -> None:
    """Set ``used`` whenever ``driver.execute_cdp_cmd`` is called from here on (a new browser:
    clear until then).

    Tests reach DevTools through that method; the reset's own calls set it too, and it
    is cleared after them (see ``_reset``), so only a test's calls count."""
    used.clear()
    send = driver.execute_cdp_cmd

    def execute_cdp_cmd(cmd: str, cmd_args: dict[str, Any]) -> Any:
        used.set()
        return send(cmd, cmd_args)

    driver.execute_cdp_cmd = execute_cdp_cmd


def abandon(driver: Any) -> bool:
    """A call on ``driver`` was given up: kill its browser if it is one of ours.

    The browser would otherwise stay busy with the abandoned call, and the next
    request to it (the next test's reset, the quit at the end) would wait too.
    A driver the suite built itself is left to the suite.
    """
    return any(manager.kill_if_mine(driver) for manager in list(_managers))


def _within(seconds: float, driver: Any, call: Callable[[Any], Any]) -> Any:
    """``call(driver)`` for at most ``seconds``; :class:`BrowserHung` after that."""
    try:
        return call_within(driver, call, seconds)
    except CallTimeout as exc:
        raise BrowserHung(str(exc)) from None


#: Runs in the watchdog process: waits for its owner to go, then kills what it left.
_WATCHDOG = r"""
import json, os, shutil, signal, sys
if sys.stdin.buffer.read() == b"released":
    sys.exit(0)
import psutil
spec = json.loads(os.environ["LAMBDA_UI_WATCHDOG"])
try:
    leader = psutil.Process(spec["pid"])
    if leader.create_time() == spec["created"]:  # not a new process under a reused pid
        os.killpg(spec["pid"], signal.SIGKILL)
except (psutil.Error, OSError):
    pass
victims = []
for proc in psutil.process_iter(["cmdline"]):
    try:
        if proc.pid != os.getpid() and any(spec["marker"] in part for part in proc.info["cmdline"] or []):
            victims.append(proc)
    except psutil.Error:
        pass
for proc in victims:
    try:
        proc.kill()
    except psutil.Error:
        pass
psutil.wait_procs(victims, timeout=3)
shutil.rmtree(spec["marker"], ignore_errors=True)
"""


class Watchdog:
    """A small process that kills one browser if its owner dies without stopping it.

    It reads a pipe only the owner holds: end of file without the word
    ``released`` means the owner is gone, however it ended. It runs in a
    session of its own, so a signal to the owner's process group spares it.
    """

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process

    @classmethod
    def watch(cls, chrome: ChromeProcess) -> Watchdog | None:
        try:
            created = psutil.Process(chrome.driver_pid).create_time()
            spec = json.dumps({"pid": chrome.driver_pid, "created": created, "marker": chrome.workdir})
            process = subprocess.Popen(
                [sys.executable, "-c", _WATCHDOG],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "LAMBDA_UI_WATCHDOG": spec},  # not on the command line: kill_marked would match it
                start_new_session=True,
                cwd="/",
            )
        except (OSError, psutil.Error) as exc:
            log.warning("no watchdog for the browser (%s): a killed pytest may leave it running", exc)
            return None
        return cls(process)

    def release(self) -> None:
        """The owner stopped the browser itself: let the watchdog go without killing anything."""
        stdin = self._process.stdin
        with contextlib.suppress(OSError, ValueError):
            if stdin is not None:
                stdin.write(b"released")
                stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired, ChildProcessError):
            self._process.wait(timeout=5)
