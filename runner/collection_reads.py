"""Files the suite reads while pytest collects it: data a test module needs at import.

pytest-bdd reads its ``.feature`` files when a test module calls ``scenarios()``;
a parametrized test reads its cases from a CSV or JSON file. The function's
pytest reads them again, so they belong in the bundle like the test files do.
An audit hook (PEP 578) sees every ``open`` without touching the suite's code.
Audit hooks cannot be removed: this one is installed once per process and
records only while a :class:`Reads` is active, which is cheap otherwise.
"""

from __future__ import annotations

import os
import sys

#: An open with any of these flags writes, creates or lists: not a file the suite reads.
_NOT_A_READ = os.O_WRONLY | os.O_RDWR | os.O_CREAT | getattr(os, "O_DIRECTORY", 0)

_active: Reads | None = None
_installed = False


class Reads:
    """The files below ``root`` opened for reading between :meth:`start` and :meth:`stop`."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.join(os.path.abspath(root), "")
        self.paths: set[str] = set()

    def start(self) -> None:
        global _active, _installed
        if not _installed:
            sys.addaudithook(_on_audit_event)
            _installed = True
        _active = self

    def stop(self) -> None:
        global _active
        if _active is self:
            _active = None


def _on_audit_event(event: str, args: tuple[object, ...]) -> None:
    reads = _active
    if reads is None or event != "open":
        return
    try:  # an exception here would fail the suite's own open()
        path, _mode, flags = args
        if not isinstance(flags, int) or flags & _NOT_A_READ or isinstance(path, int):
            return
        full = os.path.abspath(os.fsdecode(path))  # type: ignore[arg-type]  # str, bytes or PathLike; anything else raises
        if full.startswith(reads.root):
            reads.paths.add(full)
    except Exception:  # the suite's open() goes on as without us
        pass
