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


@contextmanager
def noting_interrupts() -> Iterator[Callable[[], bool]]:
    """Within: SIGINT and SIGTERM are also remembered; yields "did one arrive?".

    Python runs a signal's handler in whatever code the main thread executes next. In a
    finalizer (``__del__``, a weakref callback, a collection) the KeyboardInterrupt it
    raises is dropped with an "Exception ignored" line, and a --lambda loop would go on
    waiting for every test. A loop that also asks this still stops.
    """
    arrived = threading.Event()
    installed: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(signum)
            if callable(previous):  # the default SIGTERM (death) and ignored signals stay as they are
                installed[signum] = previous
                signal.signal(signum, _noting(arrived, previous))
    try:
        yield arrived.is_set
    finally:
        for signum, previous in installed.items():
            signal.signal(signum, previous)


def _noting(arrived: threading.Event, previous: Callable[[int, Any], Any]) -> Callable[[int, Any], Any]:
    def handler(signum: int, frame: Any) -> Any:
        arrived.set()
        return previous(signum, frame)

    return handler
