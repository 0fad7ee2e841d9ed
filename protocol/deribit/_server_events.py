"""What the Deribit server machines report to the venue, and what the venue tells them.

Events (``events()``): :class:`RequestReceived` for every request the venue must answer
(market data, trading, account, ``public/status`` ...), :class:`SubscribeReceived` for
subscribe calls, :class:`Unsubscribed`, :class:`CancelOnDisconnect` and
:class:`SessionClosed`.  Session methods (auth, tokens, heartbeats, unsubscribe,
cancel-on-disconnect settings, ``public/test``, ``hello``, ``get_time``) are answered by
the machine itself and produce no request event.

Commands (``send(command, now)``, which is how a venue writes through a
:class:`~tradewire.protocol.WebSocketServerStack`): the session layer's :class:`Reply`,
:class:`ReplyError` (a Deribit server takes int codes), :class:`AcceptSubscription`,
:class:`Notify` and :class:`Disconnect`, re-exported here.  The machines
have the same operations as methods (``reply``, ``reply_error``, ...), for callers
driving a machine directly.

``request_id`` in both directions is the machine's handle for one request, unique per
connection; ``wire_id`` is the ``id`` the client sent (an int, a str, or ``None``, and
not necessarily unique), echoed on the answer.
"""

from __future__ import annotations

from typing import Literal

from .._events import Event
from .._sources import RequestId
from ..session import AcceptSubscription, Disconnect, Notify, Reply, ReplyError
from ._commands import DeribitCommand, GenericRequest

__all__ = [
    "HEARTBEAT_CLOSE_CODE",
    "HEARTBEAT_CLOSE_REASON",
    "AcceptSubscription",
    "CancelOnDisconnect",
    "Disconnect",
    "Notify",
    "Reply",
    "ReplyError",
    "RequestReceived",
    "SessionClosed",
    "SubscribeReceived",
    "Transport",
    "Unsubscribed",
]

HEARTBEAT_CLOSE_CODE = 4000
"""WebSocket close code after an unanswered ``test_request`` (spec 1.5, probe)."""

HEARTBEAT_CLOSE_REASON = "heartbeat close"

Transport = Literal["websocket", "http"]


class RequestReceived(Event, frozen=True, kw_only=True):
    """A request for the venue to answer with ``reply`` or ``reply_error``.

    ``client_id``, ``account_id`` and ``scope`` describe who is asking: the
    authenticated connection, the request's ``access_token``, or (HTTP) its
    ``Authorization`` header; all ``None`` when unauthenticated.  ``account_id`` is the
    sub-account after ``public/exchange_token``.  ``scope`` is the granted scope string;
    enforcing ``trade:read_write`` and the like is the venue's call.  ``connection_id``
    lets the venue cancel a connection's orders on :class:`CancelOnDisconnect`.
    ``received_at`` is the machine's ``now`` on arrival (``usIn``).
    """

    request_id: int
    wire_id: RequestId | None
    command: DeribitCommand | GenericRequest
    connection_id: int
    transport: Transport
    client_id: str | None = None
    account_id: int | None = None
    scope: str | None = None
    received_at: float = 0.0

    @property
    def method(self) -> str:
        return self.command.method


class SubscribeReceived(RequestReceived, frozen=True, kw_only=True):
    """A ``public/subscribe`` or ``private/subscribe``; answer with ``accept_subscription``.

    ``channels`` are the candidates the machine allows, in request order, without
    duplicates: valid channel grammar (spec 3.2), ``user.*`` only through
    ``private/subscribe``, ``raw`` only when authenticated.  The venue keeps those its
    market knows (unknown instruments are dropped silently, spec 3.1).
    """

    channels: tuple[str, ...] = ()


class Unsubscribed(Event, frozen=True, kw_only=True):
    """``channels`` stopped being active on the connection (an unsubscribe call)."""

    connection_id: int
    channels: tuple[str, ...]


class CancelOnDisconnect(Event, frozen=True, kw_only=True):
    """The connection ended with cancel-on-disconnect on: cancel the orders it created.

    Emitted once, when the machine closes the connection (heartbeat, credits, idle, the
    venue's :class:`Disconnect`) or the transport is lost, never after ``private/logout``
    (spec 5.5).  ``client_id`` / ``account_id`` are those that enabled it.
    """

    connection_id: int
    client_id: str
    account_id: int
    reason: str


class SessionClosed(Event, frozen=True, kw_only=True):
    """The connection is gone (``connection_lost``); ``reason`` says who ended it."""

    connection_id: int
    reason: str
    logged_out: bool = False
