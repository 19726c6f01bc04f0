"""A local stand-in for the AWS Lambda service: the Invoke API and read-only control plane
on 127.0.0.1, backed by real awslambdaric processes (docs/local-lambda.md)."""

from __future__ import annotations

from lambda_ui.local_lambda.cfn import TemplateError
from lambda_ui.local_lambda.invocations import InvocationRecord
from lambda_ui.local_lambda.local import DEFAULT_PORT, FunctionInitError, LocalLambda, Options
from lambda_ui.local_lambda.template import FunctionConfig, load_function_config, with_overrides

__all__ = [
    "DEFAULT_PORT",
    "FunctionConfig",
    "FunctionInitError",
    "InvocationRecord",
    "LocalLambda",
    "Options",
    "TemplateError",
    "load_function_config",
    "with_overrides",
]
