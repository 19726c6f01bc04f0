"""One handler, many behaviours, chosen by the event's ``action``.

sleep (seconds), raise (message), exit (code, via os._exit), sigkill (itself), allocate (mb,
hold seconds), huge (bytes of response), print (lines), spawn (a detached child that
outlives its parent unless the platform kills it, then sleep), interval (sleep and report
when it ran, for concurrency checks).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any


def handler(event: dict[str, Any], context: Any) -> Any:
    action = event.get("action")
    if action == "sleep":
        time.sleep(float(event["seconds"]))
        return {"slept": event["seconds"], "pid": os.getpid()}
    if action == "raise":
        raise ValueError(event.get("message", "boom"))
    if action == "exit":
        os._exit(int(event.get("code", 3)))
    if action == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if action == "allocate":
        block = b"\x01" * (int(event["mb"]) << 20)  # touches every page
        time.sleep(float(event.get("hold", 0.5)))
        return {"allocated_mb": len(block) >> 20, "pid": os.getpid()}
    if action == "huge":
        return "x" * int(event["bytes"])
    if action == "print":
        for number in range(int(event["lines"])):
            print(f"line {number} of {event['lines']}")
        return {"printed": event["lines"]}
    if action == "spawn":
        # Like Chrome's crashpad handler: a new session, so not in the runtime's group;
        # with ``detach`` also re-parented away from the runtime (its parent exits).
        sleeper = [sys.executable, "-c", "import time; time.sleep(600)", event["marker"]]
        if event.get("detach"):
            launcher = f"import subprocess; subprocess.Popen({sleeper!r}, start_new_session=True)"
            subprocess.run([sys.executable, "-c", launcher], check=True)
        else:
            subprocess.Popen(sleeper, start_new_session=True)
        time.sleep(float(event.get("seconds", 0)))
        return {"pid": os.getpid(), "tmp": tempfile.gettempdir(), "tmpdir": os.environ.get("TMPDIR")}
    if action == "interval":
        started = time.time()
        time.sleep(float(event["seconds"]))
        return {"start": started, "end": time.time(), "pid": os.getpid()}
    if action == "write_file":
        with open(event["path"], "w") as out:
            out.write(event.get("text", ""))
        return {"written": event["path"]}
    return {"unknown_action": action}
