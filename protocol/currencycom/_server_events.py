"""What the venue side reports to the venue: requests to answer, subscriptions to accept,
a connection that ended."""

from __future__ import annotations

from typing import Any, Literal

from .._events import Event

__all__ = ["RequestReceived", "SessionClosed", "SubscribeReceived", "Transport"]

Transport = Literal["ws", "http"]


class RequestReceived(Event, frozen=True, kw_only=True):
    """A request for the venue (REST over WebSocket, or REST): answer ``request_id`` with
    ``Reply`` / ``ReplyError`` on the connection.

    ``name`` is the path under ``/api/vN/`` as the WebSocket names it (``account``,
    ``order/create``, ``order/cancel`` ...; REST's ``POST``/``DELETE /order`` are
    ``order/create`` / ``order/cancel``); ``params`` are the request's parameters without
    ``apiKey``, ``timestamp``, ``recvWindow`` and ``signature``; ``account`` is the
    signing key's account (``None``: a public request)."""

    connection_id: int
    request_id: int
    name: str
    version: str
    params: dict[str, Any]
    account: str | None = None
    transport: Transport = "ws"


class SubscribeReceived(Event, frozen=True, kw_only=True):
    """A subscribe request: answer it with ``ServerProtocol.accept_subscription``.

    ``topics`` are the topics it asks for, in the client grammar (``depth:BTC/USD``,
    ``ohlc:M1:BTC/USD``: the interval token as the client sent it), one per symbol and
    interval; ``symbols`` in request order."""

    connection_id: int
    request_id: int
    kind: str
    symbols: tuple[str, ...]
    topics: tuple[str, ...]


class SessionClosed(Event, frozen=True, kw_only=True):
    """The connection ended; ``reason`` says why (idle timeout, closed by the venue ...)."""

    connection_id: int
    reason: str
