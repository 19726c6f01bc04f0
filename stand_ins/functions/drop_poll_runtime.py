"""A runtime whose first instance parks in ``/next`` and then drops the connection while it
stays alive: the stand-in must notice the dead poll and run the event elsewhere.

Started in place of ``python -m awslambdaric HANDLER`` (through a wrapper named as the
interpreter). The first instance creates $LLE_DROP_FLAG and misbehaves; later instances exec
the real awslambdaric with $LLE_REAL_PYTHON. The test says when to drop (it creates
``$LLE_DROP_FLAG.go`` once the stand-in counts this environment as parked), and this
runtime says when it has (it creates ``$LLE_DROP_FLAG.dropped``).
"""

from __future__ import annotations

import os
import socket
import sys
import time


def main() -> None:
    flag = os.environ["LLE_DROP_FLAG"]
    try:
        fd = os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        python = os.environ["LLE_REAL_PYTHON"]
        os.execv(python, [python, *sys.argv[1:]])
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
    poll = socket.create_connection((host, int(port)))
    poll.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\n\r\n")
    go = f"{flag}.go"
    deadline = time.monotonic() + 120
    while not os.path.exists(go) and time.monotonic() < deadline:
        time.sleep(0.02)  # the poll interval
    poll.close()  # the connection dies, the process lives on
    open(f"{flag}.dropped", "w").close()
    time.sleep(600)  # alive, as the behaviour under test asks


if __name__ == "__main__":
    main()
