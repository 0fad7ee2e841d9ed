"""The canonical Rails transcripts: recorded again they equal the checked-in files, each
replays, each shows what it is about, and a tampered one fails clearly.

To record them again after an intended change of behaviour::

    TRADEWIRE_RECORD_TRANSCRIPTS=1 pytest tests/conformance/rails/test_transcripts.py
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradewire.conformance.rails import (
    CANONICAL_FLOWS,
    TRANSCRIPTS,
    TranscriptError,
    replay_transcript,
    transcript_file,
)

ROOT = Path(__file__).resolve().parents[3]
FOLDER = ROOT / "conformance" / "rails" / TRANSCRIPTS
NAMES = sorted(CANONICAL_FLOWS)


def checked_in(name: str) -> str:
    return transcript_file(name).read_text(encoding="utf-8")


def rows(name: str) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in checked_in(name).rstrip("\n").split("\n")]


def dump(lines: list[dict[str, Any]]) -> str:
    return "".join(msgspec.json.encode(line).decode() + "\n" for line in lines)


@pytest.mark.parametrize("name", NAMES)
def test_recording_the_flow_again_gives_the_checked_in_transcript(name: str) -> None:
    fresh = CANONICAL_FLOWS[name]()
    if os.environ.get("TRADEWIRE_RECORD_TRANSCRIPTS"):
        (FOLDER / f"{name}.jsonl").write_text(fresh, encoding="utf-8")
    old, new = checked_in(name).split("\n"), fresh.split("\n")
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        assert a == b, f"{name}.jsonl line {number} drifted:\n  file: {a}\n  now:  {b}"
    assert len(old) == len(new)


@pytest.mark.parametrize("name", NAMES)
def test_each_checked_in_transcript_replays(name: str) -> None:
    report = replay_transcript(checked_in(name))
    report.check()
    assert report.messages_in > 0
    assert report.messages_out > 0


def test_every_flow_has_a_file_and_every_file_a_flow() -> None:
    assert sorted(p.stem for p in FOLDER.glob("*.jsonl")) == NAMES
    with pytest.raises(KeyError, match="unknown flow"):
        transcript_file("nope")


def test_no_token_is_written_anywhere() -> None:
    for name in NAMES:
        text = checked_in(name)
        assert "eyJ" not in text  # a JWT starts with the base64 of '{"'
        header = rows(name)[0]
        assert header["client"]["token"] in (None, "<redacted>")


def test_the_token_flow_connects_with_the_query_streams_and_asks_its_snapshot() -> None:
    lines = rows("token_connect_book")
    sends = [r["send"] for r in lines if "send" in r]
    assert sends == ["UseToken"]
    outs = [r["out"]["message"] for r in lines if "out" in r]
    assert outs == ["emitPublicOrderBook", "ping"]
    active = [r["fields"]["topic"] for r in lines if r.get("expect") == "SubscriptionActive"]
    assert active == ["publicOrderBook", "publicTrades"]
    ins = [r["in"]["resultType"] for r in lines if "in" in r]
    assert ins[:2] == ["pong", "publicOrderBook"]
    assert set(ins[2:]) == {"publicOrderBookDelta"}


def test_the_order_lifecycle_shows_202_then_200_fills_cancel_and_rejection() -> None:
    lines = rows("order_lifecycle")
    ins = [
        (
            r["in"]["resultType"],
            r["in"]["data"].get("statusCode") if isinstance(r["in"]["data"], dict) else None,
        )
        for r in lines
        if "in" in r
    ]
    assert ins == [
        ("createOrder", 202), ("createOrder", 200),
        ("completedOrdersDelta", None), ("partialFillOrder", 200),
        ("cancelOrder", 202), ("cancelOrder", 200),
        ("createOrder", 202), ("createOrder", 200),
        ("createOrder", 202), ("createOrder", 200), ("rejectOrder", 400),
    ]  # fmt: skip
    accepted = [r for r in lines if r.get("expect") == "RequestAccepted"]
    succeeded = [r for r in lines if r.get("expect") == "RequestSucceeded"]
    assert len(accepted) == 4
    assert len(succeeded) == 5  # the token and the four requests, once each


def test_the_renewal_flow_reconnects_with_the_new_token_and_the_same_streams() -> None:
    lines = rows("reconnect_token_renewal")
    kinds = [r.get("expect") or r.get("connection") or r.get("send") for r in lines]
    kinds = [k for k in kinds if k is not None]  # not the messages and comments
    wanted = kinds.index("TokenWanted")
    assert kinds[wanted + 1 : wanted + 5] == [
        "UseToken", "RequestSucceeded", "CloseRequest", "lost",
    ]  # fmt: skip
    closes = [r["fields"] for r in lines if r.get("expect") == "CloseRequest"]
    assert closes[0]["reason"] == "renewing credentials"
    assert kinds.count("made") == 3
    assert kinds.count("SubscriptionActive") == 6  # the same two streams on every connection
    failed = [r["fields"] for r in lines if r.get("expect") == "RequestFailed"]
    assert [f["error"]["type"] for f in failed] == ["ConnectionLost"]


def test_a_tampered_transcript_fails_naming_the_line() -> None:
    lines = rows("order_lifecycle")
    for row in lines:
        if "out" in row:
            row["out"]["content"]["price"] = "1"
            break
    report = replay_transcript(dump(lines))
    assert report.mismatch is not None
    with pytest.raises(Exception, match="line"):
        report.check()
    with pytest.raises(TranscriptError, match="deribit"):
        replay_transcript(dump([{**lines[0], "venue": "deribit"}, *lines[1:]]))
