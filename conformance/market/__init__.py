"""tradewire.conformance.market: a deterministic simulated market for reference venues.

Venue-neutral machinery (no JSON-RPC, no wire structs) with Deribit-correct instruments:
an instrument catalog (perpetuals, dated futures, options, spot), a seeded price
process, L2 books with a shared ``change_id`` chain, a price-time matching engine with
Deribit's order semantics, accounts with inverse and linear P&L, and records whose
fields are the Deribit wire names, so a venue maps them without inventing data.

Pure like the rest of the conformance kit: time comes in as ``now``, randomness from a
seed.  Start with :class:`Market`::

    market = Market(MarketConfig(seed=7), now=0.0)
    events = market.advance(1.0)
    result = market.buy("alice", "BTC-PERPETUAL", 1.0, amount=100, type="market")
"""

from ._catalog import PERPETUAL_EXPIRY_MS, expiries
from ._changes import Fault, merge_changes
from ._config import (
    MAX_CATCHUP_TICKS,
    MAX_CHANGE_LOG,
    MAX_OPEN_ORDERS,
    MAX_ORDER_HISTORY,
    MAX_PUBLIC_TRADES,
    MAX_TRADE_HISTORY,
    MarketConfig,
)
from ._errors import REASON_CODES, MarketError
from ._market import INDEX_NAMES, Market
from ._pricing import OptionValue, black_scholes, implied_volatility
from ._records import (
    BookChange,
    BookSnapshot,
    Cancellation,
    Currency,
    Execution,
    Greeks,
    GroupedBook,
    IndexPrice,
    Instrument,
    LevelAction,
    MarketEvent,
    Order,
    Portfolio,
    Position,
    PriceLevel,
    PublicTrade,
    Quote,
    Ticker,
    TickerStats,
    TickSizeStep,
    UserTrade,
    WithdrawalPriority,
)

__all__ = [
    "INDEX_NAMES",
    "MAX_CATCHUP_TICKS",
    "MAX_CHANGE_LOG",
    "MAX_OPEN_ORDERS",
    "MAX_ORDER_HISTORY",
    "MAX_PUBLIC_TRADES",
    "MAX_TRADE_HISTORY",
    "PERPETUAL_EXPIRY_MS",
    "REASON_CODES",
    "BookChange",
    "BookSnapshot",
    "Cancellation",
    "Currency",
    "Execution",
    "Fault",
    "Greeks",
    "GroupedBook",
    "IndexPrice",
    "Instrument",
    "LevelAction",
    "Market",
    "MarketConfig",
    "MarketError",
    "MarketEvent",
    "OptionValue",
    "Order",
    "Portfolio",
    "Position",
    "PriceLevel",
    "PublicTrade",
    "Quote",
    "TickSizeStep",
    "Ticker",
    "TickerStats",
    "UserTrade",
    "WithdrawalPriority",
    "black_scholes",
    "expiries",
    "implied_volatility",
    "merge_changes",
]
