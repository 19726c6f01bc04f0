"""Echo the event with the facts a test checks about its environment."""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

_STARTED = time.time()


def handler(event: Any, context: Any) -> dict[str, Any]:
    client_context = getattr(context, "client_context", None)
    return {
        "event": event,
        "pid": os.getpid(),
        "request_id": context.aws_request_id,
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "client_context": getattr(client_context, "custom", None) if client_context else None,
        "env": {k: v for k, v in os.environ.items() if not k.startswith("AWS_SECRET") and k != "AWS_SESSION_TOKEN"},
        "cwd": os.getcwd(),
        "tmp": tempfile.gettempdir(),
        "tmp_entries": sorted(os.listdir(tempfile.gettempdir())),
        "tmp_total_mb": os.statvfs(tempfile.gettempdir()).f_blocks * os.statvfs(tempfile.gettempdir()).f_frsize // (1 << 20),
        "started": _STARTED,
    }
