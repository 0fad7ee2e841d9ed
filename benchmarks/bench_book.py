"""Order book: applying one decoded 20-level Deribit change, in microseconds per change.

The book starts from the 400-level snapshot (200 a side) of :class:`BookSim`, and the
changes are the chained stream the decode benchmark uses: about 20 actions, ``new`` /
``change`` / ``delete`` within the best 40 ticks of either side, already decoded (the
``BookData`` levels are tuples, exactly what the machine hands the book).  Rows:

* ``OrderBook.apply_actions`` for the bids, then the asks: validation of every level
  (finite price, non-negative finite size, known action), the room check, the sorted
  keys and tombstones (see :mod:`tradewire.protocol.session._book`);
* the same, then ``best_bid()`` and ``best_ask()``: what a consumer asks after each change;
* the floor: a plain ``dict`` per side, ``d[price] = amount`` or ``d.pop(price)`` per
  level, with no checks and no order kept, so no best price without a sort.  It shows
  what validation and ordering cost, not an alternative anybody should use.

Each sample starts a fresh book from the snapshot (not timed) and applies every change.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from tradewire.protocol import OrderBook
from tradewire.protocol.deribit import BookUpdate, decode_inbound
from tradewire.protocol.session._book import _whole

from ._messages import BookSim
from ._timing import Result, interleave, timed

__all__ = ["run", "run_depth"]

GROUP = "order book: apply a 20-level change to a 400-level book"


def _updates(scale: float) -> tuple[BookUpdate, list[BookUpdate]]:
    sim = BookSim()
    snapshot = decode_inbound(sim.snapshot())
    changes = [decode_inbound(m) for m in sim.changes(int(4000 * scale))]
    assert isinstance(snapshot, BookUpdate)
    assert all(isinstance(c, BookUpdate) for c in changes)
    return snapshot, changes  # type: ignore[return-value]


def _order_book(
    snapshot: BookUpdate, changes: list[BookUpdate], query: bool
) -> Callable[[], float]:
    data = [c.data for c in changes]

    def sample() -> float:
        book = OrderBook()
        book.apply_snapshot(snapshot.data.bids, snapshot.data.asks)
        apply = book.apply_actions

        def loop() -> None:
            for d in data:
                apply("bid", d.bids)
                apply("ask", d.asks)

        def loop_and_query() -> None:
            best_bid, best_ask = book.best_bid, book.best_ask
            for d in data:
                apply("bid", d.bids)
                apply("ask", d.asks)
                best_bid()
                best_ask()

        return timed(loop_and_query if query else loop, len(data))

    return sample


def _dict_floor(snapshot: BookUpdate, changes: list[BookUpdate]) -> Callable[[], float]:
    data = [c.data for c in changes]

    def sample() -> float:
        bids = {p: v for _, p, v in snapshot.data.bids}
        asks = {p: v for _, p, v in snapshot.data.asks}

        def loop() -> None:
            for d in data:
                for action, price, amount in d.bids:
                    if action == "delete":
                        bids.pop(price, None)
                    else:
                        bids[price] = amount
                for action, price, amount in d.asks:
                    if action == "delete":
                        asks.pop(price, None)
                    else:
                        asks[price] = amount

        return timed(loop, len(data))

    return sample


def run(repeats: int, scale: float) -> tuple[list[Result], Result]:
    """The book rows and the row the others are compared with (the dict floor)."""
    snapshot, changes = _updates(scale)
    floor = Result(GROUP, "floor: dict set/pop per level (no checks, no order)", "us")
    rows = [
        (
            Result(GROUP, "OrderBook.apply_actions, bids then asks", "us"),
            _order_book(snapshot, changes, False),
        ),
        (
            Result(GROUP, "  ... then best_bid() and best_ask()", "us"),
            _order_book(snapshot, changes, True),
        ),
        (floor, _dict_floor(snapshot, changes)),
    ]
    interleave(rows, repeats)
    return [r for r, _ in rows], floor


# -- book depth: 1k and 100k levels, changes spread through the book; the snapshot ---------
#
# Rows (one group each, see ``run_depth``):
#
# * a 20-level change applied to a book of ``depth`` levels (half a side), the levels
#   spread uniformly over the whole depth (not only near the top, so every chunk of the
#   sorted keys is hit): ``OrderBook.apply_actions`` for bids, then asks, against the
#   same levels applied to a plain ``dict`` per side (``d[p] = v`` / ``d.pop(p)``), at
#   1k levels; and the same ``OrderBook`` row at 100k levels, against the 1k row;
# * a 400-level snapshot (the decode benchmark's, decoded): ``OrderBook.apply_snapshot``
#   (checks, drops deletes, sorts both sides into chunks) against building the two dicts
#   ``{price: amount}`` from the same levels (no checks, no order); beside them, two floor
#   rows that show where the 1.5x budget goes: the book's own whole-side check called
#   directly (``_whole``: the filtering comprehension, the sort, the finiteness sum; no
#   ``OrderBook`` call), and that comprehension alone (the per-level checks of action and
#   amount, as the book writes them, with no order and no sum).
#
# Each change sample starts from a fresh copy of the same start state (not timed) and
# applies the same 1,000 changes (4,000 x scale); the changes keep each side about as
# deep as it started (new levels on empty ticks, deletes and changes of live ones).

DEPTH_GROUP = "order book: 20-level changes spread through the book, by book depth"
SNAPSHOT_GROUP = "order book: apply a 400-level snapshot (200 a side)"
_DEPTH_TICK = 0.5
_DEPTH_MID = 97_000.0
Levels = list[tuple[str, float, float]]


class DepthSim:
    """A seeded book of ``depth`` levels (half a side) and changes anywhere in it."""

    def __init__(self, depth: int, seed: int = 11) -> None:
        self.rng = rng = random.Random(seed)
        half = depth // 2
        span = half * 5 // 4  # a quarter of the ticks empty: room for ``new``
        self.span = span
        self.sides: dict[str, dict[int, float]] = {
            side: {k: self._amount() for k in rng.sample(range(1, span + 1), half)}
            for side in ("bids", "asks")
        }

    def _amount(self) -> float:
        return float(self.rng.choice((10, 20, 50, 100, 500, 1000, 5000, 20000)) * 10)

    @staticmethod
    def price(side: str, k: int) -> float:
        return _DEPTH_MID - k * _DEPTH_TICK if side == "bids" else _DEPTH_MID + k * _DEPTH_TICK

    def snapshot(self) -> tuple[Levels, Levels]:
        bids, asks = (
            [("new", self.price(side, k), v) for k, v in sorted(self.sides[side].items())]
            for side in ("bids", "asks")
        )
        return bids, asks

    def change(self, levels: int = 20) -> tuple[Levels, Levels]:
        rng = self.rng
        picked: dict[str, Levels] = {"bids": [], "asks": []}
        touched: set[tuple[str, int]] = set()
        while len(touched) < levels:
            side = rng.choice(("bids", "asks"))
            k = rng.randint(1, self.span)
            if (side, k) in touched:
                continue
            touched.add((side, k))
            book, price = self.sides[side], self.price(side, k)
            if k not in book:
                book[k] = amount = self._amount()
                picked[side].append(("new", price, amount))
            elif rng.random() < 0.25:  # keeps 4 ticks in 5 live, as at the start
                del book[k]
                picked[side].append(("delete", price, 0.0))
            else:
                book[k] = amount = self._amount()
                picked[side].append(("change", price, amount))
        return (
            sorted(picked["bids"], key=lambda level: -level[1]),
            sorted(picked["asks"], key=lambda level: level[1]),
        )


def _depth_book(depth: int, count: int) -> Callable[[], float]:
    sim = DepthSim(depth)
    bids, asks = sim.snapshot()
    changes = [sim.change() for _ in range(count)]
    start = OrderBook(max_levels=max(100_000, depth))
    start.apply_snapshot(bids, asks)
    assert start.depth("bid") + start.depth("ask") == depth

    def sample() -> float:
        book = OrderBook(max_levels=max(100_000, depth))
        book.apply_snapshot(bids, asks)
        apply = book.apply_actions

        def loop() -> None:
            for b, a in changes:
                apply("bid", b)
                apply("ask", a)

        return timed(loop, len(changes))

    return sample


def _depth_dict(depth: int, count: int) -> Callable[[], float]:
    sim = DepthSim(depth)
    bids0, asks0 = ({p: v for _, p, v in side} for side in sim.snapshot())
    changes = [sim.change() for _ in range(count)]

    def sample() -> float:
        bids, asks = dict(bids0), dict(asks0)

        def loop() -> None:
            for b, a in changes:
                for action, price, amount in b:
                    if action == "delete":
                        bids.pop(price, None)
                    else:
                        bids[price] = amount
                for action, price, amount in a:
                    if action == "delete":
                        asks.pop(price, None)
                    else:
                        asks[price] = amount

        return timed(loop, len(changes))

    return sample


def _snapshot_rows(snapshot: BookUpdate, count: int) -> tuple[Callable[[], float], ...]:
    """``OrderBook.apply_snapshot``, the two plain dicts, and the two floors (see above)."""
    bids, asks = snapshot.data.bids, snapshot.data.asks
    book = OrderBook()

    def apply() -> None:
        load = book.apply_snapshot
        for _ in range(count):
            load(bids, asks)

    def build() -> None:
        for _ in range(count):
            {p: v for _, p, v in bids}
            {p: v for _, p, v in asks}

    def whole_check() -> None:
        for _ in range(count):
            _whole(bids, 3)
            _whole(asks, 3)

    def checks_only() -> None:  # _whole's comprehension, as written there
        for _ in range(count):
            {p: v for a, p, v in bids if a == "new" and v > 0.0 and v < 1e309}
            {p: v for a, p, v in asks if a == "new" and v > 0.0 and v < 1e309}

    return tuple((lambda f=f: timed(f, count)) for f in (apply, build, whole_check, checks_only))


def run_depth(repeats: int, scale: float) -> tuple[list[Result], dict[str, Result], dict[str, Any]]:
    """The depth and snapshot rows, the reference of each group, and the rows by name.

    Names: ``1k/book``, ``1k/dict``, ``100k/book``, ``100k/dict``, ``snapshot/book``,
    ``snapshot/whole``, ``snapshot/checks``, ``snapshot/dict``.
    """
    count = int(4000 * scale)
    named = {
        "1k/book": Result(DEPTH_GROUP, "OrderBook.apply_actions, 1k-level book", "us"),
        "1k/dict": Result(DEPTH_GROUP, "dict set/pop per level, 1k-level book", "us"),
        "100k/book": Result(DEPTH_GROUP, "OrderBook.apply_actions, 100k-level book", "us"),
        "100k/dict": Result(DEPTH_GROUP, "dict set/pop per level, 100k-level book", "us"),
    }
    rows = [
        (named["1k/book"], _depth_book(1_000, count)),
        (named["1k/dict"], _depth_dict(1_000, count)),
        (named["100k/book"], _depth_book(100_000, count)),
        (named["100k/dict"], _depth_dict(100_000, count)),
    ]
    interleave(rows, repeats)
    snapshot, _ = _updates(0.0)
    book_row, dict_row, whole_row, checks_row = _snapshot_rows(snapshot, max(1, count // 10))
    named["snapshot/book"] = Result(
        SNAPSHOT_GROUP, "OrderBook.apply_snapshot (checked, sorted)", "us"
    )
    named["snapshot/whole"] = Result(
        SNAPSHOT_GROUP, "  floor: its whole-side check alone (_whole x 2)", "us"
    )
    named["snapshot/checks"] = Result(
        SNAPSHOT_GROUP, "  floor: its filtering comprehension alone", "us"
    )
    named["snapshot/dict"] = Result(SNAPSHOT_GROUP, "two dicts {price: amount} built", "us")
    interleave(
        [
            (named["snapshot/book"], book_row),
            (named["snapshot/whole"], whole_row),
            (named["snapshot/checks"], checks_row),
            (named["snapshot/dict"], dict_row),
        ],
        repeats,
    )
    refs = {DEPTH_GROUP: named["1k/dict"], SNAPSHOT_GROUP: named["snapshot/dict"]}
    return list(named.values()), refs, named
