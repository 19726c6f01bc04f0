"""A latency-bound suite: ``pytest -n 2`` against ``pytest --lambda`` on many local environments.

    python bench/latency_bound.py [--tests 24] [--environments 16] [--session per-test warm] [--chrome-binary PATH]
                                  [--goal 5] [--judge warm|fresh] [--isolation auto]

The suite (bench/suites.py, written to a scratch folder) has ``--tests`` browser
tests that each wait 2-5 s on the example app's slow back end, as pages of real
staging servers do: the machine is idle most of the time. It runs, in one
benchmark run, as ``pytest -n 2`` on local Chrome and as ``pytest --lambda``
against the local Lambda (the real handler under awslambdaric, template.yaml,
``--environments`` environments prestarted) and a loopback S3. Each ``--lambda``
run gets a fresh stand-in; a second run on the same stand-in shows the same
environments warm (Chrome already started), as a CI run minutes after another
finds them on Lambda, and schedules longest first from the first run's durations
(pytest's cache). Each run waits first until the CPUs are half idle (at most
60 s): the previous run's Chromes take seconds to exit.

Prints the wall time of each whole pytest process, the speed-up over ``-n 2``
and where the ``--lambda`` time goes: client start-up, the scheduling bound,
each invocation's duration against the test's own setup + call + teardown, the
first test of each environment (Chrome start) and the stand-in's transit, and for every run
the CPU of every process on the machine by kind (bench/cpu_census.py): on two cores a run
cannot take less wall time than half its CPU-s, so each ``--lambda`` run also prints
that ceiling: ``-n 2``'s wall time over the run's CPU-s per core.
Exit 1 when the judged ``--lambda`` run of a mode misses the goal (>= 5x over
``-n 2``): by default the run on warm environments (``--judge warm``), as
Lambda's environments stay warm between CI runs and each starts its Chrome on
its own CPU; here the fresh run starts every Chrome at once on two cores.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from bench.cpu_census import CpuCensus  # noqa: E402
from bench.suites import junit_cases, junit_suite_properties, write_latency_suite  # noqa: E402
from lambda_ui.local_lambda import LocalLambda, Options, load_function_config, with_overrides  # noqa: E402
from lambda_ui.local_lambda.invocations import InvocationRecord  # noqa: E402
from lambda_ui.runner.scheduler import list_makespan, lpt_makespan  # noqa: E402
from stand_ins.services import AWS_TEST_ENV, LoopbackS3, scoped_environ  # noqa: E402

BUCKET = "latency-bound"
#: The two --lambda runs on one stand-in: Chrome starts inside the first; the second
#: finds every environment warm and the durations of the first in pytest's cache.
FRESH = "fresh environments, no history"
WARM = "warm environments, with history"
FUNCTION = "UiTestFunction"


@dataclass
class Run:
    """One whole pytest process and what its JUnit file and the stand-in recorded."""

    label: str
    wall_s: float
    summary: str
    ok: bool
    load_before: float
    load_after: float
    junit: Path
    cpu: str = ""
    cpu_s: float = 0.0
    invocations: list[InvocationRecord] = field(default_factory=list)


def load() -> float:
    return os.getloadavg()[0]


def cpu_idle(seconds: float = 1.0) -> float:
    """Fraction of all CPUs idle over the next ``seconds`` (/proc/stat)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, total

    idle0, total0 = sample()
    time.sleep(seconds)
    idle1, total1 = sample()
    return (idle1 - idle0) / max(1, total1 - total0)


def settle(limit_s: float, idle: float = 0.5) -> float:
    """Wait until the CPUs are ``idle`` idle (or ``limit_s`` passed): each run starts on a
    machine its predecessor no longer loads (an ended run's Chromes take seconds to exit)."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s and cpu_idle() < idle:
        pass
    return time.monotonic() - started


def client_phases_s(run: Run) -> float:
    """The --lambda client's start-up and exit: the whole process minus its dispatch."""
    return run.wall_s - float(junit_suite_properties(run.junit).get("run_wall_s", "nan"))


def print_ceiling(run: Run, base: float) -> None:
    """The best speed-up this machine allows for the run's CPU, whatever the dispatch does."""
    if not run.cpu_s:
        print("   ceiling: no CPU counted")
        return
    cores = os.cpu_count() or 1
    # No schedule finishes the run's CPU in less than CPU-s / cores.
    print(f"   ceiling on {cores} cores: -n 2's {base:.1f} s / ({run.cpu_s:.1f} CPU-s / {cores}) = {base * cores / run.cpu_s:.2f}x")
    client = client_phases_s(run)
    if not math.isnan(client):  # the JUnit file has the dispatch wall
        # While the client starts and exits the environments have nothing to run: an estimate
        # that counts one core busy then.
        floor = client + max(run.cpu_s - client, 0.0) / cores
        print(f"   with the client's start-up and exit ({client:.2f} s) on one core: {base:.1f} s / {floor:.1f} s = {base / floor:.2f}x")


def run_pytest(label: str, suite: Path, args: list[str], env: dict[str, str], junit: Path, settle_s: float = 60.0) -> Run:
    settled = settle(settle_s)
    print(f"{label}: starts after {settled:.0f} s of settling, CPUs {cpu_idle() * 100:.0f}% idle", flush=True)
    before = load()
    # Cached bytecode, as a developer's machine (and the function image) has: both ways alike.
    env = {**env, "PYTHONDONTWRITEBYTECODE": ""}
    started = time.monotonic()
    with CpuCensus() as census:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", f"--junitxml={junit}", *args],
                              cwd=suite, env=env, capture_output=True, text=True, timeout=1800)
    wall = time.monotonic() - started
    lines = [x for x in proc.stdout.splitlines() if x.startswith("=") and " in " in x]
    summary = lines[-1].strip("= ") if lines else (proc.stdout.strip().splitlines() or ["(no output)"])[-1]
    if proc.returncode != 0:
        print(f"{label}: pytest exited {proc.returncode}: {summary}\n" + "\n".join(proc.stdout.splitlines()[-40:]) + proc.stderr[-2000:])
    return Run(label, wall, summary, proc.returncode == 0, before, load(), junit, cpu=census.table(), cpu_s=census.total())


def session_modes() -> list[str]:
    """The --lambda-session values this checkout knows (none before the warm session existed)."""
    out = subprocess.run([sys.executable, "-m", "pytest", "--help"], cwd=REPO, capture_output=True, text=True).stdout
    return ["per-test", "warm"] if "--lambda-session" in out else []


def stats(values: list[float]) -> str:
    if not values:
        return "n=0"
    return f"median {statistics.median(values):7.0f} ms   max {max(values):7.0f} ms   (n={len(values)})"


def profile(run: Run, waits: dict[str, int], environments: int) -> None:
    """Where a --lambda run's wall time goes, from its JUnit file and the stand-in's records."""
    cases = {c.nodeid: c for c in junit_cases(run.junit)}
    client = client_phases_s(run)
    seconds = list(waits.values())
    print(f"   client start-up + exit (whole process - dispatch wall {run.wall_s - client:.2f} s): {client:.2f} s")
    print(f"   scheduling bound on {environments} environments: LPT {lpt_makespan(seconds, environments):.1f} s, "
          f"collection order {list_makespan(seconds, environments):.1f} s (waits only)")
    records = [r for r in run.invocations if r.nodeids and r.ran]
    first: list[float] = []
    later: list[float] = []
    over_first: list[float] = []
    over_later: list[float] = []
    test_extra: list[float] = []
    first_extra: list[float] = []
    transit: list[float] = []
    seen: set[str | None] = set()
    busy: dict[str | None, float] = {}
    for record in sorted(records, key=lambda r: r.started):
        case = cases.get(record.nodeids[0]) if record.nodeids else None
        if case is None or record.duration_ms is None:
            continue
        duration = record.duration_ms
        overhead = duration - case.time_s * 1000
        is_first = record.environment_id not in seen
        seen.add(record.environment_id)
        busy[record.environment_id] = busy.get(record.environment_id, 0.0) + duration / 1000
        (first if is_first else later).append(duration)
        (over_first if is_first else over_later).append(overhead)
        # The test's own time beyond its wait: page load and render; Chrome's start in the first.
        (first_extra if is_first else test_extra).append(case.time_s * 1000 - waits[case.nodeid] * 1000)
        transit.append((record.ended - record.started) * 1000 - duration)
    print(f"   environments used: {len(seen)}; busy per environment: "
          f"{', '.join(f'{b:.1f}' for b in sorted(busy.values(), reverse=True))} s")
    print(f"   invocation Duration, first test of an environment: {stats(first)}")
    print(f"   invocation Duration, later tests:                  {stats(later)}")
    print(f"   handler overhead (Duration - setup+call+teardown), first: {stats(over_first)}")
    print(f"   handler overhead (Duration - setup+call+teardown), later: {stats(over_later)}")
    print(f"   test time beyond its wait, first test (Chrome start if cold): {stats(first_extra)}")
    print(f"   test time beyond its wait (page load, render), later tests:  {stats(test_extra)}")
    print(f"   stand-in transit (service time - Duration): {stats(transit)}")


def lambda_run(label: str, suite: Path, lam: LocalLambda, environments: int, mode: str | None, junit: Path) -> Run:
    env = {**os.environ, "AWS_ENDPOINT_URL_LAMBDA": lam.endpoint}
    args = ["--lambda", f"--lambda-function={FUNCTION}", f"--lambda-concurrency={environments}",
            f"--artifacts=s3://{BUCKET}/runs", "test_latency.py"]
    if mode:
        args.append(f"--lambda-session={mode}")
    seen = len(lam.invocations)
    run = run_pytest(label, suite, args, env, junit)
    run.invocations = lam.invocations[seen:]
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=24)
    parser.add_argument("--environments", type=int, default=16, help="local Lambda environments (Chromes) for --lambda")
    parser.add_argument("--session", nargs="*", default=None, help="--lambda-session values (default: every one this checkout has)")
    parser.add_argument("--goal", type=float, default=5.0, help="speed-up over -n 2 the judged --lambda run must reach")
    parser.add_argument("--judge", choices=("warm", "fresh"), default="warm",
                        help="which --lambda run the goal applies to: on warm environments (default) or on fresh ones")
    parser.add_argument("--isolation", default="auto", help="the local Lambda's isolation")
    parser.add_argument("--skip-xdist-s", type=float, default=None, help="use this -n 2 wall instead of running it")
    parser.add_argument("--chrome-binary", default=None,
                        help="the browser of both ways: --chrome-binary for -n 2, $CHROME_BINARY for the environments "
                             "(e.g. /usr/bin/chromium-headless-shell; default: the runner's choice)")
    args = parser.parse_args()
    modes: list[str | None] = list(args.session) if args.session is not None else list(session_modes()) or [None]

    work = Path(tempfile.mkdtemp(prefix="latency-bound-"))
    suite = work / "suite"
    seconds = write_latency_suite(suite, args.tests)
    waits = {f"test_latency.py::test_waits_on_the_back_end[{i:02d}-{s}s]": s for i, s in enumerate(seconds)}
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"machine: {os.cpu_count()} CPUs; load average at start {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"suite: {args.tests} tests waiting {sum(seconds)} s in all on /slow (2-5 s each)")
    s3 = LoopbackS3.start()
    runs: list[Run] = []
    try:
        boto3.client("s3", endpoint_url=s3.endpoint, aws_access_key_id="testing", aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        if args.skip_xdist_s is None:
            chosen = [f"--chrome-binary={args.chrome_binary}"] if args.chrome_binary else []
            xdist = run_pytest("pytest -n 2 (local Chrome)", suite, ["-n", "2", f"--artifacts={work}/xdist", *chosen, "test_latency.py"],
                               dict(os.environ), work / "xdist.xml")
        else:
            xdist = Run("pytest -n 2 (given)", args.skip_xdist_s, "given", True, load(), load(), work / "none")
        runs.append(xdist)
        function_env = {"CHROME_BINARY": args.chrome_binary} if args.chrome_binary else None
        config = with_overrides(load_function_config(REPO / "template.yaml"), concurrency=args.environments, env=function_env)
        for mode in modes:
            name = f"--lambda-session={mode}" if mode else "--lambda (the handler's default session)"
            with scoped_environ(**AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=s3.endpoint):
                started = time.monotonic()
                with LocalLambda(config, Options(port=0, prestart=args.environments, isolation=args.isolation)) as lam:
                    mode_name = lam.isolation.mode if lam.isolation is not None else "?"
                    print(f"stand-in: {args.environments} environments prestarted in {time.monotonic() - started:.1f} s "
                          f"(not in the wall times; isolation {mode_name})")
                    for attempt in (FRESH, WARM):
                        runs.append(lambda_run(f"{name}, {args.environments} environments, {attempt}", suite, lam,
                                               args.environments, mode, work / f"lambda-{mode}-{len(runs)}.xml"))
    finally:
        s3.stop()

    base = runs[0].wall_s
    print(f"\n{'way':<70} {'wall':>7} {'-n 2 / this':>12}   load before/after   summary")
    for run in runs:
        print(f"{run.label:<70} {run.wall_s:6.1f}s {base / run.wall_s:11.2f}x   {run.load_before:5.1f} / {run.load_after:5.1f}      {run.summary}")
    print(f"\n-- {runs[0].label}\n{runs[0].cpu}")
    missed = False
    for run in runs[1:]:
        print(f"\n-- {run.label}")
        profile(run, waits, args.environments)
        print(run.cpu)
        speedup = base / run.wall_s
        print_ceiling(run, base)
        if run.label.endswith(WARM if args.judge == "warm" else FRESH):
            met = run.ok and speedup >= args.goal
            missed = missed or not met
            print(f"   goal: >= {args.goal:g}x over -n 2 -> {speedup:.2f}x, {'met' if met else 'NOT met'}")
        else:
            print(f"   {speedup:.2f}x over -n 2 (not judged: --judge {args.judge})")
    shutil.rmtree(work, ignore_errors=True)
    return 1 if missed or not runs[0].ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
