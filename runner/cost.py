"""What Lambda bills for a run: GB-seconds from each answer's REPORT line, plus a price per request."""

from __future__ import annotations

from collections.abc import Mapping

#: Lambda's public price per request (on top of GB-seconds).
PRICE_PER_REQUEST = 0.0000002


def billed_gb_s(report_line: Mapping[str, float], memory_mb: int) -> float:
    """GB-seconds of one invocation; 0 when its REPORT line was not seen.

    The line's own memory size wins over the function's: it is what was billed.
    """
    billed_ms = report_line.get("billed_ms")
    if not billed_ms:
        return 0.0
    return billed_ms / 1000 * report_line.get("memory_mb", memory_mb) / 1024


def invocation_cost(gb_s: float, price_per_gb_s: float) -> float:
    return gb_s * price_per_gb_s + PRICE_PER_REQUEST


def run_cost(gb_s: float, invocations: int, price_per_gb_s: float) -> float:
    return gb_s * price_per_gb_s + invocations * PRICE_PER_REQUEST
