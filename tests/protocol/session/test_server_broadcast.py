"""One notification for many connections (:class:`Broadcast`): its body is encoded once
per distinct topic metadata and its WebSocket frame built once, whatever the venue."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

import tradewire.protocol.transport._frames as frames
from tradewire.protocol import AcceptUpgrade, RequestId, WebSocketServerStack
from tradewire.protocol.session import (
    Broadcast,
    Notify,
    ServerSession,
    ServerSpec,
)
from tradewire.protocol.transport._frames import OP_TEXT, SharedText, encode_frame

UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: venue.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


class CountingCodec:
    """A venue codec that counts the notifications it encodes."""

    notifications = 0

    def encode_result(
        self, wire_id: RequestId | None, result: Any, *, received_at: float, now: float
    ) -> bytes:
        return msgspec.json.encode({"id": wire_id, "result": result})

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
        return msgspec.json.encode({"id": wire_id, "error": code})

    def encode_notification(self, topic: str, data: Any, meta: Any) -> bytes:
        CountingCodec.notifications += 1
        return msgspec.json.encode({"topic": topic, "data": data, "meta": meta})


def session(number: int, meta: Any = None, *, made: bool = True) -> ServerSession:
    spec = ServerSpec(
        codec=CountingCodec(),  # one codec per connection, as Deribit's server has
        receive=lambda s, d, n: None,
        upgrade=lambda s, r, n: AcceptUpgrade(),
    )
    machine = ServerSession(spec, connection_id=number)
    if made:
        machine.connection_made(0.0)
    machine.activate(["t", "other"], meta)
    return machine


@pytest.fixture(autouse=True)
def _count() -> None:
    CountingCodec.notifications = 0


def test_a_broadcast_is_encoded_once_for_every_connection_with_the_same_meta() -> None:
    sessions = [session(i) for i in range(10)]
    shared = Broadcast({"price": 1.5})
    assert all(s.notify("t", shared, 0.0) for s in sessions)
    sent = [s.messages_to_send() for s in sessions]
    assert CountingCodec.notifications == 1
    assert shared.encodes == 1
    first = sent[0][0]
    assert isinstance(first, SharedText)
    assert all(out == [first] and out[0] is first for out in sent)  # the same object
    assert msgspec.json.decode(first) == {"topic": "t", "data": {"price": 1.5}, "meta": None}


def test_each_distinct_meta_or_topic_gets_its_own_body_and_unhashable_meta_its_own_copy() -> None:
    plain, labelled, other = session(1), session(2, "mine"), session(3, ["a list"])
    shared = Broadcast(7)
    for s in (plain, labelled, other):
        s.notify("t", shared, 0.0)
        s.notify("other", shared, 0.0)
    plain2 = session(4)
    plain2.notify("t", shared, 0.0)
    sent = [s.messages_to_send() for s in (plain, labelled, other)]
    bodies = [msgspec.json.decode(m) for out in sent for m in out]
    assert bodies == [
        {"topic": t, "data": 7, "meta": meta}
        for meta in (None, "mine", ["a list"])
        for t in ("t", "other")
    ]
    assert plain2.messages_to_send()[0] is sent[0][0]  # same topic and meta: shared
    assert shared.encodes == 4  # (t, None), (other, None), (t, mine), (other, mine)
    assert CountingCodec.notifications == 6  # and the unhashable meta's two, not shared


def test_a_broadcast_goes_only_where_its_topic_is_active_and_through_a_notify_command() -> None:
    on, off = session(1), session(2)
    off.deactivate(["t"])
    command = Notify(channel="t", data=Broadcast([1, 2]))
    on.send(command, 0.0)
    off.send(command, 0.0)
    assert [msgspec.json.decode(m)["data"] for m in on.messages_to_send()] == [[1, 2]]
    assert off.messages_to_send() == []


def stack(number: int) -> tuple[WebSocketServerStack, ServerSession]:
    machine = session(number, made=False)  # the stack connects it after the upgrade
    made = WebSocketServerStack(machine)
    made.connection_made(0.0)
    made.receive_data(UPGRADE, 0.0)
    assert made.data_to_send().startswith(b"HTTP/1.1 101")
    return made, machine


def test_server_stacks_share_one_frame_of_a_broadcast(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []

    def counted(opcode: int, payload: bytes, rng: Any) -> bytes:
        calls.append(payload)
        return encode_frame(opcode, payload, rng)

    monkeypatch.setattr(frames, "encode_frame", counted)
    pairs = [stack(i) for i in range(5)]
    shared = Broadcast("tick")
    for ws, machine in pairs:
        assert machine.notify("t", shared, 0.0)
        ws.flush(0.0)
    wire = [ws.data_to_send() for ws, _ in pairs]
    body = msgspec.json.encode({"topic": "t", "data": "tick", "meta": None})
    assert calls == [body]  # framed once for five connections
    assert wire == [encode_frame(OP_TEXT, body, None)] * 5
    # a message of one connection alone is framed for it
    first, machine = pairs[0]
    machine.notify("t", "own", 0.0)
    first.flush(0.0)
    assert len(calls) == 2
    assert first.data_to_send().endswith(b'"own","meta":null}')
