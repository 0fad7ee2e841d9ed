"""The market's past and its hourly record: a venue started a second ago has a history.

A real venue has traded for years before a client connects; a client's first calls
(recent trades, candles, funding history, historical volatility) expect data.  So a new
:class:`~tradewire.conformance.market.Market` seeds its past from its seed, before its
first tick, and keeps an hourly record while it runs.

The past (``config.past_hours`` hours before ``start_ms``; 0: no past):

* **Index**: each price walk steps back hour by hour from its start price, the same
  geometric walk as the live one (``volatility * walk_scale``, a normal draw clamped to
  +-4) run backwards; a published index follows its walk (``Catalog.indexes``).
* **Funding**: each perpetual's premium, one value per hour, a mean-reverting draw
  bounded like the live premium (+-0.05%); ``interest_8h`` is the premium,
  ``interest_1h`` an eighth of it.
* **Trades**: ``config.past_trades`` public trades per instrument, at times spread at
  random over the last ``min(24, past_hours)`` hours, oldest first: each at the
  instrument's mark at that time (from the index then, the premium then, the time to
  expiry then, Black-Scholes for options), half a spread (``maker_half_spread``, at least
  a tick) above it for a taker buy and below for a sell, on the price grid, for 1 to
  ``taker_max_lots`` minimum amounts.  They take trade ids and ``trade_seq`` numbers
  before any live trade, and count in the instrument's statistics (high, low, volume,
  price change), so the ticker reads like a market that has been trading.

The hourly record: at every whole hour of the market's clock (epoch ms) a tick crosses,
each walk's price and each perpetual's premium are appended; at most
:data:`MAX_HOURS` hours are kept (the oldest go first).  From it:
:meth:`History.index` (hourly prices), :meth:`History.volatility` (the annualised
standard deviation of the last 24 hourly log returns, in percent, per hour that has
them) and :meth:`History.funding` (per perpetual: ``timestamp``, ``index_price``,
``prev_index_price``, ``interest_8h``, ``interest_1h``).

Randomness: ``random.Random(f"{seed}/past")``, drawn in a fixed order (walks in name
order, then perpetuals in catalog order, then trades instrument by instrument), so the
live market's own streams (walk, makers, takers) are untouched by the past.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import deque

from ._catalog import Contract
from ._config import MarketConfig
from ._engine import Engine
from ._pricing import (
    MAX_STEP_SIGMAS,
    PREMIUM_LIMIT,
    YEAR_MS,
    Pricer,
    black_scholes,
)
from ._records import FundingRate, PublicTrade

__all__ = ["HOUR_MS", "MAX_HOURS", "History"]

HOUR_MS = 3_600_000
MAX_HOURS = 31 * 24
"""Hours of index and funding record kept (a month: a funding history request of ccxt
asks for the last 30 days)."""

VOLATILITY_WINDOW = 24
"""Hourly returns in one historical-volatility value."""

_PAST_TRADE_HOURS = 24
_PREMIUM_REVERSION = 0.9


def _clamped_normal(rng: random.Random) -> float:
    return max(-MAX_STEP_SIGMAS, min(MAX_STEP_SIGMAS, rng.gauss(0.0, 1.0)))


class History:
    """The hourly record of a market, seeded with its past (see the module docstring)."""

    def __init__(self, config: MarketConfig, pricer: Pricer, contracts: list[Contract]) -> None:
        self._pricer = pricer
        self._perpetuals = [c.name for c in contracts if c.perpetual]
        self.walks: dict[str, deque[tuple[int, float]]] = {
            walk: deque(maxlen=MAX_HOURS) for walk in pricer.index
        }
        self.premiums: dict[str, deque[tuple[int, float]]] = {
            name: deque(maxlen=MAX_HOURS) for name in self._perpetuals
        }
        self._last_hour = config.start_ms // HOUR_MS

    # -- the past ---------------------------------------------------------------------------

    def seed(self, config: MarketConfig, engine: Engine, contracts: list[Contract]) -> None:
        """Draw the past: hourly walks and premiums, then each instrument's trades."""
        hours = min(config.past_hours, MAX_HOURS)
        if hours <= 0:
            return
        rng = random.Random(f"{config.seed}/past")
        top = self._last_hour * HOUR_MS  # the last whole hour at or before the start
        step = math.sqrt(HOUR_MS / YEAR_MS) * config.walk_scale
        for walk in sorted(self.walks):
            price = self._pricer.index[walk]
            points = [(top, price)]
            for hour in range(1, hours + 1):
                sigma = self._pricer.vols[walk] * step
                price = round(price / math.exp(sigma * _clamped_normal(rng)), 2)
                points.append((top - hour * HOUR_MS, price))
            self.walks[walk].extend(reversed(points))
        for name in self._perpetuals:
            premium, points2 = 0.0, [(top, 0.0)]
            for hour in range(1, hours + 1):
                moved = premium * _PREMIUM_REVERSION + rng.gauss(0.0, PREMIUM_LIMIT / 3)
                premium = max(-PREMIUM_LIMIT, min(PREMIUM_LIMIT, moved))
                points2.append((top - hour * HOUR_MS, premium))
            self.premiums[name].extend(reversed(points2))
        if config.past_trades > 0:
            window = min(_PAST_TRADE_HOURS, hours) * HOUR_MS
            for c in contracts:
                self._trades(config, engine, c, rng, window)

    def _index_at(self, walk: str, ms: int) -> float:
        """The walk's price at ``ms``: geometric between the hourly points around it."""
        points = self.walks[walk]
        first, last = points[0], points[-1]
        if ms <= first[0]:
            return first[1]
        if ms >= last[0]:
            return last[1]
        index = (ms - first[0]) // HOUR_MS
        (t0, p0), (t1, p1) = points[index], points[index + 1]
        share = (ms - t0) / (t1 - t0)
        return float(p0 * math.exp(math.log(p1 / p0) * share))

    def _premium_at(self, name: str, ms: int) -> float:
        points = self.premiums[name]
        index = max(0, min(len(points) - 1, (ms - points[0][0]) // HOUR_MS))
        return points[index][1]

    def _mark_at(self, config: MarketConfig, c: Contract, ms: int) -> tuple[float, float]:
        """``(mark, index)`` of ``c`` at ``ms``, as the pricer would have said then."""
        index = self._index_at(c.underlying, ms)
        years = 0.0 if c.expiry_ms is None else max(0, c.expiry_ms - ms) / YEAR_MS
        if c.kind == "option":
            vol = self._pricer.vols[c.underlying]
            value = black_scholes(c.call, index, c.strike or 0.0, years, vol)
            return round(value.price / index, 8), index
        if c.perpetual:
            return round(index * (1 + self._premium_at(c.name, ms)), 2), index
        if c.kind == "future":
            return round(index * (1 + config.future_basis * years), 2), index
        return index, index

    def _trades(
        self, config: MarketConfig, engine: Engine, c: Contract, rng: random.Random, window: int
    ) -> None:
        start = config.start_ms
        times = sorted(start - 1 - rng.randrange(window) for _ in range(config.past_trades))
        stats = engine.stats[c.name]
        for ms in times:
            buy = rng.random() < 0.5
            lots = c.min_lots * rng.randint(1, config.taker_max_lots)
            mark, index = self._mark_at(config, c, ms)
            spread = max(c.tick, mark * config.maker_half_spread)
            units = c.ceil_units(mark + spread) if buy else c.floor_units(mark - spread)
            price = c.price(max(units, c.snap_up(1)))
            amount = c.amount(lots)
            if c.kind == "future" and c.inverse:
                stats.volume += amount / price
                stats.volume_usd += amount
            else:
                stats.volume += amount
                stats.volume_usd += amount * (index if c.kind == "option" else price)
            vol = self._pricer.vols[c.underlying]
            engine.trades[c.name].append(
                PublicTrade(
                    trade_id=engine.ids.trade_id(c.instrument.currency),
                    trade_seq=engine.ids.trade_seq(c.name),
                    timestamp=ms,
                    instrument_name=c.name,
                    price=price,
                    amount=amount,
                    direction="buy" if buy else "sell",
                    tick_direction=stats.trade(price),
                    mark_price=mark,
                    index_price=round(index, 2),
                    contracts=c.contracts(lots),
                    iv=round(vol * 100, 2) if c.kind == "option" else None,
                )
            )

    # -- the live record --------------------------------------------------------------------

    def record(self, now_ms: int) -> None:
        """Append the whole hours up to ``now_ms`` (called after each tick's step)."""
        hour = now_ms // HOUR_MS
        if hour <= self._last_hour:
            return
        for whole in range(max(self._last_hour + 1, hour - MAX_HOURS + 1), hour + 1):
            at = whole * HOUR_MS
            for walk, points in self.walks.items():
                points.append((at, self._pricer.index[walk]))
            for name, premiums in self.premiums.items():
                premiums.append((at, self._pricer.premium[name]))
        self._last_hour = hour

    # -- what venues ask ------------------------------------------------------------------

    def index(self, walk: str) -> list[tuple[int, float]]:
        """Hourly ``(timestamp, price)`` of a walk, oldest first."""
        return list(self.walks[walk])

    def volatility(self, walk: str) -> list[tuple[int, float]]:
        """Hourly ``(timestamp, percent)``: the annualised standard deviation of the
        last :data:`VOLATILITY_WINDOW` hourly log returns, for each hour that has them."""
        points = list(self.walks[walk])
        returns = [math.log(b / a) for (_, a), (_, b) in itertools.pairwise(points)]
        out: list[tuple[int, float]] = []
        per_year = YEAR_MS / HOUR_MS
        for end in range(VOLATILITY_WINDOW, len(returns) + 1):
            window = returns[end - VOLATILITY_WINDOW : end]
            mean = sum(window) / len(window)
            variance = sum((r - mean) ** 2 for r in window) / (len(window) - 1)
            out.append((points[end][0], round(math.sqrt(variance * per_year) * 100, 6)))
        return out

    def funding(self, name: str, walk: str) -> list[FundingRate]:
        """Hourly funding of perpetual ``name`` (its walk gives the index prices)."""
        prices = dict(self.walks[walk])
        out: list[FundingRate] = []
        for at, premium in self.premiums[name]:
            price = prices.get(at)
            before = prices.get(at - HOUR_MS)
            if price is None or before is None:
                continue
            out.append(
                FundingRate(
                    timestamp=at,
                    index_price=price,
                    prev_index_price=before,
                    interest_8h=premium,
                    interest_1h=premium / 8,
                )
            )
        return out
