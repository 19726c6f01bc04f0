"""The Lambda service's HTTP API on loopback: Invoke and the read-only control plane.

boto3 reaches it with ``AWS_ENDPOINT_URL_LAMBDA`` (or ``endpoint_url``). Every request
passes the front door first (frontdoor.py: no web page, signed, verified when credentials
are expected). Paths, headers, status codes and error bodies follow botocore's service
model (rest-json: the error code in ``x-amzn-ErrorType``, members in the JSON body).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lambda_ui.local_lambda import frontdoor, wire
from lambda_ui.local_lambda._http import QuietHandler, ThreadedServer
from lambda_ui.local_lambda.invoker import Invoker
from lambda_ui.local_lambda.logs import tail
from lambda_ui.local_lambda.pool import PoolClosed, Throttled
from lambda_ui.local_lambda.template import FunctionConfig

log = logging.getLogger("lambda_ui.local_lambda")

LATEST = "$LATEST"
INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")

_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$"), "invoke"),
    ("POST", re.compile(r"^/2014-11-13/functions/(?P<name>[^/]+)/invoke-async/?$"), "invoke_async"),
    ("GET", re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/configuration/?$"), "get_function_configuration"),
    ("GET", re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/?$"), "get_function"),
    ("GET", re.compile(r"^/2019-09-30/functions/(?P<name>[^/]+)/concurrency/?$"), "get_function_concurrency"),
    ("GET", re.compile(r"^/2016-08-19/account-settings/?$"), "get_account_settings"),
]


class LambdaService:
    """What the HTTP handler calls: the function's configuration plus its invoker."""

    def __init__(self, config: FunctionConfig, invoker: Invoker, account_concurrency: int = 1000) -> None:
        self.config = config
        self.invoker = invoker
        self.account_concurrency = account_concurrency
        self.revision_id = str(uuid.uuid4())
        self._async_threads: set[threading.Thread] = set()
        self._code_sha = _code_sha256(config)
        self._last_modified = _last_modified(config)

    # -- names --------------------------------------------------------------------------
    def resolve(self, raw: str, qualifier: str | None) -> tuple[FunctionConfig, str]:
        """The function a FunctionName (name, partial or full ARN, with or without a
        qualifier) refers to, and the ARN it was invoked as."""
        name = unquote(raw)
        region = account = None
        derived = None
        parts = name.split(":")
        if name.startswith("arn:") and len(parts) in (7, 8) and parts[5] == "function":
            region, account, name = parts[3], parts[4], parts[6]
            derived = parts[7] if len(parts) == 8 else None
        elif len(parts) in (3, 4) and parts[1] == "function":
            account, name = parts[0], parts[2]
            derived = parts[3] if len(parts) == 4 else None
        elif len(parts) == 2:
            name, derived = parts
        elif len(parts) != 1:
            raise wire.invalid_parameter(f"1 validation error detected: Value '{unquote(raw)}' at 'functionName' failed to satisfy constraint")
        if derived and qualifier and derived != qualifier:
            raise wire.invalid_parameter("The derived qualifier from the function name does not match the specified qualifier.")
        qualifier = qualifier or derived
        config = self.config
        unqualified = f"arn:aws:lambda:{region or config.region}:{account or config.account_id}:function:{name}"
        known = name in config.names and (region in (None, config.region)) and (account in (None, config.account_id))
        if not known:
            raise wire.not_found(unqualified + (f":{qualifier}" if qualifier else ""))
        if qualifier not in (None, LATEST):
            raise wire.not_found(f"{config.arn}:{qualifier}")
        return config, (f"{config.arn}:{qualifier}" if qualifier else config.arn)

    # -- control plane ------------------------------------------------------------------
    def function_configuration(self) -> dict[str, Any]:
        c = self.config
        data: dict[str, Any] = {
            "FunctionName": c.name,
            "FunctionArn": c.arn,
            "Role": c.role,
            "CodeSize": 0,
            "Description": c.description,
            "Timeout": c.timeout,
            "MemorySize": c.memory_mb,
            "LastModified": self._last_modified,
            "CodeSha256": self._code_sha,
            "Version": LATEST,
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": c.package_type,
            "Architectures": list(c.architectures),
            "EphemeralStorage": {"Size": c.ephemeral_mb},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": c.log_format, "LogGroup": c.effective_log_group},
        }
        if c.environment:
            data["Environment"] = {"Variables": dict(c.environment)}
        if c.package_type == "Zip":
            data["Handler"] = c.handler
            if c.runtime:
                data["Runtime"] = c.runtime
        return data

    def get_function(self) -> dict[str, Any]:
        c = self.config
        if c.package_type == "Image":
            code = {"RepositoryType": "ECR", "ImageUri": c.image_uri, "ResolvedImageUri": c.image_uri}
        else:
            code = {"RepositoryType": "S3", "Location": f"file://{c.code_dir}"}
        data: dict[str, Any] = {"Configuration": self.function_configuration(), "Code": code}
        if c.reserved_concurrency is not None:
            data["Concurrency"] = {"ReservedConcurrentExecutions": c.reserved_concurrency}
        return data

    def get_function_concurrency(self) -> dict[str, Any]:
        reserved = self.config.reserved_concurrency
        return {} if reserved is None else {"ReservedConcurrentExecutions": reserved}

    def get_account_settings(self) -> dict[str, Any]:
        reserved = self.config.reserved_concurrency or 0
        return {
            "AccountLimit": {
                "TotalCodeSize": 80530636800,
                "CodeSizeUnzipped": 262144000,
                "CodeSizeZipped": 52428800,
                "ConcurrentExecutions": self.account_concurrency,
                "UnreservedConcurrentExecutions": self.account_concurrency - reserved,
            },
            "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 1},
        }

    # -- asynchronous invocations -------------------------------------------------------
    def invoke_later(self, payload: bytes, invoked_arn: str, request_id: str | None = None) -> None:
        """Run an ``Event`` invocation in the background; it waits for concurrency instead
        of being throttled (Lambda's internal queue does the same)."""

        def run() -> None:
            try:
                result = self.invoker.invoke(payload, None, invoked_arn, block=True, request_id=request_id, invocation_type="Event")
                if result.outcome.function_error:
                    log.warning("asynchronous invocation %s failed: %s", result.request_id, result.outcome.body[:500].decode("utf-8", "replace"))
            except PoolClosed:
                pass
            except Exception:
                log.exception("asynchronous invocation failed")
            finally:
                self._async_threads.discard(threading.current_thread())

        thread = threading.Thread(target=run, name="event-invocation", daemon=True)
        self._async_threads.add(thread)
        thread.start()


def _code_sha256(config: FunctionConfig) -> str:
    digest = hashlib.sha256()
    digest.update(config.handler.encode())
    try:
        with open(config.template_path, "rb") as template:
            digest.update(template.read())
    except OSError:
        pass
    return base64.b64encode(digest.digest()).decode()


def _last_modified(config: FunctionConfig) -> str:
    try:
        stamp = os.path.getmtime(config.template_path)
    except OSError:
        stamp = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime(stamp))


class _Handler(QuietHandler):
    server: ServiceServer
    body = b""
    body_size = 0

    def _route(self, method: str) -> None:
        request_id = str(uuid.uuid4())
        server = self.server
        refusal = frontdoor.refusal_before_body(method, self.headers, server.allowed_hosts)
        if refusal is not None:
            self._refuse(refusal, request_id)  # before the body is read: nothing of it is used
            return
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        # Read once here: the signature covers the body. A body over the largest limit is
        # dropped (b"") and answered 413 below, unverified, as nothing runs.
        self.body, self.body_size = self.read_body(limit=wire.MAX_SYNC_REQUEST_BYTES)
        if server.credentials is not None and self.body_size <= wire.MAX_SYNC_REQUEST_BYTES:
            problem = frontdoor.signature_problem(server.credentials, method, self.path, self.headers, self.body)
            if problem is not None:
                self._refuse(problem, request_id)
                return
        try:
            for route_method, pattern, action in _ROUTES:
                match = pattern.match(url.path)
                if match and route_method == method:
                    getattr(self, action)(match.groupdict().get("name", ""), query, request_id)
                    return
            raise wire.ServiceError(404, "UnknownOperationException", f"Unknown operation {method} {url.path}")
        except wire.ServiceError as error:
            self._send_error(error, request_id)

    def _refuse(self, error: wire.ServiceError, request_id: str) -> None:
        """Answer 403, log who was refused and why, and close the connection."""
        log.warning(
            "refused %s %s from %s (Host %s): %s %s", self.command, self.path[:200], self.client_address[0],
            (self.headers.get("Host") or "-")[:100], error.code, error.message[:300],
        )
        self.close_connection = True
        error.headers = {**error.headers, "Connection": "close"}
        self._send_error(error, request_id)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def do_OPTIONS(self) -> None:
        self._route("OPTIONS")  # a CORS preflight: always refused

    def _send_json(self, status: int, data: dict[str, Any], request_id: str) -> None:
        self.send_raw(status, json.dumps(data).encode(), {"Content-Type": "application/json", "x-amzn-RequestId": request_id})

    def _send_error(self, error: wire.ServiceError, request_id: str) -> None:
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code, **error.headers}
        self.send_raw(error.status, error.body(), headers)

    # -- control plane ------------------------------------------------------------------
    def get_function(self, name: str, query: dict[str, str], request_id: str) -> None:
        self.server.service.resolve(name, query.get("Qualifier"))
        self._send_json(200, self.server.service.get_function(), request_id)

    def get_function_configuration(self, name: str, query: dict[str, str], request_id: str) -> None:
        self.server.service.resolve(name, query.get("Qualifier"))
        self._send_json(200, self.server.service.function_configuration(), request_id)

    def get_function_concurrency(self, name: str, query: dict[str, str], request_id: str) -> None:
        self.server.service.resolve(name, None)
        self._send_json(200, self.server.service.get_function_concurrency(), request_id)

    def get_account_settings(self, name: str, query: dict[str, str], request_id: str) -> None:
        self._send_json(200, self.server.service.get_account_settings(), request_id)

    # -- invoke -------------------------------------------------------------------------
    def invoke_async(self, name: str, query: dict[str, str], request_id: str) -> None:
        """The deprecated InvokeAsync: an Event invocation answered with ``{"Status": 202}``."""
        body, size = self.body, self.body_size
        service = self.server.service
        _config, invoked_arn = service.resolve(name, None)
        if size > wire.MAX_ASYNC_REQUEST_BYTES:
            raise wire.request_too_large(wire.MAX_ASYNC_REQUEST_BYTES)
        service.invoke_later(_json_payload(body), invoked_arn, request_id)
        self._send_json(202, {"Status": 202}, request_id)

    def invoke(self, name: str, query: dict[str, str], request_id: str) -> None:
        invocation_type = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
        limit = wire.MAX_ASYNC_REQUEST_BYTES if invocation_type == "Event" else wire.MAX_SYNC_REQUEST_BYTES
        body, size = self.body, self.body_size
        service = self.server.service
        _config, invoked_arn = service.resolve(name, query.get("Qualifier"))
        if invocation_type not in INVOCATION_TYPES:
            raise wire.ServiceError(
                400, "ValidationException",
                f"1 validation error detected: Value '{invocation_type}' at 'invocationType' failed to satisfy constraint: "
                "Member must satisfy enum value set: [Event, RequestResponse, DryRun]",
            )
        if size > limit:
            raise wire.request_too_large(limit)
        payload = _json_payload(body)
        client_context = _client_context(self.headers.get("X-Amz-Client-Context"))
        if invocation_type == "DryRun":
            self.send_raw(204, b"", {"x-amzn-RequestId": request_id})
            return
        if invocation_type == "Event":
            service.invoke_later(payload, invoked_arn, request_id)
            self.send_raw(202, b"", {"x-amzn-RequestId": request_id})
            return
        try:
            result = service.invoker.invoke(payload, client_context, invoked_arn, request_id=request_id)
        except Throttled as throttle:
            raise wire.throttled(throttle.reason) from None
        except PoolClosed:
            raise wire.ServiceError(503, "ServiceException", "The local Lambda is shutting down.") from None
        except Exception as exc:  # an environment that cannot start, say
            log.exception("invocation failed in the service")
            raise wire.ServiceError(500, "ServiceException", f"The local Lambda could not run the invocation: {exc}") from None
        headers = {
            "Content-Type": "application/json",
            "x-amzn-RequestId": result.request_id,
            "X-Amz-Executed-Version": LATEST,
        }
        if result.outcome.function_error:
            headers["X-Amz-Function-Error"] = "Unhandled"
        if (self.headers.get("X-Amz-Log-Type") or "None") == "Tail":
            headers["X-Amz-Log-Result"] = tail(result.log)
        self.send_raw(200, result.outcome.body, headers)


def _json_payload(body: bytes) -> bytes:
    """The event as the runtime gets it; Lambda only accepts JSON (empty means ``{}``)."""
    if not body.strip():
        return b"{}"
    try:
        json.loads(body)
    except ValueError as exc:
        raise wire.invalid_content(f"Could not parse request body into json: Could not parse payload into json: {exc}") from None
    return body


def _client_context(header: str | None) -> str | None:
    """``X-Amz-Client-Context`` is base64 JSON; the runtime gets it decoded."""
    if header is None:
        return None
    if len(header) > wire.MAX_CLIENT_CONTEXT_BYTES:
        raise wire.invalid_parameter(f"Client context must be {wire.MAX_CLIENT_CONTEXT_BYTES} bytes or less when base64-encoded.")
    try:
        decoded = base64.b64decode(header, validate=True).decode()
        json.loads(decoded)
    except (binascii.Error, ValueError):
        raise wire.invalid_content("Client context must be a valid Base64-encoded JSON object.") from None
    return decoded


class ServiceServer(ThreadedServer):
    def __init__(self, service: LambdaService, host: str, port: int, credentials: frontdoor.Credentials | None = None) -> None:
        """``credentials``: the only ones a request may be signed with (None: any signature)."""
        self.service = service
        self.credentials = credentials
        super().__init__((host, port), _Handler)
        self.allowed_hosts = frontdoor.allowed_hosts(host)
