"""``tradewire demo``: the README's quickstart command in a subprocess (bounded), and its
failure path in-process (a milestone that never comes is one line and exit 1)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tradewire.bindings import _cli_demo
from tradewire.bindings.cli import main

SCRIPT = Path(sys.executable).with_name("tradewire")


def command(*args: str) -> list[str]:
    if SCRIPT.exists():
        return [str(SCRIPT), "demo", *args]
    code = "import sys; from tradewire.bindings.cli import main; sys.exit(main())"
    return [sys.executable, "-c", code, "demo", *args]


def test_the_demo_rides_through_a_gap_and_a_reconnect_and_trades() -> None:
    started = time.monotonic()
    done = subprocess.run(command(), capture_output=True, text=True, timeout=60, check=False)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    assert took < 20
    lines = done.stdout.splitlines()
    assert re.fullmatch(
        r"tradewire demo: reference Deribit venue at ws://127\.0\.0\.1:\d+/ws/api/v2 "
        r"\(seed 1, faults gap:book\.BTC-PERPETUAL\.100ms@2s#1,disconnect@4s#1\)",
        lines[0],
    )
    live = [line for line in lines if re.match(r"\s+\d+\.\ds  msgs \d+ \(\d+/s\)", line)]
    assert len(live) >= 3  # one a second while it runs
    assert "latency p50" in live[-1]
    assert lines[-1] == "tradewire demo: ok"
    summary = {line.split()[0]: line.strip() for line in lines[lines.index(_summary(lines)) + 1 :]}
    assert re.search(r"BTC-PERPETUAL [\d,.]+ / [\d,.]+", summary["top"])
    assert re.match(
        r"messages +\d+ decoded \(\d+ msg/s\): book \d+, ticker \d+", summary["messages"]
    )
    assert re.search(
        r"buy 10 @ [\d,.]+ -> open \(id \d+\); edit -> 20 @ [\d,.]+ open, replaced; "
        r"cancel -> cancelled",
        summary["order"],
    )
    assert re.match(
        r"reconnects +1 \(connection dropped: 1006 by transport\); authenticated 2x, "
        r"subscriptions 3 active of 3 desired",
        summary["reconnects"],
    )
    assert re.match(
        r"gaps +1 detected; books resynced \d+ \(1 after the gap, [1-9]\d* after the reconnect\)",
        summary["gaps"],
    )
    assert re.match(
        r"requests +\d+ answered, latency p50 [\d.]+ ms max [\d.]+ ms", summary["requests"]
    )


def _summary(lines: list[str]) -> str:
    [line] = [line for line in lines if line.startswith("tradewire demo: summary after ")]
    return line


def test_a_step_that_does_not_happen_fails_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_cli_demo, "FAULTS", "")  # no gap will come ...
    monkeypatch.setattr(_cli_demo, "GAP_BY", 1.0)  # ... and it is waited for 1 s
    started = time.monotonic()
    code = main(["demo"])
    out, err = capsys.readouterr()
    assert code == 1
    assert time.monotonic() - started < 10
    assert err == "tradewire demo: error: timed out: no resync after the book gap by 1s\n"
    assert "-> cancelled" not in out  # no summary: the demo stopped at the failed step
    assert "tradewire demo: ok" not in out
