"""What ``pytest --lambda`` spends outside the dispatch: start-up, start-up checks and exit.

    python bench/client_startup.py [--runs 8] [--tests 24]

Runs the client ``--runs`` times against the scripted Invoke API (stand_ins/, no
browser: each invocation sleeps 2 s) and prints, per run, the whole pytest process
minus its dispatch wall (first invoke to last answer, the JUnit's ``run_wall_s``):
Python and pytest start-up, collection, the function probe, the image check, the
bundle upload, and the exit. Run it on two commits, one after the other, to compare.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.stand_in import stand_ins, write_suite  # noqa: E402
from bench.suites import junit_suite_properties  # noqa: E402

BUCKET = "client-startup"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--tests", type=int, default=24)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="client-startup-"))
    write_suite(work / "test_startup.py", [f"sleepms2000_{i}" for i in range(args.tests)])
    outside: list[float] = []
    with stand_ins(BUCKET, timeout_s=30) as env:
        for _ in range(args.runs):
            started = time.monotonic()
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "cacheprovider", "--lambda", "--lambda-function=ui-tests",
                 f"--lambda-concurrency={args.tests}", f"--artifacts=s3://{BUCKET}/runs", f"--junitxml={work}/r.xml", "test_startup.py"],
                cwd=work, env=env, capture_output=True, text=True,
            )
            whole = time.monotonic() - started
            if proc.returncode != 0:
                print(proc.stdout[-3000:] + proc.stderr[-2000:])
                return 1
            outside.append(whole - float(junit_suite_properties(work / "r.xml")["run_wall_s"]))
    print(f"command: {' '.join([sys.executable, *sys.argv])}")
    print(f"client start-up + exit (whole process - dispatch wall), {args.tests} tests, {args.runs} runs:")
    print("   " + " ".join(f"{s:.2f}" for s in sorted(outside)) + f" s; median {statistics.median(outside):.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
