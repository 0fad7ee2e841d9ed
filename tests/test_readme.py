"""The README says what is true: the replay command it shows works on the transcripts it
says are shipped, the stream line format it shows is the one printed, the suite's
duration is stated, and every Performance row states its conditions."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tradewire.bindings._venue_spec import book_line, ticker_line, trade_line
from tradewire.bindings.cli import main
from tradewire.conformance.deribit import CANONICAL_FLOWS, transcript_file

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 3)
    return README[start : end if end > 0 else None]


def test_replay_is_documented_and_its_command_works(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = section("Replaying a transcript")
    [command] = re.findall(r"^tradewire replay (\S+\.jsonl)$", text, re.MULTILINE)
    assert (ROOT / command).is_file()
    shipped = sorted(p.stem for p in (ROOT / "conformance/deribit/transcripts").glob("*.jsonl"))
    assert shipped == sorted(CANONICAL_FLOWS)
    for name in shipped:
        assert f"`{name}`" in text
    assert "tradewire/conformance/deribit/transcripts/" in text
    assert transcript_file("reconnect").parent.name == "transcripts"
    monkeypatch.chdir(ROOT)
    assert main(["replay", command]) == 0
    assert capsys.readouterr().out.startswith(f"{command}: ok: deribit transcript")


def test_the_stream_line_format_shown_is_the_one_printed() -> None:
    text = section("Streaming from the command line")
    example = re.search(r"for example `(book \S+ bid \S+ ask \S+)`", text)
    assert example is not None
    assert example.group(1) == book_line(
        "book.BTC-PERPETUAL.100ms", (59998.0, 450.0), (59999.5, 100.0)
    )
    assert "book TOPIC bid PRICExAMOUNT ask PRICExAMOUNT" in text
    assert trade_line("TOPIC", "SIDE", 1.0, 2.0).replace("1x2", "PRICExAMOUNT") in text
    ticker = ticker_line("TOPIC", (1.0, 2.0), (1.0, 2.0), 3.0)
    assert ticker.replace("1x2", "PRICExAMOUNT").replace("last 3", "last PRICE") in text


def test_the_suite_duration_is_stated() -> None:
    marker = README.index("<!-- suite-duration -->")
    sentence = README[marker : README.index("\n\n", marker + 30)]
    match = re.search(
        r"takes about (\d+) minutes .*\(measured: (\d+) s\s+for (\d+) tests", sentence, re.S
    )
    assert match is not None, sentence
    minutes, seconds, tests = (int(g) for g in match.groups())
    assert abs(minutes * 60 - seconds) <= 60
    assert tests > 1000


def test_every_performance_row_states_its_conditions() -> None:
    text = section("Performance")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    header, *body = rows
    assert [c.strip() for c in header.strip("|").split("|")][:2] == ["what", "conditions"]
    assert len(body) >= 5
    for row in body:
        conditions = row.strip("|").split("|")[1]
        assert "books" in conditions, row
        assert "keepalive" in conditions or "no transport" in conditions, row
        assert "channel" in conditions, row
    assert os.path.exists(ROOT / "benchmarks" / "RESULTS.md")
