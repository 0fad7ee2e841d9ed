"""The Currency.com venue's connections: a WebSocket with a fault plan, and REST.

A WebSocket connection is the venue-neutral fault engine (:class:`FaultyMachine` around
``currencycom.server.ServerProtocol``, in a :class:`FaultySocket`) with
:class:`CurrencycomFaultHooks`; how each fault kind applies is in the docstring of
``_venue``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from tradewire.protocol.currencycom.server import (
    HTTPServerConnection,
    ServerProtocol,
    ServerState,
    rate_keys,
)

from .._fault_engine import FaultySocket
from .._faults import Fault

__all__ = [
    "CurrencycomFaultHooks",
    "VenueHTTP",
    "currencycom_machine",
    "fault_target",
    "push_topic",
]


class _Peek(msgspec.Struct):
    destination: Any = None
    payload: Any = None


_PEEK = msgspec.json.Decoder(_Peek)


def _peek(data: bytes | str) -> _Peek | None:
    try:
        return _PEEK.decode(data)
    except msgspec.DecodeError:
        return None


def fault_target(topic: str) -> str:
    """A topic as a fault plan names it: the plan grammar takes ``[A-Za-z0-9_.-]`` only,
    so ``:`` is written ``.`` and ``/`` and spaces ``_`` (``depth:BTC/USD`` ->
    ``depth.BTC_USD``; our choice)."""
    return topic.replace(":", ".").replace("/", "_").replace(" ", "_")


def push_topic(message: bytes) -> str | None:
    """The topic of a push the venue sends (``None``: not a push)."""
    peeked = _peek(message)
    if peeked is None or not isinstance(peeked.payload, dict):
        return None
    payload = peeked.payload
    destination = peeked.destination
    if destination == "marketdepth.event":
        return f"depth:{payload.get('symbol')}"
    if destination == "internal.trade":
        return f"trades:{payload.get('symbol')}"
    if destination == "internal.quote":
        return f"quote:{payload.get('symbolName')}"
    if destination == "ohlc.event":
        kind = "ohlc" if payload.get("type", "classic") == "classic" else payload.get("type")
        return f"{kind}:{payload.get('interval')}:{payload.get('symbol')}"
    return None


class CurrencycomFaultHooks:
    """What each fault means for Currency.com (see ``_venue``)."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    @staticmethod
    def topic_of(message: bytes) -> str | None:
        """The fault target of a push: its topic as :func:`fault_target` writes it."""
        topic = push_topic(message)
        return None if topic is None else fault_target(topic)

    @staticmethod
    def is_heartbeat_answer(data: bytes | str) -> bool:
        peeked = _peek(data)
        return peeked is not None and peeked.destination == "ping"

    def drain_pool(self, machine: Any, data: bytes | str, now: float) -> None:
        assert isinstance(machine, ServerProtocol)
        peeked = _peek(data)
        destination = peeked.destination if peeked is not None else None
        name = destination.partition("/api/")[2][3:] if isinstance(destination, str) else ""
        payload = peeked.payload if peeked is not None else None
        key = payload.get("apiKey") if isinstance(payload, dict) else None
        pool = f"key:{key}" if key else f"connection:{machine.connection_id}"
        self.state.drain(pool, rate_keys(name), now)

    def expire(self, machine: Any, now: float) -> None:
        pass  # requests are signed one by one: nothing to expire

    def market_gap(self, fault: Fault, now: float) -> None:
        pass  # every depth event is the whole book


def currencycom_machine(socket: FaultySocket) -> ServerProtocol:
    """The ``currencycom.server.ServerProtocol`` inside a venue socket."""
    inner = socket.machine.inner
    assert isinstance(inner, ServerProtocol)
    return inner


class VenueHTTP(HTTPServerConnection):
    """A REST connection of the venue; tells the venue when it is gone."""

    def __init__(
        self, state: ServerState, *, peer: str | None, on_lost: Callable[[int], None]
    ) -> None:
        super().__init__(state, peer=peer)
        self._on_lost = on_lost

    def connection_lost(self, now: float) -> None:
        super().connection_lost(now)
        self._on_lost(self.connection_id)
