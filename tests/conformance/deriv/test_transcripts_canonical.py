"""The canonical Deriv transcripts: each checked-in recording replays against a fresh
client, and recording the flow again gives the same file (behaviour drift shows up as
a diff; ``TRADEWIRE_RECORD_TRANSCRIPTS=1`` writes the new recording)."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import pytest

from tradewire.conformance._transcripts import Transcript
from tradewire.conformance.deriv import (
    CANONICAL_FLOWS,
    DerivRecorder,
    replay_transcript,
    transcript_file,
)
from tradewire.protocol import WebSocketClientStack
from tradewire.protocol import deriv as d


@pytest.mark.parametrize("name", sorted(CANONICAL_FLOWS))
def test_a_canonical_transcript_replays_and_records_the_same(name: str) -> None:
    path = Path(str(transcript_file(name)))
    recorded = CANONICAL_FLOWS[name]()
    if os.environ.get("TRADEWIRE_RECORD_TRANSCRIPTS") == "1":
        path.write_text(recorded)
    text = path.read_text()
    report = replay_transcript(text)
    assert report.mismatch is None, report.mismatch
    assert report.expectations > 0
    assert recorded == text


def test_the_reconnect_flow_authorizes_again_and_restores_the_same_streams_with_new_ids() -> None:
    lines = [
        msgspec.json.decode(line)
        for line in Path(str(transcript_file("authorize_ticks_reconnect"))).read_text().splitlines()
    ]
    made = [n for n, line in enumerate(lines) if line.get("connection") == "made"]
    assert len(made) == 2
    outs = [(n, line["out"]) for n, line in enumerate(lines) if "out" in line]
    first = [o for n, o in outs if n < made[1]]
    second = [o for n, o in outs if n > made[1]]
    assert next(iter(second[0])) == "authorize"  # authorize first on the new connection
    strip = lambda m: {k: v for k, v in m.items() if k != "req_id"}  # noqa: E731
    streams = lambda outs: [strip(o) for o in outs if o.get("subscribe") == 1]  # noqa: E731
    assert streams(second) == streams(first)  # exactly the same stream requests
    ids = [
        line["in"]["subscription"]["id"]
        for line in lines
        if "in" in line and "subscription" in line["in"]
    ]
    assert len(set(ids)) == 6  # three streams, each with a new id after the reconnect
    expects = [line["expect"] for line in lines if "expect" in line]
    assert expects.count("Authorized") == 2


def test_a_recording_without_the_token_replays_with_a_stand_in() -> None:
    from tradewire.conformance.deriv import DEMO_TOKEN, DerivVenue, VenueConfig, VenueHarness

    venue = DerivVenue(VenueConfig(seed=2), now=1000.0)
    harness = VenueHarness(venue)
    recorder = DerivRecorder(token=DEMO_TOKEN, ping_interval=None)
    stack = WebSocketClientStack(
        recorder.machine, host="x", rng=__import__("random").Random(1), ping_interval=None
    )
    harness.connect(stack)
    stack.send(d.Subscribe(streams=["balance"]), harness.now)
    harness.advance(1.0)
    text = recorder.dumps()
    assert DEMO_TOKEN not in text
    header = Transcript.loads(text).header
    assert header.client["token"] is None
    assert header.client["token_redacted"] is True
    assert replay_transcript(text).mismatch is None
