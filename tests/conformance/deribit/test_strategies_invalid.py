"""Invalid input: a client refuses bad venue messages with ``RemoteProtocolError`` and
nothing else; a server answers each bad request with exactly one error."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradewire.conformance.deribit import strategies as ds
from tradewire.protocol import RemoteProtocolError
from tradewire.protocol.deribit import (
    ClientProtocol,
    Heartbeat,
    command_type_for,
    decode_inbound,
)
from tradewire.protocol.deribit.server import (
    RejectedRequest,
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
    decode_params,
    decode_request,
    encode_heartbeat,
)


@settings(max_examples=500)
@given(ds.invalid_server_messages())
def test_invalid_venue_messages_raise_remote_protocol_error(sample: ds.InvalidMessage) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_inbound(sample.data)


@pytest.mark.parametrize("kind", ds.INVALID_MESSAGE_KINDS)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_kind_of_invalid_venue_message(kind: str, data: st.DataObject) -> None:
    sample = data.draw(ds.invalid_server_messages([kind]))
    assert sample.kind == kind
    assert sample.reason
    with pytest.raises(RemoteProtocolError):
        decode_inbound(sample.data)


@settings(max_examples=300, deadline=None)
@given(ds.invalid_server_messages())
def test_the_client_machine_refuses_them_and_nothing_else_and_stays_usable(
    sample: ds.InvalidMessage,
) -> None:
    client = ClientProtocol(heartbeat_interval=None)
    client.connection_made(0.0)
    with pytest.raises(RemoteProtocolError):
        client.receive_message(sample.data, 1.0)
    assert client.events() == []
    assert client.messages_to_send() == []
    client.receive_message(encode_heartbeat("heartbeat"), 2.0)
    assert client.events() == []  # a heartbeat needs no answer and is no event
    assert client.connected


def test_heartbeats_are_not_events_but_decode() -> None:
    assert decode_inbound(encode_heartbeat("heartbeat")) == Heartbeat()


def fresh_server() -> ServerProtocol:
    state = ServerState(ServerConfig(), rng=random.Random(1))
    machine = ServerProtocol(state, peer="192.0.2.1:1000")
    machine.connection_made(0.0)
    return machine


@settings(max_examples=500, deadline=None)
@given(ds.invalid_requests())
def test_the_server_machine_answers_each_invalid_request_with_exactly_one_error(
    sample: ds.InvalidRequest,
) -> None:
    machine = fresh_server()
    machine.receive_message(sample.data, 1.0)
    (answer,) = machine.messages_to_send()
    message = msgspec.json.decode(answer)
    assert message["error"]["code"] == sample.code
    assert "result" not in message
    if sample.request_id is None:
        assert "id" not in message
    else:
        assert message["id"] == sample.request_id
    assert not [e for e in machine.events() if isinstance(e, RequestReceived)]
    assert machine.is_open


def decode_all(data: bytes) -> None:
    """What a server does with a request before it acts on it."""
    request = decode_request(data)
    command_type = command_type_for(request.method)
    assert command_type is not None
    decode_params(command_type, request.params, request_id=request.id)


@pytest.mark.parametrize("kind", ds.INVALID_REQUEST_KINDS)
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_each_kind_of_invalid_request(kind: str, data: st.DataObject) -> None:
    sample = data.draw(ds.invalid_requests([kind]))
    assert sample.kind == kind
    if kind == "unknown_method":
        request = decode_request(sample.data)
        assert command_type_for(request.method) is None  # the server's -32601
        assert request.id == sample.request_id
        return
    with pytest.raises(RejectedRequest) as rejected:
        decode_all(sample.data)
    assert rejected.value.error.code == sample.code
    assert rejected.value.request_id == sample.request_id


def test_the_kinds_are_checked() -> None:
    with pytest.raises(ValueError, match="invalid kind 'rude'"):
        ds.invalid_server_messages(["rude"])
    with pytest.raises(ValueError, match="invalid kind 'rude'"):
        ds.invalid_requests(["rude"])
