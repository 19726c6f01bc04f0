"""The function's private log file: each test's new text once, a new file per session."""

from __future__ import annotations

from pathlib import Path

from lambda_ui.contract import MAX_LOG_TEXT_BYTES
from lambda_ui.function.log_text import SessionLog


def _file(argument: str) -> Path:
    return Path(argument.removeprefix("--log-file="))


def test_each_take_hands_back_only_what_was_added_since(tmp_path: Path) -> None:
    log = SessionLog(tmp_path)
    path = _file(log.argument("run-1", new_session=True))
    assert log.take() == ("", [])  # pytest has not opened it yet
    path.write_text("INFO session set up\nINFO first\n")
    assert log.take() == ("INFO session set up\nINFO first\n", [])
    with path.open("a") as file:
        file.write("INFO second\n")
    assert _file(log.argument("run-1", new_session=False)) == path  # the warm session goes on
    assert log.take() == ("INFO second\n", [])
    assert log.take() == ("", [])


def test_a_new_session_starts_a_new_empty_file(tmp_path: Path) -> None:
    # With log_file_mode = a in the ini, pytest would append to the last session's file.
    log = SessionLog(tmp_path)
    first = _file(log.argument("run-1", new_session=True))
    first.write_text("INFO old session\n")
    assert log.take() == ("INFO old session\n", [])
    second = _file(log.argument("run-1", new_session=True))
    assert second != first and not second.exists() and not first.exists()
    second.write_text("INFO new session\n")
    assert log.take() == ("INFO new session\n", [])


def test_more_than_the_limit_in_one_test_is_cut_at_a_line_and_said(tmp_path: Path) -> None:
    log = SessionLog(tmp_path)
    path = _file(log.argument("run-1", new_session=True))
    line = "INFO " + "x" * 1018 + "\n"  # 1 KiB a line
    path.write_text(line * (MAX_LOG_TEXT_BYTES // len(line) + 5))
    text, notes = log.take()
    assert text.endswith("\n") and len(text.encode()) <= MAX_LOG_TEXT_BYTES and text.count("\n") == MAX_LOG_TEXT_BYTES // len(line)
    assert len(notes) == 1 and "bytes of this test's log file records stayed in the function" in notes[0]
    with path.open("a") as file:
        file.write("INFO next test\n")
    assert log.take() == ("INFO next test\n", [])  # the rest of the cut test's text is not sent later
