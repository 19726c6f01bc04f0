"""``LocalLambda``: the whole stand-in in one object, for the command and for tests.

    with LocalLambda(load_function_config("template.yaml")) as lam:
        boto3.client("lambda", endpoint_url=lam.endpoint).invoke(...)
        lam.invocations  # what ran, and how it ended
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from types import TracebackType

from lambda_ui.local_lambda import frontdoor, runtimes, sandbox, wire
from lambda_ui.local_lambda.environment import INIT_TIMEOUT_S, EnvSettings, LocalEnvironment
from lambda_ui.local_lambda.invocations import InvocationLog, InvocationRecord
from lambda_ui.local_lambda.invoker import Invoker
from lambda_ui.local_lambda.memory import SAMPLE_INTERVAL_S, MemoryMonitor
from lambda_ui.local_lambda.pool import ACCOUNT_CONCURRENCY, EnvironmentPool
from lambda_ui.local_lambda.relay import Relay
from lambda_ui.local_lambda.service import LambdaService, ServiceServer
from lambda_ui.local_lambda.template import FunctionConfig
from lambda_ui.local_lambda.variables import localized_function_env, loopback_endpoints, runtime_environ

log = logging.getLogger("lambda_ui.local_lambda")

DEFAULT_PORT = 3001


class FunctionInitError(Exception):
    """A prestarted environment failed its init: the function cannot start (one line)."""


@dataclass(frozen=True)
class Options:
    """How the stand-in runs (the function's own settings live in FunctionConfig)."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    python: str = sys.executable
    #: auto (the first possible of the three), namespace (the sandbox with its own
    #: network), mount (the sandbox on the host network) or tmpdir (sandbox.py).
    isolation: str = "auto"
    #: (access key, secret key) every request must be signed with; None checks only that
    #: a SigV4 signature is there (frontdoor.py).
    expect_credentials: tuple[str, str] | None = None
    enforce_memory: bool = False
    prestart: int = 0
    #: Idle environments are stopped after this long (Lambda reclaims them too); None keeps them.
    idle_timeout_s: float | None = 900.0
    pass_env: tuple[str, ...] = ()
    #: Extra paths the runtime needs from directories the sandbox hides (/tmp, say).
    keep_paths: tuple[str, ...] = ()
    account_concurrency: int = ACCOUNT_CONCURRENCY
    sample_interval_s: float = SAMPLE_INTERVAL_S
    init_timeout_s: float = INIT_TIMEOUT_S
    #: Host loopback ports relayed into private networks besides AWS_ENDPOINT_URL* ones.
    forward_ports: tuple[int, ...] = ()
    #: Also write the invocation records here, one JSON object a line.
    invocation_log: str | None = None


class LocalLambda:
    """The Invoke API and control plane on ``host:port``, backed by real environments."""

    def __init__(self, config: FunctionConfig, options: Options | None = None) -> None:
        self.config = config
        self.options = options or Options()
        self.isolation: sandbox.Isolation | None = None
        self.pool: EnvironmentPool | None = None
        self.monitor: MemoryMonitor | None = None
        self.server: ServiceServer | None = None
        self.relay: Relay | None = None
        self.log: InvocationLog | None = None
        #: The runtime check's one warning line (another Python minor version), or "".
        self.runtime_warning = ""

    @property
    def invocations(self) -> list[InvocationRecord]:
        """One record per invocation answered so far, throttled ones included."""
        return self.log.records() if self.log is not None else []

    @property
    def endpoint(self) -> str:
        if self.server is None:
            raise RuntimeError("LocalLambda is not started")
        host = self.options.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.server.port}"

    def start(self) -> str:
        """Bind the port, start the environments asked for, and return the endpoint URL."""
        opts, config = self.options, self.config
        if config.reserved_concurrency is not None and config.reserved_concurrency > opts.account_concurrency - 100:
            # The service keeps 100 of the account's concurrency unreserved.
            raise ValueError(
                f"reserved concurrency {config.reserved_concurrency} leaves less than 100 of the account's "
                f"{opts.account_concurrency} unreserved"
            )
        version = sys.version_info[:3]
        if config.effective_runtime is not None:  # a runtime to check: ask the interpreter that runs it
            version = runtimes.interpreter_version(opts.python)  # RuntimeProblem (a ValueError): one line
        verdict = runtimes.check(config.effective_runtime, opts.python, version)
        if verdict is not None:
            self.runtime_warning = verdict.warning  # logged once serving: a start-up error stays one line
        self.isolation = sandbox.detect(opts.python, opts.isolation, config.code_dir, list(opts.keep_paths))
        relay = Relay() if self.isolation.private_network else None
        settings = EnvSettings(
            python=opts.python,
            isolation=self.isolation,
            pass_env=opts.pass_env,
            enforce_memory=opts.enforce_memory,
            init_timeout_s=opts.init_timeout_s,
            relay=relay,
            forward_ports=opts.forward_ports,
            python_version=version[:2],
        )
        monitor = MemoryMonitor(opts.sample_interval_s)
        pool = EnvironmentPool(config, settings, monitor, opts.idle_timeout_s, opts.account_concurrency)
        try:
            self.log = InvocationLog(opts.invocation_log)
        except OSError as exc:
            raise RuntimeError(f"cannot write the invocation log {opts.invocation_log}: {exc.strerror or exc}") from None
        service = LambdaService(config, Invoker(pool, self.log), opts.account_concurrency)
        credentials = frontdoor.Credentials(*opts.expect_credentials) if opts.expect_credentials else None
        self.server = ServiceServer(service, opts.host, opts.port, credentials)  # OSError if the port is taken
        self.monitor, self.pool, self.relay = monitor, pool, relay
        if self.relay is not None:
            self.relay.start()
        self.monitor.start()
        self.pool.start()
        self.server.start()
        if opts.prestart:
            ready, failed = self.pool.prestart(opts.prestart)
            if failed:
                self.stop()
                raise FunctionInitError(_init_failure(failed[0], self.config.timeout + opts.init_timeout_s))
            self._log_start(settings)
            log.info("%d environments prestarted", len(ready))
        else:
            self._log_start(settings)
        return self.endpoint

    def _log_start(self, settings: EnvSettings) -> None:
        config, opts = self.config, self.options
        assert self.isolation is not None
        limit = "unreserved" if config.reserved_concurrency is None else str(config.reserved_concurrency)
        log.info(
            "local Lambda on %s: function %s (handler %s, timeout %d s, memory %d MB%s, concurrency %s)",
            self.endpoint, ", ".join(config.names), config.handler, config.timeout, config.memory_mb,
            ", enforced" if opts.enforce_memory else "", limit,
        )
        if self.runtime_warning:
            log.warning("%s", self.runtime_warning)
        if opts.expect_credentials:
            log.info("requests must be signed with access key %s (SigV4, verified)", opts.expect_credentials[0])
        else:
            log.info("requests must carry a SigV4 signature; any credentials are accepted (no --expect-credentials)")
        # The one line that says how far test code is contained, and why no further.
        level = logging.INFO if self.isolation.mode == sandbox.NAMESPACE else logging.WARNING
        log.log(level, "environments are isolated by %s: %s", self.isolation.mode, self.isolation.reason)
        if self.isolation.private_network:
            env = runtime_environ(config, "", None, pass_env=opts.pass_env)
            named = loopback_endpoints(env)
            for host, port in settings.forwarded(env):
                names = ", ".join(named.get((host, port), ["--forward-port"]))
                log.info("relayed into each environment: %s:%d (%s)", host, port, names)
        for note in config.notes:
            log.info("template: %s", note)
        for note in localized_function_env(config.environment, os.environ)[1]:
            log.info("environment: %s", note)

    def stop(self) -> None:
        """Stop serving and kill every environment and the processes they started."""
        if self.server is not None:
            self.server.stop()
        if self.pool is not None:
            self.pool.stop()
        if self.monitor is not None:
            self.monitor.stop()
        if self.relay is not None:
            self.relay.stop()  # after the environments, whose listeners it serves
        if self.log is not None:
            self.log.close()

    def __enter__(self) -> LocalLambda:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def _init_failure(env: LocalEnvironment, waited_s: float) -> str:
    """Why a prestarted environment is not ready, in one line."""
    if env.init_error is not None:
        try:
            error = json.loads(env.init_error.body)
            what = f"{error.get('errorType') or env.init_error.error_type}: {error.get('errorMessage', '')}"
        except (ValueError, AttributeError):
            what = env.init_error.body.decode("utf-8", "replace")
        return f"the function's init failed: {' '.join(what.split())}"
    if not env.ready.is_set():
        return f"the function's init did not finish within {waited_s:.0f} s"
    if not env.is_ready:
        return f"the function's init failed: {wire.exit_reason(env.exit_code)}"
    return f"a prestarted environment ended before its first invocation: {env.killed_for or wire.exit_reason(env.exit_code)}"
