"""The browser smoke check: Chrome starts, draws Latin, CJK and emoji, and takes a screenshot.

Three callers share it: the handler's ``smoke`` event (after a deploy, and in the local
tests through the stand-in), and the image build, which runs
``python -m lambda_ui.function.smoke --launch-only``: ``ldd`` of Chrome, its bundled
libraries and chromedriver (no "not found"), then the real binary launched with the
Lambda flags, the page loaded and checked. It exits 1 with one line per problem.
"""

from __future__ import annotations

import argparse
import base64
import html
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import psutil

from lambda_ui.contract import CONTRACT_VERSION, S3Ref, SmokeResponse, SmokeTimings
from lambda_ui.runner.browsers import BrowserManager
from lambda_ui.runner.chrome import (
    LAMBDA_NAME_VARIABLE,
    ChromeLauncher,
    ChromeProcess,
    call_within,
    locate_chrome,
    parse_window_size,
)
from lambda_ui.runner.constants import DEFAULT_WINDOW_SIZE

#: One line per script, each a few characters a real font draws and a missing one does not.
SAMPLES: dict[str, str] = {
    "latin": "Hamburgefonstiv",
    "cjk": "漢字かなカナ한글",
    # With U+FE0F (emoji presentation): DejaVu Sans has a monochrome 😀 that wins without it.
    "emoji": "\U0001F600\uFE0F\U0001F389\U0001F680",
}
#: Scripts whose glyphs must be in colour: a monochrome fallback is not the emoji users see.
COLOUR_SCRIPTS = frozenset({"emoji"})
#: The stack the page asks for; anything else comes from Chrome's own font fallback.
FONT_STACK = "sans-serif"
#: Each browser call is bounded: a hung Chrome must not hang the smoke check.
CALL_TIMEOUT_S = 30.0

#: Runs in the page: draws each character, and a reference no font covers, on a canvas.
_RENDER_CHECK_JS = r"""
const samples = arguments[0], colour = arguments[1], stack = arguments[2];
const size = 40, side = 2 * size;
const canvas = document.createElement('canvas');
canvas.width = side; canvas.height = side;
const ctx = canvas.getContext('2d', {willReadFrequently: true});
function draw(ch) {
  ctx.clearRect(0, 0, side, side);
  ctx.font = size + 'px ' + stack;
  ctx.textBaseline = 'top';
  ctx.fillStyle = '#000';
  ctx.fillText(ch, 4, 4);
  const data = ctx.getImageData(0, 0, side, side).data;
  const alpha = new Uint8Array(side * side);
  let ink = 0, coloured = 0;
  for (let i = 0, p = 0; i < data.length; i += 4, p++) {
    alpha[p] = data[i + 3];
    if (data[i + 3] > 0) {
      ink++;
      const hi = Math.max(data[i], data[i + 1], data[i + 2]), lo = Math.min(data[i], data[i + 1], data[i + 2]);
      if (hi - lo > 48) coloured++;
    }
  }
  return {width: ctx.measureText(ch).width, ink: ink, coloured: coloured, alpha: alpha};
}
function same(a, b) {
  if (Math.abs(a.width - b.width) > 0.01) return false;
  for (let i = 0; i < a.alpha.length; i++) if (a.alpha[i] !== b.alpha[i]) return false;
  return true;
}
// Plane 16 private-use code points: no font maps them, so they draw the missing-glyph box.
const tofu = draw(String.fromCodePoint(0x10FFFD));
// Whole graphemes: an emoji with its presentation selector (U+FE0F) is one picture.
const graphemes = new Intl.Segmenter('en', {granularity: 'grapheme'});
const result = {tofu_width: tofu.width, scripts: {}};
for (const [script, text] of Object.entries(samples)) {
  const missing = [];
  for (const {segment: ch} of graphemes.segment(text)) {
    const glyph = draw(ch);
    const needColour = colour.includes(script);
    if (glyph.ink === 0 || same(glyph, tofu) || (needColour && glyph.coloured === 0)) missing.push(ch);
  }
  result.scripts[script] = {rendered: missing.length === 0, missing: missing};
}
return result;
"""


def smoke_page(samples: Mapping[str, str] = SAMPLES) -> str:
    """The page as a data: URL (UTF-8, base64): nothing to serve, nothing on disk."""
    lines = "".join(f'<p id="{html.escape(name)}">{html.escape(name)}: {html.escape(text)}</p>' for name, text in samples.items())
    document = (
        '<!doctype html><html><head><meta charset="utf-8"><title>lambda-ui smoke</title>'
        f"<style>body{{font-family:{FONT_STACK};font-size:32px;margin:16px}}</style></head>"
        f"<body><h1>lambda-ui smoke</h1>{lines}</body></html>"
    )
    return "data:text/html;charset=utf-8;base64," + base64.b64encode(document.encode()).decode()


def check_rendering(driver: Any, samples: Mapping[str, str] = SAMPLES, colour: frozenset[str] = COLOUR_SCRIPTS) -> dict[str, dict[str, Any]]:
    """Whether each script's characters were drawn from a font that has them.

    Method: in the loaded page, each character is drawn alone on a canvas in the page's
    font stack (so Chrome's font fallback picks what a real page would get) and its
    advance width and alpha raster are measured. A character with no font is drawn as
    the primary font's missing-glyph box ("tofu") or not at all, so it is compared with
    a plane-16 private-use code point that no font maps: a character counts as rendered
    when it draws ink and its width or raster differs from that reference. For colour
    scripts (emoji) at least one pixel must also be coloured, since a monochrome
    fallback glyph is not what users see. A script is rendered when every character is;
    the answer also lists the missing characters.
    """
    found = call_within(driver, lambda d: d.execute_script(_RENDER_CHECK_JS, dict(samples), sorted(colour), FONT_STACK), CALL_TIMEOUT_S)
    scripts = found.get("scripts", {}) if isinstance(found, dict) else {}
    return {name: {"rendered": bool(scripts.get(name, {}).get("rendered")), "missing": list(scripts.get(name, {}).get("missing", []))} for name in samples}


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def run_smoke(
    browsers: BrowserManager,
    launcher: ChromeLauncher,
    upload: Callable[[bytes], S3Ref] | None = None,
    samples: Mapping[str, str] = SAMPLES,
) -> tuple[SmokeResponse, bytes]:
    """Start or reuse the browser, load the page, check it, screenshot it, upload when asked.

    Returns the answer (without facts: the handler adds its own) and the PNG (empty when
    none was taken). Every failure becomes a line in ``problems``, never an exception.
    """
    timings: SmokeTimings = {"start_ms": 0.0, "load_ms": 0.0, "screenshot_ms": 0.0, "render_check_ms": 0.0, "upload_ms": 0.0}
    answer: SmokeResponse = {
        "version": CONTRACT_VERSION,
        "kind": "smoke",
        "ok": False,
        "problems": [],
        "browser_reused": False,
        "single_process_retry": False,
        "flags": [],
        "chrome_version": "",
        "chromedriver_version": "",
        "timings": timings,
        "rendered": {name: False for name in samples},
        "screenshot": None,
        "screenshot_bytes": 0,
        "facts": {},
    }
    png = b""
    starts = browsers.starts
    step = time.perf_counter()
    try:
        chrome: ChromeProcess = browsers.acquire()
    except Exception as exc:
        reason = _first_line(exc)
        answer["problems"].append(reason if reason.startswith("Chrome did not start") else f"Chrome did not start: {reason}")
        answer["single_process_retry"] = launcher.single_process_retry
        return answer, png
    timings["start_ms"] = _ms(step)
    answer["browser_reused"] = browsers.starts == starts
    answer["single_process_retry"] = launcher.single_process_retry
    answer["flags"] = list(chrome.flags)
    answer["chrome_version"] = chrome.browser_version
    answer["chromedriver_version"] = chrome.driver_version
    try:
        step = time.perf_counter()
        call_within(chrome.driver, lambda d: d.get(smoke_page(samples)), CALL_TIMEOUT_S)
        timings["load_ms"] = _ms(step)
        step = time.perf_counter()
        checked = check_rendering(chrome.driver, samples)
        timings["render_check_ms"] = _ms(step)
        step = time.perf_counter()
        png = call_within(chrome.driver, lambda d: d.get_screenshot_as_png(), CALL_TIMEOUT_S)
        timings["screenshot_ms"] = _ms(step)
    except Exception as exc:
        answer["problems"].append(f"the smoke page failed in Chrome: {_first_line(exc)}")
        return answer, png
    answer["screenshot_bytes"] = len(png)
    answer["rendered"] = {name: result["rendered"] for name, result in checked.items()}
    for name, result in checked.items():
        if not result["rendered"]:
            answer["problems"].append(f"{name} text did not render (no font for {''.join(result['missing'])!r}); install its fonts in the image")
    if upload is not None:
        step = time.perf_counter()
        try:
            answer["screenshot"] = upload(png)
        except Exception as exc:
            answer["problems"].append(f"the screenshot was not uploaded: {_first_line(exc)}")
        timings["upload_ms"] = _ms(step)
    answer["ok"] = not answer["problems"]
    return answer, png


# -- the image build's check ------------------------------------------------------------

_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


def ldd_missing(path: str) -> list[str] | None:
    """The shared libraries ``path`` needs that the loader cannot find; None when it is no dynamic executable."""
    with open(path, "rb") as handle:
        if handle.read(4) != b"\x7fELF":
            return None  # a wrapper script (Debian's /usr/bin/chromium)
    result = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=60)
    if "not a dynamic executable" in result.stdout + result.stderr:
        return None
    return _NOT_FOUND.findall(result.stdout)


def ldd_targets(binary: str) -> list[str]:
    """Chrome and the libraries shipped beside it (opened later with dlopen)."""
    real = os.path.realpath(binary)
    beside = sorted(str(p) for p in Path(real).parent.glob("*.so*") if p.is_file())
    return [real, *beside]


def browser_executable(chrome: ChromeProcess) -> str | None:
    """The executable the running browser was started from (behind a wrapper script)."""
    try:
        for child in psutil.Process(chrome.driver_pid).children(recursive=True):
            if chrome.workdir in " ".join(child.cmdline()):
                return str(child.exe())
    except psutil.Error:
        return None
    return None


def _ldd_report(targets: list[str], out: Any) -> tuple[bool, list[str]]:
    """Print a line per target with missing libraries; return (all found, the targets ldd could not read)."""
    found_all, skipped = True, []
    for target in targets:
        missing = ldd_missing(target)
        if missing is None:
            skipped.append(target)
        elif missing:
            found_all = False
            print(f"✗ ldd {target}: not found: {', '.join(missing)}", file=out)
    return found_all, skipped


def lambda_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` as Chrome's flag choice reads it inside Lambda (the build has no Lambda variables)."""
    return {LAMBDA_NAME_VARIABLE: "lambda-ui-smoke", "LAMBDA_TASK_ROOT": "/var/task", **environ}


def launch_only(out: Any = sys.stdout, environ: Mapping[str, str] | None = None, screenshot: str | None = None) -> int:
    """The build check: ldd, then a launch with the Lambda flags and the smoke page. 0 when all pass."""
    env = dict(os.environ if environ is None else environ)
    try:
        location = locate_chrome(None, None, None, None, env)
    except Exception as exc:
        print(f"✗ {exc}", file=out)
        return 1
    libraries_found, skipped = _ldd_report([*ldd_targets(location.binary), os.path.realpath(location.driver)], out)
    failed = not libraries_found
    window = parse_window_size(env.get("LAMBDA_UI_WINDOW_SIZE", DEFAULT_WINDOW_SIZE))
    launcher = ChromeLauncher(lambda: location, window, environ=lambda_environ(env))
    browsers = BrowserManager(launcher.start, window)
    try:
        answer, png = run_smoke(browsers, launcher)
        running = browser_executable(browsers.current) if skipped and browsers.current is not None else None
        if running is not None:  # Chrome behind a wrapper script: check what actually ran
            more_found, _ = _ldd_report(ldd_targets(running), out)
            failed = failed or not more_found
            skipped = [target for target in skipped if os.path.realpath(location.binary) != target]
    finally:
        browsers.shutdown()
    for target in skipped:
        print(f"- ldd {target}: not a dynamic executable, not checked", file=out)
    if not failed:
        print("✓ ldd: every shared library found", file=out)
    if answer["flags"]:
        timings = answer["timings"]
        retry = " (after a failed start, with --single-process)" if answer["single_process_retry"] else ""
        print(
            f"✓ Chrome {answer['chrome_version']} with chromedriver {answer['chromedriver_version']} started in "
            f"{timings['start_ms']:.0f} ms{retry}; page {timings['load_ms']:.0f} ms, screenshot {timings['screenshot_ms']:.0f} ms",
            file=out,
        )
        print("  flags: " + " ".join(answer["flags"]), file=out)
        print("  rendered: " + ", ".join(f"{name} {'✓' if ok else '✗'}" for name, ok in answer["rendered"].items()), file=out)
    for problem in answer["problems"]:
        print(f"✗ {problem}", file=out)
    if screenshot and png:
        Path(screenshot).write_bytes(png)
        print(f"  screenshot: {screenshot}", file=out)
    return 1 if failed or not answer["ok"] else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lambda_ui.function.smoke", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--launch-only", action="store_true", required=True, help="check this machine's Chrome (ldd, launch with the Lambda flags, the smoke page); no Lambda, no S3")
    parser.add_argument("--screenshot", metavar="PATH", help="also save the smoke page's screenshot here")
    args = parser.parse_args(argv)
    return launch_only(screenshot=args.screenshot)


if __name__ == "__main__":
    sys.exit(main())
