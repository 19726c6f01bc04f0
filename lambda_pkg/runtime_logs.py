"""The runtime's log handler stays out of the tests' captured output.

awslambdaric puts a handler on the root logger before the function is imported, writing
each record to stdout (or Lambda's telemetry pipe). pytest captures a test's log records
for its report, as in a local run; with the runtime's handler also on the root logger,
each record came back a second time, in the test's captured stdout, where a local run
has none. The handlers present at import are the runtime's: they are taken off while
pytest runs and put back afterwards. Handlers a suite adds (``logging.basicConfig`` in a
conftest) are left alone.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator


class RuntimeLogHandlers:
    def __init__(self) -> None:
        #: Taken at the function's import (the init phase), before any suite code ran.
        self.handlers = list(logging.getLogger().handlers)

    @contextlib.contextmanager
    def detached(self) -> Iterator[None]:
        root = logging.getLogger()
        for handler in self.handlers:
            root.removeHandler(handler)
        try:
            yield
        finally:
            for handler in self.handlers:
                if handler not in root.handlers:
                    root.addHandler(handler)
