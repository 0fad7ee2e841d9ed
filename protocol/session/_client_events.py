"""Events and failures the generic client machine reports on its own, for every venue.

Requests resolve as the core's ``RequestSucceeded`` / ``RequestFailed``; subscriptions
report ``SubscriptionActive`` / ``SubscriptionRejected`` / ``SubscriptionEnded``; book
continuity its own events (``_continuity.py``).  These are the rest: authentication,
liveness, interim answers, answers nobody asked for, and the end of a session.  None of
them ever holds a credential.
"""

from __future__ import annotations

from typing import Any

from .._errors import RequestFailure
from .._events import Command, ConnectionDead, Event
from .._sources import RequestId

__all__ = [
    "AuthenticationFailed",
    "HeartbeatTimeout",
    "HeartbeatUnavailable",
    "MalformedResult",
    "PongTimeout",
    "RequestAccepted",
    "SessionEnded",
    "UnmatchedError",
]


class MalformedResult(RequestFailure):
    """The venue answered, but its result does not fit the command's result type."""


class AuthenticationFailed(Event, frozen=True, kw_only=True):
    """Authentication failed on this connection; ``error`` says why.

    A venue error also fails every request waiting for authentication with the same
    error, and rejects the waiting subscriptions that need it.  A timeout instead drops
    the connection (see ``close_request``) and the waiting requests wait for the next
    one, within their deadlines.
    """

    error: RequestFailure


class HeartbeatTimeout(ConnectionDead, frozen=True, kw_only=True):
    """Nothing arrived for ``silence`` seconds, past the venue's heartbeat allowance.

    The machine has set ``close_request`` (abort); the stack drops the transport and
    reconnects.
    """

    silence: float


class PongTimeout(ConnectionDead, frozen=True, kw_only=True):
    """A ping of ours went unanswered for ``waited`` seconds: the connection is a zombie
    (open, but nothing comes back).  The machine has set ``close_request`` (abort)."""

    waited: float


class HeartbeatUnavailable(Event, frozen=True, kw_only=True):
    """The venue refused the heartbeat set-up; the silence check is off for this
    connection (no heartbeats will come, so silence would prove nothing).  An unanswered
    set-up instead leaves the check on: it is what declares such a peer dead."""

    error: RequestFailure


class RequestAccepted(Event, frozen=True, kw_only=True):
    """An interim answer: the venue accepted ``request_id`` and will confirm it later
    (Rails answers 202, then 200).  The request is still open; it resolves once, with
    the final answer.  ``result`` is the interim answer, typed like the final one."""

    request_id: RequestId
    command: Command
    result: Any


class SessionEnded(Event, frozen=True, kw_only=True):
    """A request that ends the session (a logout) went out and the venue closed the
    connection: the session is over.

    The machine stays ended: ``send`` raises, and a later connection is closed at once.
    Close the stack (``stack.close(now)``) to stop it reconnecting.
    """


class UnmatchedError(Event, frozen=True, kw_only=True):
    """An error answer that matches no open request (no id, or an unknown one).

    Deribit answers a request it could not parse with 11050 and no id.
    """

    error: RequestFailure
    request_id: int | str | None = None
