"""AWS Lambda entry point: ``lambda_ui.function.handler.handler``.

Importing this module is the function's init phase; the execution environment
is built here once and reused by every warm invocation. Init also registers the
internal extension that makes Lambda send SIGTERM before it shuts the environment
down (lambda_pkg/shutdown.py), so the environment's session ends properly.
"""

from __future__ import annotations

import time

_IMPORT_STARTED = time.perf_counter()

from typing import Any  # noqa: E402

from lambda_ui.contract import utf8_safe  # noqa: E402
from lambda_ui.function import shutdown  # noqa: E402
from lambda_ui.function.environment import ExecutionEnvironment  # noqa: E402

_ENVIRONMENT = ExecutionEnvironment(init_ms=(time.perf_counter() - _IMPORT_STARTED) * 1000)


# In order: the warm session's teardown (its fixtures may still use the browser), then the
# warm browser. Each is a no-op when there is nothing to end.
shutdown.on_shutdown(_ENVIRONMENT.end_session)
shutdown.on_shutdown(_ENVIRONMENT.browsers.shutdown)
shutdown.start()


def handler(event: Any, context: Any) -> dict[str, Any]:
    answer: dict[str, Any] = utf8_safe(dict(_ENVIRONMENT.handle(event, context)))
    return answer
