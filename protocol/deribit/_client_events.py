"""What :class:`~tradewire.protocol.deribit.ClientProtocol` adds to the wire layer's types.

Commands the user sends to manage subscriptions (the machine owns the subscribe and
unsubscribe methods, so it can keep its ledger exact) and :class:`Authenticated`.  The
results those requests resolve with, the events the machine reports on its own
(authentication failures, liveness, book continuity, the end of the session:
:data:`LoggedOut`) and :class:`MalformedResult` are the session layer's, re-exported
here under the names Deribit users know.

Channel notifications, heartbeats and unknown messages come out as the wire layer's
events (``BookUpdate``, ``Notification``, ``UnknownMessage`` ...); requests resolve as the
core's ``RequestSucceeded`` / ``RequestFailed``; subscriptions report the core's
``SubscriptionActive`` / ``SubscriptionRejected`` / ``SubscriptionEnded``.  Nothing here
ever holds a credential: tokens stay inside the machine.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from .._errors import LocalProtocolError
from .._events import Command, Event
from ..session import (
    AuthenticationFailed,
    BookCrossed,
    BookGap,
    BookResynced,
    HeartbeatTimeout,
    HeartbeatUnavailable,
    MalformedResult,
    SubscribeResult,
    UnmatchedError,
    UnsubscribeResult,
)
from ..session import SessionEnded as LoggedOut
from ._channels import parse_channel

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


# -- events -------------------------------------------------------------------------------


class Authenticated(Event, frozen=True, kw_only=True):
    """``public/auth`` succeeded: ``scope`` as *granted* (spec 2.4), lifetime in seconds.

    ``refreshed`` is true for a ``refresh_token`` renewal on the same connection.  The
    tokens themselves stay inside the machine.
    """

    scope: str
    expires_in: int
    refreshed: bool = False
