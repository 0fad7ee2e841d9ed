"""Typed Deribit commands for market data (spec 6); all public.

``public/get_instruments`` always sends ``currency`` (``"any"`` unless given): the
reference marks it required, while ccxt calls it with no params and the emulator must
treat a missing one as ``"any"`` (spec 6.1), so the default covers both directions: a
decoded request without it reads as ``"any"``.
"""

from __future__ import annotations

import msgspec

from ._channels import KINDS
from ._commands import (
    DeribitCommand,
    require,
    require_bool,
    require_choice,
    require_currency,
    require_int,
    require_text,
)
from ._limits import RateClass
from ._models_market import Currency, IndexPrice, Instrument, OrderBookSnapshot, Ticker, TradesPage

__all__ = [
    "ORDER_BOOK_DEPTHS",
    "SORTINGS",
    "GetCurrencies",
    "GetIndexPrice",
    "GetInstruments",
    "GetLastTradesByInstrument",
    "GetOrderBook",
    "GetOrderBookByInstrumentId",
    "GetTicker",
]

ORDER_BOOK_DEPTHS = (1, 5, 10, 20, 50, 100, 1000, 10000)
SORTINGS = ("asc", "desc", "default")


def _any() -> str:
    return "any"


class GetInstruments(DeribitCommand, frozen=True, kw_only=True):
    """``public/get_instruments`` (10 000 credits, spec 7.3)."""

    method = "public/get_instruments"
    rate_class = RateClass.GET_INSTRUMENTS
    result_type = list[Instrument]

    currency: str = msgspec.field(default_factory=_any)
    kind: str | None = None
    expired: bool | None = None

    def validate(self) -> None:
        require_currency(self.currency, allow_any=True)
        require_choice(self.kind, "kind", KINDS)
        require_bool(self.expired, "expired")


class GetCurrencies(DeribitCommand, frozen=True, kw_only=True):
    method = "public/get_currencies"
    result_type = list[Currency]


def _depth(depth: int | None) -> None:
    if depth is not None:
        require(isinstance(depth, int) and not isinstance(depth, bool), "depth", "an int")
    require_choice(depth, "depth", ORDER_BOOK_DEPTHS)


class GetOrderBook(DeribitCommand, frozen=True, kw_only=True):
    """``public/get_order_book``: ticker fields plus ``[price, amount]`` levels (spec 6.2)."""

    method = "public/get_order_book"
    result_type = OrderBookSnapshot

    instrument_name: str
    depth: int | None = None

    def validate(self) -> None:
        require_text(self.instrument_name, "instrument_name")
        _depth(self.depth)


class GetOrderBookByInstrumentId(DeribitCommand, frozen=True, kw_only=True):
    method = "public/get_order_book_by_instrument_id"
    result_type = OrderBookSnapshot

    instrument_id: int
    depth: int | None = None

    def validate(self) -> None:
        require_int(self.instrument_id, "instrument_id", minimum=0)
        _depth(self.depth)


class GetTicker(DeribitCommand, frozen=True, kw_only=True):
    """``public/ticker`` (spec 6.3)."""

    method = "public/ticker"
    result_type = Ticker

    instrument_name: str

    def validate(self) -> None:
        require_text(self.instrument_name, "instrument_name")


class GetIndexPrice(DeribitCommand, frozen=True, kw_only=True):
    """``public/get_index_price``, e.g. ``index_name="btc_usd"`` (spec 6.4)."""

    method = "public/get_index_price"
    result_type = IndexPrice

    index_name: str

    def validate(self) -> None:
        require_text(self.index_name, "index_name")


class GetLastTradesByInstrument(DeribitCommand, frozen=True, kw_only=True):
    """``public/get_last_trades_by_instrument``; ``count`` 1..1000 (spec 6.4)."""

    method = "public/get_last_trades_by_instrument"
    result_type = TradesPage

    instrument_name: str
    start_seq: int | None = None
    end_seq: int | None = None
    start_timestamp: int | None = None
    end_timestamp: int | None = None
    count: int | None = None
    sorting: str | None = None

    def validate(self) -> None:
        require_text(self.instrument_name, "instrument_name")
        for name in ("start_seq", "end_seq", "start_timestamp", "end_timestamp"):
            require_int(getattr(self, name), name, minimum=0)
        require_int(self.count, "count", minimum=1)
        require(self.count is None or self.count <= 1000, "count", "an int from 1 to 1000")
        require_choice(self.sorting, "sorting", SORTINGS)
