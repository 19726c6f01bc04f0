"""pytest's log file under ``--lambda``: every test's records, as a local run writes them.

The client's pytest opens the file (``log_file`` in the ini, or ``--log-file``) as it does
locally, and its own records go there. The tests' records are written in the function
(lambda_pkg/log_text.py) and come back with each answer; they are written here through
the client's own handler, in the order the answers arrive, so no second writer races it.
"""

from __future__ import annotations

import logging
import os

import pytest

from lambda_ui.contract import MAX_LOG_TEXT_BYTES


def log_file_handler(config: pytest.Config) -> logging.FileHandler | None:
    """The handler of pytest's log file, or None when the run writes none (pytest then
    points it at the null device)."""
    handler = getattr(config.pluginmanager.get_plugin("logging-plugin"), "log_file_handler", None)
    if not isinstance(handler, logging.FileHandler) or handler.baseFilename == os.path.abspath(os.devnull):
        return None
    return handler


class LogFileText:
    """Writes the log file text of each answer into the client's log file."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config

    @property
    def _handler(self) -> logging.FileHandler | None:
        # Looked up when used: pytest registers its logging plugin last among configure hooks.
        return log_file_handler(self._config)

    @property
    def wanted(self) -> bool:
        """Ask the function for its tests' records (``RunEvent.log_file``)."""
        return self._handler is not None

    def write(self, text: object) -> None:
        """Append one answer's text (``RunResponse.log_text``); anything else is ignored."""
        handler = self._handler
        if handler is None or not isinstance(text, str) or not text:
            return
        # An answer is outside input: bounded, and lone surrogates (JSON allows them) made
        # writable instead of raising in the middle of a run.
        text = text[:MAX_LOG_TEXT_BYTES].encode("utf-8", "replace").decode("utf-8")
        if not text.endswith("\n"):
            text += "\n"
        handler.acquire()
        try:
            if handler.stream is not None:
                handler.stream.write(text)
                handler.flush()
        finally:
            handler.release()
