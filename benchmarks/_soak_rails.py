"""The Rails entry of the soak's venue table (see :mod:`benchmarks.soak`).

The reference venue (:class:`~tradewire.conformance.rails.RailsVenue`) served as
``tradewire serve rails`` serves it (the registry's ``served``: WebSocket and the token
endpoint on one port), and tradewire's ``rails.ClientProtocol`` on ``market=ALL`` with
``maintain_books=True`` as each client, connected the registry's way
(``open_client``: the token is fetched over HTTP with the demo key first, and kept
fresh).  A book is a snapshot then deltas with no sequence number, so books are compared
with the venue's recent states (``sequenced`` off, :mod:`benchmarks._soak_history`).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from decimal import Decimal
from typing import Any

from tradewire.bindings import asyncio as aio
from tradewire.bindings._venues import REGISTRY, open_client, served
from tradewire.conformance.rails import DEMO_API_KEY, DEMO_API_SECRET, RailsVenue
from tradewire.protocol import (
    Command,
    Event,
    Secret,
    SubscriptionActive,
    UuidIds,
    rails,
)
from tradewire.protocol.rails.server import decimal_string

from ._soak_history import BookHistory, State
from ._soak_venue import SoakVenue

__all__ = ["RAILS"]

BOOKS = ("BTC-USD", "ETH-USD")  # the client keeps a book per market (``book(market)``)
CHANNELS = ("publicOrderBook", "publicTrades", "orders", "trades")

#: A composed plan of the faults a Rails client can ride through: every connection
#: meets a duplicated book delta (idempotent: each level is a new total), a reordered
#: public trade and a malformed book message (the client doubts every book and asks for
#: snapshots), and its token expires after 45 s (closed 1008; the client fetches a new
#: one over HTTP and reconnects).  The first connections (one per client, numbered
#: 1 to 4) each meet a liveness fault that comes first: the 1st and 2nd ignore a ping
#: (the client pings every 30 s; its pong deadline drops them at 40 s), the 2nd's order
#: pool is emptied (429), the 3rd goes silent (a zombie), the 4th stops reading (stall).
#: Later numbers are not used: a refused upgrade (an expired token) takes a number too.
#: Left out on purpose: ``gap`` and ``reorder`` of book deltas, which no Rails client
#: can see (no sequence numbers, spec 7): its book stays wrong until its next snapshot
#: (``--faults gap:BTC-USD@5s`` shows it as mismatches).
FAULTS = (
    "duplicate:publicOrderBook.BTC-USD@5s,reorder:publicTrades.BTC-USD@9s,"
    "malformed:publicOrderBook.ETH-USD@13s,heartbeat@25s#1,heartbeat@25s#2,"
    "ratelimit@20s#2,zombie@15s#3,stall@15s#4,expire@45s"
)


class Served:
    """The running venue, as the soak sees it."""

    def __init__(self, venue: RailsVenue, ws_url: str, http_url: str | None) -> None:
        self.venue = venue
        self.ws_url = ws_url
        self.http_url = http_url
        self.history = BookHistory({market: self._reader(market) for market in BOOKS})
        feeds = venue.feeds
        feeds.publish = self.history.after(feeds.publish)  # type: ignore[method-assign]

    def _reader(self, market: str) -> Any:
        def read() -> State:
            book = self.venue.market.book(market)
            price_places, size_places = self.venue.feeds.places(market)

            def levels(side: Any) -> list[Any]:
                return [
                    (
                        Decimal(decimal_string(p, price_places)),
                        Decimal(decimal_string(q, size_places)),
                    )
                    for p, q in side
                ]

            return levels(book.bids), levels(book.asks)

        return read

    def book(self, channel: str) -> tuple[int, list[Any], list[Any]]:
        """The venue's current book (no sequence number: 0)."""
        bids, asks = self.history(channel)[-1]
        return 0, bids, asks


@asynccontextmanager
async def serve(faults: str, seed: int) -> AsyncIterator[Served]:
    async with served(REGISTRY["rails"], seed=seed, faults=faults) as running:
        assert isinstance(running.venue, RailsVenue)
        yield Served(running.venue, running.url, running.http_url)


def client(index: int, served: Any) -> rails.ClientProtocol:
    """Client ``index``: every market (``market=ALL``), books kept, its own ids."""
    return rails.ClientProtocol(
        market=rails.MARKET_ALL,
        maintain_books=True,
        ids=UuidIds(random.Random(f"soak-{index}")),
    )


def connect(served: Any, machine: Any) -> AbstractAsyncContextManager[Any]:
    """The registry's way: the token over HTTP with the demo key, kept fresh."""
    return open_client(  # type: ignore[no-any-return]
        REGISTRY["rails"],
        aio,
        served.ws_url,
        machine,
        http_url=served.http_url,
        credentials=rails.TokenClient(DEMO_API_KEY, Secret(DEMO_API_SECRET)),
    )


def subscribe(channels: tuple[str, ...]) -> Command:
    return rails.Subscribe(subscriptions=channels)


REQUESTS: tuple[tuple[str, float, Command], ...] = (
    ("emitPublicCompletedOrders", 1.0, rails.EmitPublicTrades(market="BTC-USD")),
    (
        "createOrder market buy",
        4.0,
        rails.CreateOrder(
            market="BTC-USD",
            side="buy",
            trade_type="market",
            price="60000",
            quantity="0.0001",
            max_slippage="0.2",
        ),
    ),
    (
        "createOrder market sell",
        4.0,
        rails.CreateOrder(
            market="BTC-USD",
            side="sell",
            trade_type="market",
            price="60000",
            quantity="0.0001",
            max_slippage="0.2",
        ),
    ),
)
"""What each client asks, and how often (seconds between two of the kind): the public
tape, and market orders that trade against the book (so the client's own orders move
the books it compares, and its ``orders`` and ``trades`` streams carry its fills)."""


def book_change(event: Event) -> tuple[str, int] | None:
    """``(market, 0)`` of a book message (it has no sequence number)."""
    if isinstance(event, rails.BookDelta | rails.BookSnapshot) and event.market:
        return event.market, 0
    return None


def counted(event: Event) -> str | None:
    if isinstance(event, rails.BookResynced):
        return "books resynced"
    if isinstance(event, rails.OrderFilled | rails.OrderPartiallyFilled):
        return "own fills"
    if isinstance(event, rails.UserTrades):
        return "own trade messages"
    if isinstance(event, SubscriptionActive):
        return "subscriptions active"
    return None


RAILS = SoakVenue(
    faults=FAULTS,
    channels=CHANNELS,
    books=BOOKS,
    serve=serve,
    client=client,
    subscribe=subscribe,
    requests=REQUESTS,
    book_change=book_change,
    counted=counted,
    connect=connect,
    sequenced=False,
)
