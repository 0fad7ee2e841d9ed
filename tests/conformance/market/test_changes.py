"""Book changes: the shared change_id chain, rebuilding a book from a snapshot and the
changes after it (hypothesis over random order flow), window merging, grouped views and
the fault hooks."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.markets import deribit_market

from tradewire.conformance.market import (
    BookChange,
    BookSnapshot,
    Market,
    MarketConfig,
    MarketError,
    merge_changes,
)
from tradewire.conformance.market._changes import ChangeFeed
from tradewire.protocol import OrderBook

PERP = "BTC-PERPETUAL"
BUSY = MarketConfig(  # the conftest's busy market, for hypothesis (no fixtures in @given)
    seed=3, walk_scale=20.0, taker_rate=0.2, maker_levels=5,
    weekly_expiries=1, quarterly_expiries=1, option_expiries=1, option_strikes=1,
)  # fmt: skip


def changes_of(events: Any, name: str | None = None) -> list[BookChange]:
    return [e for e in events if isinstance(e, BookChange) and name in (None, e.instrument_name)]


def rebuild(snapshot: BookSnapshot, changes: list[BookChange]) -> OrderBook:
    """Spec 4's client rule: apply a change only when its prev_change_id is the last id."""
    book = OrderBook()
    book.apply_snapshot(snapshot.bids, snapshot.asks)
    last = snapshot.change_id
    for change in changes:
        if change.change_id <= snapshot.change_id:
            continue
        assert change.prev_change_id == last, "gap in the chain"
        book.apply_actions("bid", change.bids)
        book.apply_actions("ask", change.asks)
        last = change.change_id
    assert last == snapshot.change_id or last == changes[-1].change_id
    return book


def same(book: OrderBook, snapshot: BookSnapshot) -> bool:
    return (tuple(book.bids()), tuple(book.asks())) == (snapshot.bids, snapshot.asks)


# -- the chain --------------------------------------------------------------------------


def test_every_book_starts_with_its_own_id_from_the_shared_counter(busy: Market) -> None:
    ids = [busy.book(i.instrument_name).change_id for i in busy.instruments()]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_the_counter_is_shared_so_an_instruments_ids_skip(busy: Market) -> None:
    events = busy.advance(0.3)
    stream = [c.change_id for c in changes_of(events)]
    assert stream == sorted(stream)
    assert len(set(stream)) == len(stream)
    perp = changes_of(events, PERP)
    assert len(perp) >= 2
    steps = [b.change_id - a.change_id for a, b in itertools.pairwise(perp)]
    assert max(steps) > 1  # other books used the ids in between: never test prev + 1
    assert all(b.prev_change_id == a.change_id for a, b in itertools.pairwise(perp))


def test_changes_list_levels_best_first_with_absolute_amounts(busy: Market) -> None:
    for change in changes_of(busy.advance(2.0)):
        bids = [price for _, price, _ in change.bids]
        asks = [price for _, price, _ in change.asks]
        assert bids == sorted(bids, reverse=True)
        assert asks == sorted(asks)
        for action, _, amount in (*change.bids, *change.asks):
            assert (amount == 0) == (action == "delete")


def test_a_snapshot_plus_later_changes_is_the_book(busy: Market) -> None:
    start = busy.book(PERP)
    events = busy.advance(5.0)
    assert same(rebuild(start, changes_of(events, PERP)), busy.book(PERP))
    assert busy.change_log(PERP) == changes_of(events, PERP)


Operation = tuple[Any, ...]
NAMES = (PERP, "BTC_USDC-PERPETUAL", "ETH-PERPETUAL")
operations = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.floats(0.05, 1.5)),
        st.tuples(
            st.just("limit"),
            st.sampled_from(("alice", "bob")),
            st.sampled_from(NAMES),
            st.sampled_from(("buy", "sell")),
            st.integers(-30, 30),
            st.integers(1, 8),
        ),
        st.tuples(
            st.just("market"),
            st.sampled_from(("alice", "bob")),
            st.sampled_from(NAMES),
            st.sampled_from(("buy", "sell")),
            st.integers(1, 30),
        ),
        st.tuples(st.just("cancel"), st.sampled_from(("alice", "bob")), st.integers(0, 5)),
        st.tuples(
            st.just("edit"),
            st.sampled_from(("alice", "bob")),
            st.integers(0, 5),
            st.integers(-30, 30),
            st.integers(1, 8),
        ),
        st.tuples(st.just("snapshot")),
    ),
    max_size=40,
)


def run(m: Market, ops: list[Operation]) -> tuple[list[Any], dict[int, dict[str, BookSnapshot]]]:
    """Apply ``ops``; return every event and the snapshots taken at 'snapshot' ops."""
    now = 0.0
    events: list[Any] = []
    snapshots: dict[int, dict[str, BookSnapshot]] = {}
    for index, op in enumerate(ops):
        now += 0.01
        try:
            if op[0] == "advance":
                now += op[1]
                events += m.advance(now)
            elif op[0] == "snapshot":
                snapshots[len(events)] = {name: m.book(name) for name in NAMES}
            elif op[0] == "limit":
                _, who, name, side, offset, lots = op
                info = m.instrument(name)
                units = round(m.ticker(name).mark_price / info.tick_size) + offset
                events += m.place(
                    who, name, side, now, amount=lots * info.min_trade_amount,
                    price=units * info.tick_size, label=f"op{index}",
                ).events  # fmt: skip
            elif op[0] == "market":
                _, who, name, side, lots = op
                amount = lots * m.instrument(name).min_trade_amount
                events += m.place(who, name, side, now, amount=amount, type="market").events
            else:
                mine = m.open_orders(op[1])
                if mine:
                    order = mine[op[2] % len(mine)]
                    if op[0] == "cancel":
                        events += m.cancel(op[1], order.order_id, now).events
                    else:
                        info = m.instrument(order.instrument_name)
                        price = order.price + op[3] * info.tick_size
                        amount = order.filled_amount + op[4] * info.min_trade_amount
                        events += m.edit(
                            op[1], order.order_id, now, price=price, amount=amount
                        ).events
        except MarketError:
            pass
    return events, snapshots


@settings(max_examples=40, deadline=None)
@given(operations)
def test_books_rebuilt_from_any_snapshot_match_the_market(ops: list[Operation]) -> None:
    m = deribit_market(BUSY)
    start = {name: m.book(name) for name in NAMES}
    events, snapshots = run(m, ops)
    stream = [c.change_id for c in changes_of(events)]
    assert stream == sorted(stream)
    assert len(set(stream)) == len(stream)
    for position, books in [(0, start), *snapshots.items()]:
        for name, snapshot in books.items():
            later = changes_of(events[position:], name)
            assert same(rebuild(snapshot, later), m.book(name)), name


def test_user_orders_are_visible_in_the_deltas(busy: Market) -> None:
    busy.advance(1.0)
    bid = busy.book(PERP).bids[-1][0] - 50
    result = busy.buy("alice", PERP, 1.0, amount=1230, price=bid)
    (change,) = changes_of(result.events)
    assert change.bids == (("new", bid, 1230.0),)
    assert change.asks == ()
    assert busy.book(PERP).bids[-1] == (bid, 1230.0)


# -- merging ----------------------------------------------------------------------------------


def change(cid: int, prev: int, bids: Any = (), asks: Any = (), name: str = PERP) -> BookChange:
    return BookChange(
        instrument_name=name, change_id=cid, prev_change_id=prev, timestamp=cid,
        bids=tuple(bids), asks=tuple(asks),
    )  # fmt: skip


def test_merge_folds_a_chain_into_one_change() -> None:
    run_ = [
        change(10, 5, bids=[("new", 100.0, 1.0), ("change", 99.0, 3.0)]),
        change(12, 10, bids=[("change", 100.0, 2.0), ("new", 98.0, 1.0)], asks=[("new", 101.0, 1)]),
        change(15, 12, bids=[("delete", 98.0, 0.0), ("delete", 99.0, 0.0)]),
        change(16, 15, asks=[("delete", 101.0, 0.0), ("new", 101.0, 4.0)]),
    ]
    (merged,) = merge_changes(run_)
    assert (merged.prev_change_id, merged.change_id, merged.timestamp) == (5, 16, 16)
    assert merged.bids == (("new", 100.0, 2.0), ("delete", 99.0, 0.0))  # 98 came and went
    assert merged.asks == (("new", 101.0, 4.0),)


def test_merge_never_hides_a_break_in_the_chain() -> None:
    a, b = change(10, 5, bids=[("new", 1.0, 1.0)]), change(12, 11, bids=[("new", 2.0, 1.0)])
    c = change(13, 12, bids=[("delete", 2.0, 0.0)])
    other = change(14, 3, asks=[("new", 5.0, 1.0)], name="ETH-PERPETUAL")
    merged = merge_changes([a, b, c, other])
    assert [(m.prev_change_id, m.change_id) for m in merged] == [(5, 10), (11, 13), (3, 14)]
    assert merged[1].bids == ()
    assert merge_changes([a, a]) == [a, a]  # a duplicate stays visible
    assert merge_changes([]) == []


def test_merged_windows_rebuild_the_same_book(busy: Market) -> None:
    start = busy.book(PERP)
    events = changes_of(busy.advance(3.0), PERP)
    windows = [merge_changes(events[i : i + 7]) for i in range(0, len(events), 7)]
    merged = [c for window in windows for c in window]
    assert len(merged) < len(events)
    assert same(rebuild(start, merged), busy.book(PERP))


# -- views ---------------------------------------------------------------------------------------


def test_grouped_book_rounds_bids_down_and_asks_up(quiet: Market) -> None:
    for price, amount in ((60_000.5, 10), (60_003, 20), (60_007.5, 30)):
        quiet.sell("bob", PERP, 1.0, amount=amount, price=price)
    for price, amount in ((59_999.5, 10), (59_996, 20), (59_990, 30)):
        quiet.buy("bob", PERP, 1.0, amount=amount, price=price)
    grouped = quiet.grouped_book(PERP, 5, 2)
    assert grouped.bids == ((59_995.0, 30.0), (59_990.0, 30.0))
    assert grouped.asks == ((60_005.0, 30.0), (60_010.0, 30.0))
    assert grouped.change_id == quiet.book(PERP).change_id
    raw = quiet.grouped_book(PERP, None, 1)
    assert (raw.bids, raw.asks) == (((59_999.5, 10.0),), ((60_000.5, 10.0),))


# -- faults ----------------------------------------------------------------------------------------


def test_a_gap_fault_breaks_the_chain_once(quiet: Market) -> None:
    first = quiet.buy("alice", PERP, 1.0, amount=10, price=59_000)
    (before,) = changes_of(first.events)
    quiet.inject_fault(PERP, "gap")
    (broken,) = changes_of(quiet.buy("alice", PERP, 1.0, amount=10, price=58_000).events)
    assert broken.prev_change_id != before.change_id
    assert broken.prev_change_id > before.change_id  # an id nobody saw
    (healed,) = changes_of(quiet.buy("alice", PERP, 1.0, amount=10, price=57_500).events)
    assert healed.prev_change_id == broken.change_id
    snapshot = quiet.book(PERP)
    assert snapshot.change_id == healed.change_id
    assert snapshot.bids == ((59_000.0, 10.0), (58_000.0, 10.0), (57_500.0, 10.0))
    follows = BookSnapshot(
        instrument_name=PERP, change_id=before.change_id, timestamp=0, bids=(), asks=()
    )
    with pytest.raises(AssertionError, match="gap"):
        rebuild(follows, [broken])  # a client following the chain notices


def test_a_duplicate_fault_publishes_a_change_twice(quiet: Market) -> None:
    quiet.inject_fault(PERP, "duplicate")
    events = quiet.buy("alice", PERP, 1.0, amount=10, price=59_000).events
    one, two = changes_of(events)
    assert one == two
    assert quiet.change_log(PERP) == [one, two]


def test_a_reorder_fault_swaps_a_change_with_the_next(quiet: Market) -> None:
    quiet.inject_fault(PERP, "reorder")
    held = quiet.buy("alice", PERP, 1.0, amount=10, price=59_000).events
    assert changes_of(held) == []
    later = changes_of(quiet.buy("alice", PERP, 1.0, amount=10, price=58_000).events)
    assert [c.bids[0][1] for c in later] == [58_000.0, 59_000.0]
    assert later[0].prev_change_id == later[1].change_id


def test_a_held_change_is_released_at_the_end_of_the_next_tick(quiet: Market) -> None:
    quiet.inject_fault(PERP, "reorder")
    quiet.buy("alice", PERP, 1.0, amount=10, price=59_000)
    released = changes_of(quiet.advance(1.1), PERP)
    assert [c.bids for c in released] == [(("new", 59_000.0, 10.0),)]


def test_fault_hooks_check_their_arguments(quiet: Market) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        quiet.inject_fault(PERP, "drop")  # type: ignore[arg-type]
    with pytest.raises(MarketError):
        quiet.inject_fault("NOPE-PERPETUAL", "gap")


def test_the_change_log_is_bounded() -> None:
    feed = ChangeFeed(1, max_log=3)
    feed.start(PERP, 0)
    for t in range(5):
        feed.publish(PERP, t, [("new", float(t), 1.0)], [])
    assert [c.timestamp for c in feed.log] == [2, 3, 4]
