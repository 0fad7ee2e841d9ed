"""The reference Deriv venue's synthetic indices and their tick process (spec 4.1, 4.2).

Each index is a price walk of the shared market engine
(:class:`~tradewire.conformance.market.Market`, a catalog of index names only: no order
books), at the volatility its name says (``R_50``: 50% a year).  The market moves once
a second; ``R_*`` indices tick every 2 s and ``1HZ*V`` ones every second, as on Deriv
(spec 4.2).  A tick's quote is the walk's price rounded to the index's pip.

:class:`Ticks` keeps each symbol's recent ticks (``MAX_TICKS`` of them) for
``ticks_history`` and candles; the venue is born with a past of ``PAST_TICKS`` ticks
per symbol, drawn backwards from the start price from the market's seed, so history
answers at once.
"""

from __future__ import annotations

import math
import random
from collections import deque

import msgspec

from tradewire.conformance.market import Catalog, MarketConfig

__all__ = [
    "INDICES",
    "MAX_TICKS",
    "PAST_TICKS",
    "SyntheticIndex",
    "Tick",
    "Ticks",
    "deriv_catalog",
    "market_config",
]

MAX_TICKS = 5_000
"""Ticks kept per symbol (``ticks_history`` serves at most this many)."""

PAST_TICKS = 1_000
"""Ticks per symbol in the seeded past."""


class SyntheticIndex(msgspec.Struct, frozen=True, kw_only=True):
    """One synthetic index: ``period`` seconds between ticks, ``pip`` its quote step."""

    symbol: str
    display_name: str
    volatility: float
    start: float
    pip: float
    period: int

    @property
    def pip_size(self) -> int:
        return max(0, -math.floor(math.log10(self.pip) + 1e-9))

    @property
    def walk(self) -> str:
        return self.symbol.lower()


INDICES: tuple[SyntheticIndex, ...] = (
    SyntheticIndex(
        symbol="R_10",
        display_name="Volatility 10 Index",
        volatility=0.10,
        start=6_300.0,
        pip=0.001,
        period=2,
    ),
    SyntheticIndex(
        symbol="R_25",
        display_name="Volatility 25 Index",
        volatility=0.25,
        start=3_100.0,
        pip=0.001,
        period=2,
    ),
    SyntheticIndex(
        symbol="R_50",
        display_name="Volatility 50 Index",
        volatility=0.50,
        start=210.0,
        pip=0.0001,
        period=2,
    ),
    SyntheticIndex(
        symbol="R_75",
        display_name="Volatility 75 Index",
        volatility=0.75,
        start=41_000.0,
        pip=0.0001,
        period=2,
    ),
    SyntheticIndex(
        symbol="R_100",
        display_name="Volatility 100 Index",
        volatility=1.00,
        start=1_230.0,
        pip=0.01,
        period=2,
    ),
    SyntheticIndex(
        symbol="1HZ10V",
        display_name="Volatility 10 (1s) Index",
        volatility=0.10,
        start=9_100.0,
        pip=0.01,
        period=1,
    ),
    SyntheticIndex(
        symbol="1HZ25V",
        display_name="Volatility 25 (1s) Index",
        volatility=0.25,
        start=530_000.0,
        pip=0.01,
        period=1,
    ),
    SyntheticIndex(
        symbol="1HZ50V",
        display_name="Volatility 50 (1s) Index",
        volatility=0.50,
        start=150.0,
        pip=0.01,
        period=1,
    ),
    SyntheticIndex(
        symbol="1HZ75V",
        display_name="Volatility 75 (1s) Index",
        volatility=0.75,
        start=3_700.0,
        pip=0.01,
        period=1,
    ),
    SyntheticIndex(
        symbol="1HZ100V",
        display_name="Volatility 100 (1s) Index",
        volatility=1.00,
        start=700.0,
        pip=0.01,
        period=1,
    ),
)
"""The indices the venue lists (names, volatilities, pips and tick periods as on Deriv;
start prices are ours)."""

BY_SYMBOL = {index.symbol: index for index in INDICES}


def deriv_catalog() -> Catalog:
    """The market's catalog: one published index per symbol, no order books."""
    return Catalog(listings=(), indexes={i.symbol: i.walk for i in INDICES})


def market_config(
    seed: int = 0, start_ms: int = 1_733_097_600_000, walk_scale: float = 1.0
) -> MarketConfig:
    """A market for the indices: one tick a second, their volatilities, no past of its own."""
    return MarketConfig(
        seed=seed,
        start_ms=start_ms,
        tick_interval=1.0,
        start_prices={i.walk: i.start for i in INDICES},
        volatilities={i.walk: i.volatility for i in INDICES},
        walk_scale=walk_scale,
        past_hours=0,
        past_trades=0,
        ticker_events=False,
    )


class Tick(msgspec.Struct, frozen=True, gc=False):
    epoch: int
    quote: float


class Ticks:
    """Recent ticks per symbol (see the module docstring)."""

    def __init__(self, seed: int, start_epoch: int) -> None:
        self.ticks: dict[str, deque[Tick]] = {}
        rng = random.Random(f"{seed}/past-ticks")
        for index in INDICES:
            ring: deque[Tick] = deque(maxlen=MAX_TICKS)
            price = index.start
            step = index.volatility * math.sqrt(index.period / (365 * 24 * 3600))
            past: list[Tick] = []
            for n in range(PAST_TICKS, 0, -1):
                price *= math.exp(step * max(-4.0, min(4.0, rng.gauss(0.0, 1.0))))
                past.append(Tick(start_epoch - n * index.period, round(price, index.pip_size)))
            ring.extend(past)
            self.ticks[index.symbol] = ring

    def add(self, symbol: str, epoch: int, quote: float) -> Tick:
        tick = Tick(epoch, quote)
        self.ticks[symbol].append(tick)
        return tick

    def last(self, symbol: str) -> Tick:
        return self.ticks[symbol][-1]

    def window(self, symbol: str, start: int | None, end: int, count: int) -> list[Tick]:
        """At most ``count`` ticks of ``symbol`` with ``start <= epoch <= end``, newest last."""
        chosen = [
            t for t in self.ticks[symbol] if t.epoch <= end and (start is None or t.epoch >= start)
        ]
        return chosen[-count:]

    def candles(
        self, symbol: str, granularity: int, start: int | None, end: int, count: int
    ) -> list[dict[str, float | int]]:
        """Candles of ``granularity`` seconds from the kept ticks, newest last."""
        candles: dict[int, dict[str, float | int]] = {}
        for tick in self.ticks[symbol]:
            if tick.epoch > end or (start is not None and tick.epoch < start):
                continue
            open_time = tick.epoch - tick.epoch % granularity
            candle = candles.get(open_time)
            if candle is None:
                candles[open_time] = {
                    "close": tick.quote,
                    "epoch": open_time,
                    "high": tick.quote,
                    "low": tick.quote,
                    "open": tick.quote,
                }
            else:
                candle["close"] = tick.quote
                candle["high"] = max(candle["high"], tick.quote)
                candle["low"] = min(candle["low"], tick.quote)
        return list(candles.values())[-count:]
