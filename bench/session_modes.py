"""Handler overhead and billed GB-s of ``--lambda-session`` per-test and warm, through the local Lambda.

    python bench/session_modes.py [--environments 2] [--suite examples/ui slow-start] [--session per-test warm]

Each suite runs as ``pytest --lambda`` once per session mode, each time on a
fresh local Lambda (the real handler under awslambdaric, template.yaml,
``--environments`` environments prestarted) and a loopback S3:

* ``examples/ui``: the example suite, from this checkout;
* ``slow-start``: a suite whose ``pytest_configure`` starts the example app and
  takes about 1 s (bench/suites.py), as many real suites' conftests do.

Handler overhead of an invocation = its Duration (the stand-in's REPORT line)
minus the test's setup + call + teardown (its JUnit ``time``): configuration,
plugins, conftests, collection, session fixtures, browser reset, report
serialization and upload flush. Shown for every invocation and for those after
the first test of each environment. Billed GB-s: the run's
``lambda_billed_gb_s`` JUnit property (runner/cost.py, from the REPORT lines).
Goal: <= 20 ms median overhead after each environment's first test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from bench.suites import junit_cases, junit_suite_properties, write_slow_start_suite  # noqa: E402
from lambda_ui.local_lambda import LocalLambda, Options, load_function_config, with_overrides  # noqa: E402
from stand_ins.services import AWS_TEST_ENV, LoopbackS3, scoped_environ  # noqa: E402

BUCKET = "session-modes"
GOAL_MS = 20.0


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_suite(label: str, cwd: Path, target: str, mode: str, environments: int, junit: Path, s3: LoopbackS3) -> dict[str, object]:
    config = with_overrides(load_function_config(REPO / "template.yaml"), concurrency=environments)
    with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=s3.endpoint):
        with LocalLambda(config, Options(port=0, prestart=environments)) as lam:
            env = {**os.environ, "AWS_ENDPOINT_URL_LAMBDA": lam.endpoint}
            load = os.getloadavg()[0]
            started = time.monotonic()
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", target, "--lambda", "--lambda-function=UiTestFunction",
                 f"--lambda-concurrency={environments}", f"--lambda-session={mode}", f"--artifacts=s3://{BUCKET}/runs", f"--junitxml={junit}"],
                cwd=cwd, env=env, capture_output=True, text=True, timeout=1800,
            )
            wall = time.monotonic() - started
            records = [r for r in lam.invocations if r.nodeids and r.ran]
    summary = (proc.stdout.strip().splitlines() or ["(no output)"])[-1].strip("= ")
    if proc.returncode != 0:
        print(f"{label} {mode}: pytest exited {proc.returncode}\n" + "\n".join(proc.stdout.splitlines()[-30:]))
    cases = {c.nodeid: c for c in junit_cases(junit)}
    every: list[float] = []
    later: list[float] = []
    first: list[float] = []
    seen: set[str | None] = set()
    for record in sorted(records, key=lambda r: r.started):
        case = cases.get(record.nodeids[0]) if record.nodeids else None
        if case is None or record.duration_ms is None:
            continue
        overhead = record.duration_ms - case.time_s * 1000
        every.append(overhead)
        (later if record.environment_id in seen else first).append(overhead)
        seen.add(record.environment_id)
    gb_s = float(junit_suite_properties(junit).get("lambda_billed_gb_s", "nan"))
    return {"suite": label, "mode": mode, "wall": wall, "summary": summary, "load": load, "every": every, "later": later,
            "first": first, "gb_s": gb_s, "invocations": len(records), "ok": proc.returncode == 0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--environments", type=int, default=2)
    parser.add_argument("--suite", nargs="+", default=["examples/ui", "slow-start"])
    parser.add_argument("--session", nargs="+", default=["per-test", "warm"])
    parser.add_argument("--slow-start-tests", type=int, default=20)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="session-modes-"))
    s3 = LoopbackS3.start()
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"machine: {os.cpu_count()} CPUs; load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows = []
    try:
        boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        for suite in args.suite:
            if suite == "slow-start":
                write_slow_start_suite(work / "slow-start", args.slow_start_tests)
                cwd, target = work / "slow-start", "test_app.py"
            else:
                cwd, target = REPO, suite
            for mode in args.session:
                row = run_suite(suite, cwd, target, mode, args.environments, work / f"{suite.replace('/', '-')}-{mode}.xml", s3)
                rows.append(row)
                print(f"{suite} {mode}: {row['summary']}; wall {row['wall']:.1f} s (load {row['load']:.1f}); "
                      f"overhead median {median(row['every']):.0f} ms, after each environment's first test "
                      f"{median(row['later']):.1f} ms, first tests {median(row['first']):.0f} ms; billed {row['gb_s']:.2f} GB-s", flush=True)
    finally:
        s3.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\n| suite | session | tests | wall | overhead median, all | after each environment's first test (goal <= 20 ms) | first test of an environment | billed GB-s |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['suite']} | {row['mode']} | {row['invocations']} | {row['wall']:.1f} s | {median(row['every']):.0f} ms | "
              f"{median(row['later']):.1f} ms | {median(row['first']):.0f} ms | {row['gb_s']:.2f} |")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
