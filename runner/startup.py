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
from lambda_ui.runner.forwarding import ForwardingProblem, forwarded_args
from lambda_ui.runner.options import LambdaSettings
from lambda_ui.runner.terminal import write_line

#: The window when neither --lambda-concurrency nor a reserved concurrency says otherwise.
DEFAULT_CONCURRENCY = 50


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
        raise pytest.UsageError(
            f"--lambda needs an S3 artifacts destination, got {destination!r}: give --artifacts s3://BUCKET/runs "
            "(the stack's ArtifactsBucket output; the function may write only under runs/)."
        )
    try:
        location = s3.S3Location.parse(destination)
    except ValueError as exc:
        raise pytest.UsageError(f"--artifacts: {exc}") from None
    # The probe's info call may meet a cold start (image pull, init): give it time.
    probe = LambdaFunction(settings.function, make_client(read_timeout_s=180, max_connections=2))
    try:
        info = probe.describe()
    except LambdaProblem as exc:
        raise pytest.UsageError(str(exc)) from None
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


def make_invoker(target: Target) -> AsyncInvoker:
    """The invocation loop's client; its credentials and proxy are checked here."""
    try:
        return AsyncInvoker(default_region(), target.function_name, target.read_timeout_s)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


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
    raise pytest.UsageError(f"{text}; or pass --lambda-image-drift=warn to run anyway.")
