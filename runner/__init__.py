"""pytest-lambda-ui: Selenium tests locally or one per AWS Lambda invocation.

PYTEST_DONT_REWRITE: the plugin's own code needs no assertion rewriting, and the Lambda
handler imports it before each in-Lambda pytest starts (pytest would warn about it).

The public names load on first use: ``chrome_options`` brings in selenium (~0.4 s), and
pytest imports this package in every run, most of which never build a driver here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambda_ui.runner.artifacts import Artifacts
    from lambda_ui.runner.chrome_defaults import chrome_options, chrome_service

__all__ = ["Artifacts", "chrome_options", "chrome_service"]
__version__ = "0.1.0"

#: Public name -> the module that defines it.
_LAZY = {
    "Artifacts": "lambda_ui.runner.artifacts",
    "chrome_options": "lambda_ui.runner.chrome_defaults",
    "chrome_service": "lambda_ui.runner.chrome_defaults",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
