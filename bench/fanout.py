"""Fan-out at scale: pytest --lambda against a lightweight Invoke-API stand-in.

    python bench/fanout.py --tests 1000 --concurrency 100 [--min-s 2 --max-s 5]

The stand-in (tests/support/fake_invoke_api.py, in its own process) runs no
code: each invocation sleeps 2-5 s and answers with pytest reports. Measures
the client: wall time against the ideal (the longest test when tests <=
concurrency, the LPT bound otherwise), client CPU per test, peak RSS, and
invocations per second. Goals: wall <= ideal + 2 s, <= 2 ms client CPU per
test, >= 500 invocations/s, memory flat in tests in flight.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from runner.scheduler import lpt_makespan  # noqa: E402
from tests.support.services import AWS_TEST_ENV, LoopbackS3, free_port, wait_http  # noqa: E402

SERVER = """
import sys, time
sys.path.insert(0, {repo!r})
from tests.support.fake_invoke_api import FakeInvokeApi, FakeState
api = FakeInvokeApi(FakeState(function="ui-tests", reserved=None, timeout_s=60), port={port}).start()
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def durations_for(n: int, lo: float, hi: float) -> list[int]:
    """Deterministic tenths of a second spread over [lo, hi]."""
    span = int((hi - lo) * 10)
    return [int(lo * 10) + (i * 7919) % (span + 1) for i in range(n)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--min-s", type=float, default=2.0)
    parser.add_argument("--max-s", type=float, default=5.0)
    args = parser.parse_args()

    tenths = durations_for(args.tests, args.min_s, args.max_s)
    seconds = [t / 10 for t in tenths]
    ideal = max(seconds) if args.tests <= args.concurrency else lpt_makespan(seconds, args.concurrency)
    work = Path(tempfile.mkdtemp(prefix="fanout-"))
    ids = ", ".join(f'"slow{t}_{i}"' for i, t in enumerate(tenths))
    (work / "test_fanout.py").write_text(textwrap.dedent(f"""
        import pytest
        IDS = [{ids}]
        @pytest.mark.parametrize("case", IDS, ids=IDS)
        def test_ui(case):
            pass
    """))
    s3 = LoopbackS3.start()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", SERVER.format(repo=str(REPO), port=port)], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None and server.stdout.readline().strip() == "ready"
    env = dict(os.environ, **AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=s3.endpoint, AWS_ENDPOINT_URL_LAMBDA=f"http://127.0.0.1:{port}")
    boto3.client("s3", endpoint_url=s3.endpoint, **{k.lower(): v for k, v in AWS_TEST_ENV.items() if k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}).create_bucket(Bucket="fanout")
    try:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--lambda", "--lambda-function=ui-tests",
             f"--lambda-concurrency={args.concurrency}", "--artifacts=s3://fanout/runs", f"--junitxml={work}/r.xml", "test_fanout.py"],
            cwd=work, env=env, capture_output=True, text=True,
        )
        total = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        server.kill()
        s3.stop()
    tail = proc.stdout.strip().splitlines()[-4:]
    if proc.returncode != 0:
        print("\n".join(proc.stdout.splitlines()[-30:]))
        return 1
    dispatch_line = next((line for line in proc.stdout.splitlines() if "invocation(s) of" in line), "")
    dispatch_wall = float(dispatch_line.split(" in ")[1].split(" s,")[0]) if dispatch_line else total
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"tests {args.tests}, concurrency {args.concurrency}, invocations {args.min_s:g}-{args.max_s:g} s")
    print(f"ideal (LPT bound or longest test): {ideal:7.2f} s")
    print(f"dispatch wall (first invoke to last answer): {dispatch_wall:7.2f} s   -> {dispatch_wall - ideal:+.2f} s over ideal (goal <= +2 s)")
    print(f"whole pytest process wall (incl. start-up, collection, bundle, report): {total:7.2f} s")
    print(f"client CPU: {cpu:.2f} s total, {cpu / args.tests * 1000:.2f} ms per test (goal <= 2 ms)")
    print(f"client peak RSS: {after.ru_maxrss / 1024:.0f} MB")
    print(f"throughput: {args.tests / dispatch_wall:.0f} invocations/s over the dispatch (capacity {args.concurrency / (sum(seconds) / len(seconds)):.0f}/s at this concurrency)")
    print("pytest:", tail[-1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
