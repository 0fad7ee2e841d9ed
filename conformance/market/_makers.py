"""Simulated participants: makers that keep liquidity around the mark, and random takers.

**Makers** keep ``maker_levels`` levels on each side of every active instrument.  The
best level sits ``half = max(tick, mark * maker_half_spread)`` from the mark (floored to
the grid for bids, ceiled for asks); the deeper levels sit on a fixed grid of
``gap = max(tick, mark * maker_level_gap)`` steps below (above) it, so as the mark moves
only the edges of the ladder change: a few ``new`` / ``delete`` levels per move rather
than a whole new book.  A missing level gets a random size of 1 to ``maker_max_lots``
minimum amounts; with probability ``maker_churn`` per tick one maker level is resized
(a ``change`` action).  Makers never cross the book: a maker bid is placed only below
the best ask and a maker ask only above the best bid, whoever's those are, so makers
never trade on their own; they are the counterparties of takers.

**Takers** send, with probability ``taker_rate`` per instrument and tick, a market order
of 1 to ``taker_max_lots`` minimum amounts in a random direction.  It trades with
whatever rests, user orders included, which is how a user's resting order gets filled
without a second user.  Simulated participants hold no positions and no accounts.

Each uses its own ``random.Random``; draws happen in catalog order.
"""

from __future__ import annotations

import random

from ._catalog import Contract
from ._config import MarketConfig
from ._engine import Batch, Engine
from ._ladder import BookSide, Ladder, Resting
from ._orders import LiveOrder

__all__ = ["Makers", "Takers"]


class _Quoted:
    """What a contract's last requote left: the ladder it aimed at (its key and prices),
    the maker entries on it, and the book's version right after."""

    __slots__ = ("key", "keys", "mine", "targets", "version")

    def __init__(self) -> None:
        self.key: tuple[int, int, int] | None = None  # (best bid, best ask, gap) in ticks
        self.targets: tuple[list[int], list[int]] = ([], [])
        self.mine: dict[tuple[BookSide, int], Resting] = {}
        self.keys: list[tuple[BookSide, int]] | None = None  # sorted(mine), when needed
        self.version = -1


class Makers:
    """Maker ladders of every instrument.

    A tick usually moves a mark by less than a level's spacing, so the ladder it aims at
    (a function of its best bid, best ask and grid gap, in ticks) is the one of the last
    tick; when the book has not changed since the last requote either (its ``version``),
    the requote has nothing to move and only the churn draw remains.  Both shortcuts
    give exactly the levels, the random draws and the book changes the full computation
    gives.
    """

    def __init__(self, config: MarketConfig, rng: random.Random) -> None:
        self._config = config
        self._rng = rng
        self._quoted: dict[str, _Quoted] = {}

    def _key(self, engine: Engine, c: Contract) -> tuple[int, int, int]:
        config = self._config
        mark = engine.pricer.mark(c)
        half = max(c.tick, mark * config.maker_half_spread)
        gap = max(1, round(max(c.tick, mark * config.maker_level_gap) / c.tick))
        return c.floor_units(mark - half), c.ceil_units(mark + half), gap

    def targets(self, engine: Engine, c: Contract) -> tuple[list[int], list[int]]:
        """The maker bid and ask prices (ticks) at the current mark, best first."""
        return self._targets(c, self._key(engine, c))

    def _targets(self, c: Contract, key: tuple[int, int, int]) -> tuple[list[int], list[int]]:
        config = self._config
        top, ask_top, gap = key
        bids: list[int] = []
        asks: list[int] = []
        if config.maker_levels == 0:
            return bids, asks
        if top > 0:
            bids.append(top)
            grid = (top - 1) // gap * gap
            while len(bids) < config.maker_levels and grid > 0:
                units = c.snap_down(grid)
                if 0 < units < bids[-1]:
                    bids.append(units)
                grid -= gap
        top = ask_top
        asks.append(top)
        grid = (top // gap + 1) * gap
        while len(asks) < config.maker_levels:
            units = c.snap_up(grid)
            if units > asks[-1]:
                asks.append(units)
            grid += gap
        return bids, asks

    def requote(self, engine: Engine, c: Contract, batch: Batch) -> None:
        """Move ``c``'s maker ladder to the current mark."""
        ladder = engine.ladders[c.name]
        key = self._key(engine, c)
        quoted = self._quoted.get(c.name)
        if quoted is None:
            quoted = self._quoted[c.name] = _Quoted()
        if quoted.key == key:
            if quoted.version == ladder.version:
                mine = quoted.mine  # nothing to move: the same ladder on the same book
                if mine and self._rng.random() < self._config.maker_churn:
                    keys = quoted.keys
                    if keys is None:
                        keys = quoted.keys = sorted(mine)
                    self._churn(c, ladder, mine[keys[self._rng.randrange(len(keys))]], batch)
                quoted.version = ladder.version
                return
        else:
            quoted.targets = self._targets(c, key)
            quoted.key = key
        quoted.mine = self._move(engine, c, quoted.targets, batch)
        quoted.keys = None
        quoted.version = ladder.version

    def _churn(self, c: Contract, ladder: Ladder, resting: Resting, batch: Batch) -> None:
        ladder.resize(resting, self._size(c))
        batch.books[c.name] = c

    def _move(
        self, engine: Engine, c: Contract, targets: tuple[list[int], list[int]], batch: Batch
    ) -> dict[tuple[BookSide, int], Resting]:
        """The full requote: drop maker levels off the target, add the missing ones,
        churn; returns the maker entries on the target."""
        ladder = engine.ladders[c.name]
        bids, asks = targets
        wanted: dict[BookSide, set[int]] = {"bid": set(bids), "ask": set(asks)}
        mine: dict[tuple[BookSide, int], Resting] = {}
        for resting in list(ladder.entries()):
            if resting.order is not None:
                continue
            if resting.units in wanted[resting.side]:
                mine[(resting.side, resting.units)] = resting
            else:
                ladder.remove(resting)
                batch.books[c.name] = c
        best_ask = ladder.best("ask")
        for units in bids:
            if ("bid", units) not in mine and (best_ask is None or units < best_ask[0]):
                mine[("bid", units)] = self._add(engine, c, "bid", units)
                batch.books[c.name] = c
        best_bid = ladder.best("bid")
        for units in asks:
            if ("ask", units) not in mine and (best_bid is None or units > best_bid[0]):
                mine[("ask", units)] = self._add(engine, c, "ask", units)
                batch.books[c.name] = c
        if mine and self._rng.random() < self._config.maker_churn:
            keys = sorted(mine)
            self._churn(c, ladder, mine[keys[self._rng.randrange(len(keys))]], batch)
        return mine

    def _size(self, c: Contract) -> int:
        return self._rng.randint(1, self._config.maker_max_lots) * c.min_lots

    def _add(self, engine: Engine, c: Contract, side: BookSide, units: int) -> Resting:
        resting = Resting(side, units, self._size(c), None)
        engine.ladders[c.name].add(resting)
        return resting


class Takers:
    """Random market orders."""

    def __init__(self, config: MarketConfig, rng: random.Random) -> None:
        self._config = config
        self._rng = rng

    def maybe_trade(self, engine: Engine, c: Contract, batch: Batch) -> None:
        rng = self._rng
        if not rng.random() < self._config.taker_rate:
            return
        buy = rng.random() < 0.5
        lots = rng.randint(1, self._config.taker_max_lots) * c.min_lots
        low, high = engine.band(c)
        order = LiveOrder(
            order_id="", account=None, contract=c, direction="buy" if buy else "sell",
            order_type="market", units=high if buy else low, lots=lots,
            time_in_force="immediate_or_cancel", label="", post_only=False,
            reject_post_only=False, reduce_only=False, now_ms=batch.now_ms, expires_ms=None,
        )  # fmt: skip
        engine.execute(order, batch)
