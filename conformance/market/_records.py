"""The records the market hands out: facts, books, trades, orders, positions, portfolios.

Every record is a frozen, keyword-only msgspec Struct whose field names are the Deribit
wire names (spec 3.3-3.5, 5, 6.1), so a Deribit venue maps them onto
``tradewire.protocol.deribit`` models field for field without inventing data; other venues
pick the fields they need.  Records that belong to one account carry ``account`` (the
client id), which a venue uses for routing and leaves off the wire.

Units follow Deribit: amounts are USD for inverse futures, base coin for options, linear
futures and spot; option prices are in the base coin; timestamps are integer ms since
the epoch.  ``None`` means "absent on the wire" (an empty book side's best price, a
field that does not apply to the instrument's kind).

The records that :meth:`Market.advance` and the order methods emit form the
:data:`MarketEvent` union.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "BookChange",
    "BookSnapshot",
    "Candles",
    "Cancellation",
    "Currency",
    "Execution",
    "FundingRate",
    "Greeks",
    "GroupedBook",
    "IndexPrice",
    "Instrument",
    "LevelAction",
    "MarketEvent",
    "Order",
    "Portfolio",
    "Position",
    "PriceLevel",
    "PublicTrade",
    "Quote",
    "Settlement",
    "TickSizeStep",
    "Ticker",
    "TickerStats",
    "UserTrade",
    "WithdrawalPriority",
]

LevelAction = tuple[Literal["new", "change", "delete"], float, float]
"""``(action, price, amount)``: ``amount`` is the new total at ``price``, 0 on delete."""

PriceLevel = tuple[float, float]
"""``(price, amount)``."""


class Record(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Base of the market's records."""


# -- facts (spec 6.1) -------------------------------------------------------------------


class TickSizeStep(Record, frozen=True, kw_only=True):
    """Above ``above_price`` prices move in steps of ``tick_size``."""

    above_price: float
    tick_size: float


class Instrument(Record, frozen=True, kw_only=True):
    """One instrument with every ``public/get_instruments`` field (spec 6.1).

    ``kind`` is ``future`` (perpetuals included: ``settlement_period == "perpetual"``),
    ``option`` or ``spot``; spot has no ``settlement_period`` and no
    ``settlement_currency``.  Two fields are the market's own: ``currency``, the currency
    the instrument is filed under (the ``currency`` parameter of ``get_instruments``,
    the prefix of its order and trade ids: the base coin for inverse instruments and
    spot, ``USDC`` for linear ones), and ``amount_step``, the grid amounts must be on.
    """

    instrument_name: str
    instrument_id: int
    kind: str
    instrument_type: str
    base_currency: str
    quote_currency: str
    counter_currency: str
    settlement_currency: str | None
    settlement_period: str | None
    price_index: str
    is_active: bool
    tick_size: float
    tick_size_steps: tuple[TickSizeStep, ...]
    min_trade_amount: float
    contract_size: float
    max_leverage: int | None
    maker_commission: float
    taker_commission: float
    max_liquidation_commission: float | None
    block_trade_commission: float
    block_trade_min_trade_amount: float
    block_trade_tick_size: float
    creation_timestamp: int
    expiration_timestamp: int
    rfq: bool = False
    option_type: str | None = None
    strike: float | None = None
    future_type: str | None = None
    currency: str
    amount_step: float


class WithdrawalPriority(Record, frozen=True, kw_only=True):
    name: str
    value: float


class Currency(Record, frozen=True, kw_only=True):
    """One element of ``public/get_currencies`` (spec 6.1)."""

    currency: str
    currency_long: str
    coin_type: str
    fee_precision: int
    min_confirmations: int
    min_withdrawal_fee: float
    withdrawal_fee: float
    withdrawal_priorities: tuple[WithdrawalPriority, ...]
    in_cross_collateral_pool: bool = False


# -- market data (spec 3.3-3.5) --------------------------------------------------------


class IndexPrice(Record, frozen=True, kw_only=True):
    """``deribit_price_index.{index_name}`` data plus ``get_index_price``'s estimate."""

    index_name: str
    price: float
    timestamp: int
    estimated_delivery_price: float


class BookChange(Record, frozen=True, kw_only=True):
    """One book mutation (spec 3.3): levels best first, ``amount`` absolute.

    ``change_id`` comes from one counter shared by every instrument (spec 4), so it is
    increasing but not ``prev + 1``; ``prev_change_id`` is this instrument's previous
    ``change_id``, unless a fault hook broke the chain on purpose.
    """

    instrument_name: str
    change_id: int
    prev_change_id: int
    timestamp: int
    bids: tuple[LevelAction, ...]
    asks: tuple[LevelAction, ...]


class BookSnapshot(Record, frozen=True, kw_only=True):
    """The whole book now; ``change_id`` is the last change applied to it."""

    instrument_name: str
    change_id: int
    timestamp: int
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]


class GroupedBook(Record, frozen=True, kw_only=True):
    """``book.{instrument}.{group}.{depth}.{interval}`` data: a window of grouped levels."""

    instrument_name: str
    change_id: int
    timestamp: int
    bids: tuple[PriceLevel, ...]
    asks: tuple[PriceLevel, ...]


class PublicTrade(Record, frozen=True, kw_only=True):
    """A trade as ``trades.*`` shows it (spec 3.5); ``direction`` is the taker side.

    ``tick_direction``: 0 plus, 1 zero-plus, 2 minus, 3 zero-minus.  ``iv`` is set for
    options (the implied volatility of the trade price, in percent).
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
    contracts: float
    iv: float | None = None


class Quote(Record, frozen=True, kw_only=True):
    """``quote.{instrument}`` data; a ``None`` price means that side is empty."""

    instrument_name: str
    timestamp: int
    best_bid_price: float | None
    best_bid_amount: float
    best_ask_price: float | None
    best_ask_amount: float


class TickerStats(Record, frozen=True, kw_only=True):
    """Statistics since the market started (``None`` high/low: nothing traded yet)."""

    high: float | None
    low: float | None
    price_change: float | None
    volume: float
    volume_usd: float


class Greeks(Record, frozen=True, kw_only=True):
    """Option greeks: ``delta`` per unit, ``gamma`` per USD, the rest in USD per point."""

    delta: float
    gamma: float
    rho: float
    theta: float
    vega: float


class Ticker(Record, frozen=True, kw_only=True):
    """``ticker.*`` data and ``public/ticker`` (spec 3.4).

    Perpetuals add ``current_funding``, ``funding_8h`` and ``interest_value``; options add
    ``greeks``, the ``*_iv`` fields (percent; ``bid_iv``/``ask_iv`` are 0 for an empty
    side), ``underlying_*`` and ``interest_rate``; ``delivery_price`` only when closed.
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
    estimated_delivery_price: float
    settlement_price: float | None
    min_price: float
    max_price: float
    open_interest: float
    stats: TickerStats
    delivery_price: float | None = None
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


class FundingRate(Record, frozen=True, kw_only=True):
    """One hour of a perpetual's funding (``get_funding_rate_history``): the index at the
    hour and an hour before, the 8-hour rate (the premium) and its hourly share."""

    timestamp: int
    index_price: float
    prev_index_price: float
    interest_8h: float
    interest_1h: float


class Candles(Record, frozen=True, kw_only=True):
    """OHLC candles of one instrument (``get_tradingview_chart_data``), one entry per
    period in each list; ``status`` is ``"no_data"`` when there is none.  ``volume`` is
    in the base currency, ``cost`` in the quote currency."""

    status: str
    ticks: tuple[int, ...]
    open: tuple[float, ...]
    high: tuple[float, ...]
    low: tuple[float, ...]
    close: tuple[float, ...]
    volume: tuple[float, ...]
    cost: tuple[float, ...]


# -- per account (spec 5) ---------------------------------------------------------------


class Settlement(Record, frozen=True, kw_only=True):
    """A position settled at expiry (``type`` ``delivery``): the size that was held
    (``position``), the delivery price (``mark_price``), the index then, and the profit
    or loss realised (settlement currency)."""

    account: str
    type: str
    timestamp: int
    instrument_name: str
    position: float
    mark_price: float
    index_price: float
    profit_loss: float
    session_profit_loss: float
    funding: float = 0.0


class Order(Record, frozen=True, kw_only=True):
    """An order object (spec 5.1) of ``account``.

    ``order_state``: ``open``, ``filled`` or ``cancelled``.  The market never makes a
    ``rejected`` order: a refusal raises :class:`MarketError` before an order (or an id)
    exists, as Deribit answers a refused ``private/buy`` with an error response.
    ``price`` of a market order is the band limit it could trade up to (``max_price``
    for a buy, ``min_price`` for a sell, as the spec's example shows); ``average_price``
    is 0 while nothing is filled.  ``cancel_reason``: ``user_request`` (cancel calls),
    ``settlement`` (expiry, ``good_til_day``), ``reduce_only`` (ours: a reduce-only
    order left with nothing to reduce), ``None`` for an IOC, FOK or market remainder.
    """

    account: str
    order_id: str
    instrument_name: str
    direction: str
    amount: float
    filled_amount: float
    average_price: float
    price: float
    order_type: str
    order_state: str
    time_in_force: str
    label: str
    post_only: bool
    reject_post_only: bool
    reduce_only: bool
    replaced: bool
    api: bool
    web: bool
    creation_timestamp: int
    last_update_timestamp: int
    max_show: float
    contracts: float
    is_liquidation: bool
    is_rebalance: bool
    risk_reducing: bool
    mmp: bool
    cancel_reason: str | None = None


class UserTrade(Record, frozen=True, kw_only=True):
    """A trade of ``account`` (``user.trades.*``, ``trades`` of ``private/buy``; spec 3.5).

    ``direction`` is the account's side, ``liquidity`` ``"M"`` or ``"T"``, ``state`` the
    order's state right after this trade, ``profit_loss`` the P&L this trade realised.
    """

    account: str
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
    contracts: float
    order_id: str
    order_type: str
    state: str
    fee: float
    fee_currency: str
    liquidity: str
    post_only: bool
    reduce_only: bool
    label: str
    profit_loss: float
    api: bool = True
    mmp: bool = False
    risk_reducing: bool = False
    matching_id: None = None
    iv: float | None = None


class Position(Record, frozen=True, kw_only=True):
    """A position of ``account`` (``private/get_positions``; spec 5.4).

    ``size`` is signed (negative: short), in the instrument's amount unit;
    ``size_currency`` and ``delta`` are in the base coin.  P&L and margins are in the
    settlement currency.  Options add ``gamma``/``vega``/``theta`` and the ``*_usd``
    fields; perpetuals add ``interest_value``.
    """

    account: str
    instrument_name: str
    kind: str
    direction: str
    size: float
    size_currency: float
    average_price: float
    mark_price: float
    index_price: float
    settlement_price: float | None
    floating_profit_loss: float
    realized_profit_loss: float
    total_profit_loss: float
    realized_funding: float
    initial_margin: float
    maintenance_margin: float
    open_orders_margin: float
    delta: float
    leverage: int | None = None
    interest_value: float | None = None
    average_price_usd: float | None = None
    floating_profit_loss_usd: float | None = None
    gamma: float | None = None
    vega: float | None = None
    theta: float | None = None


class Portfolio(Record, frozen=True, kw_only=True):
    """``get_account_summary`` / ``user.portfolio.{currency}`` data of ``account``."""

    account: str
    currency: str
    balance: float
    equity: float
    available_funds: float
    available_withdrawal_funds: float
    margin_balance: float
    initial_margin: float
    maintenance_margin: float
    projected_initial_margin: float
    projected_maintenance_margin: float
    session_upl: float
    session_rpl: float
    total_pl: float
    futures_pl: float
    futures_session_upl: float
    futures_session_rpl: float
    options_pl: float
    options_session_upl: float
    options_session_rpl: float
    options_value: float
    delta_total: float
    delta_total_map: dict[str, float]
    projected_delta_total: float
    options_delta: float
    options_gamma: float
    options_vega: float
    options_theta: float
    options_gamma_map: dict[str, float]
    options_vega_map: dict[str, float]
    options_theta_map: dict[str, float]
    estimated_liquidation_ratio: float
    fee_balance: float
    spot_reserve: float
    additional_reserve: float
    margin_model: str
    portfolio_margining_enabled: bool
    cross_collateral_enabled: bool
    creation_timestamp: int


MarketEvent = (
    IndexPrice
    | BookChange
    | PublicTrade
    | Quote
    | Ticker
    | Order
    | UserTrade
    | Position
    | Portfolio
)
"""What :meth:`Market.advance` and the order methods emit."""


class Execution(Record, frozen=True, kw_only=True):
    """The outcome of placing or editing an order: the ``{order, trades}`` result of
    ``private/buy`` / ``private/edit``, and every event the operation caused."""

    order: Order
    trades: tuple[UserTrade, ...]
    events: tuple[MarketEvent, ...]


class Cancellation(Record, frozen=True, kw_only=True):
    """The orders a cancel removed (in cancel order) and the events it caused."""

    orders: tuple[Order, ...]
    events: tuple[MarketEvent, ...]
