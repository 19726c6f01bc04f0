"""AWS Lambda entry point: ``lambda_ui.function.handler.handler``.

Importing this module is the function's init phase; the execution environment
is built here once and reused by every warm invocation.
"""

from __future__ import annotations

import time

_IMPORT_STARTED = time.perf_counter()

from typing import Any  # noqa: E402

from lambda_ui.function.environment import ExecutionEnvironment  # noqa: E402

_ENVIRONMENT = ExecutionEnvironment(init_ms=(time.perf_counter() - _IMPORT_STARTED) * 1000)


def handler(event: Any, context: Any) -> dict[str, Any]:
    return dict(_ENVIRONMENT.handle(event, context))
