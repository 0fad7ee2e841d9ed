"""Deribit's entry in the venue registry (see :mod:`tradewire.bindings._venue_spec`)."""

from __future__ import annotations

from typing import Any

import msgspec

from tradewire.conformance._transcripts import VenueAdapter
from tradewire.protocol import ClientMachine, Event, LocalProtocolError, Secret, deribit

from ._venue_spec import (
    Level,
    ReferenceOptions,
    ReferenceVenue,
    URLShape,
    VenueEntry,
    book_line,
    ticker_line,
    trade_line,
)

__all__ = ["ENTRY"]


def _client(*, credentials: deribit.Credentials | None = None, **options: Any) -> ClientMachine:
    return deribit.ClientProtocol(credentials=credentials, **options)


def _credentials(client_id: str, secret: Secret) -> deribit.Credentials:
    return deribit.Credentials(client_id=client_id, client_secret=secret)


def _subscribe(channels: Any) -> deribit.Subscribe:
    return deribit.Subscribe(channels=list(channels))


def _check(name: str) -> bool:
    try:
        return deribit.parse_channel(name).needs_auth
    except LocalProtocolError as exc:
        reason = " ".join(str(exc).split())
        if repr(name) in reason:
            raise LocalProtocolError(reason) from None
        raise LocalProtocolError(f"invalid channel {name!r}: {reason}") from None


def _reference(options: ReferenceOptions) -> ReferenceVenue:
    from tradewire.conformance.deribit import DeribitVenue, VenueConfig
    from tradewire.conformance.market import MarketConfig

    start_ms = round((options.now + options.epoch_offset) * 1000)
    base = options.market if options.market is not None else MarketConfig()
    if not isinstance(base, MarketConfig):
        raise LocalProtocolError(f"invalid market {base!r}: expected a MarketConfig")
    market = msgspec.structs.replace(base, seed=options.seed, start_ms=start_ms)
    return DeribitVenue(VenueConfig(market=market), now=options.now, faults=options.faults)


def _transcripts() -> VenueAdapter:
    from tradewire.conformance.deribit import DeribitTranscripts

    return DeribitTranscripts()


def _best(levels: list[Any], *, bids: bool) -> Level | None:
    """The best level of a snapshot's actions (``[action, price, amount]``)."""
    prices = [(float(p), float(a)) for _, p, a in levels if a]
    if not prices:
        return None
    return max(prices) if bids else min(prices)


def _lines(event: Event, machine: ClientMachine) -> list[str] | None:
    if not isinstance(event, deribit.ChannelEvent):
        return None  # session events: status lines on stderr
    topic = event.channel
    if isinstance(event, deribit.BookUpdate | deribit.GroupedBookUpdate):
        book = machine.book(topic) if isinstance(machine, deribit.ClientProtocol) else None
        if book is not None:
            if book.stale:
                return []  # a gap: nothing until the resync's snapshot
            return [book_line(topic, book.best_bid(), book.best_ask())]
        if isinstance(event, deribit.GroupedBookUpdate):
            data = event.data
            bid = (data.bids[0][0], data.bids[0][1]) if data.bids else None
            ask = (data.asks[0][0], data.asks[0][1]) if data.asks else None
            return [book_line(topic, bid, ask)]
        if not event.data.is_snapshot:
            return []  # a change alone says nothing about the best levels
        data_bids, data_asks = event.data.bids, event.data.asks
        return [book_line(topic, _best(data_bids, bids=True), _best(data_asks, bids=False))]
    if isinstance(event, deribit.TradesUpdate):
        return [trade_line(topic, t.direction, t.price, t.amount) for t in event.data]
    if isinstance(event, deribit.TickerUpdate):
        ticker = event.data
        bid = (
            None
            if ticker.best_bid_price is None
            else (ticker.best_bid_price, ticker.best_bid_amount)
        )
        ask = (
            None
            if ticker.best_ask_price is None
            else (ticker.best_ask_price, ticker.best_ask_amount)
        )
        return [ticker_line(topic, bid, ask, ticker.last_price)]
    return [f"{type(event).__name__} {topic} {_json(event)}"]


def _json(event: Any) -> str:
    from ._cli_stream_format import data_json

    return data_json(event)


ENTRY = VenueEntry(
    name="deribit",
    title="Deribit",
    client=_client,
    credentials=_credentials,
    subscribe=_subscribe,
    check_topic=_check,
    urls=URLShape(ws_path="/ws/api/v2", rest="/api/v2/{public|private}/{method}"),
    lines=_lines,
    reference=_reference,
    transcripts=_transcripts,
    demo=("tradewire-demo", "tradewire-demo-secret"),
)
"""Deribit: JSON-RPC over WebSocket at ``/ws/api/v2`` and over HTTP under ``/api/v2``."""
