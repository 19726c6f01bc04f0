"""Looking for browser processes left behind."""

from __future__ import annotations

import psutil

BROWSER_NAMES = ("chromium", "chrome", "chromedriver", "chrome_crashpad", "chrome_crashpad_handler", "headless_shell")


def live_browser_pids() -> set[int]:
    """Browser processes that still run (zombies hold no resources but a pid entry)."""
    pids = set()
    for proc in psutil.process_iter(["name", "status"]):
        try:
            name = (proc.info["name"] or "").lower()
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
        except psutil.Error:
            continue
        if any(name.startswith(n) for n in BROWSER_NAMES):
            pids.add(proc.pid)
    return pids
