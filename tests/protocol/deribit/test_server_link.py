"""ServerProtocol behind a WebSocketServerStack, talking to a client stack over MemoryLink."""

from __future__ import annotations

from tradewire.protocol import StackState, UpgradeRejected, WebSocketClosed
from tradewire.protocol.deribit import (
    EnableCancelOnDisconnect,
    GetTicker,
    Logout,
    PrivateSubscribe,
    PublicSubscribe,
    RateClass,
    SetHeartbeat,
    Test,
)
from tradewire.protocol.deribit.server import (
    CancelOnDisconnect,
    CreditRule,
    RequestReceived,
    SessionClosed,
)

from .support_server import START, RawMessage, make_link, make_state, vector_a


def closes(events: list[object]) -> list[WebSocketClosed]:
    return [e for e in events if isinstance(e, WebSocketClosed)]


def test_a_session_auth_subscribe_snapshot_and_request() -> None:
    link, client, venue = make_link(make_state(credits={}))
    link.pump()
    assert link.client.state is StackState.OPEN
    auth = link.client.send(vector_a(), link.now)
    book = link.client.send(PublicSubscribe(channels=["book.BTC-PERPETUAL.100ms", "bad"]), link.now)
    orders = link.client.send(PrivateSubscribe(channels=["user.orders.any.any.raw"]), link.now)
    ticker = link.client.send(GetTicker(instrument_name="BTC-PERPETUAL"), link.now)
    venue.serve(link)
    assert auth is not None
    assert book is not None
    assert orders is not None
    assert ticker is not None
    assert client.response(auth)["result"]["token_type"] == "bearer"
    assert client.response(book)["result"] == ["book.BTC-PERPETUAL.100ms"]
    assert client.response(orders)["result"] == ["user.orders.any.any.raw"]
    assert client.response(ticker)["result"] == {"echo": "public/ticker"}
    snapshot = client.notifications("book.BTC-PERPETUAL.100ms")
    assert snapshot == [
        {
            "jsonrpc": "2.0",
            "method": "subscription",
            "params": {"channel": "book.BTC-PERPETUAL.100ms", "data": {"snapshot": 0}},
        }
    ]
    # A repeated subscription is acknowledged without a new snapshot.
    again = link.client.send(PublicSubscribe(channels=["book.BTC-PERPETUAL.100ms"]), link.now)
    venue.serve(link)
    assert again is not None
    assert client.response(again)["result"] == ["book.BTC-PERPETUAL.100ms"]
    assert len(client.notifications("book.BTC-PERPETUAL.100ms")) == 1
    requests = [e for e in venue.seen if isinstance(e, RequestReceived)]
    assert [e.client_id for e in requests] == ["AMANDA"] * 4


def test_bad_frames_are_answered_and_the_socket_stays_open() -> None:
    link, client, venue = make_link(make_state(credits={}))
    link.pump()
    link.client.send(RawMessage(data=b"{oops"), link.now)
    venue.serve(link)
    assert client.received[-1]["error"]["data"] == "invalid json"
    assert "id" not in client.received[-1]
    assert link.client.state is StackState.OPEN
    assert link.errors == []


def test_an_unanswered_test_request_closes_the_socket_with_4000() -> None:
    link, client, venue = make_link(make_state(credits={}))
    link.pump()
    link.client.send(vector_a(), link.now)
    link.client.send(EnableCancelOnDisconnect(), link.now)
    link.client.send(SetHeartbeat(interval=10), link.now)
    venue.serve(link)
    link.advance(19.9)
    assert link.client.state is StackState.OPEN
    assert client.heartbeats("test_request") == 1
    link.advance(0.2)
    assert closes(link.client_events) == [
        WebSocketClosed(code=4000, reason="heartbeat close", by="remote")
    ]
    assert link.client.state is StackState.CLOSED
    server_events = link.take_server_events()
    cod = [e for e in server_events if isinstance(e, CancelOnDisconnect)]
    assert [(e.client_id, e.reason) for e in cod] == [("AMANDA", "heartbeat")]
    assert [e.reason for e in server_events if isinstance(e, SessionClosed)] == ["heartbeat"]
    assert venue.state.connection_count("203.0.113.7") == 0


def test_answered_test_requests_keep_the_socket() -> None:
    link, client, venue = make_link(make_state(credits={}), answer_test_requests=True)
    link.pump()
    link.client.send(SetHeartbeat(interval=10), link.now)
    venue.serve(link)
    link.advance(300)
    assert link.client.state is StackState.OPEN
    assert client.heartbeats("test_request") == 30
    assert closes(link.client_events) == []


def test_credits_run_out_10028_then_the_session_is_terminated() -> None:
    state = make_state(credits={RateClass.NON_MATCHING: CreditRule(cost=1, capacity=3, refill=1)})
    link, client, venue = make_link(state)
    link.pump()
    for _ in range(4):
        link.client.send(Test(), link.now)
    venue.serve(link)
    assert [m.get("error", {}).get("code") for m in client.received] == [None, None, None, 10028]
    assert closes(link.client_events) == [
        WebSocketClosed(code=1013, reason="too_many_requests", by="remote")
    ]


def test_logout_closes_gracefully_without_an_answer() -> None:
    link, client, venue = make_link(make_state(credits={}))
    link.pump()
    link.client.send(vector_a(), link.now)
    link.client.send(Logout(), link.now)
    venue.serve(link)
    assert len(client.received) == 1  # only the auth result
    assert closes(link.client_events) == [WebSocketClosed(code=1000, reason="logout", by="remote")]


def test_the_33rd_upgrade_is_refused_with_429() -> None:
    state = make_state(credits={})
    links = [make_link(state)[0] for _ in range(33)]
    for link in links:
        link.pump()
    assert all(link.client.state is StackState.OPEN for link in links[:32])
    rejected = [e for e in links[32].client_events if isinstance(e, UpgradeRejected)]
    assert [e.status for e in rejected] == [429]
    links[0].drop()
    late = make_link(state)[0]
    late.pump()
    assert late.client.state is StackState.OPEN


def test_an_unknown_path_is_refused_with_404() -> None:
    link, _, _ = make_link(make_state(credits={}), path="/ws/api/v1")
    link.pump()
    rejected = [e for e in link.client_events if isinstance(e, UpgradeRejected)]
    assert [(e.status, e.retrying) for e in rejected] == [(404, False)]


def test_the_link_starts_at_vector_a_time() -> None:
    link, client, venue = make_link(make_state(credits={}))
    link.pump()
    request = link.client.send(Test(), link.now)
    venue.serve(link)
    assert request is not None
    assert client.response(request)["usIn"] == 1576074319000000
    assert link.now == START


def test_an_idle_connection_keeps_few_objects_for_the_garbage_collector() -> None:
    """A venue with thousands of idle connections pays for every object they keep on
    each full pass of Python's cyclic collector: the request tables are per class (it
    was a dict of 21 bound methods per connection, 36 objects in all)."""
    import gc

    from tradewire.protocol.deribit.server import ServerProtocol

    state = make_state()
    kept = [ServerProtocol(state, peer=f"127.0.0.1:{1000 + i}") for i in range(20)]
    gc.collect()
    before = len(gc.get_objects())
    kept += [ServerProtocol(state, peer=f"127.0.0.1:{2000 + i}") for i in range(200)]
    gc.collect()
    per_connection = (len(gc.get_objects()) - before) / 200
    assert per_connection <= 20, per_connection
    assert kept[0].requests.link_handlers is kept[-1].requests.link_handlers
