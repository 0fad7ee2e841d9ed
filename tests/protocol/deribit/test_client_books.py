"""ClientProtocol book continuity (spec 4): the prev_change_id chain, gaps, stale books,
resync of the one channel, snapshots, maintained books and crossed books."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.protocol import LocalProtocolError, OrderBook, RemoteProtocolError
from tradewire.protocol.deribit import (
    BookCrossed,
    BookGap,
    BookResynced,
    BookUpdate,
    GroupedBookUpdate,
    Subscribe,
)

sys.path.append(str(Path(__file__).parent))
from support_client import (
    Harness,
    book,
    credentials,
    encode_notification,
    grouped,
    make_link,
)

A = "book.BTC-PERPETUAL.100ms"
B = "book.ETH-PERPETUAL.100ms"
RAW = "book.BTC-PERPETUAL.raw"
GROUPED = "book.ETH-PERPETUAL.100.1.100ms"


def subscribed(*channels: str, **kwargs: Any) -> Harness:
    h = Harness(heartbeat_interval=None, **kwargs)
    if kwargs.get("credentials") is not None:
        h.login()
    else:
        h.connect()
    h.send(Subscribe(channels=list(channels)))
    h.ack_subscriptions()
    h.take_events()
    return h


def updates(h: Harness, channel: str) -> list[int]:
    return [
        e.data.change_id for e in h.events if isinstance(e, BookUpdate) and e.channel == channel
    ]


def test_changes_follow_prev_change_id_never_plus_one() -> None:
    h = subscribed(A)
    h.feed(book(A, 10, None, [("new", 100.0, 1.0)]))
    h.feed(book(A, 17, 10))  # a shared counter: ids jump
    h.feed(book(A, 18, 17))
    assert updates(h, A) == [10, 17, 18]
    assert not h.of(BookGap)


def test_a_gap_is_reported_the_book_goes_stale_and_only_that_channel_is_resynced() -> None:
    h = subscribed(A, B)
    h.feed(book(A, 10))
    h.feed(book(B, 11))
    h.feed(book(A, 20, 12))  # 12 is not 10: updates were missed
    assert h.of(BookGap) == [BookGap(channel=A, expected=10, got=12)]
    assert updates(h, A) == [10]  # the change across the gap is not delivered
    h.feed(book(A, 21, 20))  # dropped too: no delta across the gap
    h.feed(book(B, 13, 11))  # other channels carry on
    assert updates(h, A) == [10]
    assert updates(h, B) == [11, 13]
    assert [(s.method, s.params) for s in h.sent] == [("public/unsubscribe", {"channels": [A]})]
    h.ack_subscriptions()
    assert [(s.method, s.params) for s in h.sent] == [("public/subscribe", {"channels": [A]})]
    h.ack_subscriptions()
    h.feed(book(A, 30))  # the fresh snapshot the resubscription brings
    h.feed(book(A, 31, 30))
    assert updates(h, A) == [10, 30, 31]
    assert h.of(BookResynced) == [BookResynced(channel=A, change_id=30, dropped=2)]
    assert sorted(h.client.ledger.active()) == [A, B]
    assert len(h.of(BookGap)) == 1


def test_a_change_before_any_snapshot_is_a_gap() -> None:
    h = subscribed(A)
    h.feed(book(A, 20, 19))
    assert h.of(BookGap) == [BookGap(channel=A, expected=None, got=19)]
    assert updates(h, A) == []
    assert h.methods() == ["public/unsubscribe"]


def test_no_snapshot_after_the_resubscription_triggers_another_resync() -> None:
    h = subscribed(A)
    h.feed(book(A, 10))
    h.feed(book(A, 20, 15))
    h.ack_subscriptions()  # unsubscribe
    h.ack_subscriptions()  # subscribe
    h.feed(book(A, 21, 20))  # a change, not the snapshot the resubscription promised
    assert h.of(BookGap)[-1] == BookGap(channel=A, expected=None, got=20)
    assert h.methods() == ["public/unsubscribe"]
    h.feed(book(A, 22, 21))  # while that resync runs, quietly dropped
    assert len(h.of(BookGap)) == 2


def test_a_gap_on_a_private_raw_book_is_resynced_through_the_private_methods() -> None:
    h = subscribed(RAW, credentials=credentials())
    h.feed(book(RAW, 5))
    h.feed(book(RAW, 9, 6))
    assert [(s.method, s.params["channels"]) for s in h.sent] == [("private/unsubscribe", [RAW])]
    h.ack_subscriptions()
    assert [(s.method, s.params["channels"]) for s in h.sent] == [("private/subscribe", [RAW])]


def test_a_lost_connection_makes_books_stale_until_the_next_snapshot() -> None:
    h = subscribed(A, maintain_books=True)
    h.feed(book(A, 10, None, [("new", 100.0, 1.0)], [("new", 101.0, 2.0)]))
    maintained = h.client.book(A)
    assert isinstance(maintained, OrderBook)
    h.lose()
    assert maintained.stale
    h.take_sent()
    h.connect()
    h.ack_subscriptions()
    h.feed(book(A, 50, None, [("new", 99.0, 1.0)]))
    assert h.of(BookResynced) == [BookResynced(channel=A, change_id=50, dropped=0)]
    assert not maintained.stale
    assert maintained.bids() == [(99.0, 1.0)]
    assert maintained.asks() == []


# -- maintained books -----------------------------------------------------------------------


def test_maintained_book_follows_snapshots_and_changes_and_never_crosses_a_gap() -> None:
    h = subscribed(A, maintain_books=True)
    h.feed(book(A, 10, None, [("new", 100.0, 1.0), ("new", 99.5, 2.0)], [("new", 101.0, 3.0)]))
    h.feed(book(A, 11, 10, [("delete", 99.5, 0.0), ("change", 100.0, 4.0)], [("new", 100.5, 1.0)]))
    assert updates(h, A) == [10, 11]  # applied to the book and delivered
    maintained = h.client.book(A)
    assert maintained is not None
    assert maintained.bids() == [(100.0, 4.0)]
    assert maintained.asks() == [(100.5, 1.0), (101.0, 3.0)]
    h.feed(book(A, 13, 12, [("new", 100.25, 9.0)]))  # a gap
    assert maintained.stale
    assert maintained.bids() == [(100.0, 4.0)]  # nothing applied across the gap
    h.ack_subscriptions()
    h.ack_subscriptions()
    h.feed(book(A, 20, None, [("new", 98.0, 1.0)], [("new", 102.0, 1.0)]))
    assert not maintained.stale
    assert maintained.top(1) == ([(98.0, 1.0)], [(102.0, 1.0)])


def test_book_needs_maintain_books_and_unknown_channels_have_none() -> None:
    with pytest.raises(LocalProtocolError, match="maintain_books=True"):
        subscribed(A).client.book(A)
    assert subscribed(A, maintain_books=True).client.book(B) is None


def test_a_crossed_book_is_reported_once_per_episode() -> None:
    h = subscribed(A, maintain_books=True)
    h.feed(book(A, 10, None, [("new", 100.0, 1.0)], [("new", 101.0, 1.0)]))
    h.feed(book(A, 11, 10, [("new", 101.5, 1.0)]))
    h.feed(book(A, 12, 11, [("change", 101.5, 2.0)]))
    assert h.of(BookCrossed) == [BookCrossed(channel=A, best_bid=101.5, best_ask=101.0)]
    h.feed(book(A, 13, 12, [("delete", 101.5, 0.0)]))
    h.feed(book(A, 14, 13, [], [("new", 99.0, 1.0)]))
    assert len(h.of(BookCrossed)) == 2
    assert [e for e in h.events if isinstance(e, BookUpdate | BookCrossed)][-1] == h.of(
        BookCrossed
    )[-1]


def test_bad_levels_make_the_book_stale_and_resync_it() -> None:
    h = subscribed(A, maintain_books=True)
    h.feed(book(A, 10, None, [("new", 100.0, 1.0)]))
    with pytest.raises(RemoteProtocolError, match="stale"):
        h.feed(book(A, 11, 10, [("change", 100.0, -5.0)]))
    h.flush()
    maintained = h.client.book(A)
    assert maintained is not None
    assert maintained.stale
    assert h.methods() == ["public/unsubscribe"]


def test_grouped_windows_need_no_chain_and_replace_the_maintained_book() -> None:
    h = subscribed(GROUPED, maintain_books=True)
    h.feed(grouped(GROUPED, 5, [[160.0, 40.0]], [[161.0, 20.0]]))
    h.feed(grouped(GROUPED, 90, [[159.0, 1.0]], [[161.0, 2.0]]))
    assert [e.data.change_id for e in h.of(GroupedBookUpdate)] == [5, 90]
    assert not h.of(BookGap)
    maintained = h.client.book(GROUPED)
    assert maintained is not None
    assert maintained.bids() == [(159.0, 1.0)]
    plain = subscribed(GROUPED)
    plain.feed(grouped(GROUPED, 5, [[160.0, 40.0]], [[161.0, 20.0]]))
    assert len(plain.of(GroupedBookUpdate)) == 1


def test_books_are_kept_for_subscribed_channels_only() -> None:
    # Memory is bounded by what the caller asked for: book notifications on channels
    # nobody subscribed to (however many) are events, never books or chain states.
    h = subscribed(A, max_subscriptions=2, maintain_books=True)
    h.feed(book(A, 1))
    unsolicited = [f"book.X{n}-PERPETUAL.100ms" for n in range(50)]
    for channel in unsolicited:
        h.feed(book(channel, 1))
        h.feed(book(channel, 3, 2))  # would be a gap on a checked channel
    assert len(h.of(BookUpdate)) == 1 + 2 * len(unsolicited)
    assert not h.of(BookGap)
    assert h.client.book(A) is not None
    assert all(h.client.book(c) is None for c in unsolicited)
    assert h.client.book(B) is None


@pytest.mark.parametrize("maintain", [True, False], ids=["maintained", "not-maintained"])
@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["next", "gap", "snapshot", "ack"]), st.integers(1, 5)),
        max_size=40,
    )
)
def test_no_delta_is_ever_delivered_or_applied_across_a_gap(
    maintain: bool, steps: list[tuple[str, int]]
) -> None:
    """With and without a maintained book (without is the default and the hot path):
    no change is delivered unless it continues the last delivered one.  ``event()``
    reports how many gaps an example reported and whether changes were delivered again
    after a gap (see ``pytest --hypothesis-show-statistics``)."""
    h = subscribed(A, maintain_books=maintain)
    venue_id = 100
    for kind, jump in steps:
        if kind == "snapshot":
            venue_id += jump
            h.feed(book(A, venue_id, None, [("new", 100.0, float(venue_id))]))
        elif kind == "ack":
            h.ack_subscriptions()
        else:
            prev = venue_id + (jump if kind == "gap" else 0)
            venue_id = prev + jump
            h.feed(book(A, venue_id, prev, [("change", 100.0, float(venue_id))]))
    delivered = [e for e in h.events if isinstance(e, BookUpdate)]
    last: int | None = None
    for event in delivered:
        if event.data.prev_change_id is not None:
            assert event.data.prev_change_id == last
        last = event.data.change_id
    if maintain:
        maintained = h.client.book(A)
        assert (maintained is None) == (not steps or all(k == "ack" for k, _ in steps))
        if maintained is not None and delivered and not maintained.stale:
            assert maintained.bids() == [(100.0, float(delivered[-1].data.change_id))]
    else:
        with pytest.raises(LocalProtocolError, match="maintain_books=True"):
            h.client.book(A)
    gaps = h.of(BookGap)
    resynced = h.of(BookResynced)
    assert len(resynced) <= len(gaps)
    hypothesis.event(f"gaps reported: {len(gaps) if len(gaps) < 3 else '3+'}")
    kinds = [type(e) for e in h.events if isinstance(e, BookUpdate | BookGap)]
    after = BookGap in kinds and BookUpdate in kinds[kinds.index(BookGap) :]
    hypothesis.event(f"changes delivered again after a gap: {after}")


# -- through the WebSocket stacks ----------------------------------------------------------


def test_through_the_stacks_a_gap_is_resynced_and_the_snapshot_recovers() -> None:
    link, client, venues = make_link(heartbeat_interval=None, maintain_books=True)
    link.client.send(Subscribe(channels=[A, B]), link.now)
    link.pump()
    venue = venues[0]
    venue.change(A)
    venue.change(B)
    venue.change(A, skip=2)  # the venue "loses" two ids on A
    venue.change(A)
    assert link.server is not None
    link.server.handle_timer(link.now)  # flush the venue's pushes
    link.pump()
    events = link.take_client_events()
    [gap] = [e for e in events if isinstance(e, BookGap)]
    assert gap.channel == A
    assert [r.params["channels"] for r in venue.requests if r.method == "public/unsubscribe"] == [
        [A]
    ]
    resynced = [e for e in events if isinstance(e, BookResynced)]
    assert [(r.channel, r.dropped) for r in resynced] == [(A, 2)]
    maintained = client.book(A)
    assert maintained is not None
    assert not maintained.stale


# -- the client's hot path agrees with the general decode ---------------------------------

SAME_INSTRUMENT_GROUPED = "book.BTC-PERPETUAL.none.10.100ms"
TICKER = "ticker.BTC-PERPETUAL.100ms"


def _hint_caches() -> list[dict[Any, Any]]:
    from tradewire.protocol.deribit import _inbound

    return [_inbound._hot, _inbound._types, _inbound._hints, _inbound._wide_hints]


def _swap_caches(contents: list[dict[Any, Any]]) -> list[dict[Any, Any]]:
    """Put ``contents`` into the decoder's (global) hint caches; return what they held."""
    held = []
    for cache, new in zip(_hint_caches(), contents, strict=True):
        held.append(dict(cache))
        cache.clear()
        cache.update(new)
    return held


@settings(max_examples=150, deadline=None)
@given(
    maintain=st.booleans(),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["next", "gap", "snapshot", "grouped", "ticker", "other"]),
            st.sampled_from([A, RAW, B, SAME_INSTRUMENT_GROUPED]),
            st.integers(1, 3),
        ),
        max_size=40,
    ),
)
def test_the_hot_path_reports_what_the_general_decode_does(
    maintain: bool, steps: list[tuple[str, str, int]]
) -> None:
    # One client with warm first-byte hints (ClientProtocol.receive_message's inlined
    # hot path), one that decodes every message with the hint caches emptied first: the
    # same events, the same errors and the same requests (resyncs) from both.
    channels = [A, RAW, B, SAME_INSTRUMENT_GROUPED, TICKER]
    warm = subscribed(*channels, maintain_books=maintain)
    cold = subscribed(*channels, maintain_books=maintain)
    ids = dict.fromkeys(channels, 100)
    learned: list[dict[Any, Any]] = [dict(cache) for cache in _hint_caches()]
    ticker = {"instrument_name": "BTC-PERPETUAL", "timestamp": 1, "best_bid_price": 1.0}
    for kind, channel, jump in steps:
        prev = ids[channel]
        ids[channel] = prev + jump + (jump if kind == "gap" else 0)
        if kind == "grouped" or channel == SAME_INSTRUMENT_GROUPED:
            level = [[100.0 + jump, 1.0]]
            data = grouped(SAME_INSTRUMENT_GROUPED, ids[channel], level, level)
        elif kind == "ticker":
            data = encode_notification(TICKER, {**ticker, "timestamp": ids[channel]})
        elif kind == "other":  # a book message on a channel nobody subscribed to
            data = book("book.BTC-PERPETUAL.agg2", ids[channel], prev)
        else:
            level = [("new" if kind == "snapshot" else "change", 100.0, float(ids[channel]))]
            snapshot = kind == "snapshot"
            data = book(channel, ids[channel], None if snapshot else prev + jump, level)
        outcomes = []
        for h in (warm, cold):
            # the warm client keeps what the caches learned from every message so far
            if h is warm:
                _swap_caches(learned)
            else:
                learned = _swap_caches([{}, {}, {}, {}])
            try:
                h.feed(data)
            except RemoteProtocolError as exc:
                h.flush()
                outcomes.append(str(exc))
            else:
                outcomes.append(None)
        assert outcomes[0] == outcomes[1]
    assert warm.events == cold.events
    assert [(s.method, s.params) for s in warm.log] == [(s.method, s.params) for s in cold.log]
