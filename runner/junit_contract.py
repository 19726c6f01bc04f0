"""Every JUnit property the plugin writes, in one table: the writer and the reader import it.

Per-test properties travel as pytest ``user_properties`` (``<testcase><properties>``);
run-level ones go through junitxml's global-property route
(``<testsuite><properties>``). Rewording a message never changes what a reader
understands: it reads these names and values, and guesses from messages only for
JUnit files this plugin did not write.

Values are text: numbers as Python prints them (run-level floats to six significant
digits), :class:`RecordedOutcome` and :class:`Cause` by their value.
"""

from __future__ import annotations

from enum import Enum

# -- per test -----------------------------------------------------------------
#: The pytest node id, exactly (classnames lose it for parametrized and nested tests).
NODEID = "nodeid"
#: What happened to the test, as :class:`RecordedOutcome`; written on every test of a --lambda run.
OUTCOME = "lambda_outcome"
#: Why a test the runner could not run ended as it did, as :class:`Cause`.
CAUSE = "lambda_cause"

ATTEMPTS = "lambda_attempts"
REQUEST_IDS = "lambda_request_ids"  # comma-separated
INFRA_FAILURE_PREFIX = "lambda_infra_failure_"  # + attempt number: the cause of that attempt
THROTTLES = "lambda_throttles"
RERUN_PREFIX = "lambda_rerun_"  # + rerun number: the earlier attempt's short failure
FLAKY = "lambda_flaky"  # "true" when it failed, then passed on a rerun
#: On the entry of an attempt pytest-rerunfailures ran again: why (its short failure). pytest's
#: junitxml writes such an entry with no result at all.
RERUN_FAILURE = "rerun_failure"
COLD = "lambda_cold"
ENVIRONMENT_ID = "lambda_environment_id"
CHROME_VERSION = "chrome_version"
BILLED_MS = "lambda_billed_ms"
INIT_MS = "lambda_init_ms"
MAX_MEMORY_MB = "lambda_max_memory_mb"
MEMORY_MB = "lambda_memory_mb"
#: "true" when Max Memory Used reached the function's MemorySize: out-of-memory risk.
MEMORY_AT_LIMIT = "lambda_memory_at_limit"
COST_USD = "lambda_cost_usd"
RUN_OFFSET_S = "run_offset_s"  # seconds from the run's start to the test's dispatch
WALL_S = "wall_s"
FALLBACK = "lambda_fallback"  # "local": ran on local Chrome after Lambda could not run it
FALLBACK_CAUSE = "lambda_fallback_cause"
ARTIFACT_PREFIX = "artifact:"  # + the artifact's name; value: a path or s3:// URL
ARTIFACT_WARNING = "artifact_warning"
#: + attempt number + ":" + the artifact's name: a file of an earlier attempt (a rerun or a retry).
ATTEMPT_ARTIFACT_PREFIX = "attempt_artifact_"

# -- per run ------------------------------------------------------------------
RUN_ID = "run_id"
RUN_MODE = "run_mode"  # "local" or "lambda"
RUN_WALL_S = "run_wall_s"
ARTIFACTS_LOCATION = "artifacts_location"
FUNCTION = "lambda_function"
CONCURRENCY = "lambda_concurrency"  # configured: invocations in flight at most
PEAK_CONCURRENCY = "lambda_peak_concurrency"  # the most invocations that were in flight at once
MIN_WINDOW = "lambda_min_window"  # the lowest the throttling window went; written only when throttles lowered it
MEMORY_AT_LIMIT_TESTS = "lambda_memory_at_limit_tests"  # how many tests reached the function's MemorySize
RUN_THROTTLES = "lambda_throttles"
INFRA_RETRIES = "lambda_infra_retries"
RERUNS = "lambda_reruns"
INVOCATIONS = "lambda_invocations"
BILLED_GB_S = "lambda_billed_gb_s"
RUN_COST_USD = "lambda_cost_usd"
PRICE_PER_GB_S = "lambda_price_per_gb_s"
FALLBACK_LOCAL = "lambda_fallback_local"
#: The environment the report was written in (the HTML report's environment section).
PYTHON_VERSION = "python_version"
PYTEST_VERSION = "pytest_version"
PLUGIN_VERSION = "lambda_ui_version"
SELENIUM_VERSION = "selenium_version"
GIT_COMMIT = "git_commit"  # of the rootdir's checkout, when it is one
REGION = "aws_region"  # --lambda runs: the region the function was invoked in


class RecordedOutcome(str, Enum):
    """The value of :data:`OUTCOME`.

    For a test that ran, as ``--junitxml`` classifies its reports: a failed setup is
    ``error``; else a failed call ``failed``; else a failed teardown ``error``; else a
    skip ``xfailed`` (it has ``wasxfail``) or ``skipped``; else ``passed`` (an
    unexpected non-strict pass included). ``infra`` and ``interrupted`` carry a :data:`CAUSE`.
    """

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the suite's own error (a fixture, a collection problem of the test)
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    #: The runner could not run it: infrastructure, throttling, an unreachable endpoint.
    INFRA = "infra"
    #: Not run because the run stopped (Ctrl-C, SIGTERM, --lambda-deadline).
    INTERRUPTED = "interrupted"
    #: An attempt pytest-rerunfailures ran again: one ``<testcase>`` per attempt, the test's
    #: last one in its suite carries the outcome.
    RERUN = "rerun"


class Cause(str, Enum):
    """The value of :data:`CAUSE`."""

    RETRIES_SPENT = "retries_spent"
    UNREACHABLE = "unreachable"
    THROTTLED = "throttled"
    REFUSED = "refused"  # the handler refused the event (not retried)
    MALFORMED = "malformed"  # the answer was not a test result
    NOT_RUN = "not_run"  # the in-function pytest produced no report for it
    #: An infrastructure fault not repeated: the invocation may still run (a read timeout),
    #: Lambda rejected the request (4xx), or the run was stopping (-x).
    NOT_RETRIED = "not_retried"
    CLIENT_ERROR = "client_error"  # the client failed while handling the answer (a bug)
    DEADLINE = "deadline"
    INTERRUPTED = "interrupted"


#: Causes of a test that was never run: the run stopped, or the service could not be reached.
#: Such tests are counted as "not run" (terminal, ``lambda-ui report summary``), not as errors.
NOT_RUN_CAUSES = frozenset({Cause.INTERRUPTED, Cause.DEADLINE, Cause.UNREACHABLE})


def not_run_cause(outcome: str, cause: str) -> Cause | None:
    """The :class:`Cause` when an :data:`OUTCOME` and :data:`CAUSE` pair says the test never ran."""
    if outcome not in (RecordedOutcome.INTERRUPTED.value, RecordedOutcome.INFRA.value):
        return None
    try:
        found = Cause(cause)
    except ValueError:
        return None
    return found if found in NOT_RUN_CAUSES else None
