"""Where artifact files go: a local folder, or S3 streamed in the background.

A sink takes a relative path (``<run-id>/<test path>/<name>``) and bytes, and
returns the location a report links to. Writing never raises into a test:
problems are handed to the ``on_error`` callback, which turns them into a
warning on the test that produced the file.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from lambda_ui.runner.aws.s3 import S3Location

ErrorCallback = Callable[[str], None]


class SinkProblem(Exception):
    """The destination is unusable; the message says what to do."""


class ArtifactSink(Protocol):
    def check(self) -> None:
        """Raise :class:`SinkProblem` if artifacts cannot be written at all."""

    def put(self, relpath: str, data: bytes, content_type: str, on_error: ErrorCallback) -> str:
        """Store one file and return where a report should link to."""

    def flush(self, timeout: float) -> list[str]:
        """Wait for files still being written; return one message per file not stored in time."""

    def run_location(self, run_id: str) -> str:
        """Where a person finds this run's files."""

    def close(self) -> None: ...


class LocalSink:
    """Files under a folder; links are relative to the directory pytest was started in."""

    def __init__(self, root: str | os.PathLike[str], invocation_dir: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.invocation_dir = Path(invocation_dir)
        if not self.root.is_absolute():
            self.root = self.invocation_dir / self.root

    def check(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".write-check-"):
                pass
        except OSError as exc:
            raise SinkProblem(
                f"cannot write artifacts to {str(self.root)!r}: {exc.strerror or exc}. "
                "Choose a writable folder with --artifacts DIR (or the ini option artifacts)."
            ) from None

    def _link(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.invocation_dir))
        except ValueError:
            return str(path)

    def put(self, relpath: str, data: bytes, content_type: str, on_error: ErrorCallback) -> str:
        path = self.root / relpath
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)  # a reader never sees half a screenshot
        except OSError as exc:
            on_error(f"could not write {path}: {exc.strerror or exc}")
        return self._link(path)

    def flush(self, timeout: float) -> list[str]:
        return []

    def run_location(self, run_id: str) -> str:
        return self._link(self.root / run_id) + os.sep

    def close(self) -> None:
        pass


class S3Sink:
    """Uploads each file as soon as it is created, on background threads.

    A test that later hangs or dies still has its earlier screenshots in S3.
    ``flush`` is called before a test's report is final.

    Its methods import the S3 adapter themselves: a run that writes to a folder
    never loads the AWS side of the plugin.
    """

    def __init__(self, location: S3Location, client: S3Client | None = None, workers: int = 4) -> None:
        self.location = location
        self._client = client
        self._workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="artifact-upload")
        self._pending: set[Future[None]] = set()
        # Reentrant, as the recorder's: a deadline capture may interrupt flush() on the main thread.
        self._lock = threading.RLock()
        self._client_lock = threading.Lock()

    @property
    def client(self) -> S3Client:
        # The first failure's captures ask from several upload threads at once (an xdist worker
        # never checked the bucket), and boto3's default session is not safe across threads.
        with self._client_lock:
            if self._client is None:
                from lambda_ui.runner.aws import s3

                self._client = s3.make_client(max_pool_connections=self._workers + 2)
            return self._client

    def check(self) -> None:
        from lambda_ui.runner.aws import s3

        try:
            s3.check_bucket(self.location, self.client)
        except s3.S3Problem as exc:
            raise SinkProblem(f"artifacts destination {self.location.url(self.location.prefix)}: {exc}") from None

    def put(self, relpath: str, data: bytes, content_type: str, on_error: ErrorCallback) -> str:
        from lambda_ui.runner.aws import s3

        key = self.location.key(relpath)

        def upload() -> None:
            try:
                s3.put_bytes(self.client, self.location, key, data, content_type)
            except Exception as exc:  # making the client too: a future's exception is never read
                on_error(f"upload of {self.location.url(key)} failed: {exc}")

        future = self._pool.submit(upload)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return self.location.url(key)

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def flush(self, timeout: float) -> list[str]:
        with self._lock:
            pending = set(self._pending)
        if not pending:
            return []
        _done, not_done = wait(pending, timeout=timeout)
        if not_done:
            return [f"{len(not_done)} artifact upload(s) still running after {timeout:.0f} s; they may be missing from S3"]
        return []

    def run_location(self, run_id: str) -> str:
        return self.location.url(self.location.key(run_id)) + "/"

    def close(self) -> None:
        self._pool.shutdown(wait=True)


def make_sink(destination: str, invocation_dir: str | os.PathLike[str]) -> ArtifactSink:
    """``s3://bucket/prefix`` streams to S3; anything else is a local folder."""
    if destination.startswith("s3://"):
        from lambda_ui.runner.aws import s3

        try:
            return S3Sink(s3.S3Location.parse(destination))
        except ValueError as exc:
            raise SinkProblem(f"--artifacts: {exc}") from None
    return LocalSink(destination, invocation_dir)
