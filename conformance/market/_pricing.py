"""The price process and the marks derived from it: index walks, futures, funding, options.

Model (deliberately simple, documented so a test can recompute any number):

* **Index** (each walk the catalog names, e.g. ``btc_usd``, ``eth_usd``): a geometric
  random walk.  Each tick multiplies the price by
  ``exp(sigma * sqrt(dt / year) * walk_scale * z)`` with ``z`` a standard normal draw
  clamped to +-4 (a bounded step), rounded to cents.  A published index name follows the
  walk the catalog maps it to (Deribit's ``btc_usdc`` follows ``btc_usd``).
* **Perpetual mark**: ``index * (1 + premium)``; the premium is a per-perpetual
  mean-reverting walk (``premium * 0.99 + N(0, 1e-5)`` per tick) bounded to +-0.05%.
  ``current_funding`` and ``funding_8h`` are the premium; ``interest_value``
  accumulates ``premium * dt / 8h``.
* **Dated future mark**: ``index * (1 + future_basis * years_to_expiry)``.
* **Spot mark**: the index.
* **Option mark**: Black-Scholes on the index with zero rates and the index's fixed
  volatility, in USD, divided by the index to quote it in the base coin (Deribit's
  inverse options).  Greeks are the Black-Scholes ones in USD terms (``vega`` and
  ``rho`` per volatility / rate point, ``theta`` per day); ``mark_iv`` is the
  volatility in percent; ``bid_iv``/``ask_iv`` are implied from the book by Newton's
  method with a bisection fallback.

Randomness comes from the ``random.Random`` instance passed in; one tick draws one
normal per index (in name order), then one per perpetual (in catalog order).
"""

from __future__ import annotations

import math
import random

import msgspec

from ._catalog import Contract
from ._config import MarketConfig

__all__ = ["OptionValue", "Pricer", "black_scholes", "implied_volatility"]

YEAR_MS = 365 * 24 * 3600 * 1000
FUNDING_PERIOD_MS = 8 * 3600 * 1000
MAX_STEP_SIGMAS = 4.0
PREMIUM_LIMIT = 0.0005
PREMIUM_STEP = 0.00001
PREMIUM_REVERSION = 0.99
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


class OptionValue(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Black-Scholes value and greeks of one option, in USD."""

    price: float
    delta: float
    gamma: float
    vega: float
    theta: float
    rho: float


def _cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / _SQRT2)


def black_scholes(call: bool, spot: float, strike: float, years: float, vol: float) -> OptionValue:
    """Black-Scholes with zero rates; at or after expiry, the intrinsic value."""
    if years <= 0 or vol <= 0:
        intrinsic = max(0.0, spot - strike) if call else max(0.0, strike - spot)
        delta = (1.0 if spot > strike else 0.0) if call else (-1.0 if spot < strike else 0.0)
        return OptionValue(price=intrinsic, delta=delta, gamma=0.0, vega=0.0, theta=0.0, rho=0.0)
    root = math.sqrt(years)
    d1 = (math.log(spot / strike) + 0.5 * vol * vol * years) / (vol * root)
    d2 = d1 - vol * root
    density = math.exp(-0.5 * d1 * d1) / _SQRT2PI
    if call:
        price = spot * _cdf(d1) - strike * _cdf(d2)
        delta, rho = _cdf(d1), strike * years * _cdf(d2) / 100
    else:
        price = strike * _cdf(-d2) - spot * _cdf(-d1)
        delta, rho = _cdf(d1) - 1.0, -strike * years * _cdf(-d2) / 100
    return OptionValue(
        price=max(price, 0.0),
        delta=delta,
        gamma=density / (spot * vol * root),
        vega=spot * density * root / 100,
        theta=-spot * density * vol / (2 * root) / 365,
        rho=rho,
    )


def implied_volatility(
    call: bool, price: float, spot: float, strike: float, years: float
) -> float | None:
    """The volatility at which Black-Scholes gives ``price`` (USD), or ``None``."""
    if years <= 0 or price <= 0:
        return None
    low, high = 1e-4, 10.0
    if not black_scholes(call, spot, strike, years, low).price < price:
        return None
    if not black_scholes(call, spot, strike, years, high).price > price:
        return None
    vol = 0.5
    for _ in range(40):
        value = black_scholes(call, spot, strike, years, vol)
        error = value.price - price
        if abs(error) < 1e-9 * max(1.0, price):
            return vol
        if error > 0:
            high = vol
        else:
            low = vol
        vega = value.vega * 100
        step = vol - error / vega if vega > 1e-12 else -1.0
        vol = step if low < step < high else 0.5 * (low + high)
    return vol


class Pricer:
    """Index walks and per-contract marks at the current tick (marks cached per tick)."""

    def __init__(
        self,
        config: MarketConfig,
        contracts: list[Contract],
        rng: random.Random,
        *,
        indexes: dict[str, str],
    ) -> None:
        self._rng = rng
        self._scale = config.walk_scale
        self._basis = config.future_basis
        self._indexes = indexes
        self.vols = dict(config.volatilities)
        walks = {c.underlying for c in contracts} | set(indexes.values())
        self.index = {name: float(config.start_prices[name]) for name in sorted(walks)}
        self.premium = {c.name: 0.0 for c in contracts if c.perpetual}
        self.interest = dict.fromkeys(self.premium, 0.0)
        self.now_ms = config.start_ms
        self._marks: dict[str, float] = {}
        self._options: dict[str, OptionValue] = {}
        self.settlement = {c.name: self.mark(c) for c in contracts if c.kind != "spot"}
        """The last settlement price of each derivative: its mark at the start."""

    def step(self, now_ms: int) -> None:
        """Move every walk from the last tick to ``now_ms``."""
        dt = max(0, now_ms - self.now_ms)
        gauss = self._rng.gauss
        for name in sorted(self.index):
            sigma = self.vols[name] * math.sqrt(dt / YEAR_MS) * self._scale
            z = max(-MAX_STEP_SIGMAS, min(MAX_STEP_SIGMAS, gauss(0.0, 1.0)))
            self.index[name] = round(self.index[name] * math.exp(sigma * z), 2)
        for name, premium in self.premium.items():
            moved = premium * PREMIUM_REVERSION + gauss(0.0, PREMIUM_STEP)
            self.premium[name] = max(-PREMIUM_LIMIT, min(PREMIUM_LIMIT, moved))
            self.interest[name] += self.premium[name] * dt / FUNDING_PERIOD_MS
        self.now_ms = now_ms
        self._marks.clear()
        self._options.clear()

    def index_price(self, index_name: str) -> float:
        """A published index (following its walk, see ``Catalog.indexes``) or a walk."""
        return self.index[self._indexes.get(index_name, index_name)]

    def years_left(self, contract: Contract) -> float:
        if contract.expiry_ms is None:
            return 0.0
        return max(0, contract.expiry_ms - self.now_ms) / YEAR_MS

    def option(self, contract: Contract) -> OptionValue:
        value = self._options.get(contract.name)
        if value is None:
            spot = self.index[contract.underlying]
            strike = contract.strike or 0.0
            vol = self.vols[contract.underlying]
            value = black_scholes(contract.call, spot, strike, self.years_left(contract), vol)
            self._options[contract.name] = value
        return value

    def mark(self, contract: Contract) -> float:
        """The mark price in the instrument's price unit (USD, USDC or base coin)."""
        mark = self._marks.get(contract.name)
        if mark is None:
            index = self.index[contract.underlying]
            if contract.kind == "option":
                mark = round(self.option(contract).price / index, 8)
            elif contract.perpetual:
                mark = round(index * (1 + self.premium[contract.name]), 2)
            elif contract.kind == "future":
                mark = round(index * (1 + self._basis * self.years_left(contract)), 2)
            else:
                mark = index
            self._marks[contract.name] = mark
        return mark

    def implied(self, contract: Contract, price: float | None) -> float | None:
        """The implied volatility (percent) of an option price in the base coin."""
        if price is None or contract.kind != "option":
            return None
        spot = self.index[contract.underlying]
        vol = implied_volatility(
            contract.call, price * spot, spot, contract.strike or 0.0, self.years_left(contract)
        )
        return None if vol is None else round(vol * 100, 2)
