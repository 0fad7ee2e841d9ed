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

Subscriptions (``_client_policies``) and books (``_client_books``).  :class:`Subscribe` /
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

Layout: the machine is the session layer's
:class:`~tradewire.protocol.session.ClientSession` (the driving contract, the outbox, the
ledger, heartbeats, pacing, error handling); this module builds it from Deribit's codec and
policies (``_client_policies``, ``_client_auth``, ``_client_books``) and adds Deribit's
introspection.
"""

from __future__ import annotations

from typing import Any

from .._contract import Handshake
from ..session import ClientSession, ClientSpec, OrderBook, resolve_options
from ._client_auth import Authenticator, AuthState
from ._client_books import DeribitChainBooks, grouped_books
from ._client_options import ClientOptions
from ._client_policies import (
    AUTH_HINT,
    DROPPED,
    DeribitClientCodec,
    DeribitSubscriptions,
    classify,
    heartbeat,
    pacing,
)
from ._notifications import Heartbeat

__all__ = ["ClientProtocol"]

_HANDSHAKE = Handshake(path="/ws/api/v2")


def _handshake() -> Handshake:
    return _HANDSHAKE


def _ignore(message: object, now: float) -> None:
    """Heartbeat frames need no answer; receiving one already counted as liveness."""


class ClientProtocol(ClientSession):
    """The Deribit client machine; see the module docstring and ``docs/venues/deribit.md``.

    ``ClientProtocol(options)`` or ``ClientProtocol(**fields of ClientOptions)``; a bad
    value raises :class:`~tradewire.protocol.LocalProtocolError` naming it.
    """

    def __init__(self, options: ClientOptions | None = None, /, **overrides: Any) -> None:
        options = resolve_options(ClientOptions, options, overrides)
        self.options = options
        self.heartbeat_interval = options.heartbeat_interval
        self.heartbeat_grace = options.heartbeat_grace
        maintain, levels = options.maintain_books, options.max_book_levels
        max_books = options.max_subscriptions
        codec = DeribitClientCodec()
        self._chain_books = DeribitChainBooks(
            maintain=maintain, max_levels=levels, max_books=max_books, on_armed=codec.arm
        )
        self._grouped_books = grouped_books(
            maintain=maintain, max_levels=levels, max_books=max_books
        )
        self._authenticator = Authenticator(
            options.credentials,
            scope=options.scope,
            nonces=options.nonces,
            epoch_offset=options.epoch_offset,
            refresh_fraction=options.refresh_fraction,
        )
        spec = ClientSpec(
            codec=codec,
            subscriptions=DeribitSubscriptions(
                has_credentials=options.credentials is not None,
                max_per_request=options.max_channels_per_request,
            ),
            auth=self._authenticator,
            heartbeat=heartbeat(options.heartbeat_interval, options.heartbeat_grace),
            pacing=pacing(options.rate_limits),
            classify=classify,
            handshake=_handshake,
            handlers={Heartbeat: _ignore},
            books=(self._chain_books, self._grouped_books),
            auth_hint=AUTH_HINT,
            dropped=DROPPED,
        )
        super().__init__(spec, options)

    def __repr__(self) -> str:
        return (
            f"ClientProtocol(connected={self.connected!r}, auth={self.auth_state.value}, "
            f"pending={self.pending}, active={len(self.ledger.active())})"
        )

    @property
    def auth_state(self) -> AuthState:
        return self._authenticator.state

    @property
    def granted_scope(self) -> str | None:
        """The scope of the last successful ``public/auth`` (spec 2.4)."""
        return self._authenticator.granted_scope

    def book(self, topic: str) -> OrderBook | None:
        """The maintained ``OrderBook`` of channel ``topic`` (``maintain_books=True``), or
        ``None``."""
        book = self._chain_books.book(topic)
        return book if book is not None else self._grouped_books.book(topic)
