"""``ServerSession``: the venue side of one WebSocket connection, for any venue.

The machine owns what every venue's server does the same way, and a venue supplies a
:class:`ServerSpec`: its codec (results, errors and notifications to bytes), its
dispatcher (one message in: answer it, refuse it, or hold it for the venue), its upgrade
rule, and the timers it wants.  Owned here:

* the phases and what each driving call does in each (:data:`SERVER_TABLE`);
* the answer-exactly-once table: a request the dispatcher :meth:`~ServerSession.hold`\\ s
  gets a handle, and the venue answers it once with :meth:`~ServerSession.reply`,
  :meth:`~ServerSession.reply_error` or (a subscribe) :meth:`~ServerSession.accept_subscription`;
  an unknown or answered handle is a :class:`LocalProtocolError`;
* active topics (with venue metadata such as a label) and :meth:`~ServerSession.notify`;
  a notification for many connections is a :class:`Broadcast`: its body is encoded once
  per distinct topic metadata and its WebSocket frame once (a
  :class:`~tradewire.protocol.transport._frames.SharedText`), however many connections
  it goes to;
* timers: a liveness probe every ``interval`` once the venue starts it (closing with
  the spec's code when a probe goes unanswered), and an idle close after silence;
* closing: ``close_request`` for the stack, the venue's ``on_close`` hook once, and a
  close that waits for the answers owed (:meth:`~ServerSession.close_after_answers`:
  requests accepted before the one that broke a rate limit are answered, in order,
  before the refusal and the close);
* bounded queues for events and outbound messages, and a bound on held requests.

Replies and errors carry the venue's own id and code types (``int | str``): the codec
writes them.  Venue state shared by connections (connection counts per address, rate
pools, nonces, tokens) lives in the venue's state object (``_venue_state.py`` pieces).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import msgspec

from .._bounded import BoundedQueue
from .._contract import AcceptUpgrade, CloseRequest, RejectUpgrade, UpgradeRequest
from .._errors import LocalProtocolError
from .._events import Command, Event, require
from .._sources import RequestId
from ..transport._frames import SharedText

__all__ = [
    "SERVER_TABLE",
    "AcceptSubscription",
    "Broadcast",
    "Disconnect",
    "Notify",
    "Pending",
    "PendingTable",
    "Reply",
    "ReplyError",
    "ServerCodec",
    "ServerPhase",
    "ServerSession",
    "ServerSpec",
]


class ServerPhase(enum.Enum):
    NEW = "new"  # before connection_made
    OPEN = "open"
    CLOSING = "closing"  # the machine asked for the close; input is ignored
    CLOSED = "closed"  # connection_lost was called


SERVER_TABLE: Mapping[str, Mapping[ServerPhase, str]] = {
    "connection_made": {
        ServerPhase.NEW: "-> open",
        ServerPhase.OPEN: "error",
        ServerPhase.CLOSING: "error",
        ServerPhase.CLOSED: "error",
    },
    "receive_message": {
        ServerPhase.NEW: "error",
        ServerPhase.OPEN: "dispatched",
        ServerPhase.CLOSING: "ignored",
        ServerPhase.CLOSED: "error",
    },
    "handle_timer": {
        ServerPhase.NEW: "nothing",
        ServerPhase.OPEN: "timers",
        ServerPhase.CLOSING: "answers owed",
        ServerPhase.CLOSED: "nothing",
    },
    "reply": {
        ServerPhase.NEW: "error",
        ServerPhase.OPEN: "sent",
        ServerPhase.CLOSING: "sent if owed, else dropped",
        ServerPhase.CLOSED: "dropped",
    },
    "notify": {
        ServerPhase.NEW: "False",
        ServerPhase.OPEN: "sent if active",
        ServerPhase.CLOSING: "False",
        ServerPhase.CLOSED: "False",
    },
    "connection_lost": {
        ServerPhase.NEW: "-> closed",
        ServerPhase.OPEN: "-> closed",
        ServerPhase.CLOSING: "-> closed",
        ServerPhase.CLOSED: "nothing",
    },
}
"""What each driving call does in each phase ("error": :class:`LocalProtocolError`).

Replying to a handle that is not held is an error in every phase.
``tests/protocol/session/test_server_session.py`` checks every pair."""


class ServerCodec(Protocol):
    """A venue's server codec: what goes out, in the venue's envelope."""

    def encode_result(
        self, wire_id: RequestId | None, result: Any, *, received_at: float, now: float
    ) -> bytes: ...

    def encode_error(
        self,
        wire_id: RequestId | None,
        code: int | str,
        message: str,
        data: Any,
        *,
        received_at: float,
        now: float,
    ) -> bytes: ...

    def encode_notification(self, topic: str, data: Any, meta: Any) -> bytes:
        """The notification of ``data`` on ``topic``; ``meta`` is what the connection
        keeps with the topic (a label).  It must depend on its arguments and on settings
        of the venue only, never on the connection: a :class:`Broadcast` encodes it once
        for all the connections whose topic has the same ``meta``."""
        ...


class Broadcast:
    """One notification's data for many connections: pass it as the data of
    :meth:`ServerSession.notify` (or of a :class:`Notify`) on each of them.

    The body is encoded once per (codec class, topic, ``meta``) -- the connections of one
    venue share a codec class, and most share ``meta`` (``None``) -- and is a
    :class:`~tradewire.protocol.transport._frames.SharedText`, so the WebSocket stacks
    frame it once too.  A connection whose output is altered (a fault engine duplicating,
    reordering or corrupting messages) still gets bytes it may alter: the shared object is
    never changed in place.  Build one per channel and tick (or operation); do not keep it:
    it holds the bodies it made.
    """

    __slots__ = ("_bodies", "data", "encodes")

    def __init__(self, data: Any) -> None:
        self.data = data
        self._bodies: dict[tuple[type[Any], str, Any], SharedText] = {}
        #: Bodies encoded so far (one per distinct codec class, topic and ``meta``).
        self.encodes = 0

    def body(self, codec: ServerCodec, topic: str, meta: Any) -> bytes:
        """The notification on ``topic`` for a connection keeping ``meta`` with it."""
        try:
            key = (type(codec), topic, meta)
            body = self._bodies.get(key)
        except TypeError:  # unhashable metadata: encoded for this connection alone
            return codec.encode_notification(topic, self.data, meta)
        if body is None:
            body = self._bodies[key] = SharedText(codec.encode_notification(topic, self.data, meta))
            self.encodes += 1
        return body

    def __repr__(self) -> str:
        return f"Broadcast(encodes={self.encodes})"


Dispatcher = Callable[["ServerSession", bytes | str, float], None]
Upgrade = Callable[["ServerSession", UpgradeRequest, float], AcceptUpgrade | RejectUpgrade]


class ServerSpec(msgspec.Struct, kw_only=True):
    """A venue's server, as data (see the module docstring).

    * ``codec``, ``receive`` (the dispatcher), ``upgrade`` (accept or refuse);
    * ``probe(busy)``: the frames of one liveness probe (``busy``: something but probe
      answers was exchanged since the last one); ``probe_close``: the close code and
      reason when one goes unanswered for an interval;
    * ``idle_timeout``: close after this long with nothing received (``None``: never);
      ``idle_with_topics``: whether active topics keep the connection from idling out;
      ``idle_close``: (code, reason, abort); ``idle_on_messages``: every message restarts
      the idle timer (``False``: only :meth:`ServerSession.alive` does, for a venue that
      closes a connection that has not *pinged* for a while, whatever else it sent; a
      WebSocket control-frame ping counts too, see :meth:`ServerSession.ping_received`);
      ``pings_are_activity``: a WebSocket ping frame from the client counts as liveness
      too (``False``: only messages do);
    * ``on_close(session, why)``: once, when the connection ends (the machine asked, the
      venue asked, or the transport was lost): cancel-on-disconnect and the like;
      ``on_lost(session)``: after the transport is gone (release what it held);
    * bounds: ``max_events``, ``max_outbound`` (messages queued), ``max_pending``
      (requests held for the venue), ``max_topics``;
    * ``answers_grace``: how long :meth:`ServerSession.close_after_answers` waits for
      the answers owed before it closes anyway.
    """

    codec: ServerCodec
    receive: Dispatcher
    upgrade: Upgrade
    probe: Callable[[bool], list[bytes]] | None = None
    probe_close: tuple[int, str] = (4000, "heartbeat close")
    idle_timeout: float | None = None
    idle_with_topics: bool = True
    idle_close: tuple[int, str, bool] = (1006, "", True)
    idle_on_messages: bool = True
    pings_are_activity: bool = True
    on_close: Callable[[ServerSession, str], None] | None = None
    on_lost: Callable[[ServerSession], None] | None = None
    max_events: int = 10_000
    max_outbound: int = 10_000
    max_pending: int = 1024
    max_topics: int = 10_000
    answers_grace: float = 5.0


class Pending(msgspec.Struct, kw_only=True):
    """A request held for the venue: its wire id, when it came, and (a subscribe) the
    topics it may accept; ``meta`` is the venue's (a label)."""

    wire_id: RequestId | None
    received_at: float
    candidates: frozenset[str] | None = None
    meta: Any = None


class PendingTable:
    """Requests held for the venue, each answered exactly once: ``hold`` gives a handle,
    ``take`` removes it (an unknown or answered handle is a :class:`LocalProtocolError`).
    ``limit`` bounds how many are held (``can_hold``)."""

    __slots__ = ("_next", "_pending", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._pending: dict[int, Pending] = {}
        self._next = 1

    def can_hold(self) -> bool:
        return len(self._pending) < self.limit

    def hold(
        self,
        wire_id: RequestId | None,
        now: float,
        *,
        candidates: Iterable[str] | None = None,
        meta: Any = None,
    ) -> int:
        if not self.can_hold():
            raise LocalProtocolError(f"too many held requests (limit max_pending={self.limit})")
        handle = self._next
        self._next += 1
        self._pending[handle] = Pending(
            wire_id=wire_id,
            received_at=now,
            candidates=frozenset(candidates) if candidates is not None else None,
            meta=meta,
        )
        return handle

    def get(self, handle: int, operation: str) -> Pending:
        pending = self._pending.get(handle)
        if pending is None:
            raise LocalProtocolError(
                f"{operation}: unknown request_id {handle!r}: never received on this "
                "connection, or already answered"
            )
        return pending

    def take(self, handle: int) -> None:
        del self._pending[handle]

    def handles(self) -> set[int]:
        return set(self._pending)

    def __contains__(self, handle: object) -> bool:
        return handle in self._pending

    def __len__(self) -> int:
        return len(self._pending)


def _handle(value: Any) -> None:
    require(
        isinstance(value, int) and not isinstance(value, bool),
        "request_id",
        "the int request_id of a request event",
    )


class Reply(Command, frozen=True, kw_only=True):
    """Answer held request ``request_id`` with ``result`` (a wire model or JSON value)."""

    request_id: int
    result: Any = None

    def __post_init__(self) -> None:
        _handle(self.request_id)


class ReplyError(Command, frozen=True, kw_only=True):
    """Answer held request ``request_id`` with the venue's error ``code`` (an int or a
    str, as the venue writes them); ``message`` defaults to the venue's text for it."""

    request_id: int
    code: int | str
    message: str | None = None
    data: Any = None

    def __post_init__(self) -> None:
        _handle(self.request_id)
        require(
            isinstance(self.code, int | str) and not isinstance(self.code, bool),
            "code",
            "an int or str error code",
        )
        require(self.message is None or isinstance(self.message, str), "message", "a str")


class AcceptSubscription(Command, frozen=True, kw_only=True):
    """Answer subscribe request ``request_id``: ``channels`` (a subset of its
    candidates, in any order) become active and are the result."""

    request_id: int
    channels: Sequence[str] = ()

    def __post_init__(self) -> None:
        _handle(self.request_id)
        channels = self.channels
        require(
            isinstance(channels, Iterable)
            and not isinstance(channels, str)
            and all(isinstance(c, str) for c in channels),
            "channels",
            "a sequence of channel names",
        )
        msgspec.structs.force_setattr(self, "channels", tuple(channels))


class Notify(Command, frozen=True, kw_only=True):
    """Push ``data`` on ``channel``; sent only if the channel is active here.  ``data`` may
    be a :class:`Broadcast` (one notification for many connections): the same command
    can then go to every subscribed connection."""

    channel: str
    data: Any = None

    def __post_init__(self) -> None:
        require(isinstance(self.channel, str) and self.channel != "", "channel", "a channel name")


class Disconnect(Command, frozen=True, kw_only=True):
    """The venue closes the connection (a fault, maintenance): with a close handshake
    (``code``, ``reason``), or ``abort=True`` to drop it."""

    code: int = 1000
    reason: str = ""
    abort: bool = False

    def __post_init__(self) -> None:
        require(
            isinstance(self.code, int)
            and not isinstance(self.code, bool)
            and 1000 <= self.code <= 4999
            and self.code not in (1004, 1005, 1006, 1015),
            "code",
            "a WebSocket close code a peer may send (1000-4999, not 1004-1006 or 1015)",
        )
        require(
            isinstance(self.reason, str) and len(self.reason.encode()) <= 123,
            "reason",
            "a str of at most 123 UTF-8 bytes",
        )


class ServerSession:
    """One WebSocket connection, venue side (see the module docstring).

    ``connection_id`` comes from the venue (its state's counter); ``peer`` is
    ``host:port`` when known (the upgrade request may supply it later).
    """

    def __init__(self, spec: ServerSpec, *, connection_id: int, peer: str | None = None) -> None:
        self.spec = spec
        self.codec = spec.codec
        self.connection_id = connection_id
        self.peer = peer
        self.phase = ServerPhase.NEW
        self.close_request: CloseRequest | None = None
        self.close_reason: str | None = None
        self.last_inbound = 0.0
        self.busy = False  # something but probe answers since the last probe
        self._out: BoundedQueue[bytes] = BoundedQueue(
            "outbound queue", spec.max_outbound, "messages_to_send"
        )
        self._events: BoundedQueue[Event] = BoundedQueue("event queue", spec.max_events, "events")
        self.held = PendingTable(spec.max_pending)
        self._topics: dict[str, Any] = {}
        self._probe_interval: float | None = None
        self._probe_next: float | None = None
        self._probe_deadline: float | None = None
        self._closed_hook_done = False
        self._owed: set[int] | None = None  # close_after_answers: the handles still owed
        self._final: list[bytes] = []  # what goes out after the answers owed
        self._final_close: CloseRequest | None = None
        self._owed_deadline: float | None = None

    # -- inspection -----------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Requests are being taken and answers sent."""
        return self.phase is ServerPhase.OPEN

    @property
    def topics(self) -> frozenset[str]:
        """The topics active on this connection."""
        return frozenset(self._topics)

    def is_subscribed(self, topic: str) -> bool:
        return topic in self._topics

    def topic_meta(self, topic: str) -> Any:
        return self._topics.get(topic)

    @property
    def pending_requests(self) -> int:
        """Requests held for the venue and not answered yet."""
        return len(self.held)

    # -- the driving contract -------------------------------------------------------------

    def decide_upgrade(self, request: UpgradeRequest, now: float) -> AcceptUpgrade | RejectUpgrade:
        if request.peer is not None:
            self.peer = request.peer
        return self.spec.upgrade(self, request, now)

    def connection_made(self, now: float) -> None:
        if self.phase is not ServerPhase.NEW:
            raise LocalProtocolError(
                "connection_made: already called (one server machine per connection)"
            )
        self.phase = ServerPhase.OPEN
        self.last_inbound = now

    def receive_message(self, data: bytes | str, now: float) -> None:
        """One client message; answered or handed to the venue, never raised about."""
        phase = self.phase
        if phase is ServerPhase.CLOSING:
            return
        if phase is not ServerPhase.OPEN:
            raise LocalProtocolError(
                f"receive_message: the connection is {phase.value} "
                "(call connection_made first; none after connection_lost)"
            )
        self._events.ensure_room()
        self._out.ensure_room()
        if self.spec.idle_on_messages:
            self.last_inbound = now
        self.spec.receive(self, data, now)

    def handle_timer(self, now: float) -> None:
        if self.phase is ServerPhase.CLOSING:
            if self._owed_deadline is not None and now >= self._owed_deadline:
                self._finish_owed()
            return
        if self.phase is not ServerPhase.OPEN:
            return
        if self._probe_deadline is not None and now >= self._probe_deadline:
            code, reason = self.spec.probe_close
            self.close(code, reason, why="heartbeat")
            return
        probe = self.spec.probe
        if (
            probe is not None
            and self._probe_next is not None
            and self._probe_interval is not None
            and now >= self._probe_next
        ):
            self._out.extend(probe(self.busy))
            self.busy = False
            if self._probe_deadline is None:
                self._probe_deadline = now + self._probe_interval
            self._probe_next = now + self._probe_interval
        idle = self._idle_deadline()
        if idle is not None and now >= idle:
            code, reason, abort = self.spec.idle_close
            self.close(code, reason, why="idle timeout", abort=abort)

    def next_deadline(self) -> float | None:
        if self.phase is ServerPhase.CLOSING:
            return self._owed_deadline
        if self.phase is not ServerPhase.OPEN:
            return None
        present = [
            t
            for t in (self._probe_deadline, self._probe_next, self._idle_deadline())
            if t is not None
        ]
        return min(present) if present else None

    def connection_lost(self, now: float) -> None:
        """The transport is gone: the venue's close hook runs (once), then ``on_lost``."""
        if self.phase is ServerPhase.CLOSED:
            return
        self.phase = ServerPhase.CLOSED
        why = self.close_reason or "connection lost"
        self.close_reason = why
        self._closing_hook(why)
        self._topics.clear()
        self._probe_interval = self._probe_next = self._probe_deadline = None
        self._owed = None
        self._out.drain()
        if self.spec.on_lost is not None:
            self.spec.on_lost(self)

    def messages_to_send(self) -> list[bytes]:
        return self._out.drain()

    def events(self) -> list[Event]:
        """Drain queued events, oldest first."""
        return self._events.drain()

    def send(self, command: Command, now: float) -> RequestId | None:
        """Carry out a venue command (:class:`Reply`, :class:`ReplyError`,
        :class:`AcceptSubscription`, :class:`Notify`, :class:`Disconnect`); returns ``None``."""
        if isinstance(command, Reply):
            self.reply(command.request_id, command.result, now)
        elif isinstance(command, ReplyError):
            self.reply_error(command.request_id, command.code, now, command.message, command.data)
        elif isinstance(command, AcceptSubscription):
            self.accept_subscription(command.request_id, command.channels, now)
        elif isinstance(command, Notify):
            self.notify(command.channel, command.data, now)
        elif isinstance(command, Disconnect):
            self.close(command.code, command.reason, why="closed by venue", abort=command.abort)
        else:
            raise LocalProtocolError(
                f"invalid command: {type(command).__name__}; a server machine takes Reply, "
                "ReplyError, AcceptSubscription, Notify or Disconnect"
            )
        return None

    # -- what a dispatcher uses -----------------------------------------------------------

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def write(self, body: bytes) -> None:
        """Queue one message while the connection takes answers."""
        if self.phase is ServerPhase.OPEN:
            self._out.append(body)

    def answer(self, wire_id: RequestId | None, result: Any, now: float) -> None:
        """A result computed on arrival (received and answered at ``now``)."""
        self.write(self.codec.encode_result(wire_id, result, received_at=now, now=now))

    def fail(
        self, wire_id: RequestId | None, code: int | str, message: str, data: Any, now: float
    ) -> None:
        """An error answered on arrival."""
        self.write(self.codec.encode_error(wire_id, code, message, data, received_at=now, now=now))

    def can_hold(self) -> bool:
        return self.held.can_hold()

    def hold(
        self,
        wire_id: RequestId | None,
        now: float,
        *,
        candidates: Iterable[str] | None = None,
        meta: Any = None,
    ) -> int:
        """Hold a request for the venue; returns its handle (check :meth:`can_hold`)."""
        return self.held.hold(wire_id, now, candidates=candidates, meta=meta)

    def _answered(self, handle: int, body: bytes) -> None:
        self.held.take(handle)
        owed = self._owed
        if self.phase is ServerPhase.OPEN:
            self._out.append(body)
        elif owed is not None and handle in owed:
            self._out.append(body)
            owed.discard(handle)
            if not owed:
                self._finish_owed()

    def _room(self) -> None:
        if self.phase is ServerPhase.OPEN or self._owed:
            self._out.ensure_room()

    def reply(self, handle: int, result: Any, now: float) -> None:
        """Answer held request ``handle`` with ``result``."""
        pending = self.held.get(handle, "reply")
        if pending.candidates is not None:
            raise LocalProtocolError(
                f"reply: request {handle} is a subscribe call; answer it with "
                "accept_subscription (or reply_error)"
            )
        self._room()
        body = self.codec.encode_result(
            pending.wire_id, result, received_at=pending.received_at, now=now
        )
        self._answered(handle, body)

    def reply_error(
        self, handle: int, code: int | str, now: float, message: str | None = None, data: Any = None
    ) -> None:
        """Answer held request ``handle`` with the venue's error ``code``."""
        pending = self.held.get(handle, "reply_error")
        self._room()
        body = self.codec.encode_error(
            pending.wire_id,
            code,
            message if message is not None else "error",
            data,
            received_at=pending.received_at,
            now=now,
        )
        self._answered(handle, body)

    def accept_subscription(self, handle: int, topics: Iterable[str], now: float) -> list[str]:
        """Answer subscribe request ``handle``: ``topics`` (candidates of the request, any
        order) become active and are the result.  Returns the ones not active before
        (the ones to send a first snapshot on)."""
        pending = self.held.get(handle, "accept_subscription")
        candidates = pending.candidates
        if candidates is None:
            raise LocalProtocolError(
                f"accept_subscription: request {handle} is not a subscribe call; use reply"
            )
        if isinstance(topics, str):
            raise LocalProtocolError("invalid channels: expected a sequence of channel names")
        accepted = list(dict.fromkeys(topics))
        unknown = [t for t in accepted if t not in candidates]
        if unknown:
            raise LocalProtocolError(
                f"invalid channels: {unknown!r} were not candidates of request {handle}; "
                f"accepted values: {sorted(candidates)!r}"
            )
        self._room()
        body = self.codec.encode_result(
            pending.wire_id, accepted, received_at=pending.received_at, now=now
        )
        if self.phase is not ServerPhase.OPEN:
            self._answered(handle, body)
            return []
        new = self.activate(accepted, pending.meta)
        self._answered(handle, body)
        return new

    def activate(self, topics: Iterable[str], meta: Any = None) -> list[str]:
        """Make ``topics`` active (``meta`` kept with each); returns the new ones."""
        new: list[str] = []
        for topic in topics:
            if topic not in self._topics:
                new.append(topic)
            self._topics[topic] = meta
        return new

    def deactivate(self, topics: Iterable[str]) -> list[str]:
        """Make ``topics`` inactive; returns the ones that were active, in order."""
        removed = [t for t in dict.fromkeys(topics) if t in self._topics]
        for topic in removed:
            del self._topics[topic]
        return removed

    def room_for_topics(self) -> int:
        return self.spec.max_topics - len(self._topics)

    def notify(self, topic: str, data: Any, now: float) -> bool:
        """Send ``data`` on ``topic`` if it is active here; returns whether it was sent.

        ``data`` may be a :class:`Broadcast`: its body is then encoded once for all the
        connections it goes to."""
        if self.phase is not ServerPhase.OPEN or topic not in self._topics:
            return False
        self._out.ensure_room()
        meta = self._topics[topic]
        if type(data) is Broadcast:
            self._out.append(data.body(self.codec, topic, meta))
        else:
            self._out.append(self.codec.encode_notification(topic, data, meta))
        self.busy = True
        return True

    def push(self, frame: bytes) -> bool:
        """Send a frame already encoded (one notification for many connections)."""
        if self.phase is not ServerPhase.OPEN:
            return False
        self._out.ensure_room()
        self._out.append(frame)
        self.busy = True
        return True

    # -- liveness -------------------------------------------------------------------------

    def start_probes(self, interval: float, now: float) -> None:
        """Probe every ``interval`` seconds from now on (a client asked for heartbeats)."""
        self._probe_interval = float(interval)
        self._probe_next = now + interval
        self._probe_deadline = None
        self.busy = False

    def stop_probes(self) -> None:
        self._probe_interval = self._probe_next = self._probe_deadline = None

    def probe_answered(self) -> None:
        self._probe_deadline = None

    def alive(self, now: float) -> None:
        """The peer showed it is alive (a venue's ping request): the idle timer restarts."""
        if self.phase is ServerPhase.OPEN:
            self.last_inbound = now

    def ping_received(self, now: float) -> None:
        """A WebSocket control-frame ping arrived (the stack answered it with a pong):
        with the spec's ``pings_are_activity`` it counts as liveness for the idle close,
        like :meth:`alive`."""
        if self.spec.pings_are_activity:
            self.alive(now)

    def _idle_deadline(self) -> float | None:
        timeout = self.spec.idle_timeout
        if timeout is None or (self._topics and not self.spec.idle_with_topics):
            return None
        return self.last_inbound + timeout

    # -- closing --------------------------------------------------------------------------

    def close(self, code: int, reason: str, *, why: str, abort: bool = False) -> None:
        """End the connection: ``close_request`` for the stack; the close hook runs."""
        if self.phase is not ServerPhase.OPEN:
            return
        self.close_request = CloseRequest(code=code, reason=reason, abort=abort)
        self.phase = ServerPhase.CLOSING
        self.close_reason = why
        self._closing_hook(why)

    def close_after_answers(
        self, final: bytes, code: int, reason: str, *, why: str, now: float
    ) -> None:
        """End the connection once the requests held so far are answered (or
        ``answers_grace`` has passed): their answers go out in the order the venue gives
        them, then ``final`` (the refusal that ended it), then the close."""
        if self.phase is not ServerPhase.OPEN:
            return
        owed = self.held.handles()
        if not owed:
            self._out.append(final)
            self.close(code, reason, why=why)
            return
        self.phase = ServerPhase.CLOSING
        self.close_reason = why
        self._owed = owed
        self._final = [final]
        self._final_close = CloseRequest(code=code, reason=reason)
        self._owed_deadline = now + self.spec.answers_grace

    def _finish_owed(self) -> None:
        self._owed = None
        self._owed_deadline = None
        self._out.extend(self._final)
        self._final = []
        self.close_request = self._final_close
        self._closing_hook(self.close_reason or "closed")

    def _closing_hook(self, why: str) -> None:
        if self._closed_hook_done:
            return
        self._closed_hook_done = True
        if self.spec.on_close is not None:
            self.spec.on_close(self, why)

    def __repr__(self) -> str:
        return (
            f"ServerSession(connection_id={self.connection_id}, phase={self.phase.value}, "
            f"peer={self.peer!r}, topics={len(self._topics)}, pending={len(self.held)})"
        )
