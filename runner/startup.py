"""The checks a ``--lambda`` run makes before any test is invoked.

In order, each stopping the run with one :class:`pytest.UsageError` a person can act
on: the command line the function's pytest should see (no AWS call), an S3
artifacts destination, the function's own info answer (memory, timeout, image
packages), and the invocation loop's client (a proxy it cannot use stops the run
here, not after the bundle upload). After collection, :func:`check_image` compares
the image's packages with what the suite uses here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lambda_ui.runner import image_check
from lambda_ui.runner.aws import s3
from lambda_ui.runner.aws.lambda_async import AsyncInvoker
from lambda_ui.runner.aws.lambda_client import LambdaFunction, LambdaProblem, default_region, make_client
from lambda_ui.runner.doctor_policy import MIN_MEMORY_MB, TEMPLATE_WRITE_PREFIX, prefix_allowed
from lambda_ui.runner.forwarding import ForwardingProblem, forwarded_args
from lambda_ui.runner.options import LambdaSettings
from lambda_ui.runner.terminal import write_line

#: The window when neither --lambda-concurrency nor a reserved concurrency says otherwise.
DEFAULT_CONCURRENCY = 50
#: The end of every start-up error about the setup: doctor checks all of it at once.
DOCTOR_HINT = "Run `lambda-ui doctor` for a full check."


def _setup_error(text: str) -> pytest.UsageError:
    """A start-up error about the function or the destination, pointing at ``lambda-ui doctor``."""
    return pytest.UsageError(f"{text.rstrip()} {DOCTOR_HINT}")


@dataclass
class Target:
    """The function a run invokes, as the start-up checks found it."""

    function_name: str
    location: s3.S3Location
    #: The local command line, as the function's pytest should see it.
    pytest_args: list[str]
    memory_mb: int
    concurrency: int
    read_timeout_s: float
    #: Python distributions of the function's image (name -> version).
    distributions: dict[str, str] = field(default_factory=dict)


def check_target(config: pytest.Config, settings: LambdaSettings, destination: str) -> Target:
    """Everything the run needs from the command line and the function, or one usage error."""
    try:
        pytest_args = forwarded_args(config) + settings.pytest_args  # checked first: no AWS call
    except ForwardingProblem as exc:
        raise pytest.UsageError(str(exc)) from None
    if not s3.is_s3_url(destination):
        raise _setup_error(
            f"--lambda needs an S3 artifacts destination, got {destination!r}: give --artifacts s3://BUCKET/runs "
            "(the stack's ArtifactsBucket output; the function may write only under runs/)."
        )
    try:
        location = s3.S3Location.parse(destination)
    except ValueError as exc:
        raise _setup_error(f"--artifacts: {exc}.") from None
    # The probe's info call may meet a cold start (image pull, init): give it time.
    probe = LambdaFunction(settings.function, make_client(read_timeout_s=180, max_connections=2))
    try:
        info = probe.describe()
    except LambdaProblem as exc:
        raise _setup_error(str(exc)) from None
    if info.runtime_warning:
        write_line(config, f"lambda: WARNING: {info.runtime_warning}", yellow=True)
    for warning in setup_warnings(info.memory_mb, location.prefix):
        write_line(config, f"lambda: WARNING: {warning} {DOCTOR_HINT}", yellow=True)
    return Target(
        function_name=info.name,
        location=location,
        pytest_args=pytest_args,
        memory_mb=info.memory_mb,
        concurrency=settings.concurrency or info.reserved_concurrency or DEFAULT_CONCURRENCY,
        # The read timeout must outlast the function's own timeout: a read timeout
        # would otherwise look like a fault while the test still runs.
        read_timeout_s=settings.read_timeout_s or info.timeout_s + 60,
        distributions=info.distributions,
    )


def setup_warnings(memory_mb: int, prefix: str) -> list[str]:
    """What the start-up probe already shows to be wrong, though the run can go on."""
    found = []
    if memory_mb < MIN_MEMORY_MB:
        found.append(f"the function has {memory_mb} MB, below the recommended minimum {MIN_MEMORY_MB} MB: Chrome may hang or be killed.")
    if not prefix_allowed([f"{TEMPLATE_WRITE_PREFIX}/*"], prefix):
        shown = repr(prefix) if prefix else "no prefix"
        found.append(
            f"artifacts prefix {shown} is outside {TEMPLATE_WRITE_PREFIX}/, the only one the template's function role may write: "
            f"on AWS its screenshots would be denied (--artifacts s3://BUCKET/{TEMPLATE_WRITE_PREFIX})."
        )
    return found


def make_invoker(target: Target) -> AsyncInvoker:
    """The invocation loop's client; its credentials and proxy are checked here."""
    try:
        return AsyncInvoker(default_region(), target.function_name, target.read_timeout_s)
    except ValueError as exc:
        raise _setup_error(str(exc)) from None


def image_problems(config: pytest.Config, settings: LambdaSettings, distributions: dict[str, str]) -> list[str]:
    """What the function's image lacks or has in another version (:mod:`lambda_ui.runner.image_check`)."""
    if not distributions:
        write_line(config, "lambda: WARNING: the function's info answer listed no Python packages; versions not compared", yellow=True)
        return []
    try:
        needed = image_check.used_here(config, settings.requirements)
    except image_check.RequirementsProblem as exc:
        raise pytest.UsageError(str(exc)) from None
    return image_check.problems(needed, distributions)


def check_image(config: pytest.Config, settings: LambdaSettings, distributions: dict[str, str]) -> None:
    """Stop before any test runs when the image cannot run this suite as it runs here.

    Called after collection: conftests deeper down may register plugins too.
    """
    found = image_problems(config, settings, distributions)
    if not found:
        return
    text = (
        f"lambda: the function's image does not match what this suite uses here: {'; '.join(found)}. "
        "A plugin missing in the image errors every test. Add what is missing to the suite's requirements file "
        "(the image's TEST_REQUIREMENTS build argument; --lambda-requirements names it here), rebuild and deploy the image "
        "(docs/deploy.md)"
    )
    if settings.image_drift == "warn":
        write_line(config, f"{text}. Running anyway (--lambda-image-drift=warn).", yellow=True)
        return
    raise _setup_error(f"{text}; or pass --lambda-image-drift=warn to run anyway.")
