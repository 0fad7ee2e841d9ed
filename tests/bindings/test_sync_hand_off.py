"""How the sync client's reads reach its session (``_sync_reactor``, ``_sync_driver``).

A client reads at most ``CLIENT_READ_SIZE`` (64 KiB) at a time, as the async bindings
do: the events of one read all live until the consumer takes them, and a 256 KiB read's
worth of book changes kept the garbage collector busy on ``benchmarks/bench_e2e.py``.
Real sockets on 127.0.0.1; every wait is bounded, and no thread or file descriptor
outlives a test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tradewire.bindings import sync as tw
from tradewire.conformance import EchoClient, Note, Push
from tradewire.protocol import Event

KIB_64 = 64 * 1024  # CLIENT_READ_SIZE


@pytest.fixture(autouse=True)
def nothing_left_behind(kit: SimpleNamespace) -> Iterator[None]:
    threads, fds = set(threading.enumerate()), kit.fds()
    yield
    assert set(threading.enumerate()) == threads
    assert kit.fds() == fds


def _notes(client: tw.Client, count: int) -> list[int]:
    notes: list[int] = []
    for event in client.events(timeout=10):
        if isinstance(event, Note):
            notes.append(event.index)
            if len(notes) == count:
                break
    return notes


class ReadSpy:
    """Wraps a client stack's ``receive_data``: the size of every read, and the thread
    that handed it over; ``stall`` seconds of sleep on the first read after ``arm()``."""

    def __init__(self, client: tw.Client, stall: float = 0.0) -> None:
        self.sizes: list[int] = []
        self.threads: list[threading.Thread] = []
        self.stall = stall
        self.armed = False
        self._inner: Any = client.stack.receive_data
        client.stack.receive_data = self._receive  # type: ignore[method-assign]

    def arm(self) -> None:
        self.sizes.clear()
        self.threads.clear()
        self.armed = True

    def _receive(self, data: bytes, now: float) -> None:
        if self.armed:
            self.sizes.append(len(data))
            self.threads.append(threading.current_thread())
            if self.stall and len(self.sizes) == 1:
                time.sleep(self.stall)  # the venue's bytes pile up in the socket meanwhile
        self._inner(data, now)


def _connected(client: tw.Client) -> list[Event]:
    events: list[Event] = []
    for event in client.events(timeout=10):
        events.append(event)
        break
    return events


def test_a_client_reads_at_most_64_kib_at_a_time(kit: SimpleNamespace) -> None:
    total = 40_000  # about 1.2 MB of notes, written at once
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory) as server,
        tw.connect(server.url + "/ws", EchoClient(), max_queued_events=10 * total) as client,
    ):
        _connected(client)
        spy = ReadSpy(client, stall=0.3)
        spy.arm()
        client.send(Push(count=total))
        assert _notes(client, total) == list(range(total))
    assert max(spy.sizes) <= KIB_64
    assert spy.sizes.count(KIB_64) >= 2  # the stall let full reads pile up
