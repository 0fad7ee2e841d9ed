"""Recording Deribit sessions: pinned configuration, redaction, commands in ``send``
lines, pseudo-events; every recording replays."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.conformance.deribit import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DeribitRecorder,
    DeribitTranscripts,
    TranscriptError,
    VenueHarness,
    replay_transcript,
)
from tradewire.conformance.deribit import strategies as ds
from tradewire.conformance.deribit._transcripts import STRICT_EVENTS
from tradewire.protocol import (
    HexNonces,
    LocalProtocolError,
    RemoteProtocolError,
    UuidIds,
    WebSocketClientStack,
)
from tradewire.protocol.deribit import (
    Buy,
    Credentials,
    GenericRequest,
    GetTicker,
    RateLimits,
    Subscribe,
    Unsubscribe,
    UnsubscribeAll,
)
from tradewire.protocol.deribit.server import (
    encode_result,
)


def rows(text: str) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in text.rstrip("\n").split("\n")]


def dump(lines: list[dict[str, Any]]) -> str:
    return "".join(msgspec.json.encode(line).decode() + "\n" for line in lines)


def demo(grant: str = "client_signature") -> Credentials:
    return Credentials(
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        grant_type=grant,  # type: ignore[arg-type]
    )


def venue_session(**options: Any) -> DeribitRecorder:
    """A short session against the reference venue: login, a book, a ticker."""
    harness = VenueHarness()
    options.setdefault("epoch_offset", harness.venue.epoch_offset)
    recorder = DeribitRecorder(**options)
    stack = WebSocketClientStack(
        recorder.machine, host="www.deribit.test", rng=random.Random(1), ping_interval=None
    )
    harness.connect(stack)
    harness.advance(0.125)
    stack.send(Subscribe(channels=["book.BTC-PERPETUAL.100ms"]), harness.now)
    harness.advance(0.25)
    stack.send(GetTicker(instrument_name="BTC-PERPETUAL"), harness.now)
    harness.advance(0.25)
    return recorder


@pytest.mark.parametrize("grant", ["client_signature", "client_credentials"])
def test_without_the_secret_the_file_holds_no_credential_and_still_replays(grant: str) -> None:
    text = venue_session(credentials=demo(grant)).dumps()
    assert DEMO_CLIENT_SECRET not in text
    lines = rows(text)
    assert lines[0]["client"]["credentials"] == {
        "client_id": DEMO_CLIENT_ID,
        "client_secret": None,
        "grant_type": grant,
        "data": "",
    }
    auth = next(r["out"] for r in lines if r.get("out", {}).get("method") == "public/auth")
    hidden = "signature" if grant == "client_signature" else "client_secret"
    assert auth["params"][hidden] == "<redacted>"
    report = replay_transcript(text)
    report.check()
    assert report.expectations >= 4


def test_with_the_secret_a_replay_is_byte_for_byte() -> None:
    text = venue_session(credentials=demo(), include_secret=True).dumps()
    assert DEMO_CLIENT_SECRET in text
    lines = rows(text)
    auth = next(r for r in lines if r.get("out", {}).get("method") == "public/auth")
    auth["out"]["params"]["signature"] = "<redacted>"  # no wildcard when the secret is kept
    mismatch = replay_transcript(dump(lines)).mismatch
    assert mismatch is not None
    assert "at $.params.signature" in mismatch.reason


def test_ids_and_nonces_from_injected_sources_are_pinned_in_the_header() -> None:
    recorder = venue_session(
        credentials=demo(),
        ids=UuidIds(random.Random(1)),
        nonces=HexNonces(random.Random(2)),
    )
    lines = rows(recorder.dumps())
    client = lines[0]["client"]
    sent = [r["out"]["id"] for r in lines if "out" in r]
    drawn = iter(client["ids"])  # a Subscribe draws an id too, but is never sent itself
    assert all(any(i == d for d in drawn) for i in sent)
    assert all(isinstance(i, str) and len(i) == 36 for i in client["ids"])
    auth = next(r["out"] for r in lines if r.get("out", {}).get("method") == "public/auth")
    assert client["nonces"] == [auth["params"]["nonce"]]
    replay_transcript(dump(lines)).check()
    client["ids"] = client["ids"][:2]  # the session needs more ids than the file pins
    mismatch = replay_transcript(dump(lines)).mismatch
    assert mismatch is not None
    assert "recorded ids are used up" in mismatch.reason


@pytest.mark.parametrize(
    "options",
    [
        {"rate_limits": None},
        {"rate_limits": RateLimits.tier(1, headroom=0.2)},
        {"maintain_books": True, "max_book_levels": 50},
        {"heartbeat_interval": None},
        {"heartbeat_interval": 30, "heartbeat_grace": 2.5, "request_timeout": 3.5},
        {"credentials": demo(), "scope": "session:replay", "refresh_fraction": 0.5},
    ],
)
def test_the_client_configuration_goes_through_the_header(options: dict[str, Any]) -> None:
    recorder = DeribitRecorder(include_secret=True, epoch_offset=12.5, **options)
    header = recorder.transcript().header
    rebuilt = DeribitTranscripts().build_client(header).options
    original = recorder.client.options
    for name in msgspec.structs.fields(original):
        if name.name not in ("ids", "nonces"):
            assert getattr(rebuilt, name.name) == getattr(original, name.name), name.name


@pytest.mark.parametrize(
    ("client", "problem"),
    [
        ({"colour": "blue"}, "unknown client option 'colour'"),
        ({"ids": "counter"}, "ids must be"),
        ({"nonces": "abc"}, "nonces must be null or a list"),
        ({"credentials": "key:secret"}, "credentials must be an object"),
        ({"rate_limits": {"headroom": 2}}, "headroom"),
        ({"heartbeat_interval": 5}, "heartbeat_interval"),
    ],
)
def test_a_header_the_client_cannot_be_built_from_is_not_a_transcript(
    client: dict[str, Any], problem: str
) -> None:
    header = {"transcript": 1, "venue": "deribit", "client": client}
    with pytest.raises(TranscriptError, match=problem):
        replay_transcript(msgspec.json.encode(header))


@settings(max_examples=200)
@given(
    st.one_of(
        ds.commands(),
        ds.channel_names().map(lambda c: Subscribe(channels=[c])),
        ds.channel_names().map(lambda c: Unsubscribe(channels=[c])),
        st.just(UnsubscribeAll()),
        st.just(GenericRequest(method="public/get_index_price_names", params={"x": [1]})),
    )
)
def test_commands_go_through_send_lines_unchanged(command: Any) -> None:
    adapter = DeribitTranscripts()
    name, fields = adapter.encode_command(command)
    line = msgspec.json.decode(msgspec.json.encode({"send": name, "fields": fields}))
    assert adapter.decode_command(line["send"], line["fields"]) == command


def test_unknown_or_invalid_commands_are_refused() -> None:
    adapter = DeribitTranscripts()
    with pytest.raises(ValueError, match="unknown command type 'Teleport'"):
        adapter.decode_command("Teleport", {})
    with pytest.raises(ValueError, match="instrument_name"):
        adapter.decode_command("GetTicker", {"instrument_name": 5})


@settings(max_examples=60, deadline=None)
@given(ds.invalid_server_messages())
def test_a_refused_venue_message_is_recorded_as_an_expected_error_and_replays(
    sample: ds.InvalidMessage,
) -> None:
    recorder = DeribitRecorder(heartbeat_interval=None)
    machine = recorder.machine
    machine.connection_made(1.0)
    with pytest.raises(RemoteProtocolError):
        machine.receive_message(sample.data, 2.0)
    lines = rows(recorder.dumps())
    assert lines[-1]["expect"] == "RemoteProtocolError"
    assert "message" in lines[-1]["fields"]
    replay_transcript(dump(lines)).check()


def test_a_heartbeat_timeout_records_the_event_and_the_close_request() -> None:
    recorder = DeribitRecorder(heartbeat_interval=10)
    machine = recorder.machine
    machine.connection_made(0.0)
    (heartbeat,) = machine.messages_to_send()
    request_id = msgspec.json.decode(heartbeat)["id"]
    machine.receive_message(encode_result(request_id, "ok", us_in=1, us_out=2), 0.5)
    machine.handle_timer(machine.next_deadline() or 0.0)
    lines = rows(recorder.dumps())
    names = [r["expect"] for r in lines if "expect" in r]
    assert names == ["HeartbeatTimeout", "CloseRequest"]
    assert lines[-1]["fields"] == {"code": 1000, "reason": "", "abort": True}
    assert lines[-1]["t"] == 15.5  # heard at 0.5, interval 10 plus grace 5
    replay_transcript(dump(lines)).check()
    lines[-2]["t"] = 15.0  # before the deadline: nothing has happened yet
    mismatch = replay_transcript(dump(lines)).mismatch
    assert mismatch is not None
    assert mismatch.reason.startswith("expected HeartbeatTimeout")


def test_a_refused_send_is_recorded_as_a_local_protocol_error() -> None:
    recorder = DeribitRecorder(heartbeat_interval=None)
    machine = recorder.machine
    machine.connection_made(0.0)
    with pytest.raises(LocalProtocolError, match="needs authentication"):
        machine.send(Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"), 1.0)
    lines = rows(recorder.dumps())
    assert lines[-2]["send"] == "Buy"
    assert "id" not in lines[-2]
    assert lines[-1]["expect"] == "LocalProtocolError"
    replay_transcript(dump(lines)).check()


def test_notifications_get_expectations_when_asked() -> None:
    plain = rows(venue_session(credentials=demo()).dumps())
    assert {r["expect"] for r in plain if "expect" in r} <= set(STRICT_EVENTS)
    text = venue_session(credentials=demo(), expect_notifications=True).dumps()
    lines = rows(text)
    books = [r for r in lines if r.get("expect") == "BookUpdate"]
    assert books
    assert books[0]["fields"]["channel"] == "book.BTC-PERPETUAL.100ms"
    assert books[0]["fields"]["data"]["type"] == "snapshot"
    replay_transcript(text).check()
    books[0]["fields"]["data"]["change_id"] += 1  # an expectation must be met
    mismatch = replay_transcript(dump(lines)).mismatch
    assert mismatch is not None
    assert "at $.data.change_id" in mismatch.reason
    lines = [r for r in rows(text) if r.get("expect") != "BookUpdate"]
    assert replay_transcript(dump(lines)).mismatch is None  # not strict: may go unexpected
    lines[0]["strict"].append("BookUpdate")
    mismatch = replay_transcript(dump(lines)).mismatch
    assert mismatch is not None
    assert mismatch.reason.startswith("the client reported BookUpdate")
