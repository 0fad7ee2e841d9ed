"""An order's whole life over real sockets: tradewire's client (asyncio and trio
bindings) against the reference venue served by the pytest plugin on 127.0.0.1, with a
dropped connection in the middle.

The market only moves when orders move it (``tick_interval`` of an hour), so the
client's maintained book can be compared with the venue's exactly at the end."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import pytest
import trio

from tradewire.bindings.pytest_plugin import ServedDeribit
from tradewire.conformance.market import MarketConfig
from tradewire.protocol import (
    Backoff,
    Connected,
    Event,
    SubscriptionActive,
    WebSocketClosed,
)
from tradewire.protocol.deribit import (
    Authenticated,
    BookResynced,
    BookUpdate,
    Buy,
    Cancel,
    Edit,
    GetOrderState,
    GetPosition,
    Subscribe,
    UserOrdersUpdate,
    UserTradesUpdate,
)

INSTRUMENT = "BTC-PERPETUAL"
BOOK = f"book.{INSTRUMENT}.raw"
ORDERS = "user.orders.any.any.raw"
TRADES = "user.trades.any.any.raw"
CHANNELS = (BOOK, ORDERS, TRADES)
QUIET = {"market": MarketConfig(tick_interval=3600.0)}

T = TypeVar("T")

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def live_tasks() -> int:
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # no asyncio loop running: trio
        return int(trio.lowlevel.current_statistics().tasks_living)


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Seen:
    """The client's events as a consumer task takes them; :meth:`until` waits (bounded)
    for the first point where ``found(events)`` returns something true."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._changed = anyio.Event()

    async def consume(self, client: Any) -> None:
        async for event in client:
            self.events.append(event)
            changed, self._changed = self._changed, anyio.Event()
            changed.set()

    async def until(self, found: Callable[[list[Event]], T | None], what: str) -> T:
        with anyio.fail_after(10):
            while True:
                changed = self._changed
                result = found(self.events)
                if result:
                    return result
                await changed.wait()
        raise AssertionError(what)  # pragma: no cover (fail_after raises first)

    def since(self, mark: int) -> list[Event]:
        return self.events[mark:]


def order_updates(events: list[Event], order_id: str) -> list[Any]:
    return [
        order
        for event in events
        if isinstance(event, UserOrdersUpdate)
        for order in event.orders
        if order.order_id == order_id
    ]


def last_change(events: list[Event]) -> int | None:
    changes = [e.data.change_id for e in events if isinstance(e, BookUpdate) and e.channel == BOOK]
    return changes[-1] if changes else None


@pytest.mark.parametrize("deribit_venue", [QUIET], indirect=True)
async def test_an_order_lifecycle_survives_a_dropped_connection(
    deribit_venue: ServedDeribit,
) -> None:
    tasks, handles = live_tasks(), fds()
    venue, market = deribit_venue.venue, deribit_venue.venue.market
    machine = deribit_venue.machine(maintain_books=True)
    seen = Seen()
    backoff = Backoff(random.Random(1), initial=0.05, maximum=0.1, minimum=0.01)
    with anyio.fail_after(30):
        async with (
            deribit_venue.connect(machine, backoff=backoff) as client,
            anyio.create_task_group() as group,
        ):
            group.start_soon(seen.consume, client)
            # -- auth, subscriptions, the book ---------------------------------------
            subscribed = await client.request(Subscribe(channels=CHANNELS))
            assert set(subscribed.active) == set(CHANNELS)
            await seen.until(last_change, "a book snapshot")
            book = machine.book(BOOK)
            assert book is not None
            best_bid = book.best_bid()
            assert best_bid is not None
            # -- buy limit -> open ---------------------------------------------------
            price = float(int(best_bid[0]) - 100)
            placed = await client.request(
                Buy(instrument_name=INSTRUMENT, amount=10, type="limit", price=price)
            )
            order_id = placed.order.order_id
            assert (placed.order.order_state, placed.trades) == ("open", [])
            [opened] = await seen.until(lambda e: order_updates(e, order_id), "open")
            assert (opened.order_state, opened.price, opened.amount) == ("open", price, 10)
            # -- edit -> replaced ----------------------------------------------------
            edited = await client.request(Edit(order_id=order_id, amount=20, price=price - 50))
            assert edited.order.replaced
            assert (edited.order.amount, edited.order.price) == (20, price - 50)
            replaced = await seen.until(
                lambda e: [o for o in order_updates(e, order_id) if o.replaced], "replaced"
            )
            assert (replaced[0].amount, replaced[0].price) == (20, price - 50)
            # -- the venue drops the connection: auth and subscriptions come back ----
            mark = len(seen.events)
            deribit_venue.inject("disconnect")
            await seen.until(
                lambda e: any(isinstance(x, Connected) and x.attempt == 1 for x in e[mark:]),
                "a reconnect",
            )
            await seen.until(
                lambda e: (
                    (
                        {x.topic for x in e[mark:] if isinstance(x, SubscriptionActive)}
                        == set(CHANNELS)
                    )
                    and any(isinstance(x, BookResynced) and x.channel == BOOK for x in e[mark:])
                ),
                "the subscriptions and the book restored",
            )
            after = seen.since(mark)
            assert WebSocketClosed(code=1006, reason="", by="transport") in after
            assert sum(isinstance(x, Authenticated) for x in after) == 1
            ledger = machine.ledger
            assert set(ledger.active()) == set(ledger.desired()) == set(CHANNELS)
            still = await client.request(GetOrderState(order_id=order_id))
            assert (still.order_state, still.amount) == ("open", 20)  # no cancel on drop
            # -- a fill -> a trade and a position ------------------------------------
            filled = await client.request(Buy(instrument_name=INSTRUMENT, amount=10, type="market"))
            assert filled.order.order_state == "filled"
            assert filled.trades
            fill_id = filled.order.order_id
            trades = await seen.until(
                lambda e: [
                    t
                    for x in e
                    if isinstance(x, UserTradesUpdate)
                    for t in x.data
                    if t.order_id == fill_id
                ],
                "the fill's trade",
            )
            assert sum(t.amount for t in trades) == 10
            assert {t.trade_id for t in trades} == {t.trade_id for t in filled.trades}
            position = await client.request(GetPosition(instrument_name=INSTRUMENT))
            assert (position.direction, position.size) == ("buy", 10)
            # -- cancel -> cancelled -------------------------------------------------
            cancelled = await client.request(Cancel(order_id=order_id))
            assert cancelled.order_state == "cancelled"
            await seen.until(
                lambda e: [o for o in order_updates(e, order_id) if o.order_state == "cancelled"],
                "cancelled",
            )
            # -- the maintained book equals the venue's ------------------------------
            venue_book = market.book(INSTRUMENT)
            await seen.until(
                lambda e: last_change(e) == venue_book.change_id, "the last book change"
            )
            assert market.book(INSTRUMENT) == venue_book  # nothing moved meanwhile
            assert book.bids() == [tuple(level) for level in venue_book.bids]
            assert book.asks() == [tuple(level) for level in venue_book.asks]
            assert price - 50 not in [p for p, _ in book.bids()]  # the cancelled order
            group.cancel_scope.cancel()
    assert market.open_orders("1") == []
    assert len(venue.sockets) == 0  # both connections ended
    with anyio.fail_after(5):  # the server's side of the last connection winds down
        while (fds(), live_tasks()) != (handles, tasks):
            await anyio.sleep(0.01)
