"""Work at environment shutdown: an internal extension so SIGTERM arrives, and the callbacks it runs.

Lambda sends SIGTERM to the runtime before it shuts an idle execution environment down
only when an extension is registered; without one the runtime is killed (SIGKILL) with no
warning. So during init the function registers itself as an *internal* extension
(Extensions API ``POST /2020-01-01/extension/register``, ``{"events": []}``: internal
extensions may not subscribe to SHUTDOWN) and parks a thread in ``GET
/extension/event/next``, which Lambda requires of every registered extension before the
init phase ends and which never answers (no events are subscribed).

With an internal extension the runtime gets 500 ms between SIGTERM and SIGKILL. The
callbacks registered with :func:`on_shutdown` run in order within :data:`BUDGET_S` of
that; the process then exits. A callback still running at the end of the budget is cut
(the process exits under it): its work is lost, and the log's ``lambda-ui shutdown:``
line names it. The Python handler runs on the main thread only when that thread is in
Python code, and awslambdaric keeps it in native code while it waits for work (runtimes
before python3.12), so a watcher thread woken by the signal's wakeup byte runs the
callbacks too, whichever comes first.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

#: The name Lambda lists in its EXTENSION log line.
EXTENSION_NAME = "lambda-ui-shutdown"
EXTENSIONS_PATH = "/2020-01-01/extension"
NAME_HEADER = "Lambda-Extension-Name"
IDENTIFIER_HEADER = "Lambda-Extension-Identifier"
#: A loopback call; more than this means something is wrong, and init must not wait on it.
REGISTER_TIMEOUT_S = 2.0
#: Lambda's time between SIGTERM and SIGKILL for a runtime with an internal extension.
GRACE_S = 0.5
#: What the callbacks get: the grace less room to log and exit.
BUDGET_S = 0.4


@dataclass
class ShutdownOutcome:
    """What the shutdown callbacks did: ``cut`` names the one the budget stopped, if any."""

    finished: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cut: str | None = None
    elapsed_ms: float = 0.0

    def line(self) -> str:
        done = f"{len(self.finished)} callback(s) done in {self.elapsed_ms:.0f} ms"
        parts = [done]
        if self.failed:
            parts.append("raised: " + ", ".join(self.failed))
        if self.cut is not None:
            parts.append(f"cut at the {BUDGET_S * 1000:.0f} ms budget: {self.cut} did not finish")
        return "lambda-ui shutdown: " + "; ".join(parts)


def _name(callback: Callable[[], Any]) -> str:
    return str(getattr(callback, "__qualname__", None) or getattr(callback, "__name__", None) or repr(callback))


class ShutdownCallbacks:
    """Callbacks for the end of the environment, run in order, once, within a budget."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[], Any]] = []
        self._lock = threading.Lock()
        self._ran = False

    def add(self, callback: Callable[[], Any]) -> None:
        with self._lock:
            self._callbacks.append(callback)

    def run(self, budget_s: float = BUDGET_S) -> ShutdownOutcome | None:
        """Run every callback within ``budget_s``; None when they ran (or run) already."""
        with self._lock:
            if self._ran:
                return None
            self._ran = True
            callbacks = list(self._callbacks)
        outcome = ShutdownOutcome()
        started = time.monotonic()
        current: list[str] = []

        def work() -> None:
            for callback in callbacks:
                current[:] = [_name(callback)]
                try:
                    callback()
                except Exception as exc:  # one failing callback does not stop the others
                    outcome.failed.append(f"{current[0]} ({type(exc).__name__}: {exc})")
                else:
                    outcome.finished.append(current[0])
            current.clear()

        # A thread of its own, so a callback that blocks cannot hold the exit past the grace.
        worker = threading.Thread(target=work, name="lambda-ui-shutdown", daemon=True)
        worker.start()
        worker.join(budget_s)
        if worker.is_alive():
            outcome.cut = current[0] if current else "?"
        outcome.elapsed_ms = (time.monotonic() - started) * 1000
        return outcome


#: The process's callbacks (one execution environment per process).
CALLBACKS = ShutdownCallbacks()


def on_shutdown(callback: Callable[[], Any]) -> None:
    """Run ``callback`` when Lambda shuts this environment down (SIGTERM), within the budget."""
    CALLBACKS.add(callback)


# -- the extension ------------------------------------------------------------------


def register_request(api: str, name: str = EXTENSION_NAME) -> urllib.request.Request:
    """The Extensions API register call of an internal extension that subscribes to nothing."""
    return urllib.request.Request(
        f"http://{api}{EXTENSIONS_PATH}/register",
        data=json.dumps({"events": []}).encode(),
        headers={NAME_HEADER: name, "Content-Type": "application/json"},
        method="POST",
    )


def next_request(api: str, identifier: str) -> urllib.request.Request:
    return urllib.request.Request(f"http://{api}{EXTENSIONS_PATH}/event/next", headers={IDENTIFIER_HEADER: identifier})


def register_extension(api: str, timeout_s: float = REGISTER_TIMEOUT_S, opener: Any = None) -> str:
    """Register, start the thread parked in ``event/next``, return the extension's identifier.

    Raises OSError (urllib's errors are OSErrors) or ValueError when Lambda refuses.
    """
    open_url = opener or urllib.request.urlopen
    with open_url(register_request(api), timeout=timeout_s) as answer:
        identifier = str(answer.headers.get(IDENTIFIER_HEADER, ""))
        answer.read()
    if not identifier:
        raise ValueError(f"the register answer has no {IDENTIFIER_HEADER} header")
    threading.Thread(target=_park, args=(api, identifier, open_url), name="lambda-ui-extension", daemon=True).start()
    return identifier


def _park(api: str, identifier: str, open_url: Any) -> None:
    # No timeout: the call answers only at shutdown, or never (the process is killed first).
    try:
        with open_url(next_request(api, identifier)) as answer:
            answer.read()
    except OSError:
        pass


# -- the signal ---------------------------------------------------------------------


def _finish(callbacks: ShutdownCallbacks, budget_s: float, exit_: Callable[[int], Any]) -> None:
    outcome = callbacks.run(budget_s)
    if outcome is None:
        return  # the other trigger runs them, and exits
    print(outcome.line(), file=sys.stderr, flush=True)
    exit_(0)


def install_sigterm(
    callbacks: ShutdownCallbacks = CALLBACKS, budget_s: float = BUDGET_S, exit_: Callable[[int], Any] = os._exit
) -> bool:
    """SIGTERM runs ``callbacks`` then exits; False (and nothing installed) off the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return False
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def on_sigterm(signum: int, frame: Any) -> None:
        _finish(callbacks, budget_s, exit_)

    signal.signal(signal.SIGTERM, on_sigterm)
    # The C-level handler writes the signal number here even while the main thread waits
    # in native code and cannot run the Python handler.
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    threading.Thread(target=_watch, args=(read_fd, callbacks, budget_s, exit_), name="lambda-ui-sigterm", daemon=True).start()
    return True


def _watch(read_fd: int, callbacks: ShutdownCallbacks, budget_s: float, exit_: Callable[[int], Any]) -> None:
    while True:
        try:
            data = os.read(read_fd, 64)
        except OSError:
            return
        if not data:
            return
        if signal.SIGTERM in data:  # other handled signals (the deadline's) write here too
            _finish(callbacks, budget_s, exit_)
            return


def start(environ: Mapping[str, str] | None = None) -> str | None:
    """In a Lambda runtime: install the SIGTERM handling and register the extension.

    Returns the extension identifier, or None: outside Lambda (no ``AWS_LAMBDA_RUNTIME_API``)
    nothing is done; a failed registration logs one line and never fails the init.
    """
    env = os.environ if environ is None else environ
    api = env.get("AWS_LAMBDA_RUNTIME_API", "")
    if not api:
        return None
    install_sigterm()
    try:
        return register_extension(api)
    except (OSError, ValueError) as exc:
        print(
            f"lambda-ui shutdown: extension not registered ({type(exc).__name__}: {exc}); "
            "no SIGTERM at shutdown, session teardown will not run",
            file=sys.stderr,
            flush=True,
        )
        return None
