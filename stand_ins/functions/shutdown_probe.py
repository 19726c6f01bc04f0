"""A function that asks for SIGTERM at shutdown as the real handler does
(lambda_pkg/shutdown.py), and says in its log what its shutdown callback did.

``PROBE_REGISTER=0``: the SIGTERM handling is installed but no extension is registered, so
Lambda (and the local one) sends no SIGTERM. ``PROBE_SLOW_S``: the callback first sleeps
that long, a teardown that does not fit the budget.
"""

from __future__ import annotations

import os
import time
from typing import Any

from lambda_ui.function import shutdown


def _teardown() -> None:
    delay = float(os.environ.get("PROBE_SLOW_S") or 0)
    if delay:
        time.sleep(delay)
    print(f"probe: teardown ran in pid {os.getpid()}", flush=True)


shutdown.on_shutdown(_teardown)
if os.environ.get("PROBE_REGISTER", "1") == "1":
    IDENTIFIER = shutdown.start()
else:
    shutdown.install_sigterm()
    IDENTIFIER = None


def handler(event: Any, context: Any) -> dict[str, Any]:
    return {"pid": os.getpid(), "extension": IDENTIFIER, "execution_env": os.environ.get("AWS_EXECUTION_ENV")}
