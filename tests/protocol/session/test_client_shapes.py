"""The generic client machine fits every venue shape (the toy venue of ``support_toy``).

Deribit's client runs on the same machine and is tested under ``tests/protocol/deribit``;
these tests pin what the other venues need: requests encoded (signed) when released,
streams acknowledged by their first message and re-mapped after a reconnect, a venue
with no unsubscribe, topics in the handshake, a token renewed by reconnecting, interim
answers, pings with a pong deadline, and errors acted on by class.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tradewire.protocol import (
    CloseRequest,
    ConnectionLost,
    LocalProtocolError,
    RequestFailed,
    RequestSucceeded,
    RequestTimeout,
    SubscriptionActive,
    SubscriptionEnded,
    SubscriptionRejected,
)
from tradewire.protocol.session import (
    AuthenticationFailed,
    HeartbeatTimeout,
    MalformedResult,
    PongTimeout,
    RequestAccepted,
    SessionEnded,
    SubscribeResult,
    UnmatchedError,
    UnsubscribeResult,
)

sys.path.append(str(Path(__file__).parent))
from support_toy import (
    CREDENTIALS,
    RATE_LIMITED,
    TRANSIENT,
    Granted,
    Op,
    Probe,
    StreamMessage,
    Sub,
    TokenAuth,
    ToyError,
    Unsub,
    push,
    refuse,
    reply,
    sent,
    stream,
    toy,
)


def ops(messages: list[dict[str, object]]) -> list[object]:
    return [m["op"] for m in messages]


# -- requests ----------------------------------------------------------------------------


def test_a_request_resolves_once_with_its_result() -> None:
    client = toy()
    client.connection_made(0.0)
    rid = client.send(Op(op="time"), 0.0)
    assert sent(client) == [{"id": rid, "op": "time", "args": {}}]
    client.receive_message(reply(rid, 42), 0.1)
    client.receive_message(reply(rid, 43), 0.2)  # a duplicate finds nothing
    events = client.events()
    assert [type(e) for e in events] == [RequestSucceeded]
    assert isinstance(events[0], RequestSucceeded)
    assert events[0].result == 42


def test_a_command_that_cannot_be_encoded_raises_in_send_and_queues_nothing() -> None:
    client = toy()
    client.connection_made(0.0)
    with pytest.raises(LocalProtocolError, match="too large"):
        client.send(Op(op="too-big"), 0.0)
    assert client.pending == 0
    assert sent(client) == []


def test_requests_are_encoded_when_released_so_signatures_are_fresh() -> None:
    # Currency.com signs each private request with a timestamp: paced requests must be
    # signed when they go out, not when they were queued.
    client = toy(auth="signed", pacing=1.0)  # one request a second
    client.connection_made(10.0)
    first = client.send(Op(op="order", private=True), 10.0)
    second = client.send(Op(op="order", private=True), 10.0)
    out = sent(client)
    assert [(m["id"], m["sig"]) for m in out] == [(first, "order@10000")]
    client.handle_timer(client.next_deadline() or 0.0)
    out = sent(client)
    assert [(m["id"], m["sig"]) for m in out] == [(second, "order@11000")]


def test_a_signed_venue_is_authenticated_once_connected() -> None:
    client = toy(auth="signed")
    rid = client.send(Op(op="account", private=True), 0.0)  # waits for a connection
    assert sent(client) == []
    client.connection_made(1.0)
    assert client.authenticated
    assert [m["id"] for m in sent(client)] == [rid]


def test_a_private_request_without_credentials_is_refused_by_name() -> None:
    client = toy()
    client.connection_made(0.0)
    with pytest.raises(LocalProtocolError, match="account needs authentication"):
        client.send(Op(op="account", private=True), 0.0)


def test_an_interim_answer_is_an_event_and_the_final_one_resolves_once() -> None:
    # Rails answers 202 ("accepted, pending") then 200 ("accepted") to one order.
    client = toy()
    client.connection_made(0.0)
    rid = client.send(Op(op="createOrder"), 0.0)
    sent(client)
    client.receive_message(reply(rid, {"status": "pending"}, status=202), 0.1)
    interim = client.events()
    assert [type(e) for e in interim] == [RequestAccepted]
    assert isinstance(interim[0], RequestAccepted)
    assert interim[0].result == {"status": "pending"}
    assert client.pending == 1
    client.receive_message(reply(rid, {"status": "active"}), 0.2)
    client.receive_message(reply(rid, {"status": "active"}), 0.3)
    final = client.events()
    assert [type(e) for e in final] == [RequestSucceeded]
    assert isinstance(final[0], RequestSucceeded)
    assert final[0].result == {"status": "active"}
    assert client.pending == 0


def test_an_interim_answer_does_not_stop_the_deadline() -> None:
    client = toy(request_timeout=5.0)
    client.connection_made(0.0)
    rid = client.send(Op(op="createOrder"), 0.0)
    client.receive_message(reply(rid, {}, status=202), 1.0)
    client.handle_timer(5.0)
    events = client.events()
    assert isinstance(events[-1], RequestFailed)
    assert isinstance(events[-1].error, RequestTimeout)


def test_a_result_that_does_not_fit_fails_as_malformed() -> None:
    client = toy()
    client.connection_made(0.0)
    rid = client.send(Op(op="typed"), 0.0)
    client.receive_message(reply(rid, "not an int"), 0.1)
    (event,) = client.events()
    assert isinstance(event, RequestFailed)
    assert isinstance(event.error, MalformedResult)


def test_an_error_for_no_request_of_ours_is_an_event() -> None:
    client = toy()
    client.connection_made(0.0)
    client.receive_message(refuse(999, "nope"), 0.1)
    (event,) = client.events()
    assert isinstance(event, UnmatchedError)
    assert event.request_id == 999


def test_a_rate_limited_request_goes_again_with_the_same_id_after_the_refill() -> None:
    client = toy(pacing=1.0)
    client.connection_made(0.0)
    rid = client.send(Op(op="buy"), 0.0)
    assert [m["id"] for m in sent(client)] == [rid]
    client.receive_message(refuse(rid, RATE_LIMITED), 0.1)
    assert sent(client) == []
    assert client.events() == []
    client.handle_timer(client.next_deadline() or 0.0)
    assert [m["id"] for m in sent(client)] == [rid]
    client.receive_message(reply(rid, "done"), 1.2)
    (event,) = client.events()
    assert isinstance(event, RequestSucceeded)


def test_a_rate_limited_request_fails_when_the_refill_comes_after_its_deadline() -> None:
    client = toy(pacing=0.1)  # ten seconds to refill one token
    client.connection_made(0.0)
    rid = client.send(Op(op="buy"), 0.0, timeout=2.0)
    sent(client)
    client.receive_message(refuse(rid, RATE_LIMITED), 0.1)
    (event,) = client.events()
    assert isinstance(event, RequestFailed)
    assert isinstance(event.error, ToyError)


def test_a_request_on_the_wire_fails_with_the_connection_and_a_waiting_one_waits() -> None:
    client = toy(pacing=1.0)
    client.connection_made(0.0)
    on_wire = client.send(Op(op="a"), 0.0)
    waiting = client.send(Op(op="b"), 0.0)
    sent(client)
    client.connection_lost(0.5)
    (event,) = client.events()
    assert isinstance(event, RequestFailed)
    assert event.request_id == on_wire
    assert isinstance(event.error, ConnectionLost)
    client.connection_made(2.0)
    assert [m["id"] for m in sent(client)] == [waiting]


# -- authentication ------------------------------------------------------------------------


def test_a_login_goes_first_and_private_requests_wait_for_it() -> None:
    client = toy(auth="login")
    client.connection_made(0.0)
    rid = client.send(Op(op="account", private=True), 0.0)
    (login,) = sent(client)
    assert login["op"] == "login"
    client.receive_message(reply(login["id"], {"token": "t", "expires_in": 100}), 0.1)
    assert [m["id"] for m in sent(client)] == [rid]
    assert [type(e) for e in client.events()] == [Granted]


def test_a_login_is_refreshed_at_its_fraction_and_a_credentials_refusal_refreshes_now() -> None:
    client = toy(auth="login")
    client.connection_made(0.0)
    (login,) = sent(client)
    client.receive_message(reply(login["id"], {"token": "t", "expires_in": 100}), 0.0)
    client.events()
    assert client.next_deadline() == pytest.approx(80.0)
    rid = client.send(Op(op="account", private=True), 5.0)
    sent(client)
    client.receive_message(refuse(rid, CREDENTIALS), 5.1)  # the venue dropped the token
    assert ops(sent(client)) == ["refresh"]


def test_a_call_refused_for_its_token_goes_again_once_with_the_new_one() -> None:
    # The venue refused the token, so it did not execute the call: after the refresh the
    # same request (same id) goes again; refused again, it fails (no endless loop).
    client = toy(auth="login")
    client.connection_made(0.0)
    (login,) = sent(client)
    client.receive_message(reply(login["id"], {"token": "t", "expires_in": 100}), 0.0)
    client.events()
    rid = client.send(Op(op="account", private=True), 5.0)
    sent(client)
    client.receive_message(refuse(rid, CREDENTIALS), 5.1)
    (refresh,) = sent(client)  # the call waits for the new token
    assert refresh["op"] == "refresh"
    assert client.events() == []
    client.receive_message(reply(refresh["id"], {"token": "t2", "expires_in": 100}), 5.2)
    (again,) = sent(client)
    assert (again["id"], again["op"]) == (rid, "account")
    client.receive_message(refuse(rid, CREDENTIALS), 5.3)
    failed = [e for e in client.events() if isinstance(e, RequestFailed)]
    assert [e.request_id for e in failed] == [rid]


def test_a_refused_login_fails_the_requests_waiting_for_it() -> None:
    client = toy(auth="login")
    client.connection_made(0.0)
    rid = client.send(Op(op="account", private=True), 0.0)
    (login,) = sent(client)
    client.receive_message(refuse(login["id"], "bad-key"), 0.1)
    events = client.events()
    assert isinstance(events[0], AuthenticationFailed)
    assert isinstance(events[1], RequestFailed)
    assert events[1].request_id == rid


def test_a_handshake_token_is_renewed_by_reconnecting() -> None:
    # Rails: the JWT rides in the upgrade's subprotocol; a new one means a new connection.
    client = toy(auth="token", subscriptions="handshake")
    assert client.handshake.subprotocols == ("authorization#T1",)
    client.connection_made(0.0)
    auth = client.spec.auth
    assert isinstance(auth, TokenAuth)
    auth.issued("T2", 50.0)
    client.handle_timer(50.0)
    assert client.close_request == CloseRequest(
        code=1000, reason="renewing credentials", planned=True
    )
    client.connection_lost(50.1)
    auth.renew_at = None
    assert client.handshake.subprotocols == ("authorization#T2",)


# -- subscriptions ---------------------------------------------------------------------------


def test_request_subscriptions_are_chunked_and_a_silently_dropped_topic_is_named() -> None:
    client = toy(subscriptions="request")
    client.connection_made(0.0)
    rid = client.send(Sub(topics=("a", "b", "c", "d")), 0.0)
    first, second = sent(client)
    assert first["args"] == {"topics": ["a", "b", "c"]}
    client.receive_message(reply(first["id"], ["a", "c"]), 0.1)  # "b" left out
    client.receive_message(reply(second["id"], ["d"]), 0.1)
    events = client.events()
    rejected = [e for e in events if isinstance(e, SubscriptionRejected)]
    assert [e.topic for e in rejected] == ["b"]
    (done,) = [e for e in events if isinstance(e, RequestSucceeded)]
    assert done.request_id == rid
    assert done.result == SubscribeResult(active=("a", "c", "d"), rejected=tuple(rejected))


def test_stream_subscriptions_are_acked_by_their_first_message_and_remapped_after_reconnect() -> (
    None
):
    # Deriv: one request per stream, acked by its first tick, keyed by a venue id.
    client = toy(subscriptions="stream")
    client.connection_made(0.0)
    rid = client.send(Sub(topics=("ticks.R_50", "ticks.R_100")), 0.0)
    a, b = sent(client)
    client.receive_message(stream(a["id"], "s-1", "ticks.R_50", 1.0), 0.1)
    client.receive_message(stream(b["id"], "s-2", "ticks.R_100", 2.0), 0.1)
    client.receive_message(stream(a["id"], "s-1", "ticks.R_50", 1.5), 0.2)  # a later tick
    events = client.events()
    assert [type(e) for e in events].count(StreamMessage) == 3
    assert [e.topic for e in events if isinstance(e, SubscriptionActive)] == [
        "ticks.R_50",
        "ticks.R_100",
    ]
    assert any(isinstance(e, RequestSucceeded) and e.request_id == rid for e in events)
    assert client.ledger.remote_id("ticks.R_50") == "s-1"
    assert client.ledger.topic_for_remote("s-2") == "ticks.R_100"
    client.connection_lost(1.0)
    assert client.ledger.remote_id("ticks.R_50") is None
    client.connection_made(2.0)
    a2, b2 = sent(client)
    assert {a2["args"]["topics"][0], b2["args"]["topics"][0]} == {"ticks.R_50", "ticks.R_100"}
    client.receive_message(stream(a2["id"], "s-9", a2["args"]["topics"][0]), 2.1)
    assert client.ledger.topic_for_remote("s-9") == a2["args"]["topics"][0]


def test_a_venue_without_unsubscribe_drops_topics_by_reconnecting() -> None:
    # Currency.com has no unsubscribe: the machine reconnects and resubscribes the rest.
    client = toy(subscriptions="none")
    client.connection_made(0.0)
    client.send(Sub(topics=("depth.BTC", "depth.ETH")), 0.0)
    (request,) = sent(client)
    client.receive_message(reply(request["id"], ["depth.BTC", "depth.ETH"]), 0.1)
    client.events()
    rid = client.send(Unsub(topics=("depth.ETH",)), 1.0)
    assert client.close_request == CloseRequest(
        code=1000, reason="dropping subscriptions: the venue has no unsubscribe"
    )
    assert sent(client) == []
    client.connection_lost(1.1)
    events = client.events()
    assert any(
        isinstance(e, RequestSucceeded)
        and e.request_id == rid
        and e.result == UnsubscribeResult(ended=("depth.ETH",))
        for e in events
    )
    client.connection_made(2.0)
    (again,) = sent(client)
    assert again["args"] == {"topics": ["depth.BTC"]}


def test_handshake_topics_are_active_at_connect_and_changed_later_by_request() -> None:
    client = toy(subscriptions="handshake")
    client.send(Sub(topics=("orders", "trades")), 0.0)
    assert client.handshake.query == (("subscriptions", "orders,trades"),)
    client.connection_made(1.0)
    assert sent(client) == []  # nothing to send: the topics were in the upgrade
    assert sorted(client.ledger.active()) == ["orders", "trades"]
    events = client.events()
    assert [e.topic for e in events if isinstance(e, SubscriptionActive)] == ["orders", "trades"]
    assert any(isinstance(e, RequestSucceeded) for e in events)
    client.send(Sub(topics=("publicOrderBook",)), 2.0)
    (request,) = sent(client)
    assert request["op"] == "subscribe"
    client.receive_message(reply(request["id"], ["publicOrderBook"]), 2.1)
    client.connection_lost(3.0)
    assert client.handshake.query == (("subscriptions", "orders,trades,publicOrderBook"),)


def test_a_transient_refusal_of_a_subscribe_is_retried_not_taken_as_final() -> None:
    client = toy()
    client.connection_made(0.0)
    client.send(Sub(topics=("a",)), 0.0)
    (first,) = sent(client)
    client.receive_message(refuse(first["id"], TRANSIENT), 0.1)
    (again,) = sent(client)
    assert again["args"] == {"topics": ["a"]}
    assert not [e for e in client.events() if isinstance(e, SubscriptionRejected)]


def test_a_final_refusal_of_a_subscribe_rejects_its_topics() -> None:
    client = toy()
    client.connection_made(0.0)
    client.send(Sub(topics=("a",)), 0.0)
    (first,) = sent(client)
    client.receive_message(refuse(first["id"], "unknown-topic"), 0.1)
    assert sent(client) == []
    (rejected,) = [e for e in client.events() if isinstance(e, SubscriptionRejected)]
    assert rejected.topic == "a"


def test_unsubscribing_ends_the_topic() -> None:
    client = toy()
    client.connection_made(0.0)
    client.send(Sub(topics=("a",)), 0.0)
    (request,) = sent(client)
    client.receive_message(reply(request["id"], ["a"]), 0.1)
    client.send(Unsub(topics=("a",)), 1.0)
    (unsub,) = sent(client)
    assert unsub["op"] == "unsubscribe"
    client.receive_message(reply(unsub["id"], ["a"]), 1.1)
    assert [e.topic for e in client.events() if isinstance(e, SubscriptionEnded)] == ["a"]


def test_pushes_and_unknown_messages_are_events() -> None:
    client = toy()
    client.connection_made(0.0)
    client.receive_message(push("trades.BTC", [1, 2]), 0.1)
    client.receive_message(b'{"something": "else"}', 0.2)
    first, second = client.events()
    assert first.topic == "trades.BTC"  # type: ignore[attr-defined]
    assert second == {"something": "else"}


# -- liveness -------------------------------------------------------------------------------


def test_venue_probes_are_answered() -> None:
    client = toy(heartbeat="probes")
    client.connection_made(0.0)
    client.receive_message(b'{"probe": 1}', 1.0)
    assert ops(sent(client)) == ["pong"]
    assert client.events() == []
    assert Probe  # the type the heartbeat registers


def test_silence_past_the_limit_declares_the_peer_dead() -> None:
    client = toy(heartbeat="probes")
    client.connection_made(0.0)
    client.handle_timer(30.0)
    (event,) = client.events()
    assert isinstance(event, HeartbeatTimeout)
    assert client.close_request == CloseRequest(abort=True)


def test_pings_go_out_on_schedule_and_an_unanswered_one_declares_a_zombie() -> None:
    client = toy(heartbeat="pings")
    client.connection_made(0.0)
    (ping,) = sent(client)
    assert ping["op"] == "ping"
    client.receive_message(reply(ping["id"], "pong"), 0.2)
    assert client.next_deadline() == pytest.approx(20.0)
    client.handle_timer(20.0)
    (second,) = sent(client)
    assert second["op"] == "ping"
    client.handle_timer(25.0)  # no pong within 5 s
    (event,) = client.events()
    assert isinstance(event, PongTimeout)
    assert client.close_request == CloseRequest(abort=True)


def test_pings_do_not_count_against_the_callers_pending_bound() -> None:
    client = toy(heartbeat="pings", max_pending=1)
    client.connection_made(0.0)
    client.send(Op(op="a"), 0.0)
    with pytest.raises(LocalProtocolError, match="max_pending"):
        client.send(Op(op="b"), 0.0)


# -- the end of a session -------------------------------------------------------------------


def test_a_session_ending_request_ends_the_session_when_the_venue_closes() -> None:
    client = toy()
    client.connection_made(0.0)
    rid = client.send(Op(op="logout", ends_session=True), 0.0)
    sent(client)
    with pytest.raises(LocalProtocolError, match="session ended with logout"):
        client.send(Op(op="time"), 0.1)
    client.connection_lost(0.2)
    events = client.events()
    assert any(isinstance(e, RequestSucceeded) and e.request_id == rid for e in events)
    assert isinstance(events[-1], SessionEnded)
    assert client.session_ended
    client.connection_made(1.0)
    assert client.close_request == CloseRequest(code=1000, reason="session ended by logout")


# -- a policy's own requests, and handshake topics for continuity policies ----------------


class _Recorder:
    """A continuity policy that records what the machine tells it and asks for snapshots."""

    def __init__(self) -> None:
        self.host: Any = None
        self.resubscribed_topics: list[str] = []

    def handlers(self, host: Any) -> dict[type, Any]:
        self.host = host
        return {}

    def resubscribed(self, topic: str) -> None:
        self.resubscribed_topics.append(topic)

    def forget(self, topic: str) -> None:
        pass

    def connection_lost(self, keep: set[str]) -> None:
        pass


def test_a_policy_request_goes_out_resolves_silently_and_dies_with_the_connection() -> None:
    # Rails: a book snapshot comes only on request, so its continuity policy asks.
    recorder = _Recorder()
    client = toy(books=(recorder,))
    host = recorder.host
    assert host.request(Op(op="snapshot"), 0.0) is None  # no connection: nothing to ask on
    client.connection_made(0.0)
    rid = host.request(Op(op="snapshot"), 0.1)
    (message,) = sent(client)
    assert message == {"id": rid, "op": "snapshot", "args": {}}
    assert host.is_open(rid)
    assert client.pending == 1
    client.receive_message(reply(rid, {"book": []}), 0.2)
    assert not host.is_open(rid)
    assert client.events() == []  # the user asked nothing: nothing is reported
    again = host.request(Op(op="snapshot"), 0.3)
    client.connection_lost(0.4)
    assert not host.is_open(again)
    assert client.pending == 0
    assert client.events() == []


def test_a_policy_request_that_times_out_reports_nothing() -> None:
    recorder = _Recorder()
    client = toy(books=(recorder,), request_timeout=1.0)
    client.connection_made(0.0)
    rid = recorder.host.request(Op(op="snapshot"), 0.0)
    client.handle_timer(5.0)
    assert not recorder.host.is_open(rid)
    assert client.events() == []


def test_handshake_topics_are_acknowledged_to_continuity_policies_at_connect() -> None:
    recorder = _Recorder()
    client = toy(subscriptions="handshake", books=(recorder,))
    client.send(Sub(topics=("orders", "publicOrderBook")), 0.0)
    client.connection_made(1.0)
    assert recorder.resubscribed_topics == ["orders", "publicOrderBook"]
    client.connection_lost(2.0)
    client.connection_made(3.0)  # again on every connection: the books there are new
    assert recorder.resubscribed_topics == ["orders", "publicOrderBook"] * 2


def test_a_stream_the_venue_ends_by_itself_is_ended_or_subscribed_again() -> None:
    # Deriv: a sold contract's stream, a consumed quote, the ids a forget_all stopped.
    client = toy(subscriptions="stream")
    client.connection_made(0.0)
    client.send(Sub(topics=("ticks.R_50", "ticks.R_100")), 0.0)
    a, b = sent(client)
    client.receive_message(stream(a["id"], "s-1", "ticks.R_50"), 0.1)
    client.receive_message(stream(b["id"], "s-2", "ticks.R_100"), 0.1)
    client.events()
    assert client.venue_ended(["ticks.R_50", "ticks.unknown"], 0.2) == ["ticks.R_50"]
    assert [e.topic for e in client.events() if isinstance(e, SubscriptionEnded)] == ["ticks.R_50"]
    assert client.ledger.desired() == ["ticks.R_100"]
    assert client.ledger.topic_for_remote("s-1") is None
    assert sent(client) == []  # not wanted any more: nothing goes out
    # keep_desired: the venue ended it, the user still wants it: subscribed again
    assert client.venue_ended(["ticks.R_100"], 0.3, keep_desired=True) == ["ticks.R_100"]
    (again,) = sent(client)
    assert again["args"]["topics"] == ["ticks.R_100"]
    assert client.venue_ended(["ticks.R_100"], 0.4) == []  # not active: nothing ends
