"""``lambda-ui doctor``: is this account ready for ``pytest --lambda``? One line per check.

    lambda-ui doctor                                   # what pytest --lambda would use (ini, env)
    lambda-ui doctor --function F --bucket B --prefix runs --save-screenshot smoke.png
    lambda-ui doctor -- -c ci.ini tests/ui             # pytest's own arguments, to find the ini and plugins

The function, bucket and prefix come from the same options, ini file and environment
``pytest --lambda`` reads (runner/options.py), unless given here. The checks are in
runner/doctor.py. Exit status 0 when no check failed; a check that could not be made
(a permission the caller lacks) is printed with ``?`` and does not fail.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from lambda_ui.runner.doctor_lines import Line, can_print_marks, exit_status, format_line, summary
from lambda_ui.runner.doctor_policy import TEMPLATE_WRITE_PREFIX, WriteRule, write_rule

#: Longer than Lambda's largest timeout: the smoke event may meet a cold start.
INVOKE_READ_TIMEOUT_S = 960


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lambda-ui doctor",
        description="Check credentials, the function, the bucket, the artifacts prefix, the image and Chrome in the function, "
        "as pytest --lambda would use them. Exit status 0 when no check fails.",
    )
    parser.add_argument("--function", help="function name or ARN (default: --lambda-function, ini lambda_function, $LAMBDA_UI_FUNCTION)")
    parser.add_argument("--bucket", help="artifacts bucket (default: from the ini's artifacts = s3://BUCKET/PREFIX)")
    parser.add_argument("--prefix", help=f"artifacts prefix (default: from artifacts, else {TEMPLATE_WRITE_PREFIX})")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile)")
    parser.add_argument("--template", help="template whose function role the prefix is compared with when IAM cannot be asked (default: template.yaml here, if any)")
    parser.add_argument("--save-screenshot", metavar="PATH", type=Path, help="save the smoke event's screenshot here (default: not saved)")
    parser.add_argument("pytest_args", nargs="*", help="after --: pytest arguments (ini file, paths, -p plugins) as for pytest --lambda")
    return parser


@dataclass
class Resolved:
    """What pytest --lambda would use, or why it could not be read."""

    function: str = ""
    bucket: str = ""
    prefix: str = ""
    problem: str = ""
    drift: Callable[[dict[str, str]], list[str]] | None = None
    rootdir: Path | None = None
    close: Callable[[], None] = lambda: None


def resolve(args: argparse.Namespace) -> Resolved:
    """The function and destination through runner/options.py, as pytest --lambda resolves them."""
    import pytest
    from _pytest.config import _prepareconfig  # pytest's own start-up, up to the parsed command line

    from lambda_ui.runner import image_check
    from lambda_ui.runner.aws.s3 import S3Location, is_s3_url
    from lambda_ui.runner.options import LambdaSettings, Settings

    given_prefix = args.prefix if args.prefix is not None else TEMPLATE_WRITE_PREFIX
    resolved = Resolved(function=args.function or "", bucket=args.bucket or "", prefix=given_prefix.strip("/"))
    try:
        config = _prepareconfig(["-p", "no:cacheprovider", *args.pytest_args])
    except (pytest.UsageError, SystemExit, Exception) as exc:
        resolved.problem = f"pytest could not read its configuration: {exc}"
        return resolved
    resolved.close = config._ensure_unconfigure
    resolved.rootdir = Path(config.rootpath)
    if not hasattr(config.option, "lambda_function"):
        resolved.problem = "the lambda_ui plugin is not loaded (PYTEST_DISABLE_PLUGIN_AUTOLOAD?): pass -p lambda_ui.runner.plugin after --"
        return resolved
    if args.function:
        config.option.lambda_function = args.function
    try:
        settings = Settings.from_config(config)
        lambda_settings = LambdaSettings.from_config(config)
    except pytest.UsageError as exc:
        resolved.problem = str(exc)
        return resolved
    resolved.function = lambda_settings.function
    try:
        location = S3Location.parse(settings.artifacts) if is_s3_url(settings.artifacts) else None
    except ValueError as exc:
        resolved.problem = f"artifacts: {exc}"
        return resolved
    resolved.bucket = args.bucket or (location.bucket if location else "")
    resolved.prefix = (args.prefix if args.prefix is not None else location.prefix if location else TEMPLATE_WRITE_PREFIX).strip("/")

    def drift(distributions: dict[str, str]) -> list[str]:
        return image_check.problems(image_check.used_here(config, lambda_settings.requirements), distributions)

    resolved.drift = drift
    return resolved


def read_rule(path: Path | None) -> tuple[WriteRule | None, str]:
    """The function role's write rule from a template, and where it came from."""
    if path is None or not path.is_file():
        return None, ""
    try:
        from lambda_ui.local_lambda.cfn import TemplateError, load_template
    except ModuleNotFoundError:
        return None, ""  # PyYAML (the [local] extra) is not installed: IAM only
    try:
        return write_rule(load_template(path)), path.name
    except TemplateError:
        return None, ""


def make_client(region: str) -> Callable[[str], Any]:
    def make(service: str) -> Any:
        import boto3
        from botocore.config import Config

        from lambda_ui.runner.aws import s3

        if service == "s3":
            return s3.make_client()
        if service == "lambda":
            # No SDK retries: a retried Invoke runs the event twice (runner/aws/lambda_client.py).
            config = Config(read_timeout=INVOKE_READ_TIMEOUT_S, connect_timeout=10, retries={"mode": "standard", "total_max_attempts": 1})
        else:
            config = Config(read_timeout=20, connect_timeout=5, retries={"mode": "standard", "total_max_attempts": 2})
        return boto3.client(service, region_name=region, config=config)  # type: ignore[call-overload]

    return make


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    out = out or sys.stdout
    ascii_only = not can_print_marks(getattr(out, "encoding", None))
    region_source = ""
    if args.region:
        # Every client of this process, S3's included, reads the region from here.
        os.environ["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"] = args.region
        region_source = "--region"
    from lambda_ui.runner.aws.lambda_client import default_region
    from lambda_ui.runner.doctor import Clients, Doctor, DoctorTarget

    lines: list[Line] = []

    def emit(line: Line) -> None:
        lines.append(line)
        print(format_line(line, ascii_only), file=out, flush=True)

    resolved = resolve(args)
    try:
        if resolved.problem:
            emit(Line.fail("configuration", resolved.problem, "fix the option or ini value pytest --lambda reads"))
            if not resolved.function:
                print(summary(lines), file=out)
                return exit_status(lines)
        template = Path(args.template) if args.template else Path(resolved.rootdir or ".", "template.yaml")
        rule, source = read_rule(template)
        doctor = Doctor(
            DoctorTarget(resolved.function, resolved.bucket, resolved.prefix),
            Clients(make_client(args.region or default_region())),
            write_rule=rule,
            rule_source=source,
            drift=resolved.drift,
            screenshot_path=args.save_screenshot,
            region_source=region_source,
        )
        for line in doctor.checks():
            emit(line)
    finally:
        with suppress(Exception):
            resolved.close()
    print(summary(lines), file=out)
    return exit_status(lines)


if __name__ == "__main__":
    sys.exit(main())
