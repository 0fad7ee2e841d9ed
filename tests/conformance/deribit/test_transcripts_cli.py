"""``tradewire replay FILE``: a summary and 0, the first mismatch and 1, a bad file and 2."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradewire.bindings._venues import REGISTRY
from tradewire.bindings.cli import main
from tradewire.conformance.deribit import replay_transcript, transcript_file

KNOWN = ", ".join(name for name, e in REGISTRY.items() if e.transcripts is not None)
"""The venues with transcripts, as the registry lists them."""


def canonical(name: str = "order_lifecycle") -> str:
    return transcript_file(name).read_text(encoding="utf-8")


def tampered() -> tuple[str, int]:
    """The order flow with the edit's price changed, and the line it is on."""
    rows: list[dict[str, Any]] = [
        msgspec.json.decode(line) for line in canonical().rstrip("\n").split("\n")
    ]
    at = next(i for i, r in enumerate(rows) if r.get("out", {}).get("method") == "private/edit")
    rows[at]["out"]["params"]["price"] = 1.5
    return "".join(msgspec.json.encode(r).decode() + "\n" for r in rows), at + 1


def write(tmp_path: Path, text: str | bytes, name: str = "flow.jsonl") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_matching_transcript_prints_one_summary_line_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, canonical())
    assert main(["replay", str(path)]) == 0
    out, err = capsys.readouterr()
    summary = replay_transcript(canonical()).summary()
    assert summary.startswith("ok: deribit transcript, 11 messages in, 6 out, 4 commands sent")
    assert out == f"{path}: {summary}\n"
    assert err == ""


def test_a_mismatch_prints_the_line_and_both_sides_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, line = tampered()
    path = write(tmp_path, text)
    assert main(["replay", str(path)]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{path}: mismatch at line {line}: the client sent a different")
    assert "at $.params.price: expected 1.5, got 59995.0" in lines[0]
    assert lines[1].startswith('  expected: {"jsonrpc":"2.0","id":6,"method":"private/edit"')
    assert lines[2].startswith('  got:      {"jsonrpc":"2.0","id":6,"method":"private/edit"')
    assert "Traceback" not in out + err


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read {path}: No such file or directory"),
        ("", "{path}: not a valid transcript: empty transcript: no header line"),
        ("{not json\n", "{path}: not a valid transcript: line 1: not JSON"),
        (b"\xff\xfe\x00", "{path}: not a valid transcript: not UTF-8 text"),
        (
            '{"transcript":1,"venue":"kraken","client":{}}\n',
            "{path}: not a valid transcript: line 1: unknown venue 'kraken'; known: " + KNOWN,
        ),
        (
            '{"transcript":1,"venue":"deribit","client":{"ids":"x"}}\n',
            "{path}: not a valid transcript: line 1: invalid client configuration",
        ),
    ],
)
def test_a_missing_or_invalid_file_prints_one_line_and_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | bytes | None,
    problem: str,
) -> None:
    path = tmp_path / "flow.jsonl" if content is None else write(tmp_path, content)
    assert main(["replay", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("tradewire replay: error: " + problem.format(path=path))


def test_a_directory_is_not_readable_as_a_transcript(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replay", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"tradewire replay: error: cannot read {tmp_path}")


def test_dash_reads_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(canonical("heartbeats").encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert main(["replay", "-"]) == 0
    assert capsys.readouterr().out.startswith("-: ok: deribit transcript, 10 messages in")


def test_the_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("tradewire")
    assert script.exists(), f"no console script next to {sys.executable}"
    good = subprocess.run(
        [str(script), "replay", str(write(tmp_path, canonical("reconnect"), "good.jsonl"))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.endswith(f": {replay_transcript(canonical('reconnect')).summary()}\n")
    text, line = tampered()
    bad = subprocess.run(
        [str(script), "replay", str(write(tmp_path, text, "bad.jsonl"))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 1
    assert f"mismatch at line {line}: " in bad.stdout
    assert bad.stderr == ""
