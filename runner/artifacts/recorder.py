"""The per-test artifacts API and the automatic captures built on it.

Every capture is best effort: a dead browser or a failed upload becomes a
warning on the test, never a change of its outcome.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from selenium.webdriver.support.abstract_event_listener import AbstractEventListener

from runner.artifacts.paths import artifact_name, nodeid_path
from runner.artifacts.sinks import ArtifactSink

PNG = "image/png"
HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


class Artifacts:
    """Saves named screenshots, page sources and console logs for one test.

    Available to tests as the ``artifacts`` fixture::

        def test_checkout(browser, artifacts):
            browser.get(url)
            artifacts.screenshot("cart")

    Each method returns the saved file's location (a path or ``s3://`` URL), or
    ``None`` when the capture failed; the failure is reported as a warning.
    """

    def __init__(self, sink: ArtifactSink, run_id: str, nodeid: str) -> None:
        self._sink = sink
        self._folder = f"{run_id}/{nodeid_path(nodeid)}"
        self._driver: Any = None
        self._console: list[dict[str, Any]] = []
        self._used_names: set[str] = set()
        self._frames = 0
        self._lock = threading.Lock()
        #: (name, location) of every file saved, in order.
        self.saved: list[tuple[str, str]] = []
        #: Problems met while capturing; reported as warnings.
        self.warnings: list[str] = []
        self.failure_captured = False

    # -- wiring ---------------------------------------------------------------
    def attach(self, driver: Any) -> None:
        """Use this WebDriver for captures (the plain one, not an event-firing wrapper)."""
        self._driver = driver

    @property
    def has_browser(self) -> bool:
        return self._driver is not None

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
        return self._capture(name, ".log", TEXT, lambda d: self._console_text())

    # -- automatic captures ---------------------------------------------------
    def capture_failure(self, label: str = "failure") -> None:
        """Screenshot, page source and console log of a failing test, once per test.

        ``label`` names the files: ``failure-screenshot.png``, or
        ``deadline-screenshot.png`` when a time limit cut the test short.
        """
        if self._driver is None or self.failure_captured:
            return
        self.failure_captured = True
        self.screenshot(f"{label}-screenshot")
        self.page_source(f"{label}-page")
        self.console_log(f"{label}-console")

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
        if self._driver is None:
            self.warn(f"{filename} not captured: this test has no browser (request the `browser` fixture)")
            return None
        try:
            data = grab(self._driver)
        except Exception as exc:
            self.warn(f"{filename} not captured: {type(exc).__name__}: {_first_line(exc)}")
            return None
        return self.save(filename, data, content_type)

    def pull_console(self) -> None:
        """Move new console entries out of chromedriver (it hands each out once)."""
        if self._driver is None:
            return
        try:
            entries = self._driver.get_log("browser")
        except Exception:
            return
        with self._lock:
            self._console.extend(entries)

    def _console_text(self) -> str:
        self.pull_console()
        with self._lock:
            entries = list(self._console)
        lines = []
        for entry in entries:
            stamp = time.strftime("%H:%M:%S", time.gmtime(entry.get("timestamp", 0) / 1000))
            lines.append(f"{stamp} {entry.get('level', '?'):<7} {entry.get('source', '')}: {entry.get('message', '')}")
        return "\n".join(lines) + ("\n" if lines else "(no console output)\n")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


class FilmstripListener(AbstractEventListener):
    """A screenshot after every navigation and every click, streamed as taken."""

    def __init__(self, artifacts: Artifacts) -> None:
        self._artifacts = artifacts

    def after_navigate_to(self, url: str, driver: Any) -> None:
        self._artifacts.filmstrip_frame("navigate")

    def after_navigate_back(self, driver: Any) -> None:
        self._artifacts.filmstrip_frame("back")

    def after_navigate_forward(self, driver: Any) -> None:
        self._artifacts.filmstrip_frame("forward")

    def after_click(self, element: Any, driver: Any) -> None:
        self._artifacts.filmstrip_frame("click")
