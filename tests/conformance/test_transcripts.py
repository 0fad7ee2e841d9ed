"""The venue-neutral transcript pieces: the format, the comparison, the recorder and the
replay runner, exercised with the echo machines (no venue logic involved)."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest

from tradewire.conformance import CloseMe, EchoClient, Note, Push, Say
from tradewire.conformance._transcripts import (
    MASK,
    Connection,
    Expect,
    Header,
    Message,
    Mismatch,
    Recorder,
    ReplayMismatch,
    Send,
    Transcript,
    TranscriptError,
    describe_event,
    json_difference,
    replay,
)
from tradewire.protocol import (
    ClientMachine,
    CloseRequest,
    Command,
    ConnectionLost,
    Handshake,
    RequestFailed,
    RequestSucceeded,
    RequestTimeout,
    Secret,
    VenueError,
)

COMMANDS: dict[str, type[Command]] = {"Say": Say, "Push": Push, "CloseMe": CloseMe}


class EchoAdapter:
    """The echo venue's part: its client takes ``timeout`` from the header."""

    venue = "echo"

    def build_client(self, header: Header) -> ClientMachine:
        return EchoClient(timeout=header.client.get("timeout", 5.0))

    def decode_command(self, name: str, fields: dict[str, Any]) -> Command:
        if name not in COMMANDS:
            raise ValueError(f"unknown command {name!r}")
        return msgspec.convert(fields, COMMANDS[name])

    def encode_command(self, command: Command) -> tuple[str, dict[str, Any]]:
        return type(command).__name__, msgspec.to_builtins(command)

    def redacted(self, header: Header) -> bool:
        return bool(header.client.get("redacted"))


def header(
    strict: tuple[str, ...] = ("RequestSucceeded", "RequestFailed"), **client: Any
) -> Header:
    return Header(venue="echo", client=client, strict=strict)


def recorder(**kwargs: Any) -> Recorder:
    return Recorder(EchoClient(), EchoAdapter(), header, **kwargs)


def session() -> str:
    """Connect, say hello (answered), ask for two notes, time out a request."""
    rec = recorder()
    machine = rec.machine
    machine.connection_made(1.0)
    assert machine.send(Say(text="hello"), 1.0) == 1
    assert machine.messages_to_send() == [b'{"id":1,"say":"hello"}']
    machine.receive_message(b'{"id":1,"echo":"hello"}', 1.5)
    machine.send(Push(count=2), 2.0)
    machine.receive_message(b'{"id":2,"echo":null}', 2.25)
    machine.receive_message(b'{"note":0}', 2.25)
    machine.receive_message(b'{"note":1}', 2.25)
    rec.comment("nobody answers the next one")
    machine.send(Say(text="anyone?"), 3.0)
    machine.handle_timer(8.0)  # its deadline: 3.0 + 5.0
    return rec.dumps()


def lines(text: str) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in text.rstrip("\n").split("\n")]


def dump(rows: list[dict[str, Any]]) -> str:
    return "".join(msgspec.json.encode(row).decode() + "\n" for row in rows)


def mismatch_of(text: str) -> Mismatch:
    report = replay(text, EchoAdapter())
    assert report.mismatch is not None, report
    return report.mismatch


# -- recording and replaying --------------------------------------------------------------


def test_a_recorded_session_has_the_documented_lines_in_the_machines_order() -> None:
    rows = lines(session())
    assert rows[0] == {
        "transcript": 1,
        "venue": "echo",
        "client": {},
        "strict": ["RequestSucceeded", "RequestFailed"],
    }
    assert rows[1] == {"t": 1.0, "connection": "made"}
    assert rows[2] == {"t": 1.0, "send": "Say", "fields": {"text": "hello"}, "id": 1}
    assert rows[3] == {"t": 1.0, "out": {"id": 1, "say": "hello"}}
    assert rows[4] == {"t": 1.5, "in": {"id": 1, "echo": "hello"}}
    assert rows[5]["expect"] == "RequestSucceeded"
    assert rows[5]["fields"] == {"request_id": 1, "command": "Say", "result": "hello"}
    notes = [r for r in rows if r.get("expect") == "Note"]
    assert [n["fields"] for n in notes] == [{"index": 0}, {"index": 1}]
    assert {"comment": "nobody answers the next one"} in rows
    timeout = rows[-1]
    assert timeout["t"] == 8.0
    assert timeout["expect"] == "RequestFailed"
    assert timeout["fields"]["error"]["type"] == "RequestTimeout"


def test_a_recorded_session_replays_and_the_report_counts_what_it_did() -> None:
    report = replay(session(), EchoAdapter())
    assert report.mismatch is None
    assert report.ok
    report.check()
    assert (report.messages_in, report.messages_out, report.sends) == (4, 3, 3)
    assert report.expectations == 5  # 3 answers (one a timeout) and 2 notes
    assert report.summary().startswith("ok: echo transcript, 4 messages in, 3 out")


def test_loads_and_dumps_round_trip_and_drop_comments() -> None:
    text = session()
    transcript = Transcript.loads(text)
    again = Transcript.loads(transcript.dumps())
    assert again.dumps() == transcript.dumps()
    assert again.header == transcript.header
    assert len(again.lines) == len(transcript.lines)
    assert "comment" not in transcript.dumps()
    assert transcript.messages_in == 4
    assert transcript.messages_out == 3
    assert transcript.expectations == 5
    kinds = [type(item) for item in transcript.lines[:4]]
    assert kinds == [Connection, Send, Message, Message]


def test_a_timer_event_is_expected_at_its_time_not_before() -> None:
    rows = lines(session())
    rows[-1]["t"] = 7.5  # before the deadline: the timeout has not happened yet
    mismatch = mismatch_of(dump(rows))
    assert mismatch.line == len(rows)
    assert "expected RequestFailed" in mismatch.reason
    assert "reported nothing" in mismatch.reason


def test_messages_that_are_not_json_are_kept_byte_for_byte() -> None:
    rec = recorder()
    machine = rec.machine
    machine.connection_made(0.0)
    with pytest.raises(Exception, match="invalid JSON"):
        machine.receive_message(b"not json", 1.0)
    with pytest.raises(Exception, match="invalid JSON"):
        machine.receive_message(b'{"id":\xff}', 2.0)
    rows = lines(rec.dumps())
    assert rows[2] == {"t": 1.0, "in": "not json", "encoding": "text"}
    assert rows[3]["expect"] == "RemoteProtocolError"
    assert rows[4] == {
        "t": 2.0,
        "in": base64.b64encode(b'{"id":\xff}').decode(),
        "encoding": "base64",
    }
    transcript = Transcript.loads(rec.dumps())
    assert [m.data for m in transcript.lines if isinstance(m, Message)] == [
        b"not json",
        b'{"id":\xff}',
    ]
    assert replay(transcript, EchoAdapter()).ok


def test_json_that_would_not_re_encode_the_same_is_kept_as_text() -> None:
    rec = recorder()
    rec.machine.connection_made(0.0)
    rec.machine.receive_message(b'{"note": 7}', 1.0)  # a space: JSON, but not compact
    row = lines(rec.dumps())[2]
    assert row == {"t": 1.0, "in": '{"note": 7}', "encoding": "text"}


def test_unsent_messages_die_with_the_connection_or_are_kept() -> None:
    for mode, later in (("drop", []), ("keep", [b'{"id":1,"say":"x"}'])):
        rec = recorder(unsent=mode)
        machine = rec.machine
        machine.connection_made(0.0)
        machine.send(Say(text="x"), 0.0)  # the driver never drains it
        machine.connection_lost(1.0)
        assert machine.messages_to_send() == later
        out = next(r for r in lines(rec.dumps()) if "out" in r)
        assert out.get("unsent", False) is (mode == "drop")
        assert replay(rec.dumps(), EchoAdapter()).ok


def test_a_close_request_is_recorded_as_a_pseudo_event() -> None:
    class Closing(EchoClient):
        def receive_message(self, data: bytes | str, now: float) -> None:
            super().receive_message(data, now)
            self.close_request = CloseRequest(code=4000, reason="bye")

    rec = Recorder(Closing(), EchoAdapter(), header)
    rec.machine.connection_made(0.0)
    rec.machine.receive_message(b'{"note":1}', 1.0)
    assert rec.machine.close_request is not None
    expects = [r for r in lines(rec.dumps()) if "expect" in r]
    assert expects[-1] == {
        "t": 1.0,
        "expect": "CloseRequest",
        "fields": {"code": 4000, "reason": "bye", "abort": False},
    }


def test_the_recording_machine_forwards_everything_else() -> None:
    rec = recorder()
    assert rec.machine.handshake == Handshake(path="/ws")
    assert rec.machine.next_deadline() is None
    assert rec.machine.connects == 0  # an attribute of the wrapped machine
    rec.machine.connection_made(0.0)
    assert rec.machine.connects == 1
    assert rec.machine.events() == []
    rec.machine.receive_message(b'{"note":3}', 0.0)
    assert rec.machine.events() == [Note(index=3)]


# -- what a replay reports --------------------------------------------------------------


def test_a_different_outbound_message_names_the_line_the_path_and_both_messages() -> None:
    rows = lines(session())
    rows[3]["out"]["say"] = "goodbye"
    mismatch = mismatch_of(dump(rows))
    assert mismatch.line == 4
    assert 'at $.say: expected "goodbye", got "hello"' in mismatch.reason
    assert mismatch.expected == '{"id":1,"say":"goodbye"}'
    assert mismatch.got == '{"id":1,"say":"hello"}'
    text = str(mismatch)
    assert text.startswith("line 4: the client sent a different message")
    assert '\n  expected: {"id":1,"say":"goodbye"}\n  got:      {"id":1,"say":"hello"}' in text


def test_an_outbound_message_the_client_did_not_send_is_reported() -> None:
    rows = lines(session())
    rows.insert(4, {"t": 1.0, "out": {"id": 9, "say": "extra"}})
    mismatch = mismatch_of(dump(rows))
    assert mismatch.line == 5
    assert mismatch.reason == "the client sent nothing by t=1.0"


def test_a_message_the_transcript_does_not_have_is_reported_at_the_next_step() -> None:
    rows = lines(session())
    del rows[3]  # the out line of "hello"
    mismatch = mismatch_of(dump(rows))
    assert mismatch.line == 4  # the in line that follows
    assert "the client sent a message at t=1.0 that the transcript does not have" in (
        mismatch.reason
    )
    assert mismatch.got == '{"id":1,"say":"hello"}'


def test_a_missing_strict_event_and_an_unexpected_one_are_reported() -> None:
    rows = lines(session())
    first = next(i for i, r in enumerate(rows) if r.get("expect") == "RequestSucceeded")
    del rows[first]
    mismatch = mismatch_of(dump(rows))
    assert (
        "the client reported RequestSucceeded at t=1.5, which the transcript does not expect"
        in (mismatch.reason)
    )
    rows = lines(session())
    rows[first]["fields"]["result"] = "HELLO"
    mismatch = mismatch_of(dump(rows))
    assert mismatch.line == first + 1
    assert mismatch.reason == (
        'expected RequestSucceeded with other fields (at $.result: expected "HELLO", got "hello")'
    )


def test_non_strict_events_may_go_unexpected_but_not_strict_ones_out_of_order() -> None:
    rows = [r for r in lines(session()) if r.get("expect") != "Note"]
    assert replay(dump(rows), EchoAdapter()).ok  # Note is not strict
    rows = lines(session())
    rows[0]["strict"] = ["Note"]
    notes = [i for i, r in enumerate(rows) if r.get("expect") == "Note"]
    rows[notes[0]], rows[notes[1]] = rows[notes[1]], rows[notes[0]]
    mismatch = mismatch_of(dump(rows))
    assert mismatch.line == notes[0] + 1
    assert mismatch.expected == 'Note {"index":1}'


def test_an_expectation_matches_a_subset_of_the_fields_recursively() -> None:
    rows = lines(session())
    timeout = rows[-1]
    timeout["fields"] = {"error": {"type": "RequestTimeout"}}
    assert replay(dump(rows), EchoAdapter()).ok
    timeout["fields"] = {"error": {"type": "ConnectionLost"}}
    assert "at $.error.type" in mismatch_of(dump(rows)).reason


def test_leftovers_after_the_last_line_are_reported_at_the_end() -> None:
    rows = lines(session())[:5]  # up to the answer to "hello", without its expectation
    mismatch = mismatch_of(dump(rows))
    assert mismatch.line == 0
    assert str(mismatch).startswith("end of transcript: the client reported RequestSucceeded")
    rows = lines(session())
    rows.pop()  # the timeout's expectation: the replay stops at the last line, before it
    assert replay(dump(rows), EchoAdapter()).ok


def test_send_checks_the_request_id_and_the_command() -> None:
    rows = lines(session())
    rows[2]["id"] = 7
    mismatch = mismatch_of(dump(rows))
    assert (mismatch.line, mismatch.reason) == (3, "send returned a different request id")
    assert (mismatch.expected, mismatch.got) == ("7", "1")
    rows = lines(session())
    rows[2]["send"] = "Shout"
    assert mismatch_of(dump(rows)).reason == "invalid command 'Shout': unknown command 'Shout'"


def test_a_client_that_raises_something_else_is_a_mismatch_not_a_crash() -> None:
    rows = lines(session())
    rows[2] = {"t": 1.0, "send": "Say", "fields": {"text": 5}}
    mismatch = mismatch_of(dump(rows))
    assert mismatch.line == 3
    assert mismatch.reason.startswith("invalid command 'Say'")


def test_protocol_errors_of_driving_calls_are_pseudo_events_to_expect() -> None:
    rows = lines(session())
    rows.insert(2, {"t": 1.0, "connection": "made"})  # made twice: EchoClient allows it
    rows.insert(5, {"t": 1.0, "in": "garbage", "encoding": "text"})
    assert replay(dump(rows), EchoAdapter()).ok  # not strict here: passed over
    rows[0]["strict"] = ["RemoteProtocolError"]
    mismatch = mismatch_of(dump(rows))
    assert mismatch.reason.startswith("the client reported RemoteProtocolError at t=1.0")
    rows.insert(6, {"expect": "RemoteProtocolError", "fields": {"message": "invalid JSON: "}})
    mismatch = mismatch_of(dump(rows))
    assert "expected RemoteProtocolError with other fields" in mismatch.reason
    rows[6]["fields"] = {}
    assert replay(dump(rows), EchoAdapter()).ok


def test_a_redacted_value_matches_anything_only_when_the_header_says_so() -> None:
    rows = lines(session())
    rows[3]["out"]["say"] = MASK
    assert "at $.say" in mismatch_of(dump(rows)).reason
    rows[0]["client"]["redacted"] = True
    assert replay(dump(rows), EchoAdapter()).ok


def test_check_raises_with_the_mismatch() -> None:
    rows = lines(session())
    rows[3]["out"]["id"] = 2
    report = replay(dump(rows), EchoAdapter())
    assert not report.ok
    assert report.summary().startswith("MISMATCH: echo transcript")
    with pytest.raises(ReplayMismatch, match="line 4") as caught:
        report.check()
    assert caught.value.mismatch == report.mismatch


# -- the format -----------------------------------------------------------------------

GOOD_HEADER = '{"transcript":1,"venue":"echo","client":{}}'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", None, "empty transcript"),
        ("\n\n", None, "empty transcript"),
        ("{", 1, "not JSON"),
        ('{"venue":"echo"}', 1, "the first line must be the header"),
        ('{"transcript":2,"venue":"echo","client":{}}', 1, "unsupported transcript format 2"),
        ('{"transcript":1,"client":{}}', 1, "invalid header"),
        ('{"transcript":1,"venue":"echo","client":{},"colour":1}', 1, "unknown key 'colour'"),
        (GOOD_HEADER + "\n[1]", 2, "every line must be a JSON object"),
        (GOOD_HEADER + '\n{"t":1}', 2, "exactly one of"),
        (GOOD_HEADER + '\n{"t":1,"in":1,"out":2}', 2, "exactly one of"),
        (GOOD_HEADER + '\n{"in":{}}', 2, "missing 't'"),
        (GOOD_HEADER + '\n{"t":"1","in":{}}', 2, "'t' must be a number"),
        (GOOD_HEADER + '\n{"t":true,"in":{}}', 2, "'t' must be a number"),
        (GOOD_HEADER + '\n{"t":1,"in":{},"colour":1}', 2, "unknown key 'colour' in a in line"),
        (GOOD_HEADER + '\n{"t":1,"in":1,"encoding":"hex"}', 2, "unknown encoding 'hex'"),
        (GOOD_HEADER + '\n{"t":1,"in":1,"encoding":"text"}', 2, "must be a string"),
        (GOOD_HEADER + '\n{"t":1,"in":"@@","encoding":"base64"}', 2, "not valid base64"),
        (GOOD_HEADER + '\n{"t":1,"out":{},"unsent":1}', 2, "'unsent' must be true or false"),
        (GOOD_HEADER + '\n{"t":1,"send":5}', 2, "'send' must name a command type"),
        (GOOD_HEADER + '\n{"t":1,"send":"Say","fields":[]}', 2, "'fields' must be an object"),
        (GOOD_HEADER + '\n{"t":1,"connection":"up"}', 2, "'connection' must be 'made' or"),
        (GOOD_HEADER + '\n{"expect":1}', 2, "'expect' must name an event type"),
        (GOOD_HEADER + '\n{"comment":"x","by":"me"}', 2, "unknown key 'by'"),
        (GOOD_HEADER + '\n{"t":2,"in":{}}\n{"t":1,"in":{}}', 3, "time goes backwards"),
    ],
)
def test_invalid_transcripts_name_the_line_and_the_problem(
    text: str, line: int | None, message: str
) -> None:
    with pytest.raises(TranscriptError, match=message) as caught:
        Transcript.loads(text)
    assert caught.value.line == line
    if line is not None:
        assert str(caught.value).startswith(f"line {line}: ")


def test_bytes_that_are_not_utf8_are_not_a_transcript() -> None:
    with pytest.raises(TranscriptError, match="not UTF-8"):
        Transcript.loads(b"\xff\xfe")


def test_blank_lines_and_comments_are_skipped_and_line_numbers_kept() -> None:
    text = GOOD_HEADER + '\n\n{"comment":"hi"}\n{"t":1,"connection":"made"}\n'
    transcript = Transcript.loads(text)
    assert transcript.lines == (Connection(line=4, t=1.0, state="made"),)


def test_a_transcript_of_another_venue_is_refused() -> None:
    with pytest.raises(TranscriptError, match="a 'deribit' transcript; this runner replays 'echo'"):
        replay('{"transcript":1,"venue":"deribit","client":{}}', EchoAdapter())


def test_a_header_the_adapter_cannot_build_a_client_from_is_invalid() -> None:
    with pytest.raises(TranscriptError, match="invalid client configuration"):
        replay('{"transcript":1,"venue":"echo","client":{"timeout":"soon"}}', EchoAdapter())


def test_expect_lines_may_omit_the_time() -> None:
    transcript = Transcript.loads(GOOD_HEADER + '\n{"expect":"Note","fields":{"index":1}}')
    assert transcript.lines == (Expect(line=2, event="Note", fields={"index": 1}),)


# -- the comparison ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expected", "got", "difference"),
    [
        ({"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}, None),  # key order has no meaning
        (1, 1.0, "at $: expected 1 (int), got 1.0 (float)"),
        (True, 1, "at $: expected true (bool), got 1 (int)"),
        (None, 0, "at $: expected null (null), got 0 (int)"),
        ({"a": 1}, {"a": 1, "b": 2}, "at $: unexpected key 'b' = 2"),
        ({"a": 1, "b": 2}, {"a": 1}, "at $: missing key 'b' (expected 2)"),
        ([1, 2], [1], "at $: expected 2 items, got 1"),
        ({"a": [{"b": "x"}]}, {"a": [{"b": "y"}]}, 'at $.a[0].b: expected "x", got "y"'),
        ({"a-b": 1}, {"a-b": 2}, "at $['a-b']: expected 1, got 2"),
    ],
)
def test_json_difference(expected: Any, got: Any, difference: str | None) -> None:
    assert json_difference(expected, got) == difference


def test_json_difference_subset_and_wildcard() -> None:
    assert json_difference({"a": {"b": 1}}, {"a": {"b": 1, "c": 2}, "d": 3}, subset=True) is None
    assert json_difference([{"b": 1}], [{"b": 1, "c": 2}], subset=True) is None
    assert json_difference({"s": MASK}, {"s": "secret"}, wildcard=True) is None
    assert json_difference({"s": MASK}, {"s": "secret"}) is not None


# -- events as JSON ---------------------------------------------------------------------


def test_describe_event_writes_commands_errors_and_secrets_readably() -> None:
    succeeded = RequestSucceeded(request_id=3, command=Say(text="x"), result={"k": Secret("s")})
    assert describe_event(succeeded) == (
        "RequestSucceeded",
        {"request_id": 3, "command": "Say", "result": {"k": MASK}},
    )
    venue = RequestFailed(request_id=4, command=Push(count=1), error=VenueError(7, "no", {"x": 1}))
    assert describe_event(venue)[1]["error"] == {
        "type": "VenueError",
        "code": 7,
        "message": "no",
        "data": {"x": 1},
    }
    lost = RequestFailed(request_id=5, command=Push(count=1), error=ConnectionLost("gone"))
    assert describe_event(lost)[1]["error"] == {"type": "ConnectionLost", "message": "gone"}
    timeout = RequestFailed(request_id=5, command=Push(count=1), error=RequestTimeout("late"))
    assert describe_event(timeout)[1]["error"]["type"] == "RequestTimeout"
    assert describe_event(Note(index=2)) == ("Note", {"index": 2})


def test_lines_end_at_newline_only_not_at_unicode_line_separators() -> None:
    rec = recorder()
    rec.machine.connection_made(0.0)
    rec.machine.send(Say(text="a\u2028b\x85c\x1cd"), 1.0)  # JSON keeps these unescaped
    text = rec.dumps()
    assert "\u2028" in text
    assert len(text.split("\n")) == 5  # header, made, send, out, and the final ""
    transcript = Transcript.loads(text)
    assert len(transcript.lines) == 3
    assert replay(transcript, EchoAdapter()).ok


def test_raw_json_inside_an_event_is_described_as_its_value() -> None:
    import msgspec

    from tradewire.conformance._transcripts import describe_event
    from tradewire.protocol import Event

    class Carried(Event, frozen=True, kw_only=True):
        echo: msgspec.Raw

    name, fields = describe_event(Carried(echo=msgspec.Raw(b'{"ticks":"R_50","req_id":3}')))
    assert (name, fields) == ("Carried", {"echo": {"ticks": "R_50", "req_id": 3}})
