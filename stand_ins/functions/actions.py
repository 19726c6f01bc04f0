"""One handler, many behaviours, chosen by the event's ``action``.

echo (the event back), sleep (seconds), raise (message), exit (code, via os._exit), sigkill
(itself), allocate (mb, hold seconds), huge (bytes of response), print (lines), spawn (a
detached child that outlives its parent unless the platform kills it, then sleep),
interval (sleep and report when it ran, for concurrency checks), write_file (path, text),
bind_and_write (hold a port and /tmp/x, see what else is reachable), s3 (put and get
objects with boto3, from several threads at once).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def handler(event: dict[str, Any], context: Any) -> Any:
    action = event.get("action")
    if action == "echo":
        return event
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
    if action == "bind_and_write":
        return _bind_and_write(event)
    if action == "s3":
        return _s3_round_trips(event)
    return {"unknown_action": action}


def _reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


def _bind_and_write(event: dict[str, Any]) -> dict[str, Any]:
    """Bind 127.0.0.1:<port> and write /tmp/x, hold both a while, then report what is seen."""
    existed = os.path.exists("/tmp/x")
    with socket.socket() as server:
        server.bind(("127.0.0.1", int(event["port"])))
        server.listen()
        with open("/tmp/x", "w") as out:
            out.write(event["text"])
        time.sleep(float(event.get("hold", 0.5)))
        with open("/tmp/x") as back:
            seen = back.read()
        own = _reachable(int(event["port"]))
    return {
        "existed_before": existed,
        "read_back": seen,
        "own_port_reachable": own,
        "host_port_reachable": _reachable(int(event["host_port"])),
    }


def _s3_round_trips(event: dict[str, Any]) -> dict[str, Any]:
    """Put and get ``count`` objects with boto3 (endpoint from AWS_ENDPOINT_URL_S3)."""
    import boto3  # only this action needs them
    from botocore.config import Config

    count = int(event.get("count", 1))
    client = boto3.client("s3", config=Config(max_pool_connections=count))  # one connection per thread
    bucket, prefix = event["bucket"], event["prefix"]

    def round_trip(number: int) -> bool:
        body = f"object {number} from pid {os.getpid()}".encode()
        client.put_object(Bucket=bucket, Key=f"{prefix}/{number}", Body=body)
        return bool(client.get_object(Bucket=bucket, Key=f"{prefix}/{number}")["Body"].read() == body)

    with ThreadPoolExecutor(max_workers=count) as pool:
        matched = sum(pool.map(round_trip, range(count)))
    return {"matched": matched, "endpoint": os.environ.get("AWS_ENDPOINT_URL_S3")}
