"""The real client and server machines through the reference venue: a property over
sessions.  Random order requests (some with short deadlines), snapshot requests,
subscription changes, clock advances, dropped connections, venue faults (a close, a
zombie, an expired token, an ignored ping, a malformed message) and doubts: nothing
raises, every request resolves exactly once, and once quiet the venue holds exactly the
client's streams and the client's book equals the venue's."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from tradewire.conformance.rails import VenueConfig, rails_market
from tradewire.protocol import MessageRejected, RequestFailed, RequestSucceeded
from tradewire.protocol.rails import (
    STREAMS,
    CancelOrder,
    CreateOrder,
    EmitPublicOrderBook,
    EmitPublicTrades,
    ModifyOrder,
    Subscribe,
    Unsubscribe,
)

sys.path.append(str(Path(__file__).parent))
from support_rails_venue import Session, harness, run

COMMANDS: dict[str, Any] = {
    "buy": CreateOrder(side="buy", price="59000", quantity="0.01"),
    "cross": CreateOrder(side="buy", price="60100", quantity="0.001"),
    "market": CreateOrder(side="sell", price="60000", quantity="0.001", trade_type="market"),
    "cancel": CancelOrder(order_id="01JE2AND009NTN5RQP34YDZE80"),
    "modify": ModifyOrder(order_id="01JE2AND009NTN5RQP34YDZE80", price="59001"),
    "book": EmitPublicOrderBook(),
    "trades": EmitPublicTrades(),
}
FAULTS = ["disconnect", "disconnect=1001", "zombie", "expire", "heartbeat", "malformed"]

ops = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.sampled_from(sorted(COMMANDS))),
        st.tuples(st.just("send_short"), st.sampled_from(sorted(COMMANDS))),
        st.tuples(st.just("subscribe"), st.sets(st.sampled_from(STREAMS), min_size=1)),
        st.tuples(st.just("unsubscribe"), st.sets(st.sampled_from(STREAMS), min_size=1)),
        st.tuples(st.just("advance"), st.floats(0, 2) | st.floats(0, 20)),
        st.tuples(st.just("drop"), st.none()),
        st.tuples(st.just("fault"), st.sampled_from(FAULTS)),
        st.tuples(st.just("doubt"), st.none()),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(ops=ops)
def test_any_session_resolves_every_request_once_and_converges(ops: list[tuple[str, Any]]) -> None:
    h = harness(config=VenueConfig(market=rails_market(seed=2, taker_rate=0.1, past_hours=0)))
    session = Session(h, subscriptions=("publicOrderBook",), ping_interval=5.0, pong_timeout=2.0)
    assert session.link is not None
    ids: list[Any] = []
    for name, arg in ops:
        if name == "send":
            ids.append(session.send(COMMANDS[arg]))
        elif name == "send_short":  # a short deadline; it goes out with the stack's next step
            ids.append(session.machine.send(COMMANDS[arg], h.now, timeout=0.5))
            h.pump()
        elif name == "subscribe":
            ids.append(session.send(Subscribe(subscriptions=tuple(sorted(arg)))))
        elif name == "unsubscribe":
            ids.append(session.send(Unsubscribe(subscriptions=tuple(sorted(arg)))))
        elif name == "advance":
            run(h, arg, session)
        elif name == "drop":
            session.link.drop()
            h.pump()
        elif name == "fault":
            open_ids = [cid for cid, s in h.venue.sockets.items() if s.machine.is_open]
            if open_ids:
                h.venue.inject(max(open_ids), arg, h.now)
                h.pump()
                event(f"fault {arg}")
        elif name == "doubt":
            session.machine.doubt("BTC-USD", h.now)
            h.pump()
    run(h, 60.0, session)  # every deadline passes; the client reconnects and settles
    machine = session.machine
    outcomes = [
        e.request_id
        for e in session.events
        if isinstance(e, RequestSucceeded | RequestFailed) and e.request_id in ids
    ]
    assert sorted(map(str, outcomes)) == sorted(map(str, ids)), "each request exactly once"
    assert session.link.errors == []
    assert machine.pending == 0
    desired = set(machine.ledger.desired())
    assert set(machine.ledger.active()) == desired
    servers = [c for c in h.venue.feeds.connections if c.is_open]
    assert len(servers) == 1
    assert set(servers[0].streams) == desired
    event(f"{session.link.dials} connection(s)")
    if session.of(MessageRejected):
        event("a message was rejected")
    if "publicOrderBook" in desired:
        machine.doubt("BTC-USD", h.now)  # a malformed delta may be lost for good
        run(h, 1.0, session)
        assert session.book_matches_venue()
