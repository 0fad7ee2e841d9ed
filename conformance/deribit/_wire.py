"""The market's records as Deribit wire models (``tradewire.protocol.deribit``).

The market's records already carry Deribit's field names, so each conversion is a
``msgspec.convert(..., from_attributes=True)`` into the protocol's wire model: fields the
wire model does not have (the record's ``account``, an instrument's ``amount_step``) are
left out, and optional fields that are ``None`` are omitted on the wire, as Deribit omits
absent fields.  :func:`shared` wraps a payload, pre-encoded, into one
:class:`~tradewire.protocol.deribit.server.Broadcast` for every subscriber of a channel:
the notification's body and its WebSocket frame are then built once, not once per
connection.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from tradewire.protocol.deribit import (
    AccountSummary,
    BookData,
    GroupedBookData,
    OrderBookSnapshot,
    PriceIndex,
    Ticker,
)
from tradewire.protocol.deribit import IndexPrice as IndexPriceResult
from tradewire.protocol.deribit.server import Broadcast

from .. import market as mk

__all__ = [
    "book_change",
    "book_snapshot",
    "convert",
    "encoded",
    "grouped_book",
    "index_price",
    "index_price_result",
    "order_book",
    "shared",
    "summary",
]

T = TypeVar("T")

_ENCODER = msgspec.json.Encoder()


def convert(record: Any, model: type[T]) -> T:
    """``record`` (a market record) as wire model ``model``."""
    return msgspec.convert(record, model, from_attributes=True)


def encoded(data: Any) -> msgspec.Raw:
    """``data`` encoded once, to pass as notification data to many connections."""
    return msgspec.Raw(_ENCODER.encode(data))


def shared(data: Any) -> Broadcast:
    """``data`` as one notification for many connections (encoded once, framed once)."""
    return Broadcast(encoded(data))


def book_snapshot(book: mk.BookSnapshot) -> BookData:
    """The first notification of ``book.{instrument}.{interval}`` (spec 3.3)."""
    return BookData(
        type="snapshot",
        instrument_name=book.instrument_name,
        timestamp=book.timestamp,
        change_id=book.change_id,
        bids=[("new", price, amount) for price, amount in book.bids],
        asks=[("new", price, amount) for price, amount in book.asks],
    )


def book_change(change: mk.BookChange) -> BookData:
    return BookData(
        type="change",
        instrument_name=change.instrument_name,
        timestamp=change.timestamp,
        change_id=change.change_id,
        prev_change_id=change.prev_change_id,
        bids=list(change.bids),
        asks=list(change.asks),
    )


def grouped_book(book: mk.GroupedBook) -> GroupedBookData:
    return GroupedBookData(
        instrument_name=book.instrument_name,
        timestamp=book.timestamp,
        change_id=book.change_id,
        bids=list(book.bids),
        asks=list(book.asks),
    )


def index_price(record: mk.IndexPrice) -> PriceIndex:
    """``deribit_price_index.{index_name}`` data."""
    return PriceIndex(index_name=record.index_name, price=record.price, timestamp=record.timestamp)


def index_price_result(record: mk.IndexPrice) -> IndexPriceResult:
    """``public/get_index_price`` result."""
    return IndexPriceResult(
        index_price=record.price, estimated_delivery_price=record.estimated_delivery_price
    )


def order_book(ticker: mk.Ticker, book: mk.BookSnapshot, depth: int | None) -> OrderBookSnapshot:
    """``public/get_order_book``: the ticker plus ``depth`` levels a side (spec 6.2).

    Unlike the ticker channel, an empty side's best price is ``0.0``.
    """
    fields = msgspec.structs.asdict(convert(ticker, Ticker))
    fields["best_bid_price"] = ticker.best_bid_price or 0.0
    fields["best_ask_price"] = ticker.best_ask_price or 0.0
    bids, asks = list(book.bids), list(book.asks)
    if depth is not None:
        bids, asks = bids[:depth], asks[:depth]
    fields["timestamp"] = book.timestamp
    return OrderBookSnapshot(**fields, change_id=book.change_id, bids=bids, asks=asks)


def summary(
    portfolio: mk.Portfolio, *, extended: bool = False, account_id: int = 0, username: str = ""
) -> AccountSummary:
    """``private/get_account_summary`` / ``user.portfolio.*`` data; ``extended`` adds the
    account's identity, rate ``limits`` (spec 7.3) and ``fees``."""
    result = convert(portfolio, AccountSummary)
    if not extended:
        return result
    return msgspec.structs.replace(
        result,
        id=account_id,
        username=username,
        email=f"{username}@tradewire.invalid",
        system_name=username,
        type="main",
        creation_timestamp=portfolio.creation_timestamp,
        limits=LIMITS,
        fees=[],
    )


LIMITS: dict[str, Any] = {
    "limits_per_currency": False,
    "non_matching_engine": {"burst": 100, "rate": 20},
    "matching_engine": {
        "trading": {"total": {"burst": 20, "rate": 5}},
        "spot": {"burst": 250, "rate": 200},
        "cancel_all": {"burst": 250, "rate": 200},
        "maximum_quotes": {"burst": 500, "rate": 500},
        "maximum_mass_quotes": {"burst": 10, "rate": 10},
        "guaranteed_mass_quotes": {"burst": 2, "rate": 2},
    },
}
"""``limits`` of an extended account summary: the default credit pools as requests per
second (20/s, burst 100) and matching-engine tier 4 (spec 7.3)."""
