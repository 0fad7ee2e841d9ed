"""Memory: resident set size of a client process after 100k and after 1M messages.

A fresh ``spawn`` process (so nothing the other benchmarks allocated is counted) runs
the asyncio binding with the machine of :mod:`benchmarks._machine` against the
loopback server's book stream, decode included, and reads its own RSS (psutil, else
``/proc/self/statm``) at the first book message, after 100k and after 1M.  The growth
from 100k to 1M is what a leak (an unbounded cache, a queue that never drains, a
per-message reference kept somewhere) would show.  ``--quick`` uses 10k and 100k.

Two consumers, each in its own process:

* **keeps up**: iterates the client's events and drops each at once.  The consumer runs
  after every read, so the binding's event queue never holds more than one read's
  events and the backpressure path is not exercised;
* **lags**: the same, but it yields to the event loop after every event (``await
  asyncio.sleep(0)``, a consumer that awaits something per message), so the loop reads
  and decodes a whole read (dozens of messages) per event consumed.  The bounded event
  queue (``max_queued_events``, 10,000 by default) fills, the binding pauses reading
  the socket (TCP pushes back on the server), the consumer drains the queue to its
  low-water mark, reading resumes and a ``Lagging`` event reports the pause, over and
  over.  The rows report how many ``Lagging`` events came and the most events ever
  queued (``client.queued``, sampled at every event), against the bound.  The queue's
  high-water mark is reached within the first 100k messages, so it is in the 100k
  figure; the growth from there to 1M is again what a leak would show.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from ._server import BlastServer
from ._timing import Result

__all__ = ["run"]

GROUP = "memory: client process RSS, asyncio binding, decode included"


def _child(conn: Connection, url: str, marks: list[int], lag: bool) -> None:
    import asyncio

    from tradewire.bindings import DEFAULT_MAX_QUEUED_EVENTS, Lagging
    from tradewire.bindings import asyncio as aio

    from ._machine import is_book_event, make_machine, subscribe_command
    from ._messages import BOOK
    from ._timing import rss_bytes

    async def main() -> dict[str, Any]:
        samples = []
        wanted = [1, *marks]
        got = lagging = max_queued = 0
        sleep = asyncio.sleep
        async with asyncio.timeout(60.0 + marks[-1] / (2_000 if lag else 5_000)):
            stack = {"ping_interval": None, "close_timeout": 2.0, "reconnect": False}
            machine = make_machine()[0]
            async with aio.connect(url, machine, **stack) as client:
                await client.send(subscribe_command(machine, [BOOK]))
                async for event in client:
                    if lag:
                        queued = client.queued
                        max_queued = max(max_queued, queued)
                        if type(event) is Lagging:
                            lagging += 1
                        await sleep(0)
                    if is_book_event(event):
                        got += 1
                        if got == wanted[len(samples)]:
                            samples.append(rss_bytes())
                            if len(samples) == len(wanted):
                                break
        return {
            "rss": samples,
            "lagging": lagging,
            "max_queued": max_queued,
            "limit": DEFAULT_MAX_QUEUED_EVENTS,
        }

    try:
        conn.send(asyncio.run(main()))
    except Exception as exc:
        conn.send(f"{type(exc).__name__}: {exc}")


def _measure(marks: tuple[int, int], lag: bool) -> dict[str, Any] | str:
    context = multiprocessing.get_context("spawn")
    parent, child_end = context.Pipe()
    with BlastServer() as server:
        server.expect(marks[1])
        process = context.Process(target=_child, args=(child_end, server.url, list(marks), lag))
        process.start()
        wait = 120.0 + marks[1] / (2_000 if lag else 5_000)
        answer = parent.recv() if parent.poll(wait) else "timed out"
        process.join(10.0)
        if process.is_alive():
            process.terminate()
            process.join(5.0)
        server.report(10.0)
    return answer  # type: ignore[no-any-return]


def _rows(marks: tuple[int, int], what: str) -> list[Result]:
    low, high = marks
    return [
        Result(GROUP, f"{what}: RSS at the first book message", "MB"),
        Result(GROUP, f"{what}: RSS after {low:,} messages", "MB"),
        Result(GROUP, f"{what}: RSS after {high:,} messages", "MB"),
        Result(GROUP, f"{what}: growth from {low:,} to {high:,} messages", "MB"),
    ]


def run(marks: tuple[int, int], repeats: int) -> tuple[list[Result], Result, Result]:
    """RSS at the first message and at both marks, and the growth between the marks, for
    a consumer that keeps up and one that lags; one fresh client process per repeat.

    Returns the rows and the two growth rows (keeps up, lags).
    """
    keeps = _rows(marks, "consumer keeps up")
    lags = _rows(marks, "consumer lags")
    lagging = Result(GROUP, "  ... lags: Lagging events (reading paused, then resumed)", "n")
    queued = Result(GROUP, "  ... lags: most events queued (bound: max_queued_events)", "n")
    for _ in range(repeats):
        for rows, lag in ((keeps, False), (lags, True)):
            answer = _measure(marks, lag)
            if isinstance(answer, dict):
                first, at_low, at_high = answer["rss"]
                values = (first, at_low, at_high, at_high - at_low)
                for row, value in zip(rows, values, strict=True):
                    row.samples.append(float(value))
                if lag:
                    lagging.samples.append(float(answer["lagging"]))
                    queued.samples.append(float(answer["max_queued"]))
                    queued.label = f"  ... lags: most events queued (bound {answer['limit']:,})"
            else:
                for row in rows:
                    row.note = f"(failed: {answer})"[:60]
    return [*keeps, *lags, lagging, queued], keeps[-1], lags[-1]
