"""Scheduling with skewed durations: makespan without and with duration history.

    python bench/scheduling.py [--tests 400 --long 8 --concurrency 20 --scale 1.0 --seed 1]

A suite whose durations have a long tail (a few 20-30 s tests among many of
0.5-2 s, all multiplied by --scale) runs twice with ``pytest --lambda`` at a
concurrency well below the test count, against the lightweight Invoke-API
stand-in (stand_ins/fake_invoke_api.py, in its own process; a test named
``slowN`` sleeps N tenths of a second). The first run has no history, so
dispatch follows collection order; the second reads the durations the first
recorded in pytest's cache (``-p cacheprovider``) and dispatches longest first.
Prints the LPT bound (the makespan of longest-first list scheduling), a lower
bound on any schedule, and both measured makespans. Goal: with history, within
5 % of the LPT bound.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.stand_in import stand_ins, write_suite  # noqa: E402
from lambda_ui.runner.scheduler import list_makespan, lpt_makespan  # noqa: E402


def skewed_tenths(n: int, long: int, scale: float, seed: int) -> list[int]:
    """Durations in tenths of a second, in collection order: ``long`` tests of 20-30 s at
    random places among short ones of 0.5-2 s, times ``scale`` (at least 0.1 s each)."""
    rng = random.Random(seed)
    short = [rng.uniform(0.5, 2.0) for _ in range(n - long)]
    for position in sorted(rng.sample(range(n), long)):
        short.insert(position, rng.uniform(20.0, 30.0))
    return [max(1, round(s * scale * 10)) for s in short]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=400)
    parser.add_argument("--long", type=int, default=8, help="tests of 20-30 s (before --scale)")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every duration (0.5: a shorter run)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    tenths = skewed_tenths(args.tests, args.long, args.scale, args.seed)
    seconds = [t / 10 for t in tenths]
    lpt = lpt_makespan(seconds, args.concurrency)
    lower = max(max(seconds), sum(seconds) / args.concurrency)
    in_order = list_makespan(seconds, args.concurrency)

    work = Path(tempfile.mkdtemp(prefix="scheduling-"))
    write_suite(work / "test_skewed.py", [f"slow{t}_{i}" for i, t in enumerate(tenths)])

    def run_pytest(env: dict[str, str], label: str) -> tuple[float, float]:
        """(dispatch wall from the summary line, makespan from the JUnit run_offset_s + wall_s)."""
        xml = work / f"{label}.xml"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "cacheprovider", "--lambda", "--lambda-function=ui-tests",
             f"--lambda-concurrency={args.concurrency}", "--artifacts=s3://scheduling/runs", f"--junitxml={xml}", "test_skewed.py"],
            cwd=work, env=env, capture_output=True, text=True,
        )
        if proc.returncode != 0:
            print("\n".join(proc.stdout.splitlines()[-30:]))
            raise SystemExit(1)
        line = next(x for x in proc.stdout.splitlines() if "invocation(s) of" in x)
        dispatch = float(line.split(" in ")[1].split(" s,")[0])
        ends = []
        for case in ET.parse(xml).getroot().iter("testcase"):
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            ends.append(float(props["run_offset_s"]) + float(props["wall_s"]))
        return dispatch, max(ends)

    try:
        with stand_ins("scheduling", timeout_s=120) as env:
            started = time.monotonic()
            cold = run_pytest(env, "no-history")
            warm = run_pytest(env, "history")
            elapsed = time.monotonic() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)

    longs = sorted((s for s in seconds if s >= 20 * args.scale), reverse=True)
    print(f"tests {args.tests} ({len(longs)} long: {', '.join(f'{s:g}' for s in longs)} s; the rest "
          f"{min(seconds):g}-{max(s for s in seconds if s < 20 * args.scale):g} s), concurrency {args.concurrency}, "
          f"scale {args.scale:g}, seed {args.seed}; total work {sum(seconds):.1f} s")
    print(f"lower bound on any schedule, max(longest, total / concurrency): {lower:7.2f} s")
    print(f"LPT bound (longest-first list scheduling):                       {lpt:7.2f} s")
    print(f"list scheduling in collection order (predicted, no history):     {in_order:7.2f} s")
    for label, (dispatch, makespan) in (("without history (collection order)", cold), ("with history (longest first)", warm)):
        print(f"-- {label}")
        print(f"   makespan (last answer, from the JUnit timings): {makespan:7.2f} s  -> {100 * (makespan / lpt - 1):+6.1f} % over the LPT bound")
        print(f"   dispatch wall (summary line):                   {dispatch:7.2f} s  -> {100 * (dispatch / lpt - 1):+6.1f} % over the LPT bound")
    goal = warm[0] <= lpt * 1.05
    print(f"goal: with history within 5 % of the LPT bound -> {'met' if goal else 'NOT met'}; both runs took {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
