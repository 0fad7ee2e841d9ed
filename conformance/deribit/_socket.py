"""The venue's connection objects: a WebSocket with a fault plan, and HTTP.

:class:`VenueProtocol` is ``deribit.ServerProtocol`` plus the Deribit side of a fault
plan (``tradewire.conformance._faults``): it fires the connection's faults when they are
due (its ``next_deadline`` includes them; message-count triggers are checked as messages
go out) and applies the message-level ones to what it sends.  :class:`VenueSocket` is the
``WebSocketServerStack`` around it, adding what only the byte level can do: a zombie
(nothing out, not even pongs; input ignored), binary frames, and a stalled reader.

How each fault kind is applied here:

============= ==============================================================================
disconnect    ``disconnect(abort=True)``; with a code, a close handshake with that code
              (cancel-on-disconnect fires either way)
zombie        from then on no byte is written, input is ignored and the machine's timers
              stop (its heartbeat would otherwise close the socket itself)
gap           ``Market.inject_fault(instrument, "gap")`` on the target's instrument: the
              market's next change of it skips a ``change_id``, for every subscriber
duplicate,    on this connection's next notification on the target channel
reorder
malformed     this connection's next message (on the target channel, if given) becomes
              truncated JSON, a text frame of invalid UTF-8, or a binary frame (written
              after the other frames of the same write)
ratelimit     when the connection's next request arrives, the credit pool it is charged to
              (its account's, else its address's; its rate class) is emptied: that request
              gets 10028 and the connection closes (a pool refills in a fraction of a
              second, so the emptying waits for the request)
expire        ``ServerState.expire_tokens`` for the connection's client id (if it has
              authenticated)
heartbeat     the next ``public/test`` call is not read, so an outstanding
              ``test_request`` stays unanswered and the machine closes with 4000
stall         the socket stops handing bytes to the transport (a client that stopped
              reading); past ``max_pending_bytes`` they are discarded and the socket closes
              with ``too_slow_close_code`` and reason ``connection_too_slow``
============= ==============================================================================

Over a real socket the binding reports the transport's write buffer through
:meth:`VenueSocket.transport_backlog` (the venue's ``on_backlog``), which applies the same
too-slow limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from tradewire.protocol import AcceptUpgrade, Command, RejectUpgrade, RequestId, UpgradeRequest
from tradewire.protocol.deribit import (
    Disconnect,
    HTTPServerConnection,
    RateClass,
    RejectedRequest,
    ServerProtocol,
    ServerState,
    command_type_for,
    decode_request,
)
from tradewire.protocol.transport._frames import OP_BINARY, encode_frame
from tradewire.protocol.transport._ws_server import WebSocketServerStack

from .._faults import Fault, FaultSchedule, MessageFaults
from ._config import TOO_SLOW_REASON

__all__ = ["VenueHTTP", "VenueProtocol", "VenueSocket"]

FaultHook = Callable[[Fault, float], None]
"""The venue applies faults that need the market (``gap``)."""


class _Peek(msgspec.Struct):
    channel: str | None = None


class _PeekMessage(msgspec.Struct):
    method: str | None = None
    params: _Peek | None = None


_PEEK = msgspec.json.Decoder(_PeekMessage)


def _channel_of(message: bytes) -> str | None:
    """The channel of a notification; ``None`` for anything else."""
    try:
        peeked = _PEEK.decode(message)
    except msgspec.DecodeError:
        return None
    if peeked.method != "subscription" or peeked.params is None:
        return None
    return peeked.params.channel


class VenueProtocol(ServerProtocol):
    """``ServerProtocol`` with this connection's faults (see the module docstring)."""

    def __init__(
        self,
        state: ServerState,
        *,
        peer: str | None = None,
        number: int = 1,
        faults: Sequence[Fault] = (),
        on_fault: FaultHook | None = None,
    ) -> None:
        super().__init__(state, peer=peer)
        self.number = number
        self.faults = tuple(faults)
        self.on_fault = on_fault
        self.fired: list[Fault] = []
        self.sent = 0
        self.zombie = False
        self.stalled = False
        self.binary: list[bytes] = []
        self._schedule = FaultSchedule((), 0.0)
        self._stream = MessageFaults()
        self._skip_test = False
        self._drain = False  # ratelimit: empty the pools before the next request
        self._cut = False  # a disconnect fault fired: nothing more goes out
        self._now = 0.0

    @property
    def max_message_size(self) -> int:
        """The largest request taken (32 kB); the WebSocket stack keeps no more of a
        message arriving in pieces, and a bigger one is answered -32600 by its size."""
        return self.config.max_message_size

    # -- the driving contract, with faults --------------------------------------------------

    def decide_upgrade(self, request: UpgradeRequest, now: float) -> AcceptUpgrade | RejectUpgrade:
        self._now = now
        return super().decide_upgrade(request, now)

    def connection_made(self, now: float) -> None:
        super().connection_made(now)
        self._now = now
        self._schedule = FaultSchedule(self.faults, now)

    def receive_message(self, data: bytes | str, now: float) -> None:
        self._now = now
        if self._skip_test and self.is_open and _is_test(data):
            self._skip_test = False
            return
        if self._drain and self.is_open:
            self._drain = False
            rate_class = _rate_class(data)
            for pool in self._pools(now):
                self.state.drain_credits(pool, rate_class, now)
        super().receive_message(data, now)

    def handle_timer(self, now: float) -> None:
        self._now = now
        if self.zombie:
            return
        self._fire(self._schedule.due(now, self.sent), now)
        super().handle_timer(now)

    def next_deadline(self) -> float | None:
        if self.zombie or not self.is_open:
            return None
        deadlines = [d for d in (super().next_deadline(), self._schedule.next_deadline()) if d]
        return min(deadlines) if deadlines else None

    def messages_to_send(self) -> list[bytes]:
        messages = super().messages_to_send()
        if not self.faults:
            self.sent += len(messages)
            return messages
        out: list[bytes] = []
        for message in messages:
            self._fire(self._schedule.due(None, self.sent), self._now)
            if self.zombie or self._cut:
                break  # a zombie sends nothing; a dropped connection sends no more
            stream = self._stream
            if not stream.armed:
                out.append(message)
                self.sent += 1
                continue
            for item in stream.apply(message, _channel_of(message)):
                if isinstance(item, bytes):
                    out.append(item)
                else:
                    self.binary.append(item.payload)
                self.sent += 1
        return out

    # -- faults -------------------------------------------------------------------------------

    def _fire(self, faults: list[Fault], now: float) -> None:
        for fault in faults:
            if not self.is_open:
                return
            self.fired.append(fault)
            self.apply(fault, now)

    def apply(self, fault: Fault, now: float) -> None:
        """Carry out ``fault`` on this connection now."""
        kind = fault.kind
        if kind == "disconnect":
            self._cut = True
            code = fault.close_code
            if code is None:
                self.disconnect(now, abort=True)
            else:
                self.disconnect(now, code=code, reason="fault injected")
        elif kind == "zombie":
            self.zombie = True
        elif kind in ("duplicate", "reorder", "malformed"):
            self._stream.arm(fault)
        elif kind == "ratelimit":
            self._drain = True
        elif kind == "expire":
            if self.client_id is not None:
                self.state.expire_tokens(now, client_id=self.client_id)
        elif kind == "heartbeat":
            self._skip_test = True
        elif kind == "stall":
            self.stalled = True
        elif self.on_fault is not None:  # gap: the market's
            self.on_fault(fault, now)

    def _pools(self, now: float) -> list[str]:
        """The credit pools this connection's requests draw on now."""
        principal = self._session_principal(now)
        return [self._pool(principal)]


def _method(data: bytes | str) -> str | None:
    try:
        return decode_request(data).method
    except RejectedRequest:
        return None


def _is_test(data: bytes | str) -> bool:
    return _method(data) == "public/test"


def _rate_class(data: bytes | str) -> RateClass:
    """The rate class a request is charged to (the default class when unknown)."""
    command_type = command_type_for(_method(data) or "")
    return command_type.rate_class if command_type is not None else RateClass.NON_MATCHING


class VenueSocket(WebSocketServerStack):
    """The ``WebSocketServerStack`` of one venue connection (see the module docstring).

    ``pending_bytes`` is what was written and not yet taken by the transport while the
    reader is stalled; ``closed_too_slow`` says the too-slow limit closed it.
    """

    machine: VenueProtocol

    def __init__(
        self,
        machine: VenueProtocol,
        *,
        peer: str | None = None,
        max_pending_bytes: int,
        too_slow_code: int,
        **options: Any,
    ) -> None:
        super().__init__(machine, peer=peer, **options)
        self.max_pending_bytes = max_pending_bytes
        self.too_slow_code = too_slow_code
        self.closed_too_slow = False
        self._held = bytearray()

    @property
    def connection_id(self) -> int:
        return self.machine.connection_id

    @property
    def pending_bytes(self) -> int:
        return len(self._held)

    def _take(self) -> bytes:
        out = super().data_to_send()
        binary = self.machine.binary
        if binary:
            out += b"".join(encode_frame(OP_BINARY, payload, None) for payload in binary)
            binary.clear()
        return out

    def data_to_send(self) -> bytes:
        out = self._take()
        machine = self.machine
        if machine.zombie:
            return b""
        if machine.stalled:
            self._held += out
            return b""
        if self._held:
            out = bytes(self._held) + out
            self._held.clear()
        return out

    def receive_data(self, data: bytes, now: float) -> None:
        if data and self.machine.zombie:
            return  # a zombie reads nothing (end of file still ends it)
        super().receive_data(data, now)
        self._check(now)

    def send(self, command: Command, now: float) -> RequestId | None:
        result = super().send(command, now)
        self._check(now)
        return result

    def handle_timer(self, now: float) -> None:
        super().handle_timer(now)
        self._check(now)

    def transport_backlog(self, waiting: int, now: float) -> None:
        """The transport holds ``waiting`` unsent bytes: past the limit, close too slow."""
        if waiting > self.max_pending_bytes:
            self.too_slow(now)

    def _check(self, now: float) -> None:
        if self.machine.stalled and not self.machine.zombie:
            self._held += self._take()
            if len(self._held) > self.max_pending_bytes:
                self.too_slow(now)

    def too_slow(self, now: float) -> None:
        """Close with ``connection_too_slow``; what the reader never took is discarded."""
        machine = self.machine
        if self.closed_too_slow or not machine.is_open:
            return
        self.closed_too_slow = True
        self._held.clear()
        machine.stalled = False
        super().send(Disconnect(code=self.too_slow_code, reason=TOO_SLOW_REASON), now)


class VenueHTTP(HTTPServerConnection):
    """An HTTP connection of the venue; tells the venue when it is gone, and a server
    binding (through ``wakeup``) when the venue answered on it."""

    wakeup: Callable[[], None] | None = None

    def __init__(
        self, state: ServerState, *, peer: str | None, on_lost: Callable[[int], None]
    ) -> None:
        super().__init__(state, peer=peer)
        self._on_lost = on_lost

    def send(self, command: Command, now: float) -> RequestId | None:
        try:
            return super().send(command, now)
        finally:
            if self.wakeup is not None:
                self.wakeup()

    @property
    def connection_id(self) -> int:
        return self.protocol.connection_id

    def connection_lost(self, now: float) -> None:
        super().connection_lost(now)
        self._on_lost(self.connection_id)
