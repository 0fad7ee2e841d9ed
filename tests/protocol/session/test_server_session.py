"""The generic server machine: its phase table, the answer-once table, topics, timers and
closing, with a toy venue (Deribit's server runs on it too: ``tests/protocol/deribit``)."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tradewire.protocol import (
    AcceptUpgrade,
    CloseRequest,
    LocalProtocolError,
    RejectUpgrade,
    RequestId,
    UpgradeRequest,
)
from tradewire.protocol.session import (
    SERVER_TABLE,
    AcceptSubscription,
    Disconnect,
    Notify,
    Reply,
    ReplyError,
    ServerPhase,
    ServerSession,
    ServerSpec,
)


class Codec:
    def encode_result(
        self, wire_id: RequestId | None, result: Any, *, received_at: float, now: float
    ) -> bytes:
        return msgspec.json.encode({"id": wire_id, "result": result, "took": now - received_at})

    def encode_error(
        self,
        wire_id: RequestId | None,
        code: int | str,
        message: str,
        data: Any,
        *,
        received_at: float,
        now: float,
    ) -> bytes:
        return msgspec.json.encode({"id": wire_id, "error": {"code": code, "message": message}})

    def encode_notification(self, topic: str, data: Any, meta: Any) -> bytes:
        return msgspec.json.encode({"topic": topic, "data": data, "meta": meta})


def dispatch(session: ServerSession, data: bytes | str, now: float) -> None:
    request = msgspec.json.decode(data)
    op, wire_id = request["op"], request.get("id")
    if op == "echo":
        session.answer(wire_id, request.get("args"), now)
    elif op == "bad":
        session.fail(wire_id, "Nope", "refused", None, now)
    elif op == "pong":
        session.probe_answered()
    elif op == "limit":  # the request that breaks a rate limit
        body = Codec().encode_error(
            wire_id, "RateLimit", "slow down", None, received_at=now, now=now
        )
        session.close_after_answers(body, 1013, "rate limit", why="rate limit", now=now)
    elif op == "sub":
        session.hold(wire_id, now, candidates=request["args"], meta=request.get("meta"))
    else:
        session.hold(wire_id, now)


def upgrade(session: ServerSession, request: UpgradeRequest, now: float) -> Any:
    return AcceptUpgrade() if request.path == "/ws" else RejectUpgrade(status=404)


CLOSED: list[str] = []


def make(**spec: Any) -> ServerSession:
    fields: dict[str, Any] = {
        "codec": Codec(),
        "receive": dispatch,
        "upgrade": upgrade,
        "on_close": lambda s, why: CLOSED.append(why),
    }
    fields.update(spec)
    return ServerSession(ServerSpec(**fields), connection_id=7)


def call(
    session: ServerSession, op: str, wire_id: int = 1, now: float = 0.0, **fields: Any
) -> None:
    session.receive_message(msgspec.json.encode({"op": op, "id": wire_id, **fields}), now)


def out(session: ServerSession) -> list[Any]:
    return [msgspec.json.decode(m) for m in session.messages_to_send()]


# -- phases ---------------------------------------------------------------------------------


def new() -> ServerSession:
    return make()


def open_() -> ServerSession:
    session = make()
    session.connection_made(0.0)
    return session


def closing() -> ServerSession:
    session = open_()
    session.close(1000, "bye", why="test")
    return session


def closed() -> ServerSession:
    session = open_()
    session.connection_lost(1.0)
    return session


PHASES = {
    ServerPhase.NEW: new,
    ServerPhase.OPEN: open_,
    ServerPhase.CLOSING: closing,
    ServerPhase.CLOSED: closed,
}


def _held(session: ServerSession) -> int:
    if session.phase is not ServerPhase.OPEN:
        return -1
    call(session, "work", 9)
    return session.held.handles().pop()


@pytest.mark.parametrize("phase", list(ServerPhase), ids=lambda p: p.value)
@pytest.mark.parametrize("name", list(SERVER_TABLE))
def test_every_call_in_every_phase_does_what_the_table_says(phase: ServerPhase, name: str) -> None:
    session = PHASES[phase]()
    expected = SERVER_TABLE[name][phase]
    before = session.phase
    if name == "reply":
        if phase is ServerPhase.NEW:
            with pytest.raises(LocalProtocolError):
                session.reply(1, None, 0.0)
            return
        opened = open_()
        handle = _held(opened)
        if phase is ServerPhase.CLOSING:
            opened.close(1000, "", why="test")
        elif phase is ServerPhase.CLOSED:
            opened.connection_lost(1.0)
        opened.reply(handle, "r", 2.0)
        sent = out(opened)
        assert (sent != []) == (expected == "sent")
        return
    if name == "notify":
        session.activate(["t"])
        result = session.notify("t", 1, 0.0)
        assert result is (expected == "sent if active")
        return
    operations = {
        "connection_made": lambda: session.connection_made(0.0),
        "receive_message": lambda: call(session, "echo", 3, args=1),
        "handle_timer": lambda: session.handle_timer(100.0),
        "connection_lost": lambda: session.connection_lost(2.0),
    }
    if expected == "error":
        with pytest.raises(LocalProtocolError):
            operations[name]()
        assert session.phase is before
        return
    operations[name]()
    if expected.startswith("-> "):
        assert session.phase.value == expected[3:]
    elif expected == "dispatched":
        assert out(session) == [{"id": 3, "result": 1, "took": 0.0}]
    elif expected == "ignored":
        assert out(session) == []
    else:
        assert session.phase is before


# -- the answer-once table ---------------------------------------------------------------------


def test_a_held_request_is_answered_exactly_once() -> None:
    session = open_()
    call(session, "work", 41, now=1.0)
    (handle,) = session.held.handles()
    session.reply(handle, "done", 1.5)
    assert out(session) == [{"id": 41, "result": "done", "took": 0.5}]
    with pytest.raises(LocalProtocolError, match="already answered"):
        session.reply(handle, "again", 2.0)
    with pytest.raises(LocalProtocolError, match="unknown request_id"):
        session.reply_error(999, "X", 2.0)


def test_venue_errors_carry_the_venues_own_code_type() -> None:
    session = open_()
    call(session, "work", "a")
    call(session, "work", "b")
    first, second = sorted(session.held.handles())
    session.send(ReplyError(request_id=first, code="InvalidSymbol", message="no"), 1.0)
    session.send(ReplyError(request_id=second, code=-1121), 1.0)
    assert [m["error"]["code"] for m in out(session)] == ["InvalidSymbol", -1121]


def test_held_requests_are_bounded() -> None:
    session = make(max_pending=2)
    session.connection_made(0.0)
    call(session, "work", 1)
    call(session, "work", 2)
    assert not session.can_hold()
    with pytest.raises(LocalProtocolError, match="max_pending=2"):
        session.hold(3, 0.0)


def test_a_subscription_accepts_only_its_candidates_and_notifies_only_active_topics() -> None:
    session = open_()
    call(session, "sub", 5, args=["a", "b"], meta="label")
    (handle,) = session.held.handles()
    with pytest.raises(LocalProtocolError, match="were not candidates"):
        session.accept_subscription(handle, ["z"], 0.0)
    with pytest.raises(LocalProtocolError, match="subscribe call"):
        session.reply(handle, None, 0.0)
    session.send(AcceptSubscription(request_id=handle, channels=("b",)), 0.0)
    assert out(session) == [{"id": 5, "result": ["b"], "took": 0.0}]
    assert session.topics == {"b"}
    assert session.notify("b", 1, 0.0)
    assert not session.notify("a", 1, 0.0)
    session.send(Notify(channel="b", data=2), 0.0)
    assert out(session) == [
        {"topic": "b", "data": 1, "meta": "label"},
        {"topic": "b", "data": 2, "meta": "label"},
    ]
    assert session.deactivate(["b", "a"]) == ["b"]
    assert not session.notify("b", 3, 0.0)


# -- closing -------------------------------------------------------------------------------


def test_a_close_runs_the_venues_hook_once() -> None:
    CLOSED.clear()
    session = open_()
    session.send(Disconnect(code=4001, reason="maintenance"), 0.0)
    assert session.close_request == CloseRequest(code=4001, reason="maintenance")
    session.connection_lost(1.0)
    assert CLOSED == ["closed by venue"]


def test_answers_owed_before_a_rate_limit_close_go_out_first_in_the_venues_order() -> None:
    session = open_()
    for wire_id in (1, 2, 3):
        call(session, "work", wire_id)
    handles = sorted(session.held.handles())
    call(session, "limit", 4)
    call(session, "echo", 5)  # after the refusal: not read
    assert out(session) == []
    assert session.close_request is None
    for handle in reversed(handles):
        session.reply(handle, handle, 1.0)
    assert [m["id"] for m in out(session)] == [3, 2, 1, 4]
    assert session.close_request == CloseRequest(code=1013, reason="rate limit")


def test_answers_owed_are_waited_for_only_answers_grace_seconds() -> None:
    session = make(answers_grace=2.0)
    session.connection_made(0.0)
    call(session, "work", 1)
    call(session, "limit", 2, now=1.0)
    assert session.next_deadline() == 3.0
    session.handle_timer(3.0)
    assert [m["id"] for m in out(session)] == [2]
    assert session.close_request is not None


# -- timers --------------------------------------------------------------------------------


def test_an_idle_connection_is_closed() -> None:
    session = make(idle_timeout=30.0, idle_close=(1000, "idle", False))
    session.connection_made(0.0)
    call(session, "echo", 1, now=10.0)
    assert session.next_deadline() == 40.0
    session.handle_timer(40.0)
    assert session.close_request == CloseRequest(code=1000, reason="idle")
    assert session.close_reason == "idle timeout"


def test_an_idle_close_that_counts_pings_only() -> None:
    # A venue that closes a connection not *pinged* for 30 s (Currency.com): requests do
    # not restart the timer, alive() (the venue's ping) and a control-frame ping do.
    session = make(idle_timeout=30.0, idle_on_messages=False, idle_close=(1000, "idle", False))
    session.connection_made(0.0)
    call(session, "echo", 1, now=10.0)
    assert session.next_deadline() == 30.0
    session.alive(12.0)
    assert session.next_deadline() == 42.0
    session.ping_received(20.0)
    assert session.next_deadline() == 50.0
    call(session, "echo", 2, now=49.0)
    session.handle_timer(50.0)
    assert session.close_request == CloseRequest(code=1000, reason="idle")


def test_alive_and_ping_received_do_nothing_unless_open() -> None:
    session = make(idle_timeout=30.0, idle_on_messages=False)
    session.alive(5.0)
    session.ping_received(5.0)
    assert session.last_inbound == 0.0
    session.connection_made(10.0)
    session.close(1000, "bye", why="test")
    session.alive(20.0)
    assert session.last_inbound == 10.0


def test_active_topics_may_keep_a_connection_from_idling_out() -> None:
    session = make(idle_timeout=30.0, idle_with_topics=False)
    session.connection_made(0.0)
    session.activate(["t"])
    assert session.next_deadline() is None


def test_an_unanswered_probe_closes_the_connection() -> None:
    session = make(probe=lambda busy: [b"probe"], probe_close=(4000, "heartbeat close"))
    session.connection_made(0.0)
    session.start_probes(10.0, 0.0)
    session.handle_timer(10.0)
    assert session.messages_to_send() == [b"probe"]
    call(session, "pong", now=12.0)
    session.handle_timer(20.0)
    assert session.messages_to_send() == [b"probe"]
    assert session.close_request is None
    session.handle_timer(30.0)
    assert session.close_request == CloseRequest(code=4000, reason="heartbeat close")


def test_the_upgrade_rule_is_the_venues() -> None:
    session = make()
    request = UpgradeRequest(path="/other", query=(), subprotocols=(), headers=(), peer="1.2.3.4:5")
    assert session.decide_upgrade(request, 0.0) == RejectUpgrade(status=404)
    assert session.peer == "1.2.3.4:5"


def test_a_reply_command_is_a_reply() -> None:
    session = open_()
    call(session, "work", 8)
    (handle,) = session.held.handles()
    session.send(Reply(request_id=handle, result=[1]), 0.0)
    assert out(session) == [{"id": 8, "result": [1], "took": 0.0}]


@pytest.mark.parametrize("counted", [True, False])
def test_websocket_pings_count_as_activity_when_the_venue_says_so(counted: bool) -> None:
    session = make(idle_timeout=30.0, pings_are_activity=counted)
    session.connection_made(0.0)
    session.ping_received(20.0)
    assert session.next_deadline() == (50.0 if counted else 30.0)


def test_the_server_stack_reports_ping_frames_to_a_machine_that_asks() -> None:
    import random

    from tradewire.conformance._echo import EchoClient
    from tradewire.protocol import WebSocketClientStack, WebSocketServerStack
    from tradewire.protocol.transport._frames import OP_PING, encode_frame

    session = make(idle_timeout=30.0, pings_are_activity=True)
    stack = WebSocketServerStack(session)  # type: ignore[arg-type]
    stack.connection_made(0.0)
    client = WebSocketClientStack(EchoClient(), host="venue", rng=random.Random(1))
    client.connection_made(0.0)
    stack.receive_data(client.data_to_send(), 0.0)
    client.receive_data(stack.data_to_send(), 0.0)
    stack.receive_data(encode_frame(OP_PING, b"p", random.Random(2)), 25.0)
    assert session.last_inbound == 25.0
    assert session.next_deadline() == 55.0
