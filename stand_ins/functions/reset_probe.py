"""A handler for the local Lambda's reset tests: it leaves a file in its environment's temp
directory, reads it back, and times out or exits on request.

Events: ``{"action": "write", "name": ..., "text": ...}``, ``{"action": "read", "name": ...}``
(``text`` is None when the file is not there), ``{"action": "sleep", "seconds": ...}``,
``{"action": "exit", "code": ...}``. Every answer names the runtime's pid and temp directory.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tmp = Path(tempfile.gettempdir())
    answer: dict[str, Any] = {"pid": os.getpid(), "tmp": str(tmp), "execution_env": os.environ.get("AWS_EXECUTION_ENV")}
    action = event.get("action")
    if action == "write":
        (tmp / event["name"]).write_text(event["text"])
    elif action == "read":
        path = tmp / event["name"]
        answer["text"] = path.read_text() if path.exists() else None
    elif action == "sleep":
        time.sleep(float(event["seconds"]))
    elif action == "exit":
        os._exit(int(event.get("code", 1)))
    return answer
