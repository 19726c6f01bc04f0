"""Files tests wrote below the rootdir in Lambda, put back where a local run leaves them.

A conftest that saves ``screenshots/<test>.png`` on failure, a test that writes
``out/report.json``: locally those land in the developer's tree and CI archives them.
The function uploads what each test added or changed in its working directory
(lambda_pkg/written_files.py) and names each file in its answer; here the ones the ini
``lambda_return_files`` globs match are fetched in the background, while the run goes on,
into the same rootdir-relative path. The others stay in S3, linked on their test.

An answer is input from outside the process: a file is written only when its key is
one of this run's written-file keys and ends in its path, the path is plain (no ``..``,
no folder or file whose name starts with a dot, no backslash), it is not a file the
bundle shipped (a test's output never replaces the suite's source), and no link or
non-folder stands on the way: nothing lands outside the rootdir or through a link.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections import Counter
from collections.abc import Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from lambda_ui.contract import MAX_WRITTEN_FILE_BYTES as MAX_FILE_BYTES
from lambda_ui.contract import WRITTEN_FOLDER, is_plain_relative
from lambda_ui.runner.aws import s3
from lambda_ui.runner.bundle import matches
from lambda_ui.runner.terminal import listed


def plain_path(path: object) -> str | None:
    """``path`` when it is a plain rootdir-relative path this module may write (the contract's
    plain path, with no hidden segment and none longer than a file name), else None."""
    if not isinstance(path, str) or not is_plain_relative(path):
        return None
    return path if all(not part.startswith(".") and len(part) <= 255 for part in path.split("/")) else None


class ReturnedFiles:
    def __init__(self, client: Any, location: s3.S3Location, run_id: str, root: Path, patterns: Sequence[str], bundled: Collection[str]) -> None:
        self._client = client
        self._location = location
        self._prefix = location.key(run_id, WRITTEN_FOLDER) + "/"
        self.root = root
        self.patterns = tuple(patterns)
        self._bundled = frozenset(bundled)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lambda-ui-written")
        self._pending: list[Future[str | None]] = []
        #: The latest answer's number per path: an earlier attempt fetched late never overwrites a later one.
        self._latest: dict[str, int] = {}
        self._lock = threading.Lock()
        # A returned file gets the mode a test's open() would give it (mkstemp makes it 0600).
        umask = os.umask(0o022)
        os.umask(umask)
        self._mode = 0o666 & ~umask
        self._answers = 0
        self.stayed: set[str] = set()
        self.refused: list[str] = []
        self.problems: list[str] = []
        self.returned: set[str] = set()

    def fetch(self, entries: object) -> None:
        """Start fetching the files an answer names (``written_files``) that the globs match."""
        self._answers += 1
        for entry in entries if isinstance(entries, list) else []:
            given = entry.get("path") if isinstance(entry, dict) else None
            path = plain_path(given)
            key = entry.get("key") if isinstance(entry, dict) else None
            if path is None:
                self.refused.append(f"{str(given if given is not None else entry)[:200]!r}: not a plain path below the rootdir (no '..', no hidden folder or file, no backslash), not written")
            elif not isinstance(key, str) or not key.startswith(self._prefix) or not key.endswith("/" + path):
                self.refused.append(f"{path}: {str(key)[:200]!r} is not one of this run's written files, not written")
            elif path in self._bundled:
                self.refused.append(f"{path}: the bundle shipped it, a test's output does not replace it")
            elif not any(matches(path, pattern) for pattern in self.patterns):
                self.stayed.add(path)
            else:
                self._latest[path] = self._answers
                self._pending.append(self._pool.submit(self._get, key, path, self._answers))

    def _get(self, key: str, path: str, number: int) -> str | None:
        try:
            answer = self._client.get_object(Bucket=self._location.bucket, Key=key)
            body = answer["Body"].read(MAX_FILE_BYTES + 1)
            if len(body) > MAX_FILE_BYTES:
                raise ValueError(f"larger than {MAX_FILE_BYTES:,} bytes")
            with self._lock:  # one writer at a time: the latest answer's file is the one that stays
                if self._latest.get(path) == number:
                    self._write(path, body)
                    self.returned.add(path)
            return path
        except Exception as exc:  # one lost file is a line in the summary, never a failed run
            self.problems.append(f"{path}: {exc if isinstance(exc, (OSError, ValueError)) else s3.describe_error(exc, self._location.bucket, self._client)}")
            return None

    def _write(self, path: str, body: bytes) -> None:
        """``body`` at ``root/path``, made folder by folder without following a link."""
        *folders, name = path.split("/")
        here = self.root
        for folder in folders:
            here = here / folder
            try:
                mode = os.lstat(here).st_mode
            except FileNotFoundError:
                here.mkdir()
                continue
            if not stat.S_ISDIR(mode):
                raise OSError(f"{here} is a link or a file, not a folder: not written")
        target = here / name
        try:
            if not stat.S_ISREG(os.lstat(target).st_mode):
                raise OSError(f"{target} is a link or not a regular file: not replaced")
        except FileNotFoundError:
            pass
        fd, part = tempfile.mkstemp(dir=here, prefix=".lambda-ui-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(body)
                os.fchmod(out.fileno(), self._mode)
            os.replace(part, target)  # rename replaces a name, never writes through one
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise

    def finish(self) -> None:
        """Wait for every fetch started."""
        wait(self._pending)
        self._pool.shutdown()

    def summary(self) -> tuple[list[str], list[str]]:
        """What came back; and what stayed in S3 and why, and what went wrong."""
        back = [f"lambda: {len(self.returned)} file(s) the tests wrote in Lambda are back in {self.root}: {_folders(self.returned)}"] if self.returned else []
        lines = []
        if self.stayed:
            lines.append(
                f"lambda: {len(self.stayed)} file(s) the tests wrote in Lambda stay in S3, linked on their tests ({listed(sorted(self.stayed))}): "
                "name them in the ini lambda_return_files to have them here"
            )
        trouble = self.refused + self.problems
        lines += [f"lambda: written file {line}" for line in trouble[:10]]
        if len(trouble) > 10:
            lines.append(f"lambda: ... and {len(trouble) - 10} more written-file problem(s)")
        return back, lines


def _folders(paths: set[str]) -> str:
    """``screenshots/ (5), out/ (2), notes.txt``: where the returned files went."""
    counts = Counter(p.split("/")[0] + ("/" if "/" in p else "") for p in paths)
    return ", ".join(f"{top} ({n})" if top.endswith("/") else top for top, n in counts.most_common(6))
