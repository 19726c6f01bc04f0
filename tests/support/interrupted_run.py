"""A `pytest --lambda` subprocess stopped by a signal once it has replayed its quick test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

#: One quick test and five the scripted Invoke API holds for 30 s: a run a signal cuts short.
SUITE = "def test_quick(): pass\n" + "\n".join(f"def test_bigsleep30_{i}(): pass" for i in range(5))


#: For a conftest: SIGINT as a terminal's foreground job has it. A test runner started as a
#: background job of a non-interactive shell (`cmd &`) passes SIGINT on ignored, and Python
#: keeps an inherited SIG_IGN: Ctrl-C would never reach the client.
SIGINT_AS_IN_A_TERMINAL = "signal.signal(signal.SIGINT, signal.default_int_handler)"


def interrupt_after_quick_test(pytester: pytest.Pytester, bucket: str, signum: int) -> subprocess.CompletedProcess[str]:
    """Run SUITE with --lambda, send ``signum`` once test_quick was replayed; its output and exit code."""
    pytester.makepyfile(test_long=SUITE)
    replayed = pytester.path / "replayed-test_quick"
    pytester.makeconftest(  # tells the caller when the client has replayed test_quick, and how it takes signals then
        "import signal, threading\n"
        f"{SIGINT_AS_IN_A_TERMINAL}\n"
        "def pytest_runtest_logfinish(nodeid, location):\n"
        "    if nodeid.endswith('::test_quick'):\n"
        "        state = (f'thread {threading.current_thread().name}, SIGINT {signal.getsignal(signal.SIGINT)!r}, '\n"
        "                 f'SIGTERM {signal.getsignal(signal.SIGTERM)!r}, blocked {sorted(signal.pthread_sigmask(signal.SIG_BLOCK, []))}')\n"
        f"        open({str(replayed)!r}, 'w').write(state)\n"
    )
    argv = [sys.executable, "-m", "pytest", "--lambda", "--lambda-function=ui-tests", f"--artifacts=s3://{bucket}/runs", "--junitxml=r.xml", "--lambda-concurrency=3"]
    proc = subprocess.Popen(argv, cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not replayed.exists() and proc.poll() is None:
        time.sleep(0.05)
    assert replayed.exists(), "the client never replayed test_quick"
    os.kill(proc.pid, signum)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        # Still running: pytest's faulthandler prints every thread's stack on SIGABRT.
        os.kill(proc.pid, signal.SIGABRT)
        out, _ = proc.communicate(timeout=30)
        raise AssertionError(f"the client went on for 30 s after the signal; at test_quick: {replayed.read_text()}\n{out[-12000:]}") from None
    return subprocess.CompletedProcess(argv, proc.returncode, out, "")
