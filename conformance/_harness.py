"""A venue in memory: client stacks wired to a reference venue on one fake clock.

What bindings' ``serve()`` does over sockets, :class:`VenueHarness` does with no I/O, so
a test drives whole sessions (several clients, WebSocket and HTTP, reconnects, faults)
deterministically::

    harness = Harness(DeribitVenue(now=1000.0))     # any ReferenceVenue
    link = harness.connect(WebSocketClientStack(client, host="venue", rng=Random(1)))
    harness.advance(5.0)                           # market ticks, timers, bytes, events

* :meth:`VenueHarness.connect` links a WebSocket client stack through a
  :class:`~tradewire.conformance.MemoryLink` whose server factory is the venue's; the
  link re-dials when the client stack does;
* :meth:`VenueHarness.http` links an :class:`~tradewire.protocol.HTTPClientStack` to the
  venue's HTTP connections (:class:`HTTPLink`);
* :meth:`VenueHarness.pump` moves bytes and hands every server event to
  ``venue.on_events`` until all is quiet; :meth:`VenueHarness.advance` moves the clock,
  firing the venue's timer and every stack's deadlines on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from tradewire.protocol import (
    Event,
    HTTPClientStack,
    RemoteProtocolError,
    WebSocketClientStack,
    WebSocketServerStack,
)

from ._link import FakeClock, MemoryLink

__all__ = ["HTTPConnection", "HTTPLink", "Harness", "ReferenceVenue"]

MAX_ROUNDS = 10_000


class HTTPConnection(Protocol):
    """A venue's HTTP connection in the server-stack shape bindings' ``serve()`` drive."""

    @property
    def should_close_transport(self) -> bool: ...

    def connection_made(self, now: float) -> None: ...

    def receive_data(self, data: bytes, now: float) -> None: ...

    def data_to_send(self) -> bytes: ...

    def events(self) -> list[Event]: ...

    def handle_timer(self, now: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def connection_lost(self, now: float) -> None: ...


class ReferenceVenue(Protocol):
    """What a harness (and bindings' ``serve()``) needs of a reference venue: connection
    factories, the answer to what connections report, and the venue's own timer."""

    birth: float

    def websocket_connection(self, peer: str | None = None) -> WebSocketServerStack: ...

    def http_connection(self, peer: str | None = None) -> Any: ...

    def on_events(self, connection: object, events: Sequence[Event], now: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def handle_timer(self, now: float) -> None: ...


class HTTPLink:
    """An :class:`HTTPClientStack` wired to the venue's HTTP connections (one at a time).

    Requests go through ``client.request(...)``; answers collect in :attr:`events`.
    """

    def __init__(self, venue: ReferenceVenue, client: HTTPClientStack, clock: FakeClock, peer: str):
        self.venue = venue
        self.client = client
        self.clock = clock
        self.peer = peer
        self.server: HTTPConnection | None = None
        self.servers = 0
        self.events: list[Event] = []
        self.errors: list[RemoteProtocolError] = []

    def take_events(self) -> list[Event]:
        self.events.extend(self.client.events())
        events, self.events = self.events, []
        return events

    def pump(self) -> bool:
        """Move bytes and events once; returns whether anything happened."""
        client, now = self.client, self.clock.now
        busy = False
        if self.server is None and client.wants_connection:
            self.server = self.venue.http_connection(self.peer)
            self.servers += 1
            self.server.connection_made(now)
            client.connection_made(now)
            busy = True
        server = self.server
        if server is None:
            return busy
        up = client.data_to_send()
        if up:
            busy = True
            self._feed(server.receive_data, up)
        events = server.events()
        if events:
            busy = True
            self.venue.on_events(server, events, now)
        down = server.data_to_send()
        if down:
            busy = True
            self._feed(client.receive_data, down)
        if client.should_close_transport or server.should_close_transport:
            busy = True
            last = server.data_to_send()
            if last:
                self._feed(client.receive_data, last)
            self._feed(client.receive_data, b"")
            client.data_to_send()
            self.server = None
            server.connection_lost(now)
            client.connection_lost(now)
        self.events.extend(client.events())
        return busy

    def _feed(self, receive: Callable[[bytes, float], None], data: bytes) -> None:
        try:
            receive(data, self.clock.now)
        except RemoteProtocolError as exc:
            self.errors.append(exc)

    def next_deadline(self) -> float | None:
        deadlines = [self.client.next_deadline()]
        if self.server is not None:
            deadlines.append(self.server.next_deadline())
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def handle_timer(self, now: float) -> None:
        self.client.handle_timer(now)
        if self.server is not None:
            self.server.handle_timer(now)


V = TypeVar("V", bound=ReferenceVenue)


class Harness(Generic[V]):
    """A reference venue and its clients in memory (see the module docstring)."""

    http_host = "venue.test"
    """The ``Host`` of the default HTTP client stack of :meth:`http`."""

    def __init__(self, venue: V, *, clock: FakeClock | None = None):
        self.clock = clock if clock is not None else FakeClock(venue.birth)
        self.venue: V = venue
        self.links: list[MemoryLink] = []
        self.http_links: list[HTTPLink] = []
        self._peers = 0

    @property
    def now(self) -> float:
        return self.clock.now

    def _peer(self) -> str:
        self._peers += 1
        return f"127.0.0.1:{50_000 + self._peers}"

    def connect(self, client: WebSocketClientStack, *, peer: str | None = None) -> MemoryLink:
        """Link ``client`` to the venue; it dials at the next :meth:`pump`."""
        address = peer if peer is not None else self._peer()

        def factory() -> WebSocketServerStack:
            return self.venue.websocket_connection(address)

        link = MemoryLink(client, factory, clock=self.clock)
        self.links.append(link)
        self.pump()
        return link

    def http(self, client: HTTPClientStack | None = None, *, peer: str | None = None) -> HTTPLink:
        """Link an HTTP client stack (default: host ``http_host``) to the venue."""
        stack = client if client is not None else HTTPClientStack(host=self.http_host)
        link = HTTPLink(self.venue, stack, self.clock, peer if peer is not None else self._peer())
        self.http_links.append(link)
        return link

    def pump(self) -> None:
        """Deliver bytes and hand server events to the venue until nothing moves."""
        venue = self.venue
        for _ in range(MAX_ROUNDS):
            busy = False
            for link in self.links:
                link.pump()
                events = link.take_server_events()
                if events:
                    busy = True
                    venue.on_events(link.server, events, self.clock.now)
            for http in self.http_links:
                busy = http.pump() or busy
            if not busy:
                for link in self.links:
                    link.pump()
                return
        raise RuntimeError(f"venue harness still busy after {MAX_ROUNDS} rounds")

    def next_deadline(self) -> float | None:
        deadlines: list[float | None] = [self.venue.next_deadline()]
        deadlines += [link.next_deadline() for link in self.links]
        deadlines += [http.next_deadline() for http in self.http_links]
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def advance(self, seconds: float, *, max_steps: int = 1_000_000) -> None:
        """Move the clock ``seconds`` forward, firing every deadline on the way."""
        clock = self.clock
        target = clock.now + seconds
        self.pump()
        for _ in range(max_steps):
            deadline = self.next_deadline()
            if deadline is None or deadline > target:
                break
            clock.now = now = max(clock.now, deadline)
            due = self.venue.next_deadline()
            if due is not None and due <= now:
                self.venue.handle_timer(now)
            for link in self.links:
                link.advance(0.0)
            for http in self.http_links:
                http.handle_timer(now)
            self.pump()
        else:
            raise RuntimeError(f"more than {max_steps} timer steps in {seconds}s")
        clock.now = target
        self.pump()
