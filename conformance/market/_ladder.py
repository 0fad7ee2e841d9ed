"""One instrument's book of resting orders: price-time priority, and its level changes.

Prices are integer ticks and amounts integer lots (see :class:`Contract`), so levels are
exact dict keys.  Each side keeps a FIFO queue of :class:`Resting` entries per price and
the level totals; the L2 view (``price -> total``) is what the change feed publishes.

Every mutation remembers the total a touched level had before the first touch since the
last :meth:`Ladder.take_changes`; that call turns the touched levels into
``(action, ticks, lots)`` triples (``new`` / ``change`` / ``delete``, absolute totals,
bids best first), skipping levels that ended where they started.  So one engine
operation (an order that sweeps three levels and rests the rest, a maker requote)
becomes one book change however many queue entries it moved.
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ._orders import LiveOrder

__all__ = ["BookSide", "Ladder", "Resting"]

BookSide = Literal["bid", "ask"]
LevelTriple = tuple[Literal["new", "change", "delete"], int, int]


class Resting:
    """An order's presence in the book: ``lots`` left at ``units`` on ``side``.

    ``order`` is the user's (or simulated taker's) live order, ``None`` for liquidity of
    the simulated makers.
    """

    __slots__ = ("lots", "order", "side", "units")

    def __init__(self, side: BookSide, units: int, lots: int, order: LiveOrder | None) -> None:
        self.side: BookSide = side
        self.units = units
        self.lots = lots
        self.order = order

    def __repr__(self) -> str:
        owner = "maker" if self.order is None else self.order.order_id
        return f"Resting({self.side}, {self.units}, {self.lots}, {owner})"


class _Side:
    __slots__ = ("prices", "queues", "totals")

    def __init__(self) -> None:
        self.queues: dict[int, deque[Resting]] = {}
        self.totals: dict[int, int] = {}
        self.prices: list[int] = []  # ascending


class Ladder:
    """Resting orders of one instrument, both sides."""

    __slots__ = ("_before", "_sides", "version")

    def __init__(self) -> None:
        self._sides: dict[BookSide, _Side] = {"bid": _Side(), "ask": _Side()}
        self._before: dict[tuple[BookSide, int], int] = {}
        #: Counts the mutations (add, remove, resize): equal numbers, the same book.
        self.version = 0

    # -- mutations -------------------------------------------------------------------

    def _touch(self, side: BookSide, units: int) -> _Side:
        s = self._sides[side]
        self._before.setdefault((side, units), s.totals.get(units, 0))
        self.version += 1
        return s

    def add(self, resting: Resting) -> None:
        """Queue ``resting`` at the back of its level."""
        s = self._touch(resting.side, resting.units)
        queue = s.queues.get(resting.units)
        if queue is None:
            queue = s.queues[resting.units] = deque()
            s.totals[resting.units] = 0
            insort(s.prices, resting.units)
        queue.append(resting)
        s.totals[resting.units] += resting.lots

    def remove(self, resting: Resting) -> None:
        """Take ``resting`` out of the book."""
        s = self._touch(resting.side, resting.units)
        queue = s.queues[resting.units]
        queue.remove(resting)
        s.totals[resting.units] -= resting.lots
        if not queue:
            del s.queues[resting.units], s.totals[resting.units]
            s.prices.remove(resting.units)

    def resize(self, resting: Resting, lots: int) -> None:
        """Set ``resting``'s lots in place (it keeps its time priority); 0 removes it."""
        if lots <= 0:
            self.remove(resting)
            resting.lots = 0
            return
        s = self._touch(resting.side, resting.units)
        s.totals[resting.units] += lots - resting.lots
        resting.lots = lots

    def take_changes(self) -> tuple[list[LevelTriple], list[LevelTriple]]:
        """The level changes since the last call: ``(bids best first, asks best first)``."""
        bids: list[LevelTriple] = []
        asks: list[LevelTriple] = []
        for (side, units), before in self._before.items():
            now = self._sides[side].totals.get(units, 0)
            if now == before:
                continue
            action: Literal["new", "change", "delete"] = (
                "new" if before == 0 else "delete" if now == 0 else "change"
            )
            (bids if side == "bid" else asks).append((action, units, now))
        self._before.clear()
        bids.sort(key=lambda level: -level[1])
        asks.sort(key=lambda level: level[1])
        return bids, asks

    # -- queries ---------------------------------------------------------------------

    def best(self, side: BookSide) -> tuple[int, int] | None:
        """The best level of ``side`` as ``(ticks, lots)``, or ``None`` when empty."""
        s = self._sides[side]
        if not s.prices:
            return None
        units = s.prices[-1] if side == "bid" else s.prices[0]
        return units, s.totals[units]

    def levels(self, side: BookSide) -> list[tuple[int, int]]:
        """Every level of ``side``, best first."""
        s = self._sides[side]
        prices = reversed(s.prices) if side == "bid" else iter(s.prices)
        return [(units, s.totals[units]) for units in prices]

    def walk(self, side: BookSide) -> Iterator[Resting]:
        """Resting entries of ``side`` in execution priority: best price, then oldest.

        The book must not change while the iterator is in use.
        """
        s = self._sides[side]
        prices = reversed(s.prices) if side == "bid" else iter(s.prices)
        for units in prices:
            yield from s.queues[units]

    def entries(self) -> Iterator[Resting]:
        """Every resting entry, bids then asks."""
        for side in ("bid", "ask"):
            for queue in self._sides[side].queues.values():
                yield from queue
