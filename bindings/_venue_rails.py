"""Rails' entry in the venue registry (see :mod:`tradewire.bindings._venue_spec`).

Topics are Rails' streams (``orders``, ``trades``, ``publicTrades``,
``publicOrderBook``, spec 1 of ``docs/venues/rails.md``); the client the command line
and the pytest plugin make is on ``market=ALL`` by default, so a stream shows every
market (pass ``market=`` for one).  Every connection carries a token, so every topic
needs credentials (an API key and secret; the reference venue's demo key works on it):
the entry's ``connect`` fetches the token over HTTP (``POST /api/v1/token`` on the HTTP
base) and keeps it fresh (``tradewire.bindings.rails``).

Stream lines: ``book publicOrderBook.MARKET bid PxQ ask PxQ`` from the maintained book,
``trade publicTrades.MARKET SIDE PxQ`` per public trade (the taker's side), and
``EVENT TOPIC JSON`` for the account's own messages (``orders.MARKET``, ``trades``).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any, TextIO

from tradewire.conformance._transcripts import VenueAdapter
from tradewire.protocol import ClientMachine, Event, LocalProtocolError, Secret, UuidIds, rails

from ._venue_spec import (
    ReferenceOptions,
    ReferenceVenue,
    URLShape,
    VenueEntry,
    book_line,
    trade_line,
)

__all__ = ["ENTRY"]


def _client(*, credentials: Any = None, **options: Any) -> ClientMachine:
    """A Rails client (``market=ALL`` unless given; ids from the system's randomness);
    ``credentials`` (a ``rails.TokenClient``) are the entry's ``connect``'s business."""
    options.setdefault("market", rails.MARKET_ALL)
    options.setdefault("ids", UuidIds(random.SystemRandom()))
    return rails.ClientProtocol(**options)


def _credentials(client_id: str, secret: Secret) -> rails.TokenClient:
    return rails.TokenClient(client_id, secret)


def _subscribe(topics: Sequence[str]) -> rails.Subscribe:
    return rails.Subscribe(subscriptions=tuple(topics))


def _check(name: str) -> bool:
    if name not in rails.STREAMS:
        accepted = ", ".join(rails.STREAMS)
        raise LocalProtocolError(f"invalid stream {name!r}; accepted values: {accepted}")
    return True  # every Rails connection carries a token


def _reference(options: ReferenceOptions) -> ReferenceVenue:
    import msgspec

    from tradewire.conformance.market import MarketConfig
    from tradewire.conformance.rails import RailsVenue, VenueConfig, rails_market

    start_ms = round((options.now + options.epoch_offset) * 1000)
    base = options.market if options.market is not None else rails_market()
    if not isinstance(base, MarketConfig):
        raise LocalProtocolError(f"invalid market {base!r}: expected a MarketConfig")
    market = msgspec.structs.replace(base, seed=options.seed, start_ms=start_ms)
    return RailsVenue(VenueConfig(market=market), now=options.now, faults=options.faults)


def _transcripts() -> VenueAdapter:
    from tradewire.conformance.rails import RailsTranscripts

    return RailsTranscripts()


@asynccontextmanager
async def _connect(
    binding: ModuleType,
    url: str,
    machine: ClientMachine,
    *,
    http_url: str | None,
    credentials: Any,
    **options: Any,
) -> AsyncIterator[Any]:
    from . import rails as tokens

    inner = getattr(machine, "inner", machine)
    if not isinstance(inner, rails.ClientProtocol):
        raise LocalProtocolError("invalid machine: expected a rails.ClientProtocol")
    if not isinstance(credentials, rails.TokenClient) or http_url is None:
        raise LocalProtocolError(
            "Rails needs an API key and secret, and the HTTP base of its token endpoint"
        )
    async with tokens.connect(
        url, inner, http_url=http_url, api_key=credentials, binding=binding, **options
    ) as client:
        yield client


async def _run_demo(seed: int, out: TextIO) -> None:
    from ._venue_rails_demo import run_demo

    await run_demo(seed, out)


def _json(event: Any) -> str:
    from ._cli_stream_format import data_json

    return data_json(event)


def _lines(event: Event, machine: ClientMachine) -> list[str] | None:
    if isinstance(event, rails.BookDelta | rails.BookSnapshot):
        market = event.market or getattr(machine, "market", "-")
        topic = f"publicOrderBook.{market}"
        book = (
            machine.book(market)
            if isinstance(machine, rails.ClientProtocol) and isinstance(market, str)
            else None
        )
        if book is None or book.stale:
            return []  # nothing trusted to show (before the snapshot, after a doubt)
        bid, ask = book.best_bid(), book.best_ask()
        return [
            book_line(
                topic,
                None if bid is None else (float(bid[0]), float(bid[1])),
                None if ask is None else (float(ask[0]), float(ask[1])),
            )
        ]
    if isinstance(event, rails.PublicTrades | rails.PublicTradesSnapshot):
        topic = f"publicTrades.{event.market or '-'}"
        return [
            trade_line(topic, t.order_type, float(t.price), float(t.quantity))
            for t in event.data.orders
        ]
    if isinstance(event, rails.UserTrades):
        return [f"UserTrades trades {_json(event)}"]
    if isinstance(event, _ORDER_MESSAGES):
        market = event.market or "-"
        return [f"{type(event).__name__} orders.{market} {_json(event)}"]
    if isinstance(event, rails.UnknownMessage):
        return [f"UnknownMessage {event.result_type or '-'} {_json(event)}"]
    return None  # session events (answers, subscriptions, the token): status lines on stderr


_ORDER_MESSAGES = (
    rails.CreateOrderResult,
    rails.CancelOrderResult,
    rails.ModifyOrderResult,
    rails.OrderRejected,
    rails.OrderFilled,
    rails.OrderPartiallyFilled,
    rails.OrderUpdate,
)


ENTRY = VenueEntry(
    name="rails",
    title="Rails",
    client=_client,
    credentials=_credentials,
    subscribe=_subscribe,
    check_topic=_check,
    urls=URLShape(ws_path="/", rest="/api/v1/{token|markets}"),
    lines=_lines,
    reference=_reference,
    transcripts=_transcripts,
    demo=("tradewire-demo", "tradewire-demo-secret"),
    run_demo=_run_demo,
    connect=_connect,
)
"""Rails: WebSocket at ``/?market=...&subscriptions=...`` with the token as subprotocol,
HTTP ``POST /api/v1/token`` and ``GET /api/v1/markets`` on the same port."""
