"""SIGTERM ends a run the way Ctrl-C does.

CI systems cancel jobs with SIGTERM. Python's default is to die on the spot,
which leaves Chrome running and, under --lambda, tests unreported. As a
KeyboardInterrupt, pytest unwinds: fixtures and the browser are torn down,
the session reports what it has, and --junitxml is still written.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def sigterm_as_interrupt() -> Any:
    """Install the handler if nobody else has one; return what to restore (or None)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return None  # someone (a host, another plugin) handles it already
    return signal.signal(signal.SIGTERM, _interrupt)


def restore(previous: Any) -> None:
    if previous is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, previous)


class Interrupts:
    """SIGINT and SIGTERM while a --lambda loop runs: remembered, and held back while an answer
    is being reported (:meth:`held_back`)."""

    def __init__(self) -> None:
        self._arrived = threading.Event()
        self._holding = False
        self._pending: tuple[Callable[[int, Any], Any], int] | None = None

    def arrived(self) -> bool:
        return self._arrived.is_set()

    @contextmanager
    def held_back(self) -> Iterator[None]:
        """Within: a signal is only remembered; its handler runs as the block ends. A
        KeyboardInterrupt raised halfway through replaying an answer lost that test's outcome
        (taken from the queue, not yet in pytest's reports); now an answer goes in whole."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
            if (pending := self._pending) is not None:
                self._pending = None
                handler, signum = pending
                handler(signum, None)

    def _handler(self, previous: Callable[[int, Any], Any]) -> Callable[[int, Any], Any]:
        def handler(signum: int, frame: Any) -> Any:
            self._arrived.set()
            if self._holding:
                if self._pending is None:
                    self._pending = (previous, signum)
                return None
            return previous(signum, frame)

        return handler


@contextmanager
def noting_interrupts() -> Iterator[Interrupts]:
    """Within: SIGINT and SIGTERM are also remembered (:meth:`Interrupts.arrived`).

    Python runs a signal's handler in whatever code the main thread executes next. In a
    finalizer (``__del__``, a weakref callback, a collection) the KeyboardInterrupt it
    raises is dropped with an "Exception ignored" line, and a --lambda loop would go on
    waiting for every test. A loop that also asks this still stops.
    """
    interrupts = Interrupts()
    installed: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if callable(previous):  # the default SIGTERM (death) and ignored signals stay as they are
                installed[signum] = previous
                signal.signal(signum, interrupts._handler(previous))
    try:
        yield interrupts
    finally:
        for signum, previous in installed.items():
            signal.signal(signum, previous)
