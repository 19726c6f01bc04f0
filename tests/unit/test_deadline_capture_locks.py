"""The deadline's capture runs in a signal handler on the main thread, so it may interrupt
that thread while it holds a lock the capture needs again. A plain Lock then deadlocks the
invocation until Lambda's own timeout, with no capture and no clear failure."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# Each script holds one lock on the main thread, as the code it stands for does for a few
# bytecodes, while the deadline fires; the capture saves through the same object.
HOLDS_ARTIFACTS_LOCK = """
    from lambda_ui.runner.artifacts.recorder import Artifacts
    from lambda_ui.runner.artifacts.sinks import LocalSink

    artifacts = Artifacts(LocalSink(FOLDER, FOLDER), "run", "test_a.py::test_a")
    held = artifacts._lock  # as inside save()'s choice of a unique name
    capture = lambda: bool(artifacts.save("deadline-console.log", "entries\\n"))
"""

HOLDS_S3_SINK_LOCK = """
    import os
    from lambda_ui.runner.artifacts.sinks import S3Sink
    from lambda_ui.runner.aws.s3 import S3Location

    os.environ["AWS_ENDPOINT_URL_S3"] = "not a url"  # no upload can start: only the locks matter
    sink = S3Sink(S3Location("artifacts", "runs"))
    held = sink._lock  # as inside flush(), in a test's teardown
    capture = lambda: bool(sink.put("run/t/deadline-page.html", b"<html>", "text/html", print))
"""

FIRE_WHILE_HELD = """
    import time
    from lambda_ui.function.deadline import Deadline, LambdaDeadlineExceeded

    deadline = Deadline(capture)
    deadline.arm(0.05)
    try:
        with held:
            time.sleep(5)
    except LambdaDeadlineExceeded as exc:
        print("stopped:", exc)
    finally:
        deadline.disarm()
"""


def _fire_while_holding(setup: str, folder: Path) -> subprocess.CompletedProcess[str]:
    script = f"FOLDER = {str(folder)!r}\n" + textwrap.dedent(setup) + textwrap.dedent(FIRE_WHILE_HELD)
    try:
        return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError("the deadline's capture deadlocked on a lock its own thread held") from None


def test_a_deadline_inside_the_artifacts_lock_still_captures(tmp_path: Path) -> None:
    done = _fire_while_holding(HOLDS_ARTIFACTS_LOCK, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "stopped: timed out in Lambda" in done.stdout
    assert [p.read_text() for p in tmp_path.rglob("deadline-console.log")] == ["entries\n"]


def test_a_deadline_inside_the_s3_sink_lock_still_captures(tmp_path: Path) -> None:
    done = _fire_while_holding(HOLDS_S3_SINK_LOCK, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "stopped: timed out in Lambda" in done.stdout
