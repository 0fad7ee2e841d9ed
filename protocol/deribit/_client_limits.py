"""Rate-limit configuration of the Deribit client: one bucket per credit pool (spec 7.3).

Deribit keeps a leaky bucket of credits per sub-account; each request costs credits by
method class, and an empty pool is answered with 10028 ``too_many_requests`` *and the end
of the session*.  :class:`RateLimits` describes the pools; the client machine builds one
:class:`~tradewire.protocol.CreditBucket` per pool and paces every outbound request with
the core :class:`~tradewire.protocol.Pacer`, so it never spends more than configured.

Defaults are the published numbers: non-matching 500 of 50 000 refilled at 10 000/s
(20 req/s, burst 100), ``public/get_instruments`` 10 000 of 500 000, subscribe 3 000 of
30 000, and the matching engine (``buy``, ``sell``, ``edit*``, ``cancel*``) at tier 4,
5 requests/s with a burst of 20, the tier of a new account (:meth:`RateLimits.tier`).

``headroom`` (default 0.1) scales every pool and refill rate down by that fraction.  Why
spend less than allowed: the client cannot see the venue's level.  It does not know how
full the pool is when it connects (browsing the website spends the same credits), and
latency jitter can deliver two requests paced 50 ms apart 10 ms apart.  10% of the
default pool is 5 000 credits, ten requests of slack, or half a second of refill; enough
for jitter, small enough to cost little throughput.  The pools are per sub-account: with
several connections on one account, give each its share (divide ``pool`` and
``refill``).
"""

from __future__ import annotations

import math

import msgspec

from .._errors import LocalProtocolError
from ..session._ratelimit import CreditBucket, TokenBucket
from ._limits import (
    CREDIT_COST,
    CREDIT_POOL,
    CREDIT_REFILL_PER_SECOND,
    MATCHING_ENGINE_TIERS,
    RateClass,
)

__all__ = ["CreditPool", "RateLimits"]

Costs = tuple[tuple[TokenBucket, float], ...]


class CreditPool(msgspec.Struct, frozen=True, kw_only=True):
    """One pool: each request costs ``cost``; at most ``pool``; ``refill`` per second."""

    cost: float
    pool: float
    refill: float

    def __post_init__(self) -> None:
        for name in ("cost", "pool", "refill"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise LocalProtocolError(f"invalid {name}: expected a number > 0, got {value!r}")
            if not (value > 0 and math.isfinite(value)):
                raise LocalProtocolError(f"invalid {name}: expected a number > 0, got {value!r}")
        if self.pool < self.cost:
            raise LocalProtocolError(
                f"invalid pool: expected pool >= cost ({self.cost:g}), got {self.pool!r}"
            )


def _credit(rate_class: RateClass) -> CreditPool:
    return CreditPool(
        cost=CREDIT_COST[rate_class],
        pool=CREDIT_POOL[rate_class],
        refill=CREDIT_REFILL_PER_SECOND,
    )


def _tier(tier: int) -> CreditPool:
    if isinstance(tier, bool) or tier not in (1, 2, 3, 4):
        raise LocalProtocolError(f"invalid tier: {tier!r}; accepted values: 1, 2, 3, 4")
    rate, burst = MATCHING_ENGINE_TIERS[tier - 1]
    return CreditPool(cost=1, pool=burst, refill=rate)


class RateLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The pools the client paces against (see the module docstring)."""

    non_matching: CreditPool = msgspec.field(
        default_factory=lambda: _credit(RateClass.NON_MATCHING)
    )
    get_instruments: CreditPool = msgspec.field(
        default_factory=lambda: _credit(RateClass.GET_INSTRUMENTS)
    )
    subscribe: CreditPool = msgspec.field(default_factory=lambda: _credit(RateClass.SUBSCRIBE))
    matching_engine: CreditPool = msgspec.field(default_factory=lambda: _tier(4))
    headroom: float = 0.1

    def __post_init__(self) -> None:
        headroom = self.headroom
        if (
            isinstance(headroom, bool)
            or not isinstance(headroom, int | float)
            or not 0 <= headroom < 1
        ):
            raise LocalProtocolError(
                f"invalid headroom: expected 0 <= headroom < 1, got {headroom!r}"
            )
        for rate_class in RateClass:
            pool = self.pool_for(rate_class)
            if pool.pool * (1 - headroom) < pool.cost:
                raise LocalProtocolError(
                    f"invalid headroom: {rate_class.value} pool {pool.pool:g} less "
                    f"{headroom:g} no longer holds one request of cost {pool.cost:g}"
                )

    @classmethod
    def tier(cls, tier: int, *, headroom: float = 0.1) -> RateLimits:
        """The published pools with the matching engine at ``tier`` (1 fastest, 4 default)."""
        return cls(matching_engine=_tier(tier), headroom=headroom)

    def pool_for(self, rate_class: RateClass) -> CreditPool:
        if rate_class is RateClass.NON_MATCHING:
            return self.non_matching
        if rate_class is RateClass.GET_INSTRUMENTS:
            return self.get_instruments
        if rate_class is RateClass.SUBSCRIBE:
            return self.subscribe
        return self.matching_engine

    def buckets(self) -> dict[RateClass, Costs]:
        """A fresh bucket per pool, scaled by ``headroom``: rate class -> pacer costs."""
        scale = 1 - self.headroom
        table: dict[RateClass, Costs] = {}
        for rate_class in RateClass:
            pool = self.pool_for(rate_class)
            bucket = CreditBucket(pool.pool * scale, pool.refill * scale, name=rate_class.value)
            table[rate_class] = ((bucket, float(pool.cost)),)
        return table
