"""One execution environment: an awslambdaric process, its Runtime API, its log and its fate.

An environment runs one invocation at a time. After a timeout, a memory kill or a runtime
that exits during an invocation it is reset as Lambda resets its sandbox: every process is
killed and a new runtime starts in the same sandbox (its ``/tmp``, network and Runtime API
kept), a suppressed init that the next REPORT line does not show as Init Duration. After an
init failure it is discarded. An event it was given but never took (its runtime died while
waiting) comes back as ``undelivered`` so the caller can run it elsewhere.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from lambda_ui.local_lambda import extensions, netns, sandbox, wire
from lambda_ui.local_lambda.logs import FUNCTION_LOGGER, LogCapture, init_start_line, start_line
from lambda_ui.local_lambda.processes import ProcessSet, peak_rss_bytes
from lambda_ui.local_lambda.relay import Relay
from lambda_ui.local_lambda.runtime_api import Delivery, RuntimeApiServer
from lambda_ui.local_lambda.template import FunctionConfig
from lambda_ui.local_lambda.variables import loopback_endpoints, runtime_environ

log = logging.getLogger("lambda_ui.local_lambda")

#: Lambda's limit on the init phase of an on-demand environment.
INIT_TIMEOUT_S = 10.0
#: How long a dead runtime's connection may take to show whether it read its event.
_SETTLE_WAIT_S = 0.5
#: Where the Runtime API listens inside an environment's own network namespace.
RUNTIME_API_ADDRESS = ("127.0.0.1", 0)
#: Kill reasons after which Lambda resets the sandbox rather than discarding it.
RESET_REASONS = ("timeout", "memory")


@dataclass(frozen=True)
class EnvSettings:
    """How environments are started (not part of the function's configuration)."""

    python: str
    isolation: sandbox.Isolation
    pass_env: tuple[str, ...] = ()
    enforce_memory: bool = False
    init_timeout_s: float = INIT_TIMEOUT_S
    #: Serves the relayed host ports of environments with their own network namespace.
    relay: Relay | None = None
    #: Host loopback ports relayed besides those of the AWS_ENDPOINT_URL* variables.
    forward_ports: tuple[int, ...] = ()
    #: The interpreter's (major, minor), for AWS_EXECUTION_ENV when the runtime is unknown.
    python_version: tuple[int, int] = sys.version_info[:2]

    def forwarded(self, env: dict[str, str]) -> list[tuple[str, int]]:
        """The host addresses an environment with this ``env`` reaches by the relay."""
        addresses = list(loopback_endpoints(env))
        addresses += [("127.0.0.1", port) for port in self.forward_ports if ("127.0.0.1", port) not in addresses]
        return addresses


@dataclass
class Outcome:
    """How an invocation ended. ``kind``: response, error, init_error, exited, timeout, undelivered."""

    kind: str
    body: bytes = b""
    error_type: str = ""
    platform_lines: list[str] = field(default_factory=list)

    @property
    def function_error(self) -> bool:
        return self.kind not in ("response", "undelivered")


class Invocation:
    """One event on its way through an environment."""

    def __init__(
        self, payload: bytes, timeout_s: int, function_arn: str, client_context: str | None = None, request_id: str | None = None
    ) -> None:
        self.request_id = request_id or str(uuid.uuid4())
        self.payload = payload
        self.timeout_s = timeout_s
        self.function_arn = function_arn
        self.client_context = client_context
        self.trace_id = f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Parent={uuid.uuid4().hex[:16]};Sampled=0"
        self.started: float | None = None  # monotonic, when handed to the runtime
        self.init_output = b""  # printed during init, for a cold start's log
        #: Max Memory Used, fixed when the runtime died under it (a reset starts anew).
        self.max_memory_mb: int | None = None
        self.ended: float | None = None
        self.outcome: Outcome | None = None
        self.taken = threading.Event()  # handed over, or finished without being handed over
        self.settled = threading.Event()  # the connection showed whether the runtime read it
        self.unread = False
        self.done = threading.Event()
        self._lock = threading.Lock()

    def runtime_headers(self) -> dict[str, str]:
        self.started = time.monotonic()
        deadline_ms = int(time.time() * 1000) + self.timeout_s * 1000
        headers = {
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": self.trace_id,
        }
        if self.client_context is not None:
            headers["Lambda-Runtime-Client-Context"] = self.client_context
        return headers

    @property
    def duration_ms(self) -> float:
        if self.started is None:
            return 0.0
        return ((self.ended or time.monotonic()) - self.started) * 1000

    def finish(self, outcome: Outcome) -> bool:
        """Record the outcome; only the first one counts (a late response loses to a timeout)."""
        with self._lock:
            if self.outcome is not None:
                return False
            self.outcome = outcome
            self.ended = time.monotonic()
        self.taken.set()
        self.done.set()
        return True


class LocalEnvironment:
    """An awslambdaric process for one function, with its own Runtime API server.

    The local stand-in's execution environment; the one inside the function is
    :class:`lambda_ui.function.environment.ExecutionEnvironment`.
    """

    def __init__(self, config: FunctionConfig, settings: EnvSettings, on_exit: Callable[[LocalEnvironment], None]) -> None:
        self.config = config
        self.settings = settings
        self.id = uuid.uuid4().hex[:8]
        self._on_exit = on_exit
        self._cond = threading.Condition()
        self._slot: Invocation | None = None
        self._current: Invocation | None = None
        self.ready = threading.Event()  # first /next, init error or exit
        self.watcher_done = threading.Event()  # exited and cleaned up
        self.is_ready = False
        self.parked = False  # the runtime waits in /next
        self.dead = False
        self.init_error: Outcome | None = None
        self.init_duration_ms: float | None = None
        self.killed_for: str | None = None
        self.exit_code: int | None = None
        self.peak_bytes = 0
        self.invocations = 0
        self.last_used = time.monotonic()
        self.private_tmp: str | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.status: sandbox.RuntimeStatus | None = None
        self._runtime_pid = 0
        self.processes: ProcessSet | None = None
        self.netns: netns.NetworkNamespace | None = None
        self.server: RuntimeApiServer | None = None
        self.logs: LogCapture | None = None
        self._env: dict[str, str] = {}
        #: Counts runtimes: a /next poll of an earlier runtime never gets a later one's event.
        self._generation = 0
        #: Between the death of a runtime and the start of the next (a reset).
        self._resetting = False
        #: Killed for good (shutdown, idle, discarded): no reset may start a runtime again.
        self._ending = False
        #: The next event is the first of this runtime: its log starts with the init.
        self._fresh = True
        self.resets = 0
        #: The current runtime's internal extensions: with one, shutdown starts with SIGTERM.
        self.extensions = extensions.Extensions(config.name, config.handler)
        #: How the environment ended: "sigterm" (the runtime exited within the grace),
        #: "sigterm+kill" (it did not), "kill" (no extension: killed outright), or None.
        self.shutdown_via: str | None = None

    # -- life cycle ---------------------------------------------------------------------
    def start(self) -> None:
        settings, config = self.settings, self.config
        if not settings.isolation.private_mounts:
            self.private_tmp = sandbox.make_private_tmp()
        env = runtime_environ(config, "", self.private_tmp, pass_env=settings.pass_env, python_version=settings.python_version)
        try:
            self.server = RuntimeApiServer(self, listener=self._open_network(env))
            env["AWS_LAMBDA_RUNTIME_API"] = self.server.address
            self.server.start()
            self._env = env
            self._spawn_runtime()
        except BaseException:
            self._close_network()
            if self.private_tmp:
                shutil.rmtree(self.private_tmp, ignore_errors=True)
            raise
        threading.Thread(target=self._watch, name=f"env-{self.id}-watch", daemon=True).start()

    def _spawn_runtime(self, mntns_fd: int | None = None) -> None:
        """Start a runtime: in a new sandbox, or (``mntns_fd``, a reset) in the mount
        namespace of the previous one, whose /tmp it keeps."""
        settings, config = self.settings, self.config
        sandboxed = settings.isolation.user is not None
        self.status = sandbox.RuntimeStatus() if sandboxed else None
        netns_fd = self.netns.fd if self.netns is not None else None
        status_fd = self.status.write_fd if self.status is not None else None
        argv = sandbox.command(settings.isolation, settings.python, config.handler, config.ephemeral_mb, netns_fd, status_fd, mntns_fd)
        read_fd, write_fd = os.pipe()
        self._spawned = time.monotonic()
        FUNCTION_LOGGER.info(init_start_line(config.effective_runtime, config.region), extra={"environment": self.id})
        # The launcher starts a sandbox's runtime as init of a new PID namespace.
        popen = sandbox.spawn if sandboxed else subprocess.Popen
        try:
            self.proc = popen(
                argv, env=self._env, cwd=config.code_dir, stdin=subprocess.DEVNULL, stdout=write_fd, stderr=write_fd,
                start_new_session=True, close_fds=True,
                pass_fds=tuple(fd for fd in (netns_fd, status_fd, mntns_fd) if fd is not None),
            )
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            if self.status is not None:
                self.status.close()
            raise
        finally:
            if self.status is not None:
                self.status.sent()
        os.close(write_fd)
        if self.processes is None:
            self.processes = ProcessSet(self.proc.pid, self.private_tmp, count_root=not sandboxed)
        else:
            self.processes.root_pid = self.proc.pid
        self.logs = LogCapture(read_fd, self._log_line)

    def _open_network(self, env: dict[str, str]) -> socket.socket | None:
        """With a private network: the namespace, its Runtime API listener (returned), and
        a relayed listener per host port the function may need."""
        settings = self.settings
        if not settings.isolation.private_network:
            return None
        forwarded = settings.forwarded(env)
        self.netns = netns.create([RUNTIME_API_ADDRESS, *forwarded])
        if settings.relay is not None:
            for address, listener in zip(forwarded, self.netns.listeners[1:]):
                settings.relay.add(self.id, listener, address)
        return self.netns.listeners[0]

    def _close_network(self) -> None:
        if self.settings.relay is not None:
            self.settings.relay.remove(self.id)
        if self.server is not None:
            self.server.stop()
        if self.netns is not None:
            self.netns.close()

    @property
    def pid(self) -> int:
        """The host pid of the environment's first process (in a sandbox, its launcher)."""
        return self.proc.pid if self.proc else 0

    @property
    def runtime_pid(self) -> int:
        """The host pid of the runtime itself (in a sandbox, the launcher's child)."""
        if self.status is None or not self.pid:
            return self.pid
        if not self._runtime_pid:
            try:
                with open(f"/proc/{self.pid}/task/{self.pid}/children") as children:
                    found = children.read().split()
                self._runtime_pid = int(found[0]) if found else 0
            except (OSError, ValueError):
                pass
        return self._runtime_pid

    def _log_line(self, line: str) -> None:
        # awslambdaric writes a multi-line message (a traceback) as one line with "\r"
        # between its lines, which CloudWatch shows as lines; a terminal would overprint.
        for part in line.rstrip("\r").split("\r"):
            FUNCTION_LOGGER.info(part, extra={"environment": self.id})

    def wait_ready(self, timeout: float) -> bool:
        return self.ready.wait(timeout)

    def _watch(self) -> None:
        while self._watch_runtime() and self._reset():
            pass
        try:
            self._cleanup()
            self._on_exit(self)
        finally:
            self.watcher_done.set()

    def _watch_runtime(self) -> bool:
        """Wait for the runtime's end and settle its invocation; True when a reset follows."""
        assert self.proc is not None
        code: int | None = self.proc.wait()
        if self.status is not None:  # the runtime's own code, not its launcher's
            code = self.status.returncode(code)
        self.exit_code = code
        with self._cond:
            self.dead = True
            current = self._current
            # It exited by itself during an invocation: Lambda resets the sandbox (decided
            # before the invocation is answered, so the caller finds the environment reusable).
            crashed = self.killed_for is None and current is not None and current.started is not None and not current.done.is_set()
            if crashed and self._can_reset():
                self._resetting = True
            self._cond.notify_all()
        self.ready.set()
        if current is not None and current.started is not None and not current.done.is_set():
            # Killed just as the event was written? The connection tells (runtime_api).
            current.settled.wait(_SETTLE_WAIT_S)
            if current.unread and self.killed_for is None:
                with self._cond:
                    self._resetting = False  # never ran it: as before, the event goes elsewhere
                current.finish(Outcome("undelivered"))
        if current is not None:
            if current.started is not None:
                current.max_memory_mb = self.max_memory_used_mb()
                current.finish(self._exit_outcome(current, code))
            elif self.init_error is not None:
                current.finish(self.init_error)
            elif self.is_ready:
                current.finish(Outcome("undelivered"))  # it died while parked: run the event elsewhere
            else:
                current.finish(self._exit_outcome(current, code))
        if self.killed_for is None and self.init_error is None:  # an init error is reported as such
            log.info("environment %s: runtime pid %s exited (%s)", self.id, self.runtime_pid, wire.exit_reason(code))
        with self._cond:
            return self._resetting and not self._ending

    def _can_reset(self) -> bool:
        """A reset keeps /tmp: in a sandbox that needs the mount namespace's handle,
        taken once the runtime first ran. Caller holds the lock."""
        if self._ending or not self.is_ready or self.init_error is not None:
            return False
        return self.settings.isolation.user is None or (self.processes is not None and self.processes.ns_fd is not None)

    def _reset(self) -> bool:
        """Kill what is left of the old runtime and start a new one in the same sandbox;
        False when that is not possible (the environment then ends)."""
        assert self.processes is not None
        reason = self.killed_for or wire.exit_reason(self.exit_code)
        try:
            with self.processes.replacing_root():
                self.processes.kill()
                if self.logs is not None:
                    self.logs.wait_closed(2.0)
                if self.status is not None:
                    self.status.close()
                with self._cond:
                    if self._ending:
                        return False
                    self._generation += 1
                    self.dead = self.is_ready = self.parked = False
                    self.killed_for = None
                    self.exit_code = None
                    self._runtime_pid = 0
                    self._fresh = True
                    self.extensions = extensions.Extensions(self.config.name, self.config.handler)
                    self.ready.clear()
                self._spawn_runtime(self.processes.ns_fd if self.settings.isolation.user is not None else None)
        except Exception as exc:  # the environment ends instead, as before resets existed
            log.warning("environment %s: reset failed (%s: %s); discarding it", self.id, type(exc).__name__, exc)
            with self._cond:
                self._ending, self.dead = True, True
            return False
        finally:
            with self._cond:
                self._resetting = False
                self._cond.notify_all()
        self.resets += 1
        log.info("environment %s reset after %s: a new runtime in the same sandbox, /tmp kept", self.id, reason)
        if self._ending:  # shut down while the new runtime started
            self.processes.kill()
        return True

    def _cleanup(self) -> None:
        if self.processes is not None:
            self.processes.kill()
            self.processes.release()
        self._close_network()
        if self.logs is not None:
            self.logs.wait_closed(2.0)
        if self.private_tmp:
            shutil.rmtree(self.private_tmp, ignore_errors=True)
        if self.status is not None:
            self.status.close()

    def kill(self, reason: str, generation: int | None = None) -> None:
        """Kill the runtime and every process it started; the watcher does the rest: a
        reset after a timeout or a memory kill (RESET_REASONS), else the end.
        ``generation``: kill only that runtime (a deadline's kill must not reach the next
        runtime when the old one crashed and was reset meanwhile)."""
        if self.processes is None:
            self._mark_killed(reason, generation)
            return
        with self.processes.replacing_root():
            if self._mark_killed(reason, generation):
                self.processes.kill()

    def _mark_killed(self, reason: str, generation: int | None) -> bool:
        with self._cond:
            if generation is not None and generation != self._generation:
                return False
            if self.killed_for is None:
                self.killed_for = reason
            if reason in RESET_REASONS and self._can_reset():
                self._resetting = True
            elif reason not in RESET_REASONS:
                self._ending, self._resetting = True, False
            self.dead = True
            self._cond.notify_all()
            return True

    def shut_down(self, reason: str, grace_s: float = extensions.GRACE_S) -> None:
        """End the environment as Lambda does: with an extension registered and the runtime
        idle, SIGTERM first and SIGKILL after ``grace_s``; otherwise SIGKILL at once."""
        with self._cond:
            # Idle: initialized, and no invocation running (the runtime may not be back in /next yet).
            idle = self.is_ready and (self._current is None or self._current.done.is_set())
            polite = self.extensions.any and idle and not self.dead
            if polite:
                if self.killed_for is None:
                    self.killed_for = reason
                self._ending, self._resetting = True, False
        if not polite:
            self.shutdown_via = self.shutdown_via or "kill"
            self.kill(reason)
            return
        pid = self.runtime_pid
        started = time.monotonic()
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
        exited = self.wait_dead(grace_s)
        self.shutdown_via = "sigterm" if exited else "sigterm+kill"
        log.info(
            "environment %s: SIGTERM to runtime pid %s (%s); %s", self.id, pid, reason,
            f"exited after {(time.monotonic() - started) * 1000:.0f} ms" if exited else f"still running after {grace_s * 1000:.0f} ms: SIGKILL",
        )
        self.kill(reason)  # what the runtime left (Chrome), or the runtime itself

    def wait_dead(self, timeout: float) -> bool:
        if self.proc is None:
            return True
        try:
            self.proc.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False

    # -- memory (called by the monitor) -------------------------------------------------
    def observe_memory(self, used_bytes: int) -> None:
        self.peak_bytes = max(self.peak_bytes, used_bytes)
        limit = self.config.memory_mb * 1024 * 1024
        if self.settings.enforce_memory and used_bytes > limit and not self.dead:
            log.warning("environment %s: %d MB used, over its %d MB; killing it", self.id, used_bytes >> 20, self.config.memory_mb)
            self.kill("memory")

    def _note_peak(self) -> None:
        # The runtime's own high-water mark, read while it is alive: a process that is
        # killed right after this still gets a real Max Memory Used.
        self.peak_bytes = max(self.peak_bytes, peak_rss_bytes(self.runtime_pid))

    def max_memory_used_mb(self) -> int:
        if self.killed_for == "memory":
            return self.config.memory_mb
        peak = max(self.peak_bytes, peak_rss_bytes(self.runtime_pid))
        self.peak_bytes = peak
        return max(1, -(-peak // (1024 * 1024)))

    # -- invoking (called by the invoker thread) ----------------------------------------
    def run(self, invocation: Invocation) -> Outcome:
        """Hand the event to the runtime and wait for the answer, the deadline or the end."""
        self.invocations += 1
        with self._cond:
            while self._resetting:  # the next runtime starts; it takes the event once initialized
                self._cond.wait()
            if self.dead or self._ending:  # _ending alone: SIGTERM sent, the runtime winds down
                # It ended before this call reached it (a slow caller thread, a fast crash).
                if self.init_error is not None:
                    invocation.finish(self.init_error)
                elif not self.is_ready:
                    invocation.finish(self._exit_outcome(invocation, self.exit_code))
                else:
                    invocation.finish(Outcome("undelivered"))
                assert invocation.outcome is not None
                return invocation.outcome
            self._current = invocation
            self._slot = invocation
            generation = self._generation
            self._cond.notify_all()
        pickup_limit = self.settings.init_timeout_s + invocation.timeout_s
        if not invocation.taken.wait(pickup_limit) and invocation.finish(self._timeout_outcome(invocation, pickup_limit)):
            self.kill("timeout", generation)
        while not invocation.done.is_set():
            assert invocation.started is not None
            remaining = invocation.started + invocation.timeout_s - time.monotonic()
            if invocation.done.wait(max(0.0, remaining)):
                break
            if invocation.finish(self._timeout_outcome(invocation, invocation.duration_ms / 1000)):
                self.kill("timeout", generation)
        with self._cond:
            self._current = None
            self._slot = None
        self.last_used = time.monotonic()
        assert invocation.outcome is not None
        return invocation.outcome

    @staticmethod
    def _exit_outcome(invocation: Invocation, code: int | None) -> Outcome:
        lines = [wire.exit_message(invocation.request_id, code), wire.RUNTIME_EXIT_ERROR]
        return Outcome("exited", wire.exit_payload(invocation.request_id, code), wire.RUNTIME_EXIT_ERROR, lines)

    def _timeout_outcome(self, invocation: Invocation, elapsed_s: float) -> Outcome:
        message = wire.timeout_message(invocation.request_id, elapsed_s)
        return Outcome("timeout", wire.timeout_payload(invocation.request_id, elapsed_s), wire.SANDBOX_TIMEOUT, [message])

    @property
    def active(self) -> bool:
        """Initializing or running an invocation: worth measuring."""
        return not self.dead and (not self.is_ready or self._current is not None)

    @property
    def ended(self) -> bool:
        """Killed for good, or dead with no reset to follow."""
        with self._cond:
            return self._ending or (self.dead and not self._resetting)

    @property
    def reusable(self) -> bool:
        if self._resetting:
            return True
        return not self.dead and self.init_error is None and self.killed_for is None

    # -- the Runtime API side (RuntimeChannel) ------------------------------------------
    def wait_for_invocation(self) -> Invocation | None:
        with self._cond:
            generation = self._generation
            if self.dead:  # a poll of a runtime already killed (a reset may follow)
                return None
            # Init ends once every registered extension waits in event/next as well.
            while not self.extensions.all_waiting and not self.dead and generation == self._generation:
                self._cond.wait()
            if self.dead or generation != self._generation:
                return None
            if not self.is_ready:
                self.is_ready = True
                self.init_duration_ms = (time.monotonic() - self._spawned) * 1000
                if self.processes is not None:
                    self.processes.learn_namespace()
                self.ready.set()
            self.parked = True
            while self._slot is None and not self.dead and generation == self._generation:
                self._cond.wait()
            self.parked = False
            if self.dead or self._slot is None or generation != self._generation:
                return None
            invocation: Invocation = self._slot
            self._slot = None
            fresh, self._fresh = self._fresh, False
        if self.logs is not None:
            # Output before START: the init phase's on a runtime's first event (a cold
            # start or a reset); on a warm one, background output between invocations,
            # already shown on the console.
            before = self.logs.take()
            if fresh:
                init_start = init_start_line(self.config.effective_runtime, self.config.region)
                invocation.init_output = init_start.encode() + b"\n" + before
        return invocation

    def delivered(self, delivery: Delivery) -> None:
        assert isinstance(delivery, Invocation)
        delivery.taken.set()
        FUNCTION_LOGGER.info(start_line(delivery.request_id), extra={"environment": self.id})
        self._note_peak()

    def undelivered(self, delivery: Delivery) -> None:
        assert isinstance(delivery, Invocation)
        delivery.finish(Outcome("undelivered"))
        self.kill("undelivered")

    def connection_verdict(self, delivery: Delivery, unread: bool) -> None:
        assert isinstance(delivery, Invocation)
        delivery.unread = unread
        delivery.settled.set()

    def _invocation(self, request_id: str) -> Invocation | None:
        with self._cond:
            current = self._current
        return current if current is not None and current.request_id == request_id else None

    def post_response(self, request_id: str, body: bytes) -> tuple[int, dict[str, str]]:
        invocation = self._invocation(request_id)
        if invocation is None:
            return 400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
        self._note_peak()
        if len(body) > wire.MAX_RESPONSE_BYTES:
            payload = wire.response_too_large_payload(len(body))
            invocation.finish(Outcome("error", payload, wire.RESPONSE_TOO_LARGE, [json.loads(payload)["errorMessage"]]))
            return 413, wire.runtime_too_large_answer()
        invocation.finish(Outcome("response", body))
        return 202, {"status": "OK"}

    def post_error(self, request_id: str, body: bytes, error_type: str) -> tuple[int, dict[str, str]]:
        invocation = self._invocation(request_id)
        if invocation is None:
            return 400, {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
        self._note_peak()
        invocation.finish(Outcome("error", _error_body(body, error_type), error_type))
        return 202, {"status": "OK"}

    def post_init_error(self, body: bytes, error_type: str) -> tuple[int, dict[str, str]]:
        outcome = Outcome("init_error", _error_body(body, error_type), error_type)
        self.init_error = outcome
        self.init_duration_ms = (time.monotonic() - self._spawned) * 1000
        with self._cond:
            current = self._current
        if current is not None:
            current.finish(outcome)
        self.ready.set()
        return 202, {"status": "OK"}


    # -- the Extensions API side (internal extensions only) --------------------------------
    def register_extension(self, name: str, body: bytes) -> extensions.Answer:
        with self._cond:
            answer = self.extensions.register(name, body, open_=not self.is_ready and not self.dead)
        if answer[0] == 200:
            log.debug("environment %s: extension %s registered", self.id, name)
        return answer

    def extension_next(self, identifier: str) -> extensions.Answer | None:
        with self._cond:
            found = self.extensions.find(identifier)
            if not isinstance(found, extensions.Extension):
                return found
            found.waiting = True
            self._cond.notify_all()
            generation = self._generation
            # Subscribed to no event an internal extension may get: it waits until the end.
            while not self.dead and generation == self._generation:
                self._cond.wait()
        return None


def _error_body(body: bytes, error_type: str) -> bytes:
    """The error as the caller sees it: the runtime's JSON, or one built around its text."""
    try:
        if isinstance(json.loads(body), dict):
            return body
    except ValueError:
        pass
    return json.dumps({"errorType": error_type or "Unknown", "errorMessage": body.decode("utf-8", "replace")}).encode()
