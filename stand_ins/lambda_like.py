"""Run the real handler in a Lambda-like process and talk to it over pipes.

The process has HOME unset, its own TMPDIR, cwd ``/``, and optionally the
project's code mounted read-only (a private mount namespace, as root), like
``/var/task`` in Lambda. It stays alive between events, so warm reuse is real.
Used by the handler tests until the local Lambda stand-in serves them.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

#: The harness asks a handler that does not answer in time for every thread's stack with it
#: (CHILD registers faulthandler for this signal).
DUMP_STACKS = signal.SIGUSR2

CHILD = r"""
import faulthandler, json, os, signal, sys, time, uuid
out = os.fdopen(int(os.environ.pop("HARNESS_RESPONSE_FD")), "w")
# A copy of stderr: pytest's capture points fd 2 elsewhere while a test runs.
stacks_to = os.fdopen(os.dup(2), "w")
faulthandler.register(signal.SIGUSR2, file=stacks_to, all_threads=True)

class Context:
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "ui-tests")
    memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")
    def __init__(self, timeout_s):
        self.aws_request_id = str(uuid.uuid4())
        self._deadline = time.time() + timeout_s
    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))

t0 = time.perf_counter()
from lambda_ui.function.handler import handler
out.write(json.dumps({"ready": True, "import_ms": (time.perf_counter() - t0) * 1000}) + "\n"); out.flush()
for line in sys.stdin:
    request = json.loads(line)
    started = time.perf_counter()
    result = handler(request["event"], Context(request["timeout_s"]))
    out.write(json.dumps({"response": result, "wall_ms": (time.perf_counter() - started) * 1000}) + "\n"); out.flush()
"""


class LambdaLikeProcess:
    def __init__(self, tmpdir: Path, env: dict[str, str] | None = None, read_only_code: list[str] | None = None) -> None:
        tmpdir.mkdir(parents=True, exist_ok=True)
        self.tmpdir = tmpdir
        read_fd, write_fd = os.pipe()
        child_env = {k: v for k, v in os.environ.items() if k not in ("HOME", "PYTEST_ADDOPTS", "PYTEST_CURRENT_TEST")}
        child_env.update(env or {})
        child_env.update(
            TMPDIR=str(tmpdir),
            HARNESS_RESPONSE_FD=str(write_fd),
            AWS_LAMBDA_FUNCTION_NAME="ui-tests",
            LAMBDA_TASK_ROOT="/var/task",  # with the name, what marks a Lambda environment (runner/chrome.py in_lambda)
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE="2048",
            PYTHONDONTWRITEBYTECODE="1",
        )
        command = [sys.executable, "-c", CHILD]
        if read_only_code:
            mounts = " && ".join(f"mount --bind -o ro {p} {p}" for p in read_only_code)
            command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", f'{mounts} && exec "$0" "$@"', *command]
        self.proc = subprocess.Popen(
            command, cwd="/", env=child_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            pass_fds=(write_fd,), text=True,
        )
        os.close(write_fd)
        self._responses = os.fdopen(read_fd)
        self._log: list[str] = []
        import threading

        threading.Thread(target=self._drain_log, daemon=True).start()
        ready = self._read(timeout=60)
        self.import_ms = ready["import_ms"]

    def _drain_log(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._log.append(line)

    @property
    def log(self) -> str:
        return "".join(self._log)

    def _read(self, timeout: float) -> dict[str, Any]:
        # One line per answer, so nothing waits in the file's buffer while select() looks at the pipe.
        if not select.select([self._responses], [], [], timeout)[0]:
            if self.proc.poll() is None:
                self.proc.send_signal(DUMP_STACKS)
                time.sleep(1)  # the log thread reads the dump
            raise TimeoutError(f"the handler did not answer within {timeout:.0f} s (its threads' stacks last):\n{self.log[-12000:]}")
        line = self._responses.readline()
        if not line:
            raise RuntimeError(f"handler process ended (code {self.proc.poll()}):\n{self.log[-4000:]}")
        return json.loads(line)

    def invoke(self, event: Any, timeout_s: float = 120.0) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"event": event, "timeout_s": timeout_s}) + "\n")
        self.proc.stdin.flush()
        reply = self._read(timeout=timeout_s + 30)
        self.last_wall_ms = reply["wall_ms"]
        return reply["response"]

    def alive(self, wait: float = 0.0) -> bool:
        deadline = time.monotonic() + wait
        while True:
            if self.proc.poll() is not None:
                return False
            if time.monotonic() >= deadline:
                return True
            time.sleep(0.1)

    def close(self) -> None:
        if self.proc.stdin:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._responses.close()


def new_request_id() -> str:
    return str(uuid.uuid4())
