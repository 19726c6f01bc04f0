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
    def __init__(self, on_expiry: Callable[[], None]) -> None:
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
        try:
            self._on_expiry()
        finally:
            raise LambdaDeadlineExceeded(
                f"timed out in Lambda after {elapsed:.0f} s: the test was stopped before the function's own timeout "
                "so that its screenshot, page source and console log could be saved (see deadline-* artifacts)"
            )
