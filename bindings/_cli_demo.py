"""``tradewire demo``: the README's main job, a whole Deribit session in a few seconds.

Starts the reference Deribit venue in this process (asyncio ``serve()`` on 127.0.0.1,
a free port, through the venue registry's Deribit entry: its reference venue, URL, demo
key and client machine) with a fault plan, and drives tradewire's own asyncio client
against it:

1. connect with the demo credentials (``deribit.ClientProtocol``, ``maintain_books=True``),
   authenticate, subscribe to the book, ticker and trades of BTC-PERPETUAL;
2. place a limit buy far below the book (``open``), edit it (``replaced``), cancel it
   (``cancelled``), each answered with a typed result;
3. ride through a book gap (fault ``gap:book.BTC-PERPETUAL.100ms@2s#1``: the client
   sees the broken ``change_id`` chain and resyncs that book alone) and a dropped
   connection (fault ``disconnect@4s#1``: the client reconnects with backoff,
   re-authenticates and resubscribes exactly what it had, and its book is resynced);
4. keep streaming briefly, then print a final summary and exit 0.

While it runs, one line per second on stdout: messages decoded and their rate, the top
of the maintained book, request latency (p50 and max), reconnects and gaps resynced.
Everything is bounded: each step has a deadline, and a step that fails or times out
ends the demo with one line on stderr, ``tradewire demo: error: ...``, and exit 1.  No
network beyond loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

from tradewire.conformance.market import MarketConfig
from tradewire.protocol import (
    Connected,
    Event,
    RequestFailure,
    Secret,
    SubscriptionActive,
    WebSocketClosed,
    deribit,
)

from . import asyncio as aio
from ._common import ConnectFailed, describe
from ._venues import DEFAULT_SEED, REGISTRY, served

VENUE = REGISTRY["deribit"]
"""The venue the demo's steps (orders, books, channels) are written for."""

__all__ = ["CHANNELS", "FAULTS", "INSTRUMENT", "register", "run"]

PROG = "tradewire demo"
INSTRUMENT = "BTC-PERPETUAL"
BOOK = f"book.{INSTRUMENT}.100ms"
CHANNELS = (BOOK, f"ticker.{INSTRUMENT}.100ms", f"trades.{INSTRUMENT}.100ms")
FAULTS = f"gap:{BOOK}@2s#1,disconnect@4s#1"
"""The demo's fault plan: a book gap after 2 s and a dropped connection after 4 s, both
on the first connection only."""

MARKET = MarketConfig(taker_rate=0.2)
"""A busier market than the default, so trades show within seconds."""

STEP_TIMEOUT = 5.0  # seconds for one request or one milestone
GAP_BY = 2.0 + STEP_TIMEOUT  # the gap fires at 2 s: resynced by then
RECONNECT_BY = 4.0 + 2 * STEP_TIMEOUT  # the drop at 4 s, a backoff, then the resync
STEADY = 1.0  # seconds of streaming after the last milestone
TOTAL_TIMEOUT = 40.0

T = TypeVar("T")


class DemoFailed(Exception):
    """A step failed or timed out: the one-line reason."""


async def bounded(run: Awaitable[T], seconds: float = TOTAL_TIMEOUT) -> T:
    """A whole demo run within ``seconds``; past them, :class:`DemoFailed`."""
    try:
        async with asyncio.timeout(seconds):
            return await run
    except TimeoutError:
        raise DemoFailed(f"timed out: the demo did not finish within {seconds:.0f}s") from None


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo",
        help="run a session against an in-process reference venue (Deribit by default)",
        description=(
            "Serve a reference venue on 127.0.0.1 and run tradewire's asyncio client "
            "against it.  Deribit (the default): auth, book/ticker/trades, an order placed, "
            "edited and cancelled, a book gap and a dropped connection ridden through.  "
            "Deriv: authorize, tick and balance streams, a proposal bought and sold, a "
            "dropped connection ridden through.  Currency.com: depth, trades and quotes "
            "with the book kept, a signed account call, a signed order placed and "
            "cancelled, a dropped connection ridden through.  Rails: a token over HTTP, the four "
            "streams, an order placed and cancelled, a dropped connection and a token "
            "renewal ridden through.  Prints a live line "
            "per second and a summary; exit 0 when every step succeeded."
        ),
    )
    demo.add_argument(
        "venue",
        nargs="?",
        default=VENUE.name,
        choices=[name for name, e in REGISTRY.items() if e is VENUE or e.run_demo is not None],
        help=f"the venue (default: {VENUE.name})",
    )
    demo.add_argument("--seed", type=_seed, default=DEFAULT_SEED, metavar="N", help="market seed")
    demo.set_defaults(run=run)


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    """The ``demo`` subcommand; returns the exit code."""
    chosen = REGISTRY[getattr(args, "venue", VENUE.name)]
    try:
        if chosen is not VENUE and chosen.run_demo is not None:
            code = asyncio.run(chosen.run_demo(args.seed, sys.stdout))
            return 0 if code is None else code
        return asyncio.run(demo(args.seed, sys.stdout))
    except DemoFailed as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted")
        return 130
    except Exception as exc:  # a bug, still one line
        return _fail(f"unexpected {describe(exc)}")


def _fail(message: str) -> int:
    print(" ".join(f"{PROG}: error: {message}".split()), file=sys.stderr, flush=True)
    return 1


# -- what the consumer sees -----------------------------------------------------------------


@dataclass
class Stats:
    """What the event consumer counted; milestones are :class:`asyncio.Event` values."""

    started: float
    messages: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    reconnects: int = 0
    logins: int = 0
    gaps: int = 0
    resynced: int = 0
    resynced_after_gap: int = 0
    resynced_after_reconnect: int = 0
    drops: list[str] = field(default_factory=list)
    connected: bool = True
    first_book: asyncio.Event = field(default_factory=asyncio.Event)
    gap_resynced: asyncio.Event = field(default_factory=asyncio.Event)
    reconnected: asyncio.Event = field(default_factory=asyncio.Event)
    restored: asyncio.Event = field(default_factory=asyncio.Event)
    _stale_by_gap: set[str] = field(default_factory=set)

    def see(self, event: Event, machine: deribit.ClientProtocol) -> None:
        if isinstance(event, deribit.ChannelEvent):
            self.messages += 1
            kind = event.channel.partition(".")[0]
            self.by_kind[kind] = self.by_kind.get(kind, 0) + 1
            if isinstance(event, deribit.BookUpdate) and event.channel == BOOK:
                self.first_book.set()
        elif isinstance(event, deribit.BookGap):
            self.gaps += 1
            self._stale_by_gap.add(event.channel)
        elif isinstance(event, deribit.BookResynced):
            self.resynced += 1
            if event.channel in self._stale_by_gap:
                self._stale_by_gap.discard(event.channel)
                self.resynced_after_gap += 1
                self.gap_resynced.set()
            elif self.reconnects:
                self.resynced_after_reconnect += 1
        elif isinstance(event, deribit.Authenticated):
            self.logins += 1
        elif isinstance(event, Connected):
            self.connected = True
            if event.attempt > 0:
                self.reconnects += 1
                self.reconnected.set()
        elif isinstance(event, WebSocketClosed):
            self.connected = False
            self.drops.append(f"{event.code} by {event.by}")
        if (
            self.reconnected.is_set()
            and self.resynced_after_reconnect
            and isinstance(event, SubscriptionActive | deribit.BookResynced)
        ):
            ledger = machine.ledger
            if set(ledger.active()) == set(ledger.desired()) == set(CHANNELS):
                self.restored.set()

    def rate(self, now: float) -> float:
        elapsed = now - self.started
        return self.messages / elapsed if elapsed > 0 else 0.0

    def latency(self) -> str:
        if not self.latencies:
            return "latency -"
        p50 = statistics.median(self.latencies) * 1000
        worst = max(self.latencies) * 1000
        return f"latency p50 {p50:.1f} ms max {worst:.1f} ms"


def _top(machine: deribit.ClientProtocol) -> str:
    book = machine.book(BOOK)
    bid = book.best_bid() if book is not None else None
    ask = book.best_ask() if book is not None else None
    if bid is None or ask is None:
        return f"{INSTRUMENT} -"
    return f"{INSTRUMENT} {bid[0]:,.1f} / {ask[0]:,.1f}"


# -- the session ----------------------------------------------------------------------------


async def demo(seed: int, out: TextIO) -> int:
    """Run the whole demo; raises :class:`DemoFailed` with a one-line reason."""
    return await bounded(_demo(seed, out))


async def _demo(seed: int, out: TextIO) -> int:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert VENUE.demo is not None  # the Deribit entry registers a demo key
    async with served(VENUE, seed=seed, faults=FAULTS, market=MARKET) as running:
        ws_url = running.url
        _say(out, f"{PROG}: reference Deribit venue at {ws_url} (seed {seed}, faults {FAULTS})")
        client_id, secret = VENUE.demo
        credentials = VENUE.credentials(client_id, Secret(secret))
        machine = VENUE.client(credentials=credentials, maintain_books=True)
        assert isinstance(machine, deribit.ClientProtocol)
        stats = Stats(started=started)
        async with contextlib.AsyncExitStack() as resources:
            try:
                async with asyncio.timeout(STEP_TIMEOUT):
                    client = await resources.enter_async_context(aio.connect(ws_url, machine))
            except TimeoutError:
                raise DemoFailed(
                    f"timed out connecting to the venue (no session within {STEP_TIMEOUT:.0f}s)"
                ) from None
            except (OSError, ConnectFailed) as exc:
                raise DemoFailed(f"could not connect to the venue: {describe(exc)}") from None
            consumer = asyncio.create_task(_consume(client, machine, stats))
            ticker = asyncio.create_task(_live(out, machine, stats))
            try:
                lines = await _steps(client, machine, stats, started)
            finally:
                ticker.cancel()
                await client.close()  # the consumer's iteration ends with it
                await asyncio.wait({consumer, ticker})
        failure = None if consumer.cancelled() else consumer.exception()
        if failure is not None:
            raise DemoFailed(f"the event stream failed: {describe(failure)}")
    elapsed = loop.time() - started
    _say(out, f"{PROG}: summary after {elapsed:.1f}s")
    for line in lines(elapsed):
        _say(out, f"  {line}")
    _say(out, f"{PROG}: ok")
    return 0


async def _consume(client: aio.Client, machine: deribit.ClientProtocol, stats: Stats) -> None:
    async for event in client:
        stats.see(event, machine)


async def _live(out: TextIO, machine: deribit.ClientProtocol, stats: Stats) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(1.0)
        now = loop.time()
        _say(
            out,
            f"{now - stats.started:5.1f}s  msgs {stats.messages} ({stats.rate(now):,.0f}/s)  "
            f"{_top(machine)}  {stats.latency()}  reconnects {stats.reconnects}  "
            f"gaps {stats.gaps} resynced {stats.resynced}",
        )


def _say(out: TextIO, line: str) -> None:
    with contextlib.suppress(BrokenPipeError):
        print(line, file=out, flush=True)


async def _timed(stats: Stats, what: str, call: Awaitable[T]) -> T:
    """Await a request, bounded, recording its latency; failures become DemoFailed."""
    began = time.perf_counter()
    try:
        async with asyncio.timeout(STEP_TIMEOUT):
            result = await call
    except TimeoutError:
        raise DemoFailed(f"{what} timed out: no answer within {STEP_TIMEOUT:.0f}s") from None
    except RequestFailure as exc:
        raise DemoFailed(f"{what}: {describe(exc)}") from None
    stats.latencies.append(time.perf_counter() - began)
    return result


async def _until(event: asyncio.Event, deadline: float, reason: str) -> None:
    """Wait for a milestone until ``deadline`` (loop time); ``reason`` says what failed."""
    try:
        async with asyncio.timeout_at(deadline):
            await event.wait()
    except TimeoutError:
        raise DemoFailed(f"timed out: {reason}") from None


async def _steps(
    client: aio.Client, machine: deribit.ClientProtocol, stats: Stats, started: float
) -> Callable[[float], list[str]]:
    """Every step in order; returns what writes the summary lines."""
    loop = asyncio.get_running_loop()
    subscribed = await _timed(
        stats, "subscribe", client.request(deribit.Subscribe(channels=CHANNELS))
    )
    if set(subscribed.active) != set(CHANNELS):
        refused = ", ".join(f"{r.topic}: {r.reason}" for r in subscribed.rejected)
        raise DemoFailed(f"subscribe: channels refused ({refused})")
    await _until(
        stats.first_book, loop.time() + STEP_TIMEOUT, f"no book snapshot within {STEP_TIMEOUT:.0f}s"
    )
    book = machine.book(BOOK)
    best = book.best_bid() if book is not None else None
    if best is None:
        raise DemoFailed("the book has no bid after its snapshot")
    order_line = await _orders(client, stats, best[0])
    await _until(
        stats.gap_resynced, started + GAP_BY, f"no resync after the book gap by {GAP_BY:.0f}s"
    )
    await _until(
        stats.reconnected,
        started + RECONNECT_BY,
        f"no reconnect after the disconnect by {RECONNECT_BY:.0f}s",
    )
    await _until(
        stats.restored,
        started + RECONNECT_BY,
        f"auth, subscriptions and book not restored after reconnecting by {RECONNECT_BY:.0f}s",
    )
    if stats.logins < 2:
        raise DemoFailed("the client did not re-authenticate after reconnecting")
    steady_until = loop.time() + STEADY
    while loop.time() < steady_until:
        await _timed(stats, "get_time", client.request(deribit.GetTime()))
        await asyncio.sleep(0.1)
    # the session as it stands, before the client closes
    active, desired = len(machine.ledger.active()), len(machine.ledger.desired())
    messages, kinds = stats.messages, dict(stats.by_kind)
    top, drops = _top(machine), ", ".join(stats.drops) or "-"
    reconnect_line = (
        f"reconnects   {stats.reconnects} (connection dropped: {drops}); authenticated "
        f"{stats.logins}x, subscriptions {active} active of {desired} desired"
    )
    gap_line = (
        f"gaps         {stats.gaps} detected; books resynced {stats.resynced} "
        f"({stats.resynced_after_gap} after the gap, "
        f"{stats.resynced_after_reconnect} after the reconnect)"
    )

    def lines(elapsed: float) -> list[str]:
        per_kind = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
        return [
            f"messages     {messages} decoded ({messages / elapsed:,.0f} msg/s): {per_kind}",
            f"top of book  {top}",
            f"requests     {len(stats.latencies)} answered, {stats.latency()}",
            order_line,
            reconnect_line,
            gap_line,
        ]

    return lines


async def _orders(client: aio.Client, stats: Stats, best_bid: float) -> str:
    """Place, edit and cancel a limit buy far below the book; the summary line."""
    price = _tick(best_bid * 0.99)
    placed = await _timed(
        stats,
        "buy",
        client.request(
            deribit.Buy(
                instrument_name=INSTRUMENT, amount=10, type="limit", price=price, label="demo"
            )
        ),
    )
    order = placed.order
    if order.order_state != "open":
        raise DemoFailed(f"buy: order not acknowledged as open (state {order.order_state!r})")
    new_price = _tick(price - 5.0)
    edited = await _timed(
        stats,
        "edit",
        client.request(deribit.Edit(order_id=order.order_id, amount=20, price=new_price)),
    )
    if not edited.order.replaced or edited.order.price != new_price:
        raise DemoFailed(f"edit: order not replaced (got {edited.order!r:.200})")
    cancelled = await _timed(
        stats, "cancel", client.request(deribit.Cancel(order_id=order.order_id))
    )
    if cancelled.order_state != "cancelled":
        raise DemoFailed(f"cancel: order not cancelled (state {cancelled.order_state!r})")
    return (
        f"order        buy {order.amount:g} @ {price:,.1f} -> {order.order_state} "
        f"(id {order.order_id}); edit -> {edited.order.amount:g} @ {new_price:,.1f} "
        f"{edited.order.order_state}, replaced; cancel -> {cancelled.order_state}"
    )


def _tick(price: float) -> float:
    """``price`` down to BTC-PERPETUAL's tick (0.5)."""
    return int(price * 2) / 2
