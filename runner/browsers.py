"""One warm browser, reset between tests and restarted when it is unhealthy.

Used per pytest process locally and per execution environment in Lambda: a new
Chrome costs seconds, a reset tens of milliseconds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from runner.chrome import ChromeProcess

log = logging.getLogger(__name__)

#: The localStorage/sessionStorage/IndexedDB of every origin, not only the current one.
_ALL_ORIGINS = {"origin": "*", "storageTypes": "all"}


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

    def acquire(self) -> ChromeProcess:
        """Return a healthy browser in a clean state, restarting it if needed."""
        if self.current is not None:
            try:
                self._reset(self.current)
                return self.current
            except Exception as exc:  # a test closed or crashed its browser
                log.info("browser unhealthy, restarting: %s", exc)
                self.current.stop()
                self.current = None
        self.current = self._start()
        self.starts += 1
        self._drain_console(self.current)
        return self.current

    def _reset(self, chrome: ChromeProcess) -> None:
        driver = chrome.driver
        handles = driver.window_handles  # raises at once if the session is gone
        for extra in handles[1:]:
            driver.switch_to.window(extra)
            driver.close()
        driver.switch_to.window(handles[0])
        driver.get("about:blank")
        driver.delete_all_cookies()
        driver.execute_cdp_cmd("Storage.clearDataForOrigin", _ALL_ORIGINS)
        width, height = self._window_size
        if driver.get_window_size() != {"width": width, "height": height}:
            driver.set_window_size(width, height)
        self._drain_console(chrome)

    @staticmethod
    def _drain_console(chrome: ChromeProcess) -> None:
        # chromedriver hands out each console entry once; drop the previous test's.
        try:
            chrome.driver.get_log("browser")
        except Exception:
            pass

    def shutdown(self) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None
