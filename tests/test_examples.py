"""The runnable examples under ``examples/``, each run against the reference venue.

``custom_transport.py`` (the README's custom-transport example) is run twice: as a
program, and in this process with its socket instrumented, to check what a custom
transport must do: send a command, wait on ``next_deadline()``, call ``handle_timer``,
ride through a dropped connection, and do no socket I/O while the stack backs off.
"""

from __future__ import annotations

import importlib.util
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tradewire.bindings import sync as tw
from tradewire.bindings._venues import REGISTRY, connection_factory, start_reference
from tradewire.conformance.market import MarketConfig
from tradewire.protocol import (
    Connected,
    ReconnectDue,
    ReconnectScheduled,
    RequestSucceeded,
    StackState,
    WebSocketClientStack,
    WebSocketClosed,
    deribit,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "custom_transport.py"
SMALL = MarketConfig(weekly_expiries=1, quarterly_expiries=1, option_expiries=1, option_strikes=1)


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def venue_url() -> Iterator[str]:
    """The reference venue, dropping its first connection after 1 s (no close frame)."""
    entry = REGISTRY["deribit"]
    venue = start_reference(
        entry,
        now=time.monotonic(),
        epoch_offset=tw.epoch_offset(),
        faults="disconnect@1s#1",
        market=SMALL,
    )
    with tw.serve(connection_factory(entry, venue), on_events=venue.on_events, app=venue) as server:
        yield entry.urls.ws_url("127.0.0.1", server.port)


def test_the_example_runs_as_a_program(venue_url: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), venue_url, "--seconds", "4"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum("Connected" in line for line in lines) == 2  # the first, then a reconnect
    assert any("WebSocketClosed" in line and "1006" in line for line in lines)
    assert any("RequestSucceeded" in line for line in lines)


class Recorded:
    """A socket that logs each operation with the stack's state at that moment."""

    def __init__(self, inner: Any, log: list[tuple[str, StackState]], stack: Any) -> None:
        self.inner, self.log, self.stack = inner, log, stack

    def fileno(self) -> int:
        return int(self.inner.fileno())

    def sendall(self, data: bytes) -> None:
        self.log.append(("send", self.stack.state))
        self.inner.sendall(data)

    def recv(self, size: int) -> bytes:
        self.log.append(("recv", self.stack.state))
        data: bytes = self.inner.recv(size)
        return data

    def close(self) -> None:
        self.log.append(("close", self.stack.state))
        self.inner.close()


def test_it_rides_through_a_dropped_connection_without_io_while_backing_off(
    venue_url: str,
) -> None:
    example = load(EXAMPLE)
    credentials = deribit.Credentials(
        client_id="tradewire-demo", client_secret="tradewire-demo-secret"
    )
    machine = deribit.ClientProtocol(credentials=credentials)
    stack = WebSocketClientStack(machine, host="127.0.0.1", rng=random.Random(3))
    log: list[tuple[str, StackState]] = []
    dials: list[StackState] = []

    def dial(url: str) -> Recorded:
        dials.append(stack.state)
        return Recorded(example.dial(url), log, stack)

    transport = example.BlockingTransport(stack, venue_url, dial_url=dial)
    first = stack.send(deribit.GetTime(), time.time())
    events = transport.run_until(
        lambda e: isinstance(e, RequestSucceeded) and e.request_id == first, timeout=10
    )
    # the venue drops the connection at 1 s; the stack backs off, then dials again
    events += transport.run_until(lambda e: isinstance(e, Connected) and e.attempt == 1, 15)
    again = stack.send(deribit.GetTime(), time.time())
    events += transport.run_until(
        lambda e: isinstance(e, RequestSucceeded) and e.request_id == again, timeout=10
    )
    transport.close()
    kinds = [type(e) for e in events]
    assert WebSocketClosed(code=1006, reason="", by="transport") in events
    assert kinds.index(ReconnectScheduled) < kinds.index(ReconnectDue)
    scheduled = next(e for e in events if isinstance(e, ReconnectScheduled))
    assert scheduled.delay > 0
    assert [e.attempt for e in events if isinstance(e, Connected)] == [0, 1]
    assert dials == [StackState.DIAL, StackState.DIAL]  # dialled only when told to
    assert ("send", StackState.BACKOFF) not in log  # no I/O while backing off
    assert ("recv", StackState.BACKOFF) not in log
    answers = [e.result for e in events if isinstance(e, RequestSucceeded)]
    assert len(answers) == 2
    assert all(abs(ms - time.time() * 1000) < 10_000 for ms in answers)
