"""The Rails venue's connections: a WebSocket with a fault plan (the venue-neutral fault
engine with :class:`RailsFaultHooks`), and HTTP.

How each fault kind is applied to Rails (what the venue does is ours: the docs describe
no faults):

============= ==============================================================================
disconnect    ``Disconnect(abort=True)``; with a code, a close handshake with that code
zombie        from then on no byte is written and input is ignored
gap           the next book delta of the target market (``BTC-USD`` or
              ``publicOrderBook.BTC-USD``) is lost for *every* connection (delivery stays
              deterministic).  Rails has no sequence numbers, so a client cannot see it:
              its book is wrong until its next snapshot (a reconnect or a doubt)
duplicate,    on this connection's next push of the target (``publicOrderBook.BTC-USD``,
reorder       ``publicTrades.BTC-USD``, ``orders.BTC-USD``, ``trades``): sent twice, or
              held back and sent after the next one of the same target
malformed     this connection's next message (of the target, if given) becomes truncated
              JSON, a text frame of invalid UTF-8, or a binary frame
ratelimit     the account's order pool is emptied just before the connection's next
              message is read: an order request then gets 429 (the connection stays open)
expire        the tokens of the connection's account expire now: the venue closes the
              connection with 1008 "token expired" and refuses the old token with 401
heartbeat     the client's next ``ping`` is not read (no ``pong``): the client's own pong
              deadline declares the connection a zombie
stall         the socket stops handing bytes to the transport; past ``max_pending_bytes``
              it closes with ``too_slow_close_code``
============= ==============================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from tradewire.protocol.rails.server import ServerProtocol, ServerState

from .._fault_engine import FaultySocket
from .._faults import Fault

__all__ = ["STREAM_OF", "RailsFaultHooks", "rails_machine", "topic_of"]

STREAM_OF = {
    "publicOrderBookDelta": "publicOrderBook",
    "orderBookDelta": "publicOrderBook",
    "publicCompletedOrdersDelta": "publicTrades",
    "completedOrdersDelta": "trades",
    "fillOrder": "orders",
    "partialFillOrder": "orders",
}
"""The stream a pushed message belongs to, by ``resultType``."""


class _Peek(msgspec.Struct, gc=False):
    resultType: Any = None
    market: Any = None


class _PeekRequest(msgspec.Struct, gc=False):
    message: Any = None


_PEEK = msgspec.json.Decoder(_Peek)
_PEEK_REQUEST = msgspec.json.Decoder(_PeekRequest)


def topic_of(message: bytes) -> str | None:
    """A push's fault target: ``stream.market`` (``trades`` has no market); ``None`` for
    answers and anything else."""
    try:
        peeked = _PEEK.decode(message)
    except msgspec.DecodeError:
        return None
    stream = STREAM_OF.get(peeked.resultType) if isinstance(peeked.resultType, str) else None
    if stream is None:
        return None
    if stream == "trades" or not isinstance(peeked.market, str):
        return stream
    return f"{stream}.{peeked.market}"


def _message(data: bytes | str) -> str | None:
    try:
        found = _PEEK_REQUEST.decode(data).message
    except msgspec.DecodeError:
        return None
    return found if isinstance(found, str) else None


class RailsFaultHooks:
    """What each fault means for Rails (see the module docstring)."""

    def __init__(self, state: ServerState, market_gap: Callable[[Fault, float], None]) -> None:
        self.state = state
        self._market_gap = market_gap

    @staticmethod
    def topic_of(message: bytes) -> str | None:
        return topic_of(message)

    @staticmethod
    def is_heartbeat_answer(data: bytes | str) -> bool:
        return _message(data) == "ping"

    def drain_pool(self, machine: Any, data: bytes | str, now: float) -> None:
        assert isinstance(machine, ServerProtocol)
        self.state.pools.drain(f"account:{machine.account}", "orders", now)

    def expire(self, machine: Any, now: float) -> None:
        assert isinstance(machine, ServerProtocol)
        if machine.account:
            self.state.expire_tokens(now, account=machine.account)

    def market_gap(self, fault: Fault, now: float) -> None:
        self._market_gap(fault, now)


def rails_machine(socket: FaultySocket) -> ServerProtocol:
    """The ``rails.server.ServerProtocol`` inside a venue socket."""
    inner = socket.machine.inner
    assert isinstance(inner, ServerProtocol)
    return inner
