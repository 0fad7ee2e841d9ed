"""The client machine's fuzz invariant (docs/architecture.md, habit 4): any sequence of
inputs gives events or RemoteProtocolError, nothing else, and the machine stays usable:
requests still resolve exactly once and a book still recovers from a snapshot."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tradewire.conformance.rails.strategies import server_messages
from tradewire.protocol import RemoteProtocolError, RequestFailed, RequestSucceeded
from tradewire.protocol.rails import CreateOrder, Ping

sys.path.append(str(Path(__file__).parent))
from support_rails import client, delta, sent, snapshot

inputs = st.lists(
    st.one_of(
        st.binary(max_size=80).map(lambda b: ("bytes", b)),
        server_messages().map(lambda s: ("message", s.data)),
        st.sampled_from(
            [b'{"resultType":"publicOrderBookDelta"', b"null", b'{"resultType":1}']
        ).map(lambda b: ("bytes", b)),
        st.floats(0, 40).map(lambda t: ("time", t)),
        st.just(("order", None)),
        st.just(("drop", None)),
    ),
    max_size=30,
)


@settings(max_examples=200)
@given(inputs)
def test_any_input_gives_events_or_remote_protocol_error_and_the_machine_stays_usable(
    steps: list[tuple[str, Any]],
) -> None:
    machine = client(subscriptions=("orders", "publicOrderBook"), maintain_books=True)
    now = 0.0
    machine.connection_made(now)
    ids: list[Any] = []
    seen: list[Any] = []
    rejected = 0
    for kind, value in steps:
        if kind == "time":
            now += value
            machine.handle_timer(now)
        elif kind == "order":
            ids.append(machine.send(CreateOrder(side="buy", price="1", quantity="1"), now))
        elif kind == "drop":
            machine.connection_lost(now)
            machine.connection_made(now)
        else:
            try:
                machine.receive_message(value, now)
            except RemoteProtocolError:
                rejected += 1
        sent(machine)
        seen += machine.events()
    event("some input rejected" if rejected else "every input taken")
    machine.handle_timer(now + 100.0)  # every deadline passes
    seen += machine.events()
    resolved = [
        e.request_id
        for e in seen
        if isinstance(e, RequestSucceeded | RequestFailed) and e.request_id in ids
    ]
    assert sorted(resolved) == sorted(ids), "every request exactly once"
    now += 100.0
    # Still usable: a request resolves once, a book recovers from a snapshot.
    machine.connection_lost(now)
    machine.events()
    machine.connection_made(now)
    request_id = machine.send(Ping(), now)
    asks = [m for m in sent(machine) if m["message"] == "emitPublicOrderBook"]
    assert asks, "the book asks for its snapshot on the new connection"
    machine.receive_message(
        msgspec.json.encode(
            {"resultType": "pong", "data": {"clientRequestId": request_id, "statusCode": 200}}
        ),
        now,
    )
    machine.receive_message(
        snapshot(asks[-1]["content"]["clientRequestId"], ("buy", "5", "1")), now
    )
    machine.receive_message(delta(("sell", "6", "2")), now)
    book = machine.book("BTC-USD")
    assert book is not None
    assert not book.stale
    assert (book.bids(), book.asks()) == ([(5, 1)], [(6, 2)])
    done = [e for e in machine.events() if isinstance(e, RequestSucceeded | RequestFailed)]
    assert [e.request_id for e in done] == [request_id]
