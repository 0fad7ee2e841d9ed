"""How a market is set up (:class:`MarketConfig`) and the named bounds it keeps.

Everything that varies between runs is here and nothing else: the seed, the start time,
the tick interval, the start prices and volatilities, the catalog's shape, the
simulated makers and takers, and the starting balances.  Two markets built from equal
configs and driven with equal calls produce equal records.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "MAX_CATCHUP_TICKS",
    "MAX_CHANGE_LOG",
    "MAX_OPEN_ORDERS",
    "MAX_ORDER_HISTORY",
    "MAX_PUBLIC_TRADES",
    "MAX_TRADE_HISTORY",
    "MarketConfig",
]

MAX_CHANGE_LOG = 10_000
"""Book changes kept in :meth:`Market.change_log` (all instruments together)."""

MAX_PUBLIC_TRADES = 1_000
"""Public trades kept per instrument (``get_last_trades_by_instrument`` serves at most 1000)."""

MAX_ORDER_HISTORY = 1_000
"""Closed orders kept per account; the oldest are forgotten first."""

MAX_OPEN_ORDERS = 500
"""Open orders one account may have; an order that would rest beyond it is refused
(``other_reject``, ``data = {"reason": "max_open_orders"}``, our choice)."""

MAX_TRADE_HISTORY = 1_000
"""User trades kept per account."""

MAX_CATCHUP_TICKS = 100
"""Ticks one :meth:`Market.advance` call simulates; a longer jump skips the rest of the
gap (the clock moves on, the walk does not), so a stalled caller cannot make one call
unboundedly long."""


def _balances() -> dict[str, float]:
    return {"BTC": 10.0, "ETH": 100.0, "USDC": 1_000_000.0}


def _prices() -> dict[str, float]:
    return {"btc_usd": 60_000.0, "eth_usd": 3_000.0}


def _vols() -> dict[str, float]:
    return {"btc_usd": 0.6, "eth_usd": 0.75}


class MarketConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The setup of a :class:`Market`.

    Time: ``start_ms`` is the epoch time (ms) of the market's birth; it fixes instrument
    names and expiries.  ``tick_interval`` (seconds) is how often the price process,
    makers and takers move.

    Prices: per index (``btc_usd``, ``eth_usd``) a start price and an annual volatility;
    the index follows a geometric random walk with that volatility times ``walk_scale``
    (raise it to make prices move visibly in short tests).  ``future_basis`` is the annual
    premium of dated futures over the index; option marks use Black-Scholes with the
    index's volatility.  ``price_band`` is the fraction around the mark outside which
    limit prices are refused (``min_price`` / ``max_price``).

    Catalog: ``weekly_expiries`` Fridays and ``quarterly_expiries`` quarter ends for
    futures, the first ``option_expiries`` of those for options, with
    ``2 * option_strikes + 1`` strikes per expiry.

    Simulated participants: makers keep ``maker_levels`` levels a side, the best
    ``maker_half_spread`` (a fraction of the mark, at least one tick) from the mark,
    ``maker_level_gap`` apart, sizes between 1 and ``maker_max_lots`` minimum amounts;
    ``maker_churn`` is the chance per instrument and tick that one maker level is resized.
    ``taker_rate`` is the chance per instrument and tick that a simulated market order of
    1 to ``taker_max_lots`` minimum amounts hits the book (user orders included).

    ``ticker_events``: emit a :class:`Ticker` per active instrument on every tick.

    The past (``_history``): ``past_hours`` hours of hourly index prices and funding
    before ``start_ms`` (historical volatility, funding history), and ``past_trades``
    public trades per instrument in the last of them (at most 24 hours); 0 for a market
    with no past.
    """

    seed: int = 0
    start_ms: int = 1_733_097_600_000  # 2024-12-02T00:00:00Z, a Monday
    tick_interval: float = 0.1
    start_prices: dict[str, float] = msgspec.field(default_factory=_prices)
    volatilities: dict[str, float] = msgspec.field(default_factory=_vols)
    walk_scale: float = 1.0
    future_basis: float = 0.05
    price_band: float = 0.05
    weekly_expiries: int = 2
    quarterly_expiries: int = 1
    option_expiries: int = 2
    option_strikes: int = 3
    maker_levels: int = 10
    maker_half_spread: float = 0.00001
    maker_level_gap: float = 0.00002
    maker_max_lots: int = 50
    maker_churn: float = 0.2
    taker_rate: float = 0.02
    taker_max_lots: int = 10
    starting_balances: dict[str, float] = msgspec.field(default_factory=_balances)
    ticker_events: bool = True
    past_hours: int = 16 * 24
    past_trades: int = 50

    def __post_init__(self) -> None:
        if not self.tick_interval > 0:
            raise ValueError(f"tick_interval must be > 0, got {self.tick_interval!r}")
        for name, price in self.start_prices.items():
            if not price > 0:
                raise ValueError(f"start_prices[{name!r}] must be > 0")
        for name, vol in self.volatilities.items():
            if not vol > 0:
                raise ValueError(f"volatilities[{name!r}] must be > 0")
        counts = (
            self.weekly_expiries,
            self.quarterly_expiries,
            self.option_expiries,
            self.option_strikes,
            self.maker_levels,
            self.past_hours,
            self.past_trades,
        )
        if min(counts) < 0 or self.maker_max_lots < 1 or self.taker_max_lots < 1:
            raise ValueError("catalog, maker and past counts must be >= 0, lot maxima >= 1")
        if not (0 <= self.maker_churn <= 1 and 0 <= self.taker_rate <= 1):
            raise ValueError("maker_churn and taker_rate are probabilities in [0, 1]")
