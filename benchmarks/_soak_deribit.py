"""The Deribit entry of the soak's venue table (see :mod:`benchmarks.soak`).

The reference venue (:class:`~tradewire.conformance.deribit.DeribitVenue`) served by the
asyncio binding as ``tradewire serve deribit`` serves it (the registry's ``served``:
WebSocket and HTTP on one port), and tradewire's ``deribit.ClientProtocol`` with
``maintain_books=True`` and the demo credentials as each client.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tradewire.bindings._venues import REGISTRY, served
from tradewire.conformance.deribit import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DeribitVenue
from tradewire.conformance.market import MarketConfig
from tradewire.protocol import Command, Event, HexNonces, Secret, deribit

from ._soak_venue import SoakVenue

__all__ = ["DERIBIT"]

BOOKS = ("book.BTC-PERPETUAL.100ms", "book.ETH-PERPETUAL.100ms")
CHANNELS = (*BOOKS, "ticker.BTC-PERPETUAL.100ms", "trades.BTC-PERPETUAL.100ms")

#: A composed plan: every connection meets a gap, a duplicate, a reorder, a malformed
#: message, expired tokens and an ignored heartbeat answer, and is dropped after 45 s;
#: the 2nd connection is rate limited, the 3rd goes silent (a zombie), the 4th stops
#: reading (stall).  Each fault fires once per connection it applies to.
FAULTS = (
    "gap:book.BTC-PERPETUAL.100ms@5s,duplicate:book.ETH-PERPETUAL.100ms@9s,"
    "reorder:book.BTC-PERPETUAL.100ms@13s,malformed:ticker.BTC-PERPETUAL.100ms@17s,"
    "expire@21s,heartbeat@25s,disconnect@45s,ratelimit@20s#2,zombie@15s#3,stall@15s#4"
)

MARKET = MarketConfig(taker_rate=0.2)


class Served:
    """The running venue, as the soak sees it."""

    def __init__(self, venue: DeribitVenue, ws_url: str) -> None:
        self.venue = venue
        self.ws_url = ws_url

    def book(self, channel: str) -> tuple[int, list[Any], list[Any]]:
        """The venue's book behind ``channel``: its change_id, bids and asks."""
        snapshot = self.venue.market.book(channel.split(".")[1])
        return snapshot.change_id, list(snapshot.bids), list(snapshot.asks)

    def history(self, channel: str) -> list[tuple[list[Any], list[Any]]]:
        """Unused: Deribit's book events carry sequence numbers (``change_id``)."""
        _, bids, asks = self.book(channel)
        return [(bids, asks)]


@asynccontextmanager
async def serve(faults: str, seed: int) -> AsyncIterator[Served]:
    async with served(REGISTRY["deribit"], seed=seed, faults=faults, market=MARKET) as running:
        yield Served(running.venue, running.url)


def client(index: int, served: Any) -> deribit.ClientProtocol:
    """Client ``index``: demo credentials, books kept, its own signature nonces.

    The clients share one API key and connect in the same millisecond; with the default
    nonce (the timestamp, as ccxt does) their ``client_signature`` logins would repeat
    one (timestamp, nonce) pair, which the venue refuses as a replay.
    """
    credentials = deribit.Credentials(
        client_id=DEMO_CLIENT_ID, client_secret=Secret(DEMO_CLIENT_SECRET)
    )
    return deribit.ClientProtocol(
        credentials=credentials,
        maintain_books=True,
        nonces=HexNonces(random.Random(f"soak-{index}")),
    )


def subscribe(channels: tuple[str, ...]) -> Command:
    return deribit.Subscribe(channels=channels)


REQUESTS: tuple[tuple[str, float, Command], ...] = (
    ("public/get_time", 0.5, deribit.GetTime()),
    ("private/get_account_summary", 3.0, deribit.GetAccountSummary(currency="BTC")),
)
"""What each client asks, and how often (seconds between two of the kind)."""


def book_change(event: Event) -> tuple[str, int] | None:
    """``(channel, change_id)`` of a book notification."""
    if isinstance(event, deribit.BookUpdate):
        return event.channel, event.data.change_id
    return None


def counted(event: Event) -> str | None:
    """The name under which the soak counts ``event``, if it is one it counts."""
    if isinstance(event, deribit.BookGap):
        return "book gaps"
    if isinstance(event, deribit.BookResynced):
        return "books resynced"
    if isinstance(event, deribit.Authenticated):
        return "authenticated"
    return None


DERIBIT = SoakVenue(
    faults=FAULTS,
    channels=CHANNELS,
    books=BOOKS,
    serve=serve,
    client=client,
    subscribe=subscribe,
    requests=REQUESTS,
    book_change=book_change,
    counted=counted,
)
