"""The L2 order book: unit tests per operation, and a hypothesis comparison with a naive book."""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.protocol._errors import LocalProtocolError, RemoteProtocolError
from tradewire.protocol.session._book import OrderBook

NAN = math.nan
INF = math.inf


def snapshot_of(book: OrderBook) -> tuple[Any, ...]:
    return (book.bids(), book.asks(), book.sequence, book.stale)


def make_book(**kwargs: Any) -> OrderBook:
    book = OrderBook(**kwargs)
    book.apply_snapshot([[100.0, 1.0], [99.5, 2.0], [99.0, 3.0]], [[101.0, 4.0], [102.0, 5.0]])
    return book


# -- snapshots ---------------------------------------------------------------------------


def test_new_book_is_empty() -> None:
    book = OrderBook()
    assert (book.best_bid(), book.best_ask(), book.top(5)) == (None, None, ([], []))
    assert (book.depth("bid"), book.depth("ask"), book.is_crossed()) == (0, 0, False)
    assert (book.sequence, book.stale) == (None, False)


def test_snapshot_pairs_sorted_best_first_and_zero_skipped() -> None:
    book = OrderBook()
    book.apply_snapshot(
        [[99.0, 3.0], [100.0, 1.0], [98.0, 0.0], [99.5, 2]],
        [(102.0, 5.0), (101.0, 4.0), (103.0, 0)],
    )
    assert book.bids() == [(100.0, 1.0), (99.5, 2), (99.0, 3.0)]
    assert book.asks() == [(101.0, 4.0), (102.0, 5.0)]
    assert (book.best_bid(), book.best_ask()) == ((100.0, 1.0), (101.0, 4.0))
    assert (book.depth("bid"), book.depth("ask")) == (3, 2)


def test_snapshot_deribit_triples() -> None:
    # deribit.md 3.3, plus a "delete" that must leave the level out
    book = OrderBook()
    book.apply_snapshot(
        [["new", 5042.34, 30], ["new", 5041.94, 20], ["delete", 5040.0, 0]],
        [["new", 5042.64, 40], ["new", 5043.3, 40]],
    )
    assert book.bids() == [(5042.34, 30), (5041.94, 20)]
    assert book.asks() == [(5042.64, 40), (5043.3, 40)]


def test_snapshot_last_entry_wins_and_accepts_map_items() -> None:
    book = OrderBook()
    book.apply_snapshot([[1.0, 5.0], [1.0, 6.0], [2.0, 7.0], [2.0, 0.0]], {3.0: 1.0}.items())
    assert (book.bids(), book.asks()) == ([(1.0, 6.0)], [(3.0, 1.0)])


def test_snapshot_replaces_everything_and_clears_only_stale() -> None:
    book = make_book()
    book.sequence, book.stale = 41, True
    book.apply_snapshot([[50.0, 1.0]], [])
    assert (book.bids(), book.asks()) == ([(50.0, 1.0)], [])
    assert (book.sequence, book.stale) == (41, False)
    assert not book.is_crossed()  # one-sided
    book.apply_snapshot([], [[1.0, 1.0]])
    assert not book.is_crossed()


# -- deltas ------------------------------------------------------------------------------


def test_action_new_adds_levels_anywhere() -> None:
    book = make_book()
    book.apply_actions("bid", [["new", 100.5, 9.0], ["new", 99.25, 8.0], ["new", 10.0, 7.0]])
    book.apply_actions("ask", (("new", 100.75, 6.0), ("new", 200.0, 1)))
    assert book.top(2)[0] == [(100.5, 9.0), (100.0, 1.0)]
    assert book.bids()[2:] == [(99.5, 2.0), (99.25, 8.0), (99.0, 3.0), (10.0, 7.0)]
    assert book.asks() == [(100.75, 6.0), (101.0, 4.0), (102.0, 5.0), (200.0, 1)]


def test_action_change_sets_the_absolute_amount() -> None:
    book = make_book()
    book.apply_actions("bid", [["change", 99.5, 25.0], ["change", 98.0, 1.0]])
    book.apply_actions("ask", [["change", 101.0, 0.5]])
    assert book.bids() == [(100.0, 1.0), (99.5, 25.0), (99.0, 3.0), (98.0, 1.0)]
    assert book.best_ask() == (101.0, 0.5)


def test_action_delete_and_zero_amount_remove() -> None:
    book = make_book()
    book.apply_actions("bid", [["delete", 100.0, 0], ["change", 99.0, 0.0], ["delete", 7.0, 0]])
    book.apply_actions("ask", [["delete", 101.0, 0.0]])
    assert (book.bids(), book.asks()) == ([(99.5, 2.0)], [(102.0, 5.0)])
    assert (book.best_bid(), book.best_ask()) == ((99.5, 2.0), (102.0, 5.0))


def test_set_levels_is_total_quantity_and_zero_deletes() -> None:
    book = make_book()
    book.set_levels("bid", [[99.5, 0], [99.75, 4.0], [100.0, 1.5]])
    book.set_levels("ask", iter([(102.0, 0.0), (101.5, 2.0), (300.0, 0)]))
    assert book.bids() == [(100.0, 1.5), (99.75, 4.0), (99.0, 3.0)]
    assert book.asks() == [(101.0, 4.0), (101.5, 2.0)]


def test_deleted_levels_stay_out_of_queries_and_come_back() -> None:
    book = OrderBook()
    book.apply_snapshot(
        [[float(p), 1.0] for p in range(100)], [[float(p), 1.0] for p in range(200, 300)]
    )
    book.set_levels("bid", [[float(p), 0] for p in range(10, 90)])  # interior: kept as tombstones
    book.set_levels("ask", [[float(p), 0] for p in range(201, 290, 2)])
    assert book.bids() == [(float(p), 1.0) for p in (*range(99, 89, -1), *range(9, -1, -1))]
    assert book.top(12)[0] == book.bids()[:12]
    assert book.asks() == [(200.0, 1.0)] + [
        (float(p), 1.0) for p in (*range(202, 290, 2), *range(290, 300))
    ]
    assert (book.depth("bid"), book.depth("ask")) == (20, 55)
    # white box: 80 tombstones outnumber 20 live bids (compacted); 45 < 55 asks are kept
    assert (book._bid.count(), book._ask.count()) == (20, 100)
    book.set_levels("bid", [[50.0, 2.0]])
    book.apply_actions("ask", [["new", 201.0, 3.0]])
    assert book.top(11)[0][10] == (50.0, 2.0)
    assert book.top(2)[1] == [(200.0, 1.0), (201.0, 3.0)]
    assert (book.depth("bid"), book.depth("ask")) == (21, 56)


def test_top_levels_deleted_from_the_top_leave_the_next_best() -> None:
    book = make_book()
    book.apply_actions("bid", [["delete", 100.0, 0], ["delete", 99.5, 0]])
    book.set_levels("ask", [[101.0, 0]])
    assert (book.best_bid(), book.best_ask()) == ((99.0, 3.0), (102.0, 5.0))
    book.set_levels("bid", [[99.0, 0]])
    assert (book.best_bid(), book.bids()) == (None, [])


# -- queries -----------------------------------------------------------------------------


def test_top_orders_and_truncates() -> None:
    book = make_book()
    assert book.top(0) == ([], [])
    assert book.top(2) == ([(100.0, 1.0), (99.5, 2.0)], [(101.0, 4.0), (102.0, 5.0)])
    assert book.top(100) == (book.bids(), book.asks())


@pytest.mark.parametrize(
    ("side", "price", "crossed"),
    [
        ("bid", 100.5, False),
        ("bid", 101.0, True),  # locked counts as crossed
        ("bid", 101.5, True),
        ("ask", 100.5, False),
        ("ask", 100.0, True),
        ("ask", 99.0, True),
    ],
)
def test_crossed_from_either_side(side: Any, price: float, crossed: bool) -> None:
    book = make_book()
    assert not book.is_crossed()
    book.set_levels(side, [[price, 1.0]])
    assert book.is_crossed() is crossed


def test_deltas_and_clear_leave_the_owners_fields_alone() -> None:
    book = make_book()
    book.sequence, book.stale = 297217, True
    book.apply_actions("bid", [["new", 98.0, 1.0]])
    book.set_levels("ask", [[103.0, 1.0]])
    assert (book.sequence, book.stale, book.depth("bid"), book.depth("ask")) == (297217, True, 4, 3)
    book.clear()
    assert snapshot_of(book) == ([], [], 297217, True)
    assert (book.best_bid(), book.best_ask()) == (None, None)


def test_repr_summarises() -> None:
    assert repr(make_book()) == (
        "OrderBook(best_bid=(100.0, 1.0), best_ask=(101.0, 4.0), depth=(3, 2), "
        "sequence=None, stale=False)"
    )


# -- bounds and misuse -------------------------------------------------------------------


def test_max_levels_bounds_each_side() -> None:
    book = make_book(max_levels=3)
    with pytest.raises(RemoteProtocolError, match=r"bid side holds 4 levels.*max_levels=3"):
        book.apply_actions("bid", [["new", 98.0, 1.0]])
    assert book.stale  # a delta past the bound: stale until the next snapshot
    book = make_book(max_levels=3)
    with pytest.raises(RemoteProtocolError, match=r"max_levels=3.*stale"):
        book.set_levels("ask", [[103.0, 1.0], [104.0, 1.0]])
    assert book.stale
    book = make_book(max_levels=3)
    before = snapshot_of(book)
    with pytest.raises(RemoteProtocolError, match="ask side would hold 4"):
        book.apply_snapshot([], [[float(p), 1.0] for p in range(4)])
    assert snapshot_of(book) == before  # a snapshot is checked whole: nothing changed
    # a batch that deletes as much as it adds fits, although it is longer than the room
    book.apply_actions("bid", [["delete", 100.0, 0], ["new", 98.0, 1.0], ["change", 99.0, 0]])
    book.set_levels("ask", [[101.0, 0], [103.0, 1.0], [103.0, 0], [104.0, 2.0]])
    assert book.bids() == [(99.5, 2.0), (98.0, 1.0)]
    assert book.asks() == [(102.0, 5.0), (104.0, 2.0)]


def test_max_levels_counts_tombstones_as_gone() -> None:
    book = OrderBook(max_levels=4)
    book.set_levels("bid", [(1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0)])
    book.set_levels("bid", [(2.0, 0.0)])  # a tombstone below the top: 3 live levels
    book.set_levels("bid", [(0.5, 1.0)])  # 4 live: at the bound
    book.set_levels("bid", [(3.0, 0.0), (2.0, 5.0)])  # one out, a tombstone back: still 4
    assert book.depth("bid") == 4
    assert not book.stale
    with pytest.raises(RemoteProtocolError, match=r"holds 5 levels.*max_levels=4"):
        book.set_levels("bid", [(0.25, 1.0)])
    assert book.stale


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "10"])
def test_bad_max_levels(value: Any) -> None:
    with pytest.raises(LocalProtocolError, match="invalid max_levels"):
        OrderBook(max_levels=value)


@pytest.mark.parametrize("side", ["buy", "BID", "asks", None, ["bid"]])
@pytest.mark.parametrize(
    "call",
    [
        lambda book, side: book.set_levels(side, [[1.0, 1.0]]),
        lambda book, side: book.apply_actions(side, [["new", 1.0, 1.0]]),
        lambda book, side: book.depth(side),
    ],
)
def test_bad_side_is_the_callers_fault(side: Any, call: Callable[[OrderBook, Any], Any]) -> None:
    book = make_book()
    before = snapshot_of(book)
    with pytest.raises(LocalProtocolError, match=r"invalid side: .*accepted values: 'bid', 'ask'"):
        call(book, side)
    assert snapshot_of(book) == before


@pytest.mark.parametrize("n", [-1, 1.5, True, "3", None])
def test_bad_n_is_the_callers_fault(n: Any) -> None:
    with pytest.raises(LocalProtocolError, match="invalid n: expected an int >= 0"):
        make_book().top(n)


GOOD_ACTIONS: list[Any] = [["new", 98.0, 1.0], ["delete", 100.0, 0], ["change", 101.0, 9.0]]
GOOD_PAIRS: list[Any] = [[98.0, 1.0], [100.0, 0], [101.0, 9.0]]


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (["insert", 99.0, 1.0], "unknown action 'insert'"),
        ([None, 99.0, 1.0], "unknown action None"),
        (["new", NAN, 1.0], "price is not a finite number"),
        (["new", -INF, 1.0], "price is not a finite number"),
        (["new", 99.0, NAN], "size is negative or not a finite number"),
        (["new", 99.0, INF], "size is negative or not a finite number"),
        (["change", 99.0, -1.0], "size is negative"),
        (["delete", 99.0, -0.5], "size is negative"),
        (["new", "99.0", 1.0], "must be numbers"),
        (["new", 99.0, None], "must be numbers"),
        (["new", 99.0], "expected a sequence of 3 items"),
        (["new", 99.0, 1.0, 0], "expected a sequence of 3 items"),
        (7, "expected a sequence of 3 items"),
        ("new", "expected a sequence of 3 items"),
    ],
)
def test_bad_actions_are_the_peers_fault_and_leave_the_book_stale(bad: Any, problem: str) -> None:
    # A delta batch is checked as it is applied: the levels before the bad one stay
    # applied, the ones after it do not, and the book is stale until the next snapshot.
    book = make_book()
    with pytest.raises(RemoteProtocolError, match=rf"invalid ask level #3 .*{problem}.*stale"):
        book.apply_actions("ask", [*GOOD_ACTIONS, bad, ["new", 97.0, 1.0]])
    assert book.stale
    assert book.asks() == [(98.0, 1.0), (101.0, 9.0), (102.0, 5.0)]
    book.apply_snapshot([], [[101.0, 1.0]])
    assert not book.stale


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ([NAN, 1.0], "price is not a finite number"),
        ([INF, 1.0], "price is not a finite number"),
        ([99.0, -2], "size is negative"),
        ([99.0, INF], "size is negative or not a finite number"),
        (["99.0", "1"], "must be numbers"),
        ([99.0], "expected a sequence of 2 items"),
        (["new", 99.0, 1.0], "expected a sequence of 2 items"),
        (None, "expected a sequence of 2 items"),
    ],
)
def test_bad_pairs_are_the_peers_fault(bad: Any, problem: str) -> None:
    book = make_book()
    before = snapshot_of(book)
    with pytest.raises(RemoteProtocolError, match=rf"invalid ask level #3 .*{problem}"):
        book.apply_snapshot(GOOD_PAIRS, [*GOOD_PAIRS, bad])  # the good bid side is not kept
    assert snapshot_of(book) == before  # a snapshot is checked whole
    with pytest.raises(RemoteProtocolError, match=rf"invalid bid level #3 .*{problem}.*stale"):
        book.set_levels("bid", [*GOOD_PAIRS, bad])
    assert book.stale
    assert book.bids() == [(101.0, 9.0), (99.5, 2.0), (99.0, 3.0), (98.0, 1.0)]


def test_snapshot_shapes_do_not_mix() -> None:
    book = make_book()
    before = snapshot_of(book)
    with pytest.raises(RemoteProtocolError, match=r"bid level #1 .*expected a sequence of 3"):
        book.apply_snapshot([["new", 1.0, 1.0], [2.0, 1.0]], [])
    with pytest.raises(RemoteProtocolError, match="unknown action 'gone'"):
        book.apply_snapshot([], [["new", 1.0, 1.0], ["gone", 2.0, 1.0]])
    assert snapshot_of(book) == before


# -- against a naive reference book ------------------------------------------------------


class NaiveBook:
    """A plain dict per side, sorted on every query: obviously right, and slow.

    A snapshot past ``max_levels`` changes nothing; a delta batch is applied level by
    level up to a bad one (``bad_at``), and leaves the book stale when it stopped there or
    left a side past ``max_levels``; a snapshot ends a stale period.
    """

    def __init__(self, max_levels: int) -> None:
        self.max_levels = max_levels
        self.sides: dict[str, dict[float, float]] = {"bid": {}, "ask": {}}
        self.stale = False

    def levels(self, side: str) -> list[tuple[float, float]]:
        return sorted(self.sides[side].items(), reverse=side == "bid")

    @staticmethod
    def _apply(side: dict[float, float], levels: list[Any]) -> None:
        for level in levels:
            price, size = level[-2:]
            if size and (len(level) == 2 or level[0] != "delete"):
                side[price] = size
            else:
                side.pop(price, None)

    def apply(self, op: tuple[Any, ...]) -> bool:
        """Apply ``op``; returns whether it was accepted without an error."""
        kind, side, *batches = op
        if kind == "snapshot":
            new: dict[str, dict[float, float]] = {"bid": {}, "ask": {}}
            self._apply(new["bid"], batches[0])
            self._apply(new["ask"], batches[1])
            if any(len(levels) > self.max_levels for levels in new.values()):
                return False
            self.sides, self.stale = new, False
            return True
        if kind == "bad":
            actions, _, at = batches
            self._apply(self.sides[side], actions[:at])
            self.stale = True
            return False
        self._apply(self.sides[side], batches[0])
        if len(self.sides[side]) > self.max_levels:
            self.stale = True
            return False
        return True


PRICES = st.sampled_from([99.0, 99.5, 100, 100.0, 100.5, 101.0, 101.5, 102.0, 102.5, 103.0])
SIZES = st.sampled_from([0, 0.0, 1, 2.5, 7.0])
PAIRS = st.lists(st.tuples(PRICES, SIZES), max_size=12)
ACTIONS = st.lists(
    st.tuples(st.sampled_from(["new", "change", "delete"]), PRICES, SIZES), max_size=12
)
SIDES = st.sampled_from(["bid", "ask"])
BAD = st.sampled_from([("new", NAN, 1.0), ("new", 100.0, -1.0), ("nope", 100.0, 1.0), ("new",)])
OPS = st.one_of(
    st.tuples(st.just("snapshot"), st.none(), PAIRS, PAIRS),
    st.tuples(st.just("snapshot"), st.none(), ACTIONS, ACTIONS),
    st.tuples(st.just("actions"), SIDES, ACTIONS),
    st.tuples(st.just("levels"), SIDES, PAIRS),
    st.tuples(st.just("bad"), SIDES, ACTIONS, BAD, st.integers(0, 12)),
)


class CompactingBook(OrderBook):
    """Compacts on every surplus tombstone, so the compaction path runs constantly."""

    __slots__ = ()
    _compact_min = 0


class TinyChunkBook(OrderBook):
    """Chunks of at most two keys, so inserts split chunks and trims empty them constantly."""

    __slots__ = ()
    _load = 1


@given(
    st.sampled_from([OrderBook, CompactingBook, TinyChunkBook]),
    st.sampled_from([2, 5, 100]),
    st.lists(st.tuples(OPS, st.integers(0, 12)), max_size=40),
)
def test_book_matches_a_naive_book(
    book_class: type[OrderBook], max_levels: int, steps: list[tuple[Any, int]]
) -> None:
    book = book_class(max_levels=max_levels)
    naive = NaiveBook(max_levels)
    for op, n in steps:
        if not naive.apply(op):
            with pytest.raises(RemoteProtocolError, match="invalid" if op[0] == "bad" else "max_"):
                apply_op(book, op)
        else:
            apply_op(book, op)
        assert book.stale == naive.stale
        bids, asks = naive.levels("bid"), naive.levels("ask")
        assert book.bids() == bids
        assert book.asks() == asks
        assert book.top(n) == (bids[:n], asks[:n])
        assert book.best_bid() == (bids[0] if bids else None)
        assert book.best_ask() == (asks[0] if asks else None)
        assert (book.depth("bid"), book.depth("ask")) == (len(bids), len(asks))
        assert book.is_crossed() == bool(bids and asks and bids[0][0] >= asks[0][0])


def apply_op(book: OrderBook, op: tuple[Any, ...]) -> None:
    if op[0] == "snapshot":
        book.apply_snapshot(op[2], op[3])
    elif op[0] == "actions":
        book.apply_actions(op[1], op[2])
    elif op[0] == "bad":  # a bad level inserted anywhere into a good batch
        _, side, actions, bad, at = op
        book.apply_actions(side, [*actions[:at], bad, *actions[at:]])
    else:
        book.set_levels(op[1], op[2])


# -- the checks of the fast paths ----------------------------------------------------------


def test_a_batch_that_removes_the_best_and_revives_a_tombstone_leaves_the_next_best() -> None:
    # the tombstone count is unchanged by such a batch, but the top must still be trimmed
    book = make_book()
    book.apply_actions("bid", [["delete", 99.5, 0]])  # a tombstone below the top
    book.apply_actions("bid", [["delete", 100.0, 0], ["new", 99.5, 7.0]])
    assert book.best_bid() == (99.5, 7.0)
    book.set_levels("ask", [[102.0, 0]])
    book.set_levels("ask", [[101.0, 0], [102.0, 1.0]])
    assert book.best_ask() == (102.0, 1.0)
    assert (book.depth("bid"), book.depth("ask")) == (2, 1)


def test_max_levels_counts_the_levels_left_after_the_top_is_trimmed() -> None:
    book = OrderBook(max_levels=3)
    book.set_levels("bid", [(1.0, 1.0), (2.0, 1.0), (3.0, 1.0)])
    with pytest.raises(RemoteProtocolError, match=r"holds 4 levels.*max_levels=3"):
        book.apply_actions("bid", [["delete", 3.0, 0], ["new", 0.5, 1.0], ["new", 0.25, 1.0]])
    assert book.stale
    assert book.bids() == [(2.0, 1.0), (1.0, 1.0), (0.5, 1.0), (0.25, 1.0)]


def test_decimal_levels_are_kept_exact_and_mixed_numbers_still_accepted() -> None:
    D = Decimal
    book = OrderBook()
    book.apply_snapshot([(D("100.10"), D("1.50")), (D("99.9"), D("2"))], [(D("101"), D("0.1"))])
    book.set_levels("bid", [(D("100.10"), D("0")), (D("99.95"), D("3"))])
    book.apply_snapshot([(D("1.5"), 2.0), (1.25, D("1"))], [(D("2"), 1)])  # Decimal with float
    assert book.bids() == [(D("1.5"), 2.0), (1.25, D("1"))]
    book.set_levels("ask", [(D("3"), 1.5), (2.5, D("2")), (D("1e400"), D("1"))])  # huge but finite
    assert book.asks() == [(D("2"), 1), (2.5, D("2")), (D("3"), 1.5), (D("1e400"), D("1"))]
    with pytest.raises(RemoteProtocolError, match=r"level #1 .*must be numbers"):
        book.set_levels("bid", [(D("1"), D("1")), (D("NaN"), D("1"))])
    with pytest.raises(RemoteProtocolError, match=r"level #0 .*size is negative"):
        book.apply_snapshot([(D("1"), D("-1"))], [])


def test_a_delete_with_an_amount_and_numbers_of_every_kind() -> None:
    book = OrderBook()
    book.apply_snapshot([["new", 1, True], ["new", 2.0, 3], ["delete", 3.0, 5.0]], [])
    assert book.bids() == [(2.0, 3), (1, True)]
    book.apply_actions("bid", [["delete", 2.0, 4.0], ["change", 1.0, 0], ["new", -0.0, 1]])
    assert book.bids() == [(-0.0, 1)]


_ACTIONS = ("new", "change", "delete")
NUMBERS = st.sampled_from([99.0, 100, 100.5, True, Decimal("101"), 101.5, -0.0, 0])
SIZES_ANY = st.sampled_from([0, 0.0, -0.0, 1, 2.5, True, False, Decimal("3"), Decimal("0")])
BAD_LEVELS = st.sampled_from(
    [
        ("new", NAN, 1.0),
        ("new", INF, 1.0),
        ("new", -INF, 1.0),
        ("new", 100.0, -1.0),
        ("new", 100.0, INF),
        ("new", 100.0, NAN),
        ("delete", 100.0, -0.5),
        ("new", "100", 1.0),
        ("new", 100.0, None),
        ("nope", 100.0, 1.0),
        (None, 100.0, 0),
        ("new",),
        ("new", 100.0, 1.0, 0),
        ("new", Decimal("NaN"), 1.0),
        "new",
        7,
    ]
)
TRIPLES = st.lists(st.tuples(st.sampled_from(["new", "change", "delete"]), NUMBERS, SIZES_ANY))
NEW_ONLY = st.lists(st.tuples(st.just("new"), NUMBERS, st.sampled_from([1, 2.5, True])))


def message_of(call: Callable[[], Any]) -> str:
    with pytest.raises(RemoteProtocolError) as info:
        call()
    return str(info.value)


@given(st.one_of(TRIPLES, NEW_ONLY), BAD_LEVELS, st.integers(0, 20), st.booleans())
def test_any_bad_level_anywhere_is_named_and_handled_as_before(
    levels: list[Any], bad: Any, at: int, pairs: bool
) -> None:
    # Snapshots: the whole side is refused and nothing changes; deltas: the levels before
    # the bad one stay applied (compared with a naive book), the book is stale, and the
    # message names the first bad level, whatever path the batch took.
    if pairs:
        levels = [level[1:] for level in levels]
        if isinstance(bad, tuple) and len(bad) == 3 and bad[0] in _ACTIONS:
            bad = bad[1:]  # still bad as a pair; a bad action stays a triple: bad arity
    at = min(at, len(levels))
    batch = [*levels[:at], bad, *levels[at:]]
    shape = "pairs" if pairs else "actions"
    book = make_book()
    before = snapshot_of(book)
    assert f"level #{at} " in message_of(lambda: book.apply_snapshot([], batch))
    assert snapshot_of(book) == before
    naive = NaiveBook(100)
    naive.apply(
        ("snapshot", None, [[100.0, 1.0], [99.5, 2.0], [99.0, 3.0]], [[101.0, 4.0], [102.0, 5.0]])
    )
    naive.apply(
        (
            "bad",
            "ask",
            [(a, p, v) for a, p, v in levels] if not pairs else [("new", *lv) for lv in levels],
            None,
            at,
        )
    )
    if shape == "pairs":
        message = message_of(lambda: book.set_levels("ask", batch))
    else:
        message = message_of(lambda: book.apply_actions("ask", batch))
    assert f"invalid ask level #{at} " in message
    assert "stale" in message
    assert book.stale
    assert book.asks() == naive.levels("ask")
    assert book.bids() == naive.levels("bid")


@given(st.one_of(TRIPLES, NEW_ONLY), st.one_of(TRIPLES, NEW_ONLY), st.booleans())
def test_snapshots_and_deltas_of_any_numbers_match_a_naive_book(
    first: list[Any], second: list[Any], pairs: bool
) -> None:
    book, naive = OrderBook(), NaiveBook(100)
    if pairs:
        first = [level[1:] for level in first if level[0] != "delete"]
        second = [level[1:] for level in second if level[0] != "delete"]
    book.apply_snapshot(first, second)
    naive.apply(("snapshot", None, first, second))
    if pairs:
        book.set_levels("bid", second)
        naive.apply(("levels", "bid", second))
    else:
        book.apply_actions("bid", second)
        naive.apply(("actions", "bid", second))
    assert (book.bids(), book.asks()) == (naive.levels("bid"), naive.levels("ask"))
    assert (book.depth("bid"), book.depth("ask")) == (
        len(naive.sides["bid"]),
        len(naive.sides["ask"]),
    )


# -- the one-store fast path of a delta batch and its hand-over to the exact loop -----------


class ExactCountingBook(OrderBook):
    """Counts the batches the exact (level by level) loop takes."""

    __slots__ = ("exact_calls",)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.exact_calls = 0

    def _exact(self, *args: Any) -> None:
        self.exact_calls += 1
        super()._exact(*args)


def counting_book() -> tuple[ExactCountingBook, NaiveBook]:
    book, naive = ExactCountingBook(), NaiveBook(100)
    start = ("snapshot", None, [[100.0, 1.0], [99.5, 2.0], [99.0, 3.0]], [[101.0, 4.0]])
    apply_op(book, start)
    naive.apply(start)
    return book, naive


# a usual batch: a change, a new price, a delete of the best, the same price twice, a
# delete of an absent price, and a number of every kind the fast checks take
USUAL: list[Any] = [
    ("change", 99.5, 5.0),
    ("new", 98.0, 1),
    ("delete", 100.0, 0.0),
    ("new", 97.0, 1.0),
    ("delete", 97.0, 0),
    ("new", 97.0, Decimal("2")),
    ("delete", 50.0, 0.0),
]


@pytest.mark.parametrize("pairs", [False, True])
def test_a_usual_batch_takes_the_fast_path_and_matches_a_naive_book(pairs: bool) -> None:
    book, naive = counting_book()
    if pairs:
        book.set_levels("bid", [level[1:] for level in USUAL])
    else:
        book.apply_actions("bid", USUAL)
    naive.apply(("actions", "bid", USUAL))
    assert book.exact_calls == 0
    assert (book.bids(), book.asks()) == (naive.levels("bid"), naive.levels("ask"))
    assert book.best_bid() == (99.5, 5.0)
    assert book.depth("bid") == 4
    assert 50.0 not in book._bid.sizes  # a removal of an absent price leaves nothing
    assert book._bid.count() == len(book._bid.sizes)  # every entry keyed once


@pytest.mark.parametrize(
    "doubt",
    [
        ("new", 99.0, 0),  # valid, not the fast path's: a zero amount removes
        ("change", 99.0, 0.0),
        ("delete", 99.0, 2.0),  # a delete with an amount
        ("change", 99.0, Decimal("0")),
    ],
)
def test_a_level_the_fast_path_does_not_take_hands_the_batch_to_the_exact_loop(
    doubt: Any,
) -> None:
    book, naive = counting_book()
    batch = [*USUAL, doubt, ("new", 96.0, 3.0), ("change", 99.5, 6.0)]
    book.apply_actions("bid", batch)
    naive.apply(("actions", "bid", batch))
    assert book.exact_calls == 1
    assert not book.stale
    assert (book.bids(), book.asks()) == (naive.levels("bid"), naive.levels("ask"))
    assert book.depth("bid") == len(naive.sides["bid"])
    assert book._bid.count() == len(book._bid.sizes)


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (("new", NAN, 1.0), "price is not a finite number"),
        (("change", -INF, 1.0), "price is not a finite number"),
        (("delete", INF, 0.0), "price is not a finite number"),
        (("new", 99.0, INF), "size is negative or not a finite number"),
        (("new", 99.0, NAN), "size is negative or not a finite number"),
        (("delete", 99.0, -1.0), "size is negative"),
        (("insert", 99.0, 1.0), "unknown action 'insert'"),
        (("new", [99.0], 1.0), "must be numbers"),  # unhashable: the store raises
        (("new", "99", 1.0), "must be numbers"),  # the compare raises
        (("new", 99.0), "expected a sequence of 3 items"),  # the unpacking raises
        (None, "expected a sequence of 3 items"),
    ],
)
def test_a_bad_level_after_fast_levels_is_named_and_only_the_levels_before_it_stay(
    bad: Any, problem: str
) -> None:
    book, naive = counting_book()
    batch = [*USUAL, bad, ("new", 96.0, 3.0)]
    with pytest.raises(RemoteProtocolError, match=rf"bid level #{len(USUAL)} .*{problem}.*stale"):
        book.apply_actions("bid", batch)
    naive.apply(("bad", "bid", USUAL, None, len(USUAL)))
    assert book.exact_calls == 1
    assert book.stale
    assert (book.bids(), book.asks()) == (naive.levels("bid"), naive.levels("ask"))
    assert book._bid.count() == len(book._bid.sizes)


def test_a_batch_that_could_pass_max_levels_takes_the_exact_loop() -> None:
    book = ExactCountingBook(max_levels=5)
    book.apply_snapshot([[1.0, 1.0], [2.0, 1.0], [3.0, 1.0]], [])
    book.apply_actions("bid", [("new", 4.0, 1.0), ("new", 5.0, 1.0)])  # 3 + 2 <= 5: fast
    assert book.exact_calls == 0
    book.apply_actions("bid", [("delete", 5.0, 0.0)])  # 5 entries + 1 > 5: exact
    assert book.exact_calls == 1
    book.apply_actions("bid", [("delete", 1.0, 0.0), ("new", 6.0, 1.0)])
    assert book.depth("bid") == 4
    with pytest.raises(RemoteProtocolError, match=r"holds 6 levels.*max_levels=5"):
        book.apply_actions("bid", [("new", 7.0, 1.0), ("new", 8.0, 1.0)])
    assert book.stale


def test_a_tombstone_revived_by_the_fast_path_counts_again() -> None:
    # the store cannot see a revival: the tombstone count becomes a bound, recounted
    book = OrderBook()
    book.apply_snapshot([[float(p), 1.0] for p in range(10)], [])
    book.apply_actions("bid", [("delete", 3.0, 0.0), ("delete", 5.0, 0.0)])  # below the top
    assert book.depth("bid") == 8
    book.apply_actions("bid", [("change", 3.0, 2.0), ("new", 5.0, 4.0)])  # revived
    assert not book._bid.exact  # white box: a bound until counted
    assert book.depth("bid") == 10
    assert (book._bid.exact, book._bid.dead) == (True, 0)
    assert book.top(10)[0][4:7] == [(5.0, 4.0), (4.0, 1.0), (3.0, 2.0)]


def test_a_bound_is_recounted_past_three_quarters_and_an_exact_count_compacts() -> None:
    book = OrderBook()
    book.apply_snapshot([[float(p), 1.0] for p in range(200)], [])
    for _ in range(80):  # 80 deletes and revivals of the same 2 levels: a bound of 160
        book.apply_actions("bid", [("delete", 10.0, 0.0), ("delete", 11.0, 0.0)])
        book.apply_actions("bid", [("new", 10.0, 1.0), ("new", 11.0, 1.0)])
    assert book._bid.dead < 150  # white box: recounted past 150 (3/4 of 200), not compacted
    assert book._bid.count() == 200
    assert book.depth("bid") == 200
    deletes = [("delete", float(p), 0.0) for p in (*range(100, 180), *range(20, 60))]
    book.apply_actions("bid", deletes)  # 120 tombstones, 80 live levels: a bound of 120
    assert book._bid.count() == 200  # a bound under 3/4: not recounted yet
    assert book.depth("bid") == 80  # counted: exact now
    book.apply_actions("bid", [("delete", 60.0, 0.0)])  # a bound again: 121 < 150
    assert book._bid.count() == 200
    book.apply_actions("bid", [("delete", float(p), 0.0) for p in range(61, 96)])
    assert book._bid.count() == book.depth("bid") == 44  # past 150: counted, compacted
    assert book.bids()[:3] == [(199.0, 1.0), (198.0, 1.0), (197.0, 1.0)]


def test_a_batch_that_compacts_the_side_is_held_against_max_levels_by_what_is_left() -> None:
    """The exact loop's ``max_levels`` check after a batch that ends in a compaction counts
    the side that is left, not the dict the compaction replaced (three levels set, two of
    them removed, one live: within ``max_levels=2``)."""
    book = CompactingBook(max_levels=2)
    book.set_levels("ask", [(99.0, 1), (99.5, 1), (100, 1), (99.5, 0), (100, 0)])
    assert book.asks() == [(99.0, 1)]
    assert not book.stale
    assert book.depth("ask") == 1


def test_a_tombstone_left_on_top_is_trimmed_when_the_best_is_asked_for() -> None:
    # a fast batch leaves a removed best price in place; every query of the top skips it
    book = make_book()
    book.apply_actions("bid", [("delete", 100.0, 0.0)])
    book.set_levels("ask", [(101.0, 0)])
    book.apply_actions("bid", [("new", 102.5, 1.0)])  # crossed for a batch
    assert book.is_crossed()
    book.apply_actions("bid", [("delete", 102.5, 0.0)])
    assert book._bid.chunks[-1][-1] == 102.5  # white box: a tombstone on top, for now
    assert not book.is_crossed()  # the tombstone at 102.5 does not cross
    assert (book.best_bid(), book.best_ask()) == ((99.5, 2.0), (102.0, 5.0))
    assert book.top(1) == ([(99.5, 2.0)], [(102.0, 5.0)])
    book.set_levels("ask", [(102.0, 0)])
    book.apply_actions("bid", [("delete", 99.5, 0.0), ("delete", 99.0, 0.0)])
    assert (book.best_bid(), book.best_ask(), book.is_crossed()) == (None, None, False)
    assert (book.depth("bid"), book.depth("ask")) == (0, 0)
    assert repr(book).startswith("OrderBook(best_bid=None, best_ask=None, depth=(0, 0)")
    book.set_levels("ask", [(103.0, 1.0)])
    assert book.asks() == [(103.0, 1.0)]
