"""The fault engine: a fault plan applied to any venue's server machine, by composition.

:class:`FaultyMachine` wraps a server machine (any object with the driving contract and
``is_open``) and fires the connection's faults (``_faults.py``) when they are due: its
``next_deadline`` includes them, message-count triggers are checked as messages go out,
and the message-level faults are applied to what the machine sends.  :class:`FaultySocket`
is the ``WebSocketServerStack`` around it, adding what only the byte level can do: a
zombie (nothing out, not even pongs; input ignored), binary frames, a stalled reader.

The engine knows no venue.  What a fault *means* for one is a :class:`FaultHooks`:

============= ==============================================================================
hook          used for
============= ==============================================================================
topic_of      ``duplicate`` / ``reorder`` / ``malformed`` with a target: which topic an
              outbound message belongs to (``None``: not a push)
is_heartbeat  ``heartbeat``: the next client message that answers the venue's liveness
_answer       check is not read, so the venue's own check closes the connection
drain_pool    ``ratelimit``: empty the rate pool the next request draws on, just before
              it is read (a pool refills in a fraction of a second, so it waits for it)
expire        ``expire``: the connection's credentials expire now
market_gap    ``gap``: what a gap in the target's market data means (the venue's market)
idle_close    ``idle`` (optional): close the connection as the venue's idle timer does
              (without it: a close handshake 1000 ``"idle timeout"``)
============= ==============================================================================

Faults every venue gets the same way: ``disconnect`` (``Disconnect(abort=True)``, or a
close handshake with the fault's code), ``zombie`` and ``stall`` (the socket), and the
message-level ``duplicate``, ``reorder`` and ``malformed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from tradewire.protocol import (
    AcceptUpgrade,
    Command,
    Event,
    RejectUpgrade,
    RequestId,
    UpgradeRequest,
)
from tradewire.protocol.session import Disconnect
from tradewire.protocol.transport._frames import OP_BINARY, encode_frame
from tradewire.protocol.transport._ws_server import WebSocketServerStack

from ._faults import Fault, FaultSchedule, MessageFaults

__all__ = ["FaultHooks", "FaultySocket", "FaultyMachine", "ServerMachineLike"]


class ServerMachineLike(Protocol):
    """What the engine needs of a server machine: the driving contract and ``is_open``."""

    @property
    def is_open(self) -> bool: ...

    @property
    def close_request(self) -> Any: ...

    @property
    def connection_id(self) -> int: ...

    def decide_upgrade(
        self, request: UpgradeRequest, now: float
    ) -> AcceptUpgrade | RejectUpgrade: ...

    def connection_made(self, now: float) -> None: ...

    def receive_message(self, data: bytes | str, now: float) -> None: ...

    def send(self, command: Command, now: float) -> RequestId | None: ...

    def handle_timer(self, now: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def connection_lost(self, now: float) -> None: ...

    def messages_to_send(self) -> list[bytes]: ...

    def events(self) -> list[Event]: ...


class FaultHooks(Protocol):
    """What each fault means for one venue (see the module docstring)."""

    def topic_of(self, message: bytes) -> str | None: ...

    def is_heartbeat_answer(self, data: bytes | str) -> bool: ...

    def drain_pool(self, machine: Any, data: bytes | str, now: float) -> None: ...

    def expire(self, machine: Any, now: float) -> None: ...

    def market_gap(self, fault: Fault, now: float) -> None: ...


class FaultyMachine:
    """A server machine with one connection's faults (see the module docstring).

    ``inner`` is the venue's machine; everything the venue does with it (answers,
    notifications, inspection) goes to ``inner``; the stack drives this wrapper.
    """

    def __init__(
        self,
        inner: ServerMachineLike,
        hooks: FaultHooks,
        *,
        number: int = 1,
        faults: Sequence[Fault] = (),
    ) -> None:
        self.inner = inner
        self.hooks = hooks
        self.number = number
        self.faults = tuple(faults)
        self.fired: list[Fault] = []
        self.sent = 0
        self.zombie = False
        self.stalled = False
        self.binary: list[bytes] = []
        self._schedule = FaultSchedule((), 0.0)
        self._stream = MessageFaults()
        self._skip_answer = False  # heartbeat: the next liveness answer is not read
        self._drain = False  # ratelimit: empty the pool before the next request
        self._cut = False  # a disconnect fault fired: nothing more goes out
        self._now = 0.0

    def __repr__(self) -> str:
        return f"FaultyMachine(number={self.number}, fired={len(self.fired)}, inner={self.inner!r})"

    @property
    def connection_id(self) -> int:
        return self.inner.connection_id

    @property
    def is_open(self) -> bool:
        return self.inner.is_open

    @property
    def close_request(self) -> Any:
        return self.inner.close_request

    @property
    def max_message_size(self) -> int | None:
        """The inner machine's own request limit, when it declares one: the WebSocket
        stack keeps no more of a message arriving in pieces."""
        limit = getattr(self.inner, "max_message_size", None)
        return limit if isinstance(limit, int) else None

    # -- the driving contract, with faults --------------------------------------------------

    def decide_upgrade(self, request: UpgradeRequest, now: float) -> AcceptUpgrade | RejectUpgrade:
        self._now = now
        return self.inner.decide_upgrade(request, now)

    def connection_made(self, now: float) -> None:
        self.inner.connection_made(now)
        self._now = now
        self._schedule = FaultSchedule(self.faults, now)

    def receive_message(self, data: bytes | str, now: float) -> None:
        self._now = now
        inner = self.inner
        if self._skip_answer and inner.is_open and self.hooks.is_heartbeat_answer(data):
            self._skip_answer = False
            return
        if self._drain and inner.is_open:
            self._drain = False
            self.hooks.drain_pool(inner, data, now)
        inner.receive_message(data, now)

    def send(self, command: Command, now: float) -> RequestId | None:
        return self.inner.send(command, now)

    def ping_received(self, now: float) -> None:
        """A control-frame ping, passed on to a machine that counts it as liveness (a
        zombie reads nothing, so it is not told)."""
        self._now = now
        hook = getattr(self.inner, "ping_received", None)
        if hook is not None and not self.zombie:
            hook(now)

    def handle_timer(self, now: float) -> None:
        self._now = now
        if self.zombie:
            return
        self._fire(self._schedule.due(now, self.sent), now)
        self.inner.handle_timer(now)

    def next_deadline(self) -> float | None:
        if self.zombie or not self.inner.is_open:
            return None
        deadlines = [d for d in (self.inner.next_deadline(), self._schedule.next_deadline()) if d]
        return min(deadlines) if deadlines else None

    def connection_lost(self, now: float) -> None:
        self.inner.connection_lost(now)

    def events(self) -> list[Event]:
        return self.inner.events()

    def messages_to_send(self) -> list[bytes]:
        messages = self.inner.messages_to_send()
        if not self.faults:
            self.sent += len(messages)
            return messages
        out: list[bytes] = []
        topic_of = self.hooks.topic_of
        for message in messages:
            self._fire(self._schedule.due(None, self.sent), self._now)
            if self.zombie or self._cut:
                break  # a zombie sends nothing; a dropped connection sends no more
            stream = self._stream
            if not stream.armed:
                out.append(message)
                self.sent += 1
                continue
            for item in stream.apply(message, topic_of(message)):
                if isinstance(item, bytes):
                    out.append(item)
                else:
                    self.binary.append(item.payload)
                self.sent += 1
        return out

    # -- faults -------------------------------------------------------------------------------

    def _fire(self, faults: list[Fault], now: float) -> None:
        for fault in faults:
            if not self.inner.is_open:
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
                self.inner.send(Disconnect(abort=True), now)
            else:
                self.inner.send(Disconnect(code=code, reason="fault injected"), now)
        elif kind == "zombie":
            self.zombie = True
        elif kind in ("duplicate", "reorder", "malformed"):
            self._stream.arm(fault)
        elif kind == "ratelimit":
            self._drain = True
        elif kind == "expire":
            self.hooks.expire(self.inner, now)
        elif kind == "heartbeat":
            self._skip_answer = True
        elif kind == "stall":
            self.stalled = True
        elif kind == "idle":
            # A venue's hooks may close as its idle timer does; by default a close
            # handshake 1000 "idle timeout".
            idle_close = getattr(self.hooks, "idle_close", None)
            if idle_close is not None:
                idle_close(self.inner, now)
            else:
                self.inner.send(Disconnect(code=1000, reason="idle timeout"), now)
        else:  # gap: the venue's market
            self.hooks.market_gap(fault, now)


class FaultySocket(WebSocketServerStack):
    """The ``WebSocketServerStack`` of one venue connection (see the module docstring).

    ``pending_bytes`` is what was written and not yet taken by the transport while the
    reader is stalled; ``closed_too_slow`` says the too-slow limit closed it (with
    ``too_slow_code`` and ``too_slow_reason``).
    """

    machine: FaultyMachine

    def __init__(
        self,
        machine: FaultyMachine,
        *,
        peer: str | None = None,
        max_pending_bytes: int,
        too_slow_code: int,
        too_slow_reason: str = "connection_too_slow",
        **options: Any,
    ) -> None:
        super().__init__(machine, peer=peer, **options)
        self.max_pending_bytes = max_pending_bytes
        self.too_slow_code = too_slow_code
        self.too_slow_reason = too_slow_reason
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

    def flush(self, now: float) -> None:
        super().flush(now)
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
        """Close with the too-slow code; what the reader never took is discarded."""
        machine = self.machine
        if self.closed_too_slow or not machine.is_open:
            return
        self.closed_too_slow = True
        self._held.clear()
        machine.stalled = False
        super().send(Disconnect(code=self.too_slow_code, reason=self.too_slow_reason), now)
