"""The Currency.com entry of the soak's venue table (see :mod:`benchmarks.soak`).

The reference venue (:class:`~tradewire.conformance.currencycom.CurrencycomVenue`)
served as ``tradewire serve currencycom`` serves it (the registry's ``served``), and
tradewire's ``currencycom.ClientProtocol`` with ``maintain_books=True`` and the demo key
as each client.  A depth push is the whole book (20 levels a side) with no sequence
number, so books are compared with the venue's recent states (``sequenced`` off,
:mod:`benchmarks._soak_history`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tradewire.bindings._venues import REGISTRY, served
from tradewire.conformance.currencycom import DEMO_KEY, DEMO_SECRET, CurrencycomVenue
from tradewire.protocol import Command, Event, Secret, SubscriptionActive, currencycom

from ._soak_history import BookHistory, State
from ._soak_venue import SoakVenue

__all__ = ["CURRENCYCOM"]

DEPTH = 20  # levels a side in a depth push (the venue's BOOK_DEPTH)
BOOKS = ("depth:BTC/USD", "depth:ETH/USD")
CHANNELS = (*BOOKS, "trades:BTC/USD", "quote:BTC/USD", "ohlc:1m:BTC/USD")

#: A composed plan of the faults the venue applies (``gap`` and ``expire`` do not apply:
#: every depth push is the whole book, requests are signed one by one): every
#: connection meets a duplicate and a reordered depth push, a malformed quote, a binary
#: frame instead of a trade, an ignored ping (the client's pong deadline drops it) and
#: is dropped after 45 s; the 2nd connection is rate limited (-1003, the client retries),
#: the 3rd goes silent (a zombie), the 4th stops reading (stall), the 5th is closed as
#: idle.  Targets name topics with ``.`` for ``:`` and ``_`` for ``/``.
FAULTS = (
    "duplicate:depth.BTC_USD@5s,reorder:depth.ETH_USD@9s,malformed:quote.BTC_USD@13s,"
    "malformed=binary:trades.BTC_USD@17s,heartbeat@25s,disconnect@45s,ratelimit@20s#2,"
    "zombie@15s#3,stall@15s#4,idle@10s#5"
)


class Served:
    """The running venue, as the soak sees it."""

    def __init__(self, venue: CurrencycomVenue, ws_url: str) -> None:
        self.venue = venue
        self.ws_url = ws_url
        self.history = BookHistory({channel: self._reader(channel) for channel in BOOKS})
        venue.publish = self.history.after(venue.publish)  # type: ignore[method-assign]

    def _reader(self, channel: str) -> Any:
        symbol = channel.partition(":")[2]

        def read() -> State:
            book = self.venue.market.book(symbol)
            return list(book.bids[:DEPTH]), list(book.asks[:DEPTH])

        return read

    def book(self, channel: str) -> tuple[int, list[Any], list[Any]]:
        """The venue's current book (no sequence number: 0)."""
        bids, asks = self.history(channel)[-1]
        return 0, bids, asks


@asynccontextmanager
async def serve(faults: str, seed: int) -> AsyncIterator[Served]:
    async with served(REGISTRY["currencycom"], seed=seed, faults=faults) as running:
        assert isinstance(running.venue, CurrencycomVenue)
        yield Served(running.venue, running.url)


def client(index: int, served: Any) -> currencycom.ClientProtocol:
    """Client ``index``: the demo key (every private request signed), books kept."""
    credentials = currencycom.Credentials(api_key=DEMO_KEY, secret=Secret(DEMO_SECRET))
    return currencycom.ClientProtocol(credentials=credentials, maintain_books=True)


def subscribe(channels: tuple[str, ...]) -> Command:
    return currencycom.Subscribe(topics=channels)


REQUESTS: tuple[tuple[str, float, Command], ...] = (
    ("/api/v2/time", 0.5, currencycom.GetServerTime()),
    ("/api/v2/depth", 2.0, currencycom.GetDepth(symbol="BTC/USD", limit=5)),
    ("/api/v2/account (signed)", 3.0, currencycom.GetAccount()),
    ("/api/v2/openOrders (signed)", 5.0, currencycom.GetOpenOrders()),
)
"""What each client asks, and how often (seconds between two of the kind)."""


def book_change(event: Event) -> tuple[str, int] | None:
    """``(topic, 0)`` of a depth push (it has no sequence number)."""
    if isinstance(event, currencycom.DepthUpdate):
        return event.topic, 0
    return None


def counted(event: Event) -> str | None:
    if isinstance(event, currencycom.DepthUpdate):
        return "depth pushes"
    if isinstance(event, currencycom.TradeUpdate):
        return "trades"
    if isinstance(event, SubscriptionActive):
        return "subscriptions active"
    return None


CURRENCYCOM = SoakVenue(
    faults=FAULTS,
    channels=CHANNELS,
    books=BOOKS,
    serve=serve,
    client=client,
    subscribe=subscribe,
    requests=REQUESTS,
    book_change=book_change,
    counted=counted,
    sequenced=False,
)
