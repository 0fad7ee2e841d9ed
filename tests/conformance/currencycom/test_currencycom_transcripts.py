"""Currency.com's canonical transcripts (docs/venues/currencycom.md): recorded again they
equal the checked-in files, they replay, and a replay catches a client that differs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tradewire.conformance.currencycom import CANONICAL_FLOWS, replay_transcript, transcript_file


@pytest.mark.parametrize("name", sorted(CANONICAL_FLOWS))
def test_a_canonical_flow_records_as_checked_in_and_replays(name: str) -> None:
    recorded = CANONICAL_FLOWS[name]()
    path = transcript_file(name)
    if os.environ.get("TRADEWIRE_RECORD_TRANSCRIPTS") == "1":
        Path(str(path)).write_text(recorded)
    assert recorded == path.read_text()
    report = replay_transcript(recorded)
    assert report.mismatch is None


def test_the_flows_show_what_they_promise() -> None:
    reconnect = transcript_file("depth_trades_reconnect").read_text()
    assert reconnect.count('"connection":"made"') == 2
    subscribes = [
        json.loads(line)["out"]
        for line in reconnect.splitlines()
        if '"out"' in line and "subscribe" in line
    ]
    first, again = subscribes[:2], subscribes[2:]
    assert [s["destination"] for s in first] == [s["destination"] for s in again]
    assert [s["payload"] for s in first] == [s["payload"] for s in again]
    assert "internal.trade" in reconnect
    assert "marketdepth.event" in reconnect
    signed = transcript_file("signed_order_lifecycle").read_text()
    assert signed.count('"signature"') == 5
    pings = transcript_file("ping_idle_close").read_text()
    assert '"expect":"PongTimeout"' in pings
    assert '"destination":"ping"' in pings


def test_a_changed_signature_is_a_mismatch() -> None:
    text = transcript_file("signed_order_lifecycle").read_text()
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if '"signature"' in line and '"out"' in line:
            row = json.loads(line)
            row["out"]["payload"]["signature"] = "0" * 64
            lines[i] = json.dumps(row, separators=(",", ":")) + "\n"
            break
    report = replay_transcript("".join(lines))
    assert report.mismatch is not None
    assert "signature" in str(report.mismatch)


def test_tradewire_replay_runs_a_currencycom_transcript() -> None:
    path = str(transcript_file("depth_trades_reconnect"))
    done = subprocess.run(
        [sys.executable, "-m", "tradewire.bindings.cli", "replay", path],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ok: currencycom transcript" in done.stdout
