"""Helpers for the Deribit server machine tests.

* :func:`make_state`: a :class:`ServerState` whose clock ``now = 1000.0`` is the epoch time
  of signing vector A (spec 2.2), with key ``AMANDA`` / ``AMANDASECRECT`` registered;
* :class:`Driver`: feeds a :class:`ServerProtocol` directly and decodes what it sends;
* :class:`ScriptedClient`: a small client machine for the WebSocket stacks (the real
  Deribit client machine is tested against this server separately);
* :class:`MiniVenue`: builds server stacks for a :class:`MemoryLink` and answers the
  requests the machines hand out, as a venue would.
"""

from __future__ import annotations

import random
from typing import Any

import msgspec

from tradewire.conformance._link import FakeClock, MemoryLink
from tradewire.protocol import (
    CloseRequest,
    Command,
    CounterIds,
    Event,
    Handshake,
    UpgradeRequest,
)
from tradewire.protocol.deribit import (
    AuthClientCredentials,
    AuthClientSignature,
    Test,
    encode_request,
)
from tradewire.protocol.deribit.server import (
    AcceptSubscription,
    Notify,
    Reply,
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
    SubscribeReceived,
)
from tradewire.protocol.transport._ws_client import WebSocketClientStack
from tradewire.protocol.transport._ws_server import WebSocketServerStack

START = 1000.0
VECTOR_A_TIME = 1576074319.0  # epoch seconds of vector A's timestamp 1576074319000
CLIENT_ID = "AMANDA"
SECRET = "AMANDASECRECT"
VECTOR_A_SIGNATURE = "56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1"
PEER = "203.0.113.7:40001"


def make_state(**config: Any) -> ServerState:
    """A state whose ``now == START`` is vector A's time; AMANDA is registered."""
    config.setdefault("epoch_offset", VECTOR_A_TIME - START)
    state = ServerState(ServerConfig(**config), rng=random.Random(42))
    state.add_client(CLIENT_ID, SECRET, subaccount_ids=(7,))
    return state


def vector_a(**fields: Any) -> AuthClientSignature:
    """The ``client_signature`` auth of vector A (spec 2.2)."""
    return AuthClientSignature(
        client_id=CLIENT_ID,
        timestamp=1576074319000,
        nonce="1iqt2wls",
        data="",
        signature=VECTOR_A_SIGNATURE,
        **fields,
    )


def signed(timestamp_ms: int, nonce: str, **fields: Any) -> AuthClientSignature:
    return AuthClientSignature.signed(
        client_id=CLIENT_ID, client_secret=SECRET, timestamp=timestamp_ms, nonce=nonce, **fields
    )


def upgrade(path: str = "/ws/api/v2", peer: str | None = PEER) -> UpgradeRequest:
    return UpgradeRequest(path=path, query=(), subprotocols=(), headers=(), peer=peer)


class Driver:
    """A :class:`ServerProtocol` fed directly, with its own request ids and clock."""

    def __init__(self, state: ServerState, *, peer: str | None = PEER, now: float = START) -> None:
        self.state = state
        self.now = now
        self.machine = ServerProtocol(state, peer=peer)
        self.ids = CounterIds()
        self.machine.connection_made(now)

    def call(self, command: Command, *, request_id: int | str | None = None) -> int | str:
        """Send ``command`` as a JSON-RPC request; returns its wire id."""
        wire_id = self.ids() if request_id is None else request_id
        self.machine.receive_message(encode_request(wire_id, command), self.now)
        return wire_id

    def raw(self, data: bytes | str) -> None:
        self.machine.receive_message(data, self.now)

    def sent(self) -> list[Any]:
        """Drain and decode what the machine sent."""
        return [msgspec.json.decode(m) for m in self.machine.messages_to_send()]

    def answer(self, command: Command) -> Any:
        """Call ``command`` and return the single message it produced."""
        self.call(command)
        out = self.sent()
        assert len(out) == 1, out
        return out[0]

    def result(self, command: Command) -> Any:
        message = self.answer(command)
        assert "result" in message, message
        return message["result"]

    def events(self) -> list[Event]:
        return self.machine.events()

    def requests(self) -> list[RequestReceived]:
        return [e for e in self.events() if isinstance(e, RequestReceived)]

    def advance(self, seconds: float) -> None:
        """Move time, firing the machine's timers on the way."""
        target = self.now + seconds
        while True:
            deadline = self.machine.next_deadline()
            if deadline is None or deadline > target:
                break
            self.now = max(self.now, deadline)
            self.machine.handle_timer(self.now)
        self.now = target

    def login(self) -> Any:
        """Authenticate with client_credentials; returns the result."""
        return self.result(AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET))


# -- through the stacks ------------------------------------------------------------------


class RawMessage(Command, frozen=True, kw_only=True):
    """Make :class:`ScriptedClient` send these bytes as they are."""

    data: bytes


class ScriptedClient:
    """A client machine that sends what it is told and records what arrives."""

    def __init__(self, *, path: str = "/ws/api/v2", answer_test_requests: bool = False) -> None:
        self.handshake = Handshake(path=path)
        self.ids = CounterIds()
        self.answer_test_requests = answer_test_requests
        self.received: list[Any] = []
        self.close_request: CloseRequest | None = None
        self.connected = False
        self._out: list[bytes] = []

    def connection_made(self, now: float) -> None:
        self.connected = True

    def receive_message(self, data: bytes | str, now: float) -> None:
        message = msgspec.json.decode(data)
        self.received.append(message)
        params = message.get("params") if isinstance(message, dict) else None
        if (
            self.answer_test_requests
            and message.get("method") == "heartbeat"
            and isinstance(params, dict)
            and params.get("type") == "test_request"
        ):
            self._out.append(encode_request(self.ids(), Test()))

    def send(self, command: Command, now: float) -> int | None:
        if isinstance(command, RawMessage):
            self._out.append(command.data)
            return None
        request_id = self.ids()
        self._out.append(encode_request(request_id, command))
        return request_id

    def handle_timer(self, now: float) -> None:
        pass

    def next_deadline(self) -> float | None:
        return None

    def connection_lost(self, now: float) -> None:
        self.connected = False

    def messages_to_send(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def events(self) -> list[Event]:
        return []

    def response(self, request_id: int) -> Any:
        found = [m for m in self.received if isinstance(m, dict) and m.get("id") == request_id]
        assert len(found) == 1, (request_id, self.received)
        return found[0]

    def heartbeats(self, kind: str) -> int:
        return sum(
            1
            for m in self.received
            if isinstance(m, dict)
            and m.get("method") == "heartbeat"
            and m.get("params", {}).get("type") == kind
        )

    def notifications(self, channel: str) -> list[Any]:
        return [
            m
            for m in self.received
            if isinstance(m, dict)
            and m.get("method") == "subscription"
            and m["params"]["channel"] == channel
        ]


class MiniVenue:
    """Builds server stacks and answers requests: every request gets ``{"echo": method}``;
    every subscribe candidate is accepted, and a new channel gets a ``{"snapshot": n}``."""

    def __init__(self, state: ServerState, *, peer: str = PEER) -> None:
        self.state = state
        self.peer = peer
        self.stacks: dict[int, WebSocketServerStack] = {}
        self.machines: list[ServerProtocol] = []
        self.seen: list[Event] = []

    def factory(self) -> WebSocketServerStack:
        machine = ServerProtocol(self.state)
        self.machines.append(machine)
        stack = WebSocketServerStack(machine, peer=self.peer)
        self.stacks[machine.connection_id] = stack
        return stack

    def serve(self, link: MemoryLink) -> None:
        """Answer every request the machines handed out, until quiet."""
        for _ in range(100):
            link.pump()
            events = link.take_server_events()
            if not events:
                return
            self.seen.extend(events)
            for event in events:
                if isinstance(event, RequestReceived):
                    self._answer(event, link.now)

    def _answer(self, event: RequestReceived, now: float) -> None:
        stack = self.stacks[event.connection_id]
        machine = stack.machine
        assert isinstance(machine, ServerProtocol)
        if isinstance(event, SubscribeReceived):
            new = [c for c in event.channels if not machine.is_subscribed(c)]
            stack.send(
                AcceptSubscription(request_id=event.request_id, channels=event.channels), now
            )
            for index, channel in enumerate(new):
                stack.send(Notify(channel=channel, data={"snapshot": index}), now)
            return
        stack.send(Reply(request_id=event.request_id, result={"echo": event.method}), now)


def make_link(
    state: ServerState, *, answer_test_requests: bool = False, path: str = "/ws/api/v2"
) -> tuple[MemoryLink, ScriptedClient, MiniVenue]:
    client = ScriptedClient(path=path, answer_test_requests=answer_test_requests)
    stack = WebSocketClientStack(
        client, host="www.deribit.test", rng=random.Random(3), reconnect=False, ping_interval=None
    )
    venue = MiniVenue(state)
    link = MemoryLink(stack, venue.factory, clock=FakeClock(START))
    return link, client, venue
