"""How long ``lambda-ui report`` takes on a 10,000-test Lambda run.

    python bench/report_scale.py [--tests 10000] [--shards 4] [--keep DIR]

Generates a realistic report (the properties a ``--lambda`` run writes, 5 %
failures with pytest-sized tracebacks and failure screenshots, page sources and
console logs on disk, 1 % flaky, 0.5 % infrastructure outcomes, a filmstrip on
2 % of the tests, 200-way concurrency on the timeline), then times, in this
process, ``summary`` on the whole report, ``merge`` of the same tests split
into shards, and ``html``. Goals: summary and merge at most 1 s, html at most 5 s.
Exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from xml.sax.saxutils import quoteattr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lambda_ui.cli.report import main  # noqa: E402

GOALS_S = {"summary": 1.0, "merge": 1.0, "html": 5.0}
TRACE = """browser = <selenium.webdriver.chrome.webdriver.WebDriver (session="{sid}")>
app_url = 'http://127.0.0.1:36285'

    def test_checkout_{n}(browser: WebDriver, app_url: str) -> None:
        browser.get(app_url + "/products/{n}")
        WebDriverWait(browser, TIMEOUT).until(EC.visibility_of_element_located((By.ID, "add-to-cart")))
>       assert browser.find_element(By.ID, "page-title").text == "Ridgeline Down Parka"
E       AssertionError: assert 'Ridgeline Down Jacket' == 'Ridgeline Down Parka'
E         - Ridgeline Down Parka
E         + Ridgeline Down Jacket

tests/ui/test_shop_{m}.py:43: AssertionError
""" * 3


def png(width: int, height: int, seed: int) -> bytes:
    """A noisy RGB PNG, about the size of a compressed browser screenshot of that area."""
    rng = random.Random(seed)
    rows = b"".join(b"\x00" + bytes(rng.getrandbits(8) for _ in range(width * 3)) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 6)) + chunk(b"IEND", b"")


def _prop(name: str, value: object) -> str:
    return f"<property name={quoteattr(name)} value={quoteattr(str(value))} />"


def generate(folder: Path, tests: int, shards: int, seed: int = 7) -> tuple[Path, list[Path]]:
    """Write ``full.xml`` and ``shard-<k>.xml`` (the same tests split) plus artifacts under ``folder``."""
    rng = random.Random(seed)
    shot = png(160, 100, seed)
    run_id = "20261127-120000-abcdef"
    lanes = [0.0] * 200
    cases: list[str] = []
    for n in range(tests):
        module = f"tests.ui.test_shop_{n % 120}"
        name = f"test_checkout_{n}" + (f"[case-{n % 7}]" if n % 3 == 0 else "")
        lane = min(range(len(lanes)), key=lanes.__getitem__)
        start = lanes[lane] + rng.uniform(0.0, 0.3)
        wall = rng.lognormvariate(1.6, 0.5) + (40 if n % 997 == 0 else 0)
        lanes[lane] = start + wall
        duration = max(0.1, wall - 1.2)
        billed = int(duration * 1000) + 300
        cold = n < 200 or rng.random() < 0.05
        props = [
            ("lambda_attempts", 1), ("lambda_request_ids", f"{rng.getrandbits(128):032x}"), ("lambda_cold", cold),
            ("lambda_environment_id", f"env-{n % 200}"), ("chrome_version", "156.0.8078.47"), ("lambda_billed_ms", float(billed)),
            ("lambda_max_memory_mb", 612.0), ("lambda_memory_mb", 2048.0), ("run_offset_s", round(start, 3)), ("wall_s", round(wall, 3)),
            ("lambda_cost_usd", round(billed / 1000 * 2 * 0.0000166667 + 2e-7, 8)),
        ]
        if cold:
            props.append(("lambda_init_ms", 2100.0))
        body = ""
        folder_rel = f"artifacts/{run_id}/tests/ui/test_shop_{n % 120}.py/test_checkout_{n}"
        if n % 20 == 7:  # 5 % failures, each with its three failure artifacts
            art = folder / folder_rel
            art.mkdir(parents=True, exist_ok=True)
            (art / "failure-screenshot.png").write_bytes(shot)
            (art / "failure-page.html").write_text(f"<html><body><h1>Product {n}</h1></body></html>")
            (art / "failure-console.log").write_text(f"12:00:01 WARNING console-api: low stock on product {n}\n" * 5)
            for artifact in ("failure-screenshot.png", "failure-page.html", "failure-console.log"):
                props.append((f"artifact:{artifact}", f"{folder_rel}/{artifact}"))
            message = "AssertionError: assert 'Ridgeline Down Jacket' == 'Ridgeline Down Parka'\n  - Ridgeline Down Parka\n  + Ridgeline Down Jacket"
            body = f"<failure message={quoteattr(message)}>{_escape(TRACE.format(sid=n, n=n, m=n % 120))}</failure>"
        elif n % 100 == 11:  # 1 % flaky
            props += [("lambda_attempts", 2), ("lambda_rerun_1", "call failed: TimeoutException: Message: element not clickable"), ("lambda_flaky", "true")]
        elif n % 200 == 13:  # 0.5 % infrastructure outcomes
            props += [("lambda_attempts", 3)] + [(f"lambda_infra_failure_{k}", "Lambda timeout: Task timed out after 300.00 seconds") for k in (1, 2, 3)]
            message = 'failed on setup with "infrastructure failure after 3 attempt(s) (attempt 1: Lambda timeout)"'
            body = f"<error message={quoteattr(message)}>infrastructure failure after 3 attempt(s)</error>"
        if n % 50 == 3:  # filmstrip on 2 %
            art = folder / folder_rel / "filmstrip"
            art.mkdir(parents=True, exist_ok=True)
            for step, event in enumerate(("navigate", "click", "click"), 1):
                (art / f"{step:03d}-{event}.png").write_bytes(shot)
                props.append((f"artifact:filmstrip/{step:03d}-{event}.png", f"{folder_rel}/filmstrip/{step:03d}-{event}.png"))
        links = [v for k, v in props if k.startswith("artifact:")]
        out = "<system-out>" + "".join(f"[[ATTACHMENT|{link}]]\n" for link in links) + "</system-out>" if links else ""
        cases.append(
            f"<testcase classname={quoteattr(module)} name={quoteattr(name)} time=\"{duration:.3f}\"><properties>"
            + "".join(_prop(k, v) for k, v in props) + f"</properties>{body}{out}</testcase>"
        )
    wall = max(lanes)
    suite_props = "".join(_prop(k, v) for k, v in (
        ("run_id", run_id), ("run_mode", "lambda"), ("run_wall_s", round(wall, 3)), ("artifacts_location", f"artifacts/{run_id}/"),
        ("lambda_function", "ui-tests"), ("lambda_concurrency", 200), ("lambda_throttles", 12), ("lambda_infra_retries", 150),
        ("lambda_reruns", 100), ("lambda_invocations", tests + 250), ("lambda_billed_gb_s", 123456.789), ("lambda_cost_usd", 2.06),
        ("lambda_price_per_gb_s", 0.0000166667),
    ))

    def document(chunk: list[str]) -> str:
        return (
            '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="0" '
            f'skipped="0" tests="{len(chunk)}" time="{wall:.3f}" timestamp="2026-11-27T12:00:00.000000+00:00" hostname="ci">'
            f"<properties>{suite_props}</properties>{''.join(chunk)}</testsuite></testsuites>"
        )

    full = folder / "full.xml"
    full.write_text(document(cases), encoding="utf-8")
    parts = []
    size = -(-tests // shards)
    for k in range(shards):
        path = folder / f"shard-{k + 1}.xml"
        path.write_text(document(cases[k * size : (k + 1) * size]), encoding="utf-8")
        parts.append(path)
    return full, parts


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def timed(argv: list[str]) -> tuple[float, int]:
    sink = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = main(argv)
    return time.perf_counter() - started, code


def run(tests: int, shards: int, folder: Path) -> int:
    t0 = time.perf_counter()
    full, parts = generate(folder, tests, shards)
    print(f"generated {tests} tests ({full.stat().st_size / 1e6:.1f} MB report, {shards} shards) in {time.perf_counter() - t0:.1f} s")
    os.chdir(folder)  # artifact paths are relative to where "pytest ran"
    results = {
        "summary": timed(["summary", str(full)]),
        "merge": timed(["merge", str(folder / "merged.xml"), *map(str, parts)]),
        "html": timed(["html", str(full), "-o", str(folder / "report.html")]),
    }
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lambda_ui.cli.report", "summary", str(full)], cwd=REPO, capture_output=True, check=False)
    cli_s = time.perf_counter() - started
    missed = 0
    for command, (seconds, code) in results.items():
        goal = GOALS_S[command]
        verdict = "ok" if seconds <= goal else "SLOWER THAN GOAL"
        missed += seconds > goal
        print(f"{command:8} {seconds:6.2f} s  (goal <= {goal:.0f} s, exit {code})  {verdict}")
    html = folder / "report.html"
    print(f"html file: {html.stat().st_size / 1e6:.1f} MB; `python -m lambda_ui.cli.report summary` as a new process: {cli_s:.2f} s")
    return 1 if missed else 0


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=10_000)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--keep", type=Path, help="generate into this folder and keep it")
    args = parser.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args.tests, args.shards, args.keep.resolve())
    with tempfile.TemporaryDirectory(prefix="report-scale-") as folder:
        return run(args.tests, args.shards, Path(folder))


if __name__ == "__main__":
    sys.exit(cli())
