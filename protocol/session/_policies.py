"""What a venue gives the generic client machine: data and a few small policy objects.

:class:`~tradewire.protocol.session.ClientSession` owns the wiring every venue shares
(the request outbox and its phases, the waiters, the auth gate, heartbeats, pacing,
error handling, subscriptions, book continuity).  A venue plugs in:

* a :class:`ClientCodec`: commands to bytes when a request is *released* (so a signature
  or timestamp is fresh), bytes to one typed value, answers to :class:`Answer`;
* a :class:`SubscriptionPolicy`: how topics map to requests (chunked requests, one stream
  per request keyed by a venue id, topics in the handshake, no unsubscribe at all);
* an :class:`AuthPolicy`: a login request with or without refresh, nothing to send
  (requests signed by the codec), or a token carried in the handshake;
* a :class:`Heartbeat`: what keeps the connection provably alive;
* a :class:`Pacing`: the token buckets each command draws on;
* an :class:`ErrorClassifier`: what a venue error means for the machine
  (:class:`ErrorClass`), instead of ``isinstance`` chains in the machine;
* optionally a :class:`ContinuityPolicy`: how book messages are checked and applied.

Everything here is an interface or a small value; the implementations live beside it
(``_auth.py``, ``_continuity.py``) or in the venue package.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import msgspec

from .._bounded import BoundedQueue
from .._errors import RequestFailure
from .._events import Command, Event
from .._sources import RequestId
from ._ratelimit import BucketCosts

__all__ = [
    "HANDLED",
    "Answer",
    "AuthPolicy",
    "ClientCodec",
    "CommandInfo",
    "ContinuityPolicy",
    "Costs",
    "ErrorClass",
    "ErrorClassifier",
    "Handler",
    "Heartbeat",
    "Pacing",
    "Router",
    "SessionHost",
    "SubscriptionOp",
    "SubscriptionPolicy",
    "Take",
]

Costs = BucketCosts
"""What one request draws: ``(bucket, cost)`` pairs; empty when it is not paced."""

Handler = Callable[[Any, float], None]
"""Takes one decoded message of a registered type, and ``now``."""


class _Handled:
    __slots__ = ()

    def __repr__(self) -> str:
        return "HANDLED"


HANDLED: Any = _Handled()
"""What a codec's ``decode`` returns for a message its own hot path has fully handled
(Deribit's continuing book changes: chain checked, event queued); the machine only
records that something arrived."""


class CommandInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What the machine needs to know about a command before it sends it.

    * ``name``: the method / destination / call name, for messages;
    * ``needs_auth``: it waits until the connection is authenticated;
    * ``answered``: ``False`` for a request the venue never answers (Deribit's
      ``private/logout``: the venue closing the connection is its answer);
    * ``ends_session``: once sent, the session is over (no reconnect);
    * ``rate_key``: which buckets it draws on (see :class:`Pacing`);
    * ``managed``: the machine owns this call; ``send`` refuses it with this hint.
    """

    name: str
    needs_auth: bool = False
    answered: bool = True
    ends_session: bool = False
    rate_key: Hashable = None
    managed: str | None = None


class Answer(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A venue message that answers a request, as the codec reports it.

    * ``request_id``: the id it answers (``None``: the venue could not tell);
    * ``result``: the raw result, decoded later by :meth:`ClientCodec.result` for the
      command it answers; ignored when ``error`` is set;
    * ``error``: the venue refused the request;
    * ``final``: ``False`` for an interim answer (Rails' 202 "accepted", before the 200):
      the request stays open and the machine reports :class:`RequestAccepted`;
    * ``stream``: a venue-issued stream id (Deriv's ``subscription.id``), kept by the
      subscription ledger as the topic's remote id.
    """

    request_id: RequestId | None
    result: Any = None
    error: RequestFailure | None = None
    final: bool = True
    stream: str | None = None


class ErrorClass(enum.Enum):
    """What a venue error means for the request that got it."""

    FINAL = "final"  # the venue said no: the request fails
    TRANSIENT = "transient"  # try again like an unanswered request (maintenance, busy)
    RATE_LIMITED = "rate_limited"  # empty the buckets; retry with the same id if in time
    CREDENTIALS = "credentials"  # the token was refused: re-authenticate, then retry


class ErrorClassifier(Protocol):
    def __call__(self, error: RequestFailure) -> ErrorClass: ...


Take = Callable[[Sequence[Any], int, int], int]
"""A codec's hot path over a read: ``take(messages, start, stop) -> index`` (ClientCodec)."""


class ClientCodec(Protocol):
    """A venue's client codec (the venue's hot-path shortcuts live here).

    ``prepare`` runs in ``send``: it validates and may pre-encode, and raises
    :class:`~tradewire.protocol.LocalProtocolError` for a command that cannot be sent,
    so nothing bad is ever queued.  ``encode`` runs when the request is released to the
    wire, with the time of release: a venue that signs or timestamps requests does it
    here.  ``decode`` turns one message into one typed value and raises nothing but
    :class:`~tradewire.protocol.RemoteProtocolError`.  Values of ``answer_types`` are
    passed to ``answer``; every other value is a push for the registered handlers or
    an event as it is, except :data:`HANDLED`: the codec's own hot path handled it.

    A codec with a hot path may also have ``take`` (a :data:`Take`), read once like
    ``decode``: given a read's messages, it queues the hot ones from ``start`` (never
    past ``stop``, the room left in the event queue) and returns the index of the first
    one it leaves to ``decode``, which decodes it again and raises if it is bad; it
    raises nothing itself.  ``receive_messages`` calls it once per run of hot messages.

    A codec may also have ``pure_decode``: a decoder that depends on nothing the
    machine does and changes nothing, typically the codec's msgspec decoder itself.
    ``receive_messages`` then decodes a read's messages with it in one C loop (``map``)
    before handling them in order, and queues a read of plain events (no handler for
    any of them) in one call.  Whatever it returns must be what ``decode`` returns for
    the same message, or a value whose handler makes it so; whatever it raises on is
    decoded again by ``decode`` once the ones before it were handled.
    """

    answer_types: tuple[type, ...]

    def describe(self, command: Command) -> CommandInfo: ...

    def prepare(self, request_id: RequestId, command: Command) -> Any: ...

    def encode(self, prepared: Any, now: float) -> bytes: ...

    def decode(self, data: bytes | str) -> Any: ...

    def answer(self, message: Any) -> Answer: ...

    def result(self, command: Command, raw: Any) -> Any:
        """The typed result of ``command``; raises RemoteProtocolError when it does not fit."""
        ...


class SubscriptionOp(enum.Enum):
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    UNSUBSCRIBE_ALL = "unsubscribe_all"


class SubscriptionPolicy(Protocol):
    """How a venue's topics become requests.

    * ``request(command)``: ``(op, topics)`` for the venue's own subscription commands
      (the user's ``Subscribe``...), ``None`` for any other command;
    * ``check(topics, has_credentials)``: raise LocalProtocolError for topics that can
      never be subscribed as configured (a private channel without credentials);
    * ``group(topic)``: topics of one group share a request; ``group_needs_auth``;
    * ``subscribe_command`` / ``unsubscribe_command``: the request for one chunk;
      ``unsubscribe_command`` returning ``None`` means the venue has no unsubscribe:
      the machine drops the topic by reconnecting (and resubscribing the rest);
    * ``accepted(result, topics)``: the topics an ack activated, and their remote ids;
    * ``max_per_request`` / ``max_chars``: chunk bounds; ``in_handshake``: the desired
      topics go in the upgrade request (Rails) and count as active once connected.
    """

    max_per_request: int
    max_chars: int | None
    in_handshake: bool

    def request(self, command: Command) -> tuple[SubscriptionOp, tuple[str, ...]] | None: ...

    def check(self, topics: Sequence[str], has_credentials: bool) -> None: ...

    def group(self, topic: str) -> str: ...

    def group_needs_auth(self, group: str) -> bool: ...

    def subscribe_command(self, group: str, topics: list[str]) -> Command: ...

    def unsubscribe_command(self, group: str, topics: list[str]) -> Command | None: ...

    def accepted(
        self, result: Any, topics: list[str]
    ) -> tuple[list[str], Mapping[str, str] | None]: ...


class AuthPolicy(Protocol):
    """Authentication of each connection.

    * ``enabled``: credentials are configured;
    * ``login(now)``: the login request for a new connection, or ``None`` when the
      connection is authenticated without one (signed requests, a handshake token);
    * ``refresh(now)``: a renewal request on the same connection (``None``: log in again);
    * ``granted(result, now, refreshed)``: the event to report; schedules ``refresh_at``;
    * ``renew_at``: when the credential must be renewed by reconnecting (a handshake token);
    * ``failed()``, ``connection_made()``, ``connection_lost()``, ``authenticated``.
    """

    enabled: bool
    refresh_at: float | None
    renew_at: float | None

    @property
    def authenticated(self) -> bool: ...

    def connection_made(self) -> None: ...

    def connection_lost(self) -> None: ...

    def login(self, now: float) -> Command | None: ...

    def refresh(self, now: float) -> Command | None: ...

    def granted(self, result: Any, now: float, *, refreshed: bool) -> Event: ...

    def failed(self) -> None: ...


class Heartbeat(msgspec.Struct, frozen=True, kw_only=True):
    """What keeps a connection provably alive; every part is optional.

    * ``setup``: a request sent first on every connection (Deribit's
      ``public/set_heartbeat``); a refusal turns the silence check off, since the
      venue will send nothing to check;
    * ``probe_types`` / ``answer_probe``: venue probes answered with a request of ours
      (Deribit's ``test_request`` -> ``public/test``), at most ``max_answers`` in flight;
    * ``ping`` every ``ping_interval`` seconds, whose answer must come within
      ``pong_timeout`` (Deriv, Currency.com, Rails);
    * ``silence``: nothing at all received for this long declares the peer dead
      (after ``setup``, when there is one); ``silence_reason`` says what the limit is
      made of, for the :class:`HeartbeatTimeout` reason.
    """

    setup: Callable[[], Command] | None = None
    probe_types: tuple[type, ...] = ()
    answer_probe: Callable[[Any], Command] | None = None
    max_answers: int = 4
    ping: Callable[[], Command] | None = None
    ping_interval: float | None = None
    pong_timeout: float | None = None
    silence: float | None = None
    silence_reason: str = ""


class Pacing(Protocol):
    """The buckets each command draws on, and what a rate-limit refusal does."""

    def costs(self, info: CommandInfo) -> Costs: ...


class SessionHost(Protocol):
    """What the machine lets a policy do (book continuity, stream routing).

    ``venue_ended(topics, now)`` tells the machine the venue ended live subscriptions by
    itself (a stream that finished, a quote the venue consumed, an unsubscribe-all the
    venue answered with the ids it stopped).

    ``event_queue`` is the machine's event queue: a hot handler appends to its ``items``
    directly (read it each time: the machine's drain replaces the list).

    ``request(command, now)`` sends a request of the policy's own (a book snapshot on a
    venue whose snapshots come on request): it goes out on the live connection like the
    machine's other requests and is dropped with it (``None``: no live connection now);
    its answer reaches the policy through the handlers it registered for the answer's
    type, which call ``answered`` to resolve it; nothing is reported to the user, a
    failure or timeout included.  ``is_open(request_id)`` says whether a request is
    still waiting for its answer.
    """

    @property
    def event_queue(self) -> BoundedQueue[Event]: ...

    def is_subscribed(self, topic: str) -> bool: ...

    def answered(self, answer: Answer, now: float) -> bool: ...

    def resync(self, topic: str, now: float) -> None: ...

    def request(self, command: Command, now: float) -> RequestId | None: ...

    def is_open(self, request_id: RequestId) -> bool: ...

    def venue_ended(
        self, topics: Iterable[str], now: float, *, keep_desired: bool = False
    ) -> list[str]: ...


class Router(Protocol):
    """Registers handlers for decoded message types, with the machine as their host.

    A venue whose pushes carry the ack of a request (Deriv: a stream's first message is
    its ``subscribe`` answer) routes them here and calls ``host.answered``.
    """

    def handlers(self, host: SessionHost) -> dict[type, Handler]: ...


class ContinuityPolicy(Protocol):
    """Book messages: checked for gaps and applied to maintained books.

    ``handlers(host)`` registers one handler per book message type; the handler
    reports events through the host and asks it to resync a topic after a gap.
    """

    def handlers(self, host: SessionHost) -> dict[type, Handler]: ...

    def resubscribed(self, topic: str) -> None: ...

    def forget(self, topic: str) -> None: ...

    def connection_lost(self, keep: set[str]) -> None: ...
