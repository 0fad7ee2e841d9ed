"""Rails books without sequence numbers (spec 7): snapshot on request, then deltas; on any
doubt or reconnect a fresh snapshot, asked for by the machine itself; per market, with
``Decimal`` levels when maintained."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tradewire.protocol import RemoteProtocolError, RequestSucceeded
from tradewire.protocol.rails import (
    BookCrossed,
    BookDelta,
    BookResynced,
    BookSnapshot,
    ClientProtocol,
    EmitPublicOrderBook,
    Subscribe,
)

sys.path.append(str(Path(__file__).parent))
from support_rails import client, delta, sent, snapshot

D = Decimal


def booked(**options: Any) -> tuple[ClientProtocol, str]:
    """A connected client with ``publicOrderBook``; returns it and its snapshot request id."""
    options.setdefault("maintain_books", True)
    machine = client(ping_interval=None, subscriptions=("publicOrderBook",), **options)
    machine.connection_made(0.0)
    (ask,) = sent(machine)
    assert ask["message"] == "emitPublicOrderBook"
    machine.events()
    return machine, ask["content"]["clientRequestId"]


def test_the_machine_asks_for_a_snapshot_and_applies_deltas_held_before_it() -> None:
    machine, ask = booked()
    assert machine.events() == []  # its own request reports nothing
    machine.receive_message(delta(("buy", "100", "5")), 0.1)  # before the snapshot: held
    book = machine.book("BTC-USD")
    assert book is not None
    assert book.bids() == []
    machine.receive_message(snapshot(ask, ("buy", "100", "5"), ("sell", "101.5", "2")), 0.2)
    assert book.bids() == [(D("100"), D("5"))]
    assert book.asks() == [(D("101.5"), D("2"))]
    assert not book.stale
    events = machine.events()
    assert [type(e) for e in events] == [BookDelta, BookSnapshot, BookResynced]
    assert machine.pending == 0  # the snapshot answered our request
    machine.receive_message(delta(("buy", "100", "0"), ("buy", "99.25", "1.10")), 0.3)
    assert book.bids() == [(D("99.25"), D("1.10"))]  # exact: a Decimal, not a float
    assert sent(machine) == []  # a trusted book asks nothing


def test_a_snapshot_without_an_id_answers_the_oldest_snapshot_request() -> None:
    machine, _ = booked()
    machine.receive_message(snapshot(None, ("buy", "100", "1")), 0.1)  # the doc shows no id
    assert machine.pending == 0
    book = machine.book("BTC-USD")
    assert book is not None
    assert book.best_bid() == (D("100"), D("1"))


def test_a_reconnect_makes_the_book_stale_until_a_new_snapshot() -> None:
    machine, ask = booked()
    machine.receive_message(snapshot(ask, ("buy", "100", "1")), 0.1)
    machine.connection_lost(1.0)
    book = machine.book("BTC-USD")
    assert book is not None
    assert book.stale
    machine.connection_made(2.0)
    (again,) = sent(machine)
    assert again["message"] == "emitPublicOrderBook"
    machine.receive_message(delta(("buy", "100", "3")), 2.1)  # held
    assert book.best_bid() == (D("100"), D("1"))
    machine.receive_message(snapshot(again["content"]["clientRequestId"], ("buy", "100", "2")), 2.2)
    assert not book.stale
    assert book.best_bid() == (D("100"), D("3"))  # the held delta came before the snapshot
    assert any(isinstance(e, BookResynced) for e in machine.events())


def test_a_doubt_asks_for_a_fresh_snapshot() -> None:
    machine, ask = booked()
    machine.receive_message(snapshot(ask, ("buy", "100", "1")), 0.1)
    machine.events()
    machine.doubt("BTC-USD", 5.0)
    book = machine.book("BTC-USD")
    assert book is not None
    assert book.stale
    (request,) = sent(machine)
    assert request["message"] == "emitPublicOrderBook"
    machine.receive_message(
        snapshot(request["content"]["clientRequestId"], ("buy", "90", "9")), 5.1
    )
    assert book.bids() == [(D("90"), D("9"))]
    assert not book.stale


def test_a_message_that_cannot_be_read_makes_every_book_stale() -> None:
    machine, ask = booked()
    machine.receive_message(snapshot(ask, ("buy", "100", "1")), 0.1)
    with pytest.raises(RemoteProtocolError):
        machine.receive_message(b'{"resultType":"publicOrderBookDelta","data":{"or', 1.0)
    book = machine.book("BTC-USD")
    assert book is not None
    assert book.stale
    machine.handle_timer(1.5)  # a quiet market: the timer asks
    (request,) = sent(machine)
    assert request["message"] == "emitPublicOrderBook"
    machine.handle_timer(1.6)
    assert sent(machine) == []  # one request at a time


def test_a_refused_delta_leaves_the_book_stale_and_asks_again() -> None:
    machine, ask = booked()
    machine.receive_message(snapshot(ask, ("buy", "100", "1")), 0.1)
    with pytest.raises(RemoteProtocolError, match="stale"):
        machine.receive_message(delta(("buy", "100", "-1")), 0.2)
    (request,) = sent(machine)
    assert request["message"] == "emitPublicOrderBook"


def test_market_all_keeps_a_book_per_market_and_asks_for_each() -> None:
    machine = client(market="ALL", ping_interval=None, maintain_books=True)
    machine.send(Subscribe(subscriptions=("publicOrderBook",)), 0.0)
    machine.connection_made(0.0)
    assert sent(machine) == []  # no market known yet
    machine.receive_message(delta(("buy", "3000", "1"), market="ETH-USD"), 0.1)
    (ask,) = sent(machine)
    assert ask["content"]["market"] == "ETH-USD"
    machine.receive_message(delta(("sell", "60000", "1"), market="BTC-USD"), 0.2)
    (ask_btc,) = sent(machine)
    assert ask_btc["content"]["market"] == "BTC-USD"
    machine.receive_message(
        snapshot(ask["content"]["clientRequestId"], ("buy", "2999", "4"), market="ETH-USD"), 0.3
    )
    eth, btc = machine.book("ETH-USD"), machine.book("BTC-USD")
    assert eth is not None
    assert btc is not None
    assert eth.bids() == [(D("3000"), D("1")), (D("2999"), D("4"))]
    assert btc.stale
    machine.connection_lost(1.0)
    machine.connection_made(2.0)
    asked = sorted(m["content"]["market"] for m in sent(machine))
    assert asked == ["BTC-USD", "ETH-USD"]  # every known book, after a reconnect


def test_books_are_kept_only_for_the_subscribed_stream_and_market() -> None:
    machine = client(ping_interval=None, maintain_books=True)
    machine.connection_made(0.0)
    machine.receive_message(delta(("buy", "1", "1")), 0.1)
    assert machine.book("BTC-USD") is None  # publicOrderBook is not subscribed
    booked_machine, _ = booked()
    booked_machine.receive_message(delta(("buy", "1", "1"), market="ETH-USD"), 0.1)
    assert booked_machine.book("ETH-USD") is None  # another market: an event only
    assert [type(e) for e in booked_machine.events()] == [BookDelta]


def test_a_users_snapshot_request_resolves_and_applies() -> None:
    machine, ours = booked()
    request_id = machine.send(EmitPublicOrderBook(), 0.1)
    (request,) = sent(machine)
    assert request["content"] == {"clientRequestId": request_id}
    machine.receive_message(snapshot(request_id, ("buy", "100", "1")), 0.2)
    events = machine.events()
    assert any(isinstance(e, RequestSucceeded) and e.request_id == request_id for e in events)
    book = machine.book("BTC-USD")
    assert book is not None
    assert book.best_bid() == (D("100"), D("1"))
    machine.receive_message(snapshot(ours, ("buy", "101", "1")), 0.3)  # ours, later
    assert book.best_bid() == (D("101"), D("1"))


def test_unmaintained_deltas_of_a_trusted_book_pass_as_events_in_order() -> None:
    machine, ask = booked(maintain_books=False)
    machine.receive_message(snapshot(ask, ("buy", "100", "1")), 0.1)
    machine.events()
    for i in range(5):
        machine.receive_message(delta(("buy", f"{100 + i}", "1")), 0.2 + i)
    events = machine.events()
    assert [e.data.orders[0].price for e in events] == ["100", "101", "102", "103", "104"]


def test_a_crossed_book_is_reported_once() -> None:
    machine, ask = booked()
    machine.receive_message(snapshot(ask, ("buy", "100", "1"), ("sell", "101", "1")), 0.1)
    machine.receive_message(delta(("buy", "102", "1")), 0.2)
    machine.receive_message(delta(("buy", "103", "1")), 0.3)
    crossed = [e for e in machine.events() if isinstance(e, BookCrossed)]
    assert len(crossed) == 1
    assert crossed[0].best_bid == D("102")
