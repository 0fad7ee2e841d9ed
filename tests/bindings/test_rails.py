"""tradewire's Rails client through all three bindings, against the reference Rails venue
over real sockets on 127.0.0.1: the token fetched over HTTP by ``tradewire.bindings.rails``,
the book equal to the venue's, an order placed and cancelled, and a token the venue
expires replaced by the keeper with every stream restored.  The async tests use the
pytest plugin's ``rails_venue`` fixture (asyncio and trio); the sync one serves the
venue with the sync binding's thread.  Every wait is bounded."""

from __future__ import annotations

import random
import threading
import time
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from tradewire.bindings import rails
from tradewire.bindings import sync as tw
from tradewire.bindings._venues import REGISTRY, connection_factory, start_reference
from tradewire.conformance.rails import DEMO_API_KEY, DEMO_API_SECRET, rails_market
from tradewire.protocol import Connected, Event, SubscriptionActive, UuidIds
from tradewire.protocol.rails import (
    BookSnapshot,
    CancelOrder,
    CancelOrderResult,
    ClientProtocol,
    CreateOrder,
    CreateOrderResult,
    InvalidCredentials,
    TokenWanted,
    UpgradeRefused,
)

QUIET = rails_market(tick_interval=3600.0, maker_levels=3, taker_rate=0.0, past_hours=0)
"""A market that does not move by itself: the book the client keeps can be compared."""


def same_book(machine: ClientProtocol, venue: Any, market: str = "BTC-USD") -> bool:
    book = machine.book(market)
    if book is None or book.stale:
        return False
    ours = (
        [(float(p), float(q)) for p, q in book.bids()],
        [(float(p), float(q)) for p, q in book.asks()],
    )
    theirs = venue.market.book(market)
    return ours == ([tuple(x) for x in theirs.bids], [tuple(x) for x in theirs.asks])


async def until(client: Any, done: Any, seconds: float = 15.0) -> list[Event]:
    events: list[Event] = []
    with anyio.fail_after(seconds):
        async for event in client:
            events.append(event)
            if done(events):
                return events
    raise AssertionError(f"the client stopped; got {events[-5:]!r}")


@pytest.mark.anyio
@pytest.mark.parametrize("rails_venue", [{"market": QUIET}], indirect=True)
async def test_a_token_over_http_a_book_and_an_order(rails_venue: Any) -> None:
    machine = rails_venue.machine(
        market="BTC-USD", subscriptions=("orders", "publicOrderBook"), maintain_books=True
    )
    async with rails_venue.connect(machine) as client:
        await until(client, lambda e: any(isinstance(x, BookSnapshot) for x in e))
        assert same_book(machine, rails_venue.venue)
        placed = await client.request(CreateOrder(side="buy", price="59000", quantity="0.01"))
        assert isinstance(placed, CreateOrderResult)
        order = placed.data.order
        assert order is not None
        assert order.order_status == "active"
        cancelled = await client.request(CancelOrder(order_id=order.order_id))
        assert isinstance(cancelled, CancelOrderResult)
        assert cancelled.data.order is not None
        assert cancelled.data.order.order_status == "cancelled"
    server = rails_venue.venue.sockets
    assert not any(s.machine.is_open for s in server.values())


@pytest.mark.anyio
async def test_an_expired_token_is_replaced_and_every_stream_restored(
    rails_venue: Any, kit: SimpleNamespace
) -> None:
    machine = rails_venue.machine(
        market="BTC-USD", subscriptions=("publicTrades", "orders"), ping_interval=None
    )
    async with rails_venue.connect(machine, backoff=kit.fast_backoff()) as client:
        await until(client, lambda e: sum(isinstance(x, SubscriptionActive) for x in e) == 2)
        rails_venue.inject("expire")  # the venue closes it; the old token is refused next
        events = await until(
            client, lambda e: any(isinstance(x, Connected) and x.attempt >= 2 for x in e)
        )
        restored = await until(
            client, lambda e: sum(isinstance(x, SubscriptionActive) for x in e) == 2
        )
    assert any(isinstance(e, UpgradeRefused) and e.status == 401 for e in events)
    assert any(isinstance(e, TokenWanted) and e.reason == "refused" for e in events)
    assert {e.topic for e in restored if isinstance(e, SubscriptionActive)} == {
        "publicTrades",
        "orders",
    }
    assert rails_venue.venue.feeds.connections == []  # all closed after the block


class _Mine(Exception):
    """An error of the caller's own code inside ``async with rails.connect(...)``."""


@pytest.mark.anyio
async def test_an_error_in_the_block_comes_out_as_it_is(rails_venue: Any) -> None:
    machine = rails_venue.machine(market="BTC-USD", subscriptions=("publicTrades",))
    with pytest.raises(_Mine):  # not an ExceptionGroup from the keeper's task group
        async with rails_venue.connect(machine):
            raise _Mine


@pytest.mark.anyio
async def test_bad_credentials_are_a_typed_error(rails_venue: Any) -> None:
    with pytest.raises(InvalidCredentials):
        await rails.fetch_token(rails_venue.http_url, DEMO_API_KEY, "wrong")


def test_the_sync_binding_fetches_keeps_and_uses_the_token(kit: SimpleNamespace) -> None:
    threads = set(threading.enumerate())
    venue = start_reference(
        REGISTRY["rails"], now=time.monotonic(), epoch_offset=tw.epoch_offset(), market=QUIET
    )
    machine = ClientProtocol(
        market="BTC-USD",
        ids=UuidIds(random.Random(5)),
        subscriptions=("orders", "publicOrderBook"),
        maintain_books=True,
    )
    with tw.serve(
        connection_factory(REGISTRY["rails"], venue), on_events=venue.on_events, app=venue
    ) as server:
        http_url = f"http://127.0.0.1:{server.port}"
        url = server.url  # ws://127.0.0.1:PORT/
        with rails.connect_sync(
            url, machine, http_url=http_url, api_key=DEMO_API_KEY, api_secret=DEMO_API_SECRET
        ) as client:
            deadline = time.monotonic() + 10
            for event in client.events(timeout=10):
                if isinstance(event, BookSnapshot) or time.monotonic() > deadline:
                    break
            with client._cond:
                assert same_book(machine, venue)
            placed = client.request(CreateOrder(side="sell", price="61000", quantity="0.01"), 10)
            assert isinstance(placed, CreateOrderResult)
            assert placed.data.order is not None
            cancelled = client.request(CancelOrder(order_id=placed.data.order.order_id), 10)
            assert isinstance(cancelled, CancelOrderResult)
    assert set(threading.enumerate()) - threads == set()
