"""``tradewire stream | replay | demo rails`` as a user runs them (subprocesses, bounded):
the stream prints the maintained books of every market and never the token; without an
API key it is a one-line usage error; a canonical transcript replays; the demo rides
through a dropped connection and a token renewal.  (``serve rails`` is in
``test_rails_plain_client.py``.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tradewire.conformance.rails import transcript_file

SCRIPT = Path(sys.executable).with_name("tradewire")
NO_CREDENTIALS = {k: v for k, v in os.environ.items() if not k.startswith("TRADEWIRE_")}
DEMO = dict(
    NO_CREDENTIALS,
    TRADEWIRE_CLIENT_ID="tradewire-demo",
    TRADEWIRE_CLIENT_SECRET="tradewire-demo-secret",
)
BOOK_LINE = re.compile(
    r"book publicOrderBook\.(BTC|ETH)-USDT? bid \d+(\.\d+)?x\d+(\.\d+)? ask \d+(\.\d+)?x\d+(\.\d+)?"
)


def run(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    if SCRIPT.exists():
        command = [str(SCRIPT), *args]
    else:
        code = "import sys; from tradewire.bindings.cli import main; sys.exit(main())"
        command = [sys.executable, "-c", code, *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


def test_stream_rails_prints_every_markets_book_and_never_the_token() -> None:
    done = run("stream", "rails", "publicOrderBook", "publicTrades", "--count", "8", env=DEMO)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 8
    books = [line for line in lines if line.startswith("book ")]
    assert books
    assert all(BOOK_LINE.fullmatch(line) for line in books), books
    assert {line.split()[1] for line in books} >= {"publicOrderBook.BTC-USD"}
    assert "streaming 2 channel(s)" in done.stderr
    assert "authorization#<redacted>" in done.stderr  # the Connected status line
    assert "eyJ" not in done.stderr + done.stdout  # no JWT anywhere


def test_stream_rails_without_an_api_key_is_a_usage_error() -> None:
    done = run("stream", "rails", "publicOrderBook", "--count", "1", env=NO_CREDENTIALS)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "needs an authenticated connection" in line
    done = run("stream", "rails", "book", "--count", "1", env=DEMO)
    assert done.returncode == 2
    assert "invalid stream 'book'" in done.stderr


def test_replay_a_rails_transcript() -> None:
    path = str(transcript_file("reconnect_token_renewal"))
    done = run("replay", path, env=NO_CREDENTIALS)
    assert done.returncode == 0, done.stderr
    assert ": ok: rails transcript" in done.stdout


def test_demo_rails_rides_through_a_drop_and_a_token_renewal() -> None:
    done = run("demo", "rails", env=NO_CREDENTIALS, timeout=90)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert re.fullmatch(
        r"tradewire demo: reference Rails venue at ws://127\.0\.0\.1:\d+/ \(seed 1, faults "
        r"disconnect@3s#1, 8 s tokens\)",
        lines[0],
    )
    text = "\n".join(lines)
    assert re.search(r"order \w{26} active at \d+ \(202, then 200\)", text)
    assert re.search(r"order \w{26} cancelled \(202, then 200\)", text)
    assert "reconnected, the four streams restored" in text
    assert "token renewed: reconnected with it" in text
    assert "  tokens fetched 2, renewals 1" in lines
    assert lines[-1] == "tradewire demo: ok"
