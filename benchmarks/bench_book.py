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

from collections.abc import Callable

from tradewire.protocol import OrderBook
from tradewire.protocol.deribit import BookUpdate, decode_inbound

from ._messages import BookSim
from ._timing import Result, interleave, timed

__all__ = ["run"]

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
