"""Fan-out at scale: pytest --lambda against a lightweight Invoke-API stand-in.

    python bench/fanout.py --tests 1000 --concurrency 100 [--min-s 2 --max-s 5 --step-ms 1]

The stand-in (stand_ins/fake_invoke_api.py, in its own process) runs no
code: each invocation sleeps 2-5 s and answers with pytest reports. Measures
the client: wall time against the ideal (the longest test when tests <=
concurrency, the LPT bound otherwise), client CPU per test, peak RSS, and
invocations per second. Goals: wall <= ideal + 2 s, <= 2 ms client CPU per
test, >= 500 invocations/s, memory flat in tests in flight.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.stand_in import stand_ins, write_suite  # noqa: E402
from lambda_ui.runner.scheduler import list_makespan, lpt_makespan  # noqa: E402


def durations_for(n: int, lo: float, hi: float, step_ms: int) -> list[int]:
    """Deterministic durations in ms, spread over [lo, hi] in steps of ``step_ms``.

    Steps of 1 ms spread the answers out as real tests do; 100 ms steps make
    hundreds of tests finish at the same instant (the runs before 2026-11-27).
    """
    steps = int(round((hi - lo) * 1000 / step_ms))
    return [int(round(lo * 1000)) + step_ms * ((i * 7919) % (steps + 1)) for i in range(n)]


def add_suite_options(parser: argparse.ArgumentParser, tests: int, concurrency: int) -> None:
    """The suite's shape (also modelled by bench/dispatch_model.py): size, window, durations."""
    parser.add_argument("--tests", type=int, default=tests)
    parser.add_argument("--concurrency", type=int, default=concurrency)
    parser.add_argument("--min-s", type=float, default=2.0)
    parser.add_argument("--max-s", type=float, default=5.0)
    parser.add_argument("--step-ms", type=int, default=1, help="duration granularity (100: hundreds finish at once)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_suite_options(parser, tests=1000, concurrency=100)
    args = parser.parse_args()

    millis = durations_for(args.tests, args.min_s, args.max_s, args.step_ms)
    seconds = [ms / 1000 for ms in millis]
    ideal = max(seconds) if args.tests <= args.concurrency else lpt_makespan(seconds, args.concurrency)
    in_order = list_makespan(seconds, args.concurrency)
    work = Path(tempfile.mkdtemp(prefix="fanout-"))
    write_suite(work / "test_fanout.py", [f"sleepms{ms}_{i}" for i, ms in enumerate(millis)])
    peak_kb = 0

    def run_pytest(env: dict[str, str], *extra: str) -> tuple[subprocess.CompletedProcess[str], float, float, float]:
        nonlocal peak_kb
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "cacheprovider", "--lambda", "--lambda-function=ui-tests",
             f"--lambda-concurrency={args.concurrency}", "--artifacts=s3://fanout/runs", f"--junitxml={work}/r.xml", *extra, "test_fanout.py"],
            cwd=work, env=env, capture_output=True, text=True,
        )
        total = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        # Only pytest runs have been reaped so far (the stand-in and S3 still run): their peak.
        peak_kb = max(peak_kb, after.ru_maxrss)
        if proc.returncode != 0:
            print("\n".join(proc.stdout.splitlines()[-30:]))
            raise SystemExit(1)
        # First invoke to last answer, as the run's JUnit records it (ms resolution).
        wall = ElementTree.parse(work / "r.xml").find(".//testsuite/properties/property[@name='run_wall_s']")
        dispatch = float(wall.get("value")) if wall is not None else total
        return proc, total, dispatch, cpu

    try:
        with stand_ins("fanout", timeout_s=60) as env:
            # Start-up, collection and the function check, without dispatching: the fixed cost.
            _proc, _total, _dispatch, fixed_cpu = run_pytest(env, "--lambda-dry-run")
            runs = [("no history (collection order)", *run_pytest(env)), ("with history (longest first)", *run_pytest(env))]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peak = peak_kb / 1024
    print(f"tests {args.tests}, concurrency {args.concurrency}, invocations {args.min_s:g}-{args.max_s:g} s in {args.step_ms} ms steps")
    print(f"ideal (LPT bound, or the longest test when tests <= concurrency): {ideal:.2f} s")
    print(f"fixed client CPU (start-up, collection, function check; --lambda-dry-run): {fixed_cpu:.2f} s")
    for label, proc, total, dispatch, cpu in runs:
        per_test = (cpu - fixed_cpu) / args.tests * 1000
        print(f"-- {label}")
        print(f"   dispatch wall (first invoke to last answer): {dispatch:7.2f} s  -> {dispatch - ideal:+.2f} s over ideal (goal <= +2 s)")
        if label.startswith("no history"):
            # Without durations no scheduler can pack by length: the bound for this order.
            print(f"   list-scheduling bound in collection order: {in_order:.2f} s  -> {dispatch - in_order:+.2f} s over it")
        print(f"   whole pytest process: {total:.2f} s; {proc.stdout.strip().splitlines()[-1].strip('= ')}")
        print(f"   client start-up + exit (whole process - dispatch wall): {total - dispatch:.2f} s")
        print(f"   client CPU: {cpu:.2f} s total = {cpu / args.tests * 1000:.2f} ms per test; per test beyond the fixed cost: {per_test:.2f} ms (goal <= 2 ms)")
        print(f"   throughput: {args.tests / dispatch:.0f} invocations/s (at most {args.concurrency / (sum(seconds) / len(seconds)):.0f}/s at this concurrency and mean duration)")
    print(f"client peak RSS (largest of the runs): {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
