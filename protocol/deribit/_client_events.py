"""What :class:`~tradewire.protocol.deribit.ClientProtocol` adds to the wire layer's types.

Commands the user sends to manage subscriptions (the machine owns the subscribe and
unsubscribe methods, so it can keep its ledger exact), the results those requests resolve
with, the events the machine reports on its own (authentication, liveness, book
continuity, logout) and one request failure of its own (:class:`MalformedResult`).

Channel notifications, heartbeats and unknown messages come out as the wire layer's
events (``BookUpdate``, ``Notification``, ``UnknownMessage`` ...); requests resolve as the
core's ``RequestSucceeded`` / ``RequestFailed``; subscriptions report the core's
``SubscriptionActive`` / ``SubscriptionRejected`` / ``SubscriptionEnded``.  Nothing here
ever holds a credential: tokens stay inside the machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from .._errors import LocalProtocolError, RequestFailure
from .._events import Command, ConnectionDead, Event, SubscriptionRejected
from ._channels import parse_channel
from ._errors import DeribitError

__all__ = [
    "Authenticated",
    "AuthenticationFailed",
    "BookCrossed",
    "BookGap",
    "BookResynced",
    "HeartbeatTimeout",
    "HeartbeatUnavailable",
    "LoggedOut",
    "MalformedResult",
    "SubscribeResult",
    "Subscribe",
    "UnmatchedError",
    "Unsubscribe",
    "UnsubscribeAll",
    "UnsubscribeResult",
]


# -- commands -----------------------------------------------------------------------------


def _check_channels(command: msgspec.Struct, channels: Sequence[str]) -> None:
    if isinstance(channels, str) or not isinstance(channels, Sequence) or not channels:
        raise LocalProtocolError(
            f"invalid channels: expected a non-empty list of channel names, got {channels!r:.80}"
        )
    unique = tuple(dict.fromkeys(channels))
    for name in unique:
        parse_channel(name)  # raises LocalProtocolError naming the bad part
    msgspec.structs.force_setattr(command, "channels", unique)


class Subscribe(Command, frozen=True, kw_only=True):
    """Subscribe to ``channels``; resolves with a :class:`SubscribeResult`.

    Every name is checked against the channel grammar (spec 3.2) on construction: the
    venue drops a malformed name silently, so it is refused here, loudly.  Duplicates are
    removed.  ``user.*`` and ``raw`` channels go through ``private/subscribe`` once the
    connection is authenticated; the others through ``public/subscribe`` at once.
    """

    channels: Sequence[str]

    def __post_init__(self) -> None:
        _check_channels(self, self.channels)


class Unsubscribe(Command, frozen=True, kw_only=True):
    """Unsubscribe from ``channels``; resolves with an :class:`UnsubscribeResult`."""

    channels: Sequence[str]

    def __post_init__(self) -> None:
        _check_channels(self, self.channels)


class UnsubscribeAll(Command, frozen=True, kw_only=True):
    """Unsubscribe from every channel; resolves with an :class:`UnsubscribeResult`.

    Sent as ``public/unsubscribe`` / ``private/unsubscribe`` of the channels themselves,
    not as ``*/unsubscribe_all``, whose ``"ok"`` cannot be checked channel by channel.
    """


# -- results ------------------------------------------------------------------------------


class SubscribeResult(msgspec.Struct, frozen=True, kw_only=True):
    """How a :class:`Subscribe` ended: each channel is in exactly one of the two.

    ``rejected`` says why, per channel, as ``SubscriptionRejected`` values: left out of
    the venue's acknowledgement, a venue error such as 13778 or failed authentication
    (all three also reported as events), or unsubscribed before it was acknowledged.
    """

    active: tuple[str, ...]
    rejected: tuple[SubscriptionRejected, ...] = ()


class UnsubscribeResult(msgspec.Struct, frozen=True, kw_only=True):
    """The channels that ended (acknowledged by the venue or gone with the connection)."""

    ended: tuple[str, ...]


class MalformedResult(RequestFailure):
    """The venue answered, but its ``result`` does not fit the command's result type."""


# -- events -------------------------------------------------------------------------------


class Authenticated(Event, frozen=True, kw_only=True):
    """``public/auth`` succeeded: ``scope`` as *granted* (spec 2.4), lifetime in seconds.

    ``refreshed`` is true for a ``refresh_token`` renewal on the same connection.  The
    tokens themselves stay inside the machine.
    """

    scope: str
    expires_in: int
    refreshed: bool = False


class AuthenticationFailed(Event, frozen=True, kw_only=True):
    """Authentication failed on this connection; ``error`` says why.

    A venue error (``InvalidCredentials``, ``Unauthorized`` ...) also fails every private
    request waiting for authentication with the same error, and rejects the waiting
    private subscriptions.  A timeout instead drops the connection (see ``close_request``)
    and the waiting requests wait for the next one, within their deadlines.
    """

    error: RequestFailure


class HeartbeatTimeout(ConnectionDead, frozen=True, kw_only=True):
    """Nothing arrived for ``silence`` seconds, past the heartbeat interval plus grace.

    The machine has set ``close_request`` (abort); the stack drops the transport and
    reconnects.
    """

    silence: float


class HeartbeatUnavailable(Event, frozen=True, kw_only=True):
    """The venue refused ``public/set_heartbeat``; the silence check is off for this
    connection (no heartbeats will come, so silence would prove nothing).  An unanswered
    ``set_heartbeat`` instead leaves the check on: it is what declares such a peer dead."""

    error: RequestFailure


class BookGap(Event, frozen=True, kw_only=True):
    """A ``book.{instrument}.{interval}`` change does not continue the chain (spec 4).

    ``expected`` is the last ``change_id`` seen (``None``: no snapshot yet), ``got`` the
    change's ``prev_change_id``.  The book is stale: this change and every later one are
    dropped (no delta is applied across a gap) until a snapshot arrives; the channel
    alone is resubscribed (unsubscribe, then subscribe) to get one.
    """

    channel: str
    expected: int | None
    got: int | None


class BookResynced(Event, frozen=True, kw_only=True):
    """A snapshot ended a stale period (a gap, or a lost connection) on ``channel``.

    ``dropped`` counts the changes discarded while stale.  The snapshot itself is the
    ``BookUpdate`` delivered just before this event.
    """

    channel: str
    change_id: int
    dropped: int


class BookCrossed(Event, frozen=True, kw_only=True):
    """A maintained book became crossed (best bid >= best ask) after an update.

    Reported once per episode; the book is kept as the venue described it.
    """

    channel: str
    best_bid: float
    best_ask: float


class LoggedOut(Event, frozen=True, kw_only=True):
    """``private/logout`` went out and the venue closed the connection: the session ended.

    The machine stays ended: ``send`` raises, and a later connection is closed at once.
    Close the stack (``stack.close(now)``) to stop it reconnecting.
    """


class UnmatchedError(Event, frozen=True, kw_only=True):
    """An error response that matches no open request (no ``id``, or an unknown one).

    Deribit answers a request it could not parse with 11050 and no id (spec 1.2).
    """

    error: DeribitError
    request_id: int | str | None = None
