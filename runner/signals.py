"""SIGTERM ends a run the way Ctrl-C does.

CI systems cancel jobs with SIGTERM. Python's default is to die on the spot,
which leaves Chrome running and, under --lambda, tests unreported. As a
KeyboardInterrupt, pytest unwinds: fixtures and the browser are torn down,
the session reports what it has, and --junitxml is still written.
"""

from __future__ import annotations

import signal
import threading
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
