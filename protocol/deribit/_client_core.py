"""The inside of ``deribit.ClientProtocol``: its state and everything it does on its own.

:class:`ClientCore` builds the machine's parts from its :class:`ClientOptions` (the
queues, the request records, the authenticator, the subscription ledger, the book
keeper) and holds what happens between the driving calls: pacing and sending, the
answers to requests (results, venue errors, 10028 retries, deadlines), login and
refresh, heartbeat answers and the silence check, subscription plans and book resyncs,
and the end of a session after ``private/logout``.  :class:`ClientProtocol`
(``_client.py``) adds the public driving contract on top; the split is one of size
only, and the module docstring of ``_client.py`` describes the behaviour of both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._bounded import BoundedQueue
from .._contract import CloseRequest
from .._errors import ConnectionLost, LocalProtocolError, RemoteProtocolError, RequestFailure
from .._events import Event, RequestFailed
from .._sources import CounterIds, RequestId
from ._client_auth import Authenticator
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
from ._client_options import ClientOptions
from ._client_requests import PRIORITY, USER_KINDS, Kind, Req, Requests
from ._client_subs import Subscriptions
from ._commands import (
    DeribitCommand,
    PrivateSubscribe,
    PrivateUnsubscribe,
    PublicSubscribe,
    PublicUnsubscribe,
    Test,
)
from ._errors import (
    AuthorizationRequired,
    DeribitError,
    ErrorCode,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
)
from ._inbound import ErrorResponse, Response, decode_result
from ._models_session import AuthResult
from ._notifications import GroupedBookUpdate, Heartbeat, TestRequest

__all__ = ["ENDED", "INTERNAL_ROOM", "MAX_TEST_ANSWERS", "MIN_REAUTH_INTERVAL", "ClientCore"]

MAX_TEST_ANSWERS = 4
"""``public/test`` answers outstanding at once; more ``test_request`` frames are not
answered until one resolves (a venue sends one every ~10 s)."""
INTERNAL_ROOM = 16
"""Request-table room for the machine's own requests besides (un)subscribes."""
ENDED = "the session ended with private/logout"
MIN_REAUTH_INTERVAL = 1.0
"""Seconds between two refreshes; a refused token (13009) may not prompt one sooner."""


class ClientCore:
    """State and internals of :class:`ClientProtocol` (see the module docstring)."""

    def __init__(self, options: ClientOptions) -> None:
        self.options = options
        self.heartbeat_interval = options.heartbeat_interval
        self.heartbeat_grace = options.heartbeat_grace
        max_outbound, max_events = options.max_outbound, options.max_events
        max_subscriptions = options.max_subscriptions
        rate_limits, credentials = options.rate_limits, options.credentials
        self._out: BoundedQueue[bytes] = BoundedQueue(
            "outbound queue (max_outbound)", max_outbound, "messages_to_send"
        )
        self._events: BoundedQueue[Event] = BoundedQueue(
            "event queue (max_events)", max_events, "events"
        )
        self._max_events = max_events
        self._max_outbound = max_outbound
        self._gate = -1  # see ClientProtocol.receive_message and _update_gate
        self._event_items = self._events.items  # the queue's own list: receive_message appends
        self._requests = Requests(
            ids=options.ids if options.ids is not None else CounterIds(),
            max_pending=options.max_pending,
            internal_room=max_subscriptions + INTERNAL_ROOM,
            default_timeout=options.request_timeout,
            costs=rate_limits.buckets() if rate_limits is not None else None,
            out=self._out,
            events=self._events,
        )
        self._auth = Authenticator(
            credentials,
            scope=options.scope,
            nonces=options.nonces,
            epoch_offset=options.epoch_offset,
            refresh_fraction=options.refresh_fraction,
        )
        self._auth_error: RequestFailure | None = None  # the login refused on this connection
        self._auth_request: RequestId | None = None  # the login or refresh under way
        self._reauth_after = float("-inf")  # see _token_refused
        self._subs = Subscriptions(
            events=self._events,
            max_subscriptions=max_subscriptions,
            max_per_request=options.max_channels_per_request,
            has_credentials=credentials is not None,
        )
        self._books = BookKeeper(
            maintain=options.maintain_books,
            max_levels=options.max_book_levels,
            max_channels=max_subscriptions,
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
                    requests.fail(request_id, ConnectionLost(f"not sent: {ENDED}"))
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
        token_refused = isinstance(error, Unauthorized | AuthorizationRequired)
        if token_refused and req.needs_auth:
            self._token_refused(now)
        if kind in USER_KINDS:
            self._requests.fail(request_id, error)
            if kind is Kind.SUBSCRIPTION:  # pragma: no cover - never sent, never answered
                self._subs.drop_waiter(request_id)
            if self._logout == request_id:
                self._logout = None  # the venue refused it: the session goes on
            return
        self._requests.drop(request_id)
        # A transient refusal (retry, maintenance, temporarily unavailable, rate limited)
        # says nothing about the channels or the method: like no answer, it is tried again.
        refused = isinstance(error, DeribitError | MalformedResult) and not isinstance(
            error, ServiceUnavailable | RateLimited
        )
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
            if token_refused:
                # The venue refused the token, not the channels: they go out again after
                # the re-authentication (not now: the same token would be refused).
                self._subs.subscribe_failed(request_id, None)
                return
            # refused: the channels are rejected; unanswered: they are tried again
            reason = f"refused by the venue: {error}" if refused else None
            self._subs.subscribe_failed(request_id, reason)
            self._after_subscriptions(now)
        elif kind is Kind.UNSUBSCRIBE:
            if token_refused:
                # Nothing was removed: as for a subscribe, again after re-authenticating.
                self._unsubscribe_failed(request_id)
            elif refused:
                self._unsubscribed(request_id, now)  # retrying would repeat the refusal
            else:
                self._unsubscribe_failed(request_id)
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

    def _token_refused(self, now: float) -> None:
        """A private request on this connection got 13009 / 10000: the venue no longer
        takes the connection's token (expired early, revoked).  Refresh now, not at the
        scheduled time (which a year-long token puts months away); a refresh that fails
        logs in with the credentials.  Refreshes are at least ``MIN_REAUTH_INTERVAL``
        apart, so a venue that refuses every new token gets no login storm: a refusal
        sooner than that moves the next scheduled refresh forward instead."""
        if not (
            self.connected
            and self.close_request is None
            and self._auth.authenticated
            and self._auth_request is None
        ):
            return  # not logged in, or a login or refresh is already under way
        if now >= self._reauth_after:
            self._refresh(now)
            return
        scheduled = self._auth.refresh_at
        if scheduled is None or scheduled > self._reauth_after:
            self._auth.refresh_at = self._reauth_after

    def _login(self, now: float) -> None:
        self._auth_request = self._open_internal(Kind.AUTH, self._auth.login(now), now)

    def _refresh(self, now: float) -> None:
        command = self._auth.refresh()
        self._auth.refresh_at = None
        self._reauth_after = now + MIN_REAUTH_INTERVAL
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

    def _unsubscribe_failed(self, request_id: RequestId) -> None:
        """No ack: the channels are still live at the venue.  The unwanted ones are
        planned again as they are.  A wanted one was being cycled (a resync after a gap,
        or subscribed again meanwhile): it is cycled again, or its book would stay stale
        for good and the requests waiting for its subscription would never settle."""
        ledger = self._subs.ledger
        for channel in self._subs.unsubscribe_failed(request_id):
            if ledger.is_desired(channel):
                ledger.resync(channel)

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
        error = ConnectionLost(ENDED)
        for request_id in list(self._requests.held):
            self._requests.fail(request_id, error)
        for request_id in self._subs.reset():
            self._requests.fail(request_id, error)
        self._books.connection_lost(set())


def _ignore(message: object, now: float) -> None:
    """Heartbeat frames need no answer; receiving one already counted as liveness."""
