"""The canonical Deribit transcripts: recorded again they equal the checked-in files,
each replays, they show what they are about, and a tampered one fails clearly.

To record them again after an intended change of behaviour::

    TRADEWIRE_RECORD_TRANSCRIPTS=1 pytest tests/conformance/deribit/test_transcripts_canonical.py
"""

from __future__ import annotations

import glob
import os
import tomllib
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradewire.conformance.deribit import (
    CANONICAL_FLOWS,
    TRANSCRIPTS,
    replay_transcript,
    transcript_file,
)

ROOT = Path(__file__).resolve().parents[3]
FOLDER = ROOT / "conformance" / "deribit" / TRANSCRIPTS
NAMES = sorted(CANONICAL_FLOWS)


def checked_in(name: str) -> str:
    return transcript_file(name).read_text(encoding="utf-8")


def rows(name: str) -> list[dict[str, Any]]:
    return [msgspec.json.decode(line) for line in checked_in(name).rstrip("\n").split("\n")]


def dump(lines: list[dict[str, Any]]) -> str:
    return "".join(msgspec.json.encode(line).decode() + "\n" for line in lines)


def out_methods(lines: list[dict[str, Any]]) -> list[str]:
    return [r["out"]["method"] for r in lines if "out" in r]


def expects(lines: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [r["fields"] for r in lines if r.get("expect") == name]


@pytest.mark.parametrize("name", NAMES)
def test_recording_the_flow_again_gives_the_checked_in_transcript(name: str) -> None:
    fresh = CANONICAL_FLOWS[name]()
    if os.environ.get("TRADEWIRE_RECORD_TRANSCRIPTS"):
        (FOLDER / f"{name}.jsonl").write_text(fresh, encoding="utf-8")
    old, new = checked_in(name).split("\n"), fresh.split("\n")
    for number, (a, b) in enumerate(zip(old, new, strict=False), start=1):
        assert a == b, (
            f"{name}.jsonl line {number} drifted (set TRADEWIRE_RECORD_TRANSCRIPTS=1 to "
            f"record it again if the change is intended):\n  file: {a}\n  now:  {b}"
        )
    assert len(old) == len(new), f"{name}.jsonl: {len(old)} lines, recorded now: {len(new)}"


@pytest.mark.parametrize("name", NAMES)
def test_each_checked_in_transcript_replays(name: str) -> None:
    report = replay_transcript(checked_in(name))
    report.check()
    assert report.messages_in > 0
    assert report.messages_out > 0


def test_every_flow_has_a_file_and_every_file_a_flow() -> None:
    assert sorted(p.stem for p in FOLDER.glob("*.jsonl")) == NAMES
    for name in NAMES:
        # The installed package's copy (site-packages in CI) is the checked-in file.
        shipped = transcript_file(name).read_text(encoding="utf-8")
        assert shipped == (FOLDER / f"{name}.jsonl").read_text(encoding="utf-8")
    with pytest.raises(KeyError, match="unknown flow 'nope'"):
        transcript_file("nope")


def test_the_wheel_ships_the_transcripts() -> None:
    """What setuptools does with package-data: a glob relative to the package folder (the
    transcripts folder is a data package of its own; tests/test_packaging.py builds the
    wheel and looks)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    package = "tradewire.conformance.deribit.transcripts"
    assert package in config["tool"]["setuptools"]["packages"]
    package_data = config["tool"]["setuptools"]["package-data"]
    patterns = package_data.get("*", []) + package_data.get(package, [])
    shipped = {Path(p).resolve() for pattern in patterns for p in glob.glob(str(FOLDER / pattern))}
    assert {p.resolve() for p in FOLDER.glob("*.jsonl")} <= shipped


def test_every_transcript_is_recorded_against_the_reference_venue() -> None:
    for name in NAMES:
        header = rows(name)[0]
        assert header["venue"] == "deribit"
        assert header["server"].startswith("tradewire reference venue (DeribitVenue)")
        assert header["client"]["ids"] == 1  # pinned: a counter from 1
        assert header["client"]["nonces"] is None  # the client's default, pinned by time
        assert "BookGap" in header["strict"]


# -- what each flow is about ---------------------------------------------------------------


def test_book_gap_resync_shows_a_gap_and_the_resync_of_that_channel_only() -> None:
    lines = rows("book_gap_resync")
    methods = out_methods(lines)
    assert methods[:2] == ["public/auth", "public/set_heartbeat"]
    assert methods[2:] == [
        "private/subscribe",
        "public/subscribe",
        "private/unsubscribe",
        "private/subscribe",
    ]
    resync = [r["out"]["params"].get("channels") for r in lines if "out" in r][-2:]
    assert resync == [["book.BTC-PERPETUAL.raw"], ["book.BTC-PERPETUAL.raw"]]
    (gap,) = expects(lines, "BookGap")
    (resynced,) = expects(lines, "BookResynced")
    assert gap["channel"] == resynced["channel"] == "book.BTC-PERPETUAL.raw"
    assert gap["got"] != gap["expected"]
    eth = [
        r["in"]["params"]["data"]
        for r in lines
        if "in" in r and r["in"].get("params", {}).get("channel") == "book.ETH-PERPETUAL.100ms"
    ]
    chain = [(d.get("prev_change_id"), d["change_id"]) for d in eth]
    assert all(prev == before for (prev, _), (_, before) in zip(chain[1:], chain, strict=False))


def test_order_lifecycle_shows_buy_edit_partial_fill_and_cancel() -> None:
    lines = rows("order_lifecycle")
    methods = out_methods(lines)
    assert [m for m in methods if m.startswith("private/") and "subscribe" not in m] == [
        "private/buy",
        "private/edit",
        "private/cancel",
    ]
    results = [f["result"] for f in expects(lines, "RequestSucceeded") if "order" in f["result"]]
    assert [r["order"]["price"] for r in results] == [59_990.0, 59_995.0]
    cancelled = expects(lines, "RequestSucceeded")[-1]["result"]
    assert cancelled["order_state"] == "cancelled"
    assert cancelled["filled_amount"] == 40.0
    fills = [
        trade
        for r in lines
        if "in" in r and r["in"].get("params", {}).get("channel", "").startswith("user.trades")
        for trade in r["in"]["params"]["data"]
    ]
    assert [(t["amount"], t["price"], t["direction"]) for t in fills] == [(40.0, 59_995.0, "buy")]


def test_heartbeats_answers_every_test_request_with_public_test() -> None:
    lines = rows("heartbeats")
    tests = [
        i
        for i, r in enumerate(lines)
        if "in" in r and r["in"].get("params", {}).get("type") == "test_request"
    ]
    assert len(tests) >= 3
    for index in tests:
        answer = lines[index + 1]
        assert answer["t"] == lines[index]["t"]
        assert answer["out"]["method"] == "public/test"
    assert not expects(lines, "HeartbeatTimeout")
    assert out_methods(lines)[0] == "public/set_heartbeat"


def test_reconnect_logs_in_before_the_private_resubscribe_and_resubscribes_exactly() -> None:
    lines = rows("reconnect")
    states = [r["connection"] for r in lines if "connection" in r]
    assert states == ["made", "lost", "made"]
    lost = next(i for i, r in enumerate(lines) if r.get("connection") == "lost")
    before, after = lines[:lost], lines[lost:]
    (failed,) = expects(after, "RequestFailed")
    assert failed["command"] == "GetTicker"
    assert failed["error"]["type"] == "ConnectionLost"
    methods = out_methods(after)
    assert methods.index("public/auth") < methods.index("private/subscribe")
    login = next(r["out"]["id"] for r in after if r.get("out", {}).get("method") == "public/auth")
    answered = [i for i, r in enumerate(after) if "in" in r and r["in"].get("id") == login]
    private = next(
        i for i, r in enumerate(after) if r.get("out", {}).get("method") == "private/subscribe"
    )
    assert answered[0] < private  # the private resubscribe waits for the login's answer

    def channels(part: list[dict[str, Any]]) -> list[str]:
        return sorted(
            c
            for r in part
            if "subscribe" in r.get("out", {}).get("method", "")
            for c in r["out"]["params"]["channels"]
        )

    assert channels(after) == channels(before)
    assert len(expects(after, "Authenticated")) == 1
    assert expects(after, "BookResynced")[0]["dropped"] == 0


# -- tampering ------------------------------------------------------------------------------


def index_of(lines: list[dict[str, Any]], predicate: Any) -> int:
    return next(i for i, r in enumerate(lines) if predicate(r))


def test_a_tampered_outbound_message_fails_with_the_line_and_both_values() -> None:
    lines = rows("order_lifecycle")
    at = index_of(lines, lambda r: r.get("out", {}).get("method") == "private/edit")
    lines[at]["out"]["params"]["price"] = 60_000.0
    report = replay_transcript(dump(lines))
    assert report.mismatch is not None
    text = str(report.mismatch)
    assert text.startswith(
        f"line {at + 1}: the client sent a different message "
        "(at $.params.price: expected 60000.0, got 59995.0)"
    )
    assert '"price":60000.0' in (report.mismatch.expected or "")
    assert '"price":59995.0' in (report.mismatch.got or "")


def test_a_tampered_inbound_message_changes_what_the_client_reports() -> None:
    lines = rows("book_gap_resync")
    at = index_of(
        lines,
        lambda r: (
            "in" in r
            and r["in"].get("params", {}).get("channel") == "book.ETH-PERPETUAL.100ms"
            and "prev_change_id" in r["in"]["params"]["data"]
        ),
    )
    lines[at]["in"]["params"]["data"]["prev_change_id"] -= 1  # the chain now breaks here
    mismatch = replay_transcript(dump(lines)).mismatch
    assert mismatch is not None
    assert mismatch.line == at + 2  # the client's resync shows before the next line
    assert mismatch.reason == (
        f"the client sent a message at t={lines[at]['t']!r} that the transcript does not "
        "have before this line"
    )
    unsubscribe = msgspec.json.decode(mismatch.got or "null")
    assert unsubscribe["method"] == "public/unsubscribe"
    assert unsubscribe["params"] == {"channels": ["book.ETH-PERPETUAL.100ms"]}


def test_a_missing_answer_leaves_the_client_waiting_and_that_is_reported() -> None:
    lines = rows("reconnect")
    at = index_of(lines, lambda r: "in" in r and r["in"].get("id") == 1)  # the first login
    del lines[at]
    report = replay_transcript(dump(lines))
    assert report.mismatch is not None
    assert report.mismatch.line == at + 1
    assert "Authenticated" in str(report.mismatch)


def test_a_removed_expectation_is_an_unexpected_event() -> None:
    lines = rows("book_gap_resync")
    at = index_of(lines, lambda r: r.get("expect") == "BookGap")
    del lines[at]
    mismatch = replay_transcript(dump(lines)).mismatch
    assert mismatch is not None
    assert mismatch.line == at + 1
    assert mismatch.reason.startswith("the client reported BookGap at t=")
    assert (mismatch.got or "").startswith('BookGap {"channel":"book.BTC-PERPETUAL.raw"')
