"""Currency.com / Dzengi's entry in the venue registry (see :mod:`tradewire.bindings._venue_spec`).

WebSocket at ``/connect`` and REST under ``/api/v1`` and ``/api/v2`` on one port (the
reference venue; the live hosts of both brands are in
``tradewire.protocol.currencycom.HOSTS``).  Topics are the client's grammar
(``depth:BTC/USD``, ``trades:BTC/USD``, ``quote:BTC/USD``, ``ohlc:1m:BTC/USD``); all are
public.
"""

from __future__ import annotations

from typing import Any, TextIO

import msgspec

from tradewire.conformance._transcripts import VenueAdapter
from tradewire.protocol import ClientMachine, Event, LocalProtocolError, Secret, currencycom

from ._venue_spec import (
    ReferenceOptions,
    ReferenceVenue,
    URLShape,
    VenueEntry,
    book_line,
    ticker_line,
    trade_line,
)

__all__ = ["ENTRY"]


def _client(*, credentials: currencycom.Credentials | None = None, **options: Any) -> ClientMachine:
    return currencycom.ClientProtocol(credentials=credentials, **options)


def _credentials(client_id: str, secret: Secret) -> currencycom.Credentials:
    return currencycom.Credentials(api_key=client_id, secret=secret)


def _subscribe(topics: Any) -> currencycom.Subscribe:
    return currencycom.Subscribe(topics=tuple(topics))


def _check(name: str) -> bool:
    currencycom.parse_topic(name)  # LocalProtocolError names the topic
    return False


def _reference(options: ReferenceOptions) -> ReferenceVenue:
    from tradewire.conformance.currencycom import CurrencycomVenue, VenueConfig, market_config
    from tradewire.conformance.market import MarketConfig

    start_ms = round((options.now + options.epoch_offset) * 1000)
    base = options.market if options.market is not None else market_config()
    if not isinstance(base, MarketConfig):
        raise LocalProtocolError(f"invalid market {base!r}: expected a MarketConfig")
    market = msgspec.structs.replace(base, seed=options.seed, start_ms=start_ms)
    return CurrencycomVenue(VenueConfig(market=market), now=options.now, faults=options.faults)


async def _run_demo(seed: int, out: TextIO) -> int:
    from ._cli_demo_currencycom import demo

    return await demo(seed, out)


def _transcripts() -> VenueAdapter:
    from tradewire.conformance.currencycom import CurrencycomTranscripts

    return CurrencycomTranscripts()


def _lines(event: Event, machine: ClientMachine) -> list[str] | None:
    if isinstance(event, currencycom.DepthUpdate):
        topic = event.topic
        book = None
        if isinstance(machine, currencycom.ClientProtocol) and machine.options.maintain_books:
            book = machine.book(topic)
        if book is not None:
            return [book_line(topic, book.best_bid(), book.best_ask())]
        data = event.data
        bids = [(float(p), q) for p, q in data.bid.items()]
        asks = [(float(p), q) for p, q in data.ofr.items()]
        return [book_line(topic, max(bids) if bids else None, min(asks) if asks else None)]
    if isinstance(event, currencycom.TradeUpdate):
        trade = event.payload
        side = "buy" if trade.buyer else "sell"
        return [trade_line(event.topic, side, trade.price, trade.size)]
    if isinstance(event, currencycom.QuoteUpdate):
        quote = event.payload
        bid = None if quote.bid is None else (quote.bid, quote.bidQty or 0.0)
        ask = None if quote.ofr is None else (quote.ofr, quote.ofrQty or 0.0)
        return [ticker_line(event.topic, bid, ask, None)]
    if isinstance(event, currencycom.CandleUpdate | currencycom.Push):
        from ._cli_stream_format import data_json

        topic = event.topic if isinstance(event, currencycom.CandleUpdate) else event.destination
        return [f"{type(event).__name__} {topic} {data_json(event)}"]
    return None


ENTRY = VenueEntry(
    name="currencycom",
    title="Currency.com / Dzengi",
    client=_client,
    credentials=_credentials,
    subscribe=_subscribe,
    check_topic=_check,
    urls=URLShape(ws_path="/connect", rest="/api/{v1|v2}/{path}"),
    lines=_lines,
    reference=_reference,
    transcripts=_transcripts,
    demo=("tradewire-demo", "tradewire-demo-secret"),
    run_demo=_run_demo,
)
"""Currency.com: envelopes over WebSocket at ``/connect``, REST under ``/api/v2``."""
