"""A soak: a reference venue with a composed fault plan and N clients for M minutes.

::

    python -m benchmarks.soak [--venue deribit|deriv|currencycom|rails] [--clients 8]
                              [--minutes 10]
                              [--faults PLAN] [--seed 1] [--every 30]

Not part of the test run.  The venue (from :data:`VENUES`, one entry per venue: how to
serve it, build a client, read its books) runs in this process with the asyncio binding,
and ``--clients`` tradewire clients (asyncio ``connect``, or the venue's own way: Rails
fetches its token over HTTP first) connect to it over loopback.
Each client subscribes to the venue's channels, keeps its books (``maintain_books``),
sends the venue's requests at their pace, and rides through the fault plan (``--faults``,
the compact grammar of ``tradewire serve --faults``; default: the venue's composed plan).

It reports, every ``--every`` seconds and at the end:

* **requests**: sent, resolved with a result, resolved with a failure (by kind), and
  still unresolved (at the end: must be 0; each request resolves exactly once);
* **books**: comparisons of a client's maintained book with the venue's own book, made
  when the client has consumed every event it received and the venue's book is at the
  sequence number the client last saw (otherwise a change is in flight: skipped);
  for a venue whose book events carry no sequence number (Currency.com, Rails) the
  client's book must equal the venue's current state (compared) or one of its recent
  states (in flight: skipped); mismatches must be 0 (a venue without books, Deriv: n/a);
* **subscriptions**: reconnects, and how many ended with every desired subscription
  active again (at the end every client must be restored);
* **memory**: the process's resident set size over time (venue and clients together);
* at the end, the failures by request and kind, and one example of each kind.

Exit 0 when every check held, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from tradewire.bindings import asyncio as aio
from tradewire.conformance import FaultPlan
from tradewire.protocol import (
    Command,
    Connected,
    MessageRejected,
    RequestFailure,
    SubscriptionActive,
    WebSocketClosed,
)

from ._soak_currencycom import CURRENCYCOM
from ._soak_deribit import DERIBIT
from ._soak_deriv import DERIV
from ._soak_rails import RAILS
from ._soak_venue import Served, SoakVenue

__all__ = ["VENUES", "main"]

VENUES: dict[str, SoakVenue] = {
    "deribit": DERIBIT,
    "deriv": DERIV,
    "currencycom": CURRENCYCOM,
    "rails": RAILS,
}
"""The venues the soak runs: add an entry when a venue's reference venue lands."""

SETTLE = 20.0  # seconds after the run for the last reconnects and requests to finish


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


@dataclass
class Tally:
    """What all clients counted."""

    sent: int = 0
    ok: int = 0
    failed: collections.Counter[str] = field(default_factory=collections.Counter)
    compared: int = 0
    mismatched: int = 0
    skipped: int = 0
    reconnects: int = 0
    restorations: int = 0
    closes: collections.Counter[str] = field(default_factory=collections.Counter)
    counted: collections.Counter[str] = field(default_factory=collections.Counter)
    mismatches: list[str] = field(default_factory=list)
    examples: dict[str, str] = field(default_factory=dict)  # a failure of each kind
    failed_by: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def pending(self) -> int:
        return self.sent - self.ok - sum(self.failed.values())


class SoakClient:
    """One client: its consumer, its request loops, its book checks."""

    def __init__(self, kit: SoakVenue, served: Served, index: int, tally: Tally) -> None:
        self.kit = kit
        self.served = served
        self.index = index
        self.tally = tally
        self.machine: Any = kit.client(index, served)
        self.client: aio.Client | None = None
        self.seen: dict[str, int] = {}  # channel -> the sequence number last consumed
        self.awaiting_restore = False
        self.restored_at_end = False

    async def run(self, stop: asyncio.Event) -> None:
        kit = self.kit
        opened = (
            aio.connect(self.served.ws_url, self.machine)
            if kit.connect is None
            else kit.connect(self.served, self.machine)
        )
        async with opened as client:
            self.client = client
            consumer = asyncio.create_task(self._consume(client))
            await self._request(self.kit.subscribe(self.kit.channels))
            loops = [
                asyncio.create_task(self._ask(name, every, command, stop))
                for name, every, command in self.kit.requests
            ]
            await stop.wait()
            await asyncio.gather(*loops)
            await self._settle()
            self.restored_at_end = self.kit.restored(self.machine)
            await client.close()
            await consumer

    async def _settle(self) -> None:
        """Give the last reconnect time to restore everything."""
        deadline = time.perf_counter() + SETTLE
        while not self.kit.restored(self.machine) and time.perf_counter() < deadline:
            await asyncio.sleep(0.2)

    async def _ask(self, name: str, every: float, command: Command, stop: asyncio.Event) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        while not stop.is_set():
            task = asyncio.create_task(self._request(command))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
        if in_flight:
            await asyncio.wait(in_flight)

    async def _request(self, command: Command) -> None:
        assert self.client is not None
        self.tally.sent += 1
        try:
            await self.client.request(command)
        except RequestFailure as exc:
            kind = type(exc).__name__
            self.tally.failed[kind] += 1
            self.tally.failed_by[f"{type(command).__name__} {kind}"] += 1
            self.tally.examples.setdefault(kind, f"{type(command).__name__}: {exc}")
        else:
            self.tally.ok += 1

    async def _consume(self, client: aio.Client) -> None:
        kit, tally = self.kit, self.tally
        async for event in client:
            name = kit.counted(event)
            if name is not None:
                tally.counted[name] += 1
            if isinstance(event, Connected) and event.attempt > 0:
                tally.reconnects += 1
                self.awaiting_restore = True
            elif isinstance(event, WebSocketClosed):
                tally.closes[f"{event.code} {event.by}"] += 1
            elif isinstance(event, MessageRejected):
                tally.counted["messages rejected"] += 1
            change = kit.book_change(event)
            if change is not None:
                self.seen[change[0]] = change[1]
            if client.queued == 0:  # the machine's books are what the events said
                for channel in kit.books:
                    self._compare(channel)
            if (
                self.awaiting_restore
                and isinstance(event, SubscriptionActive)
                and kit.restored(self.machine)
            ):
                self.awaiting_restore = False
                tally.restorations += 1

    def _compare(self, channel: str) -> None:
        mine = self.kit.client_book(self.machine, channel)
        if mine is None or mine[0] or channel not in self.seen:  # not kept, or resyncing
            return
        if not self.kit.sequenced:
            self._compare_recent(channel, _levels((mine[1], mine[2])))
            return
        sequence, bids, asks = self.served.book(channel)
        if sequence != self.seen.get(channel):
            self.tally.skipped += 1  # the venue moved on: a change is in flight
            return
        self.tally.compared += 1
        if ([tuple(x) for x in mine[1]], [tuple(x) for x in mine[2]]) != (
            [tuple(x) for x in bids],
            [tuple(x) for x in asks],
        ):
            self.tally.mismatched += 1
            if len(self.tally.mismatches) < 5:
                self.tally.mismatches.append(f"client {self.index} {channel} at {sequence}")

    def _compare_recent(self, channel: str, mine: tuple[list[Any], list[Any]]) -> None:
        """A venue without sequence numbers: ``mine`` must be one of the venue's recent
        states of the book; the current one is a match, an older one a change in flight."""
        states = self.served.history(channel)
        if not states:
            return
        if mine == _levels(states[-1]):
            self.tally.compared += 1
            return
        if any(mine == _levels(state) for state in reversed(states[:-1])):
            self.tally.skipped += 1
            return
        self.tally.compared += 1
        self.tally.mismatched += 1
        if len(self.tally.mismatches) < 5:
            self.tally.mismatches.append(
                f"client {self.index} {channel}: none of the venue's last {len(states)} "
                f"states; client best bid/ask {mine[0][:1]} {mine[1][:1]}, venue's now "
                f"{states[-1][0][:1]} {states[-1][1][:1]}"
            )


def _levels(state: tuple[list[Any], list[Any]]) -> tuple[list[Any], list[Any]]:
    return [tuple(x) for x in state[0]], [tuple(x) for x in state[1]]


async def soak(args: argparse.Namespace) -> int:
    kit = VENUES[args.venue]
    faults = args.faults if args.faults is not None else kit.faults
    FaultPlan.parse(faults)  # a bad plan fails here, with the parser's message
    tally = Tally()
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    started = time.perf_counter()
    print(
        f"soak: {args.venue} reference venue, {args.clients} clients, {args.minutes:g} min, "
        f"seed {args.seed}\n      faults: {faults}",
        flush=True,
    )
    async with kit.serve(faults, args.seed) as served:
        clients = [SoakClient(kit, served, i, tally) for i in range(args.clients)]
        tasks = [asyncio.create_task(c.run(stop)) for c in clients]
        reporter = asyncio.create_task(_report(tally, samples, started, args.every))
        await asyncio.sleep(args.minutes * 60)
        stop.set()
        done, _ = await asyncio.wait(tasks, timeout=SETTLE + 30)
        reporter.cancel()
        restored = sum(c.restored_at_end for c in clients)
        crashed = [t.exception() for t in done if t.exception() is not None]
        unfinished = len(tasks) - len(done)
        for task in tasks:
            task.cancel()
    samples.append((time.perf_counter() - started, rss_mb()))
    _line(tally, time.perf_counter() - started, samples[-1][1], final=True)
    print(f"      RSS over time (s: MB): {_series(samples)}")
    print(f"      closes seen by clients: {dict(tally.closes)}; {dict(tally.counted)}")
    if tally.failed_by:
        print(f"      failures by request: {dict(sorted(tally.failed_by.items()))}")
    for kind, example in sorted(tally.examples.items()):
        print(f"      e.g. {kind}: {example}")
    for line in tally.mismatches:
        print(f"      mismatch: {line}")
    for error in crashed:
        print(f"      a client failed: {error!r}")
    checks = {
        "every request resolved": tally.pending == 0 and not unfinished,
        "books equal the venue's": tally.mismatched == 0 and tally.compared > 0,
        "subscriptions restored": restored == args.clients,
        "no client failed": not crashed,
    }
    if not kit.books:
        del checks["books equal the venue's"]
        print("      n/a   books (the venue has none: requests and streams only)")
    for name, ok in checks.items():
        print(f"      {'PASS' if ok else 'FAIL'}  {name}")
    print(f"      clients restored at the end: {restored}/{args.clients}")
    return 0 if all(checks.values()) else 1


async def _report(
    tally: Tally, samples: list[tuple[float, float]], started: float, every: float
) -> None:
    while True:
        await asyncio.sleep(every)
        elapsed = time.perf_counter() - started
        samples.append((elapsed, rss_mb()))
        _line(tally, elapsed, samples[-1][1])


def _line(tally: Tally, elapsed: float, rss: float, *, final: bool = False) -> None:
    failed = sum(tally.failed.values())
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(tally.failed.items())) or "-"
    print(
        f"{'end' if final else f'{elapsed:5.0f}s'}  RSS {rss:6.1f} MB  requests {tally.sent} "
        f"sent, {tally.ok} ok, {failed} failed ({kinds}), {tally.pending} unresolved  "
        f"books {tally.compared} compared, {tally.mismatched} mismatched, "
        f"{tally.skipped} in flight  reconnects {tally.reconnects}, "
        f"restored {tally.restorations}",
        flush=True,
    )


def _series(samples: list[tuple[float, float]]) -> str:
    return ", ".join(f"{t:.0f}: {mb:.0f}" for t, mb in samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--venue", choices=sorted(VENUES), default="deribit")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--faults", default=None, help="fault plan (default: the venue's)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=float, default=30.0, help="seconds between reports")
    args = parser.parse_args(argv)
    return asyncio.run(soak(args))


if __name__ == "__main__":
    sys.exit(main())
