"""The wire contract between the client and the Lambda handler, version 1.

Both sides import this module; nothing else about the handler is known to the
client. Events and responses are JSON objects. ``validate_event`` turns any
input into a typed event or an :class:`InvalidEvent` with a message, so a bad
event never crashes the handler.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Literal, TypedDict

CONTRACT_VERSION = 1

#: Lambda's synchronous response limit is 6 MiB; stay well clear of it.
MAX_INLINE_RESPONSE_BYTES = 5 * 1024 * 1024

#: Options the client owns; forwarding them would split or duplicate its work.
CLIENT_ONLY_OPTIONS = ("--junitxml", "--junit-xml", "--lf", "--last-failed", "--ff", "--failed-first", "-x", "--exitfirst", "--maxfail", "--sw", "--stepwise", "-n", "--numprocesses", "--dist", "--lambda", "--artifacts", "--run-id", "--rootdir")

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: S3's bucket name rules (3-63 lowercase letters, digits, dots, hyphens), and one key segment.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_KEY_SEGMENT = re.compile(r"[A-Za-z0-9._-]{1,128}")
MAX_SMOKE_KEY_CHARS = 512
_RUN_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

#: pytest's short options that take no value (``-v``, ``-x``: they may be clustered, ``-vx``),
#: and those that take one (``-k EXPR``, ``-kEXPR``: the rest of a cluster is the value).
#: From pytest's and pytest-xdist's ``addoption`` calls; plugins may register upper-case ones.
_SHORT_FLAGS = frozenset("xsvqlVhdf")
_SHORT_WITH_VALUE = frozenset("kmrWcpon")
#: Client-owned short options (``-x``, ``-n``).
_CLIENT_SHORT = frozenset("xn")


class BundleRef(TypedDict):
    bucket: str
    key: str
    sha256: str


class S3Ref(TypedDict):
    bucket: str
    key: str


class ArtifactsRef(TypedDict):
    bucket: str
    prefix: str


class RunEvent(TypedDict):
    version: int
    kind: Literal["run"]
    run_id: str
    nodeids: list[str]
    bundle: BundleRef
    pytest_args: list[str]
    artifacts: ArtifactsRef
    attempt: int
    #: ``warm`` (one pytest session per environment, fed one test per invocation) or
    #: ``per-test`` (a whole pytest.main per invocation); absent means warm.
    session: Literal["warm", "per-test"]
    #: The client has an ``--alluredir``: write Allure results and hand them back
    #: (:data:`ALLURE_FOLDER`); absent means false.
    allure: bool
    #: How many tests the client runs at once at most (its concurrency): the suite sees
    #: it as pytest-xdist's worker count (``PYTEST_XDIST_WORKER_COUNT``); absent means 1.
    workers: int
    #: Environment variables the client hands its tests (``--lambda-env``): set in the
    #: function's environment while the run's tests run there; absent means none.
    env: dict[str, str]
    #: The folder below the rootdir pytest was started in ("/"-separated; "" or absent: the
    #: rootdir): the function's tests run there, as they do on the client.
    workdir: str
    #: The client writes pytest's log file (``log_file``, ``--log-file``): the function writes
    #: its tests' records to a private one and hands each test's back (``RunResponse.log_text``);
    #: absent means false.
    log_file: bool


#: A test's log file records beyond this stay in the function (the answer says how many bytes).
MAX_LOG_TEXT_BYTES = 1024 * 1024

#: Allure result files of a run go to ``<prefix>/<run id>/_allure/<file name>``.
ALLURE_FOLDER = "_allure"
#: Allure writes ``<uuid>-result.json``, ``-container.json``, ``-attachment.<ext>``: plain names only.
ALLURE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


#: Files a test wrote in its working directory (the bundle's copy) go to
#: ``<prefix>/<run id>/_written/<invocation>/<rootdir-relative path>``.
WRITTEN_FOLDER = "_written"
#: A written file larger than this stays in the function; the client reads no more of one.
MAX_WRITTEN_FILE_BYTES = 20 * 1024 * 1024


class WrittenFile(TypedDict):
    """A file a test added or changed below the rootdir in the function, and where it is in S3."""

    path: str  # rootdir-relative, "/"-separated
    key: str


#: ``RunEvent.workers`` above this is no concurrency a client runs: a malformed event.
MAX_WORKERS = 100_000

#: The values of ``RunEvent.session`` (``--lambda-session``).
SESSION_MODES = ("warm", "per-test")


class InfoEvent(TypedDict):
    version: int
    kind: Literal["info"]


class SmokeEvent(TypedDict):
    """A browser smoke check: ``{"version": 1, "kind": "smoke"}``, optionally with
    ``"screenshot": {"bucket": ..., "key": ...}`` to upload the screenshot there.

    The handler starts (or reuses) the environment's warm Chrome, loads a small page
    with Latin, CJK and emoji text, checks each script rendered, takes a screenshot and
    answers with a :class:`SmokeResponse`. The key is a plain relative key of safe
    segments ending in ``.png``; the function's role may write only under ``runs/``.
    """

    version: int
    kind: Literal["smoke"]
    screenshot: S3Ref | None


class Facts(TypedDict, total=False):
    """Where and how an invocation ran; all durations in milliseconds."""

    cold: bool
    init_ms: float
    bundle_ms: float
    bundle_cached: bool
    browser_start_ms: float
    browser_restarts: int
    test_ms: float
    call_ms: float
    handler_ms: float
    chrome_version: str
    chromedriver_version: str
    python_version: str
    #: ``AWS_EXECUTION_ENV`` (``AWS_Lambda_python3.12``): the runtime the function is
    #: deployed with; the client warns when ``python_version`` is another one (a stand-in).
    execution_env: str
    fingerprint: str
    environment_id: str
    invocation_number: int
    request_id: str
    remaining_ms_at_start: int
    tmp_free_mb: int
    cleaned: list[str]
    #: Chrome failed to start in this environment and runs with --single-process since.
    chrome_single_process_retry: bool
    #: Warm mode: the test ran in a session an earlier invocation started (issue 16).
    session_reused: bool
    #: Time this invocation spent starting the warm session (configure, plugins,
    #: conftests, sessionstart); 0 when it reused one.
    session_started_ms: float
    #: Why the environment's previous session ended before this test ("" if it did not).
    session_replaced: str


class TestWarning(TypedDict):
    """A Python warning the test raised while it ran (pytest's ``pytest_warning_recorded``,
    ``when == "runtest"``), for the client's "warnings summary". Identical warnings are sent
    once with their ``count``. ``filename`` is relative to the bundle root when the warning
    points into the suite; ``line`` is the source line as read in the function (the client
    reads no file a response names)."""

    message: str
    category: str  # "module.QualName" of the warning class
    filename: str
    lineno: int
    line: str
    count: int


#: At most this many distinct warnings per test travel back; the rest are counted.
MAX_TEST_WARNINGS = 100
#: Longest warning message sent; longer ones are cut.
MAX_WARNING_CHARS = 4000


class RunResponse(TypedDict, total=False):
    version: int
    kind: Literal["run"]
    run_id: str
    attempt: int
    exit_code: int
    #: pytest's own serialized TestReports (``pytest_report_to_serializable``), in order.
    reports: list[dict[str, Any]]
    #: Failed collection reports (a node id that does not exist in the bundle, an import error).
    collect_reports: list[dict[str, Any]]
    #: S3 keys of every artifact written.
    artifacts: list[str]
    timed_out: bool
    #: The handler's own notes (pytest's exit when it ran no test, a spilled answer).
    warnings: list[str]
    #: The test's Python warnings, and how many distinct ones beyond :data:`MAX_TEST_WARNINGS` were left out.
    test_warnings: list[TestWarning]
    test_warnings_dropped: int
    facts: Facts
    #: S3 keys of the Allure result files this invocation wrote (``RunEvent.allure``).
    allure_files: list[str]
    #: Files the test added or changed below the rootdir, uploaded (lambda_pkg/written_files.py).
    written_files: list[WrittenFile]
    #: What the test added to the session's log file (``RunEvent.log_file``); absent or "" when none.
    log_text: str
    #: Set when the full response was too large to return: read it from here.
    spilled: S3Ref | None


class InfoResponse(TypedDict):
    version: int
    kind: Literal["info"]
    facts: Facts
    distributions: dict[str, str]
    limits: dict[str, Any]


class SmokeTimings(TypedDict):
    """Milliseconds per step; ``start_ms`` is a new Chrome's start or the warm one's reset."""

    start_ms: float
    load_ms: float
    screenshot_ms: float
    render_check_ms: float
    upload_ms: float


class SmokeResponse(TypedDict):
    """The answer to a :class:`SmokeEvent`; its shape is stable (``lambda-ui doctor`` reads it).

    ``ok`` is true when Chrome started, the page loaded, every script in ``rendered``
    rendered, the screenshot was taken and, when asked, uploaded; otherwise
    ``problems`` says what failed, one line each. ``rendered`` maps ``latin``, ``cjk``
    and ``emoji`` to whether their glyphs were drawn from a real font (see
    ``lambda_ui.function.smoke.check_rendering``). ``flags`` are Chrome's arguments;
    ``single_process_retry`` tells that the first start failed and ``--single-process``
    was added. ``screenshot`` is where the PNG went (``None``: not uploaded).
    """

    version: int
    kind: Literal["smoke"]
    ok: bool
    problems: list[str]
    browser_reused: bool
    single_process_retry: bool
    flags: list[str]
    chrome_version: str
    chromedriver_version: str
    timings: SmokeTimings
    rendered: dict[str, bool]
    screenshot: S3Ref | None
    screenshot_bytes: int
    facts: Facts


ErrorType = Literal["InvalidEvent", "UnsupportedVersion", "BundleMissing", "BundleMismatch", "BundleInvalid", "EnvironmentUnhealthy", "InternalError"]

#: Error types the client should retry on a new invocation (another environment).
RETRYABLE_ERRORS = frozenset({"EnvironmentUnhealthy", "InternalError"})


class ErrorResponse(TypedDict):
    version: int
    kind: Literal["error"]
    error_type: ErrorType
    message: str
    retryable: bool


class InvalidEvent(Exception):
    def __init__(self, message: str, error_type: ErrorType = "InvalidEvent") -> None:
        super().__init__(message)
        self.error_type: ErrorType = error_type


def error_response(error_type: ErrorType, message: str) -> ErrorResponse:
    return {"version": CONTRACT_VERSION, "kind": "error", "error_type": error_type, "message": message, "retryable": error_type in RETRYABLE_ERRORS}


def _require(mapping: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str = "event") -> Any:
    if name not in mapping:
        raise InvalidEvent(f"{where} has no {name!r}")
    value = mapping[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
        raise InvalidEvent(f"{where}.{name} must be {expected}, got {type(value).__name__}")
    return value


def is_safe_run_id(run_id: str) -> bool:
    """A run id names one folder (locally) or key segment (S3): a plain name, never ``.`` or ``..``."""
    return bool(_RUN_ID.fullmatch(run_id)) and run_id not in (".", "..")


def _short_cluster_is_client_owned(arg: str) -> bool:
    """True when a cluster of short options (``-vx``, ``-nauto``) holds ``-x`` or ``-n``.

    Letters are read left to right while each is a known flag; a letter that
    takes a value (``-kx``: ``x`` is the keyword) or is unknown (a plugin's,
    arity unknown) ends the scan, as it ends pytest's own.
    """
    for letter in arg[1:]:
        if letter in _CLIENT_SHORT:
            return True
        if letter not in _SHORT_FLAGS:
            return False
    return False


def forbidden_args(args: list[str]) -> list[str]:
    """The client-owned options among ``args`` (``--maxfail=2`` counts as ``--maxfail``, ``-vx`` as ``-x``)."""
    found = []
    for arg in args:
        name = arg.split("=", 1)[0]
        cluster = arg.startswith("-") and not arg.startswith("--")
        if name in CLIENT_ONLY_OPTIONS or (cluster and _short_cluster_is_client_owned(arg)):
            found.append(arg)
    return found


def _positive_int(event: dict[str, Any], name: str, default: int) -> int:
    """An integer field: ``true`` and ``1.0`` are not integers, whatever JSON's loose typing says."""
    value = event.get(name, default)
    if type(value) is not int or value < 1:
        raise InvalidEvent(f"event.{name} must be a positive integer, got {value!r}")
    return value


def is_safe_key(key: str) -> bool:
    """A relative S3 key of plain segments: no leading slash, no empty, ``.`` or ``..`` segment."""
    if not key or len(key) > MAX_SMOKE_KEY_CHARS:
        return False
    segments = key.split("/")
    return all(_KEY_SEGMENT.fullmatch(part) and part not in (".", "..") for part in segments)


#: ``RunEvent.env``: at most this many variables and bytes of names and values.
MAX_ENV_VARS = 100
MAX_ENV_BYTES = 32 * 1024
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
#: What the runtime, the handler or pytest itself read from the environment: never a test's.
RESERVED_ENV_PREFIXES = ("AWS_", "LAMBDA_", "_", "PYTEST_XDIST_", "LD_", "PYTHON")
RESERVED_ENV_NAMES = frozenset({"PATH", "HOME", "TMPDIR", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "CHROME_BINARY", "CHROMEDRIVER"})


def env_problem(name: object, value: object) -> str | None:
    """Why ``name=value`` cannot be handed to the function's tests, or None."""
    if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
        return f"{str(name)[:80]!r} is not an environment variable name (letters, digits and _, not starting with a digit)"
    if name in RESERVED_ENV_NAMES or name.startswith(RESERVED_ENV_PREFIXES):
        return f"{name} is the runtime's or the runner's own (names starting with {', '.join(RESERVED_ENV_PREFIXES)} and {', '.join(sorted(RESERVED_ENV_NAMES))} are)"
    if not isinstance(value, str) or "\0" in value:
        return f"the value of {name} must be text without NUL characters"
    return None


def validate_env(env: Any) -> dict[str, str]:
    """``RunEvent.env`` checked: names, reserved names, count and size."""
    if not isinstance(env, dict):
        raise InvalidEvent(f"event.env must be an object of names to values, got {type(env).__name__}")
    if len(env) > MAX_ENV_VARS:
        raise InvalidEvent(f"event.env has {len(env)} variables, more than {MAX_ENV_VARS}")
    for name, value in env.items():
        if problem := env_problem(name, value):
            raise InvalidEvent(f"event.env: {problem}")
    size = sum(len(name.encode()) + len(value.encode("utf-8", "surrogatepass")) for name, value in env.items())
    if size > MAX_ENV_BYTES:
        raise InvalidEvent(f"event.env holds {size:,} bytes, more than {MAX_ENV_BYTES:,}")
    return dict(env)


def is_plain_relative(path: str) -> bool:
    """A relative "/"-separated path of at most 1,024 characters: no empty, ``.`` or ``..``
    segment, no backslash or control character."""
    if not path or len(path) > 1024 or any(c == "\\" or ord(c) < 32 for c in path):
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def _validate_smoke(event: dict[str, Any]) -> SmokeEvent:
    shot = event.get("screenshot")
    if shot is None:
        return {"version": CONTRACT_VERSION, "kind": "smoke", "screenshot": None}
    if not isinstance(shot, dict):
        raise InvalidEvent(f"event.screenshot must be an object with 'bucket' and 'key', got {type(shot).__name__}")
    bucket = _require(shot, "bucket", str, "event.screenshot")
    key = _require(shot, "key", str, "event.screenshot")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise InvalidEvent(f"event.screenshot.bucket {bucket[:80]!r} is not an S3 bucket name")
    if not is_safe_key(key) or not key.endswith(".png"):
        raise InvalidEvent(
            f"event.screenshot.key {key[:80]!r} must be a relative key of segments made of letters, digits, "
            f"'.', '_' or '-' (not '.' or '..'), at most {MAX_SMOKE_KEY_CHARS} characters, ending in .png"
        )
    return {"version": CONTRACT_VERSION, "kind": "smoke", "screenshot": {"bucket": bucket, "key": key}}


def validate_event(event: Any) -> RunEvent | InfoEvent | SmokeEvent:
    """Check shape and version; raise :class:`InvalidEvent` with a precise message."""
    if not isinstance(event, dict):
        raise InvalidEvent(f"event must be a JSON object, got {type(event).__name__}")
    version = event.get("version")
    # `true == 1` and `1.0 == 1` in Python: only the integer 1 is version 1.
    if version is not None and type(version) is not int:
        raise InvalidEvent(f"event.version must be an integer, got {type(version).__name__} {version!r}")
    if version != CONTRACT_VERSION:
        raise InvalidEvent(
            f"event contract version {version!r} is not supported by this function (it speaks version {CONTRACT_VERSION}); "
            "deploy the image built from the same release as your client",
            "UnsupportedVersion",
        )
    kind = event.get("kind")
    if kind == "info":
        return {"version": CONTRACT_VERSION, "kind": "info"}
    if kind == "smoke":
        return _validate_smoke(event)
    if kind != "run":
        raise InvalidEvent(f"event.kind must be 'run', 'info' or 'smoke', got {kind!r}")
    run_id = _require(event, "run_id", str)
    if not is_safe_run_id(run_id):
        raise InvalidEvent(f"event.run_id {run_id!r} must be 1-128 characters of letters, digits, '.', '_' or '-', and not '.' or '..'")
    nodeids = _require(event, "nodeids", list)
    if not nodeids or not all(isinstance(n, str) and n and not n.startswith("-") for n in nodeids):
        raise InvalidEvent("event.nodeids must be a non-empty list of pytest node ids")
    bundle = _require(event, "bundle", dict)
    for name in ("bucket", "key", "sha256"):
        _require(bundle, name, str, "event.bundle")
    if not _SHA256.fullmatch(bundle["sha256"]):
        raise InvalidEvent("event.bundle.sha256 must be 64 lowercase hex digits")
    artifacts = _require(event, "artifacts", dict)
    _require(artifacts, "bucket", str, "event.artifacts")
    _require(artifacts, "prefix", str, "event.artifacts")
    pytest_args = event.get("pytest_args", [])
    if not isinstance(pytest_args, list) or not all(isinstance(a, str) for a in pytest_args):
        raise InvalidEvent("event.pytest_args must be a list of strings")
    bad = forbidden_args(pytest_args)
    if bad:
        raise InvalidEvent(f"event.pytest_args must not contain options the client owns: {' '.join(bad)}")
    attempt = _positive_int(event, "attempt", 1)
    session = event.get("session", "warm")
    if session not in SESSION_MODES:
        raise InvalidEvent(f"event.session must be one of {', '.join(SESSION_MODES)}, got {session!r}")
    allure = event.get("allure", False)
    if type(allure) is not bool:
        raise InvalidEvent(f"event.allure must be true or false, got {allure!r}")
    log_file = event.get("log_file", False)
    if type(log_file) is not bool:
        raise InvalidEvent(f"event.log_file must be true or false, got {repr(log_file)[:80]}")
    workdir = event.get("workdir", "")
    if not isinstance(workdir, str) or not (workdir == "" or is_plain_relative(workdir)):
        raise InvalidEvent(f"event.workdir must be a relative folder below the rootdir (no '..', '.' or empty segment), got {str(workdir)[:200]!r}")
    env = validate_env(event.get("env", {}))
    workers = _positive_int(event, "workers", 1)
    if workers > MAX_WORKERS:
        raise InvalidEvent(f"event.workers must be at most {MAX_WORKERS}, got {workers}")
    return {
        "version": CONTRACT_VERSION,
        "kind": "run",
        "run_id": run_id,
        "nodeids": list(nodeids),
        "bundle": {"bucket": bundle["bucket"], "key": bundle["key"], "sha256": bundle["sha256"]},
        "pytest_args": list(pytest_args),
        "artifacts": {"bucket": artifacts["bucket"], "prefix": artifacts["prefix"].strip("/")},
        "attempt": attempt,
        "session": session,
        "allure": allure,
        "workers": workers,
        "workdir": workdir,
        "log_file": log_file,
        "env": env,
    }


def utf8_safe(answer: Any) -> Any:
    """``answer`` with every lone surrogate in its strings written as ``\\udcff`` text.

    Python strings may hold lone surrogates (bytes decoded with ``surrogateescape``: a
    non-UTF-8 file name, a subprocess's output); UTF-8 cannot. The Lambda runtime encodes
    answers as UTF-8 JSON (awslambdaric, ``ensure_ascii=False`` from python3.12) and a test
    failure quoting such a string crashed it: the test came back as an infrastructure
    failure, three times over. Answers without one are returned as they are.
    """
    try:
        json.dumps(answer, ensure_ascii=False).encode()
        return answer
    except UnicodeEncodeError:
        return _without_surrogates(answer)


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_without_surrogates(v) for v in value]
    return value


def anchored(path: str, root: str) -> str:
    """A path from an answer, relative to the bundle root, as a path under ``root``."""
    return path if os.path.isabs(path) else os.path.join(root, path)


def report_from_wire(config: Any, data: dict[str, Any], rootdir: str | None = None) -> Any:
    """Rebuild a report with pytest's own hook, restoring what JSON turned into lists.

    ``sections`` and ``user_properties`` are lists of pairs in pytest; after a
    JSON round trip each pair is a list, which other plugins may not expect.
    File paths arrive relative to the bundle root and are anchored at ``rootdir``
    (default: this session's rootdir).
    """
    root = str(rootdir or config.rootpath)
    longrepr = data.get("longrepr")
    if isinstance(longrepr, list) and len(longrepr) == 3:
        # A skip's (path, lineno, reason): JSON made it a list, junitxml asserts a tuple.
        path = str(longrepr[0])
        data = dict(data, longrepr=(anchored(path, root), longrepr[1], longrepr[2]))
    elif isinstance(longrepr, dict) and isinstance(longrepr.get("reprcrash"), dict):
        path = str(longrepr["reprcrash"].get("path", ""))
        if path and not os.path.isabs(path):
            data = dict(data, longrepr=dict(longrepr, reprcrash=dict(longrepr["reprcrash"], path=anchored(path, root))))
    report = config.hook.pytest_report_from_serializable(config=config, data=data)
    if report is not None:
        report.sections = [tuple(pair) for pair in getattr(report, "sections", [])]
        if hasattr(report, "user_properties"):
            report.user_properties = [tuple(pair) for pair in report.user_properties]
    return report
