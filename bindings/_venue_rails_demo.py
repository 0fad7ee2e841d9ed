"""``tradewire demo rails``: a whole Rails session against the in-process reference venue.

Serves the reference Rails venue on 127.0.0.1 (asyncio ``serve()``, a free port) with
8-second tokens and a dropped connection (fault ``disconnect@3s#1``), and drives
tradewire's own client through ``tradewire.bindings.rails.connect``:

1. a token from ``POST /api/v1/token`` with the demo key, the connection with
   ``market=BTC-USD`` and the four streams in its query string, the book from the
   machine's own ``emitPublicOrderBook`` (``maintain_books=True``);
2. a limit buy 1% under the best bid (202 pending, then 200 active), cancelled (202
   cancelling, then 200 cancelled);
3. the dropped connection: the client reconnects with backoff, its upgrade carries the
   same streams, its book starts again from a snapshot;
4. the token's renewal at 80% of its life (``TokenWanted``): the keeper fetches a new
   one, the connection is renewed with it and every stream comes back;
5. a little more streaming, then a summary and exit 0.

One line a second on stdout: messages and their rate, the top of the book, reconnects,
tokens fetched.  Every step has a deadline; a step that fails ends the demo with one
line on stderr and exit 1 (``tradewire demo``'s contract).  Nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TextIO, TypeVar

from tradewire.protocol import Connected, Event, RequestFailure, SubscriptionActive, UuidIds
from tradewire.protocol import rails as rw

from . import asyncio as aio
from . import rails as tokens
from ._common import ConnectFailed, describe
from ._route import route_upgrade

__all__ = ["FAULTS", "run_demo"]

PROG = "tradewire demo"
MARKET = "BTC-USD"
FAULTS = "disconnect@3s#1"
TOKEN_LIFETIME = 8.0
STEP_TIMEOUT = 5.0
TOTAL_TIMEOUT = 40.0
STEADY = 1.0

T = TypeVar("T")


def _failed(message: str) -> Exception:
    from ._cli_demo import DemoFailed

    return DemoFailed(message)


@dataclass
class _Stats:
    started: float
    messages: int = 0
    reconnects: int = 0
    tokens: int = 1
    snapshots: int = 0
    renewals: int = 0
    first_book: asyncio.Event = field(default_factory=asyncio.Event)
    restored: asyncio.Event = field(default_factory=asyncio.Event)
    renewed: asyncio.Event = field(default_factory=asyncio.Event)
    _renewing: bool = False
    _active: set[str] = field(default_factory=set)

    def see(self, event: Event) -> None:
        if isinstance(event, rw.RailsMessage):
            self.messages += 1
        if isinstance(event, rw.BookSnapshot):
            self.snapshots += 1
            self.first_book.set()
        elif isinstance(event, rw.TokenWanted) and event.reason == "renew":
            self._renewing = True
        elif isinstance(event, Connected) and event.attempt > 0:
            self.reconnects += 1
            self._active = set()
        elif isinstance(event, SubscriptionActive):
            self._active.add(event.topic)
            if self.reconnects and self._active == set(rw.STREAMS):
                if self._renewing:
                    self._renewing = False
                    self.renewals += 1
                    self.renewed.set()
                else:
                    self.restored.set()


async def _step(what: str, awaitable: Awaitable[T], seconds: float = STEP_TIMEOUT) -> T:
    try:
        async with asyncio.timeout(seconds):
            return await awaitable
    except TimeoutError:
        raise _failed(f"timed out: {what} took over {seconds:.0f}s") from None
    except RequestFailure as exc:
        raise _failed(f"{what} failed: {describe(exc)}") from None


def _say(out: TextIO, line: str) -> None:
    out.write(line + "\n")
    out.flush()


def _top(machine: rw.ClientProtocol) -> str:
    book = machine.book(MARKET)
    if book is None or book.stale:
        return f"{MARKET} -"
    bid, ask = book.best_bid(), book.best_ask()
    if bid is None or ask is None:
        return f"{MARKET} -"
    return f"{MARKET} {bid[0]} / {ask[0]}"


async def run_demo(seed: int, out: TextIO) -> None:
    """The whole demo (see the module docstring); raises ``DemoFailed``."""
    from ._cli_demo import bounded

    await bounded(_demo(seed, out), TOTAL_TIMEOUT)


async def _demo(seed: int, out: TextIO) -> None:
    from tradewire.conformance.rails import (
        DEMO_API_KEY,
        DEMO_API_SECRET,
        RailsVenue,
        VenueConfig,
        rails_market,
    )
    from tradewire.protocol.rails.server import ServerConfig

    loop = asyncio.get_running_loop()
    now = loop.time()
    start_ms = round((now + aio.epoch_offset()) * 1000)
    market = rails_market(seed=seed, start_ms=start_ms, taker_rate=0.2)
    config = VenueConfig(market=market, server=ServerConfig(token_lifetime=TOKEN_LIFETIME))
    venue = RailsVenue(config, now=now, faults=FAULTS)
    factory = route_upgrade(venue.websocket_connection, venue.http_connection)
    async with aio.serve(factory, port=0, on_events=venue.on_events, app=venue) as server:
        ws_url, http_url = f"ws://127.0.0.1:{server.port}/", f"http://127.0.0.1:{server.port}"
        _say(out, f"{PROG}: reference Rails venue at {ws_url} (seed {seed}, faults {FAULTS}, "
                  f"{TOKEN_LIFETIME:.0f} s tokens)")  # fmt: skip
        machine = rw.ClientProtocol(
            market=MARKET,
            ids=UuidIds(random.SystemRandom()),
            subscriptions=rw.STREAMS,
            maintain_books=True,
        )
        stats = _Stats(started=now)
        opened = tokens.connect(
            ws_url, machine, http_url=http_url, api_key=DEMO_API_KEY, api_secret=DEMO_API_SECRET
        )
        async with contextlib.AsyncExitStack() as resources:
            try:
                client = await _step("connecting", resources.enter_async_context(opened))
            except (OSError, ConnectFailed) as exc:
                raise _failed(f"could not connect to the venue: {describe(exc)}") from None
            consumer = asyncio.create_task(_consume(client, stats))
            ticker = asyncio.create_task(_live(out, machine, stats))
            try:
                await _steps(out, client, machine, stats)
            finally:
                ticker.cancel()
                consumer.cancel()
                await asyncio.wait({consumer, ticker})
    elapsed = loop.time() - now
    _say(out, f"{PROG}: summary after {elapsed:.1f}s")
    _say(out, f"  messages {stats.messages}, book snapshots {stats.snapshots}")
    _say(out, f"  reconnects {stats.reconnects} (a dropped connection, a token renewal)")
    _say(out, f"  tokens fetched {stats.tokens}, renewals {stats.renewals}")
    _say(out, f"{PROG}: ok")


async def _consume(client: aio.Client, stats: _Stats) -> None:
    async for event in client:
        stats.see(event)
        if isinstance(event, rw.TokenWanted):
            stats.tokens += 1


async def _live(out: TextIO, machine: rw.ClientProtocol, stats: _Stats) -> None:
    while True:
        await asyncio.sleep(1.0)
        _say(
            out,
            f"{PROG}: {stats.messages} messages, {_top(machine)}, "
            f"{stats.reconnects} reconnects, {stats.tokens} tokens",
        )


async def _steps(
    out: TextIO, client: aio.Client, machine: rw.ClientProtocol, stats: _Stats
) -> None:
    await _step("the first book", stats.first_book.wait())
    book = machine.book(MARKET)
    bid = book.best_bid() if book is not None else None
    if bid is None:
        raise _failed("the book has no bid")
    price = str(round(float(bid[0]) * 0.99))
    placed = await _step(
        "placing an order", client.request(rw.CreateOrder(side="buy", price=price, quantity="0.01"))
    )
    order = placed.data.order
    if order is None or order.order_status != "active":
        raise _failed(f"the order was not accepted: {placed!r:.120}")
    _say(out, f"{PROG}: order {order.order_id} active at {order.price} (202, then 200)")
    cancelled = await _step(
        "cancelling the order", client.request(rw.CancelOrder(order_id=order.order_id))
    )
    if cancelled.data.order is None or cancelled.data.order.order_status != "cancelled":
        raise _failed("the order was not cancelled")
    _say(out, f"{PROG}: order {order.order_id} cancelled (202, then 200)")
    await _step("reconnecting after the dropped connection", stats.restored.wait())
    _say(out, f"{PROG}: reconnected, the four streams restored, the book from a new snapshot")
    # The renewal starts when the token nears its end, not when this step does.
    await _step("renewing the token", stats.renewed.wait(), TOKEN_LIFETIME + STEP_TIMEOUT)
    _say(out, f"{PROG}: token renewed: reconnected with it, the four streams restored")
    await asyncio.sleep(STEADY)
