"""The function's execution environments: idle ones to reuse, busy ones, and the
concurrency limit that decides when an invocation is throttled.

A busy environment is never given a second event; an idle one is reused before a new one
is started (most recently used first, so a burst leaves the fewest warm environments).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from lambda_ui.local_lambda.environment import EnvSettings, LocalEnvironment
from lambda_ui.local_lambda.memory import MemoryMonitor
from lambda_ui.local_lambda.template import FunctionConfig

log = logging.getLogger("lambda_ui.local_lambda")

ACCOUNT_CONCURRENCY = 1000
RESERVED_REASON = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_REASON = "ConcurrentInvocationLimitExceeded"
#: Kill reason of a prestarted environment whose init failed.
INIT_FAILED = "init failed"


class Throttled(Exception):
    """No concurrency left; ``reason`` is the service's ThrottleReason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PoolClosed(Exception):
    """The stand-in is shutting down."""


class EnvironmentPool:
    def __init__(
        self,
        config: FunctionConfig,
        settings: EnvSettings,
        monitor: MemoryMonitor | None = None,
        idle_timeout_s: float | None = None,
        account_concurrency: int = ACCOUNT_CONCURRENCY,
    ) -> None:
        self.config = config
        self.settings = settings
        self.monitor = monitor
        self.idle_timeout_s = idle_timeout_s
        if config.reserved_concurrency is not None:
            self.limit, self.reason = config.reserved_concurrency, RESERVED_REASON
        else:
            self.limit, self.reason = account_concurrency, ACCOUNT_REASON
        self._cond = threading.Condition()
        self._busy = 0
        self.peak_busy = 0
        self._idle: list[LocalEnvironment] = []
        self._all: dict[str, LocalEnvironment] = {}
        self._prestarted: set[str] = set()
        self._closed = False
        self.started_count = 0

    def start(self) -> None:
        if self.idle_timeout_s:
            threading.Thread(target=self._reap_idle, name="pool-reaper", daemon=True).start()

    # -- concurrency --------------------------------------------------------------------
    def acquire(self, block: bool = False) -> None:
        """Take one unit of concurrency; without ``block``, raise Throttled when none is left."""
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosed()
                if self._busy < self.limit:
                    self._busy += 1
                    self.peak_busy = max(self.peak_busy, self._busy)
                    return
                if not block:
                    raise Throttled(self.reason)
                self._cond.wait()

    def release(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()

    @property
    def busy(self) -> int:
        return self._busy

    # -- environments -------------------------------------------------------------------
    def checkout(self) -> tuple[LocalEnvironment, bool]:
        """An environment for one invocation, and whether this is its cold start."""
        with self._cond:
            if self._closed:
                raise PoolClosed()
            while self._idle:
                env = self._idle.pop()
                if env.reusable:
                    return env, False
        env = self._spawn()
        return env, True

    def checkin(self, env: LocalEnvironment) -> None:
        with self._cond:
            if env.reusable and not self._closed:
                self._idle.append(env)
                return
        self.discard(env)

    def discard(self, env: LocalEnvironment) -> None:
        with self._cond:
            if env in self._idle:
                self._idle.remove(env)
        if not env.ended:  # a reset in progress is ended too: no new runtime starts
            env.kill("discarded")

    def is_prestarted(self, env: LocalEnvironment) -> bool:
        return env.id in self._prestarted

    def _spawn(self) -> LocalEnvironment:
        env = LocalEnvironment(self.config, self.settings, self._gone)
        with self._cond:
            if self._closed:
                raise PoolClosed()
            self._all[env.id] = env
            self.started_count += 1
        env.start()
        if self.monitor is not None:
            self.monitor.add(env)
        log.debug("environment %s started: pid %s", env.id, env.pid)
        return env

    def _gone(self, env: LocalEnvironment) -> None:
        with self._cond:
            self._all.pop(env.id, None)
            if env in self._idle:
                self._idle.remove(env)
        if self.monitor is not None:
            self.monitor.remove(env)
        if env.killed_for not in (None, "shutdown", INIT_FAILED):  # those are reported by the caller
            log.info("environment %s (pid %s) ended: %s", env.id, env.pid, env.killed_for)

    def prestart(self, count: int) -> tuple[list[LocalEnvironment], list[LocalEnvironment]]:
        """Start ``count`` environments and wait for their init, so first calls are warm.

        Returns those ready and those that failed (init error, exit, init too slow); the
        failed ones are killed, and their ``init_error``/``exit_code`` tell why.
        """
        envs = [self._spawn() for _ in range(count)]
        ready, failed = [], []
        for env in envs:
            env.wait_ready(self.settings.init_timeout_s + self.config.timeout)
            if env.reusable and env.is_ready:
                self._prestarted.add(env.id)
                ready.append(env)
                self.checkin(env)
            else:
                failed.append(env)
                env.kill(INIT_FAILED)
        for env in failed:
            env.wait_dead(5.0)
        return ready, failed

    def environments(self) -> list[LocalEnvironment]:
        with self._cond:
            return list(self._all.values())

    @property
    def idle_count(self) -> int:
        with self._cond:
            return len(self._idle)

    def _reap_idle(self) -> None:
        assert self.idle_timeout_s
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed, timeout=min(5.0, self.idle_timeout_s / 2))
                if self._closed:
                    return
            now = time.monotonic()
            with self._cond:
                stale = [e for e in self._idle if now - e.last_used > self.idle_timeout_s]
                for env in stale:
                    self._idle.remove(env)
            # As Lambda reclaims an idle environment: SIGTERM first when it has an extension.
            for env in stale:
                threading.Thread(target=env.shut_down, args=("idle",), name=f"env-{env.id}-idle", daemon=True).start()

    def stop(self, timeout: float = 10.0) -> None:
        """Kill every environment (and its children) and wait for them to be gone."""
        with self._cond:
            self._closed = True
            envs = list(self._all.values())
            self._idle.clear()
            self._cond.notify_all()
        if not envs:
            return
        with ThreadPoolExecutor(max_workers=min(16, len(envs))) as executor:
            list(executor.map(lambda e: e.shut_down("shutdown"), envs))
        deadline = time.monotonic() + timeout
        for env in envs:
            env.wait_dead(max(0.1, deadline - time.monotonic()))
            env.watcher_done.wait(max(0.1, deadline - time.monotonic()))
