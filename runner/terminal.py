"""pytest's terminal, from anywhere in the runner (main thread only): lines, and the run's status line."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

import pytest

from lambda_ui.runner.constants import DEFAULT_STATUS_INTERVAL_S

#: The status line being shown, if any: every other write hides it first.
status_key = pytest.StashKey["StatusLine"]()



def write_line(config: pytest.Config, line: str, **markup: bool) -> None:
    """Write ``line`` on its own line; nothing when the terminal reporter is off (``-p no:terminal``)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        status = config.stash.get(status_key, None)
        if status is not None:
            status.hide()
        reporter.ensure_newline()
        reporter.write_line(line, **markup)


def status_text(elapsed_s: float, counts: Mapping[str, int], queue: Mapping[str, int], eta_s: float | None) -> str:
    """The fields of the status line: elapsed, outcomes so far, the invocation queue, the ETA."""
    outcomes = [f"{counts.get(k, 0)} {w}" for k, w in (("passed", "passed"), ("failed", "failed"), ("error", "errors"))]
    outcomes += [f"{counts[k]} {k}" for k in ("skipped", "not run") if counts.get(k)]
    invocations = [f"{queue.get(k, 0)} {k}" for k in ("in flight", "queued", "throttled", "retried")]
    eta = "ETA unknown" if eta_s is None else f"ETA {_clock(eta_s)}"
    return f"lambda {_clock(elapsed_s)} | {', '.join(outcomes)} | {', '.join(invocations)} | {eta}"


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}" if whole >= 3600 else f"{whole // 60}:{whole % 60:02d}"


class StatusLine:
    """The run's progress under pytest's result rows.

    On a terminal with markup (what ``hasmarkup`` says: a tty, or ``--color=yes``) one line
    below the current row, rewritten in place; before anything else is written it is erased
    and the cursor goes back to the end of the row, so rows are never split. Written past
    pytest's own writer, which tracks the row's width for its progress column. Elsewhere (a CI
    log) one plain line every ``interval_s`` seconds, written between rows by the caller's
    choice of moment (:meth:`update`).
    """

    def __init__(self, config: pytest.Config, interval_s: float = DEFAULT_STATUS_INTERVAL_S) -> None:
        self.config = config
        self.interval_s = interval_s
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        self._tw: Any = getattr(reporter, "_tw", None) if reporter is not None else None
        self._file: TextIO | None = getattr(self._tw, "_file", None)
        #: Rewritten in place (a terminal), else plain lines; off without a terminal reporter.
        self.live = bool(self._tw is not None and self._tw.hasmarkup and self._file is not None)
        self.enabled = reporter is not None
        self._shown = False
        self._last_plain: float | None = None

    def start(self, now: float) -> None:
        self._last_plain = now
        self.config.stash[status_key] = self

    def update(self, text: str, now: float) -> None:
        """Show ``text``: at once on a terminal, else when the interval has passed since the last line."""
        if not self.enabled:
            return
        if self.live:
            self._raw(("\r\x1b[2K" if self._shown else "\n") + text)
            self._shown = True
            return
        if self._last_plain is not None and now - self._last_plain < self.interval_s:
            return
        self._last_plain = now
        write_line(self.config, text)

    def hide(self) -> None:
        """Erase the line and put the cursor back at the end of the row above."""
        if not self._shown:
            return
        self._shown = False
        column = int(self._tw.width_of_current_line) + 1
        self._raw(f"\r\x1b[2K\x1b[1A\x1b[{column}G")

    def close(self) -> None:
        self.hide()
        if self.config.stash.get(status_key, None) is self:
            del self.config.stash[status_key]

    def _raw(self, text: str) -> None:
        assert self._file is not None
        self._file.write(text)
        self._file.flush()


def eta_s(expected: Mapping[str, float | None], observed: Mapping[str, float], left: Mapping[str, float], workers: int) -> float | None:
    """Seconds until the tests ``left`` are done: their expected durations from history (or, for a
    test without one, the mean of the history, else of the durations ``observed`` so far), less what
    each has already run (``left``: node id -> seconds in flight), laid out longest first on ``workers``."""
    from lambda_ui.runner.scheduler import lpt_makespan

    if not left:
        return 0.0
    known = [d for d in expected.values() if d is not None] or list(observed.values())
    guess = sum(known) / len(known) if known else None
    remaining = []
    for nodeid, ran in left.items():
        value = expected.get(nodeid)
        value = guess if value is None else value
        if value is None:
            return None
        remaining.append(max(0.0, value - ran))
    return lpt_makespan(remaining, max(1, workers))


def listed(names: Sequence[str], shown: int = 5) -> str:
    """``a, b, c, d, e and 3 more``: the first ``shown`` of ``names`` for a summary line."""
    rest = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {rest} more" if rest > 0 else "")
