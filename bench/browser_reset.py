"""What the ``browser`` fixture's reset between tests costs, both ways.

    python bench/browser_reset.py [--resets 30] [--rounds 2]

Starts one Chrome as the plugin does, then times ``BrowserManager.acquire()`` (the reset a
test's ``browser`` gets) after a page that wrote local storage: the usual reset, and the one
after a test that sent a DevTools command (a new tab). Prints the median and p90 per round.
"""

from __future__ import annotations

import argparse
import statistics
import time

from lambda_ui.runner.browsers import BrowserManager
from lambda_ui.runner.chrome import locate_chrome, start_chrome

PAGE = "data:text/html,<h1>test</h1><script>localStorage.setItem('cart', '3 items')</script>"
SIZE = (1280, 900)


def timed_resets(manager: BrowserManager, count: int, devtools: bool) -> list[float]:
    times = []
    for _ in range(count):
        driver = manager.acquire().driver
        driver.get(PAGE)
        if devtools:
            driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Tokyo"})
        started = time.perf_counter()
        manager.acquire()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resets", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    location = locate_chrome(None, None, None, None)
    manager = BrowserManager(lambda: start_chrome(location, SIZE), SIZE)
    manager.acquire()
    try:
        for round_ in range(1, args.rounds + 1):
            for label, devtools in (("usual reset", False), ("after DevTools (new tab)", True)):
                times = sorted(timed_resets(manager, args.resets, devtools))
                p90 = times[int(len(times) * 0.9) - 1]
                print(f"round {round_}: {label:26} median {statistics.median(times):6.1f} ms  p90 {p90:6.1f} ms  (n={len(times)})")
        print(f"browser starts: {manager.starts} (1: every reset kept the same Chrome)")
    finally:
        manager.shutdown()


if __name__ == "__main__":
    main()
