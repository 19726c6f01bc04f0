"""``lambda-ui local-lambda``: the Lambda function from template.yaml, served on 127.0.0.1.

    lambda-ui local-lambda                      # Invoke API on http://127.0.0.1:3001
    AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:3001 pytest --lambda ...

Everything the template sets can be overridden (--timeout, --memory, --concurrency,
--env KEY=VALUE, --handler). docs/local-lambda.md says what is and is not emulated.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

try:
    from lambda_ui.local_lambda import (
        DEFAULT_PORT,
        FunctionInitError,
        LocalLambda,
        Options,
        TemplateError,
        load_function_config,
        with_overrides,
    )
    from lambda_ui.local_lambda.runtimes import RuntimeProblem, interpreter_version
    from lambda_ui.local_lambda.sandbox import MODES
    from lambda_ui.local_lambda.template import FunctionConfig
    MISSING = ""
except ModuleNotFoundError as exc:  # the [local] extra (awslambdaric, pyyaml) or the stand-in itself
    MISSING = exc.name or str(exc)
from lambda_ui.runner.argtypes import non_negative_int

log = logging.getLogger("lambda_ui.local_lambda")
#: Set (to anything) to expect this process's AWS credentials, as --expect-credentials does.
EXPECT_ENV = "LOCAL_LAMBDA_EXPECT_CREDENTIALS"


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _port(text: str) -> int:
    value = non_negative_int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port 1-65535, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambda-ui local-lambda",
        description="Serve the template's Lambda function locally: the Invoke API and read-only control plane, "
        "backed by awslambdaric processes (a stand-in for `sam local start-lambda`).",
    )
    function = parser.add_argument_group("function (defaults from the template)")
    function.add_argument("--template", default="template.yaml", help="SAM/CloudFormation template (default: %(default)s)")
    function.add_argument("--function-id", help="logical id of the function, if the template has several")
    function.add_argument(
        "--function-name", action="append", default=[], metavar="NAME",
        help="also answer to this name (repeatable), e.g. the deployed stack's function name",
    )
    function.add_argument(
        "--parameter", action="append", default=[], type=_key_value, metavar="NAME=VALUE", help="template parameter value"
    )
    function.add_argument("--handler", help="module.function to run (Image functions: default is the Dockerfile's CMD)")
    function.add_argument(
        "--code-dir", help="LAMBDA_TASK_ROOT and working directory (default: a Zip function's CodeUri, else the template's directory)"
    )
    function.add_argument("--timeout", type=int, help="seconds (template: Timeout)")
    function.add_argument("--memory", type=int, help="MB (template: MemorySize)")
    function.add_argument("--concurrency", type=non_negative_int, help="reserved concurrency (template: ReservedConcurrentExecutions)")
    function.add_argument("--ephemeral-storage", type=int, help="MB of /tmp (template: EphemeralStorage)")
    function.add_argument("--env", action="append", default=[], type=_key_value, metavar="KEY=VALUE", help="function environment variable")
    function.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")

    service = parser.add_argument_group("service")
    service.add_argument(
        "--host", default="127.0.0.1",
        help="address to listen on (default: %(default)s); requests must name it, or 127.0.0.1/localhost, in their Host header",
    )
    service.add_argument(
        "--expect-credentials", action="store_true", default=bool(os.environ.get(EXPECT_ENV)),
        help="verify each request's SigV4 signature against this process's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        f"(also: {EXPECT_ENV}=1); without it any signature is accepted, an unsigned request never",
    )
    service.add_argument("--port", type=non_negative_int, default=DEFAULT_PORT, help="port (default: %(default)s; 0 picks a free one)")
    service.add_argument("--prestart", type=non_negative_int, default=0, metavar="N", help="start N warm environments up front")
    service.add_argument("--ready-file", type=Path, help="write the endpoint URL here once serving (removed at exit)")
    service.add_argument("--enforce-memory", action="store_true", help="kill an environment whose processes use more than MemorySize")
    service.add_argument(
        "--isolation", choices=MODES, default="auto",
        help="namespace: a sandbox like Lambda's (user sbx_user1051 without capabilities, own PID namespace and /proc, "
        "read-only filesystem but its own tmpfs /tmp, own network: host ports by relay); mount: the same on the host's "
        "network; tmpdir: no sandbox, only a private TMPDIR (the runtime runs as this user and sees the host). "
        "auto (default): the first possible here; namespace and mount need root and a kernel that allows "
        "mount, PID (and network) namespaces, else auto falls back to tmpdir and says why at start",
    )
    service.add_argument(
        "--forward-port", action="append", default=[], type=_port, metavar="PORT",
        help="relay this host port on 127.0.0.1 into private networks (AWS_ENDPOINT_URL* ports always are)",
    )
    service.add_argument("--invocation-log", type=Path, metavar="PATH", help="write one JSON line per invocation here")
    service.add_argument("--idle-timeout", type=non_negative_int, default=900, metavar="SECONDS", help="stop idle environments after this long (0: never)")
    service.add_argument("--pass-env", action="append", default=[], metavar="NAME", help="also pass this variable of ours to environments")
    service.add_argument(
        "--python", default=sys.executable,
        help="interpreter that runs awslambdaric (default: this one); its Python version should be the function's runtime's "
        "(the template's Runtime, or the Dockerfile's base image): another one is a warning at start",
    )
    service.add_argument("-q", "--quiet", action="store_true", help="do not print the function's log lines")
    return parser


def build_config(args: argparse.Namespace) -> FunctionConfig:
    config = load_function_config(args.template, args.function_id, dict(args.parameter), region=args.region, code_dir=args.code_dir)
    return with_overrides(
        config,
        handler=args.handler,
        timeout=args.timeout,
        memory_mb=args.memory,
        concurrency=args.concurrency,
        ephemeral_mb=args.ephemeral_storage,
        env=dict(args.env),
        aliases=tuple(args.function_name),
        code_dir=args.code_dir,
    )


class _ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        environment = getattr(record, "environment", None)
        if environment is not None:
            return f"[{environment}] {record.getMessage()}"
        return f"local-lambda: {record.getMessage()}"


def _configure_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_ConsoleFormatter())
    root = logging.getLogger("lambda_ui.local_lambda")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
    if quiet:
        logging.getLogger("lambda_ui.local_lambda.function").setLevel(logging.WARNING)


def _write_ready_file(path: Path, endpoint: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(endpoint + "\n")
    partial.replace(path)  # readers never see half a URL


def main(argv: Sequence[str] | None = None) -> int:
    if MISSING:
        print(f"lambda-ui local-lambda needs the [local] extra: pip install 'pytest-lambda-ui[local]' (missing module: {MISSING})", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    _configure_logging(args.quiet)
    try:
        config = build_config(args)
    except TemplateError as exc:
        message = str(exc)
        if args.template not in message and str(Path(args.template).resolve()) not in message:
            message = f"{args.template}: {message}"
        print(f"local-lambda: error: {message}", file=sys.stderr)
        return 2
    if args.python != sys.executable:
        try:
            interpreter_version(args.python)
        except RuntimeProblem as exc:
            print(f"local-lambda: error: {exc}", file=sys.stderr)
            return 2
    credentials = None
    if args.expect_credentials:
        key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not key or not secret:
            print("local-lambda: error: --expect-credentials needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", file=sys.stderr)
            return 2
        credentials = (key, secret)
    if args.host not in ("127.0.0.1", "localhost", "::1") and credentials is None:
        log.warning("listening on %s: anyone who can reach it can invoke the function (no --expect-credentials)", args.host)
    options = Options(
        host=args.host,
        port=args.port,
        python=args.python,
        isolation=args.isolation,
        enforce_memory=args.enforce_memory,
        prestart=args.prestart,
        idle_timeout_s=float(args.idle_timeout) or None,
        pass_env=tuple(args.pass_env),
        forward_ports=tuple(args.forward_port),
        invocation_log=str(args.invocation_log) if args.invocation_log else None,
        expect_credentials=credentials,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    lam = LocalLambda(config, options)
    try:
        endpoint = lam.start()
    except OSError as exc:
        lam.stop()
        if exc.errno == errno.EADDRINUSE:
            print(f"local-lambda: error: port {args.port} on {args.host} is in use (--port 0 picks a free one)", file=sys.stderr)
        else:
            print(f"local-lambda: error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except FunctionInitError as exc:
        print(f"local-lambda: error: {exc}", file=sys.stderr)
        return 1
    except (RuntimeError, ValueError) as exc:
        lam.stop()
        print(f"local-lambda: error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.ready_file:
            _write_ready_file(args.ready_file, endpoint)
        log.info("ready: AWS_ENDPOINT_URL_LAMBDA=%s (Ctrl-C stops)", endpoint)
        while not stop.wait(1.0):
            pass
    finally:
        log.info("stopping")
        lam.stop()
        if args.ready_file:
            args.ready_file.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
