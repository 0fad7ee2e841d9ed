"""Events and settings shared by the WebSocket client and server stacks.

The stacks (``_ws_client.py``, ``_ws_server.py``) wrap a venue machine into the driving
contract one level down: bytes in (``receive_data``), bytes out (``data_to_send``),
timers through ``next_deadline`` / ``handle_timer``.  Their events are the venue
machine's events interleaved, in order, with the connection-level events defined here.
"""

from __future__ import annotations

import enum
from typing import Literal

from .._contract import Headers, UpgradeRequest
from .._errors import LocalProtocolError
from .._events import Event

__all__ = [
    "Connected",
    "ReconnectDue",
    "ReconnectScheduled",
    "StackState",
    "UpgradeAccepted",
    "UpgradeRefused",
    "UpgradeRejected",
    "WebSocketClosed",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_MESSAGE_TIMEOUT",
    "check_positive",
]

#: Default bound on one inbound message, in bytes (its UTF-8 payload as sent).
#: Deribit's book snapshots of a few thousand levels fit.
DEFAULT_MAX_MESSAGE_SIZE = 4 * 2**20

#: Seconds an inbound message may take from its first byte to its last (a fragmented
#: message, or one large frame arriving in pieces); then the stack closes with 1008.
DEFAULT_MESSAGE_TIMEOUT = 30.0


class StackState(enum.Enum):
    """Where a stack is in its connection's life.

    A client stack is long-lived: ``DIAL`` (the binding should open a transport now) ->
    ``CONNECTING`` (upgrade sent) -> ``OPEN`` -> ``CLOSING`` -> ``BACKOFF`` (waiting for the
    reconnect deadline) -> ``DIAL`` ... until ``CLOSED`` (closed on purpose, or a refusal
    that retrying cannot fix).  A server stack lives for one connection and goes
    ``CONNECTING`` -> ``OPEN`` -> ``CLOSING`` -> ``CLOSED``.
    """

    DIAL = "dial"
    CONNECTING = "connecting"
    OPEN = "open"
    CLOSING = "closing"
    BACKOFF = "backoff"
    CLOSED = "closed"


class Connected(Event, frozen=True, kw_only=True):
    """Client: the upgrade succeeded; the venue machine got ``connection_made``.

    ``subprotocol`` is the one the server accepted, with a credential carried in it
    masked (Rails' ``authorization#<JWT>`` reads ``authorization#<redacted>``: events
    are printed and logged); the stack's ``subprotocol`` attribute has it as it was."""

    subprotocol: str | None
    attempt: int  # 0 for the first connection, then 1, 2 ... for reconnects


class UpgradeRejected(Event, frozen=True, kw_only=True):
    """Client: the server refused the upgrade with an HTTP response.

    ``retrying`` says whether the stack will reconnect (429, 5xx, 408) or has stopped
    (other 4xx: the same request would be refused again).
    """

    status: int
    headers: Headers
    body: bytes
    retrying: bool


class WebSocketClosed(Event, frozen=True, kw_only=True):
    """A connection ended; reported once per opened connection.

    ``by`` says who ended it: ``"remote"`` (the peer sent a close frame; ``code`` is
    its code, e.g. Deribit's 4000 "heartbeat close"), ``"local"`` (this side closed;
    ``code`` is the code sent) or ``"transport"`` (the connection dropped without a
    close handshake; ``code`` is 1006).
    """

    code: int
    reason: str
    by: Literal["local", "remote", "transport"]


class ReconnectScheduled(Event, frozen=True, kw_only=True):
    """Client: the connection is gone; a new one is due at ``at`` (after ``delay`` s)."""

    attempt: int
    delay: float
    at: float


class ReconnectDue(Event, frozen=True, kw_only=True):
    """Client: the backoff delay has passed; the stack is in ``DIAL``: open a transport."""

    attempt: int


class UpgradeAccepted(Event, frozen=True, kw_only=True):
    """Server: the venue machine accepted the upgrade and got ``connection_made``;
    ``subprotocol`` is the one echoed, a credential in it masked (see :class:`Connected`)."""

    request: UpgradeRequest
    subprotocol: str | None


class UpgradeRefused(Event, frozen=True, kw_only=True):
    """Server: the venue machine refused the upgrade with ``status``."""

    request: UpgradeRequest | None
    status: int


def check_positive(name: str, value: float | None, *, allow_none: bool = False) -> None:
    """Raise :class:`LocalProtocolError` unless ``value`` is a number > 0."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        accepted = "a number > 0 or None" if allow_none else "a number > 0"
        raise LocalProtocolError(f"invalid {name}: expected {accepted}, got {value!r}")
