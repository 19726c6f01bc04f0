"""The project's real handler behind a slow init phase (tests/e2e/test_fault_matrix.py).

Importing this module sleeps ``$FAULT_SLOW_INIT_S`` seconds (default 5), as a large image
or a slow import would, then hands every event to ``lambda_ui.function.handler.handler``.
"""

from __future__ import annotations

import os
import time

time.sleep(float(os.environ.get("FAULT_SLOW_INIT_S", "5")))

from lambda_ui.function.handler import handler  # noqa: E402

__all__ = ["handler"]
