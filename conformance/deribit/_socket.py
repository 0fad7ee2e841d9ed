"""The Deribit venue's connections: a WebSocket with a fault plan, and HTTP.

A WebSocket connection is the venue-neutral fault engine (``tradewire.conformance.
_fault_engine``: :class:`FaultyMachine` around ``deribit.ServerProtocol``, in a
:class:`FaultySocket`) with Deribit's :class:`DeribitFaultHooks`.  How each fault kind is
applied here:

============= ==============================================================================
disconnect    ``Disconnect(abort=True)``; with a code, a close handshake with that code
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
              gets 10028 and the connection closes once the requests before it are
              answered (a pool refills in a fraction of a second, so the emptying waits for
              the request)
expire        ``ServerState.expire_tokens`` for the connection's client id (if it has
              authenticated)
heartbeat     the next ``public/test`` call is not read, so an outstanding
              ``test_request`` stays unanswered and the machine closes with 4000
stall         the socket stops handing bytes to the transport (a client that stopped
              reading); past ``max_pending_bytes`` they are discarded and the socket closes
              with ``too_slow_close_code`` and reason ``connection_too_slow``
============= ==============================================================================

Over a real socket the binding reports the transport's write buffer through
:meth:`FaultySocket.transport_backlog` (the venue's ``on_backlog``), which applies the same
too-slow limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from tradewire.protocol.deribit import (
    RateClass,
    command_type_for,
)
from tradewire.protocol.deribit.server import (
    HTTPServerConnection,
    RejectedRequest,
    ServerProtocol,
    ServerState,
    decode_request,
)

from .._fault_engine import FaultyMachine, FaultySocket
from .._faults import Fault

__all__ = ["DeribitFaultHooks", "VenueHTTP", "VenueProtocol", "VenueSocket"]

VenueProtocol = FaultyMachine
"""A venue WebSocket's machine: the fault engine around ``deribit.ServerProtocol``."""
VenueSocket = FaultySocket
"""A venue WebSocket: the fault engine's socket."""


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


def _method(data: bytes | str) -> str | None:
    try:
        return decode_request(data).method
    except RejectedRequest:
        return None


def _rate_class(data: bytes | str) -> RateClass:
    """The rate class a request is charged to (the default class when unknown)."""
    command_type = command_type_for(_method(data) or "")
    return command_type.rate_class if command_type is not None else RateClass.NON_MATCHING


class DeribitFaultHooks:
    """What each fault means for Deribit (see the module docstring)."""

    def __init__(self, state: ServerState, market_gap: Callable[[Fault, float], None]) -> None:
        self.state = state
        self._market_gap = market_gap

    @staticmethod
    def topic_of(message: bytes) -> str | None:
        return _channel_of(message)

    @staticmethod
    def is_heartbeat_answer(data: bytes | str) -> bool:
        return _method(data) == "public/test"

    def drain_pool(self, machine: Any, data: bytes | str, now: float) -> None:
        assert isinstance(machine, ServerProtocol)
        principal = machine.session_principal(now)
        pool = machine.requests.pool(principal)
        self.state.drain_credits(pool, _rate_class(data), now)

    def expire(self, machine: Any, now: float) -> None:
        assert isinstance(machine, ServerProtocol)
        if machine.client_id is not None:
            self.state.expire_tokens(now, client_id=machine.client_id)

    def market_gap(self, fault: Fault, now: float) -> None:
        self._market_gap(fault, now)


def deribit_machine(socket: FaultySocket) -> ServerProtocol:
    """The ``deribit.ServerProtocol`` inside a venue socket."""
    inner = socket.machine.inner
    assert isinstance(inner, ServerProtocol)
    return inner


class VenueHTTP(HTTPServerConnection):
    """An HTTP connection of the venue; tells the venue when it is gone."""

    def __init__(
        self, state: ServerState, *, peer: str | None, on_lost: Callable[[int], None]
    ) -> None:
        super().__init__(state, peer=peer)
        self._on_lost = on_lost

    @property
    def connection_id(self) -> int:
        return self.protocol.connection_id

    def connection_lost(self, now: float) -> None:
        super().connection_lost(now)
        self._on_lost(self.connection_id)
