"""``deribit.ClientProtocol``: the Deribit client machine (docs/architecture.md).

One machine lives as long as the caller's session, across connections: the
WebSocket stack calls ``connection_made`` / ``connection_lost`` per connection, and the
machine re-authenticates, turns the heartbeat back on and resubscribes by itself.

Requests.  ``send(command, now)`` takes any Deribit command (typed or
``GenericRequest``) and returns its request id at once; the request resolves exactly once
as ``RequestSucceeded`` (``result`` decoded with the command's ``result_type``) or
``RequestFailed`` (a ``DeribitError`` subclass from :func:`error_for`, a
``RequestTimeout``, a ``ConnectionLost`` or a :class:`MalformedResult`).  A request sent
while disconnected, or a private one before authentication completes, *waits in the
machine* until it can go, bounded by its deadline: during a brief reconnect an order goes
out late by at most its deadline, never after it.  A request already on the wire when
the connection drops fails with ``ConnectionLost`` (the venue may have executed it).

Outbound requests are paced per credit pool (:mod:`._client_limits`).  A 10028
``too_many_requests`` answer empties that pool's bucket, and the request is sent again
once it has refilled, if that is before its deadline (else it fails with the
``TooManyRequests`` error).  The venue also closes the connection after 10028 (spec 7.3);
a request parked for retry was not executed, so it is not failed with the connection:
it waits for the next one like any unsent request.

Sessions.  ``private/logout`` is never answered (spec 2.5): it resolves successfully when
the venue closes the connection, and that ends the session for good: waiting requests
fail with ``ConnectionLost``, the desired subscriptions are dropped, :class:`LoggedOut`
is reported, ``send`` raises, and a later ``connection_made`` asks at once for the
connection to be closed.  Close the stack to stop it reconnecting.  If the venue has not
closed the connection by the logout's deadline, it resolves with ``RequestTimeout`` and
the machine closes the connection itself.

Authentication (``_client_auth``).  With ``credentials``, every connection logs in first
(``client_signature`` by default, or ``client_credentials``; ``scope`` such as
``session:NAME`` is asked for each time): private requests and private subscriptions
wait for it, public traffic does not.  :class:`Authenticated` reports the granted scope.
The token is refreshed (``refresh_token`` grant) at ``refresh_fraction`` of
``expires_in``; a failed refresh logs in with the credentials again.  A private request
refused with 13009 ``unauthorized`` (or 10000) on an authenticated connection means the
venue dropped the token early (expired, revoked): the request fails, and the machine
refreshes at once (at most once a second); subscribe and unsubscribe calls refused that
way go out again after it, never counting as done.  A refused login is
:class:`AuthenticationFailed` and fails the waiting private requests with the venue's
error; an unanswered one drops the connection.

Heartbeats.  Every connection sends ``public/set_heartbeat`` (``heartbeat_interval``);
the machine answers each ``test_request`` with ``public/test`` itself (never surfaced as
a request), and silence longer than interval plus grace is :class:`HeartbeatTimeout`,
which asks the stack to drop the transport (``close_request``, abort) and reconnect.

Subscriptions (``_client_subs``) and books (``_client_books``).  :class:`Subscribe` /
:class:`Unsubscribe` / :class:`UnsubscribeAll` go through the ledger; after a reconnect
the machine logs in, then resubscribes exactly the desired set.  A subscribe or
unsubscribe refused for the channels (11052, 13778, invalid params) settles them; one
refused for a transient reason (:class:`ServiceUnavailable`: 10040 ``retry``, 13028
``temporarily_unavailable``, ...; :class:`RateLimited`) goes out again like an
unanswered one, paced by the subscribe pool: a channel the venue still sends is never
counted as ended.  The same holds for ``set_heartbeat``.  Every book change is
checked against its channel's ``change_id`` chain; a gap is :class:`BookGap`, the book
goes stale and that channel alone is resynced.  ``maintain_books=True`` keeps an
``OrderBook`` per book channel (:meth:`ClientProtocol.book`).

Methods the machine owns are refused by ``send`` with :class:`LocalProtocolError`:
``public/auth`` (pass ``credentials``), ``public/set_heartbeat`` and
``public/disable_heartbeat`` (pass ``heartbeat_interval``) and the subscribe and
unsubscribe methods (send :class:`Subscribe`, :class:`Unsubscribe`,
:class:`UnsubscribeAll`, so the ledger stays exact).

Time and randomness.  Nothing here reads a clock or global randomness: ids come from
``ids`` (default :class:`CounterIds`), signature nonces from ``nonces`` (default: the
timestamp in ms as a string, as ccxt does).  ``now`` is any monotonic clock, in
seconds.  ``client_signature`` needs *epoch* milliseconds, so the machine signs with
``now + epoch_offset``: a binding driving the machine with ``time.monotonic()`` passes
``epoch_offset=time.time() - time.monotonic()`` (with ``time.time()`` as its clock,
``0.0``, the default).

Layout: this module holds the public driving contract; the machine's state and what it
does between driving calls live in :class:`~._client_core.ClientCore`, its base class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._contract import CloseRequest, Handshake
from .._errors import LocalProtocolError, RemoteProtocolError
from .._events import Command, Event
from .._sources import IdSource, RequestId
from ..session._book import OrderBook
from ..session._ledger import SubscriptionLedger
from ._client_auth import AuthState, Credentials
from ._client_core import ENDED, ClientCore
from ._client_events import Subscribe, Unsubscribe, UnsubscribeAll
from ._client_limits import RateLimits
from ._client_options import DEFAULT_RATE_LIMITS, ClientOptions
from ._client_requests import Kind
from ._commands import DeribitCommand, GenericRequest, SetHeartbeat
from ._inbound import (
    _DECODE_ERRORS,
    WIDER,
    Inbound,
    _decode_bytes,
    _hints,
    _types,
    _wide_hints,
    decode_inbound,
)
from ._methods import method_info
from ._notifications import BookUpdate

__all__ = ["ClientProtocol"]

# The codec's hint tables, read on the hot path through their bound ``get``: a method
# call on an imported name compiles to an attribute load that builds a bound method
# each time (CPython 3.11 treats imported names as modules), about 30 ns per call.
_hint_for = _hints.get
_wide_hint_for = _wide_hints.get
_type_of = _types.get

_MANAGED = {
    "public/auth": "pass credentials= (and scope=) to ClientProtocol",
    "public/set_heartbeat": "pass heartbeat_interval= to ClientProtocol",
    "public/disable_heartbeat": "pass heartbeat_interval=None to ClientProtocol",
    "public/subscribe": "send Subscribe",
    "private/subscribe": "send Subscribe",
    "public/unsubscribe": "send Unsubscribe",
    "private/unsubscribe": "send Unsubscribe",
    "public/unsubscribe_all": "send UnsubscribeAll",
    "private/unsubscribe_all": "send UnsubscribeAll",
}


class ClientProtocol(ClientCore):
    """The Deribit client machine; see the module docstring and ``docs/venues/deribit.md``."""

    handshake = Handshake(path="/ws/api/v2")

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        scope: str | None = None,
        ids: IdSource | None = None,
        nonces: Callable[[], str] | None = None,
        epoch_offset: float = 0.0,
        request_timeout: float = 10.0,
        heartbeat_interval: int | None = 10,
        heartbeat_grace: float | None = None,
        refresh_fraction: float = 0.8,
        rate_limits: RateLimits | None = DEFAULT_RATE_LIMITS,
        max_channels_per_request: int = 500,
        maintain_books: bool = False,
        max_book_levels: int = 100_000,
        max_pending: int = 1024,
        max_outbound: int = 4096,
        max_events: int = 10_000,
        max_subscriptions: int = 10_000,
    ) -> None:
        options = ClientOptions(
            credentials=credentials,
            scope=scope,
            ids=ids,
            nonces=nonces,
            epoch_offset=epoch_offset,
            request_timeout=request_timeout,
            heartbeat_interval=heartbeat_interval,
            heartbeat_grace=heartbeat_grace,
            refresh_fraction=refresh_fraction,
            rate_limits=rate_limits,
            max_channels_per_request=max_channels_per_request,
            maintain_books=maintain_books,
            max_book_levels=max_book_levels,
            max_pending=max_pending,
            max_outbound=max_outbound,
            max_events=max_events,
            max_subscriptions=max_subscriptions,
        )
        super().__init__(options)

    def __repr__(self) -> str:
        return (
            f"ClientProtocol(connected={self.connected!r}, auth={self._auth.state.value}, "
            f"pending={len(self._requests.table)}, active={len(self._subs.ledger.active())})"
        )

    # -- introspection ------------------------------------------------------------------

    @property
    def auth_state(self) -> AuthState:
        return self._auth.state

    @property
    def authenticated(self) -> bool:
        return self._auth.authenticated

    @property
    def granted_scope(self) -> str | None:
        """The scope of the last successful ``public/auth`` (spec 2.4)."""
        return self._auth.granted_scope

    @property
    def ledger(self) -> SubscriptionLedger:
        """The subscription ledger (read it; change it only through commands)."""
        return self._subs.ledger

    @property
    def session_ended(self) -> bool:
        """``private/logout`` ended the session (see the module docstring)."""
        return self._ended

    @property
    def pending(self) -> int:
        """Open requests, the user's and the machine's own."""
        return len(self._requests.table)

    def book(self, channel: str) -> OrderBook | None:
        """The maintained ``OrderBook`` of ``channel`` (``maintain_books=True``), or ``None``."""
        return self._books.book(channel)

    # -- the driving contract -----------------------------------------------------------

    def connection_made(self, now: float) -> None:
        if self.connected:
            raise LocalProtocolError("connection_made() called twice without connection_lost()")
        self._check_room()
        self.connected = True
        self._update_gate()
        self.close_request = None
        self._heard = now
        if self._ended:
            self.close_request = CloseRequest(code=1000, reason="session ended by private/logout")
            return
        self._auth.connection_made()
        if self._auth.credentials is not None:
            self._login(now)
        if self.heartbeat_interval is not None and self.heartbeat_grace is not None:
            command = SetHeartbeat(interval=self.heartbeat_interval)
            request_id, req = self._requests.open(Kind.HEARTBEAT, command, now)
            self._requests.submit(request_id, req, front=True)
            self._silence_limit = self.heartbeat_interval + self.heartbeat_grace
        self._pump_subscriptions(now)
        self._requests.flush_held(self._can_send)
        self._release(now)

    def receive_message(self, data: bytes | str, now: float) -> None:
        """One message from the venue; raises only :class:`RemoteProtocolError`
        (and :class:`LocalProtocolError` for misuse: not connected, a full queue)."""
        # The hot path.  Both bounds and "connected" in one compare (see _update_gate): a
        # method call per check would cost more than the continuity check itself.
        events = self._event_items
        if len(events) >= self._gate:
            self._check_room()
            raise LocalProtocolError("receive_message() before connection_made()")
        self._heard = now
        # decode_inbound, with its first step (the first-byte hint) inlined; for a book
        # change, the state lookup doubles as the check of the decoded channel: only a
        # channel verified to route to BookUpdate has a state in _book_states (BookKeeper).
        message: Inbound
        if type(data) is not bytes:
            message = decode_inbound(data)
        else:
            hint = _hint_for(data[62:63])
            if hint is WIDER:
                hint = _wide_hint_for(data[62:70])
            if hint is None:
                message = _decode_bytes(data)
            else:
                decode, event_type = hint
                try:
                    hinted: Any = decode(data).params
                except _DECODE_ERRORS:
                    hinted = None
                if hinted is None:
                    message = _decode_bytes(data)
                elif (
                    event_type is BookUpdate
                    and (state := self._book_states.get(hinted.channel)) is not None
                ):
                    book_data = hinted.data
                    if book_data.prev_change_id == state.last and state.book is None:
                        # A change that continues its chain, no book kept: the hot path.
                        state.last = book_data.change_id
                        events.append(hinted)
                        return
                    message = hinted
                elif _type_of(hinted.channel) is event_type:
                    message = hinted
                else:
                    message = _decode_bytes(data)
        if type(message) is BookUpdate:
            book_data = message.data
            state = self._book_states.get(message.channel)
            if state is not None and book_data.prev_change_id == state.last:
                # A change that continues its chain: one lookup and one compare.
                state.last = book_data.change_id
                book = state.book
                if book is None:
                    events.append(message)
                    return
                try:
                    book.apply_actions("bid", book_data.bids)
                    book.apply_actions("ask", book_data.asks)
                except RemoteProtocolError as exc:
                    error = self._books.broken(state, message.channel, exc)
                    self._resync(message.channel, now)
                    raise error from None
                events.append(message)
                if state.crossed or book.is_crossed():
                    self._books.check_crossed(state, message.channel, self._events)
                return
            try:
                resync = self._books.on_book(message, self._events)
            except RemoteProtocolError:
                self._resync(message.channel, now)
                raise
            if resync:
                self._resync(message.channel, now)
            return
        handler = self._handlers.get(type(message))
        if handler is None:
            # channel events, generic notifications, unknown messages: all events
            events.append(message)  # type: ignore[arg-type]
        else:
            handler(message, now)

    def send(self, command: Command, now: float, *, timeout: float | None = None) -> RequestId:
        """Queue ``command``; returns its request id (see the module docstring).

        ``timeout`` (seconds) overrides ``request_timeout`` for this request.
        """
        self._check_room()
        if self._ended or self._logout is not None:
            raise LocalProtocolError(f"{ENDED}; create a new ClientProtocol")
        if isinstance(command, Subscribe | Unsubscribe | UnsubscribeAll):
            return self._send_subscription(command, now, timeout)
        if not isinstance(command, DeribitCommand | GenericRequest):
            raise LocalProtocolError(
                f"invalid command: expected a Deribit command, GenericRequest, Subscribe, "
                f"Unsubscribe or UnsubscribeAll, got {type(command).__name__}"
            )
        info = method_info(command)
        hint = _MANAGED.get(info.method)
        if hint is not None:
            raise LocalProtocolError(f"{info.method} is managed by ClientProtocol: {hint}")
        requests = self._requests
        requests.check_pending()
        kind = Kind.USER if info.has_response else Kind.LOGOUT
        request_id, req = requests.open(kind, command, now, timeout=timeout)
        if req.needs_auth and self._auth.credentials is None:
            requests.drop(request_id)
            raise LocalProtocolError(
                f"{info.method} needs authentication: pass credentials= to ClientProtocol "
                "or access_token= to the command"
            )
        if req.needs_auth and self._auth_error is not None:
            requests.fail(request_id, self._auth_error)
            return request_id
        self._dispatch(request_id, req)
        self._release(now)
        return request_id

    def handle_timer(self, now: float) -> None:
        self._check_room()
        for failed, req in self._requests.expire(now):
            self._expired(failed, req, now)
        if self.connected and self.close_request is None:
            limit = self._silence_limit
            if limit is not None and now >= self._heard + limit:
                self._declare_dead(now)
            else:
                refresh_at = self._auth.refresh_at
                if refresh_at is not None and now >= refresh_at and self._auth_request is None:
                    self._refresh(now)
        self._settle_waiters()
        self._release(now)

    def next_deadline(self) -> float | None:
        live = self.connected and self.close_request is None
        candidates = [self._requests.next_deadline(paced=live)]
        if live:
            if self._silence_limit is not None:
                candidates.append(self._heard + self._silence_limit)
            if self._auth_request is None:
                candidates.append(self._auth.refresh_at)
        present = [c for c in candidates if c is not None]
        return min(present) if present else None

    def connection_lost(self, now: float) -> None:
        """Requests on the wire fail; waiting ones, and the desired subscriptions, stay."""
        if not self.connected:
            return
        self.connected = False
        self._requests.connection_lost()
        self._update_gate()
        self._auth.connection_lost()
        self._auth_error = None  # the next connection logs in again
        self._auth_request = None
        self._tests = 0
        self._silence_limit = None
        self._subs.connection_lost()
        self._books.connection_lost(set(self._subs.ledger.desired()))
        if self._logout is not None:
            self._end_session()
        self._settle_waiters()

    def messages_to_send(self) -> list[bytes]:
        messages = self._out.drain()
        if messages:
            self._update_gate()
        return messages

    def events(self) -> list[Event]:
        # The owner's drain of BoundedQueue (its docstring): the list itself, and an empty
        # one in its place, with no copy and no method call.  receive_message appends to
        # _event_items, everything else through the queue: both now see the new list.
        drained = self._event_items
        if not drained:
            return []
        self._event_items = self._events.items = []
        return drained
