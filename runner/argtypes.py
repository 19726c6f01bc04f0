"""Value parsers for argparse/pytest options: one clear message for a bad value.

Each parser raises :class:`argparse.ArgumentTypeError`; argparse (and pytest,
which turns it into a usage error, exit 4) prefixes the option's name.
``nan`` and ``inf`` parse as floats but answer no question a number option
asks (every comparison with ``nan`` is false), so they are refused.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from lambda_ui.contract import is_safe_run_id

#: Seconds options stop at a week: a CI job does not run longer, and timers overflow far beyond.
MAX_SECONDS = 7 * 24 * 3600.0
#: A bundle unpacks into the function's /tmp, which Lambda caps at 10,240 MB.
MAX_BUNDLE_MB = 10240.0


def number(
    convert: Callable[[str], float],
    what: str,
    minimum: float,
    inclusive: bool = True,
    maximum: float | None = None,
) -> Callable[[str], float]:
    """A parser for ``what`` (e.g. "a number of seconds") between ``minimum`` and ``maximum``."""

    def parse(text: str) -> float:
        try:
            value = convert(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}, which is not a finite number")
        if value < minimum or (value == minimum and not inclusive):
            bound = f"at least {minimum:g}" if inclusive else f"more than {minimum:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:g}, got {text}")
        return value

    return parse


positive_int: Callable[[str], int] = number(int, "a whole number", 1)  # type: ignore[assignment]
non_negative_int: Callable[[str], int] = number(int, "a whole number", 0)  # type: ignore[assignment]
positive_float: Callable[[str], float] = number(float, "a number", 0, inclusive=False)
positive_seconds: Callable[[str], float] = number(float, "a number of seconds", 0, inclusive=False, maximum=MAX_SECONDS)
bundle_mb: Callable[[str], float] = number(float, "a size in MB", 0, inclusive=False, maximum=MAX_BUNDLE_MB)


def check_run_id(text: str) -> str:
    """A run id names a folder under the artifacts destination: a plain name, never a path."""
    if not is_safe_run_id(text):
        raise argparse.ArgumentTypeError(
            f"expected 1-128 letters, digits, '.', '_' or '-' (a folder name, not '.' or '..'), got {text!r}"
        )
    return text
