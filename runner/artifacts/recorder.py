"""The per-test artifacts API and the automatic captures built on it.

Every capture is best effort: a dead browser or a failed upload becomes a
warning on the test, never a change of its outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from lambda_ui.runner.artifacts.drivers import as_webdriver, is_quit, unique_name
from lambda_ui.runner.artifacts.paths import artifact_name, attempt_folder
from lambda_ui.runner.artifacts.sinks import ArtifactSink
from lambda_ui.runner.chrome import CallTimeout, call_within, full_console

PNG = "image/png"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

#: Bounds of one automatic capture: each WebDriver call, and all drivers together.
CALL_TIMEOUT_S = 10.0
CAPTURE_BUDGET_S = 30.0


class CaptureTimeout(Exception):
    """The browser did not answer a capture in time (it is hung, or its page is)."""


class Artifacts:
    """Saves named screenshots, page sources and console logs for one test.

    Available to tests as the ``artifacts`` fixture::

        def test_checkout(browser, artifacts):
            browser.get(url)
            artifacts.screenshot("cart")

    Each method returns the saved file's location (a path or ``s3://`` URL), or
    ``None`` when the capture failed; the failure is reported as a warning.
    They use the first attached driver (the ``browser`` fixture's).
    """

    def __init__(self, sink: ArtifactSink, run_id: str, nodeid: str, attempt: int = 1, rerun: int = 1) -> None:
        self._sink = sink
        self.rerun = rerun
        self._folder = attempt_folder(run_id, nodeid, attempt, rerun)
        #: Drivers attached by name, in order; the first one serves the public methods.
        self._drivers: dict[str, Any] = {}
        self._consoles: dict[int, list[dict[str, Any]]] = {}
        self._used_names: set[str] = set()
        self._frames = 0
        # Reentrant: the deadline's capture runs in a signal handler on the main thread,
        # which it may have interrupted while that thread held this lock.
        self._lock = threading.RLock()
        #: (name, location) of every file saved, in order.
        self.saved: list[tuple[str, str]] = []
        #: Problems met while capturing; reported as warnings.
        self.warnings: list[str] = []
        self.failure_captured = False

    # -- wiring ---------------------------------------------------------------
    def attach(self, driver: Any, name: str = "driver") -> None:
        """Capture from this WebDriver when the test fails.

        For drivers the automatic search cannot see (behind a helper function
        of another module, two attributes into a fixture value, ...). ``name`` names its files when the test holds
        several drivers: ``failure-<name>-screenshot.png``.
        """
        driver = as_webdriver(driver) or driver
        with self._lock:
            if all(d is not driver for d in self._drivers.values()):
                self._drivers[unique_name(name, self._drivers)] = driver

    @property
    def _driver(self) -> Any:
        return next(iter(self._drivers.values()), None)

    @property
    def has_browser(self) -> bool:
        return bool(self._drivers)

    def warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)

    # -- public API -----------------------------------------------------------
    def save(self, name: str, data: bytes | str, content_type: str = "application/octet-stream") -> str:
        """Save any bytes (or text) under ``name`` and return its location."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        with self._lock:
            unique = self._unique(name)
        location = self._sink.put(f"{self._folder}/{unique}", data, content_type, self.warn)
        with self._lock:
            self.saved.append((unique, location))
        return location

    def screenshot(self, name: str = "screenshot") -> str | None:
        """Save a PNG of the current viewport."""
        return self._capture(name, ".png", PNG, lambda d: d.get_screenshot_as_png())

    def page_source(self, name: str = "page") -> str | None:
        """Save the current DOM as HTML."""
        return self._capture(name, ".html", HTML, lambda d: d.page_source)

    def console_log(self, name: str = "console") -> str | None:
        """Save every browser console entry of this test so far."""
        return self._capture(name, ".log", TEXT, self._console_text)

    # -- automatic captures ---------------------------------------------------
    def capture_failure(
        self,
        label: str = "failure",
        found: Sequence[tuple[str, Any]] = (),
        call_timeout_s: float = CALL_TIMEOUT_S,
        budget_s: float = CAPTURE_BUDGET_S,
    ) -> None:
        """Screenshot, page source and console log of a failing test, once per test.

        From every attached driver and every driver ``found`` in the test
        (see :func:`lambda_ui.runner.artifacts.drivers.find_drivers`) that is not
        already quit. ``label`` names the files: ``failure-screenshot.png``,
        or ``deadline-screenshot.png`` when a time limit cut the test short;
        with several drivers each set carries its name:
        ``failure-admin-screenshot.png``.
        """
        if self.failure_captured:
            return
        with self._lock:
            targets = [(name, driver, True) for name, driver in self._drivers.items()]
        taken = {id(driver) for _, driver, _ in targets}
        # A found driver the suite already quit is done with: no request, no warning.
        targets += [(name, driver, False) for name, driver in found if id(driver) not in taken and not is_quit(driver)]
        if not targets:
            return
        self.failure_captured = True
        until = time.monotonic() + budget_s
        used: set[str] = set()
        for name, driver, attached in targets:
            unique = unique_name(name, used)  # an attached name may equal a found one
            used.add(unique)
            prefix = label if len(targets) == 1 else f"{label}-{unique}"
            self._capture_set(prefix, unique, driver, attached, call_timeout_s, until)

    def _capture_set(self, prefix: str, name: str, driver: Any, attached: bool, call_timeout_s: float, until: float) -> None:
        """One driver's three files. An attached driver (asked for by name: the
        ``browser`` fixture, ``attach()``) gets a warning for each file it
        could not give; a found one that turns out gone is skipped quietly."""
        if is_quit(driver):
            # Its chromedriver has exited: no request could succeed. Keep the console
            # entries already taken out of it and say why there is nothing else.
            for filename in (f"{prefix}-screenshot.png", f"{prefix}-page.html"):
                self.warn(f"{filename} not captured: the browser `{name}` was quit (or its driver process ended) before the capture")
            self.save(f"{prefix}-console.log", self._console_text_taken(driver), TEXT)
            return
        grabs: list[tuple[str, str, str, Callable[[Any], Any]]] = [
            ("screenshot", ".png", PNG, lambda d: d.get_screenshot_as_png()),
            ("page", ".html", HTML, lambda d: d.page_source),
            ("console", ".log", TEXT, self._console_text),
        ]
        # Here, not at the top: a driver exists, so selenium is loaded already; a test
        # that only saves files (and a plain run) never pays for importing it.
        from selenium.common.exceptions import InvalidSessionIdException

        for index, (what, extension, content_type, grab) in enumerate(grabs):
            filename = f"{prefix}-{what}{extension}"
            left = until - time.monotonic()
            if left <= 0:
                self.warn(f"{filename} not captured: out of time for captures")
                continue
            try:
                data = bounded(driver, grab, min(call_timeout_s, left))
            except InvalidSessionIdException:
                if index == 0 and not attached:
                    return  # a found Remote driver whose session was quit: nothing to see
                self.warn(f"{filename} not captured: the session of `{name}` has ended")
                continue
            except CaptureTimeout as exc:
                self.warn(f"{filename} not captured: `{name}` did not answer within {exc}; its other captures are skipped")
                return
            except Exception as exc:
                self.warn(f"{filename} not captured: {type(exc).__name__}: {_first_line(exc)}")
                continue
            self.save(filename, data, content_type)

    def filmstrip_frame(self, event: str) -> None:
        with self._lock:
            self._frames += 1
            number = self._frames
        self.screenshot(f"filmstrip/{number:03d}-{event}")

    # -- internals ------------------------------------------------------------
    def _unique(self, name: str) -> str:
        # Keep one optional folder level (filmstrip/...), clean each part.
        parts = [artifact_name(p, "") for p in name.split("/") if p][-2:] or ["artifact"]
        candidate = "/".join(parts)
        stem, dot, ext = candidate.rpartition(".")
        if not dot:
            stem, ext = candidate, ""
        n = 1
        while candidate in self._used_names:
            n += 1
            candidate = f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}"
        self._used_names.add(candidate)
        return candidate

    def _capture(self, name: str, extension: str, content_type: str, grab: Any) -> str | None:
        filename = name if name.endswith(extension) else name + extension
        driver = self._driver
        if driver is None:
            self.warn(f"{filename} not captured: this test has no browser (request the `browser` fixture)")
            return None
        try:
            data = bounded(driver, grab, CALL_TIMEOUT_S)
        except Exception as exc:
            self.warn(f"{filename} not captured: {type(exc).__name__}: {_first_line(exc)}")
            return None
        return self.save(filename, data, content_type)

    def pull_console(self) -> None:
        """Move new console entries out of each attached driver (chromedriver hands each out once)."""
        with self._lock:
            drivers = list(self._drivers.values())
        for driver in drivers:
            if not is_quit(driver):
                self._pull_console_of(driver)

    def _pull_console_of(self, driver: Any) -> None:
        try:
            # Bounded: this runs in every test's teardown, where a hung page must not hang the run.
            entries = bounded(driver, lambda d: d.get_log("browser"), CALL_TIMEOUT_S)
        except Exception:
            return
        with self._lock:
            self._consoles.setdefault(id(driver), []).extend(entries)

    def _console_text(self, driver: Any = None) -> str:
        driver = self._driver if driver is None else driver
        if driver is not None:
            self._pull_console_of(driver)
        return self._console_text_taken(driver)

    def _console_text_taken(self, driver: Any) -> str:
        """The console entries already taken out of ``driver``, as text."""
        with self._lock:
            entries = list(self._consoles.get(id(driver), []))
        lines = []
        for entry in entries:
            stamp = time.strftime("%H:%M:%S", time.gmtime(entry.get("timestamp", 0) / 1000))
            lines.append(f"{stamp} {entry.get('level', '?'):<7} {entry.get('source', '')}: {entry.get('message', '')}")
        if lines:
            return "\n".join(lines) + "\n"
        if driver is None or driver in full_console:
            return "(no console output)\n"
        # The suite started this browser: chromedriver kept what it keeps by default.
        return NO_WARNINGS_OR_ERRORS


#: The empty console log of a browser the suite started itself.
NO_WARNINGS_OR_ERRORS = (
    "(no console warnings or errors; of a browser the suite starts itself, chromedriver keeps only those,"
    ' unless its options set the capability goog:loggingPrefs {"browser": "ALL"})\n'
)


def bounded(driver: Any, grab: Callable[[Any], Any], seconds: float) -> Any:
    """``grab(driver)`` in at most ``seconds``, or :class:`CaptureTimeout`.

    The WebDriver call runs on a thread of its own: its HTTP timeout alone is
    not a bound (urllib3 retries a timed-out GET three times), and at the
    deadline the main thread may be interrupted inside a call on the same
    driver, holding what that call holds.
    """
    try:
        return call_within(driver, grab, seconds)
    except CallTimeout:
        from lambda_ui.runner.browsers import abandon  # psutil, only once a browser hangs

        # The browser is stuck on this call; if it is the plugin's own, kill it now (the next
        # test gets a new one) rather than let every later request, and the quit, wait on it.
        killed = abandon(driver)
        raise CaptureTimeout(f"{seconds:g} s" + ("; the browser was killed and is restarted for the next test" if killed else "")) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""
