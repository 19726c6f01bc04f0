"""The local Lambda stand-in's own cost: warm overhead, cold start, throughput.

    python bench/local_lambda.py [--calls 300] [--cold 15] [--concurrency 50] [--per-thread 40]
                                 [--isolation namespace tmpdir]

For each isolation mode it starts ``python -m lambda_ui.cli.local_lambda`` in its own process, as a
user would, serving the tiny handler stand_ins/functions/actions.py, and measures
through boto3:

* warm overhead: sequential ``echo`` calls to one warm environment; the stand-in's overhead
  is the client's round trip minus the function's Duration (REPORT line, LogType=Tail), so
  it includes boto3's own work on the client side. Goal: <= 5 ms median.
* cold start (no Chrome): the environment is ended (action ``exit``), then the next call
  needs a new one: the client's round trip of that call (spawn to first answer) and the
  REPORT line's Init Duration (spawn to the runtime's first ``/next``).
* throughput: N client threads in this process, reserved concurrency N, N environments.

Prints the command line, each figure, and a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402
import psutil  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

ACTIONS = "stand_ins.functions.actions.handler"
CREDENTIALS = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench", "region_name": "us-east-1"}
DURATION = re.compile(r"REPORT RequestId: \S+\tDuration: ([\d.]+) ms\t.*?(?:Init Duration: ([\d.]+) ms\t)?$")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):7.2f} ms   p95 {percentile(values, 0.95):7.2f} ms   max {max(values):7.2f} ms   (n={len(values)})"


class StandIn:
    """``python -m lambda_ui.cli.local_lambda`` in its own process, until ``close``."""

    def __init__(self, isolation: str, concurrency: int, extra: list[str]) -> None:
        self.ready = Path(tempfile.mkdtemp(prefix="llb-")) / "ready"
        self.command = [
            sys.executable, "-m", "lambda_ui.cli.local_lambda", "--template", "template.yaml", "--handler", ACTIONS,
            "--port", "0", "--ready-file", str(self.ready), "--isolation", isolation,
            "--concurrency", str(concurrency), "--timeout", "30", "--memory", "256", "-q", *extra,
        ]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.command, cwd=REPO, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while not self.ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.log.seek(0)
                output = self.log.read().decode(errors="replace")
                self.close()
                raise RuntimeError(f"the stand-in did not start:\n{output}")
            time.sleep(0.05)
        self.endpoint = self.ready.read_text().strip()

    def client(self, pool: int = 10) -> Any:
        config = Config(retries={"total_max_attempts": 1}, read_timeout=60, max_pool_connections=pool, tcp_keepalive=True)
        return boto3.client("lambda", endpoint_url=self.endpoint, config=config, **CREDENTIALS)

    def isolation_line(self) -> str:
        self.log.seek(0)
        for line in self.log.read().decode(errors="replace").splitlines():
            if "isolated by" in line:
                return line.split("local-lambda: ", 1)[-1]
        return "?"

    def close(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.ready.parent, ignore_errors=True)


def call(client: Any, event: dict[str, Any], tail: bool = False) -> tuple[float, dict[str, Any]]:
    """Round trip in ms (payload read included) and the response."""
    started = time.perf_counter()
    response = client.invoke(FunctionName="UiTestFunction", Payload=json.dumps(event).encode(), LogType="Tail" if tail else "None")
    response["Body"] = response["Payload"].read()
    return (time.perf_counter() - started) * 1000, response


def report_numbers(response: dict[str, Any]) -> tuple[float, float | None]:
    last = base64.b64decode(response["LogResult"]).decode().rstrip("\n").split("\n")[-1]
    match = DURATION.match(last)
    if not match:
        raise RuntimeError(f"no REPORT line: {last!r}")
    return float(match.group(1)), float(match.group(2)) if match.group(2) else None


def measure_cold(stand_in: StandIn, count: int) -> dict[str, list[float]]:
    client = stand_in.client()
    call(client, {"action": "echo"})
    trips, inits = [], []
    for _ in range(count):
        # The environment ends while idle (an exit during an invocation would reset it, with
        # no Init Duration reported): the next call needs a new one.
        for child in psutil.Process(stand_in.proc.pid).children():
            child.kill()
        trip, response = call(client, {"action": "echo", "n": 1}, tail=True)
        _duration, init = report_numbers(response)
        if init is None:
            raise RuntimeError("expected a cold start")
        trips.append(trip)
        inits.append(init)
    return {"cold round trip": trips, "Init Duration": inits}


def measure_warm(stand_in: StandIn, count: int) -> dict[str, list[float]]:
    client = stand_in.client()
    for _ in range(20):  # cold start, then warm-up
        call(client, {"action": "echo"}, tail=True)
    trips, overheads, durations = [], [], []
    for number in range(count):
        trip, response = call(client, {"action": "echo", "n": number}, tail=True)
        if "FunctionError" in response:
            raise RuntimeError(response["Body"])
        duration, init = report_numbers(response)
        if init is not None:
            raise RuntimeError("a warm call was cold")
        trips.append(trip)
        durations.append(duration)
        overheads.append(trip - duration)
    return {"warm round trip": trips, "function Duration": durations, "stand-in overhead": overheads}


def measure_throughput(stand_in: StandIn, threads: int, per_thread: int) -> dict[str, Any]:
    client = stand_in.client(pool=threads + 4)
    barrier = threading.Barrier(threads + 1)
    latencies: list[float] = []
    throttles = errors = 0
    lock = threading.Lock()

    def worker() -> None:
        try:
            run_calls()
        except BaseException:
            barrier.abort()  # the main thread stops waiting and reports the failure
            raise

    def run_calls() -> None:
        nonlocal throttles, errors
        for _ in range(2):  # each thread's first calls start the environments
            call(client, {"action": "echo"})
        barrier.wait()
        mine = []
        done = 0
        while done < per_thread:
            try:
                trip, response = call(client, {"action": "echo", "n": done})
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TooManyRequestsException":
                    raise
                with lock:
                    throttles += 1
                continue
            if "FunctionError" in response:
                with lock:
                    errors += 1
            mine.append(trip)
            done += 1
        with lock:
            latencies.extend(mine)
        barrier.wait()

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait(timeout=300)
    started = time.perf_counter()
    barrier.wait(timeout=600)
    wall = time.perf_counter() - started
    for thread in pool:
        thread.join()
    return {"calls": len(latencies), "wall_s": wall, "rate": len(latencies) / wall, "latency": latencies, "throttles": throttles, "errors": errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300, help="sequential warm calls (>= 200)")
    parser.add_argument("--cold", type=int, default=15, help="cold starts per mode")
    parser.add_argument("--concurrency", type=int, default=50, help="client threads and reserved concurrency for throughput")
    parser.add_argument("--per-thread", type=int, default=40, help="timed calls per thread in the throughput run")
    parser.add_argument("--isolation", nargs="+", default=["namespace", "tmpdir"], help="modes to measure")
    parser.add_argument("--extra", default="", help="more arguments for the command (quoted)")
    args = parser.parse_args()
    os.environ.pop("AWS_ENDPOINT_URL_LAMBDA", None)

    print("command:", " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv]))
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rows: list[tuple[str, str, str, str]] = []
    for mode in args.isolation:
        extra = shlex.split(args.extra)
        print(f"\n== isolation {mode}")
        stand_in = StandIn(mode, max(args.concurrency, 1), extra)
        try:
            print("stand-in:", " ".join(shlex.quote(a) for a in stand_in.command[1:]))
            print("log:", stand_in.isolation_line())
            cold = measure_cold(stand_in, args.cold)
            warm = measure_warm(stand_in, args.calls)
            busy = measure_throughput(stand_in, args.concurrency, args.per_thread)
        finally:
            stand_in.close()
        for name, values in (*cold.items(), *warm.items()):
            print(f"{name:<22} {summary(values)}")
            rows.append((mode, name, f"{statistics.median(values):.2f} ms", f"{percentile(values, 0.95):.2f} ms"))
        print(f"throughput at {args.concurrency} concurrent callers: {busy['rate']:.0f} invocations/s "
              f"({busy['calls']} calls in {busy['wall_s']:.2f} s, {busy['throttles']} throttled, {busy['errors']} function errors); "
              f"latency {summary(busy['latency'])}")
        rows.append((mode, f"throughput, {args.concurrency} callers", f"{busy['rate']:.0f} invocations/s", ""))
        rows.append((mode, f"latency at {args.concurrency} callers", f"{statistics.median(busy['latency']):.1f} ms",
                     f"{percentile(busy['latency'], 0.95):.1f} ms"))
    print("\n| isolation | measure | median | p95 |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
