"""Start the Trailhead Supply demo app in a background thread, or run it from the shell.

python examples/app/server.py [--host 127.0.0.1] [--port 8000]
"""

from __future__ import annotations

import argparse
import sys
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

if __name__ == "__main__" and not __package__:
    # Run as a file, not with -m: make the package importable so the relative
    # imports below resolve (PEP 366).
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "app"  # PEP 366 needs exactly this name

from .routes import Handler  # must follow the PEP 366 set-up


class AppServer(ThreadingHTTPServer):
    """A threaded server, so one slow request never blocks the others."""

    # Request threads must not keep the process (or a test session) alive.
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], quiet: bool) -> None:
        super().__init__(address, Handler)
        self.quiet = quiet

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        # A browser that navigates away mid-response resets the socket; that is normal.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass
class RunningApp:
    """A started app: `url` is its base address, `stop()` shuts it down."""

    server: AppServer
    thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        host, port = self.server.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> RunningApp:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_app(host: str = "127.0.0.1", port: int = 0, quiet: bool = True) -> RunningApp:
    """Serve the app from a daemon thread; port 0 picks a free port.

    The socket is bound and listening before this returns, so the URL is
    usable at once.
    """
    server = AppServer((host, port), quiet=quiet)
    # A short poll interval keeps stop() quick at the end of a test session.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.1},
        name=f"trailhead-app-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return RunningApp(server=server, thread=thread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Trailhead Supply demo app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    args = parser.parse_args(argv)
    app = start_app(args.host, args.port, quiet=False)
    print(f"Trailhead Supply is running at {app.url}/ (Ctrl-C to stop)", flush=True)
    try:
        app.thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
