"""Rate-limit pacing with injected time: requests wait in the machine, not at the venue.

Venues publish their limits as buckets: Deribit as credits (a cost per method class,
a pool that refills continuously), Rails as requests per minute, Currency.com as
requests per second.  :class:`TokenBucket` models one pool; :class:`Pacer` holds
outbound items until every bucket they draw on has room, so a well-behaved client never
trips the venue's limit (docs/architecture.md, "Rules the core keeps").

Network jitter can bunch requests up on their way to the venue, so configure buckets a
little below the published limit when the venue punishes overdraft hard (Deribit closes
the connection).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from .._errors import LocalProtocolError

__all__ = ["BucketPacing", "CreditBucket", "Pacer", "TokenBucket"]

T = TypeVar("T")


class TokenBucket:
    """A pool of ``capacity`` tokens refilled at ``rate`` tokens per second.

    The bucket starts full at the first time it is asked about.  Time only moves
    forward: an earlier ``now`` than already seen is treated as no time passing.
    """

    __slots__ = ("_level", "_updated", "capacity", "name", "rate")

    def __init__(self, capacity: float, rate: float, *, name: str = "bucket") -> None:
        if not (capacity > 0 and math.isfinite(capacity)):
            raise LocalProtocolError(
                f"invalid capacity for {name}: expected a finite number > 0, got {capacity!r}"
            )
        if not (rate > 0 and math.isfinite(rate)):
            raise LocalProtocolError(
                f"invalid rate for {name}: expected a finite number > 0, got {rate!r}"
            )
        self.capacity = float(capacity)
        self.rate = float(rate)
        self.name = name
        self._level = float(capacity)
        self._updated: float | None = None

    def _refill(self, now: float) -> None:
        if self._updated is None:
            self._updated = now
            return
        if now > self._updated:
            self._level = min(self.capacity, self._level + (now - self._updated) * self.rate)
            self._updated = now

    def level(self, now: float) -> float:
        """Tokens available at ``now``."""
        self._refill(now)
        return self._level

    def _check_cost(self, cost: float) -> None:
        if not 0 <= cost <= self.capacity:
            raise LocalProtocolError(
                f"invalid cost for {self.name}: expected 0 <= cost <= capacity "
                f"{self.capacity:g}, got {cost!r}"
            )

    def try_take(self, cost: float, now: float) -> bool:
        """Take ``cost`` tokens if available at ``now``."""
        self._check_cost(cost)
        self._refill(now)
        if self._level + 1e-9 >= cost:
            self._level = max(0.0, self._level - cost)
            return True
        return False

    def ready_at(self, cost: float) -> float:
        """The earliest time at which ``cost`` tokens are available (given no takes)."""
        self._check_cost(cost)
        if self._updated is None or self._level >= cost:
            return self._updated if self._updated is not None else -math.inf
        return self._updated + (cost - self._level) / self.rate

    def empty(self, now: float) -> None:
        """Set the level to zero, e.g. when the venue says the pool is exhausted."""
        self._refill(now)
        self._level = 0.0

    def __repr__(self) -> str:
        return (
            f"TokenBucket(name={self.name!r}, capacity={self.capacity:g}, "
            f"rate={self.rate:g}, level={self._level:g})"
        )


class CreditBucket(TokenBucket):
    """A credit pool (Deribit section 7.3): each request costs credits by method class.

    The same mechanics as :class:`TokenBucket`; the name says which model a venue uses.
    """


Costs = Sequence[tuple[TokenBucket, float]]
BucketCosts = tuple[tuple[TokenBucket, float], ...]


class Pacer(Generic[T]):
    """A FIFO of outbound items, each released when all its buckets have room.

    Order is kept per bucket: an item never overtakes an earlier one that draws on a
    bucket it shares; items on other buckets (or on none) pass.  ``max_queued`` bounds
    the queue: :meth:`submit` raises :class:`LocalProtocolError` when it is full.
    """

    __slots__ = ("_queue", "max_queued")

    def __init__(self, *, max_queued: int = 1024) -> None:
        if max_queued < 1:
            raise LocalProtocolError(
                f"invalid max_queued: expected a positive int, got {max_queued!r}"
            )
        self.max_queued = max_queued
        self._queue: list[tuple[T, Costs]] = []

    def submit(self, item: T, costs: Costs) -> None:
        if len(self._queue) >= self.max_queued:
            raise LocalProtocolError(
                f"too many requests waiting for rate-limit credit "
                f"(limit max_queued={self.max_queued})"
            )
        for bucket, cost in costs:
            bucket._check_cost(cost)
        self._queue.append((item, tuple(costs)))

    def release(self, now: float) -> list[T]:
        """Take tokens for, and return, every item that may go now, in order."""
        if not self._queue:
            return []
        released: list[T] = []
        waiting: list[tuple[T, Costs]] = []
        blocked: set[int] = set()
        for item, costs in self._queue:
            ids = {id(b) for b, _ in costs}
            if ids & blocked or not all(b.level(now) + 1e-9 >= c for b, c in costs):
                blocked |= ids
                waiting.append((item, costs))
                continue
            for bucket, cost in costs:
                bucket.try_take(cost, now)
            released.append(item)
        self._queue = waiting
        return released

    def next_deadline(self) -> float | None:
        """When the first waiting item could go, or ``None`` if nothing waits."""
        best: float | None = None
        seen: set[int] = set()
        for _, costs in self._queue:
            ids = {id(b) for b, _ in costs}
            if ids & seen:
                continue  # behind an earlier item on a shared bucket
            seen |= ids
            ready = max((b.ready_at(c) for b, c in costs), default=-math.inf)
            if best is None or ready < best:
                best = ready
        return best

    def remove(self, predicate: Callable[[T], bool]) -> list[T]:
        """Drop and return the waiting items for which ``predicate`` is true."""
        removed = [item for item, _ in self._queue if predicate(item)]
        if removed:
            self._queue = [(i, c) for i, c in self._queue if not predicate(i)]
        return removed

    def clear(self) -> list[T]:
        items = [item for item, _ in self._queue]
        self._queue = []
        return items

    def __len__(self) -> int:
        return len(self._queue)


class BucketPacing:
    """A :class:`~tradewire.protocol.session.Pacing` from a table: each command's
    ``rate_key`` -> the ``(bucket, cost)`` pairs it draws on; unknown keys use
    ``default`` (``None``: not paced)."""

    __slots__ = ("default", "table")

    def __init__(
        self,
        table: dict[object, BucketCosts],
        *,
        default: object = None,
    ) -> None:
        self.table = table
        self.default = default

    def costs(self, info: Any) -> BucketCosts:
        found = self.table.get(info.rate_key)
        if found is None:
            found = self.table.get(self.default, ())
        return found
