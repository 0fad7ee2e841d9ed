"""``deribit.ClientProtocol``: the Deribit client machine (DESIGN.md, "The driving contract").

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
``expires_in``; a failed refresh logs in with the credentials again.  A refused login is
:class:`AuthenticationFailed` and fails the waiting private requests with the venue's
error; an unanswered one drops the connection.

Heartbeats.  Every connection sends ``public/set_heartbeat`` (``heartbeat_interval``);
the machine answers each ``test_request`` with ``public/test`` itself (never surfaced as
a request), and silence longer than interval plus grace is :class:`HeartbeatTimeout`,
which asks the stack to drop the transport (``close_request``, abort) and reconnect.

Subscriptions (``_client_subs``) and books (``_client_books``).  :class:`Subscribe` /
:class:`Unsubscribe` / :class:`UnsubscribeAll` go through the ledger; after a reconnect
the machine logs in, then resubscribes exactly the desired set.  Every book change is
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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._book import OrderBook
from .._bounded import BoundedQueue
from .._contract import CloseRequest, Handshake
from .._errors import ConnectionLost, LocalProtocolError, RemoteProtocolError, RequestFailure
from .._events import Command, Event, RequestFailed
from .._ledger import SubscriptionLedger
from .._sources import CounterIds, IdSource, RequestId
from ._client_auth import Authenticator, AuthState, Credentials
from ._client_books import BookKeeper
from ._client_events import (
    Authenticated,
    AuthenticationFailed,
    HeartbeatTimeout,
    HeartbeatUnavailable,
    LoggedOut,
    MalformedResult,
    Subscribe,
    UnmatchedError,
    Unsubscribe,
    UnsubscribeAll,
)
from ._client_limits import RateLimits
from ._client_options import DEFAULT_RATE_LIMITS, ClientOptions
from ._client_requests import PRIORITY, USER_KINDS, Kind, Req, Requests
from ._client_subs import Subscriptions
from ._commands import (
    DeribitCommand,
    GenericRequest,
    PrivateSubscribe,
    PrivateUnsubscribe,
    PublicSubscribe,
    PublicUnsubscribe,
    SetHeartbeat,
    Test,
)
from ._errors import DeribitError, ErrorCode
from ._inbound import ErrorResponse, Response, decode_inbound, decode_result
from ._methods import method_info
from ._models_session import AuthResult
from ._notifications import BookUpdate, GroupedBookUpdate, Heartbeat, TestRequest

__all__ = ["ClientProtocol"]

MAX_TEST_ANSWERS = 4
"""``public/test`` answers outstanding at once; more ``test_request`` frames are not
answered until one resolves (a venue sends one every ~10 s)."""
INTERNAL_ROOM = 16
"""Request-table room for the machine's own requests besides (un)subscribes."""

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
_ENDED = "the session ended with private/logout"


class ClientProtocol:
    """The Deribit client machine; see the module docstring and ``specs/deribit.md``."""

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
        self.options = options
        self.heartbeat_interval = options.heartbeat_interval
        self.heartbeat_grace = options.heartbeat_grace
        self._out: BoundedQueue[bytes] = BoundedQueue(
            "outbound queue (max_outbound)", max_outbound, "messages_to_send"
        )
        self._events: BoundedQueue[Event] = BoundedQueue(
            "event queue (max_events)", max_events, "events"
        )
        self._max_events = max_events
        self._max_outbound = max_outbound
        self._gate = -1  # see receive_message and _update_gate
        self._event_items = self._events._items  # the queue's list, swapped by events()
        self._requests = Requests(
            ids=ids if ids is not None else CounterIds(),
            max_pending=max_pending,
            internal_room=max_subscriptions + INTERNAL_ROOM,
            default_timeout=options.request_timeout,
            costs=rate_limits.buckets() if rate_limits is not None else None,
            out=self._out,
            events=self._events,
        )
        self._auth = Authenticator(
            credentials,
            scope=options.scope,
            nonces=nonces,
            epoch_offset=options.epoch_offset,
            refresh_fraction=refresh_fraction,
        )
        self._auth_error: RequestFailure | None = None  # the login refused on this connection
        self._auth_request: RequestId | None = None  # the login or refresh under way
        self._subs = Subscriptions(
            events=self._events,
            max_subscriptions=max_subscriptions,
            max_per_request=max_channels_per_request,
            has_credentials=credentials is not None,
        )
        self._books = BookKeeper(
            maintain=maintain_books, max_levels=max_book_levels, max_channels=max_subscriptions
        )
        self._book_states = self._books.states
        self.connected = False
        self.close_request: CloseRequest | None = None
        self._ended = False
        self._logout: RequestId | None = None  # the private/logout on the wire
        self._heard = 0.0
        self._silence_limit: float | None = None
        self._tests = 0
        self._handlers: dict[type, Callable[[Any, float], None]] = {
            Response: self._on_response,
            ErrorResponse: self._on_error,
            GroupedBookUpdate: self._on_grouped,
            TestRequest: self._on_test_request,
            Heartbeat: _ignore,
        }

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
        message = decode_inbound(data)
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
            raise LocalProtocolError(f"{_ENDED}; create a new ClientProtocol")
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
        items = self._event_items
        self._events._items = self._event_items = []
        return items

    # -- bounds -------------------------------------------------------------------------

    def _check_room(self) -> None:
        self._events.ensure_room()
        self._out.ensure_room()

    def _update_gate(self) -> None:
        """``receive_message`` checks ``len(events) >= _gate`` only: the gate is the events
        bound while connected with room in the outbound queue, else -1 (everything goes
        to the slow check).  The outbound queue only grows in :meth:`_release`."""
        if self.connected and len(self._out) < self._max_outbound:
            self._gate = self._max_events
        else:
            self._gate = -1

    # -- sending ------------------------------------------------------------------------

    def _can_send(self, req: Req) -> bool:
        return (
            self.connected
            and self.close_request is None
            and (not req.needs_auth or self._auth.authenticated)
        )

    def _dispatch(self, request_id: RequestId, req: Req, *, front: bool = False) -> None:
        if self._can_send(req):
            self._requests.submit(request_id, req, front=front)
        else:
            self._requests.hold(request_id, req)

    def _open_internal(self, kind: Kind, command: DeribitCommand, now: float) -> RequestId:
        request_id, req = self._requests.open(kind, command, now)
        self._requests.submit(request_id, req, front=kind in PRIORITY)
        return request_id

    def _release(self, now: float) -> None:
        """Everything the buckets allow goes on the wire."""
        requests = self._requests
        if not self.connected or self.close_request is not None or not len(requests.pacer):
            return
        for request_id, req in requests.release(now):
            if self._logout is not None:  # after a logout, nothing more goes out
                if req.kind in USER_KINDS:
                    requests.fail(request_id, ConnectionLost(f"not sent: {_ENDED}"))
                else:
                    requests.drop(request_id)
                continue
            requests.send(req)
            if req.kind is Kind.LOGOUT:
                self._logout = request_id
        self._update_gate()

    # -- answers ------------------------------------------------------------------------

    def _on_response(self, message: Response, now: float) -> None:
        requests = self._requests
        request_id = message.id
        req = requests.sent(request_id)
        if req is None or request_id is None:
            return  # late (timed out), duplicated, or never ours: nothing to resolve
        try:
            result = decode_result(requests.command(request_id), message.result)
        except RemoteProtocolError as exc:
            self._request_failed(request_id, req, MalformedResult(str(exc)), now)
            self._release(now)
            return
        kind = req.kind
        if kind in USER_KINDS:
            requests.succeed(request_id, result)
            return
        requests.drop(request_id)
        if kind is Kind.AUTH or kind is Kind.REFRESH:
            self._auth_request = None
            assert isinstance(result, AuthResult)
            self._authenticated(result, now, refreshed=kind is Kind.REFRESH)
        elif kind is Kind.TEST:
            self._tests -= 1
        elif kind is Kind.SUBSCRIBE:
            for channel in self._subs.subscribe_acked(request_id, result):
                self._books.resubscribed(channel)
            self._after_subscriptions(now)
        elif kind is Kind.UNSUBSCRIBE:
            self._unsubscribed(request_id, now)

    def _on_error(self, message: ErrorResponse, now: float) -> None:
        error = message.exception()
        request_id = message.id
        req = self._requests.sent(request_id)
        if req is None or request_id is None:
            self._events.append(UnmatchedError(error=error, request_id=request_id))
            return
        if error.code != ErrorCode.TOO_MANY_REQUESTS or not self._retry_later(request_id, req, now):
            self._request_failed(request_id, req, error, now)
        self._release(now)

    def _retry_later(self, request_id: RequestId, req: Req, now: float) -> bool:
        """10028: park the request until its buckets refill, if that is before its deadline.

        It was not executed, so it may go again, with the same id (spec 7.3).
        """
        if not self._requests.refilled_in_time(request_id, req, now):
            return False
        if self._logout == request_id:
            self._logout = None  # refused, not executed: the session goes on for now
        self._dispatch(request_id, req, front=req.kind in PRIORITY)
        return True

    def _request_failed(
        self, request_id: RequestId, req: Req, error: RequestFailure, now: float
    ) -> None:
        """A request ended without a result: a venue error, a malformed result, a timeout."""
        kind = req.kind
        if kind in USER_KINDS:
            self._requests.fail(request_id, error)
            if kind is Kind.SUBSCRIPTION:  # pragma: no cover - never sent, never answered
                self._subs.drop_waiter(request_id)
            if self._logout == request_id:
                self._logout = None  # the venue refused it: the session goes on
            return
        self._requests.drop(request_id)
        refused = isinstance(error, DeribitError | MalformedResult)
        if kind is Kind.REFRESH:
            self._auth_request = None
            self._login(now)  # the refresh token failed: log in with the credentials
        elif kind is Kind.AUTH:
            self._auth_request = None
            self._auth_failed(error)
        elif kind is Kind.HEARTBEAT:
            if refused:  # no heartbeats will come, so silence proves nothing
                self._silence_limit = None
                self._events.append(HeartbeatUnavailable(error=error))
            # unanswered: the silence check stays on, and decides
        elif kind is Kind.TEST:
            self._tests -= 1
        elif kind is Kind.SUBSCRIBE:
            # refused: the channels are rejected; unanswered: they are tried again
            reason = f"refused by the venue: {error}" if refused else None
            self._subs.subscribe_failed(request_id, reason)
            self._after_subscriptions(now)
        elif kind is Kind.UNSUBSCRIBE:
            if refused:
                self._unsubscribed(request_id, now)  # retrying would repeat the refusal
            else:
                self._subs.unsubscribe_failed(request_id)
                self._after_subscriptions(now)

    def _expired(self, failed: RequestFailed, req: Req, now: float) -> None:
        """A deadline passed (``req`` is already forgotten)."""
        request_id = failed.request_id
        kind = req.kind
        if kind in USER_KINDS:
            if kind is Kind.SUBSCRIPTION:
                self._subs.drop_waiter(request_id)
            if self._logout == request_id and self.connected:
                self.close_request = CloseRequest(code=1000, reason="logout")
            self._events.append(failed)
        elif kind is Kind.AUTH:
            self._auth_request = None
            self._events.append(AuthenticationFailed(error=failed.error))
            if self.connected and self.close_request is None:
                self.close_request = CloseRequest(abort=True)  # not answering: reconnect
        else:
            self._request_failed(request_id, req, failed.error, now)

    # -- authentication -----------------------------------------------------------------

    def _login(self, now: float) -> None:
        self._auth_request = self._open_internal(Kind.AUTH, self._auth.login(now), now)

    def _refresh(self, now: float) -> None:
        command = self._auth.refresh()
        self._auth.refresh_at = None
        if command is None:
            self._login(now)
        else:
            self._auth_request = self._open_internal(Kind.REFRESH, command, now)

    def _authenticated(self, result: AuthResult, now: float, *, refreshed: bool) -> None:
        self._auth.granted(result, now)
        self._auth_error = None
        self._events.append(
            Authenticated(scope=result.scope, expires_in=result.expires_in, refreshed=refreshed)
        )
        self._requests.flush_held(self._can_send)
        self._pump_subscriptions(now)
        self._release(now)

    def _auth_failed(self, error: RequestFailure) -> None:
        self._auth.failed()
        self._auth_error = error
        self._events.append(AuthenticationFailed(error=error))
        requests = self._requests
        for request_id in list(requests.held):
            if requests.reqs[request_id].needs_auth:
                requests.fail(request_id, error)
        self._subs.reject_private(f"authentication failed: {error}")
        self._settle_waiters()

    # -- heartbeats ---------------------------------------------------------------------

    def _on_test_request(self, message: TestRequest, now: float) -> None:
        if self.close_request is not None or self._tests >= MAX_TEST_ANSWERS:
            return
        self._tests += 1
        self._open_internal(Kind.TEST, Test(), now)
        self._release(now)

    def _declare_dead(self, now: float) -> None:
        silence = now - self._heard
        self._events.append(
            HeartbeatTimeout(
                reason=f"nothing received for {silence:g}s (heartbeat interval "
                f"{self.heartbeat_interval}s plus {self.heartbeat_grace:g}s grace)",
                silence=silence,
            )
        )
        self.close_request = CloseRequest(abort=True)

    # -- subscriptions and books ---------------------------------------------------------

    def _send_subscription(
        self, command: Subscribe | Unsubscribe | UnsubscribeAll, now: float, timeout: float | None
    ) -> RequestId:
        subs, requests = self._subs, self._requests
        if isinstance(command, Subscribe):
            missing = subs.needs_credentials(command.channels)
            if missing:
                raise LocalProtocolError(
                    f"channels {missing!r:.200} need authentication: pass credentials= to "
                    "ClientProtocol"
                )
        requests.check_pending()
        request_id, _ = requests.open_virtual(command, now, timeout=timeout)
        try:
            if isinstance(command, Subscribe):
                subs.subscribe(request_id, tuple(command.channels))
            else:
                channels = command.channels if isinstance(command, Unsubscribe) else None
                subs.unsubscribe(request_id, channels)
        except LocalProtocolError:
            requests.drop(request_id)
            raise
        if self._auth_error is not None:
            subs.reject_private(f"authentication failed: {self._auth_error}")
        self._after_subscriptions(now)
        return request_id

    def _after_subscriptions(self, now: float) -> None:
        self._pump_subscriptions(now)
        self._settle_waiters()
        self._release(now)

    def _pump_subscriptions(self, now: float) -> None:
        """Send what the ledger plans: unsubscribes (and resync cycles), then subscribes."""
        if not self.connected or self.close_request is not None or self._logout is not None:
            return
        ledger = self._subs.ledger
        for subscribe, private, channels in self._subs.plan(authenticated=self._auth.authenticated):
            if subscribe:
                sub = PrivateSubscribe if private else PublicSubscribe
                request_id = self._open_internal(Kind.SUBSCRIBE, sub(channels=channels), now)
                ledger.mark_subscribing(channels, request_id)
            else:
                unsub = PrivateUnsubscribe if private else PublicUnsubscribe
                request_id = self._open_internal(Kind.UNSUBSCRIBE, unsub(channels=channels), now)
                ledger.mark_unsubscribing(channels, request_id)

    def _unsubscribed(self, request_id: RequestId, now: float) -> None:
        for channel in self._subs.unsubscribe_acked(request_id):
            self._books.forget(channel)
        self._after_subscriptions(now)

    def _settle_waiters(self) -> None:
        """Resolve the user's Subscribe / Unsubscribe requests the ledger has settled."""
        done = self._subs.done
        if done:
            self._subs.done = []
            for request_id, result in done:
                if request_id in self._requests.reqs:
                    self._requests.succeed(request_id, result)

    def _resync(self, channel: str, now: float) -> None:
        """Cycle ``channel`` alone (unsubscribe, subscribe) to get a fresh snapshot."""
        if self._subs.ledger.resync(channel):
            self._pump_subscriptions(now)
            self._release(now)

    def _on_grouped(self, message: GroupedBookUpdate, now: float) -> None:
        self._books.on_grouped(message, self._events)

    # -- the end of a session ------------------------------------------------------------

    def _end_session(self) -> None:
        self._ended = True
        self._logout = None
        self._events.append(LoggedOut())
        error = ConnectionLost(_ENDED)
        for request_id in list(self._requests.held):
            self._requests.fail(request_id, error)
        for request_id in self._subs.reset():
            self._requests.fail(request_id, error)
        self._books.connection_lost(set())


def _ignore(message: object, now: float) -> None:
    """Heartbeat frames need no answer; receiving one already counted as liveness."""
