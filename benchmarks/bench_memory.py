"""Memory: resident set size of a client process after 100k and after 1M messages.

A fresh ``spawn`` process (so nothing the other benchmarks allocated is counted) runs
the asyncio binding with the machine of :mod:`benchmarks._machine` against the
loopback server's book stream, decode included, consuming every event and dropping it
at once, and reads its own RSS (psutil, else ``/proc/self/statm``) at the first book
message, after 100k and after 1M.  The growth from 100k to 1M is what a leak (an
unbounded cache, a queue that never drains, a per-message reference kept somewhere)
would show; the bounded event queue (10k events) fills and drains many times over
in the first 100k, so its high-water mark is already in the 100k figure.
``--quick`` uses 10k and 100k.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection

from ._server import BlastServer
from ._timing import Result

__all__ = ["run"]

GROUP = "memory: client process RSS, asyncio binding, decode included"


def _child(conn: Connection, url: str, marks: list[int]) -> None:
    import asyncio

    from tradewire.bindings import asyncio as aio

    from ._machine import is_book_event, make_machine, subscribe_command
    from ._messages import BOOK
    from ._timing import rss_bytes

    async def main() -> list[int]:
        samples = []
        wanted = [1, *marks]
        got = 0
        async with asyncio.timeout(60.0 + marks[-1] / 5_000):
            stack = {"ping_interval": None, "close_timeout": 2.0, "reconnect": False}
            machine = make_machine()[0]
            async with aio.connect(url, machine, **stack) as client:
                await client.send(subscribe_command(machine, [BOOK]))
                async for event in client:
                    if is_book_event(event):
                        got += 1
                        if got == wanted[len(samples)]:
                            samples.append(rss_bytes())
                            if len(samples) == len(wanted):
                                break
        return samples

    try:
        conn.send(asyncio.run(main()))
    except Exception as exc:
        conn.send(f"{type(exc).__name__}: {exc}")


def _measure(marks: tuple[int, int]) -> list[int] | str:
    context = multiprocessing.get_context("spawn")
    parent, child_end = context.Pipe()
    with BlastServer() as server:
        server.expect(marks[1])
        process = context.Process(target=_child, args=(child_end, server.url, list(marks)))
        process.start()
        answer = parent.recv() if parent.poll(120.0 + marks[1] / 5_000) else "timed out"
        process.join(10.0)
        if process.is_alive():
            process.terminate()
            process.join(5.0)
        server.report(10.0)
    return answer  # type: ignore[no-any-return]


def run(marks: tuple[int, int], repeats: int) -> tuple[list[Result], Result]:
    """RSS at the first message and at both marks, and the growth between the marks;
    one fresh client process per repeat."""
    low, high = marks
    rows = [
        Result(GROUP, "RSS at the first book message", "MB"),
        Result(GROUP, f"RSS after {low:,} messages", "MB"),
        Result(GROUP, f"RSS after {high:,} messages", "MB"),
        Result(GROUP, f"growth from {low:,} to {high:,} messages", "MB"),
    ]
    for _ in range(repeats):
        answer = _measure(marks)
        if isinstance(answer, list):
            first, at_low, at_high = answer
            values = (first, at_low, at_high, at_high - at_low)
            for row, value in zip(rows, values, strict=True):
                row.samples.append(float(value))
        else:
            for row in rows:
                row.note = f"(failed: {answer})"[:60]
    return rows, rows[-1]
