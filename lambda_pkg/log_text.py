"""pytest's log file in the function, handed back one test's records at a time.

A suite with ``log_file`` in its ini (or ``--log-file`` typed on the client) gets one file
with every test's records locally. Under ``--lambda`` each environment's pytest would write
its own copy of that file in the bundle, and the file that came back was whichever
environment's finished last. With ``RunEvent.log_file`` each session here writes to a
private file instead (``--log-file``, which wins over the ini's), formatted by the suite's
own ``log_file_format`` at its ``log_file_level``; after each test the text it added goes
back in the answer (``RunResponse.log_text``), and the client writes it into its own log
file (runner/log_file.py).
"""

from __future__ import annotations

from pathlib import Path

from lambda_ui.contract import MAX_LOG_TEXT_BYTES
from lambda_ui.function.health import run_folder


class SessionLog:
    """This environment's private log files, one per pytest session, and how much of the
    current one has been handed back."""

    def __init__(self, tmp: Path) -> None:
        self._root = tmp / "lambda-ui" / "log-file"
        self._path: Path | None = None
        self._sessions = 0
        self._sent = 0

    def argument(self, run_id: str, new_session: bool) -> str:
        """The ``--log-file`` of this invocation's session: a new, empty file when the session
        starts now (pytest opens it then; an ini's ``log_file_mode = a`` would otherwise append
        to an earlier session's records, handed back already)."""
        if new_session or self._path is None:
            if self._path is not None:
                self._path.unlink(missing_ok=True)  # handed back already; per-test sessions would pile them up
            self._sessions += 1
            self._path = run_folder(self._root, run_id) / f"session-{self._sessions}.log"
            self._path.unlink(missing_ok=True)
            self._sent = 0
        return f"--log-file={self._path}"

    def take(self) -> tuple[str, list[str]]:
        """The text the session wrote since the last call, and a note when some was left out."""
        if self._path is None:
            return "", []
        try:
            with open(self._path, "rb") as file:
                file.seek(self._sent)
                data = file.read(MAX_LOG_TEXT_BYTES + 1)
                end = file.seek(0, 2)
        except FileNotFoundError:
            return "", []
        notes: list[str] = []
        if len(data) > MAX_LOG_TEXT_BYTES:
            data = data[:MAX_LOG_TEXT_BYTES]
            cut = data.rfind(b"\n") + 1  # whole lines only
            data = data[:cut] if cut else data
            notes.append(
                f"{end - self._sent - len(data)} bytes of this test's log file records stayed in the function "
                f"(more than {MAX_LOG_TEXT_BYTES // (1024 * 1024)} MiB in one test)"
            )
        self._sent = end
        return data.decode("utf-8", errors="replace"), notes
