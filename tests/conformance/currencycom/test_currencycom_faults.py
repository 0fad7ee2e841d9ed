"""Fault plans on the reference Currency.com venue, recovered by tradewire's own client
with nothing lost (docs/venues/currencycom.md): after each fault every request has
resolved exactly once, the subscriptions are active again on a live connection, the
book is whole (each depth event replaces it) and pushes flow again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tradewire.protocol import RequestFailed, RequestSucceeded, SubscriptionActive
from tradewire.protocol.currencycom import DepthUpdate, GetServerTime, Subscribe, TradeUpdate
from tradewire.protocol.session import PongTimeout

sys.path.append(str(Path(__file__).parent))
from support_currencycom import venue_and_client

TOPICS = ("depth:BTC/USD", "trades:BTC/USD", "quote:ETH/USD")


@pytest.mark.parametrize(
    "plan",
    [
        "disconnect@2s#1",
        "disconnect=1011@2s#1",
        "zombie@2s#1",
        "heartbeat@2s#1",
        "malformed=json@2s#1",
        "malformed=binary@2s#1",
        "duplicate:trades.BTC_USD@1s",
        "reorder:depth.BTC_USD@1s",
        "ratelimit@1s#1",
        "stall@2s#1",
    ],
)
def test_a_fault_is_recovered_and_nothing_is_lost(plan: str) -> None:
    harness, client, link = venue_and_client(
        faults=plan, maintain_books=True, ping_interval=5.0, pong_timeout=3.0
    )
    link.client.send(Subscribe(topics=TOPICS), harness.now)
    sent = []
    for _ in range(8):
        sent.append(link.client.send(GetServerTime(), harness.now))
        harness.advance(0.5)
    harness.advance(25.0)
    events = link.take_client_events()
    resolved = [e.request_id for e in events if isinstance(e, RequestSucceeded | RequestFailed)]
    for request_id in sent:
        assert resolved.count(request_id) == 1, (plan, request_id)
    assert client.state.value == "open"
    assert set(client.ledger.active()) == set(TOPICS)
    sockets = [s for s in harness.venue.sockets.values() if s.machine.is_open]
    assert len(sockets) == 1
    # pushes flow again on the live connection, and the book is the venue's
    harness.advance(2.0)
    after = link.take_client_events()
    assert any(isinstance(e, DepthUpdate) for e in after)
    book = client.book("depth:BTC/USD")
    venue_book = harness.venue.market.book("BTC/USD")
    assert book is not None
    assert book.best_bid() == tuple(venue_book.bids[0])
    assert book.best_ask() == tuple(venue_book.asks[0])
    if plan.startswith(("disconnect", "zombie", "heartbeat")):
        assert harness.venue.accepted == 2  # the client reconnected once
        actives = [e for e in events if isinstance(e, SubscriptionActive)]
        assert len(actives) == 2 * len(TOPICS)  # subscribed again, exactly these
    if plan.startswith(("zombie", "heartbeat")):
        assert any(isinstance(e, PongTimeout) for e in events)
    if plan.startswith("duplicate"):
        trades = [e for e in events if isinstance(e, TradeUpdate)]
        assert trades  # the duplicate is delivered as the venue sent it
