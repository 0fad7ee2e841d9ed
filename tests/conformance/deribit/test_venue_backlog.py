"""``connection_too_slow`` over a binding: the server hub reports a connection's unsent
bytes to ``app.on_backlog`` and the venue closes a slow reader with its own code.

Driven through ``ServerHub`` (the loop-agnostic part of every binding's ``serve()``) with a
fake transport link whose write buffer the test sets, behind ``route_upgrade``.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

from tradewire.bindings import route_upgrade
from tradewire.bindings._common import ServerConnection
from tradewire.bindings._server import ServerHub
from tradewire.conformance.deribit import DeribitVenue
from tradewire.protocol import WebSocketClientStack, WebSocketClosed

sys.path.append(str(Path(__file__).parent))
from support_venue import SMALL, START, RawClient, make_harness


class FakeLink:
    """A transport whose write buffer holds ``waiting`` bytes (set by the test)."""

    def __init__(self) -> None:
        self.conn: ServerConnection | None = None
        self.done = False
        self.written = bytearray()
        self.waiting = 0
        self.shut_with: bool | None = None

    def push(self, data: bytes) -> int:
        self.written += data
        return self.waiting

    def shut(self, abort: bool) -> None:
        self.shut_with = abort

    def arm(self, deadline: float | None) -> None:
        pass

    def take(self) -> bytes:
        out, self.written = bytes(self.written), bytearray()
        return out


def hub_session(
    max_pending: int, *, broken: bool = False
) -> tuple[DeribitVenue, ServerHub, FakeLink, WebSocketClientStack, RawClient]:
    """A venue behind ``route_upgrade`` in a hub, one client subscribed to a ticker."""
    venue = make_harness(SMALL, max_pending_bytes=max_pending).venue
    factory = route_upgrade(venue.websocket_connection, venue.http_connection)
    app: Any = BrokenBacklog(venue) if broken else venue
    hub = ServerHub(factory, on_events=venue.on_events, app=app, max_write_buffer=1 << 30)
    link = FakeLink()
    hub.open(link, "127.0.0.1:5555", START)
    machine = RawClient()
    client = WebSocketClientStack(
        machine, host="127.0.0.1", rng=random.Random(1), reconnect=False, ping_interval=None
    )
    client.connection_made(START)
    hub.receive(link, client.data_to_send(), START)
    client.receive_data(link.take(), START)
    client.send(
        machine.request("public/subscribe", {"channels": ["ticker.BTC-PERPETUAL.100ms"]}), START
    )
    hub.receive(link, client.data_to_send(), START)
    client.receive_data(link.take(), START)
    assert machine.answer(1)["result"] == ["ticker.BTC-PERPETUAL.100ms"]
    return venue, hub, link, client, machine


class BrokenBacklog:
    """The venue as the application timer, with an ``on_backlog`` that raises."""

    def __init__(self, venue: DeribitVenue) -> None:
        self.venue = venue

    def next_deadline(self) -> float | None:
        return self.venue.next_deadline()

    def handle_timer(self, now: float) -> None:
        self.venue.handle_timer(now)

    def on_backlog(self, connection: object, waiting: int, now: float) -> None:
        raise RuntimeError("boom")


def test_a_backlog_past_the_limit_closes_with_connection_too_slow() -> None:
    venue, hub, link, client, machine = hub_session(max_pending=10_000)
    link.waiting = 9_000  # under the venue's limit: nothing happens
    hub.app_timer(START + 0.1)
    assert link.shut_with is None
    client.receive_data(link.take(), START + 0.1)
    assert machine.notifications("ticker.BTC-PERPETUAL.100ms")
    link.waiting = 10_001  # the client stopped reading
    hub.app_timer(START + 0.2)
    (socket,) = venue.sockets.values()
    assert socket.closed_too_slow
    client.receive_data(link.take(), START + 0.2)
    closed = [e for e in client.events() if isinstance(e, WebSocketClosed)]
    assert [(e.code, e.reason, e.by) for e in closed] == [(1008, "connection_too_slow", "remote")]


def test_an_empty_buffer_never_reaches_the_hook() -> None:
    venue, hub, link, client, machine = hub_session(max_pending=1)
    for step in range(1, 11):
        hub.app_timer(START + step * 0.1)
    client.receive_data(link.take(), START + 1.0)
    assert len(machine.notifications("ticker.BTC-PERPETUAL.100ms")) == 10
    assert not any(s.closed_too_slow for s in venue.sockets.values())
    assert link.shut_with is None


def test_a_failing_backlog_hook_drops_the_connection() -> None:
    _, hub, link, _, _ = hub_session(max_pending=10_000, broken=True)
    link.waiting = 1
    hub.app_timer(START + 0.1)
    assert link.shut_with is True
    assert link.done
    assert hub.connections == []
