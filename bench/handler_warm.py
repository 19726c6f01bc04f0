"""Cold and warm invocation times of the handler, and its warm overhead, per session mode.

Runs the real handler in a Lambda-like process (stand_ins/lambda_like.py)
against a loopback S3 and real Chromium:

    python bench/handler_warm.py [--warm N] [--runs R] [--session per-test warm] [--suite trivial slow-start]

Suites (bench/suites.py): ``trivial`` (a browser test that reads a data: URL)
and ``slow-start`` (its conftest's ``pytest_configure`` starts the example app
and takes about 1 s, as real suites' do). Each mode gets a fresh process: the
first invocation is cold, the next ``--warm`` ones each run another test.

Prints, per suite and mode: cold invocation time, warm invocation times, and
warm overhead = the handler's time minus the test's setup + call + teardown
(issue 16; the older figure, minus the call phase only, beside it).
Goal: warm overhead <= 20 ms median.

With ``--runs R`` (R > 1), R - 1 later runs (new run ids, as the next CI run's) each
send one more test to the same environment: a warm session ends and a new one starts
in that invocation. Printed: its overhead and the session start alone, with one
environment on an otherwise idle machine (no burst of environments around it).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from bench.suites import write_slow_start_suite, write_trivial_suite  # noqa: E402
from lambda_ui.runner.bundle import build_bundle  # noqa: E402
from stand_ins.lambda_like import LambdaLikeProcess  # noqa: E402
from stand_ins.services import AWS_TEST_ENV, LoopbackS3  # noqa: E402

BUCKET = "bench-artifacts"
GOAL_MS = 20.0
SUITES = {
    "trivial": (write_trivial_suite, "test_trivial.py::test_trivial[{n}]"),
    "slow-start": (write_slow_start_suite, "test_app.py::test_home[{n}]"),
}


def row(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{name:<44} median {statistics.median(ordered):7.1f} ms   p95 {p95:7.1f} ms   max {ordered[-1]:7.1f} ms"


def measure(suite: str, mode: str, warm: int, runs: int, work: Path, s3: LoopbackS3, client: Any) -> dict[str, Any]:
    """A fresh environment for ``suite`` in ``mode``: one cold, then ``warm`` warm invocations,
    then the first test of each of ``runs - 1`` later runs."""
    write, nodeid = SUITES[suite]
    root = work / suite
    if not root.exists():
        write(root, warm + 1)
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    built = build_bundle(root, files)
    client.put_object(Bucket=BUCKET, Key=built.key, Body=built.data)
    env = dict(AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=s3.endpoint)
    process = LambdaLikeProcess(work / f"tmp-{suite}-{mode}", env=env)

    def event(n: int, run_id: str = "bench") -> dict[str, Any]:
        return {
            "version": 1, "kind": "run", "run_id": run_id, "nodeids": [nodeid.format(n=n)], "session": mode,
            "bundle": {"bucket": BUCKET, "key": built.key, "sha256": built.sha256},
            "pytest_args": [], "artifacts": {"bucket": BUCKET, "prefix": "runs"}, "attempt": 1,
        }

    try:
        cold = process.invoke(event(0))
        cold_wall = process.last_wall_ms
        assert [r["outcome"] for r in cold["reports"]] == ["passed"] * 3, cold
        walls, overheads, call_overheads, tests = [], [], [], []
        for n in range(1, warm + 1):
            answer = process.invoke(event(n))
            assert [r["outcome"] for r in answer["reports"]] == ["passed"] * 3, answer
            facts = answer["facts"]
            walls.append(process.last_wall_ms)
            tests.append(facts["test_ms"])
            overheads.append(facts["handler_ms"] - facts["test_ms"])
            call_overheads.append(facts["handler_ms"] - facts["call_ms"])
        replaced, started = [], []
        for run in range(1, runs):
            answer = process.invoke(event(run % (warm + 1), run_id=f"bench-{run}"))
            assert [r["outcome"] for r in answer["reports"]] == ["passed"] * 3, answer
            facts = answer["facts"]
            replaced.append(facts["handler_ms"] - facts["test_ms"])
            started.append(facts.get("session_started_ms", 0.0))
        return {"cold": cold["facts"], "cold_wall": cold_wall, "import_ms": process.import_ms, "walls": walls,
                "tests": tests, "overheads": overheads, "call_overheads": call_overheads,
                "replaced": replaced, "started": started}
    finally:
        process.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", type=int, default=30, help="warm invocations to time")
    parser.add_argument("--runs", type=int, default=1, help="runs in all; each later one sends one test (session replaced)")
    parser.add_argument("--session", nargs="+", default=["per-test", "warm"], help="session modes to measure")
    parser.add_argument("--suite", nargs="+", default=list(SUITES), choices=list(SUITES))
    args = parser.parse_args()

    s3 = LoopbackS3.start()
    os.environ.update(AWS_TEST_ENV)
    client = boto3.client("s3", endpoint_url=s3.endpoint)
    client.create_bucket(Bucket=BUCKET)
    work = Path(tempfile.mkdtemp(prefix="bw-"))
    print(f"machine: {os.cpu_count()} CPUs; load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    table: list[tuple[str, str, float, float, float]] = []
    try:
        for suite in args.suite:
            for mode in args.session:
                got = measure(suite, mode, args.warm, args.runs, work, s3, client)
                f = got["cold"]
                print(f"\n== suite {suite}, session {mode}")
                print(f"handler module import (init):                {got['import_ms']:7.1f} ms")
                print(f"cold invocation (wall):                      {got['cold_wall']:7.1f} ms   (browser start "
                      f"{f.get('browser_start_ms', 0):.0f} ms, bundle fetch {f['bundle_ms']:.0f} ms, session start "
                      f"{f.get('session_started_ms', 0):.0f} ms)")
                print(row(f"warm invocation (wall, n={args.warm})", got["walls"]))
                print(row("warm test setup+call+teardown", got["tests"]))
                print(row("warm overhead (handler - test)", got["overheads"]))
                print(row("warm overhead (handler - call), old figure", got["call_overheads"]))
                if got["replaced"]:
                    print(row(f"later run's first test: overhead (n={len(got['replaced'])})", got["replaced"]))
                    print(row("later run's first test: session start alone", got["started"]))
                table.append((suite, mode, statistics.median(got["overheads"]), statistics.median(got["call_overheads"]),
                              statistics.median(got["walls"])))
    finally:
        s3.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nload average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n| suite | session | warm overhead, median (handler - setup+call+teardown) | handler - call | warm invocation wall | goal <= 20 ms |")
    print("|---|---|---|---|---|---|")
    for suite, mode, overhead, call_overhead, wall in table:
        print(f"| {suite} | {mode} | {overhead:.1f} ms | {call_overhead:.1f} ms | {wall:.1f} ms | {'met' if overhead <= GOAL_MS else 'not met'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
