"""Read the function's configuration from the SAM template, so that what runs locally is
what gets deployed (intrinsic functions are resolved by ``cfn``; anything that only exists
after a deploy is listed in ``FunctionConfig.notes``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lambda_ui.local_lambda.cfn import Resolver, TemplateError, load_template, whole_number
from lambda_ui.local_lambda.runtimes import dockerfile_base, runtime_of_image

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
#: The image's CMD when the Dockerfile cannot be read (lambda_pkg/Dockerfile).
DEFAULT_IMAGE_HANDLER = "lambda_ui.function.handler.handler"
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"
DEFAULT_STACK = "local"

#: Keys Lambda refuses in a function's Environment ("reserved keys"); Lambda sets them.
RESERVED_ENV = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)


@dataclass(frozen=True)
class FunctionConfig:
    """One function as the service would run it (``GetFunctionConfiguration`` plus code)."""

    name: str = "function"
    handler: str = DEFAULT_IMAGE_HANDLER
    timeout: int = 3
    memory_mb: int = 128
    ephemeral_mb: int = 512
    reserved_concurrency: int | None = None
    environment: dict[str, str] = field(default_factory=dict)
    #: LAMBDA_TASK_ROOT and the runtime's working directory.
    code_dir: str = "."
    aliases: tuple[str, ...] = ()
    logical_id: str = ""
    package_type: str = "Image"
    runtime: str | None = None
    #: An Image function's base image (its Dockerfile's last FROM), which says its runtime.
    base_image: str = ""
    description: str = ""
    architectures: tuple[str, ...] = ("x86_64",)
    role: str = ""
    image_uri: str = ""
    log_group: str = ""
    log_format: str = "Text"
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT
    template_path: str = ""
    #: Things resolved to placeholders or otherwise worth telling the user.
    notes: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.name}"

    @property
    def effective_runtime(self) -> str | None:
        """The runtime the code runs on: the template's ``Runtime`` (Zip), else the base image's."""
        return self.runtime or (runtime_of_image(self.base_image) if self.base_image else None)

    @property
    def runtime_source(self) -> str:
        return "the template's Runtime" if self.runtime else f"the base image {self.base_image}"

    @property
    def effective_log_group(self) -> str:
        return self.log_group or f"/aws/lambda/{self.name}"

    def validate(self) -> None:
        """Apply the service's own limits, as a deploy would."""
        problems = []
        if not 1 <= self.timeout <= 900:
            problems.append(f"Timeout {self.timeout} is outside 1..900 seconds")
        if not 128 <= self.memory_mb <= 10240:
            problems.append(f"MemorySize {self.memory_mb} is outside 128..10240 MB")
        if not 512 <= self.ephemeral_mb <= 10240:
            problems.append(f"EphemeralStorage {self.ephemeral_mb} is outside 512..10240 MB")
        if self.reserved_concurrency is not None and self.reserved_concurrency < 0:
            problems.append(f"ReservedConcurrentExecutions {self.reserved_concurrency} is negative")
        reserved = sorted(RESERVED_ENV & set(self.environment))
        if reserved:
            problems.append("Environment contains reserved keys: " + ", ".join(reserved))
        if not re.fullmatch(r"[\w\-/]+(\.[\w\-]+)+", self.handler):
            problems.append(f"handler {self.handler!r} is not of the form module.function")
        if problems:
            raise TemplateError("; ".join(problems))


# -- the function -----------------------------------------------------------------------


def image_cmd(dockerfile: Path) -> str | None:
    """The handler an image runs: the first word of its last ``CMD`` (exec form)."""
    try:
        lines = dockerfile.read_text().splitlines()
    except OSError:
        return None
    command = None
    for line in lines:
        stripped = line.strip()
        if stripped.upper().startswith("CMD "):
            command = stripped[4:].strip()
    if command is None:
        return None
    try:
        words = json.loads(command)
    except ValueError:
        words = command.split()
    return str(words[0]) if words else None


def _pick_function(resources: dict[str, Any], logical_id: str | None) -> str:
    functions = [name for name, res in resources.items() if isinstance(res, dict) and res.get("Type") in FUNCTION_TYPES]
    if logical_id:
        if logical_id not in functions:
            raise TemplateError(f"no function {logical_id!r} in the template (functions: {', '.join(functions) or 'none'})")
        return logical_id
    if len(functions) != 1:
        raise TemplateError(
            f"the template has {len(functions)} functions ({', '.join(functions) or 'none'}); choose one with --function-id"
        )
    return functions[0]


def load_function_config(
    template_path: str | Path,
    logical_id: str | None = None,
    parameters: dict[str, str] | None = None,
    region: str = DEFAULT_REGION,
    account_id: str = DEFAULT_ACCOUNT,
    stack_name: str = DEFAULT_STACK,
    code_dir: str | None = None,
) -> FunctionConfig:
    """The function's configuration from a SAM/CloudFormation template; ``code_dir``
    replaces a Zip function's ``CodeUri`` (which is then not read)."""
    path = Path(template_path).resolve()
    template = load_template(path)
    resolver = Resolver(template, parameters or {}, region, account_id, stack_name)
    logical = _pick_function(template["Resources"], logical_id)
    resource = template["Resources"][logical]
    is_sam = resource.get("Type") == "AWS::Serverless::Function"
    globals_ = ((template.get("Globals") or {}).get("Function") or {}) if is_sam else {}
    props = {**globals_, **(resource.get("Properties") or {})}
    # Globals merge environment variables key by key (SAM's documented rule).
    env_globals = ((globals_.get("Environment") or {}).get("Variables")) or {}
    env_own = (((resource.get("Properties") or {}).get("Environment") or {}).get("Variables")) or {}
    variables = resolver.resolve({**env_globals, **env_own})
    props = resolver.resolve({k: v for k, v in props.items() if k != "Environment"})

    package_type = str(props.get("PackageType") or ("Zip" if props.get("Handler") else "Image"))
    handler = props.get("Handler")
    base_image = ""
    folder = path.parent
    if package_type == "Image":
        command = ((props.get("ImageConfig") or {}).get("Command")) or []
        metadata = resource.get("Metadata") or {}
        dockerfile = path.parent / str(metadata.get("DockerContext", ".")) / str(metadata.get("Dockerfile", "Dockerfile"))
        handler = command[0] if command else image_cmd(dockerfile)
        if handler is None:
            resolver.notes.append(f"no CMD found in {dockerfile}; the handler defaults to {DEFAULT_IMAGE_HANDLER}")
            handler = DEFAULT_IMAGE_HANDLER
        base_image = dockerfile_base(dockerfile) or ""
        if not base_image:
            resolver.notes.append(f"no FROM found in {dockerfile}; the function's runtime is not checked")
    elif not handler:
        raise TemplateError(f"function {logical} has no Handler")
    else:
        folder = Path(code_dir).resolve() if code_dir is not None else _code_dir(path.parent, props.get("CodeUri"))

    reserved = props.get("ReservedConcurrentExecutions")
    logging_config = props.get("LoggingConfig") or {}
    name = str(props.get("FunctionName") or logical)
    config = FunctionConfig(
        name=name,
        handler=str(handler),
        timeout=whole_number(props.get("Timeout", 3), "Timeout"),
        memory_mb=whole_number(props.get("MemorySize", 128), "MemorySize"),
        ephemeral_mb=whole_number((props.get("EphemeralStorage") or {}).get("Size", 512), "EphemeralStorage.Size"),
        reserved_concurrency=None if reserved is None else whole_number(reserved, "ReservedConcurrentExecutions"),
        environment={str(k): _env_text(v) for k, v in variables.items()},
        code_dir=str(folder),
        logical_id=logical,
        package_type=package_type,
        runtime=str(props["Runtime"]) if props.get("Runtime") else None,
        base_image=base_image,
        description=str(props.get("Description") or ""),
        architectures=tuple(props.get("Architectures") or ("x86_64",)),
        role=str(props.get("Role") or f"arn:aws:iam::{account_id}:role/{stack_name}-{logical}Role"),
        image_uri=str(props.get("ImageUri") or ""),
        log_group=str(logging_config.get("LogGroup") or ""),
        log_format=str(logging_config.get("LogFormat") or "Text"),
        region=region,
        account_id=account_id,
        template_path=str(path),
        notes=tuple(dict.fromkeys(resolver.notes)),
    )
    config.validate()
    return config


def _code_dir(template_dir: Path, code_uri: Any) -> Path:
    """A Zip function's code folder: its ``CodeUri`` (relative to the template), else the
    template's folder. An S3 location or a zip file cannot be run from here: --code-dir."""
    if code_uri is None:
        return template_dir
    if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
        raise TemplateError(f"CodeUri {code_uri!r} is not a local folder; give the code's folder with --code-dir")
    folder = (template_dir / code_uri).resolve()
    if not folder.is_dir():
        raise TemplateError(f"CodeUri {code_uri} is not a folder ({folder}); give the code's folder with --code-dir")
    return folder


def _env_text(value: Any) -> str:
    # Lambda environment values are strings; YAML gives ints and booleans for bare words.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def with_overrides(
    config: FunctionConfig,
    *,
    handler: str | None = None,
    timeout: int | None = None,
    memory_mb: int | None = None,
    concurrency: int | None = None,
    ephemeral_mb: int | None = None,
    env: dict[str, str] | None = None,
    aliases: tuple[str, ...] = (),
    code_dir: str | None = None,
) -> FunctionConfig:
    """Command-line overrides on top of the template; the result is validated again."""
    changes: dict[str, Any] = {}
    if handler is not None:
        changes["handler"] = handler
    if timeout is not None:
        changes["timeout"] = timeout
    if memory_mb is not None:
        changes["memory_mb"] = memory_mb
    if concurrency is not None:
        changes["reserved_concurrency"] = concurrency
    if ephemeral_mb is not None:
        changes["ephemeral_mb"] = ephemeral_mb
    if env:
        changes["environment"] = {**config.environment, **env}
    if aliases:
        changes["aliases"] = tuple(dict.fromkeys(a for a in (*config.aliases, *aliases) if a != config.name))
    if code_dir is not None:
        changes["code_dir"] = str(Path(code_dir).resolve())
    updated = replace(config, **changes)
    updated.validate()
    return updated
