"""Book continuity policies for the venues whose books have no chain (the chained kind is
Deribit's, tested in ``tests/protocol/deribit/test_client_books.py``):

* :class:`ReplaceBooks`: each message is the whole book (Currency.com's depth events);
* :class:`SnapshotDeltaBooks`: a snapshot on request, then deltas with no sequence
  (Rails): deltas before the snapshot are held back and applied after it; a doubt or a
  reconnect makes the book stale until the next snapshot.

Both keep books only for subscribed topics.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec

from tradewire.protocol import Event
from tradewire.protocol.session import (
    BookAccess,
    BookResynced,
    ClientSession,
    OrderBook,
    ReplaceBooks,
    SnapshotDeltaBooks,
)

sys.path.append(str(Path(__file__).parent))
from support_toy import Sub, reply, sent, toy


class Book(Event, frozen=True, kw_only=True):
    topic: str
    snapshot: bool
    bids: list[tuple[float, float]]
    asks: list[tuple[float, float]]


def _apply(book: OrderBook, message: Book, snapshot: bool) -> None:
    if snapshot:
        book.apply_snapshot(message.bids, message.asks)
    else:
        book.set_levels("bid", message.bids)
        book.set_levels("ask", message.asks)


ACCESS = BookAccess(topic=lambda m: m.topic, apply=_apply, is_snapshot=lambda m: m.snapshot)


def book(topic: str, bids: Any, asks: Any, *, snapshot: bool = False) -> Book:
    return Book(topic=topic, snapshot=snapshot, bids=bids, asks=asks)


def client_with(policy: Any) -> ClientSession:
    client = toy(books=(policy,))
    client.connection_made(0.0)
    client.send(Sub(topics=("depth.BTC",)), 0.0)
    (request,) = sent(client)
    client.receive_message(reply(request["id"], ["depth.BTC"]), 0.0)
    client.events()
    return client


def feed(client: ClientSession, message: Book) -> list[Event]:
    handler = client._handlers[Book]  # the route a decoded Book takes
    handler(message, 1.0)
    return client.events()


def test_a_replacing_book_takes_each_message_whole() -> None:
    policy = ReplaceBooks(ACCESS, (Book,), maintain=True, max_levels=100, max_books=10)
    client = client_with(policy)
    feed(client, book("depth.BTC", [(100.0, 1.0), (99.0, 2.0)], [(101.0, 1.0)]))
    feed(client, book("depth.BTC", [(98.0, 5.0)], [(102.0, 3.0)]))
    maintained = client.book("depth.BTC")
    assert maintained is not None
    assert maintained.bids() == [(98.0, 5.0)]
    assert maintained.asks() == [(102.0, 3.0)]


def test_a_replacing_book_keeps_nothing_for_a_topic_nobody_subscribed_to() -> None:
    policy = ReplaceBooks(ACCESS, (Book,), maintain=True, max_levels=100, max_books=10)
    client = client_with(policy)
    events = feed(client, book("depth.ETH", [(1.0, 1.0)], [(2.0, 1.0)]))
    assert len(events) == 1  # an event
    assert client.book("depth.ETH") is None


def test_deltas_before_the_snapshot_are_held_and_applied_after_it() -> None:
    policy = SnapshotDeltaBooks(ACCESS, (Book,), maintain=True, max_levels=100, max_books=10)
    client = client_with(policy)
    feed(client, book("depth.BTC", [(100.0, 7.0)], []))  # a delta before any snapshot
    maintained = client.book("depth.BTC")
    assert maintained is not None
    assert maintained.bids() == []  # held back
    feed(client, book("depth.BTC", [(100.0, 1.0), (99.0, 1.0)], [(101.0, 1.0)], snapshot=True))
    assert maintained.bids() == [(100.0, 7.0), (99.0, 1.0)]
    feed(client, book("depth.BTC", [(99.0, 0.0)], []))  # total at price 0: the level goes
    assert maintained.bids() == [(100.0, 7.0)]


def test_a_doubt_makes_the_book_stale_until_a_fresh_snapshot() -> None:
    policy = SnapshotDeltaBooks(ACCESS, (Book,), maintain=True, max_levels=100, max_books=10)
    client = client_with(policy)
    feed(client, book("depth.BTC", [(100.0, 1.0)], [(101.0, 1.0)], snapshot=True))
    policy.doubt("depth.BTC", 2.0)
    maintained = client.book("depth.BTC")
    assert maintained is not None
    assert maintained.stale
    feed(client, book("depth.BTC", [(100.0, 4.0)], []))  # held while stale
    events = feed(client, book("depth.BTC", [(100.0, 2.0)], [(101.0, 2.0)], snapshot=True))
    assert not maintained.stale
    assert maintained.bids() == [(100.0, 4.0)]
    assert any(isinstance(e, BookResynced) for e in events)


def test_a_reconnect_makes_a_snapshot_delta_book_stale() -> None:
    policy = SnapshotDeltaBooks(ACCESS, (Book,), maintain=True, max_levels=100, max_books=10)
    client = client_with(policy)
    feed(client, book("depth.BTC", [(100.0, 1.0)], [(101.0, 1.0)], snapshot=True))
    client.connection_lost(3.0)
    maintained = client.book("depth.BTC")
    assert maintained is not None
    assert maintained.stale


def test_held_deltas_are_bounded() -> None:
    policy = SnapshotDeltaBooks(
        ACCESS, (Book,), maintain=True, max_levels=100, max_books=10, max_held=3
    )
    client = client_with(policy)
    for price in range(10):
        feed(client, book("depth.BTC", [(float(price), 1.0)], []))
    state = policy.states["depth.BTC"]
    assert len(state.held) == 3
    assert state.dropped == 7
    assert msgspec.structs.asdict(state.held[0])["bids"] == [(7.0, 1.0)]
