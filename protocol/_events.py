"""Base classes for events and commands, and the venue-neutral events.

Events (what happened) and commands (what the caller asks for) are frozen msgspec
Structs with keyword-only fields, the h11 / wsproto habit made cheap: construction on
the parse path does no validation, and a decoded wire struct can *be* the event with no
copy.  msgspec applies ``kw_only`` per class and mypy wants ``frozen`` restated, so
every subclass says ``frozen=True, kw_only=True`` itself;
``tests/protocol/test_events.py`` checks every subclass in the package.

Commands validate themselves in ``__post_init__`` and raise :class:`LocalProtocolError`
naming the argument and the accepted values, so a bad command never reaches the wire.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import msgspec

from ._errors import LocalProtocolError, RequestFailure
from ._sources import RequestId

__all__ = [
    "Command",
    "ConnectionDead",
    "Event",
    "MessageRejected",
    "RequestFailed",
    "RequestSucceeded",
    "SubscriptionActive",
    "SubscriptionEnded",
    "SubscriptionRejected",
    "require",
    "require_choice",
]


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base class of everything a machine reports through ``events()``."""


class Command(msgspec.Struct, frozen=True, kw_only=True):
    """Base class of everything a caller passes to ``send()``."""


def require(condition: bool, argument: str, accepted: str) -> None:
    """Raise :class:`LocalProtocolError` naming ``argument`` unless ``condition`` holds."""
    if not condition:
        raise LocalProtocolError(f"invalid {argument}: expected {accepted}")


def require_choice(value: Any, argument: str, choices: Collection[Any]) -> None:
    """Raise :class:`LocalProtocolError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        accepted = ", ".join(repr(c) for c in choices)
        raise LocalProtocolError(f"invalid {argument}: {value!r}; accepted values: {accepted}")


class RequestSucceeded(Event, frozen=True, kw_only=True):
    """A request was answered with a result (typed by the venue package)."""

    request_id: RequestId
    command: Command
    result: Any


class RequestFailed(Event, frozen=True, kw_only=True):
    """A request ended without a result: a venue error, a timeout or a lost connection.

    ``error`` is a :class:`~tradewire.protocol.RequestFailure` instance
    (:class:`VenueError`, :class:`RequestTimeout` or :class:`ConnectionLost`); bindings
    raise it to whoever awaits the request.
    """

    request_id: RequestId
    command: Command
    error: RequestFailure


class SubscriptionActive(Event, frozen=True, kw_only=True):
    """The venue acknowledged a subscription to ``topic``."""

    topic: str


class SubscriptionRejected(Event, frozen=True, kw_only=True):
    """The venue refused ``topic`` (or silently left it out of its acknowledgement).

    The topic is removed from the desired set, so it is not retried after a reconnect.
    """

    topic: str
    reason: str


class SubscriptionEnded(Event, frozen=True, kw_only=True):
    """``topic`` is no longer active: unsubscribed on request, or ended by the venue."""

    topic: str


class ConnectionDead(Event, frozen=True, kw_only=True):
    """A liveness deadline passed: the peer is gone even if the socket looks open.

    The machine has asked for the transport to be aborted (see ``close_request``);
    the binding closes it and calls ``connection_lost``.
    """

    reason: str


class MessageRejected(Event, frozen=True, kw_only=True):
    """A complete message from the peer could not be decoded; it was skipped.

    The connection stays usable.  ``data`` is the message, truncated to 512 bytes.
    """

    reason: str
    data: bytes
