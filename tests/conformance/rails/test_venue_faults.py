"""Every fault plan kind on the reference Rails venue, recovered by tradewire's own client
with nothing lost: afterwards the venue has exactly the client's streams, the client's
book equals the venue's, every request resolved exactly once and the resting order is
still there.  What the venue does for each kind is ours (``tradewire.conformance.rails``
``_socket``); a lost or reordered delta cannot be seen without sequence numbers (spec 7),
so for those the client's doubt is what repairs the book."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tradewire.conformance.rails import VenueConfig, rails_market
from tradewire.protocol import MessageRejected, RequestFailed, RequestSucceeded
from tradewire.protocol.rails import CreateOrder, PongTimeout, TokenWanted, UpgradeRefused

sys.path.append(str(Path(__file__).parent))
from support_rails_venue import Session, harness, run

STREAMS = ("orders", "trades", "publicTrades", "publicOrderBook")


def settled(session: Session, request_ids: list[Any]) -> None:
    h = session.harness
    machine = session.machine
    outcomes = [
        e.request_id
        for e in session.events
        if isinstance(e, RequestSucceeded | RequestFailed) and e.request_id in request_ids
    ]
    assert sorted(outcomes) == sorted(request_ids), "every request exactly once"
    assert machine.pending == 0
    assert set(machine.ledger.active()) == set(STREAMS)
    servers = [c for c in h.venue.feeds.connections if c.is_open]
    assert [set(c.streams) for c in servers] == [set(STREAMS)]
    assert session.book_matches_venue()
    assert [o.price for o in h.venue.market.open_orders("1")] == [58000.0]


@pytest.mark.parametrize(
    ("plan", "seen", "reconnects"),
    [
        ("disconnect@1s#1", None, True),
        ("disconnect=1011@1s#1", None, True),
        ("zombie@1s#1", PongTimeout, True),
        ("expire@1s#1", UpgradeRefused, True),
        ("heartbeat@1s#1", PongTimeout, True),
        ("malformed@1s#1", MessageRejected, False),
        ("malformed=utf8@1s#1", None, True),
        ("malformed=binary@1s#1", MessageRejected, False),
        ("duplicate:publicOrderBook.BTC-USD@1s#1", None, False),
        ("duplicate:publicTrades.BTC-USD@1s#1", None, False),
        ("stall@1s#1", None, True),
    ],
)
def test_a_fault_is_recovered_with_nothing_lost(
    plan: str, seen: type | None, reconnects: bool
) -> None:
    h = harness(
        faults=plan,
        config=VenueConfig(market=rails_market(seed=3), max_pending_bytes=20_000),
    )
    session = Session(h, subscriptions=STREAMS, ping_interval=5.0, pong_timeout=2.0)
    resting = session.send(CreateOrder(side="buy", price="58000", quantity="0.01"))
    run(h, 30.0, session)
    assert session.link is not None
    assert (session.link.dials > 1) is reconnects
    if seen is not None:
        assert session.of(seen), f"{plan}: expected {seen.__name__}"
    if plan.startswith("expire"):
        assert session.fetches >= 2  # a new token was fetched
        assert session.of(TokenWanted)
    settled(session, [resting])


@pytest.mark.parametrize("plan", ["gap:BTC-USD@1s#1", "reorder:publicOrderBook.BTC-USD@1s#1"])
def test_a_lost_or_reordered_delta_is_repaired_by_a_doubt(plan: str) -> None:
    h = harness(faults=plan, config=VenueConfig(market=rails_market(seed=3)))
    session = Session(h, subscriptions=STREAMS, ping_interval=None)
    resting = session.send(CreateOrder(side="buy", price="58000", quantity="0.01"))
    run(h, 3.0, session)
    session.machine.doubt("BTC-USD", h.now)
    run(h, 1.0, session)
    settled(session, [resting])


def test_a_rate_limit_is_retried_with_the_same_id_and_the_connection_stays() -> None:
    h = harness(faults="ratelimit@1s#1", config=VenueConfig(market=rails_market(seed=3)))
    session = Session(h, subscriptions=STREAMS, ping_interval=None)
    resting = session.send(CreateOrder(side="buy", price="58000", quantity="0.01"))
    run(h, 1.5, session)
    other = session.send(CreateOrder(side="buy", price="58000.5", quantity="0.01"))
    run(h, 2.0, session)
    sent = [m for m in session.received if b'"createOrder"' in m and b'"statusCode":429' in m]
    assert sent  # the venue refused it once ...
    done = session.outcome(other)
    assert isinstance(done, RequestSucceeded)  # ... and the retry, same id, went through
    assert session.link is not None
    assert session.link.dials == 1
    session.send(CreateOrder(side="buy", price="58000.5", quantity="0.01"))  # for settled()
    h.venue.market.cancel_all("1", h.now, instrument_name="BTC-USD")
    session.send(CreateOrder(side="buy", price="58000", quantity="0.01"))
    run(h, 1.0, session)
    del resting
