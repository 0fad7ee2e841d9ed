"""One venue's client, as data: :class:`ClientSpec` (policies) and :class:`SessionOptions`.

A venue package builds a :class:`ClientSpec` per machine (its policies hold that
machine's state: tokens, book chains) and hands it, with the venue-neutral
:class:`SessionOptions`, to :class:`~tradewire.protocol.session.ClientSession`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec

from .._contract import Handshake
from .._errors import LocalProtocolError
from .._sources import IdSource
from ._policies import (
    AuthPolicy,
    ClientCodec,
    ContinuityPolicy,
    ErrorClassifier,
    Handler,
    Heartbeat,
    Pacing,
    Router,
    SubscriptionPolicy,
)

__all__ = ["ClientSpec", "SessionOptions", "resolve_options"]

OptionsT = TypeVar("OptionsT", bound="SessionOptions")


class SessionOptions(msgspec.Struct, frozen=True, kw_only=True):
    """The venue-neutral options of a client machine, checked once.

    * ``ids``: request ids (``None``: a fresh :class:`~tradewire.protocol.CounterIds`);
    * ``request_timeout``: the deadline of a request that gets no ``timeout=`` of its
      own; a request waiting for a connection or authentication waits at most this long;
    * ``maintain_books``: keep an ``OrderBook`` per subscribed book topic (continuity is
      checked either way); ``max_book_levels`` bounds each side of each book;
    * bounds: ``max_pending`` (user requests open), ``max_outbound`` (messages not yet
      drained with ``messages_to_send``), ``max_events`` (events not yet drained with
      ``events``), ``max_subscriptions`` (topics in the ledger, and books kept).
    """

    ids: IdSource | None = None
    request_timeout: float = 10.0
    maintain_books: bool = False
    max_book_levels: int = 100_000
    max_pending: int = 1024
    max_outbound: int = 4096
    max_events: int = 10_000
    max_subscriptions: int = 10_000

    def __post_init__(self) -> None:
        if self.ids is not None and not callable(self.ids):
            raise bad_option("ids", "an IdSource (a callable) or None", self.ids)
        msgspec.structs.force_setattr(
            self, "request_timeout", seconds("request_timeout", self.request_timeout)
        )
        if not isinstance(self.maintain_books, bool):
            raise bad_option("maintain_books", "a bool", self.maintain_books)
        for name in (
            "max_book_levels",
            "max_pending",
            "max_outbound",
            "max_events",
            "max_subscriptions",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise bad_option(name, "a positive int", value)


def resolve_options(
    cls: type[OptionsT], options: OptionsT | None, overrides: dict[str, Any]
) -> OptionsT:
    """The options a venue's client machine runs with, for its ``__init__(options=None, /,
    **overrides)``: ``cls(**overrides)``, or ``options`` (an instance of ``cls``) with
    ``overrides`` replacing fields.  A wrong type or an unknown field is a
    :class:`LocalProtocolError` naming it and the accepted options; bad values are
    refused by ``cls`` itself."""
    if options is not None and not isinstance(options, cls):
        raise LocalProtocolError(
            f"invalid options: expected {cls.__name__}, got {type(options).__name__}"
        )
    if options is not None and not overrides:
        return options
    fields = {**msgspec.structs.asdict(options), **overrides} if options is not None else overrides
    try:
        return cls(**fields)
    except TypeError as exc:
        accepted = ", ".join(cls.__struct_fields__)
        raise LocalProtocolError(f"invalid option: {exc}; accepted options: {accepted}") from None


def bad_option(name: str, accepted: str, value: object) -> LocalProtocolError:
    """The error for option ``name``: what is accepted and what came."""
    return LocalProtocolError(f"invalid {name}: expected {accepted}, got {value!r:.80}")


def seconds(name: str, value: object) -> float:
    """``value`` as seconds > 0, or a :class:`LocalProtocolError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_option(name, "seconds > 0", value)
    if not (value > 0 and math.isfinite(value)):
        raise bad_option(name, "seconds > 0", value)
    return float(value)


class ClientSpec(msgspec.Struct, kw_only=True):
    """A venue's policies for one client machine (see ``_policies.py``).

    * ``handshake``: the upgrade request for the next connection (read at every
      connection, so it may carry the current token or the desired topics);
    * ``handlers``: handlers by decoded type that need no machine (frames to ignore);
    * ``routers``: objects that register handlers with the machine as their host (a
      venue's stream messages that also acknowledge requests);
    * ``books``: the continuity policies (each registers its book message types);
    * ``auth_hint``: how to configure authentication, for the error when a request
      needs it and none is configured;
    * ``dropped``: the reason given for a topic left out of a subscribe acknowledgement.
    """

    codec: ClientCodec
    subscriptions: SubscriptionPolicy
    auth: AuthPolicy
    heartbeat: Heartbeat = msgspec.field(default_factory=Heartbeat)
    pacing: Pacing | None = None
    classify: ErrorClassifier
    handshake: Callable[[], Handshake]
    handlers: dict[type, Handler] = msgspec.field(default_factory=dict)
    routers: tuple[Router, ...] = ()
    books: tuple[ContinuityPolicy, ...] = ()
    auth_hint: str = "configure credentials"
    dropped: str = "left out of the venue's acknowledgement"
    internal_room: int = 16
