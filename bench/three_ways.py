"""The example suite three ways on one machine: serial, ``pytest -n 2``, ``pytest --lambda``.

    python bench/three_ways.py [--suite examples/ui] [--lambda-concurrency 2 3 4] [--rounds 1]

Serial and ``-n 2`` run on local headless Chrome. ``--lambda`` runs against the
local stand-ins: a loopback S3 (moto_server) and the local Lambda (the real
handler under awslambdaric, configured from template.yaml) with as many
environments as ``--lambda-concurrency`` says, prestarted; each value gets a
fresh stand-in. Every run is a whole pytest process timed from start to exit.
Prints wall times, the ratio of each to the serial run, and the load average
when each run started.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from lambda_ui.local_lambda import LocalLambda, Options, load_function_config, with_overrides  # noqa: E402
from stand_ins.services import AWS_TEST_ENV, LoopbackS3, scoped_environ  # noqa: E402

BUCKET = "three-ways"


@dataclass
class Timing:
    way: str
    wall_s: float
    pytest_s: float
    summary: str
    load: float


def _load() -> float:
    return os.getloadavg()[0]


def run_pytest(way: str, args: list[str], env: dict[str, str]) -> Timing:
    load = _load()
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - started
    lines = [x for x in proc.stdout.splitlines() if x.startswith("=") and " in " in x]
    summary = lines[-1].strip("= ") if lines else proc.stdout.strip().splitlines()[-1]
    match = re.search(r" in ([0-9.]+)s", summary)
    if proc.returncode != 0:
        print(f"{way}: pytest exited {proc.returncode}: {summary}\n" + "\n".join(proc.stdout.splitlines()[-30:]))
    return Timing(way, wall, float(match.group(1)) if match else wall, summary, load)


def run_lambda(suite: str, concurrency: int, work: Path, s3: LoopbackS3) -> tuple[Timing, float]:
    """One ``--lambda`` run on a fresh local Lambda with ``concurrency`` prestarted environments."""
    config = with_overrides(load_function_config(REPO / "template.yaml"), concurrency=concurrency)
    with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=s3.endpoint):
        started = time.monotonic()
        with LocalLambda(config, Options(port=0, prestart=concurrency)) as lam:
            stand_in_s = time.monotonic() - started
            env = {**os.environ, "AWS_ENDPOINT_URL_LAMBDA": lam.endpoint}
            timing = run_pytest(
                f"--lambda, {concurrency} environments",
                [suite, "--lambda", "--lambda-function=UiTestFunction", f"--lambda-concurrency={concurrency}",
                 f"--artifacts=s3://{BUCKET}/runs", f"--junitxml={work}/lambda-{concurrency}.xml"],
                env,
            )
    return timing, stand_in_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="examples/ui")
    parser.add_argument("--lambda-concurrency", type=int, nargs="+", default=[3], metavar="N")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every way this often; the median is compared")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="three-ways-"))
    s3 = LoopbackS3.start()
    boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                 region_name="us-east-1").create_bucket(Bucket=BUCKET)
    env = dict(os.environ)
    timings: list[Timing] = []
    stand_in: dict[int, float] = {}
    try:
        for _round in range(args.rounds):
            timings.append(run_pytest("serial", [args.suite, f"--artifacts={work}/serial"], env))
            timings.append(run_pytest("pytest -n 2", ["-n", "2", args.suite, f"--artifacts={work}/xdist"], env))
            for concurrency in args.lambda_concurrency:
                timing, stand_in[concurrency] = run_lambda(args.suite, concurrency, work, s3)
                timings.append(timing)
    finally:
        s3.stop()
        shutil.rmtree(work, ignore_errors=True)

    ways = list(dict.fromkeys(t.way for t in timings))
    medians = {w: statistics.median(t.wall_s for t in timings if t.way == w) for w in ways}
    serial = medians["serial"]
    print(f"{args.suite}, {os.cpu_count()} CPUs, {args.rounds} round(s); wall = the whole pytest process")
    for way in ways:
        runs = [t for t in timings if t.way == way]
        each = ", ".join(f"{t.wall_s:.1f} s (load {t.load:.1f}; {t.summary})" for t in runs)
        print(f"{way:<26} median {medians[way]:6.1f} s   serial/this {serial / medians[way]:4.2f}x   runs: {each}")
    for concurrency, seconds in stand_in.items():
        print(f"stand-in start-up with {concurrency} prestarted environments (not in the wall times): {seconds:.1f} s (last round)")
    best = min((w for w in ways if w.startswith("--lambda")), key=lambda w: medians[w], default=None)
    if best is not None:
        print(f"fastest --lambda: {best} ({medians[best]:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
