"""Number parsers for argparse/pytest options: one clear message for a bad value."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def _number(convert: Callable[[str], float], what: str, minimum: float, inclusive: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if value < minimum or (value == minimum and not inclusive):
            bound = f"at least {minimum:g}" if inclusive else f"more than {minimum:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


positive_int: Callable[[str], int] = _number(int, "a whole number", 1, inclusive=True)  # type: ignore[assignment]
non_negative_int: Callable[[str], int] = _number(int, "a whole number", 0, inclusive=True)  # type: ignore[assignment]
positive_float: Callable[[str], float] = _number(float, "a number", 0, inclusive=False)
