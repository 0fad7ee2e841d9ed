"""A toy venue as one registry entry: what a new venue's author writes to join
``tradewire serve | stream`` and the pytest plugin.

The machines are the conformance kit's echo pair (``EchoClient`` / ``EchoServer``):
subscribing to topics ``notes.N`` asks the server for ``N`` notifications; each arrives
as a ``Note`` event, printed by the stream as ``note notes.N I``.  The reference venue
serves WebSocket only (at ``/ws``, as Deriv will serve its API at one path), with no HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tradewire.bindings._venue_spec import ReferenceOptions, URLShape, VenueEntry
from tradewire.conformance import EchoClient, EchoServer, Fault, FaultPlan, Note, Push
from tradewire.protocol import (
    ClientMachine,
    Command,
    Event,
    LocalProtocolError,
    WebSocketServerStack,
)


class EchoVenue:
    """The echo server behind a server stack per connection; faults are only kept."""

    def __init__(self, options: ReferenceOptions) -> None:
        self.options = options
        self.sockets: dict[int, WebSocketServerStack] = {}
        self.faults: FaultPlan = options.faults
        self.injected: list[str] = []

    def websocket_connection(self, peer: str | None = None) -> WebSocketServerStack:
        stack = WebSocketServerStack(EchoServer(), peer=peer)
        self.sockets[len(self.sockets) + 1] = stack
        return stack

    def on_events(self, connection: object, events: Sequence[Event], now: float) -> None:
        pass

    def next_deadline(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> None:
        pass

    def inject(self, connection_id: int, fault: Fault | str, now: float) -> None:
        self.injected.append(fault if isinstance(fault, str) else fault.spec())


class _Notes(Command, frozen=True, kw_only=True):
    topics: tuple[str, ...]


class EchoClientWithTopics(EchoClient):
    """The echo client, subscribing to ``notes.N`` by asking for ``N`` pushes."""

    def __init__(self, *, credentials: Any = None, maintain_books: bool = False) -> None:
        super().__init__()
        self.credentials = credentials

    def send(self, command: Command, now: float) -> Any:
        if isinstance(command, _Notes):
            count = sum(int(topic.split(".")[1]) for topic in command.topics)
            return super().send(Push(count=count), now)
        return super().send(command, now)


def _check(topic: str) -> bool:
    name, _, count = topic.partition(".")
    if name != "notes" or not count.isdigit():
        raise LocalProtocolError(f"invalid topic {topic!r}: expected notes.N")
    return False


def _lines(event: Event, machine: ClientMachine) -> list[str] | None:
    if isinstance(event, Note):
        return [f"note notes {event.index}"]
    return None


ECHO = VenueEntry(
    name="echo",
    title="Echo",
    client=EchoClientWithTopics,
    credentials=lambda client_id, secret: (client_id, secret),
    subscribe=lambda topics: _Notes(topics=tuple(topics)),
    check_topic=_check,
    urls=URLShape(ws_path="/ws"),
    lines=_lines,
    reference=EchoVenue,
    connections=lambda venue: venue.websocket_connection,
    demo=("echo-demo", "echo-demo-secret"),
)
