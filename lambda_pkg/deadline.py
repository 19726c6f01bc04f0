"""Stop a test before Lambda's own timeout does, and keep what it was looking at.

At the deadline a SIGALRM interrupts the main thread wherever it is (a
blocking WebDriver call included), the current test's screenshot, page source
and console log are captured, and the test fails with a clear message. The
handler then still has its margin to upload and answer.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from types import FrameType


class LambdaDeadlineExceeded(Exception):
    """Raised inside the running test when the invocation's time is nearly up."""


class Deadline:
    def __init__(self, on_expiry: Callable[[], bool]) -> None:
        """``on_expiry`` captures what the running test shows; False when no test was running."""
        self._on_expiry = on_expiry
        self._started = 0.0
        self._seconds = 0.0
        self.expired = False
        self._previous: object = None

    def arm(self, seconds: float, began: float | None = None) -> None:
        """Fire in ``seconds``; the message counts from ``began`` (a ``time.monotonic()``
        value: the invocation's start), or from now."""
        self._started = time.monotonic() if began is None else began
        self._seconds = max(seconds, 0.001)
        self.expired = False
        self._previous = signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, self._seconds)

    def disarm(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if self._previous is not None:
            signal.signal(signal.SIGALRM, self._previous)  # type: ignore[arg-type]
            self._previous = None

    def _fire(self, signum: int, frame: FrameType | None) -> None:
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
