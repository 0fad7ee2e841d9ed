"""Wire models for market data: tickers, books, trades, instruments, currencies (spec 3, 6).

Conventions are in ``_models_session``.  Levels stay tuples exactly as Deribit sends them
(``[action, price, amount]`` for ``book.{instrument}.{interval}``, ``[price, amount]`` for
grouped books and ``public/get_order_book``), so the shared
:class:`~tradewire.protocol.OrderBook` applies them with no conversion.
"""

from __future__ import annotations

from typing import Literal

from msgspec import UNSET, UnsetType

from ._models_session import WireModel

__all__ = [
    "BookAction",
    "BookData",
    "Candle",
    "Currency",
    "Greeks",
    "GroupedBookData",
    "IncrementalTicker",
    "IndexPrice",
    "Instrument",
    "OrderBookSnapshot",
    "PerpetualInterest",
    "PlatformState",
    "PriceIndex",
    "PriceLevel",
    "PublicTrade",
    "Quote",
    "TickSizeStep",
    "Ticker",
    "TickerStats",
    "TradesPage",
    "WithdrawalPriority",
]

BookAction = tuple[Literal["new", "change", "delete"], float, float]
"""``[action, price, amount]``: amount is the new absolute size, 0 on delete (spec 3.3)."""

PriceLevel = tuple[float, float]
"""``[price, amount]``."""


class TickerStats(WireModel, frozen=True, kw_only=True):
    """24-hour statistics; ``high``/``low`` are ``None`` when nothing traded."""

    high: float | None = None
    low: float | None = None
    price_change: float | None = None
    volume: float | None = None
    volume_usd: float | None = None
    volume_notional: float | None = None


class Greeks(WireModel, frozen=True, kw_only=True):
    delta: float
    gamma: float
    rho: float
    theta: float
    vega: float


class Ticker(WireModel, frozen=True, kw_only=True):
    """``ticker.{instrument}.{interval}`` data and the ``public/ticker`` result (spec 3.4).

    ``best_*_price`` is ``None`` when that side is empty.  Futures add funding fields,
    options add ``greeks`` and the ``*_iv`` / ``underlying_*`` fields; ``delivery_price``
    appears only when ``state == "closed"``.
    """

    instrument_name: str
    timestamp: int
    state: str
    best_bid_price: float | None
    best_bid_amount: float
    best_ask_price: float | None
    best_ask_amount: float
    last_price: float | None
    mark_price: float
    index_price: float
    min_price: float
    max_price: float
    stats: TickerStats
    estimated_delivery_price: float | None = None
    settlement_price: float | None = None
    delivery_price: float | None = None
    open_interest: float | None = None
    current_funding: float | None = None
    funding_8h: float | None = None
    interest_value: float | None = None
    greeks: Greeks | None = None
    mark_iv: float | None = None
    bid_iv: float | None = None
    ask_iv: float | None = None
    underlying_price: float | None = None
    underlying_index: str | None = None
    interest_rate: float | None = None


class IncrementalTicker(WireModel, frozen=True, kw_only=True):
    """``incremental_ticker.{instrument}`` data: a snapshot, then changed fields only.

    A field left out of a ``change`` is :data:`msgspec.UNSET` (unchanged), which is not
    the same as ``None`` (e.g. ``best_bid_price: null``: the bid side emptied).
    """

    type: Literal["snapshot", "change"]
    instrument_name: str
    timestamp: int
    state: str | UnsetType = UNSET
    best_bid_price: float | UnsetType | None = UNSET
    best_bid_amount: float | UnsetType = UNSET
    best_ask_price: float | UnsetType | None = UNSET
    best_ask_amount: float | UnsetType = UNSET
    last_price: float | UnsetType | None = UNSET
    mark_price: float | UnsetType = UNSET
    index_price: float | UnsetType = UNSET
    min_price: float | UnsetType = UNSET
    max_price: float | UnsetType = UNSET
    estimated_delivery_price: float | UnsetType | None = UNSET
    settlement_price: float | UnsetType | None = UNSET
    open_interest: float | UnsetType = UNSET
    current_funding: float | UnsetType = UNSET
    funding_8h: float | UnsetType = UNSET
    interest_value: float | UnsetType = UNSET
    stats: TickerStats | UnsetType = UNSET
    greeks: Greeks | UnsetType = UNSET
    mark_iv: float | UnsetType = UNSET
    bid_iv: float | UnsetType = UNSET
    ask_iv: float | UnsetType = UNSET
    underlying_price: float | UnsetType = UNSET
    underlying_index: str | UnsetType = UNSET
    interest_rate: float | UnsetType = UNSET


class Quote(WireModel, frozen=True, kw_only=True):
    """``quote.{instrument}`` data: best bid and ask (``None`` price: empty side)."""

    instrument_name: str
    timestamp: int
    best_bid_price: float | None
    best_bid_amount: float
    best_ask_price: float | None
    best_ask_amount: float


class BookData(WireModel, frozen=True, kw_only=True):
    """``book.{instrument}.{interval}`` data (spec 3.3).

    ``prev_change_id`` is absent (``None``) on a snapshot; follow the chain only through
    it, never by ``+1`` (spec 4).
    """

    type: Literal["snapshot", "change"]
    instrument_name: str
    timestamp: int
    change_id: int
    bids: list[BookAction]
    asks: list[BookAction]
    prev_change_id: int | None = None

    @property
    def is_snapshot(self) -> bool:
        """A full book: ``prev_change_id`` absent (what spec 4's rule keys on)."""
        return self.prev_change_id is None


class GroupedBookData(WireModel, frozen=True, kw_only=True):
    """``book.{instrument}.{group}.{depth}.{interval}`` data: a full window every time.

    No ``type`` and no ``prev_change_id``; replace the window on every frame (spec 3.3).
    """

    instrument_name: str
    timestamp: int
    change_id: int
    bids: list[PriceLevel]
    asks: list[PriceLevel]


class OrderBookSnapshot(Ticker, frozen=True, kw_only=True):
    """Result of ``public/get_order_book`` (spec 6.2): ticker fields plus the book.

    Unlike the ticker channel, an empty side shows ``best_*_price`` ``0.0``.
    """

    change_id: int
    bids: list[PriceLevel]
    asks: list[PriceLevel]


class PublicTrade(WireModel, frozen=True, kw_only=True):
    """A trade of ``trades.*`` and ``public/get_last_trades_by_instrument`` (spec 3.5).

    ``direction`` is the taker side; ``tick_direction`` 0..3 = plus, zero-plus, minus,
    zero-minus; ``liquidation`` (``"M"``, ``"T"``, ``"MT"``) marks a liquidation.
    """

    trade_id: str
    trade_seq: int
    timestamp: int
    instrument_name: str
    price: float
    amount: float
    direction: str
    tick_direction: int
    mark_price: float
    index_price: float
    iv: float | None = None
    liquidation: str | None = None
    block_trade_id: str | None = None
    block_rfq_id: int | None = None
    combo_id: str | None = None
    combo_trade_id: float | None = None
    contracts: float | None = None


class TradesPage(WireModel, frozen=True, kw_only=True):
    """Result of ``public/get_last_trades_by_instrument`` (spec 6.4)."""

    trades: list[PublicTrade]
    has_more: bool


class Candle(WireModel, frozen=True, kw_only=True):
    """``chart.trades.{instrument}.{resolution}`` data; the open candle repeats."""

    tick: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    cost: float


class PriceIndex(WireModel, frozen=True, kw_only=True):
    """``deribit_price_index.{index_name}`` data (spec 1.4)."""

    index_name: str
    price: float
    timestamp: int


class IndexPrice(WireModel, frozen=True, kw_only=True):
    """Result of ``public/get_index_price`` (spec 6.4)."""

    index_price: float
    estimated_delivery_price: float


class PerpetualInterest(WireModel, frozen=True, kw_only=True):
    """``perpetual.{instrument}.{interval}`` data."""

    index_price: float
    interest: float
    timestamp: int


class PlatformState(WireModel, frozen=True, kw_only=True):
    """``platform_state`` and ``platform_state.public_methods_state`` data (spec 3.2).

    One of: ``{price_index, locked}``, ``{maintenance: true}``,
    ``{allow_unauthenticated_public_requests}``.
    """

    price_index: str | None = None
    locked: bool | None = None
    maintenance: bool | None = None
    allow_unauthenticated_public_requests: bool | None = None


class TickSizeStep(WireModel, frozen=True, kw_only=True):
    above_price: float
    tick_size: float


class Instrument(WireModel, frozen=True, kw_only=True):
    """One element of the ``public/get_instruments`` result (spec 6.1).

    Spot instruments have no ``settlement_period``; options add ``option_type`` and
    ``strike``; perpetuals expire in the year 3000 (32503708800000).
    """

    instrument_name: str
    kind: str
    base_currency: str
    quote_currency: str
    tick_size: float
    min_trade_amount: float
    contract_size: float
    is_active: bool
    creation_timestamp: int
    expiration_timestamp: int
    instrument_id: int | None = None
    instrument_type: str | None = None
    counter_currency: str | None = None
    settlement_currency: str | None = None
    settlement_period: str | None = None
    price_index: str | None = None
    tick_size_steps: list[TickSizeStep] | None = None
    max_leverage: float | None = None
    maker_commission: float | None = None
    taker_commission: float | None = None
    max_liquidation_commission: float | None = None
    block_trade_commission: float | None = None
    block_trade_min_trade_amount: float | None = None
    block_trade_tick_size: float | None = None
    option_type: str | None = None
    strike: float | None = None
    future_type: str | None = None
    rfq: bool | None = None


class WithdrawalPriority(WireModel, frozen=True, kw_only=True):
    name: str
    value: float


class Currency(WireModel, frozen=True, kw_only=True):
    """One element of the ``public/get_currencies`` result (spec 6.1)."""

    currency: str
    currency_long: str
    coin_type: str | None = None
    fee_precision: int | None = None
    min_confirmations: int | None = None
    min_withdrawal_fee: float | None = None
    withdrawal_fee: float | None = None
    withdrawal_priorities: list[WithdrawalPriority] | None = None
    apr: float | None = None
    in_cross_collateral_pool: bool | None = None
