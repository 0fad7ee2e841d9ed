"""Pacing within Deriv's published call budgets (spec 6.2), as token buckets.

Each budget is N calls per minute *and* M per hour, counted by the venue (we assume) in
any window of that length.  A token bucket of capacity ``C`` and refill ``r`` lets at
most ``C + r * T`` calls through in any window ``T``; with ``C = N/2`` and ``r = N/(2T)``
that is exactly ``N``.  So every budget becomes two buckets (minute, hour) of half its
size, scaled by ``margin`` (0.9: 10% below the published numbers, for jitter on the
way), and a call draws one token from both buckets of its group (``RateGroup``).
``ping`` has its own budget of 10 per second.
"""

from __future__ import annotations

import msgspec

from ..session import BucketPacing, TokenBucket
from ._commands import RateGroup

__all__ = ["BUDGETS", "DEFAULT_RATE_LIMITS", "RateLimits"]

BUDGETS: dict[str, tuple[int, int]] = {
    RateGroup.PRICING: (360, 14_400),
    RateGroup.ACCOUNT: (100, 2_000),
    RateGroup.REPORTS: (30, 1_500),
    RateGroup.GENERAL: (220, 14_400),
}
"""Per group: calls per minute and per hour (spec 6.2, the 2026 limits page)."""

PING_PER_SECOND = 10


class RateLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The budgets to pace within: ``budgets`` per group (per minute, per hour), the
    ``ping`` budget per second, and the ``margin`` kept below them."""

    budgets: dict[str, tuple[int, int]] = msgspec.field(default_factory=lambda: dict(BUDGETS))
    ping_per_second: int = PING_PER_SECOND
    margin: float = 0.9

    def __post_init__(self) -> None:
        if not (0 < self.margin <= 1):
            raise ValueError(f"margin must be in (0, 1], got {self.margin!r}")
        for group, (minute, hour) in self.budgets.items():
            if minute < 1 or hour < minute:
                raise ValueError(f"budget {group!r}: expected 1 <= per minute <= per hour")

    def pacing(self) -> BucketPacing:
        """A fresh :class:`BucketPacing` (one per machine: buckets hold state)."""
        table: dict[object, tuple[tuple[TokenBucket, float], ...]] = {}
        for group, (minute, hour) in self.budgets.items():
            buckets = []
            for budget, window, name in ((minute, 60.0, "minute"), (hour, 3600.0, "hour")):
                size = max(1.0, budget * self.margin / 2)
                buckets.append((TokenBucket(size, size / window, name=f"{group} per {name}"), 1.0))
            table[group] = tuple(buckets)
        size = max(1.0, self.ping_per_second * self.margin / 2)
        table[RateGroup.PING] = ((TokenBucket(size, size, name="ping per second"), 1.0),)
        return BucketPacing(table, default=RateGroup.GENERAL)


DEFAULT_RATE_LIMITS = RateLimits()
