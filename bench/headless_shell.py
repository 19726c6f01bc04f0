"""Full Chrome (``--headless=new``, what the runner uses) against chrome-headless-shell.

    python bench/headless_shell.py [--rounds 3] [--spin 8] [--navigations 10]

chrome-headless-shell is the old headless implementation, shipped apart (Debian's
``chromium-headless-shell``, Chrome for Testing's ``chrome-headless-shell``); Puppeteer and
Playwright use it for headless runs. The runner does not (lambda_pkg/Dockerfile: local and
Lambda runs share the real browser's rendering path). This measures what that choice costs,
both ways alternating in one run, each with the runner's Lambda flag set (runner/chrome.py):

- start: CPU of chromedriver and the browser until the session is ready, and the 3 s after;
- spinner: CPU per second while a page shows a CSS spinner (a page waiting on a slow back end);
- navigation: CPU per navigation to a small form page plus typing into it;
- the screenshot's size, a check that both render.

chromedriver 156 opens no page in Debian's headless shell ("unable to discover open pages"),
so the shell is started here with ``about:blank`` and chromedriver attaches to it
(``debuggerAddress``); its CPU is counted the same way.
"""

from __future__ import annotations

import argparse
import http.server
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lambda_ui.runner.chrome import chrome_flags, find_chrome_binary, find_chromedriver

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


def _cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for process in [root, *root.children(recursive=True)]:
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            pass
    return total


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(way: str, shell: str | None, profile: str) -> tuple[webdriver.Chrome, subprocess.Popen[bytes] | None]:
    flags = chrome_flags(profile, (1280, 900), environ=LAMBDA_LIKE)
    options = webdriver.ChromeOptions()
    service = Service(find_chromedriver())  # as the runner finds them: no Selenium Manager
    if way == "chrome":
        options.binary_location = find_chrome_binary()
        for flag in flags:
            options.add_argument(flag)
        return webdriver.Chrome(service=service, options=options), None
    assert shell is not None
    port = _free_port()
    browser = subprocess.Popen([shell, *(f for f in flags if not f.startswith("--headless")), f"--remote-debugging-port={port}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.02)
    options.debugger_address = f"127.0.0.1:{port}"
    return webdriver.Chrome(service=service, options=options), browser


def measure(way: str, shell: str | None, url: str, spin_s: float, navigations: int) -> dict[str, float]:
    profile = tempfile.mkdtemp(prefix=f"bench-{way}-")
    started = time.monotonic()
    driver, browser = _start(way, shell, profile)
    pids = [driver.service.process.pid] + ([browser.pid] if browser else [])
    try:
        figures = {"start wall s": time.monotonic() - started, "start CPU-s": _cpu(pids)}
        time.sleep(3)
        figures["3 s after CPU-s"] = _cpu(pids) - figures["start CPU-s"]
        before = _cpu(pids)
        driver.get(url)
        time.sleep(spin_s)
        figures["spinner CPU-s/s"] = (_cpu(pids) - before) / spin_s
        before = _cpu(pids)
        for n in range(navigations):
            driver.get(f"{url}?n={n}")
            driver.find_element("id", "a").send_keys("boots")
        figures["navigation+input ms"] = (_cpu(pids) - before) / navigations * 1000
        figures["screenshot bytes"] = len(driver.get_screenshot_as_png())
    finally:
        driver.quit()
        if browser is not None:  # Debian's launcher is a shell script: the browser is its child
            os.killpg(browser.pid, signal.SIGKILL)
            browser.wait()
        shutil.rmtree(profile, ignore_errors=True)
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
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/report"
    results: dict[str, list[dict[str, float]]] = {"chrome": [], "shell": []}
    for round_ in range(args.rounds):
        for way in results:
            figures = measure(way, shell, url, args.spin, args.navigations)
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
