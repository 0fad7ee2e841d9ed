"""tradewire.conformance.market: a deterministic simulated market for reference venues.

Venue-neutral machinery (no JSON-RPC, no wire structs, no venue package imported; a test
checks it): a seeded price process, L2 books with a shared ``change_id`` chain, a
price-time matching engine, accounts with inverse and linear P&L, and records whose
fields are the Deribit wire names (the reference venue's), so a venue maps them without
inventing data.  The instruments come in as data: a venue builds a :class:`Catalog`
(the Deribit one: ``tradewire.conformance.deribit.deribit_catalog``), and refusals
carry a neutral ``reason`` that a venue maps to its own error codes.  "spec N.N" in
this package means section N.N of ``docs/venues/deribit.md``, the venue whose order
semantics the engine follows.

Pure like the rest of the conformance kit: time comes in as ``now``, randomness from a
seed.  Start with :class:`Market`::

    from tradewire.conformance.deribit import deribit_catalog

    config = MarketConfig(seed=7)
    market = Market(config, catalog=deribit_catalog(config), now=0.0)
    events = market.advance(1.0)
    result = market.buy("alice", "BTC-PERPETUAL", 1.0, amount=100, type="market")
"""

from ._catalog import Catalog, Contract, Listing
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
from ._errors import REASONS, MarketError
from ._market import Market
from ._pricing import OptionValue, black_scholes, implied_volatility
from ._records import (
    BookChange,
    BookSnapshot,
    Cancellation,
    Candles,
    Currency,
    Execution,
    FundingRate,
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
    Settlement,
    Ticker,
    TickerStats,
    TickSizeStep,
    UserTrade,
    WithdrawalPriority,
)

__all__ = [
    "MAX_CATCHUP_TICKS",
    "MAX_CHANGE_LOG",
    "MAX_OPEN_ORDERS",
    "MAX_ORDER_HISTORY",
    "MAX_PUBLIC_TRADES",
    "MAX_TRADE_HISTORY",
    "REASONS",
    "BookChange",
    "BookSnapshot",
    "Candles",
    "Cancellation",
    "Catalog",
    "Contract",
    "Currency",
    "Execution",
    "Fault",
    "FundingRate",
    "Greeks",
    "GroupedBook",
    "IndexPrice",
    "Instrument",
    "LevelAction",
    "Listing",
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
    "Settlement",
    "TickSizeStep",
    "Ticker",
    "TickerStats",
    "UserTrade",
    "WithdrawalPriority",
    "black_scholes",
    "implied_volatility",
    "merge_changes",
]
