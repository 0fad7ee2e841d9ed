"""An in-memory link between a client stack and server stacks, on a fake clock.

The conformance kit's answer to h11's ``ConnectionPair`` and aioquic's
``client_and_server``: two WebSocket stacks wired together with no sockets, so a test
drives a whole session (upgrade, messages, pings, closes, reconnects, timeouts)
deterministically and in microseconds.  Users test their own message handling with it
too: wrap your client machine in a :class:`WebSocketClientStack`, give the link a
factory for the reference venue's server stack, and call :meth:`MemoryLink.advance`.

Transport behaviour modelled:

* bytes are delivered in order, whole, at the current fake time;
* a side that wants its transport closed gets it closed: its last bytes are delivered,
  the peer sees end of file, both sides get ``connection_lost``;
* a :class:`RemoteProtocolError` raised by either side is recorded in ``errors`` and
  the transport is closed, as a binding would;
* :meth:`drop` aborts the transport without a close handshake; ``blackhole`` silently
  discards traffic in both directions (a zombie connection that looks open);
* when the client stack is in ``DIAL`` and ``auto_dial`` is on, the link "dials": it
  builds a fresh server stack from the factory and connects both.
"""

from __future__ import annotations

from collections.abc import Callable

from tradewire.protocol import Event, RemoteProtocolError
from tradewire.protocol.transport._websocket import StackState
from tradewire.protocol.transport._ws_client import WebSocketClientStack
from tradewire.protocol.transport._ws_server import WebSocketServerStack

__all__ = ["FakeClock", "MemoryLink"]


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class MemoryLink:
    """Wire a client stack to server stacks built on demand, with a fake clock."""

    def __init__(
        self,
        client: WebSocketClientStack,
        server_factory: Callable[[], WebSocketServerStack],
        *,
        clock: FakeClock | None = None,
        auto_dial: bool = True,
        max_rounds: int = 10_000,
    ) -> None:
        self.client = client
        self.server_factory = server_factory
        self.clock = clock if clock is not None else FakeClock()
        self.auto_dial = auto_dial
        self.max_rounds = max_rounds
        self.server: WebSocketServerStack | None = None
        self.servers: list[WebSocketServerStack] = []
        self.client_events: list[Event] = []
        self.server_events: list[Event] = []
        self.errors: list[tuple[str, RemoteProtocolError]] = []
        self.blackhole = False
        self.refuse_dials = False
        self.dials = 0
        self.bytes_to_server = 0
        self.bytes_to_client = 0

    @property
    def now(self) -> float:
        return self.clock.now

    # -- moving bytes ---------------------------------------------------------------------

    def dial(self) -> None:
        """Open a transport for a client in ``DIAL`` (or report a refused dial)."""
        now = self.clock.now
        self.dials += 1
        if self.refuse_dials:
            self.client.connection_lost(now)
            return
        self.server = self.server_factory()
        self.servers.append(self.server)
        self.client.connection_made(now)
        self.server.connection_made(now)

    def pump(self) -> None:
        """Deliver bytes both ways until both sides are quiet."""
        for _ in range(self.max_rounds):
            if not self._round():
                self._collect()
                return
        raise RuntimeError(f"link still busy after {self.max_rounds} rounds")

    def _round(self) -> bool:
        client, server, now = self.client, self.server, self.clock.now
        if client.state is StackState.DIAL and self.auto_dial:
            self.dial()
            return True
        if server is None:
            return False
        busy = False
        to_server = client.data_to_send()
        if to_server:
            busy = True
            if not self.blackhole:
                self.bytes_to_server += len(to_server)
                self._feed("server", server, to_server, now)
        to_client = server.data_to_send()
        if to_client:
            busy = True
            if not self.blackhole:
                self.bytes_to_client += len(to_client)
                self._feed("client", client, to_client, now)
        if client.should_close_transport or server.should_close_transport:
            self._close_transport()
            busy = True
        self._collect()
        return busy

    def _feed(
        self, name: str, stack: WebSocketClientStack | WebSocketServerStack, data: bytes, now: float
    ) -> None:
        try:
            stack.receive_data(data, now)
        except RemoteProtocolError as exc:
            self.errors.append((name, exc))

    def _close_transport(self) -> None:
        """One side hangs up: flush what it wrote, the peer reads EOF, both are told."""
        client, server, now = self.client, self.server, self.clock.now
        assert server is not None
        if client.should_close_transport:
            last = client.data_to_send()
            if last and not self.blackhole:
                self._feed("server", server, last, now)
            self._feed("server", server, b"", now)
        else:
            last = server.data_to_send()
            if last and not self.blackhole:
                self._feed("client", client, last, now)
            self._feed("client", client, b"", now)
        client.data_to_send()
        server.data_to_send()
        self.server = None
        server.connection_lost(now)
        client.connection_lost(now)

    def drop(self) -> None:
        """Abort the transport with no close handshake (a cable pulled)."""
        server, now = self.server, self.clock.now
        if server is None:
            return
        self.server = None
        client = self.client
        client.data_to_send()
        server.data_to_send()
        server.connection_lost(now)
        client.connection_lost(now)
        self._collect()

    def inject(self, data: bytes, *, to: str = "client") -> None:
        """Deliver raw bytes to one side, as if the peer had written them."""
        if to == "client":
            self._feed("client", self.client, data, self.clock.now)
        elif self.server is not None:
            self._feed("server", self.server, data, self.clock.now)
        self.pump()

    def _collect(self) -> None:
        self.client_events.extend(self.client.events())
        for server in self.servers:
            self.server_events.extend(server.events())

    # -- time -----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        deadlines = [self.client.next_deadline()]
        if self.server is not None:
            deadlines.append(self.server.next_deadline())
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def advance(self, seconds: float, *, max_steps: int = 100_000) -> None:
        """Move the clock forward by ``seconds``, firing every deadline on the way."""
        target = self.clock.now + seconds
        self.pump()
        for _ in range(max_steps):
            deadline = self.next_deadline()
            if deadline is None or deadline > target:
                break
            self.clock.now = max(self.clock.now, deadline)
            self.client.handle_timer(self.clock.now)
            if self.server is not None:
                self.server.handle_timer(self.clock.now)
            self.pump()
        else:
            raise RuntimeError(f"more than {max_steps} timer steps in {seconds}s")
        self.clock.now = target
        self.pump()

    def take_client_events(self) -> list[Event]:
        """Return and forget the client events collected so far."""
        self._collect()
        events, self.client_events = self.client_events, []
        return events

    def take_server_events(self) -> list[Event]:
        self._collect()
        events, self.server_events = self.server_events, []
        return events
