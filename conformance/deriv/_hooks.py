"""What each fault of a fault plan means for the Deriv venue (the engine's ``FaultHooks``).

============= ==============================================================================
disconnect    ``Disconnect(abort=True)``; with a code, a close handshake with that code
zombie        from then on nothing is written (no pongs either), input is ignored: the
              client's ping goes unanswered and its pong deadline (5 s) catches it
malformed     the connection's next message (of the target stream, if given: ``ticks.R_50``,
              ``candles.R_50.60``, or a ``msg_type`` such as ``proposal``) becomes
              truncated JSON, invalid UTF-8 or a binary frame
duplicate,    the next message of the target stream is sent twice / swapped with the next
reorder
ratelimit     the budget the connection's next call draws on is emptied: that call is
              answered ``RateLimit`` (the connection stays open, spec 6.2)
expire        "token revoked": the connection loses its authorization (as if logged out
              elsewhere; the token itself stays valid): private calls answer
              ``AuthorizationRequired`` until it authorizes again
heartbeat     the client's next ``{"ping": 1}`` is not read: no pong comes back
idle          the venue closes the connection now as idle (its inactivity close)
stall         the socket stops handing bytes to the transport (a client that stopped
              reading); past ``max_pending_bytes`` it is closed ``connection_too_slow``
gap           refused: Deriv streams carry no sequence numbers
============= ==============================================================================
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradewire.protocol.deriv.server import ServerProtocol, ServerState, find_call

from .._faults import Fault

__all__ = ["DerivFaultHooks"]


class _Symbol(msgspec.Struct):
    symbol: str | None = None
    granularity: int | None = None


class _Peek(msgspec.Struct):
    msg_type: str | None = None
    subscription: Any = None
    tick: _Symbol | None = None
    ohlc: _Symbol | None = None


_PEEK = msgspec.json.Decoder(_Peek)
_REQUEST = msgspec.json.Decoder(dict[str, Any])


def _call(data: bytes | str) -> str | None:
    try:
        request = _REQUEST.decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return find_call(request)


class DerivFaultHooks:
    """What each fault means for Deriv (see the module docstring)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    @staticmethod
    def topic_of(message: bytes) -> str | None:
        """A stream message's target name: ``ticks.SYMBOL`` (ticks of a ``ticks`` or
        ``ticks_history`` stream), ``candles.SYMBOL.GRANULARITY``, else its msg_type."""
        try:
            peek = _PEEK.decode(message)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return None
        if peek.subscription is None or peek.msg_type is None:
            return None
        if peek.tick is not None and peek.tick.symbol:
            return f"ticks.{peek.tick.symbol}"
        if peek.ohlc is not None and peek.ohlc.symbol:
            return f"candles.{peek.ohlc.symbol}.{peek.ohlc.granularity}"
        return peek.msg_type

    @staticmethod
    def is_heartbeat_answer(data: bytes | str) -> bool:
        return _call(data) == "ping"

    def drain_pool(self, machine: Any, data: bytes | str, now: float) -> None:
        assert isinstance(machine, ServerProtocol)
        self.state.drain(machine, _call(data) or "ping", now)

    @staticmethod
    def expire(machine: Any, now: float) -> None:
        assert isinstance(machine, ServerProtocol)
        machine.account = None

    @staticmethod
    def idle_close(machine: Any, now: float) -> None:
        assert isinstance(machine, ServerProtocol)
        machine.session.close(1000, "inactivity timeout", why="idle timeout")

    def market_gap(self, fault: Fault, now: float) -> None:  # pragma: no cover - refused
        raise AssertionError("the Deriv venue refuses gap faults")
