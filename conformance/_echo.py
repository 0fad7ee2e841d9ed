"""The smallest venue: an echo client and server machine for transport authors.

If you write your own transport (a Rust or C event loop, a proxy, a recorder), this pair
checks that it moves bytes and timers correctly before a real venue's logic is involved:
run :class:`EchoServer` behind a :class:`~tradewire.protocol.WebSocketServerStack`, and
:class:`EchoClient` behind a :class:`~tradewire.protocol.WebSocketClientStack`.

Wire format: ``{"id": N, "say": TEXT}`` from the client, answered with
``{"id": N, "echo": TEXT}``.  The server also understands ``{"id": N, "push": K}``
(answer, then K notifications ``{"note": i}``) and ``{"id": N, "close": CODE}`` (answer,
then close with CODE through ``close_request``).
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradewire.protocol import (
    AcceptUpgrade,
    CloseRequest,
    Command,
    CounterIds,
    Event,
    Handshake,
    RejectUpgrade,
    RemoteProtocolError,
    RequestTable,
    UpgradeRequest,
)

__all__ = ["CloseMe", "EchoClient", "EchoServer", "Heard", "Note", "Push", "Say"]


class Say(Command, frozen=True, kw_only=True):
    text: str


class Push(Command, frozen=True, kw_only=True):
    count: int


class CloseMe(Command, frozen=True, kw_only=True):
    code: int


class Note(Event, frozen=True, kw_only=True):
    index: int


class Heard(Event, frozen=True, kw_only=True):
    """Server side: the client said something."""

    text: str


class EchoClient:
    """A client machine: requests with ids and deadlines, notifications as events."""

    def __init__(self, *, handshake: Handshake | None = None, timeout: float = 5.0) -> None:
        self.handshake = handshake or Handshake(path="/ws")
        self.table = RequestTable(ids=CounterIds(), default_timeout=timeout)
        self._out: list[bytes] = []
        self._events: list[Event] = []
        self.connected = False
        self.connects = 0
        self.close_request: CloseRequest | None = None

    def connection_made(self, now: float) -> None:
        self.connected = True
        self.connects += 1
        self.close_request = None

    def receive_message(self, data: bytes | str, now: float) -> None:
        try:
            message: Any = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise RemoteProtocolError(f"invalid JSON: {exc}") from None
        if not isinstance(message, dict):
            raise RemoteProtocolError("expected a JSON object")
        if "note" in message:
            self._events.append(Note(index=message["note"]))
        elif "id" in message:
            event = self.table.succeed(message["id"], message.get("echo"))
            if event is not None:
                self._events.append(event)
        else:
            raise RemoteProtocolError("unknown message")

    def send(self, command: Command, now: float) -> int:
        entry = self.table.open(command, now)
        if isinstance(command, Say):
            body: dict[str, Any] = {"id": entry.request_id, "say": command.text}
        elif isinstance(command, Push):
            body = {"id": entry.request_id, "push": command.count}
        elif isinstance(command, CloseMe):
            body = {"id": entry.request_id, "close": command.code}
        else:
            raise TypeError(command)
        if self.connected:
            self._out.append(msgspec.json.encode(body))
        assert isinstance(entry.request_id, int)
        return entry.request_id

    def handle_timer(self, now: float) -> None:
        self._events.extend(self.table.expire(now))

    def next_deadline(self) -> float | None:
        return self.table.next_deadline()

    def connection_lost(self, now: float) -> None:
        self.connected = False
        self._events.extend(self.table.abort_all())

    def messages_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def events(self) -> list[Event]:
        events, self._events = self._events, []
        return events


class EchoServer:
    """A server machine answering :class:`EchoClient`."""

    def __init__(
        self,
        *,
        refuse: int | None = None,
        subprotocol: str | None = None,
    ) -> None:
        self.refuse = refuse
        self.subprotocol = subprotocol
        self._out: list[bytes] = []
        self._events: list[Event] = []
        self.close_request: CloseRequest | None = None
        self.connected = False
        self.lost = False
        self.upgrade: UpgradeRequest | None = None

    def decide_upgrade(self, request: UpgradeRequest, now: float) -> AcceptUpgrade | RejectUpgrade:
        self.upgrade = request
        if self.refuse is not None:
            return RejectUpgrade(status=self.refuse, body=b"go away")
        return AcceptUpgrade(subprotocol=self.subprotocol)

    def connection_made(self, now: float) -> None:
        self.connected = True

    def receive_message(self, data: bytes | str, now: float) -> None:
        try:
            message: Any = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise RemoteProtocolError(f"invalid JSON: {exc}") from None
        request_id = message.get("id")
        if "say" in message:
            self._events.append(Heard(text=message["say"]))
            self._out.append(msgspec.json.encode({"id": request_id, "echo": message["say"]}))
        elif "push" in message:
            self._out.append(msgspec.json.encode({"id": request_id, "echo": None}))
            for i in range(message["push"]):
                self._out.append(msgspec.json.encode({"note": i}))
        elif "close" in message:
            self._out.append(msgspec.json.encode({"id": request_id, "echo": None}))
            self.close_request = CloseRequest(code=message["close"], reason="asked to")

    def send(self, command: Command, now: float) -> None:
        raise TypeError(command)

    def handle_timer(self, now: float) -> None:
        pass

    def next_deadline(self) -> float | None:
        return None

    def connection_lost(self, now: float) -> None:
        self.lost = True

    def messages_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def events(self) -> list[Event]:
        events, self._events = self._events, []
        return events
