"""Full Chrome (``--headless=new``, what the runner uses) against chrome-headless-shell.

    python bench/headless_shell.py [--rounds 3] [--spin 8] [--navigations 10]

chrome-headless-shell is the old headless implementation, shipped apart (Debian's
``chromium-headless-shell``, Chrome for Testing's ``chrome-headless-shell``); Puppeteer and
Playwright use it for headless runs. The runner starts it when the Chrome binary named is one
(runner/chrome.py), but the image ships full Chrome (lambda_pkg/Dockerfile: local and Lambda
runs share the real browser's rendering path). This measures what that choice costs, both
started by the runner (``start_chrome``) with its Lambda flag set, alternating in one run:

- start: CPU of chromedriver and the browser until the session is ready, and the 3 s after;
- spinner: CPU per second while a page shows a CSS spinner (a page waiting on a slow back end);
- navigation: CPU per navigation to a small form page plus typing into it;
- the screenshot's size, a check that both render.
"""

from __future__ import annotations

import argparse
import http.server
import shutil
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chrome_start import tree_cpu
from lambda_ui.runner.chrome import ChromeLocation, find_chrome_binary, find_chromedriver, start_chrome

SHELL = "chromium-headless-shell"
LAMBDA_LIKE = {"AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"}
PAGE = (
    b"<html><style>.s{width:44px;height:44px;border:4px solid #ddd;border-top-color:green;border-radius:50%;"
    b"animation:spin .9s linear infinite;display:inline-block}@keyframes spin{to{transform:rotate(360deg)}}</style>"
    b"<body><h1>Report</h1><span class=s></span><form><input id=a><input id=b></form></body></html>"
)


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args: object) -> None:
        pass


def measure(location: ChromeLocation, url: str, spin_s: float, navigations: int) -> dict[str, float]:
    started = time.monotonic()
    chrome = start_chrome(location, (1280, 900), environ=LAMBDA_LIKE)
    driver = chrome.driver

    def cpu() -> float:
        return tree_cpu(chrome.driver_pid)[0]

    try:
        figures = {"start wall s": time.monotonic() - started, "start CPU-s": cpu()}
        time.sleep(3)
        figures["3 s after CPU-s"] = cpu() - figures["start CPU-s"]
        before = cpu()
        driver.get(url)
        time.sleep(spin_s)
        figures["spinner CPU-s/s"] = (cpu() - before) / spin_s
        before = cpu()
        for n in range(navigations):
            driver.get(f"{url}?n={n}")
            driver.find_element("id", "a").send_keys("boots")
        figures["navigation+input ms"] = (cpu() - before) / navigations * 1000
        figures["screenshot bytes"] = len(driver.get_screenshot_as_png())
    finally:
        chrome.stop()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--spin", type=float, default=8.0, help="seconds on the spinner page")
    parser.add_argument("--navigations", type=int, default=10)
    args = parser.parse_args()
    shell = shutil.which(SHELL)
    if shell is None:
        print(f"{SHELL} is not installed: apt-get install {SHELL}")
        return 2
    driver = find_chromedriver()
    locations = {"chrome": ChromeLocation(find_chrome_binary(), driver), "shell": ChromeLocation(shell, driver)}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/report"
    results: dict[str, list[dict[str, float]]] = {way: [] for way in locations}
    for round_ in range(args.rounds):
        for way, location in locations.items():
            figures = measure(location, url, args.spin, args.navigations)
            results[way].append(figures)
            print(f"round {round_ + 1} {way:6} " + "  ".join(f"{name} {value:.3f}" for name, value in figures.items()), flush=True)
    server.shutdown()
    print(f"\nmedians of {args.rounds} (chrome = the runner's --headless=new; shell = {SHELL}):")
    for name in results["chrome"][0]:
        chrome, shell_value = (statistics.median(r[name] for r in results[way]) for way in ("chrome", "shell"))
        print(f"  {name:22} chrome {chrome:10.3f}   shell {shell_value:10.3f}   shell/chrome {shell_value / chrome:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
