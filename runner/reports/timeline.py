"""The run's timeline as inline SVG: one bar per test over wall time.

Bars come from ``run_offset_s`` (start, from the run's start) and ``wall_s``
(start to end, Lambda overhead included). Each bar takes the first free lane,
so the number of lanes is the run's peak concurrency, idle lanes show unused
capacity, and a straggler is a bar that runs on alone at the right.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from lambda_ui.runner import junit_contract as junit
from lambda_ui.runner.reports.model import Case

WIDTH = 1000.0
LEFT = 4.0
AXIS = 22.0
MAX_HEIGHT = 420.0
LANE_MAX = 18.0
#: A bar gets its test's name inside when it is at least this wide and tall (in SVG units).
LABEL_MIN_W = 40.0
LABEL_MIN_H = 11.0
CHAR_W = 5.6  # of the 10px label font, about
#: Offsets and walls are rounded to milliseconds; a test starting this soon after another ended reuses its lane.
TOUCH_S = 0.005


@dataclass(frozen=True)
class Bar:
    case: Case
    start: float
    end: float
    lane: int


def lay_out(cases: Sequence[Case]) -> list[Bar]:
    """Bars in lanes: each test in the lowest lane free at its start (lanes = peak concurrency)."""
    timed = []
    for case in cases:
        start, wall = case.offset_s, case.wall_s
        if start is not None and wall is not None and start >= 0 and wall >= 0:
            timed.append((start, start + wall, case.index, case))
    timed.sort(key=lambda t: (t[0], t[2]))
    busy: list[tuple[float, int]] = []  # (end, lane) of running tests
    free: list[int] = []
    lanes = 0
    bars = []
    for start, end, _index, case in timed:
        while busy and busy[0][0] <= start + TOUCH_S:
            heapq.heappush(free, heapq.heappop(busy)[1])
        if free:
            lane = heapq.heappop(free)
        else:
            lane = lanes
            lanes += 1
        heapq.heappush(busy, (end, lane))
        bars.append(Bar(case, start, end, lane))
    return bars


def _tick_step(total: float) -> float:
    raw = max(total / 8, 1e-3)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 or value == int(value) else f"{value:.1f} s"


def render(cases: Sequence[Case], run_wall_s: float | None = None) -> str:
    bars = lay_out(cases)
    if not bars:
        return f'<p class="caption">No timeline: the report has no {junit.RUN_OFFSET_S}/{junit.WALL_S} properties (an older report, or another tool\'s).</p>'
    lanes = 1 + max(b.lane for b in bars)
    total = max(max(b.end for b in bars), run_wall_s or 0.0) or 1.0
    lane_h = max(1.0, min(LANE_MAX, MAX_HEIGHT / lanes))
    gap = 0.15 * lane_h if lane_h >= 4 else 0.0
    height = lanes * lane_h + AXIS
    scale = (WIDTH - 2 * LEFT) / total
    parts = [
        f'<svg class="timeline" viewBox="0 0 {WIDTH:.0f} {height:.1f}" role="img" '
        f'aria-label="{len(bars)} tests over {total:.1f} s, peak concurrency {lanes}">'
    ]
    step = _tick_step(total)
    tick = 0.0
    while tick <= total + 1e-9:
        x = LEFT + tick * scale
        parts.append(f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height - AXIS + 4:.1f}"/>')
        anchor = "start" if tick == 0 else ("end" if x > WIDTH - 30 else "middle")
        parts.append(f'<text x="{x:.1f}" y="{height - 6:.1f}" text-anchor="{anchor}">{_seconds(tick)}</text>')
        tick += step
    for bar in bars:
        case = bar.case
        x = LEFT + bar.start * scale
        w = max(0.6, (bar.end - bar.start) * scale)
        y = bar.lane * lane_h + gap / 2
        tip = f"{case.nodeid}: {case.outcome.label}, {bar.end - bar.start:.2f} s from {bar.start:.2f} s"
        text = label(case.nodeid, w, lane_h - gap)
        caption = (
            f'<text class="label" x="{x + 3:.2f}" y="{y + (lane_h - gap) / 2 + 3.5:.2f}">{escape(text)}</text>' if text else ""
        )
        parts.append(
            f'<a href="#t{case.index}"><rect class="bar o-{case.outcome.value}" x="{x:.2f}" y="{y:.2f}" '
            f'width="{w:.2f}" height="{lane_h - gap:.2f}"><title>{escape(tip)}</title></rect>{caption}</a>'
        )
    parts.append("</svg>")
    parts.append(f'<p class="caption">{escape(_caption(bars, lanes, total))}</p>')
    return "".join(parts)


def label(nodeid: str, width: float, height: float) -> str:
    """The test's name (without its file) cut to fit a bar, or "" when the bar is too small for one."""
    if width < LABEL_MIN_W or height < LABEL_MIN_H:
        return ""
    name = nodeid.split("::", 1)[-1]
    fits = int((width - 6) // CHAR_W)
    if len(name) <= fits:
        return name
    return name[: fits - 1] + "…" if fits >= 4 else ""


def _caption(bars: list[Bar], lanes: int, total: float) -> str:
    durations = sorted(b.end - b.start for b in bars)
    median = durations[len(durations) // 2]
    last = sorted(bars, key=lambda b: b.end, reverse=True)[:3]
    stragglers = ", ".join(f"{b.case.nodeid} (ends {b.end:.1f} s)" for b in last)
    return (
        f"{len(bars)} tests over {total:.1f} s; peak concurrency {lanes}; median test {median:.2f} s, "
        f"longest {durations[-1]:.2f} s. Last to finish: {stragglers}. Click a bar to open its test."
    )
