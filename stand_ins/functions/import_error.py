"""A handler module whose import fails: the function's init phase errors."""

from __future__ import annotations

import this_module_does_not_exist  # noqa: F401


def handler(event: object, context: object) -> None:
    pass
