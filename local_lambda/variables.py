"""The environment variables of one execution environment, built as Lambda builds them.

Order of precedence, lowest first: what the stand-in passes through from its own
environment (AWS credentials, region and endpoints such as ``AWS_ENDPOINT_URL_S3``, the
browser paths, PATH), then the function's Environment (template plus ``--env``), then the
variables Lambda itself sets. ``HOME`` is not set, as on Lambda.

With a network namespace of its own, an environment reaches the host's loopback services
named by ``AWS_ENDPOINT_URL*`` only through the relay; :func:`loopback_endpoints` says which.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

from lambda_ui.local_lambda.template import RESERVED_ENV, FunctionConfig

#: Passed through from the stand-in's environment besides every ``AWS_*`` variable.
PASS_THROUGH = ("CHROME_BINARY", "CHROMEDRIVER", "PATH")
LANG = "en_US.UTF-8"
#: Variables whose URL may name a host service on loopback (boto3's endpoint settings).
ENDPOINT_PREFIX = "AWS_ENDPOINT_URL"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def log_stream_name(now: float | None = None) -> str:
    day = time.strftime("%Y/%m/%d", time.gmtime(now))
    return f"{day}/[$LATEST]{uuid.uuid4().hex}"


def localized_function_env(function_env: Mapping[str, str], host: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """The function's variables, minus paths that only exist inside the container image.

    The template names files in the image (``/opt/chrome/chrome``). A value that is an
    absolute path whose directory does not exist on this machine is replaced by the
    stand-in's own value of the variable when it has one, and dropped otherwise, so the
    code falls back to what it finds on PATH. Returns the variables and one note per change.
    """
    result: dict[str, str] = {}
    notes: list[str] = []
    for key, value in function_env.items():
        if value.startswith("/") and not os.path.exists(value) and not os.path.isdir(os.path.dirname(value)):
            if host.get(key):
                result[key] = host[key]
                notes.append(f"{key}={value} does not exist here; using this machine's {key}={host[key]}")
            else:
                notes.append(f"{key}={value} does not exist here; leaving {key} unset")
            continue
        result[key] = value
    return result, notes


def runtime_environ(
    config: FunctionConfig,
    runtime_api: str,
    private_tmp: str | None,
    host: Mapping[str, str] | None = None,
    pass_env: tuple[str, ...] = (),
    python_version: tuple[int, int] = sys.version_info[:2],
) -> dict[str, str]:
    host = os.environ if host is None else host
    env: dict[str, str] = {}
    for key, value in host.items():
        if key.startswith("AWS_") and key not in RESERVED_ENV:
            env[key] = value
    for key in (*PASS_THROUGH, *pass_env):
        if key in host:
            env[key] = host[key]
    # Credentials are reserved names, yet they come from the caller (the role on Lambda).
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        if key in host:
            env[key] = host[key]
    if "AWS_ACCESS_KEY_ID" in env:
        env["AWS_ACCESS_KEY"] = env["AWS_ACCESS_KEY_ID"]
    env["LANG"] = LANG  # unreserved: the function's Environment may change it
    function_env, _notes = localized_function_env(config.environment, host)
    env.update(function_env)
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_RUNTIME_API": runtime_api,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": config.effective_log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name(),
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_EXECUTION_ENV": execution_env(config, python_version),
            "LAMBDA_TASK_ROOT": config.code_dir,
            "_HANDLER": config.handler,
            "TZ": ":UTC",
        }
    )
    if private_tmp:
        env["TMPDIR"] = private_tmp
    env.pop("HOME", None)
    return env


def execution_env(config: FunctionConfig, python_version: tuple[int, int] = sys.version_info[:2]) -> str:
    """``AWS_Lambda_python3.12``: the function's runtime as Lambda names it, not the host's
    Python; the interpreter's version only when the runtime is unknown (an unlabelled image)."""
    runtime = config.effective_runtime
    if runtime and runtime.startswith("python"):
        return f"AWS_Lambda_{runtime}"
    return f"AWS_Lambda_python{python_version[0]}.{python_version[1]}"


def loopback_endpoints(env: Mapping[str, str]) -> dict[tuple[str, int], list[str]]:
    """Loopback ``(address, port)`` of each ``AWS_ENDPOINT_URL*`` value, with the variables
    naming it. ``localhost`` counts as 127.0.0.1 (what /etc/hosts says here)."""
    found: dict[tuple[str, int], list[str]] = {}
    for key in sorted(env):
        if not key.startswith(ENDPOINT_PREFIX):
            continue
        try:
            url = urlsplit(env[key])
            host, port = url.hostname, url.port or _DEFAULT_PORTS.get(url.scheme)
        except ValueError:
            continue  # not a URL boto3 could use either
        if host == "localhost":
            host = "127.0.0.1"
        if host is None or port is None or not (host.startswith("127.") or host == "::1"):
            continue
        found.setdefault((host, port), []).append(key)
    return found
