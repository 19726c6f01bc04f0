"""Measuring (and, with ``--enforce-memory``, limiting) each environment's memory.

One thread samples every active environment's whole process tree every 100 ms: the memory
the runtime and everything it started (Chrome included) hold, file pages counted once
(processes.memory_in_use). The peak is the REPORT line's Max Memory Used; over MemorySize,
the environment is killed as Lambda's out-of-memory kill does.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from lambda_ui.local_lambda.processes import Snapshot

if TYPE_CHECKING:
    from lambda_ui.local_lambda.environment import LocalEnvironment

log = logging.getLogger("lambda_ui.local_lambda")

SAMPLE_INTERVAL_S = 0.1


class MemoryMonitor:
    def __init__(self, interval_s: float = SAMPLE_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._envs: dict[str, LocalEnvironment] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def add(self, env: LocalEnvironment) -> None:
        with self._lock:
            self._envs[env.id] = env

    def remove(self, env: LocalEnvironment) -> None:
        with self._lock:
            self._envs.pop(env.id, None)

    def sample_once(self) -> None:
        with self._lock:
            active = [env for env in self._envs.values() if env.active and env.processes is not None]
        if not active:
            return  # idle environments run no code: nothing to measure
        snap = Snapshot.take()
        for env in active:
            assert env.processes is not None
            env.observe_memory(env.processes.memory_bytes(snap))

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample_once()
            except Exception:
                log.exception("memory sampling failed")
