"""``ClientSession``: the venue-neutral client machine (docs/architecture.md, "The driving
contract").

One machine lives as long as the caller's session, across connections: the WebSocket
stack calls ``connection_made`` / ``connection_lost`` per connection, and the machine
authenticates, sets up its heartbeat and resubscribes by itself.  A venue supplies a
:class:`~tradewire.protocol.session.ClientSpec` (codec and policies); nothing here names
a venue.

Requests.  ``send(command, now)`` takes any command the venue's codec knows and returns
its request id at once; the request resolves exactly once as ``RequestSucceeded``
(``result`` typed by the codec) or ``RequestFailed`` (the venue's error, a
``RequestTimeout``, a ``ConnectionLost`` or a :class:`MalformedResult`).  An interim
answer (a 202 before the 200) is a :class:`RequestAccepted` event and leaves the request
open.  A request sent while disconnected, or one that needs authentication before the
connection has it, *waits in the machine* until it can go, bounded by its deadline; a
request on the wire when the connection drops fails with ``ConnectionLost`` (the venue
may have executed it).  The codec encodes a request when it is released to the wire,
with the time of release (fresh signatures and timestamps).

Errors are classified by the venue (:class:`ErrorClass`): a rate-limited request waits
for its buckets to refill and goes again with the same id if that is before its
deadline; a transient refusal of one of the machine's own requests is retried like no
answer; a credentials refusal makes the machine re-authenticate (at most once a second)
and retry subscription changes after it; anything else is final.

Subscriptions go through the ledger (the venue's subscription commands are recognised
by its policy): after a reconnect the machine authenticates first, then resubscribes
exactly the desired set, chunked to the venue's limits; a venue without unsubscribe
drops topics by reconnecting.  Book messages are checked (and books maintained) by the
venue's continuity policies, for subscribed topics only.

Liveness is a timer: the heartbeat set-up, answers to venue probes, pings with a pong
deadline (:class:`PongTimeout`) and a silence check (:class:`HeartbeatTimeout`) as the
venue's :class:`Heartbeat` says; a dead peer sets ``close_request`` (abort) and the stack
reconnects.  A request that ends the session (a logout) ends it when the venue closes
the connection: :class:`SessionEnded`, ``send`` raises, later connections are closed at
once.  The states and what each call may do in each are a table (``_states.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import islice
from typing import Any

from .._contract import CloseRequest, Handshake
from .._errors import LocalProtocolError, RemoteProtocolError
from .._events import Command, Event
from .._sources import RequestId
from ._book import OrderBook
from ._client_core import SessionCore
from ._client_spec import ClientSpec, SessionOptions
from ._ledger import SubscriptionLedger
from ._outbox import Kind
from ._policies import HANDLED
from ._states import TABLE, Input, misuse_message

__all__ = ["ClientSession"]


class ClientSession(SessionCore):
    """The generic client machine; see the module docstring."""

    def __init__(self, spec: ClientSpec, options: SessionOptions | None = None) -> None:
        super().__init__(spec, options if options is not None else SessionOptions())

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(state={self.state.value}, "
            f"pending={len(self._outbox.table)}, active={len(self._subs.ledger.active())})"
        )

    # -- introspection ------------------------------------------------------------------

    @property
    def handshake(self) -> Handshake:
        """Path, query, subprotocols and headers for the next upgrade request."""
        return self.spec.handshake()

    @property
    def authenticated(self) -> bool:
        return self._auth.authenticated

    @property
    def ledger(self) -> SubscriptionLedger:
        """The subscription ledger (read it; change it only through commands)."""
        return self._subs.ledger

    @property
    def session_ended(self) -> bool:
        """A session-ending request (a logout) ended the session."""
        return self._ended is not None

    @property
    def pending(self) -> int:
        """Open requests, the user's and the machine's own."""
        return len(self._outbox.table)

    def book(self, topic: str) -> OrderBook | None:
        """The maintained book of ``topic`` (``maintain_books=True``), or ``None``."""
        found = False
        for policy in self.spec.books:
            book_of = getattr(policy, "book", None)
            if book_of is None:
                continue
            found = True
            book = book_of(topic)
            if book is not None:
                return book  # type: ignore[no-any-return]
        if not found:
            raise LocalProtocolError("this venue's client keeps no books")
        return None

    # -- the driving contract -----------------------------------------------------------

    def _misuse(self, call: Input) -> None:
        if not TABLE[self.state][call]:
            raise LocalProtocolError(misuse_message(call, self._end_text()))

    def connection_made(self, now: float) -> None:
        self._misuse(Input.CONNECTION_MADE)
        self._check_room()
        self.connected = True
        self._update_gate()
        self.close_request = None
        self._heard = now
        if self._ended is not None:
            self.close_request = CloseRequest(code=1000, reason=f"session ended by {self._ended}")
            return
        auth, heartbeat = self._auth, self._heartbeat
        auth.connection_made()
        if self._subs.policy.in_handshake:
            # Topics in the upgrade request are acknowledged by the connection itself:
            # continuity policies hear of them as of any acknowledged subscription.
            for topic in self._subs.activate_all():
                for policy in self.spec.books:
                    policy.resubscribed(topic)
            self._settle_waiters()
        if auth.enabled:
            self._login(now)
        if heartbeat.setup is not None:
            request_id, req = self._outbox.open(Kind.SETUP, heartbeat.setup(), now)
            self._outbox.submit(request_id, req, front=True)
        self._silence_limit = heartbeat.silence
        if heartbeat.ping is not None:
            self._send_ping(now)
        self._pump_subscriptions(now)
        self._outbox.flush_held(self._can_send)
        self._release(now)

    def receive_message(self, data: bytes | str, now: float) -> None:
        """One message from the venue; raises only RemoteProtocolError (and
        LocalProtocolError for misuse: not connected, a full queue)."""
        # The hot path.  Both bounds and "connected" in one compare (see _update_gate).
        events = self._events.items
        if len(events) >= self._gate:
            self._check_room()
            self._misuse(Input.RECEIVE_MESSAGE)
        self._heard = now
        message = self._decode(data)
        if message is HANDLED:
            return  # the codec's hot path did it all
        handler = self._handler_for(type(message))
        if handler is None:
            events.append(message)  # pushes and unknown messages: all events
        else:
            handler(message, now)

    def receive_messages(self, messages: Sequence[bytes | str], now: float) -> int:
        """The complete messages of one read, oldest first: what ``receive_message`` does
        to each, with the call paid once per read (and the codec's ``take``, when it has
        one, running its hot path over the read in one call).  Returns how many it took:
        all of them, or fewer when a message set ``close_request`` (the ones after it are
        the stack's to drop, as they are after the close frame it sends).  A refused
        message raises :class:`RemoteProtocolError` with ``position``, its index in
        ``messages``: those before it were taken, those after it were not looked at.
        """
        take, decode, handler_for = self._take, self._decode, self._handler_for
        pure, handled_types = self._pure, self._handlers.keys()
        queue, handled = self._events, HANDLED
        count = len(messages)
        self._heard = now
        i = 0
        handling = False
        try:
            while i < count:
                # The bound and "connected" as ``receive_message`` checks them, once per
                # stretch of messages that fits (a handler may change both: read again).
                events = queue.items
                room = self._gate - len(events)
                if room <= 0:
                    self._check_room()
                    self._misuse(Input.RECEIVE_MESSAGE)
                stop = count if room >= count - i else i + room
                if take is not None:
                    i = take(messages, i, stop)
                    if i >= stop:
                        continue
                if pure is not None:
                    decoded: list[Any] = []
                    try:  # noqa: SIM105 (a try costs nothing; suppress is two Python calls)
                        decoded.extend(map(pure, islice(messages, i, stop)))
                    except Exception:  # whatever it raised on, ``decode`` answers for
                        pass
                    if handled_types.isdisjoint(map(type, decoded)):
                        events.extend(decoded)  # plain events only: queued in one call
                        i += len(decoded)
                        refused = i < stop
                    else:
                        handling = True  # a refusal in there names its own message
                        i, refused = self._handle_decoded(decoded, i, stop, now)
                        handling = False
                        if self.close_request is not None:
                            return i
                    if not refused:
                        continue
                    stop = i + 1  # ``decode`` says why (and does what it does then)
                append = events.append
                for i in range(i, stop):  # noqa: B020 (where it stops is where a refusal is)
                    message = decode(messages[i])
                    if message is handled:
                        continue
                    handler = handler_for(type(message))
                    if handler is None:
                        append(message)  # pushes and unknown messages: all events
                        continue
                    handler(message, now)
                    if self.close_request is not None:
                        return i + 1
                    break
                else:
                    i = stop
                    continue
                i += 1  # past the message a handler took: the bound is read again
        except RemoteProtocolError as exc:
            if not handling:
                exc.position = i
            raise
        return i

    def _handle_decoded(
        self, decoded: list[Any], i: int, stop: int, now: float
    ) -> tuple[int, bool]:
        """``receive_messages``' decoded stretch ``messages[i:stop]`` (``decoded``, up to
        a message ``pure_decode`` raised on) with a handler for some: each handled in
        order.  Returns where it stopped and whether a message there was refused by
        ``pure_decode`` (which ``decode`` then decodes again, as one by one).  It stops
        early after a handler that set ``close_request`` or changed the bound, when the
        rest might not fit in the queue."""
        handler_for, handled = self._handler_for, HANDLED
        events, gate = self._events.items, self._gate
        append = events.append
        for message in decoded:
            i += 1
            handler = handler_for(type(message))
            if handler is None:
                if message is not handled:
                    append(message)
                continue
            try:
                handler(message, now)
            except RemoteProtocolError as exc:
                exc.position = i - 1  # the message its handler refused
                raise
            if (
                self.close_request is not None
                or self._gate != gate
                or len(events) + stop - i > gate
            ):
                return i, False  # closing, or the rest might not fit: the bound is read again
        return i, i < stop

    def send(self, command: Command, now: float, *, timeout: float | None = None) -> RequestId:
        """Queue ``command``; returns its request id (see the module docstring).

        ``timeout`` (seconds) overrides ``request_timeout`` for this request.
        """
        self._check_room()
        self._misuse(Input.SEND)
        if self._ending is not None:
            raise LocalProtocolError(misuse_message(Input.SEND, self._end_text()))
        subscription = self._subs.policy.request(command)
        if subscription is not None:
            op, topics = subscription
            return self._send_subscription(op, topics, command, now, timeout)
        codec, outbox = self._codec, self._outbox
        info = codec.describe(command)
        if info.managed is not None:
            raise LocalProtocolError(
                f"{info.name} is managed by the client machine: {info.managed}"
            )
        outbox.check_pending()
        if info.needs_auth and not self._auth.enabled:
            raise LocalProtocolError(f"{info.name} needs authentication: {self.spec.auth_hint}")
        kind = Kind.USER if info.answered else Kind.UNANSWERED
        request_id, req = outbox.open(kind, command, now, timeout=timeout, info=info)
        if req.needs_auth and self._auth_error is not None:
            outbox.fail(request_id, self._auth_error)
            return request_id
        self._dispatch(request_id, req)
        self._release(now)
        return request_id

    def handle_timer(self, now: float) -> None:
        self._check_room()
        for failed, req in self._outbox.expire(now):
            self._expired(failed, req, now)
        if self._live():
            auth = self._auth
            limit = self._silence_limit
            if limit is not None and now >= self._heard + limit:
                self._declare_dead(now)
            elif auth.renew_at is not None and now >= auth.renew_at:
                self.close_request = CloseRequest(
                    code=1000, reason="renewing credentials", planned=True
                )
            else:
                refresh_at = auth.refresh_at
                if refresh_at is not None and now >= refresh_at and self._auth_request is None:
                    self._refresh(now)
                if self._ping_at is not None and now >= self._ping_at:
                    self._send_ping(now)
        self._settle_waiters()
        self._release(now)

    def next_deadline(self) -> float | None:
        live = self._live()
        best = self._outbox.next_deadline(paced=live)
        if live:
            candidates: list[float | None] = [self._auth.renew_at, self._ping_at]
            if self._silence_limit is not None:
                candidates.append(self._heard + self._silence_limit)
            if self._auth_request is None:
                candidates.append(self._auth.refresh_at)
            for candidate in candidates:
                if candidate is not None and (best is None or candidate < best):
                    best = candidate
        return best

    def connection_lost(self, now: float) -> None:
        """Requests on the wire fail; waiting ones, and the desired subscriptions, stay."""
        if not self.connected:
            return
        self.connected = False
        self._outbox.connection_lost()
        self._update_gate()
        self._auth.connection_lost()
        self._auth_error = None  # the next connection logs in again
        self._auth_request = None
        self._answers = 0
        self._silence_limit = None
        self._ping_at = None
        self._ping = None
        self._subs.connection_lost()
        keep = set(self._subs.ledger.desired())
        for policy in self.spec.books:
            policy.connection_lost(keep)
        if self._ending is not None:
            self._end_session()
        self._settle_waiters()

    def messages_to_send(self) -> list[bytes]:
        messages = self._out.drain()
        if messages:
            self._update_gate()
        return messages

    def events(self) -> list[Event]:
        # The owner's drain of BoundedQueue (its docstring): the list itself, and an empty
        # one in its place, with no copy and no method call.
        drained = self._events.items
        if not drained:
            return []
        self._events.items = []
        return drained
