"""Cold and warm invocation times of the handler, and its warm overhead.

Runs the real handler in a Lambda-like process (stand_ins/lambda_like.py)
against a loopback S3 and real Chromium, with a trivial browser test:

    python bench/handler_warm.py [--warm N]

Prints: cold invocation time, warm invocation times, and warm overhead =
handler time minus the test's call phase. Goal: warm overhead <= 150 ms median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from lambda_ui.runner.bundle import build_bundle  # noqa: E402
from stand_ins.lambda_like import LambdaLikeProcess  # noqa: E402
from stand_ins.services import AWS_TEST_ENV, LoopbackS3  # noqa: E402

TEST = """
def test_trivial(browser):
    browser.get("data:text/html,<h1>hello</h1>")
    assert browser.find_element("tag name", "h1").text == "hello"
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", type=int, default=30, help="warm invocations to time")
    args = parser.parse_args()

    s3 = LoopbackS3.start()
    os.environ.update(AWS_TEST_ENV)
    client = boto3.client("s3", endpoint_url=s3.endpoint)
    client.create_bucket(Bucket="bench-artifacts")
    work = Path(tempfile.mkdtemp(prefix="bw-"))
    (work / "suite").mkdir()
    (work / "suite" / "test_trivial.py").write_text(TEST)
    built = build_bundle(work / "suite", ["test_trivial.py"])
    client.put_object(Bucket="bench-artifacts", Key=built.key, Body=built.data)
    event = {
        "version": 1, "kind": "run", "run_id": "bench", "nodeids": ["test_trivial.py::test_trivial"],
        "bundle": {"bucket": "bench-artifacts", "key": built.key, "sha256": built.sha256},
        "pytest_args": [], "artifacts": {"bucket": "bench-artifacts", "prefix": "runs"}, "attempt": 1,
    }
    env = dict(AWS_TEST_ENV, AWS_ENDPOINT_URL_S3=s3.endpoint)
    process = LambdaLikeProcess(work / "tmp", env=env)
    try:
        cold = process.invoke(event)
        cold_wall = process.last_wall_ms
        assert cold["reports"][1]["outcome"] == "passed", cold
        walls, overheads, calls = [], [], []
        for _ in range(args.warm):
            warm = process.invoke(event)
            assert warm["reports"][1]["outcome"] == "passed", warm
            facts = warm["facts"]
            walls.append(process.last_wall_ms)
            calls.append(facts["call_ms"])
            overheads.append(facts["handler_ms"] - facts["call_ms"])
    finally:
        process.close()
        s3.stop()
        shutil.rmtree(work, ignore_errors=True)

    def row(name: str, values: list[float]) -> str:
        values = sorted(values)
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        return f"{name:<34} median {statistics.median(values):7.1f} ms   p95 {p95:7.1f} ms   max {values[-1]:7.1f} ms"

    f = cold["facts"]
    print(f"handler module import (init):        {process.import_ms:7.1f} ms")
    print(f"cold invocation (wall):              {cold_wall:7.1f} ms   (browser start {f.get('browser_start_ms', 0):.0f} ms, bundle fetch {f['bundle_ms']:.0f} ms)")
    print(row(f"warm invocation (wall, n={args.warm})", walls))
    print(row("warm test call phase", calls))
    print(row("warm overhead (handler - call)", overheads))
    print(f"goal: warm overhead <= 150 ms median -> {'met' if statistics.median(overheads) <= 150 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
