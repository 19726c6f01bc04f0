"""One Lambda execution environment: bundles, warm browser, S3 uploaders, facts.

It lives as long as the process (hours when warm). By default it keeps one warm pytest
session per (bundle, arguments, run) and runs one test of it per invocation
(lambda_pkg/session.py); ``--lambda-session=per-test`` runs a whole ``pytest.main`` per
invocation instead.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import hashlib
import io
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from lambda_ui.contract import (
    CONTRACT_VERSION,
    MAX_INLINE_RESPONSE_BYTES,
    ErrorResponse,
    Facts,
    InfoResponse,
    InvalidEvent,
    RunEvent,
    RunResponse,
    S3Ref,
    SmokeEvent,
    SmokeResponse,
    WrittenFile,
    error_response,
    validate_event,
)
from lambda_ui.function import allure_files, written_files, xdist_worker
from lambda_ui.function.bundles import Bundle, BundleCache, forget_modules
from lambda_ui.function.deadline import Deadline, LambdaDeadlineExceeded
from lambda_ui.function.health import become_subreaper, check_and_clean
from lambda_ui.function.log_text import SessionLog
from lambda_ui.function.runtime_logs import RuntimeLogHandlers
from lambda_ui.function.session import ProcessState, Replacement, WarmSession, key_of, replacement
from lambda_ui.function.smoke import run_smoke
from lambda_ui.function.worker import WorkerPlugin, capture_budget
from lambda_ui.runner import junit_contract
from lambda_ui.runner.artifacts.sinks import S3Sink
from lambda_ui.runner.aws import s3
from lambda_ui.runner.browsers import BrowserManager
from lambda_ui.runner.chrome import SINGLE_PROCESS_FLAG, ChromeLauncher, ChromeLocation, locate_chrome, parse_window_size
from lambda_ui.runner.chrome_defaults import SuiteChromeDefaults
from lambda_ui.runner.constants import DEFAULT_WINDOW_SIZE

#: Settings an operator may change through the function's environment.
ENV_MIN_TMP_MB = "LAMBDA_UI_MIN_TMP_MB"
ENV_DEADLINE_MARGIN_S = "LAMBDA_UI_DEADLINE_MARGIN_S"
ENV_WINDOW_SIZE = "LAMBDA_UI_WINDOW_SIZE"


def deadline_margin(remaining_s: float, configured: float | None) -> float:
    """Time kept back for capture, teardown, uploads and the answer.

    10 s by default, but never more than a quarter of the invocation's time.
    """
    margin = configured if configured is not None else 10.0
    return max(0.5, min(margin, remaining_s / 4))


def _version_of(executable: str) -> str:
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    match = re.search(r"\d+\.\d+\.\d+\.\d+", out)
    return match.group(0) if match else out.strip()


def installed_distributions() -> dict[str, str]:
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name:
            found[name] = dist.version
    return dict(sorted(found.items()))


class _PytestBroke(Exception):
    """pytest itself failed inside the handler: the environment exits after answering."""


#: exit code, the worker plugin holding the reports, deadline expired, pytest's output.
_Outcome = tuple[int, WorkerPlugin, bool, str]


class _Stop(NamedTuple):
    """When the invocation began and when the deadline stops its test (``time.monotonic()``
    values), and how long the deadline's captures may take."""

    began: float
    at: float
    capture_budget_s: float

    def deadline(self, worker: WorkerPlugin) -> Deadline:
        """This invocation's deadline, not armed yet: on expiry it captures ``worker``'s test."""
        return Deadline(functools.partial(worker.capture_current, budget_s=self.capture_budget_s))

    def arm(self, deadline: Deadline) -> None:
        """Arm it for the time left: inside the ``try`` whose ``finally`` disarms it."""
        deadline.arm(self.at - time.monotonic(), began=self.began)


def fingerprint(distributions: dict[str, str]) -> str:
    """A short hash of every installed distribution and version: equal images, equal prints."""
    text = "\n".join(f"{name}=={version}" for name, version in distributions.items())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ExecutionEnvironment:
    def __init__(self, init_ms: float = 0.0, environ: dict[str, str] | None = None, tmp: str | None = None) -> None:
        self.environ = os.environ if environ is None else environ
        self.tmp = Path(tmp or tempfile.gettempdir())
        self.id = uuid.uuid4().hex[:12]
        #: pytest-xdist's name for this environment as a worker (lambda_pkg/xdist_worker.py).
        self.worker_id = xdist_worker.worker_id_of(self.id)
        self.init_ms = init_ms
        self.invocations = 0
        #: Why this environment is about to exit (it answered, then leaves within a second), or "".
        self._exiting = ""
        self._heap_frozen = False
        # A new bundle leaves as much of /tmp free as the health check asks for.
        self.bundles = BundleCache(self.tmp / "lambda-ui" / "bundles", reserve_bytes=self._min_tmp_mb() * 1024 * 1024)
        self.active_bundle: Path | None = None
        #: Per unpacked bundle: what tests wrote in it, against the copy as unpacked.
        self._writes: dict[Path, written_files.BundleWrites] = {}
        self.window_size = parse_window_size(self.environ.get(ENV_WINDOW_SIZE, DEFAULT_WINDOW_SIZE))
        # On Lambda a failed start is retried once with --single-process (runner/chrome.py).
        self.launcher = ChromeLauncher(self._locate_chrome, self.window_size, str(self.tmp), self.environ)
        self.browsers = BrowserManager(self.launcher.start, self.window_size)
        # Chrome the suite starts itself gets this environment's binary, driver and flags.
        self.suite_chrome = SuiteChromeDefaults(str(self.tmp), self.environ, self.window_size)
        self.session_log = SessionLog(self.tmp)
        self._s3: Any = None
        self._sinks: dict[tuple[str, str], S3Sink] = {}
        self._distributions: dict[str, str] | None = None
        self._versions: tuple[str, str] | None = None
        self.subreaper = become_subreaper()
        self.runtime_logs = RuntimeLogHandlers()
        self.home = os.getcwd()
        #: The variables the client handed its tests (``--lambda-env``), and what they were before.
        self._handed_env: dict[str, str] = {}
        self._env_before: dict[str, str | None] = {}
        #: Where the session's tests run: the bundle's copy, or the folder below it the client was in.
        self._session_dir = Path(self.home)
        #: The warm pytest session, its worker plugin, and why it cannot serve another test.
        self.warm: WarmSession | None = None
        self._warm_worker: WorkerPlugin | None = None
        self._tainted: Replacement | None = None
        atexit.register(self.browsers.shutdown)
        # Run first (atexit is last in, first out): a process that exits on its own (the
        # stand-ins' harness; never Lambda, which sends SIGTERM) still tears the session down.
        atexit.register(self.end_session)

    # -- resources ------------------------------------------------------------
    def _min_tmp_mb(self) -> int:
        """The free /tmp an invocation needs (LAMBDA_UI_MIN_TMP_MB, 256 MB unless the operator says)."""
        try:
            return max(0, int(self.environ.get(ENV_MIN_TMP_MB, "256")))
        except ValueError:
            return 256

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = s3.make_client(max_pool_connections=8)
        return self._s3

    def _sink(self, bucket: str, prefix: str) -> S3Sink:
        key = (bucket, prefix)
        if key not in self._sinks:
            self._sinks[key] = S3Sink(s3.S3Location(bucket, prefix), client=self.s3)
        return self._sinks[key]

    def _locate_chrome(self) -> ChromeLocation:
        return locate_chrome(None, None, None, None, dict(self.environ))

    def distributions(self) -> dict[str, str]:
        if self._distributions is None:
            self._distributions = installed_distributions()
        return self._distributions

    def versions(self) -> tuple[str, str]:
        if self._versions is None:
            try:
                location = self.launcher.location
                self._versions = (_version_of(location.binary), _version_of(location.driver))
            except Exception:
                self._versions = ("", "")
        return self._versions

    # -- invocations ----------------------------------------------------------
    def handle(self, event: Any, context: Any) -> RunResponse | InfoResponse | SmokeResponse | ErrorResponse:
        started = time.perf_counter()
        self.invocations += 1
        if self._exiting:
            # The runtime fetched the next event before the exit came: answer at once, before any
            # of its test runs and is cut short by the exit (Runtime.ExitError, half a test).
            return error_response("EnvironmentUnhealthy", f"this environment is exiting ({self._exiting}); try another")
        try:
            checked = validate_event(event)
        except InvalidEvent as exc:
            return error_response(exc.error_type, str(exc))
        if checked["kind"] == "info":
            return self.info(context)
        if checked["kind"] == "smoke":
            return self.smoke(checked, context)
        try:
            return self.run(checked, context, started)
        except InvalidEvent as exc:
            return error_response(exc.error_type, str(exc))

    def _base_facts(self, context: Any) -> Facts:
        chrome, driver = self.versions()
        return {
            "cold": self.invocations == 1,
            "init_ms": round(self.init_ms, 1) if self.invocations == 1 else 0.0,
            "chrome_version": chrome,
            "chromedriver_version": driver,
            "python_version": platform.python_version(),
            "execution_env": self.environ.get("AWS_EXECUTION_ENV", ""),
            "fingerprint": fingerprint(self.distributions()),
            "environment_id": self.id,
            "invocation_number": self.invocations,
            "request_id": str(getattr(context, "aws_request_id", "")),
            "chrome_single_process_retry": self.launcher.single_process_retry,
        }

    def info(self, context: Any) -> InfoResponse:
        usage = os.statvfs(self.tmp)
        return {
            "version": CONTRACT_VERSION,
            "kind": "info",
            "facts": self._base_facts(context),
            "distributions": self.distributions(),
            "limits": {
                "memory_mb": int(self.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "0") or 0),
                "remaining_ms": int(context.get_remaining_time_in_millis()) if context is not None else None,
                "tmp_total_mb": usage.f_blocks * usage.f_frsize // (1024 * 1024),
                "tmp_free_mb": usage.f_bavail * usage.f_frsize // (1024 * 1024),
                "contract_version": CONTRACT_VERSION,
            },
        }

    def smoke(self, event: SmokeEvent, context: Any) -> SmokeResponse:
        """The browser smoke check (lambda_pkg/smoke.py) on this environment's warm Chrome."""
        target = event["screenshot"]

        def upload(png: bytes) -> S3Ref:
            assert target is not None
            s3.put_bytes(self.s3, s3.S3Location(target["bucket"], ""), target["key"], png, "image/png")
            return {"bucket": target["bucket"], "key": target["key"]}

        answer, _png = run_smoke(self.browsers, self.launcher, upload if target is not None else None)
        answer["facts"] = self._base_facts(context)
        return answer

    def _schedule_exit(self, why: str) -> None:
        # Answer first, then leave so the platform starts a fresh environment.
        self._exiting = why
        timer = threading.Timer(1.0, os._exit, args=(70,))
        timer.daemon = True
        timer.start()

    def run(self, event: RunEvent, context: Any, started: float) -> RunResponse | ErrorResponse:
        facts = self._base_facts(context)
        remaining_s = context.get_remaining_time_in_millis() / 1000 if context is not None else 900.0
        facts["remaining_ms_at_start"] = int(remaining_s * 1000)
        # Fixed now: the health check, the bundle and a session's start all spend the test's time.
        margin = deadline_margin(remaining_s, _float_or_none(self.environ.get(ENV_DEADLINE_MARGIN_S)))
        began = time.monotonic()
        stop = _Stop(began, began + remaining_s - margin, capture_budget(margin))

        health = check_and_clean(self.tmp, self._browser_dirs_in_use(), self._min_tmp_mb())
        if not health.healthy:
            self.end_session(Replacement.UNHEALTHY)
            self.browsers.shutdown()
            self.bundles.evict(current="")
            health = check_and_clean(self.tmp, None, self._min_tmp_mb())
        facts["tmp_free_mb"] = health.tmp_free_mb
        facts["cleaned"] = health.summary()
        if not health.healthy:
            self._schedule_exit("unhealthy")
            return error_response("EnvironmentUnhealthy", "; ".join(health.problems) + "; this environment will exit")

        warm = event["session"] == "warm"
        wanted = key_of(event) if warm else None
        reason = replacement(self.warm.key if self.warm is not None else None, wanted, self._tainted)
        facts["session_replaced"] = reason.value if reason is not None else ""
        if reason is not None:
            self.end_session(reason)
        bundle = self._copy_for(event)  # after the session that used it ended: its teardown writes there too
        facts["bundle_ms"] = round(bundle.fetch_ms, 1)
        facts["bundle_cached"] = bundle.cached
        if self.active_bundle is not None and self.active_bundle != bundle.path:
            forget_modules(self.active_bundle)
        self.active_bundle = bundle.path
        # Before the session starts: a conftest may read them when it is imported.
        self._hand_env(event["env"])
        xdist_worker.export(os.environ, self.worker_id, event["workers"], event["run_id"])

        destination = s3.S3Location(event["artifacts"]["bucket"], event["artifacts"]["prefix"]).as_url()
        # A suite's own Chrome starts as the warm one does once it needed the fallback.
        self.suite_chrome.extra_flags = [SINGLE_PROCESS_FLAG] if self.launcher.single_process_retry else []
        starts_before = self.browsers.starts
        workdir = self._workdir(bundle.path, event["workdir"])
        args = [
            # Absolute: pytest reads a node id's path from its working directory, the rootdir's or one below it.
            *(f"{bundle.path}/{nodeid}" for nodeid in event["nodeids"]),
            # pytest's cache in /tmp: the bundle is read-only, and a suite's `cache` fixture and
            # config.cache work as they do locally (within this environment).
            f"--override-ini=cache_dir={self.tmp / 'lambda-ui' / 'pytest-cache'}",
            "--rootdir", str(bundle.path),
            # The long names: the suite may have --artifacts or --run-id of its own (runner/option_names.py).
            "--lambda-ui-artifacts", destination,
            "--lambda-ui-run-id", event["run_id"],
            "--basetemp", str(xdist_worker.basetemp(self.tmp / "lambda-ui" / "pytest-tmp", event["run_id"], self.worker_id)),
            "--color=no",
            # The client forwards the ini addopts already expanded and filtered (runner/forwarding.py).
            "--override-ini=addopts=",
            *event["pytest_args"],
        ]
        allure_folder = allure_files.folder_for(self.tmp, event["run_id"]) if event.get("allure") and allure_files.available() else None
        if allure_folder is not None:
            args.append(f"--alluredir={allure_folder}")
        if event.get("log_file"):
            args.append(self.session_log.argument(event["run_id"], new_session=not warm or self.warm is None))
        sys.dont_write_bytecode = True  # code and bundle may be read-only
        os.chdir(workdir)
        self._session_dir = workdir
        try:
            with self.runtime_logs.detached():
                if warm:
                    outcome = self._run_warm(event, args, bundle.path, destination, stop, facts)
                else:
                    outcome = self._run_per_test(event, args, bundle.path, destination, stop)
                    facts["session_reused"] = False
        except _PytestBroke as exc:  # pytest itself broke; the client retries elsewhere
            self._schedule_exit("pytest broke")
            return error_response("InternalError", f"pytest failed inside the handler: {exc}")
        finally:
            os.chdir(self.home)
        exit_code, worker, timed_out, output = outcome
        worker.answer_warnings.extend(self.suite_chrome.take_notes())

        chrome = self.browsers.current
        if self.browsers.starts > starts_before and chrome is not None:
            facts["browser_start_ms"] = round(chrome.started_in * 1000, 1)
        facts["browser_restarts"] = self.browsers.starts - starts_before
        if warm and self.warm is not None and self._tainted is None:
            # A browser that crashed or hung may have taken session state with it.
            restarted = starts_before > 0 and self.browsers.starts > starts_before
            if restarted or (chrome is not None and chrome.stopped):
                self._tainted = Replacement.BROWSER
        facts["test_ms"] = round(worker.test_ms, 1)
        facts["call_ms"] = round(worker.call_ms, 1)
        facts["handler_ms"] = round((time.perf_counter() - started) * 1000, 1)

        written = self._ship_written(bundle, event, worker)
        artifacts: list[str] = []
        for report in worker.reports:
            if report.get("when") == "teardown":
                artifacts.extend(
                    s3.split_s3_url(str(value))[1] for name, value in report.get("user_properties", []) if str(name).startswith(junit_contract.ARTIFACT_PREFIX)
                )
        response: RunResponse = {
            "version": CONTRACT_VERSION,
            "kind": "run",
            "run_id": event["run_id"],
            "attempt": event["attempt"],
            "exit_code": exit_code,
            "reports": worker.reports,
            "collect_reports": worker.collect_reports,
            "artifacts": artifacts,
            "timed_out": timed_out,
            "warnings": list(worker.answer_warnings),
            "test_warnings": worker.test_warnings,
            "test_warnings_dropped": worker.warnings_dropped,
            "facts": facts,
            "written_files": written,
            "spilled": None,
        }
        if not worker.reports and (left_out := [n for n in event["nodeids"] if n in worker.deselected]):
            response["warnings"].append(
                f"the function's pytest deselected {' '.join(left_out)}: a pytest_collection_modifyitems hook (a conftest's "
                "or a plugin's) left it out there, though it was selected here; a hook that reads an environment variable "
                "sees the function's environment, not your shell's (set the variable on the function)"
            )
        elif not worker.collect_reports and (exit_code in (2, 3, 4) or (exit_code == 5 and not worker.reports)):
            # A collection error is its own report, clearer than the terminal's tail.
            response["warnings"].append(f"pytest exited with code {exit_code}: {output[-2000:].strip()}")
        if event.get("log_file"):
            response["log_text"], notes = self.session_log.take()
            response["warnings"].extend(notes)
        if allure_folder is not None:
            location = s3.S3Location(event["artifacts"]["bucket"], event["artifacts"]["prefix"])
            response["allure_files"], problems = allure_files.ship(self.s3, location, event["run_id"], allure_folder)
            response["warnings"].extend(problems)
        if not self._heap_frozen:
            # pytest runs gc.collect() at every session end; with boto3, selenium and
            # pytest loaded that is ~40 ms each time (over 1 s with 16 environments on
            # 2 cores). Freezing what the first run built leaves only each invocation's
            # own objects to scan. After the first run, not the first invocation: the
            # client's start-up probe (an info event) is often an environment's first.
            gc.collect()
            gc.freeze()
            self._heap_frozen = True
        return self._fit(response, event)

    def _hand_env(self, env: dict[str, str]) -> None:
        """The client's variables for its tests (``RunEvent.env``), in place of an earlier run's.

        Unchanged within a run, so what a session fixture sets in one stays for its session, as
        locally. A warm session whose variables differ was replaced before this (its key holds them).
        """
        if env == self._handed_env:
            return
        for name, before in self._env_before.items():
            if before is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = before
        self._env_before = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        self._handed_env = dict(env)

    @staticmethod
    def _workdir(root: Path, folder: str) -> Path:
        """Where the tests run: the bundle's copy, or the folder below it the client's pytest
        started in (made when no shipped file lies in it; it existed there)."""
        if not folder:
            return root
        here = root.joinpath(*folder.split("/"))
        if not here.resolve().is_relative_to(root.resolve()):  # through a link (the bundle's stay inside it)
            raise InvalidEvent(f"event.workdir {folder!r} leads out of the test bundle", "BundleInvalid")
        try:
            here.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InvalidEvent(f"event.workdir {folder!r} is no folder of the test bundle: {exc.strerror or exc}", "BundleInvalid") from None
        return here

    def _ship_written(self, bundle: Bundle, event: RunEvent, worker: WorkerPlugin) -> list[WrittenFile]:
        """Files the test added or changed in its working directory: to S3, linked on its last report."""
        changed = self._writes[bundle.path].changed()
        if not changed:
            return []
        location = s3.S3Location(event["artifacts"]["bucket"], event["artifacts"]["prefix"])
        shipped = written_files.ship(self.s3, location, event["run_id"], bundle.path, changed)
        if worker.reports:
            worker.reports[-1].setdefault("user_properties", []).extend(shipped.properties)
        return shipped.files

    def _copy_for(self, event: RunEvent) -> Bundle:
        """The bundle's unpacked copy as a run finds it: what another run's tests wrote there is
        gone, and a copy whose own files they changed is unpacked again. Within a run the tests
        of an environment share it, as a local run's tests share the developer's tree."""
        bundle = self.bundles.get(event["bundle"], self.s3)
        writes = self._writes.get(bundle.path)
        if writes is None or not bundle.cached:
            writes = self._writes[bundle.path] = self.bundles.writes(bundle)
        elif writes.run_id != event["run_id"] and not writes.restore():
            self.bundles.discard(bundle.path.name)
            bundle = self.bundles.get(event["bundle"], self.s3)
            writes = self._writes[bundle.path] = self.bundles.writes(bundle)
        writes.run_id = event["run_id"]
        return bundle

    def _run_per_test(self, event: RunEvent, args: list[str], bundle: Path, destination: str, stop: _Stop) -> _Outcome:
        """One ``pytest.main`` for this invocation: the ``per-test`` session mode."""
        sink = self._sink(event["artifacts"]["bucket"], event["artifacts"]["prefix"])
        worker = WorkerPlugin(self.browsers, sink, destination, event["attempt"])
        output = io.StringIO()
        exit_code = 3
        # What this session (its fixtures, its test) does to os.environ and sys.path ends with it.
        state = ProcessState()
        # As `python -m pytest` at the rootdir does: modules at the bundle's root (a plugin
        # loaded with -p, a helper package) import as they do on the developer's machine.
        sys.path.insert(0, str(bundle))
        deadline = stop.deadline(worker)
        try:
            stop.arm(deadline)
            # pytest writes usage and configuration errors to stderr: keep both for the answer.
            with contextlib.redirect_stdout(_Tee(output, sys.stdout)), contextlib.redirect_stderr(_Tee(output, sys.stderr)):
                exit_code = int(pytest.main(args, plugins=[worker, self.suite_chrome]))
        except LambdaDeadlineExceeded as exc:  # pytest.main lets it through while a conftest imports
            output.write(f"ERROR: {exc}\n")
        except Exception as exc:
            raise _PytestBroke(f"{type(exc).__name__}: {exc}") from exc
        finally:
            deadline.disarm()
            self.suite_chrome.uninstall()  # already done at pytest_unconfigure, unless the deadline cut it short
            state.restore()  # the bundle's sys.path entry included
            forget_modules(bundle)  # the next session imports the suite afresh, as a new process would
        return exit_code, worker, deadline.expired, output.getvalue()

    def _run_warm(self, event: RunEvent, args: list[str], bundle: Path, destination: str, stop: _Stop, facts: Facts) -> _Outcome:
        """The test on this environment's warm session, started first if there is none (issue 16)."""
        warm = self.warm
        facts["session_reused"] = warm is not None
        facts["session_started_ms"] = 0.0
        if warm is None:
            sink = self._sink(event["artifacts"]["bucket"], event["artifacts"]["prefix"])
            self._warm_worker = WorkerPlugin(self.browsers, sink, destination)
        worker = self._warm_worker
        assert worker is not None
        worker.begin(event["attempt"])
        # Armed before the session starts: a conftest that hangs (an app under test that never
        # comes up) ends in a clear error, not in Lambda's own timeout and an infrastructure retry.
        deadline = stop.deadline(worker)
        try:
            stop.arm(deadline)
            if warm is None:
                try:
                    warm = WarmSession.start(key_of(event), args, [worker, self.suite_chrome], bundle)
                except (pytest.UsageError, LambdaDeadlineExceeded) as exc:
                    self.suite_chrome.uninstall()
                    return (4 if isinstance(exc, pytest.UsageError) else 3), worker, deadline.expired, f"ERROR: {exc}\n"
                except Exception:
                    self.suite_chrome.uninstall()
                    # The suite's own error (a conftest that fails to import, a pytest_configure or
                    # pytest_sessionstart that raises, pytest.exit): pytest.main answers it as on the
                    # developer's machine, as the test's error, not as a broken environment. Only
                    # when pytest.main itself breaks is it _PytestBroke, retried elsewhere.
                    deadline.disarm()
                    return self._run_per_test(event, args, bundle, destination, stop)
                if warm is None:  # --fixtures, --markers and the like: what pytest.main does with them
                    deadline.disarm()
                    return self._run_per_test(event, args, bundle, destination, stop)
                self.warm = warm
                self._tainted = None
                facts["session_started_ms"] = round(warm.started_ms, 1)
            exit_code = max(warm.run(nodeid) for nodeid in event["nodeids"])
            self.suite_chrome.stop_test_launches()  # a per-test session stops them at its end
        except pytest.exit.Exception as exc:  # pytest.exit() in a test: the session ends
            self._tainted = Replacement.BROKEN
            exit_code = exc.returncode if exc.returncode is not None else 2
        except _PytestBroke:
            raise
        except LambdaDeadlineExceeded as exc:
            if worker.reported_whole(event["nodeids"]):
                # Struck after the last teardown report (a logfinish hook, the restore after the
                # test): the outcome is whole and stands; what the session was doing is not.
                self._tainted = Replacement.DEADLINE
                worker.answer_warnings.append(
                    "the function's deadline struck after the test's last report, in what runs after it (a "
                    "pytest_runtest_logfinish hook, the handler's own restore): the test's outcome stands, and the "
                    "next test in this environment gets a new pytest session"
                )
                exit_code = pytest.ExitCode.TESTS_FAILED if worker.any_failed else pytest.ExitCode.OK
                return int(exit_code), worker, True, warm.take_output() if warm is not None else ""
            if worker.reports:  # cut between a test's phases (a report hook): its reports are incomplete
                self._tainted = Replacement.BROKEN
                self.end_session(Replacement.BROKEN)
                raise _PytestBroke(f"{type(exc).__name__}: {exc}") from exc
            self._tainted = Replacement.DEADLINE  # before the test began: collecting its module
            return 3, worker, True, (warm.take_output() if warm is not None else "") + f"ERROR: {exc}\n"
        except Exception as exc:
            self._tainted = Replacement.BROKEN
            self.end_session(Replacement.BROKEN)
            raise _PytestBroke(f"{type(exc).__name__}: {exc}") from exc
        finally:
            deadline.disarm()
        assert warm is not None  # started above, or returned
        if deadline.expired:
            self._tainted = Replacement.DEADLINE
        return exit_code, worker, deadline.expired, warm.take_output()

    def end_session(self, reason: Replacement | str = Replacement.SHUTDOWN) -> None:
        """End the warm session, if any: session fixtures' teardown, sessionfinish, unconfigure.

        The handler calls it when the next test needs another session, and the
        shutdown path (SIGTERM, lambda_pkg/shutdown.py) when the environment goes away.
        """
        if not isinstance(reason, Replacement):
            reason = Replacement.__members__.get(reason.upper(), Replacement.SHUTDOWN)
        warm, self.warm = self.warm, None
        self._tainted = None
        if warm is None:
            return
        cwd = os.getcwd()
        try:
            try:
                os.chdir(self._session_dir)
            except OSError:  # a test removed it
                os.chdir(warm.bundle)
            warm.end(reason)
        finally:
            self.suite_chrome.uninstall()  # at unconfigure already, unless it broke
            os.chdir(cwd)
            # The next session imports the suite afresh, as a new process would: a conftest that
            # reads os.environ or the run's settings at import reads this run's, not the last one's.
            forget_modules(warm.bundle)

    def _browser_dirs_in_use(self) -> list[str]:
        """The warm browser's directory and those of Chromes a warm session's fixtures still hold."""
        dirs = [self.browsers.current.workdir] if self.browsers.current else []
        if self.warm is not None:
            dirs.extend(launch.workdir for launch in self.suite_chrome.launches if launch.workdir and not launch.finished)
        return dirs

    def _fit(self, response: RunResponse, event: RunEvent) -> RunResponse:
        """Keep the answer under Lambda's 6 MB limit: spill the full answer to S3."""
        try:
            body = json.dumps(response).encode()
        except TypeError:
            # A value JSON cannot hold (record_property("started", datetime.now()), an attribute a
            # plugin put on a report) crashed the runtime: a passing test became an infrastructure
            # failure. It travels as its str(), which is what junitxml writes for it anyway.
            body = json.dumps(response, default=str).encode()
            response = json.loads(body)
        if len(body) <= MAX_INLINE_RESPONSE_BYTES:
            return response
        ident = hashlib.sha256("\n".join(event["nodeids"]).encode()).hexdigest()[:16]
        location = s3.S3Location(event["artifacts"]["bucket"], event["artifacts"]["prefix"])
        key = location.key(event["run_id"], "_responses", f"{ident}-attempt{event['attempt']}.json")
        s3.put_bytes(self.s3, location, key, body, "application/json")
        slim: RunResponse = {k: v for k, v in response.items() if k not in ("reports", "collect_reports", "test_warnings", "log_text")}  # type: ignore[assignment]
        slim["reports"] = []
        slim["collect_reports"] = []
        slim["test_warnings"] = []
        slim["spilled"] = {"bucket": location.bucket, "key": key}
        slim["warnings"] = [*response["warnings"], f"response of {len(body)} bytes spilled to s3://{location.bucket}/{key}"]
        return slim


def _float_or_none(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


class _Tee(io.TextIOBase):
    """Keep pytest's terminal output for the answer and still print it to the log."""

    def __init__(self, *targets: Any) -> None:
        self._targets = targets

    def write(self, text: str) -> int:
        for target in self._targets:
            target.write(text)
        return len(text)

    def flush(self) -> None:
        for target in self._targets:
            target.flush()
