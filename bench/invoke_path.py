"""Loop time per Invoke: what one invocation costs the thread that sends the next test.

    python bench/invoke_path.py [--invocations 20000] [--concurrency 100] [--rounds 3] [--tls]
    python bench/invoke_path.py --parse-only [--invocations 20000] [--rounds 3]

Runs the client's Invoke path (runner/aws/lambda_async.py: build the request,
sign it, send it, read and interpret the answer) against the stand-in in its
own process, with invocations that take no time, and prints the CPU the
asyncio loop's thread spent per invocation: first on fresh connections (one
per slot: what the ramp at the start of a run pays, TLS handshakes with
``--tls``), then on the kept-alive ones. Every microsecond here delays the
next test of a slot when a wave of answers arrives together (bench/fanout.py,
bench/dispatch_model.py).

``--parse-only`` times the answer's reading alone (runner/aws/http1.py's
protocol fed a Lambda-shaped answer in two reads, no socket): the part of the
path the HTTP parser owns, steadier than the whole path on a busy machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lambda_ui.runner.aws import http1  # noqa: E402
from lambda_ui.runner.aws.lambda_async import AsyncInvoker  # noqa: E402
from stand_ins.fake_invoke_api import start_in_process  # noqa: E402
from stand_ins.services import AWS_TEST_ENV, free_port  # noqa: E402
from stand_ins.tls import self_signed  # noqa: E402


def event(i: int) -> dict[str, object]:
    """An event of the size the client sends (runner/session.py, ``_event``)."""
    return {
        "version": 1, "kind": "run", "run_id": "bench-run", "attempt": 1,
        "nodeids": [f"tests/test_fanout.py::test_ui[sleepms0_{i}]"],
        "bundle": {"bucket": "fanout", "key": "bundles/" + "0" * 64 + ".zip", "sha256": "0" * 64},
        "pytest_args": ["-p", "no:cacheprovider"],
        "artifacts": {"bucket": "fanout", "prefix": "runs/bench-run"},
    }


async def invoke_all(invocations: int, concurrency: int) -> tuple[float, float, float, dict[str, int]]:
    """Loop CPU of the first ``concurrency`` invocations (fresh connections), then CPU and wall of ``invocations`` more."""
    invoker = AsyncInvoker("us-east-1", "ui-tests", read_timeout_s=60)
    kinds: dict[str, int] = {}

    async def run(numbers: Iterator[int]) -> None:
        for i in numbers:
            outcome = await invoker.invoke(event(i))
            kinds[outcome.kind] = kinds.get(outcome.kind, 0) + 1

    fresh = iter(range(concurrency))
    cpu = time.thread_time()
    await asyncio.gather(*(run(fresh) for _ in range(concurrency)))
    fresh_cpu = time.thread_time() - cpu
    kept = iter(range(invocations))
    cpu, wall = time.thread_time(), time.monotonic()
    await asyncio.gather(*(run(kept) for _ in range(concurrency)))
    cpu, wall = time.thread_time() - cpu, time.monotonic() - wall
    await invoker.aclose()
    return fresh_cpu, cpu, wall, kinds


#: An Invoke answer as Lambda sends it: a 4 KiB ``Tail`` log, a 2 KiB JSON result, head and body in separate reads.
LAMBDA_ANSWER = (
    b"HTTP/1.1 200 OK\r\nDate: Fri, 27 Nov 2026 20:29:00 GMT\r\nContent-Type: application/json\r\n"
    b"Content-Length: 2048\r\nConnection: keep-alive\r\nx-amzn-RequestId: 0f5e2a4c-8d1b-4b7e-9a55-3c2d1e0f9a88\r\n"
    b"X-Amz-Log-Result: " + b"A" * 4096 + b"\r\nX-Amz-Executed-Version: $LATEST\r\n"
    b"X-Amzn-Trace-Id: Root=1-6747c0ac-2b3c4d5e6f7a8b9c0d1e2f3a;Sampled=0;Lineage=1:abcd1234:0\r\n\r\n",
    b'{"reports": "' + b"x" * 2033 + b'"}',
)


class _QuietTransport(asyncio.Transport):
    """Takes the request and drops it: the answer is fed by hand."""

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pass

    def is_closing(self) -> bool:
        return False


async def parse_answers(answers: int) -> float:
    """Loop-thread CPU per answer read by the client's protocol (send, two reads, the result)."""
    connection = http1._Connection()
    connection.connection_made(_QuietTransport())
    head, body = LAMBDA_ANSWER
    cpu = time.thread_time()
    for _ in range(answers):
        answer = connection.send(b"")
        connection.data_received(head)
        connection.data_received(body)
        assert len(answer.result().body) == 2048 and connection.usable()
    return (time.thread_time() - cpu) / answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invocations", type=int, default=20000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tls", action="store_true", help="HTTPS with a self-signed certificate (trusted through AWS_CA_BUNDLE)")
    parser.add_argument("--parse-only", action="store_true", help="time reading the answer alone, without a server")
    args = parser.parse_args()
    if args.parse_only:
        for round_ in range(1, args.rounds + 1):
            print(f"round {round_}: loop thread CPU to read one answer: {asyncio.run(parse_answers(args.invocations)) * 1e6:.1f} µs")
        return 0
    os.environ.update(AWS_TEST_ENV)
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="invoke-path-"))
    if args.tls:
        ca, _context = self_signed(folder)
        os.environ["AWS_CA_BUNDLE"] = str(ca)
    server = start_in_process(port, timeout_s=60, tls_folder=folder if args.tls else None)
    os.environ["AWS_ENDPOINT_URL_LAMBDA"] = f"{'https' if args.tls else 'http'}://127.0.0.1:{port}"
    try:
        print(f"{args.invocations} invocations of 0 ms over {'HTTPS' if args.tls else 'HTTP'}, {args.concurrency} in flight, the stand-in in its own process")
        for round_ in range(1, args.rounds + 1):
            fresh_cpu, cpu, wall, kinds = asyncio.run(invoke_all(args.invocations, args.concurrency))
            if kinds != {"ok": args.invocations + args.concurrency}:
                print(f"unexpected outcomes: {kinds}")
                return 1
            print(f"round {round_}: loop thread CPU per invocation: {fresh_cpu / args.concurrency * 1e6:.0f} µs on a fresh connection, "
                  f"{cpu / args.invocations * 1e6:.0f} µs kept alive; {args.invocations / wall:.0f} invocations/s kept alive (the stand-in shares the cores)")
    finally:
        server.kill()
        server.wait()
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
