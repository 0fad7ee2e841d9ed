"""Client requests: every typed command, valid, encoded; the server decodes them back."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradewire.conformance.deribit import strategies as ds
from tradewire.protocol import Secret
from tradewire.protocol.deribit import (
    COMMANDS,
    Auth,
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
    DeribitCommand,
    Logout,
    command_type_for,
    encode_request,
)
from tradewire.protocol.deribit.server import (
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
    decode_params,
    decode_request,
)

CONCRETE = {cls for cls in COMMANDS.values() if cls is not Auth} | {
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
}


def test_every_typed_command_has_a_strategy() -> None:
    assert set(ds.command_types()) == CONCRETE


def test_commands_refuse_types_without_a_strategy() -> None:
    with pytest.raises(ValueError, match="no strategy for \\['Auth'\\]"):
        ds.commands([Auth])


@pytest.mark.parametrize("command_type", sorted(CONCRETE, key=lambda c: c.__name__))
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_each_command_type_gives_valid_commands_of_that_type(
    command_type: type[DeribitCommand], data: st.DataObject
) -> None:
    command = data.draw(ds.commands([command_type]))
    assert type(command) is command_type
    command.validate()  # what the venue itself would refuse is never generated
    fields = msgspec.structs.asdict(command)
    assert type(command)(**fields) == command  # construction validates too


@given(ds.commands(access_token=True))
def test_access_token_true_always_adds_the_param(command: DeribitCommand) -> None:
    assert isinstance(command.access_token, Secret)


@given(ds.commands(access_token=False))
def test_access_token_false_never_adds_it(command: DeribitCommand) -> None:
    assert command.access_token is None


@settings(max_examples=300)
@given(ds.requests())
def test_requests_decode_on_the_server_side_to_equal_commands(sample: ds.RequestSample) -> None:
    request = decode_request(sample.data)
    assert request.id == sample.request_id
    assert request.method == sample.command.method
    command_type = command_type_for(request.method)
    assert command_type is not None
    assert decode_params(command_type, request.params, request_id=request.id) == sample.command


@settings(max_examples=200)
@given(ds.with_unknown_fields(ds.requests()))
def test_unknown_fields_in_requests_are_ignored(sample: ds.RequestSample) -> None:
    request = decode_request(sample.data)
    assert request.id == sample.request_id
    command_type = command_type_for(request.method)
    assert command_type is not None
    assert decode_params(command_type, request.params) == sample.command
    message = msgspec.json.decode(sample.data)
    assert any(key.startswith("x_") for key in message) or any(
        key.startswith("x_") for key in message.get("params", {})
    )


def authenticated_server() -> ServerProtocol:
    state = ServerState(ServerConfig(), rng=random.Random(1))
    state.add_client("key", "secret")
    machine = ServerProtocol(state, peer="192.0.2.1:1000")
    machine.connection_made(0.0)
    login = AuthClientCredentials(client_id="key", client_secret="secret")
    machine.receive_message(encode_request(0, login), 0.0)
    assert b'"access_token"' in machine.messages_to_send()[0]
    return machine


@settings(max_examples=200, deadline=None)
@given(ds.requests(ds.commands([t for t in ds.command_types() if t is not Logout])))
def test_the_server_machine_answers_or_hands_out_each_request_exactly_once(
    sample: ds.RequestSample,
) -> None:
    machine = authenticated_server()
    machine.receive_message(sample.data, 1.0)
    answers = machine.messages_to_send()
    handed = [e for e in machine.events() if isinstance(e, RequestReceived)]
    assert len(answers) + len(handed) == 1, (answers, handed)
    if handed:
        assert handed[0].command == sample.command
        assert handed[0].wire_id == sample.request_id
    else:
        assert msgspec.json.decode(answers[0])["id"] == sample.request_id
    assert machine.is_open
