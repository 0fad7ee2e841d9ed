"""Deterministic delivery (spec 1): every connection with the same market and
subscriptions receives the same sequence of events, compared byte for byte, while the
market moves and the account trades; a ``market=ALL`` connection gets the very same
frames for that market, among the others'."""

from __future__ import annotations

import sys
from pathlib import Path

import msgspec

from tradewire.conformance.rails import VenueConfig, rails_market
from tradewire.protocol.rails import CreateOrder

sys.path.append(str(Path(__file__).parent))
from support_rails_venue import Session, harness, run

STREAMS = ("orders", "trades", "publicTrades", "publicOrderBook")


def market_of(frame: bytes) -> str | None:
    found = msgspec.json.decode(frame).get("market")
    return found if isinstance(found, str) else None


def test_same_market_and_streams_means_the_same_bytes_in_the_same_order() -> None:
    h = harness(config=VenueConfig(market=rails_market(taker_rate=0.3, seed=4)))
    same = [Session(h, seed=i, subscriptions=STREAMS, ping_interval=None) for i in range(3)]
    everything = Session(h, seed=10, market="ALL", subscriptions=STREAMS, ping_interval=None)
    public = Session(h, seed=11, subscriptions=("publicOrderBook", "publicTrades"))
    other = Session(h, seed=12, market="ETH-USD", subscriptions=STREAMS, ping_interval=None)
    sessions = [*same, everything, public, other]
    run(h, 2.0, *sessions)
    for price in ("59990", "60010", "59980", "60030"):  # some rest, some trade
        same[0].send(CreateOrder(side="buy", price=price, quantity="0.005"))
        run(h, 1.0, *sessions)
    first = same[0].pushes()
    kinds = {msgspec.json.decode(f)["resultType"] for f in first}
    assert {"publicOrderBookDelta", "publicCompletedOrdersDelta", "completedOrdersDelta"} <= kinds
    assert len(first) > 50
    for session in same[1:]:
        assert session.pushes() == first  # byte for byte, in order
    btc_public = [f for f in first if market_of(f) == "BTC-USD" and b'"public' in f[:30]]
    assert public.pushes() == btc_public
    from_all = [f for f in everything.pushes() if market_of(f) == "BTC-USD"]
    assert [f for f in from_all if b'"public' in f[:30]] == btc_public
    assert any(market_of(f) == "ETH-USD" for f in everything.pushes())
    assert all(market_of(f) in ("ETH-USD", None) for f in other.pushes())
    # the account's own fills are on every market (spec 5): the ETH-USD connection has them
    fills = [f for f in first if b'"completedOrdersDelta"' in f]
    assert fills
    assert [f for f in other.pushes() if b'"completedOrdersDelta"' in f] == fills


def test_a_later_connection_gets_the_same_frames_from_the_moment_it_opens() -> None:
    h = harness(config=VenueConfig(market=rails_market(taker_rate=0.3, seed=5)))
    early = Session(h, seed=1, subscriptions=("publicOrderBook",), ping_interval=None)
    run(h, 1.0, early)
    before = len(early.pushes())
    late = Session(h, seed=2, subscriptions=("publicOrderBook",), ping_interval=None)
    run(h, 2.0, early, late)
    assert late.pushes() == early.pushes()[before:]
    assert late.book_matches_venue()
    assert early.book_matches_venue()
