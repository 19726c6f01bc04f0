"""What one Chrome start costs: CPU until ``webdriver.Chrome()`` returns and over the next seconds.

    python bench/chrome_start.py [--starts 6] [--after 3]

Starts the runner's Chrome (runner/chrome.py's flags and options) ``--starts`` times, and as
many times without what keeps the browser's own pages from loading (the background-UI
features flag and the start-on-blank preferences), alternating, in one run. For each start:
the CPU of chromedriver's whole process tree when the session is ready, the CPU of the
``--after`` seconds that follow with nothing asked of the browser, its proportional memory
(PSS) then, and the wall time of the start. Prints the medians, and the CPU per process type
of the last start of each way.
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lambda_ui.runner import chrome as runner_chrome


def _tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def _kind(process: psutil.Process, driver_pid: int) -> str:
    if process.pid == driver_pid:
        return "chromedriver"
    line = process.cmdline()
    kind = next((a.split("=", 1)[1] for a in line if a.startswith("--type=")), "browser")
    sub = next((a.split("=", 1)[1] for a in line if a.startswith("--utility-sub-type=")), "")
    return f"{kind} {sub}".strip()


def tree_cpu(pid: int) -> tuple[float, dict[str, float], int]:
    """CPU-s of the tree, the same by process type, and its PSS in bytes."""
    total, by_kind, pss = 0.0, collections.Counter[str](), 0
    for process in _tree(pid):
        try:
            times = process.cpu_times()
            seconds = times.user + times.system
            by_kind[_kind(process, pid)] += seconds
            total += seconds
            pss += process.memory_full_info().pss
        except psutil.Error:
            pass
    return total, dict(by_kind), pss


def one_start(location: runner_chrome.ChromeLocation, after_s: float) -> dict[str, object]:
    started = time.monotonic()
    chrome = runner_chrome.start_chrome(location, (1280, 900))
    wall = time.monotonic() - started
    try:
        at_start, kinds_start, _ = tree_cpu(chrome.driver_pid)
        time.sleep(after_s)
        later, kinds_later, pss = tree_cpu(chrome.driver_pid)
    finally:
        chrome.stop()
    kinds = {k: round(kinds_later.get(k, 0.0) - kinds_start.get(k, 0.0), 2) for k in kinds_later}
    return {"start_cpu": at_start, "after_cpu": later - at_start, "pss_mb": pss / 1e6, "wall": wall, "after_by_kind": kinds}


def without_quiet_start() -> tuple[object, object]:
    """Take out what keeps the browser's own pages from loading; returns what to put back."""
    saved = (runner_chrome.BACKGROUND_UI_FEATURES, runner_chrome.START_ON_BLANK_PREFS)
    runner_chrome.BACKGROUND_UI_FEATURES = "--mute-audio"  # a flag the set has anyway: nothing added
    runner_chrome.START_ON_BLANK_PREFS = {}
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=6)
    parser.add_argument("--after", type=float, default=3.0, help="seconds measured after the session is ready")
    args = parser.parse_args()
    location = runner_chrome.locate_chrome(None, None, None, None)
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"chrome: {location.binary}; {args.starts} starts each way, alternating")
    results: dict[str, list[dict[str, object]]] = {"runner's flags": [], "without the quiet start": []}
    for _ in range(args.starts):
        results["runner's flags"].append(one_start(location, args.after))
        saved = without_quiet_start()
        try:
            results["without the quiet start"].append(one_start(location, args.after))
        finally:
            runner_chrome.BACKGROUND_UI_FEATURES, runner_chrome.START_ON_BLANK_PREFS = saved  # type: ignore[assignment]
    print(f"\n{'way':<26} {'CPU to ready':>13} {f'CPU next {args.after:g} s':>14} {'sum':>7} {'PSS':>8} {'start wall':>11}")
    for way, runs in results.items():
        def med(key: str, runs: list[dict[str, object]] = runs) -> float:
            return statistics.median(float(r[key]) for r in runs)  # type: ignore[arg-type]

        print(f"{way:<26} {med('start_cpu'):11.2f} s {med('after_cpu'):12.2f} s {med('start_cpu') + med('after_cpu'):5.2f} s "
              f"{med('pss_mb'):5.0f} MB {med('wall'):9.2f} s")
    for way, runs in results.items():
        print(f"\n{way}, last start, CPU-s of the {args.after:g} s after it was ready, by process: {runs[-1]['after_by_kind']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
