"""The fuzz invariant of both Deriv machines, on the exported strategies
(``tradewire.conformance.deriv.strategies``): any input gives events or
``RemoteProtocolError``, nothing else, and the machine stays usable.  Each test reports
with ``event()`` what share of its examples did the interesting thing."""

from __future__ import annotations

import random

import msgspec
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from tradewire.conformance.deriv import strategies as ds
from tradewire.protocol import RemoteProtocolError, RequestSucceeded, UpgradeRequest
from tradewire.protocol import deriv as d
from tradewire.protocol.deriv.server import (
    Account,
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
)


def _client() -> d.ClientProtocol:
    machine = d.ClientProtocol(ping_interval=None, rate_limits=None)
    machine.connection_made(0.0)
    return machine


def _tick(sub: str) -> bytes:
    tick = {"epoch": 0, "quote": 1.0, "symbol": "R_10", "pip_size": 2, "id": sub}
    echo = {"ticks": "R_10", "subscribe": 1, "req_id": 1}
    body = {"echo_req": echo, "msg_type": "tick", "req_id": 1, "subscription": {"id": sub}}
    return msgspec.json.encode({**body, "tick": tick})


_WRONG = msgspec.json.encode(
    {
        "echo_req": {"proposal": 1, "req_id": 2},
        "error": {"code": "WrongResponse", "message": "m"},
        "msg_type": "proposal",
        "req_id": 2,
    }
)


@settings(max_examples=300, deadline=None)
@given(data=st.lists(st.one_of(ds.messages(), ds.invalid_messages()), min_size=1, max_size=8))
@example(data=[_tick("a" * 32), _tick("b" * 32), _tick("c" * 32), _WRONG])  # a resubscribe goes too
def test_the_client_takes_any_input_as_events_or_remote_protocol_error(data: list[bytes]) -> None:
    machine = _client()
    machine.send(d.Subscribe(streams=["ticks.R_50"]), 0.0)
    machine.messages_to_send()
    for message in data:
        try:
            machine.receive_message(message, 0.1)
        except RemoteProtocolError:
            event("RemoteProtocolError")
            continue
        for item in machine.events():
            event(type(item).__name__)
    # still usable
    rid = machine.send(d.Time(), 1.0)
    out = [msgspec.json.decode(m) for m in machine.messages_to_send()]
    # Beside it may go the machine's own requests (a stream it subscribes again after a
    # transient WrongResponse); the new request goes out once.
    assert [r for r in out if r["req_id"] == rid] == [{"time": 1, "req_id": rid}]
    machine.receive_message(
        msgspec.json.encode({"echo_req": {}, "msg_type": "time", "req_id": rid, "time": 5}), 1.1
    )
    assert any(isinstance(e, RequestSucceeded) and e.result == 5 for e in machine.events())


@settings(max_examples=200, deadline=None)
@given(message=ds.messages())
def test_valid_messages_decode_to_their_typed_class(message: bytes) -> None:
    decoded = d.decode_message(message)
    raw = msgspec.json.decode(message)
    if "error" in raw:
        event("error")
        assert isinstance(decoded, d.ErrorMessage)
        assert decoded.error.code == raw["error"]["code"]
    else:
        event(raw["msg_type"])
        assert isinstance(decoded, d.DerivMessage)
        assert decoded.msg_type == raw["msg_type"]
        assert decoded.req_id == raw["req_id"]


def _server() -> ServerProtocol:
    state = ServerState(
        ServerConfig(tokens={"tok": Account(loginid="VRTC1")}, budgets=None), rng=random.Random(2)
    )
    machine = ServerProtocol(state)
    machine.decide_upgrade(
        UpgradeRequest(
            path="/websockets/v3", query=(("app_id", "1"),), subprotocols=(), headers=()
        ),
        0,
    )
    machine.connection_made(0.0)
    return machine


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(
        st.one_of(
            ds.requests().map(msgspec.json.encode),
            ds.invalid_requests().map(lambda pair: msgspec.json.encode(pair[0])),
            st.binary(max_size=40),
            st.dictionaries(
                st.text(max_size=8),
                st.one_of(st.integers(), st.text(max_size=5), st.none()),
                max_size=4,
            ).map(msgspec.json.encode),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_the_server_answers_any_input_or_closes_and_never_raises(data: list[bytes]) -> None:
    machine = _server()
    for message in data:
        machine.receive_message(message, 1.0)
        if machine.close_request is not None:
            event("closed (invalid JSON)")
            break
        for frame in machine.messages_to_send():
            answer = msgspec.json.decode(frame)
            assert "msg_type" in answer
            assert isinstance(answer["echo_req"], dict)
            event("error reply" if "error" in answer else "reply")
        for item in machine.events():
            assert isinstance(item, RequestReceived)
            event("handed to the venue")
            machine.reply_error(item.request_id, "WrongResponse", 1.0)


@settings(max_examples=200, deadline=None)
@given(pair=ds.invalid_requests())
def test_each_invalid_request_gets_its_error_code(pair: tuple[dict[str, object], str]) -> None:
    request, code = pair
    machine = _server()
    machine.receive_message(msgspec.json.encode(request), 1.0)
    (answer,) = [msgspec.json.decode(m) for m in machine.messages_to_send()]
    event(code)
    assert answer["error"]["code"] == code
    if code == "UnrecognisedRequest":
        assert answer["msg_type"] == "error"


@settings(max_examples=200, deadline=None)
@given(topic=ds.stream_topics())
def test_topics_round_trip_through_their_commands(topic: str) -> None:
    command = d.parse_topic(topic)
    event(type(command).__name__)
    assert d.topic_of(d.parse_topic(d.topic_of(command))) == d.topic_of(command)


@settings(max_examples=200, deadline=None)
@given(request=ds.requests())
def test_valid_requests_validate_to_the_command_they_came_from(request: dict[str, object]) -> None:
    from tradewire.protocol.deriv.server import find_call, validate

    call = find_call(request)
    assert call is not None
    event(call)
    command, streaming = validate(call, request)
    assert not streaming
    assert d.request_fields(command) == {k: v for k, v in request.items() if k != "req_id"}
