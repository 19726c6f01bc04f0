"""How much wall a serial client adds to a schedule, by simulation.

    python bench/dispatch_model.py [--tests 10000 --concurrency 1000 --min-s 2 --max-s 5]

The model: one client core turns answers around first come, first served; each
dispatch costs ``send`` and each answer ``answer`` of that core; a test runs its
duration plus a round trip (``--latency-ms``: network and service, no client CPU)
between the two. It prints the makespan over the LPT bound for the
fan-out benchmark's durations (bench/fanout.py), longest first and in collection
order, for a range of per-test client costs. It shows what the measured figures
cannot: which part of the excess a faster client would remove, and which part the
order itself causes.
"""

from __future__ import annotations

import argparse
import heapq
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fanout import add_suite_options, durations_for
from lambda_ui.runner.scheduler import lpt_makespan


def makespan(order: list[float], concurrency: int, send_s: float, answer_s: float, latency_s: float = 0.0) -> float:
    client = 0.0  # when the client core is next free
    pending = iter(order)
    answers: list[float] = []  # when each running test's answer arrives
    for duration in pending:
        client += send_s
        heapq.heappush(answers, client + latency_s + duration)
        if len(answers) == concurrency:
            break
    end = 0.0
    while answers:
        client = max(client, heapq.heappop(answers)) + answer_s
        end = client
        following = next(pending, None)
        if following is not None:
            client += send_s
            heapq.heappush(answers, client + latency_s + following)
    return end


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_suite_options(parser, tests=10000, concurrency=1000)
    parser.add_argument("--latency-ms", type=float, nargs="*", default=[0.0, 3.0], help="round trips to model")
    args = parser.parse_args()
    durations = [ms / 1000 for ms in durations_for(args.tests, args.min_s, args.max_s, args.step_ms)]
    bound = lpt_makespan(durations, args.concurrency)
    longest_first = sorted(durations, reverse=True)
    print(f"{args.tests} tests, concurrency {args.concurrency}, {args.min_s:g}-{args.max_s:g} s: LPT bound {bound:.2f} s")
    print("round trip   client cost per test (send + answer)   longest first   collection order")
    for latency_ms in args.latency_ms:
        for send_ms, answer_ms in ((0, 0), (0.05, 0.05), (0.1, 0.1), (0.15, 0.15), (0.2, 0.3), (0.3, 0.4), (0.5, 0.5), (1.0, 1.0)):
            costs = (send_ms / 1000, answer_ms / 1000, latency_ms / 1000)
            lpt = makespan(longest_first, args.concurrency, *costs) - bound
            listed = makespan(durations, args.concurrency, *costs) - bound
            print(f"  {latency_ms:4.1f} ms    {send_ms:4.2f} + {answer_ms:4.2f} ms                       {lpt:+6.2f} s         {listed:+6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
