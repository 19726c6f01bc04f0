"""Stop a test before Lambda's own timeout does, and keep what it was looking at.

At the deadline a signal interrupts the main thread wherever it is (a
blocking WebDriver call included), the current test's screenshot, page source
and console log are captured, and the test fails with a clear message. The
handler then still has its margin to upload and answer.

Not SIGALRM and the process's one real-time timer: those belong to the suite.
pytest-timeout's signal method (``timeout = 300`` in many Selenium suites) sets
its own SIGALRM handler and timer around every test and cancels the timer after
it, which silently cancelled a deadline kept there: a hung test then ran into
Lambda's own timeout, three times. A watchdog thread sends
:data:`DEADLINE_SIGNAL`, a real-time signal, to the main thread instead.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any

#: A real-time signal: no common library or pytest plugin uses one. A test that blocks it
#: in the main thread (``signal.pthread_sigmask``) keeps the deadline out.
DEADLINE_SIGNAL = signal.SIGRTMIN + 2

_lock = threading.Lock()
#: The armed deadline; the signal handler stays installed once set, so a signal that
#: arrives after ``disarm`` finds nothing armed instead of the default action (exit).
_armed: Deadline | None = None
_installed = False


def _on_signal(signum: int, frame: FrameType | None) -> None:
    deadline = _armed
    if deadline is not None:
        deadline._fire(frame)


class LambdaDeadlineExceeded(BaseException):
    """Raised inside the running test when the invocation's time is nearly up.

    Not an ``Exception``, as pytest-timeout's is not: an ``except Exception`` on the way
    (a retry loop in the suite, in Selenium, or the Chrome start's own retry here) would
    swallow it, and the test would run on into Lambda's timeout with nothing to stop it
    again. pytest still reports it as the test's failure (it catches every ``BaseException``
    but ``Exit`` and ``KeyboardInterrupt``).
    """


class Deadline:
    def __init__(self, on_expiry: Callable[[], bool]) -> None:
        """``on_expiry`` captures what the running test shows; False when no test was running."""
        self._on_expiry = on_expiry
        self._started = 0.0
        self.expired = False
        self._watchdog: threading.Timer | None = None

    def arm(self, seconds: float, began: float | None = None) -> None:
        """Fire in ``seconds``; the message counts from ``began`` (a ``time.monotonic()``
        value: the invocation's start), or from now. Call from the main thread."""
        global _armed, _installed
        self._started = time.monotonic() if began is None else began
        self.expired = False
        if not _installed:
            signal.signal(DEADLINE_SIGNAL, _on_signal)
            _installed = True
        with _lock:
            _armed = self
        self._watchdog = threading.Timer(max(seconds, 0.001), self._interrupt, args=(threading.main_thread().ident,))
        self._watchdog.daemon = True
        self._watchdog.name = "lambda-ui-deadline"
        self._watchdog.start()

    def _interrupt(self, main_thread: Any) -> None:
        with _lock:  # not once disarm has run: the next invocation's code must not get it
            if _armed is self:
                signal.pthread_kill(main_thread, DEADLINE_SIGNAL)

    def disarm(self) -> None:
        global _armed
        with _lock:
            if _armed is self:
                _armed = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _fire(self, frame: FrameType | None) -> None:
        if self.expired:
            return  # one interruption per invocation; teardown must be left to finish
        self.expired = True
        elapsed = time.monotonic() - self._started
        in_test = True  # a capture that raised had a test to capture
        try:
            in_test = self._on_expiry()
        finally:
            raise LambdaDeadlineExceeded(_message(elapsed, in_test))


def _message(elapsed_s: float, in_test: bool) -> str:
    if in_test:
        return (
            f"timed out in Lambda after {elapsed_s:.0f} s: the test was stopped before the function's own timeout "
            "so that its screenshot, page source and console log could be saved (see deadline-* artifacts)"
        )
    return (
        f"timed out in Lambda after {elapsed_s:.0f} s before the test began: pytest's start (conftest.py files, "
        "plugins, pytest_configure hooks, collecting the test's module) took the function's whole time, often a wait "
        "for an app under test that the function's network cannot reach; make it faster, or give the function a longer Timeout"
    )
