"""The inside of :class:`~tradewire.protocol.session.ClientSession`: its state and
everything it does between the driving calls.

:class:`SessionCore` builds the machine's parts from a venue's
:class:`~tradewire.protocol.session.ClientSpec` and the :class:`SessionOptions` (the
queues, the outbox, the subscriptions, the continuity policies) and holds what happens on
its own: pacing and sending, the answers to requests (results, interim answers, venue
errors by class, rate-limit retries, deadlines), login and refresh, heartbeats (set-up,
probe answers, pings, the silence check), subscription plans and resyncs, and the end of
a session.  ``_client.py`` adds the public driving contract; the split is one of size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .._bounded import BoundedQueue
from .._contract import CloseRequest
from .._errors import (
    ConnectionLost,
    LocalProtocolError,
    RemoteProtocolError,
    RequestFailure,
    RequestTimeout,
    VenueError,
)
from .._events import Command, Event, RequestFailed
from .._sources import CounterIds, RequestId
from ._client_events import (
    AuthenticationFailed,
    HeartbeatTimeout,
    HeartbeatUnavailable,
    MalformedResult,
    PongTimeout,
    RequestAccepted,
    SessionEnded,
    UnmatchedError,
)
from ._client_spec import ClientSpec, SessionOptions
from ._outbox import NOT_REFUSED, PRIORITY, RETRIED, USER_KINDS, WAITING, Kind, Outbox, Req
from ._policies import Answer, ErrorClass, Handler, SubscriptionOp, Take
from ._states import SessionState
from ._subscriptions import Subscriptions

__all__ = ["MIN_REAUTH_INTERVAL", "SessionCore"]

MIN_REAUTH_INTERVAL = 1.0
"""Seconds between two refreshes; a refused token may not prompt one sooner."""
NO_UNSUBSCRIBE = "dropping subscriptions: the venue has no unsubscribe"


class SessionCore:
    """State and internals of :class:`ClientSession` (see the module docstring)."""

    def __init__(self, spec: ClientSpec, options: SessionOptions) -> None:
        self.spec = spec
        self.session_options = options
        self._codec = spec.codec
        self._auth = spec.auth
        self._heartbeat = spec.heartbeat
        self._classify = spec.classify
        max_outbound, max_events = options.max_outbound, options.max_events
        self._out: BoundedQueue[bytes] = BoundedQueue(
            "outbound queue (max_outbound)", max_outbound, "messages_to_send"
        )
        self._events: BoundedQueue[Event] = BoundedQueue(
            "event queue (max_events)", max_events, "events"
        )
        self._max_events = max_events
        self._max_outbound = max_outbound
        self._gate = -1  # see ClientSession.receive_message and _update_gate
        self._outbox = Outbox(
            codec=spec.codec,
            ids=options.ids if options.ids is not None else CounterIds(),
            max_pending=options.max_pending,
            internal_room=options.max_subscriptions + spec.internal_room,
            default_timeout=options.request_timeout,
            pacing=spec.pacing,
            out=self._out,
            events=self._events,
        )
        self._subs = Subscriptions(
            spec.subscriptions,
            events=self._events,
            max_subscriptions=options.max_subscriptions,
            dropped=spec.dropped,
        )
        self._auth_error: RequestFailure | None = None  # the login refused on this connection
        self._auth_request: RequestId | None = None  # the login or refresh under way
        self._reauth_after = float("-inf")  # see _token_refused
        self.connected = False
        self.close_request: CloseRequest | None = None
        self._ended: str | None = None  # the name of the request that ended the session
        self._ending: RequestId | None = None  # the session-ending request on the wire
        self._ending_name = ""
        self._heard = 0.0
        self._silence_limit: float | None = None
        self._answers = 0  # probe answers in flight
        self._ping_at: float | None = None
        self._ping: RequestId | None = None
        self._handlers: dict[type, Handler] = {}
        for policy in spec.books:
            self._handlers.update(policy.handlers(self))
        for router in spec.routers:
            self._handlers.update(router.handlers(self))
        self._handlers.update(spec.handlers)
        for answer_type in spec.codec.answer_types:
            self._handlers[answer_type] = self._on_answer
        for probe_type in spec.heartbeat.probe_types:
            self._handlers[probe_type] = self._on_probe
        # Read once here, after the policies registered (a policy may arm the codec's
        # hot path): receive_message calls these bound methods directly.
        self._decode = spec.codec.decode
        self._take: Take | None = getattr(spec.codec, "take", None)
        self._pure: Callable[[Any], Any] | None = getattr(spec.codec, "pure_decode", None)
        self._handler_for = self._handlers.get

    # -- what policies may use (SessionHost) ----------------------------------------------

    @property
    def event_queue(self) -> BoundedQueue[Event]:
        return self._events

    def resync(self, topic: str, now: float) -> None:
        """Cycle ``topic`` alone (unsubscribe, subscribe) to get a fresh snapshot."""
        if self._subs.ledger.resync(topic):
            self._pump_subscriptions(now)
            self._release(now)

    def request(self, command: Command, now: float) -> RequestId | None:
        """A policy's own request (see ``SessionHost``); ``None`` when not live."""
        if not self._live() or self._ending is not None:
            return None
        request_id = self._open_internal(Kind.POLICY, command, now)
        self._release(now)
        return request_id

    def is_open(self, request_id: RequestId) -> bool:
        """``request_id`` is still waiting for its answer (or to be sent)."""
        return request_id in self._outbox.reqs

    def venue_ended(
        self, topics: Iterable[str], now: float, *, keep_desired: bool = False
    ) -> list[str]:
        """The venue ended live subscriptions by itself (a finished stream, a consumed
        quote, the ids an unsubscribe-all stopped): each active one of ``topics`` is
        :class:`SubscriptionEnded` and no longer desired, or, with ``keep_desired``,
        subscribed again.  Returns the topics that ended."""
        ended = self._subs.venue_ended(topics, keep_desired=keep_desired)
        for topic in ended:
            for policy in self.spec.books:
                policy.forget(topic)
        if ended:
            self._after_subscriptions(now)
        return ended

    def is_subscribed(self, topic: str) -> bool:
        """The topic is desired or live: a book for it may be kept."""
        ledger = self._subs.ledger
        return ledger.is_desired(topic) or ledger.is_active(topic)

    def answered(self, answer: Answer, now: float) -> bool:
        """An answer found inside a push (a stream's first message acknowledges its
        request); ``False`` when it answers no request of ours on the wire (a later
        message of the stream).  A hot handler should check cheaply first."""
        if self._outbox.sent(answer.request_id) is None:
            return False
        if answer.error is not None:
            self._on_error(answer, answer.error, now)
        else:
            self._on_result(answer, now)
        return True

    # -- state ----------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """Where the session is (see ``_states.py``)."""
        if self._ended is not None:
            return SessionState.ENDED_OPEN if self.connected else SessionState.ENDED
        if not self.connected:
            return SessionState.IDLE
        if self._ending is not None:
            return SessionState.ENDING
        if self.close_request is not None:
            return SessionState.CLOSING
        return SessionState.OPEN

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

    def _live(self) -> bool:
        return self.connected and self.close_request is None

    def _can_send(self, req: Req) -> bool:
        return (
            self.connected
            and self.close_request is None
            and (not req.needs_auth or self._auth.authenticated)
            and req.reauth != WAITING
        )

    def _dispatch(self, request_id: RequestId, req: Req, *, front: bool = False) -> None:
        if self._can_send(req):
            self._outbox.submit(request_id, req, front=front)
        else:
            self._outbox.hold(request_id, req)

    def _open_internal(
        self, kind: Kind, command: Command, now: float, *, timeout: float | None = None
    ) -> RequestId:
        request_id, req = self._outbox.open(kind, command, now, timeout=timeout)
        self._outbox.submit(request_id, req, front=kind in PRIORITY)
        return request_id

    def _release(self, now: float) -> None:
        """Everything the buckets allow goes on the wire."""
        outbox = self._outbox
        if not self.connected or self.close_request is not None or not len(outbox.pacer):
            return
        for request_id, req in outbox.release(now):
            if self._ending is not None:  # after a session-ending request, nothing goes out
                if req.kind in USER_KINDS:
                    outbox.fail(request_id, ConnectionLost(f"not sent: {self._end_text()}"))
                else:
                    outbox.drop(request_id)
                continue
            outbox.send(req, now)
            if req.info.ends_session:
                self._ending = request_id
                self._ending_name = req.info.name
        self._update_gate()

    def _end_text(self) -> str:
        return f"the session ended with {self._ended or self._ending_name}"

    # -- answers ------------------------------------------------------------------------

    def _on_answer(self, message: Any, now: float) -> None:
        answer = self._codec.answer(message)
        if answer.error is not None:
            self._on_error(answer, answer.error, now)
        else:
            self._on_result(answer, now)

    def _on_result(self, answer: Answer, now: float) -> None:
        outbox = self._outbox
        request_id = answer.request_id
        req = outbox.sent(request_id)
        if req is None or request_id is None:
            return  # late (timed out), duplicated, or never ours: nothing to resolve
        try:
            result = self._codec.result(outbox.command(request_id), answer.result)
        except RemoteProtocolError as exc:
            self._request_failed(request_id, req, MalformedResult(str(exc)), now)
            self._release(now)
            return
        if not answer.final:
            self._events.append(
                RequestAccepted(
                    request_id=request_id, command=outbox.command(request_id), result=result
                )
            )
            return
        kind = req.kind
        if kind in USER_KINDS:
            outbox.succeed(request_id, result)
            return
        topics = self._subs.ledger.in_flight(request_id) if kind is Kind.SUBSCRIBE else []
        outbox.drop(request_id)
        if kind is Kind.AUTH or kind is Kind.REFRESH:
            self._auth_request = None
            self._authenticated(result, now, refreshed=kind is Kind.REFRESH)
        elif kind is Kind.PROBE:
            self._answers -= 1
        elif kind is Kind.PING:
            self._ping = None
        elif kind is Kind.SUBSCRIBE:
            accepted, remote = self._subs.policy.accepted(result, topics)
            remote_ids = dict(remote) if remote else None
            if answer.stream is not None and remote_ids is None and len(topics) == 1:
                remote_ids = {topics[0]: answer.stream}
            for topic in self._subs.subscribe_acked(request_id, accepted, remote_ids):
                for policy in self.spec.books:
                    policy.resubscribed(topic)
            self._after_subscriptions(now)
        elif kind is Kind.UNSUBSCRIBE:
            self._unsubscribed(request_id, now)

    def _on_error(self, answer: Answer, error: RequestFailure, now: float) -> None:
        request_id = answer.request_id
        req = self._outbox.sent(request_id)
        if req is None or request_id is None:
            self._events.append(UnmatchedError(error=error, request_id=request_id))
            return
        if not answer.final:
            return  # an interim refusal: the final answer decides
        if self._classify(error) is not ErrorClass.RATE_LIMITED or not self._retry_later(
            request_id, req, now
        ):
            self._request_failed(request_id, req, error, now)
        self._release(now)

    def _retry_later(self, request_id: RequestId, req: Req, now: float) -> bool:
        """Rate-limited: park the request until its buckets refill, if that is before its
        deadline.  It was not executed, so it may go again, with the same id."""
        if not self._outbox.refilled_in_time(request_id, req, now):
            return False
        if self._ending == request_id:
            self._ending = None  # refused, not executed: the session goes on for now
        self._dispatch(request_id, req, front=req.kind in PRIORITY)
        return True

    def _request_failed(
        self, request_id: RequestId, req: Req, error: RequestFailure, now: float
    ) -> None:
        """A request ended without a result: a venue error, a malformed result, a timeout."""
        kind = req.kind
        venue = isinstance(error, VenueError | MalformedResult)
        klass = self._classify(error) if venue else None
        token_refused = klass is ErrorClass.CREDENTIALS
        if token_refused and req.needs_auth:
            self._token_refused(now)
            if (
                kind in USER_KINDS
                and req.reauth == NOT_REFUSED
                and self._auth.authenticated
                and self._ending != request_id
            ):
                # The venue refused the token, so it did not execute the request: it goes
                # again, once, with the token the re-authentication brings (not a
                # session-ending one: a refused logout fails and the session goes on).
                req.reauth = WAITING
                self._outbox.hold(request_id, req)
                return
        if kind in USER_KINDS:
            self._outbox.fail(request_id, error)
            if kind is Kind.SUBSCRIPTION:  # pragma: no cover - never sent, never answered
                self._subs.drop_waiter(request_id)
            if self._ending == request_id:
                self._ending = None  # the venue refused it: the session goes on
            return
        self._outbox.drop(request_id)
        # A transient refusal (retry, maintenance, busy, rate limited) says nothing about
        # the topics or the call: like no answer, it is tried again.
        refused = venue and klass in (ErrorClass.FINAL, ErrorClass.CREDENTIALS)
        if kind is Kind.REFRESH:
            self._auth_request = None
            self._login(now)  # the refresh failed: log in with the credentials
        elif kind is Kind.AUTH:
            self._auth_request = None
            self._auth_failed(error)
        elif kind is Kind.SETUP:
            if refused:  # no heartbeats will come, so silence proves nothing
                self._silence_limit = None
                self._events.append(HeartbeatUnavailable(error=error))
            # unanswered: the silence check stays on, and decides
        elif kind is Kind.PROBE:
            self._answers -= 1
        elif kind is Kind.PING:
            self._ping = None  # any answer, a refusal included, shows the peer is there
        elif kind is Kind.SUBSCRIBE:
            if token_refused:
                # The venue refused the token, not the topics: they go out again after the
                # re-authentication (not now: the same token would be refused).
                self._subs.subscribe_failed(request_id, None)
                return
            reason = f"refused by the venue: {error}" if refused else None
            self._subs.subscribe_failed(request_id, reason)
            self._after_subscriptions(now)
        elif kind is Kind.UNSUBSCRIBE:
            if token_refused:
                self._unsubscribe_failed(request_id)  # again after re-authenticating
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
            if self._ending == request_id and self.connected:
                self.close_request = CloseRequest(code=1000, reason="logout")
            self._events.append(failed)
        elif kind is Kind.AUTH:
            self._auth_request = None
            self._events.append(AuthenticationFailed(error=failed.error))
            if self._live():
                self.close_request = CloseRequest(abort=True)  # not answering: reconnect
        elif kind is Kind.PING:
            self._ping = None
            if self._live() and isinstance(failed.error, RequestTimeout):
                waited = self._heartbeat.pong_timeout or 0.0
                self._events.append(
                    PongTimeout(reason=f"no answer to ping within {waited:g}s", waited=waited)
                )
                self.close_request = CloseRequest(abort=True)
        else:
            self._request_failed(request_id, req, failed.error, now)

    # -- authentication -----------------------------------------------------------------

    def _token_refused(self, now: float) -> None:
        """A request on this connection got a credentials refusal: the venue no longer
        takes the connection's token (expired early, revoked).  Refresh now, not at the
        scheduled time; a refresh that fails logs in again.  Refreshes are at least
        ``MIN_REAUTH_INTERVAL`` apart, so a venue that refuses every new token gets no
        login storm: a refusal sooner than that moves the next scheduled refresh
        forward instead."""
        if not (self._live() and self._auth.authenticated and self._auth_request is None):
            return  # not logged in, or a login or refresh is already under way
        if now >= self._reauth_after:
            self._refresh(now)
            return
        scheduled = self._auth.refresh_at
        if scheduled is None or scheduled > self._reauth_after:
            self._auth.refresh_at = self._reauth_after

    def _login(self, now: float) -> None:
        command = self._auth.login(now)
        if command is not None:
            self._auth_request = self._open_internal(Kind.AUTH, command, now)

    def _refresh(self, now: float) -> None:
        command = self._auth.refresh(now)
        self._auth.refresh_at = None
        self._reauth_after = now + MIN_REAUTH_INTERVAL
        if command is None:
            self._login(now)
        else:
            self._auth_request = self._open_internal(Kind.REFRESH, command, now)

    def _authenticated(self, result: Any, now: float, *, refreshed: bool) -> None:
        event = self._auth.granted(result, now, refreshed=refreshed)
        self._auth_error = None
        self._events.append(event)
        for request_id in self._outbox.held:
            req = self._outbox.reqs[request_id]
            if req.reauth == WAITING:
                req.reauth = RETRIED
        self._outbox.flush_held(self._can_send)
        self._pump_subscriptions(now)
        self._release(now)

    def _auth_failed(self, error: RequestFailure) -> None:
        self._auth.failed()
        self._auth_error = error
        self._events.append(AuthenticationFailed(error=error))
        outbox = self._outbox
        for request_id in list(outbox.held):
            if outbox.reqs[request_id].needs_auth:
                outbox.fail(request_id, error)
        self._subs.reject_needing_auth(f"authentication failed: {error}")
        self._settle_waiters()

    # -- heartbeats ---------------------------------------------------------------------

    def _on_probe(self, message: Any, now: float) -> None:
        answer = self._heartbeat.answer_probe
        if answer is None or self.close_request is not None:
            return
        if self._answers >= self._heartbeat.max_answers:
            return
        self._answers += 1
        self._open_internal(Kind.PROBE, answer(message), now)
        self._release(now)

    def _send_ping(self, now: float) -> None:
        heartbeat = self._heartbeat
        assert heartbeat.ping is not None
        interval = heartbeat.ping_interval or 0.0
        self._ping_at = now + interval
        if self._ping is None:
            self._ping = self._open_internal(
                Kind.PING, heartbeat.ping(), now, timeout=heartbeat.pong_timeout
            )

    def _declare_dead(self, now: float) -> None:
        silence = now - self._heard
        limit = self._silence_limit or 0.0
        self._events.append(
            HeartbeatTimeout(
                reason=f"nothing received for {silence:g}s "
                f"({self._heartbeat.silence_reason or f'limit {limit:g}s'})",
                silence=silence,
            )
        )
        self.close_request = CloseRequest(abort=True)

    # -- subscriptions --------------------------------------------------------------------

    def _send_subscription(
        self,
        op: SubscriptionOp,
        topics: tuple[str, ...],
        command: Command,
        now: float,
        timeout: float | None,
    ) -> RequestId:
        subs, outbox = self._subs, self._outbox
        if op is SubscriptionOp.SUBSCRIBE:
            subs.policy.check(topics, self._auth.enabled)
        outbox.check_pending()
        request_id, _ = outbox.open_virtual(command, now, timeout=timeout)
        try:
            if op is SubscriptionOp.SUBSCRIBE:
                subs.subscribe(request_id, topics)
            else:
                subs.unsubscribe(request_id, topics if op is SubscriptionOp.UNSUBSCRIBE else None)
        except LocalProtocolError:
            outbox.drop(request_id)
            raise
        if self._auth_error is not None:
            subs.reject_needing_auth(f"authentication failed: {self._auth_error}")
        self._after_subscriptions(now)
        return request_id

    def _after_subscriptions(self, now: float) -> None:
        self._pump_subscriptions(now)
        self._settle_waiters()
        self._release(now)

    def _pump_subscriptions(self, now: float) -> None:
        """Send what the ledger plans: unsubscribes (and resync cycles), then subscribes.

        A venue without unsubscribe drops topics by reconnecting: the machine asks for
        the connection to be closed, and the next one subscribes the desired set only.
        """
        if not self._live() or self._ending is not None:
            return
        subs = self._subs
        ledger, policy = subs.ledger, subs.policy
        for subscribe, group, topics in subs.plan(authenticated=self._auth.authenticated):
            if subscribe:
                command = policy.subscribe_command(group, topics)
                request_id = self._open_internal(Kind.SUBSCRIBE, command, now)
                ledger.mark_subscribing(topics, request_id)
                continue
            unsubscribe = policy.unsubscribe_command(group, topics)
            if unsubscribe is None:
                self.close_request = CloseRequest(code=1000, reason=NO_UNSUBSCRIBE)
                return
            request_id = self._open_internal(Kind.UNSUBSCRIBE, unsubscribe, now)
            ledger.mark_unsubscribing(topics, request_id)

    def _unsubscribe_failed(self, request_id: RequestId) -> None:
        """No ack: the topics are still live at the venue.  The unwanted ones are planned
        again as they are.  A wanted one was being cycled (a resync after a gap, or
        subscribed again meanwhile): it is cycled again, or its book would stay stale
        for good and the requests waiting for its subscription would never settle."""
        ledger = self._subs.ledger
        for topic in self._subs.unsubscribe_failed(request_id):
            if ledger.is_desired(topic):
                ledger.resync(topic)

    def _unsubscribed(self, request_id: RequestId, now: float) -> None:
        for topic in self._subs.unsubscribe_acked(request_id):
            for policy in self.spec.books:
                policy.forget(topic)
        self._after_subscriptions(now)

    def _settle_waiters(self) -> None:
        """Resolve the user's subscription requests the ledger has settled."""
        done = self._subs.done
        if done:
            self._subs.done = []
            for request_id, result in done:
                if request_id in self._outbox.reqs:
                    self._outbox.succeed(request_id, result)

    # -- the end of a session ------------------------------------------------------------

    def _end_session(self) -> None:
        self._ended = self._ending_name
        self._ending = None
        self._events.append(SessionEnded())
        error = ConnectionLost(self._end_text())
        for request_id in list(self._outbox.held):
            self._outbox.fail(request_id, error)
        for request_id in self._subs.reset():
            self._outbox.fail(request_id, error)
        for policy in self.spec.books:
            policy.connection_lost(set())
