"""The lines ``lambda-ui doctor`` prints: one per check, a mark, what was found, what to do.

A check passes (✓), fails (✗), or could not be made (?): the caller lacks a permission,
or the stand-in has nothing to ask. Only a failure changes the exit status: a check that
could not be made says why instead of guessing either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


#: The marks, and plain-text ones for a terminal that cannot print them.
MARKS = {Status.PASS: "✓", Status.FAIL: "✗", Status.SKIP: "?"}
ASCII_MARKS = {Status.PASS: "ok", Status.FAIL: "FAIL", Status.SKIP: "??"}


@dataclass(frozen=True)
class Line:
    """The outcome of one check."""

    status: Status
    topic: str
    found: str
    #: What to do about it (failures and unmade checks); empty when nothing is to be done.
    todo: str = ""

    @classmethod
    def ok(cls, topic: str, found: str) -> Line:
        return cls(Status.PASS, topic, found)

    @classmethod
    def fail(cls, topic: str, found: str, todo: str) -> Line:
        return cls(Status.FAIL, topic, found, todo)

    @classmethod
    def unchecked(cls, topic: str, why: str, todo: str = "") -> Line:
        return cls(Status.SKIP, topic, f"could not check: {why}", todo)


def format_line(line: Line, ascii_only: bool = False) -> str:
    """``✓ topic: found`` or ``✗ topic: found → todo``, on one line whatever the text holds."""
    mark = (ASCII_MARKS if ascii_only else MARKS)[line.status]
    arrow = "->" if ascii_only else "→"
    text = f"{mark} {line.topic}: {line.found}"
    if line.todo:
        text += f" {arrow} {line.todo}"
    return " ".join(text.split())


def can_print_marks(encoding: str | None) -> bool:
    """Whether a stream in ``encoding`` can show ✓, ✗ and →."""
    try:
        "✓✗→".encode(encoding or "ascii")
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def exit_status(lines: Iterable[Line]) -> int:
    """0 when no check failed, else 1."""
    return 1 if any(line.status is Status.FAIL for line in lines) else 0


def summary(lines: Iterable[Line]) -> str:
    """``doctor: 14 passed, 1 failed, 2 not checked``."""
    counts = {status: 0 for status in Status}
    for line in lines:
        counts[line.status] += 1
    parts = [f"{counts[Status.PASS]} passed", f"{counts[Status.FAIL]} failed"]
    if counts[Status.SKIP]:
        parts.append(f"{counts[Status.SKIP]} not checked")
    return "doctor: " + ", ".join(parts)
