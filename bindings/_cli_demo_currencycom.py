"""``tradewire demo currencycom``: a whole Currency.com session against the in-process
reference venue.

Serves the reference Currency.com venue (asyncio ``serve()`` on 127.0.0.1, a free port)
with the fault plan ``disconnect@4s#1`` and drives tradewire's asyncio client with the
demo key, books kept:

1. stream ``depth:BTC/USD``, ``trades:BTC/USD`` and ``quote:BTC/USD``; the first whole
   book arrives;
2. a signed ``GetAccount``; a signed LIMIT buy 1% under the best bid, then cancelled;
3. ride through the dropped connection: every topic subscribed again on the new one;
4. print a summary; exit 0 only if every step happened, within its deadline.

One live line a second on stdout; a failure is one line on stderr and exit 1.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TextIO

from tradewire.protocol import Connected, Event, Secret, SubscriptionActive, currencycom

from . import asyncio as aio
from ._cli_demo import DemoFailed, bounded
from ._common import ConnectFailed, describe
from ._demo_kit import PROG, say, step
from ._venues import REGISTRY, served

__all__ = ["FAULTS", "TOPICS", "demo"]

FAULTS = "disconnect@4s#1"
BOOK = "depth:BTC/USD"
TOPICS = (BOOK, "trades:BTC/USD", "quote:BTC/USD")
STEP_TIMEOUT = 8.0
TOTAL_TIMEOUT = 40.0


class _Seen:
    def __init__(self) -> None:
        self.messages = 0
        self.reconnects = 0
        self.first_book = asyncio.Event()
        self.restored = asyncio.Event()
        self.active_after_reconnect: set[str] = set()


def _see(event: Event, seen: _Seen) -> None:
    if isinstance(event, currencycom.DepthUpdate | currencycom.TradeUpdate):
        seen.messages += 1
        if isinstance(event, currencycom.DepthUpdate) and event.topic == BOOK:
            seen.first_book.set()
    elif isinstance(event, Connected) and event.attempt > 0:
        seen.reconnects += 1
        seen.active_after_reconnect = set()
    elif isinstance(event, SubscriptionActive) and seen.reconnects:
        seen.active_after_reconnect.add(event.topic)
        if set(TOPICS) <= seen.active_after_reconnect:
            seen.restored.set()


def _top(machine: currencycom.ClientProtocol) -> str:
    book = machine.book(BOOK)
    bid = book.best_bid() if book is not None else None
    ask = book.best_ask() if book is not None else None
    return "BTC/USD -" if bid is None or ask is None else f"BTC/USD {bid[0]} / {ask[0]}"


async def _consume(client: aio.Client, seen: _Seen) -> None:
    async for event in client:
        _see(event, seen)


async def _live(out: TextIO, machine: currencycom.ClientProtocol, seen: _Seen) -> None:
    while True:
        await asyncio.sleep(1.0)
        say(out, f"{PROG}: {seen.messages} messages, {_top(machine)}, {seen.reconnects} reconnects")


async def demo(seed: int, out: TextIO) -> int:
    """Run the Currency.com demo; raises :class:`DemoFailed` with a one-line reason."""
    return await bounded(_demo(seed, out), TOTAL_TIMEOUT)


async def _demo(seed: int, out: TextIO) -> int:
    venue = REGISTRY["currencycom"]
    assert venue.demo is not None
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with served(venue, seed=seed, faults=FAULTS) as running:
        say(
            out,
            f"{PROG}: reference Currency.com venue at {running.url} (seed {seed}, faults {FAULTS})",
        )
        key, secret = venue.demo
        machine = venue.client(
            credentials=venue.credentials(key, Secret(secret)), maintain_books=True
        )
        assert isinstance(machine, currencycom.ClientProtocol)
        seen = _Seen()
        async with contextlib.AsyncExitStack() as resources:
            try:
                client = await resources.enter_async_context(aio.connect(running.url, machine))
            except (OSError, ConnectFailed) as exc:
                raise DemoFailed(f"could not connect to the venue: {describe(exc)}") from None
            consumer = asyncio.create_task(_consume(client, seen))
            ticker = asyncio.create_task(_live(out, machine, seen))
            try:
                await step(
                    "subscribing",
                    client.request(currencycom.Subscribe(topics=TOPICS)),
                    STEP_TIMEOUT,
                )
                await step("the first book", seen.first_book.wait(), STEP_TIMEOUT)
                say(out, f"{PROG}: streaming {', '.join(TOPICS)}; {_top(machine)}")
                account = await step(
                    "the signed account call",
                    client.request(currencycom.GetAccount()),
                    STEP_TIMEOUT,
                )
                say(out, f"{PROG}: signed GetAccount: {len(account.balances)} balances")
                book = machine.book(BOOK)
                bid = book.best_bid() if book is not None else None
                if bid is None:
                    raise DemoFailed("the book has no bid")
                price = round(float(bid[0]) * 0.99)
                order = await step(
                    "placing an order",
                    client.request(
                        currencycom.CreateOrder(
                            symbol="BTC/USD", side="BUY", type="LIMIT", quantity=0.01, price=price
                        )
                    ),
                    STEP_TIMEOUT,
                )
                say(out, f"{PROG}: order {order.orderId} {order.status} at {price} (signed)")
                cancelled = await step(
                    "cancelling the order",
                    client.request(
                        currencycom.CancelOrder(symbol="BTC/USD", order_id=order.orderId)
                    ),
                    STEP_TIMEOUT,
                )
                say(out, f"{PROG}: order {cancelled.orderId} {cancelled.status}")
                await step(
                    "riding through the dropped connection", seen.restored.wait(), STEP_TIMEOUT
                )
                say(out, f"{PROG}: reconnected, every topic subscribed again, {_top(machine)}")
                await asyncio.sleep(1.0)
            finally:
                ticker.cancel()
                await client.close()
                await asyncio.wait({consumer, ticker})
    say(
        out,
        f"{PROG}: summary after {loop.time() - started:.1f}s: {seen.messages} stream messages, "
        f"{seen.reconnects} reconnect(s)",
    )
    say(out, f"{PROG}: ok")
    return 0
