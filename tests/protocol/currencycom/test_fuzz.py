"""One fuzz invariant per machine (docs/architecture.md, "Habits worth copying"), with the
exported strategies (``tradewire.conformance.currencycom.strategies``): any input gives
events or a RemoteProtocolError (client), answers or events and never an exception
(server), and the machine stays usable.  Each property reports what its examples did."""

from __future__ import annotations

import msgspec
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tradewire.conformance.currencycom.strategies import (
    PushSample,
    client_inputs,
    pushes,
    server_inputs,
    topics,
)
from tradewire.protocol import RemoteProtocolError
from tradewire.protocol.currencycom import (
    ClientProtocol,
    DepthUpdate,
    GetServerTime,
    Subscribe,
    parse_topic,
)
from tradewire.protocol.currencycom.server import (
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
    SubscribeReceived,
)


@given(pushes())
def test_every_push_decodes_to_its_event(sample: PushSample) -> None:
    client = ClientProtocol()
    client.connection_made(0.0)
    client.receive_message(sample.data, 0.0)
    (decoded,) = client.events()
    event(type(decoded).__name__)
    if isinstance(decoded, DepthUpdate):
        event(
            "depth data as a JSON string"
            if b'"data": "' in sample.data
            else "depth data as an object"
        )
    assert decoded == sample.expected


@given(topics())
def test_every_generated_topic_parses(topic: str) -> None:
    assert parse_topic(topic).name == topic


@settings(max_examples=300)
@given(st.lists(client_inputs(), max_size=8))
def test_client_any_input_gives_events_or_a_remote_protocol_error(
    messages: list[bytes | str],
) -> None:
    client = ClientProtocol()
    client.connection_made(0.0)
    client.send(Subscribe(topics=("depth:BTC/USD",)), 0.0)
    for i in range(1, 21):  # the ids the strategies answer
        client.send(GetServerTime(), 0.0) if i > 3 else None
    client.messages_to_send()
    outcomes = []
    for data in messages:
        try:
            client.receive_message(data, 0.0)
            outcomes.append("accepted")
        except RemoteProtocolError:
            outcomes.append("rejected")
    kinds = {type(e).__name__ for e in client.events()}
    for name in sorted(kinds):
        event(f"reported {name}")
    for outcome in set(outcomes):
        event(f"a message {outcome}")
    request_id = client.send(GetServerTime(), 1.0)  # still usable
    assert msgspec.json.decode(client.messages_to_send()[-1])["correlationId"] == request_id


@settings(max_examples=300)
@given(st.lists(server_inputs(), max_size=8))
def test_server_any_input_is_answered_or_handed_on_and_the_socket_stays(
    messages: list[bytes | str],
) -> None:
    server = ServerProtocol(ServerState(ServerConfig()), peer="127.0.0.1:1")
    server.connection_made(0.0)
    for data in messages:
        server.receive_message(data, 0.0)  # never raises
    answers = [msgspec.json.decode(m) for m in server.messages_to_send()]
    events = server.events()
    handed = [e for e in events if isinstance(e, RequestReceived | SubscribeReceived)]
    for answer in answers:
        event("answered " + ("ok" if answer["status"] == "OK" else str(answer["payload"]["code"])))
    if handed:
        event("handed to the venue")
    assert len(answers) + len(handed) == len(messages)  # one outcome per message
    assert all(isinstance(a.get("correlationId"), str | None) for a in answers)
    assert server.is_open
