"""The commands and events of the Deriv client machine that are not a call of the API.

:class:`Subscribe` / :class:`Unsubscribe` name user-facing streams (topics, see
``_topics``) or stream commands; the machine keeps them across reconnects.
:class:`Authorized` reports a successful ``authorize`` (never the token).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from .._events import Command, Event, require

__all__ = ["Authorized", "Subscribe", "Unsubscribe"]


def _streams(value: Any) -> tuple[Any, ...]:
    require(
        isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0,
        "streams",
        "a non-empty sequence of topics (str) or stream commands",
    )
    return tuple(value)


class Subscribe(Command, frozen=True, kw_only=True):
    """Start streams: topics (``"ticks.R_50"``) or stream commands (``Ticks(ticks=
    "R_50")``, ``Proposal(...)``).  Resolves with a ``SubscribeResult`` once each is
    active (its first message arrived) or rejected; the first message of each is also
    an event."""

    streams: Sequence[Any]

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "streams", _streams(self.streams))


class Unsubscribe(Command, frozen=True, kw_only=True):
    """Stop streams (``forget`` with each one's current id); resolves with an
    ``UnsubscribeResult``."""

    streams: Sequence[Any]

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "streams", _streams(self.streams))


class Authorized(Event, frozen=True, kw_only=True):
    """``authorize`` succeeded on this connection."""

    loginid: str
    currency: str
    is_virtual: bool
    scopes: tuple[str, ...] = ()
