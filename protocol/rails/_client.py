"""``rails.ClientProtocol``: the Rails client machine (docs/architecture.md, spec 1-8).

One machine lives as long as the caller's session, across connections: the WebSocket
stack calls ``connection_made`` / ``connection_lost`` per connection, and every upgrade
carries the current token and the wanted streams, so a reconnect restores the session
with nothing sent.

Connection (spec 1).  ``handshake`` is read at every connection: path ``/``, query
``market=<market>&subscriptions=<streams>`` (the ledger's desired streams, in the order
they were first wanted) and the subprotocol ``authorization#<JWT>``.  A connection is
authenticated once it is up.  One connection per market is the default the docs
recommend; ``market="ALL"`` serves every market on one connection, and then every
market-scoped request carries ``market``.

Requests.  ``send(command, now)`` returns the request's id at once; it is the
``clientRequestId`` on the wire (a UUID from ``ids``).  Each request resolves exactly
once: an order request's 202 is a ``RequestAccepted`` event and its 200 (or a 400, or
429 after the retries) resolves it; whatever the venue sends after that with the same id
(``rejectOrder`` for a post-only order that would have crossed; the ``createOrder`` 200
of a modify's new order) is an event.  Order requests are paced (``order_rate``).

Subscriptions.  :class:`Subscribe` / :class:`Unsubscribe` go through the ledger: before
a connection they only change the next upgrade's query string; on a live connection
they are ``subscribe`` / ``unsubscribe`` requests.  ``SubscriptionActive`` /
``SubscriptionEnded`` report them; after a reconnect the new query string is exactly
the desired set.  With no stream wanted the query names none, the venue applies its
default (``orders``), and the machine unsubscribes it at once (our choice: an empty
``subscriptions=`` might mean the default too, or be refused; the docs do not say).

Token (``_client_auth``).  :class:`TokenWanted` asks for a new token (at
``renew_fraction`` of its life, at expiry, after a refusal), :class:`UseToken` gives
one, and the connection is renewed by reconnecting; ``upgrade_refused`` tells the stack
whether a refused upgrade (401) is worth retrying.  ``token_wanted`` and ``token_due``
are the same facts for code that polls (the bindings' token keeper).

Books (``_client_books``).  Snapshot then deltas, with no sequence: the machine asks for
``emitPublicOrderBook`` itself when a book starts, after a reconnect and after
:meth:`ClientProtocol.doubt`; ``maintain_books=True`` keeps a ``Decimal`` book per market
(:meth:`ClientProtocol.book`).

Liveness: ``ping`` every ``ping_interval`` seconds with a ``pong`` deadline
(``PongTimeout`` drops the connection and the stack reconnects).  Time and randomness
come in (``now``; ``ids``): nothing here reads a clock or global randomness.
"""

from __future__ import annotations

from typing import Any

from .._contract import CloseRequest, Handshake
from .._events import Command, RequestSucceeded
from .._sources import RequestId
from ..session import ClientSession, ClientSpec, Kind, OrderBook, Phase, resolve_options
from ._client_auth import RENEW_GRACE, RailsTokenAuth
from ._client_books import BOOK_STREAM, RailsBooks, SnapshotAsks
from ._client_options import ClientOptions
from ._client_policies import (
    RailsClientCodec,
    RailsReplies,
    RailsSubscriptions,
    classify,
    heartbeat,
    pacing,
)
from ._commands import UseToken

__all__ = ["ClientProtocol"]

DEFAULT_STREAMS = ("orders",)
"""What the venue subscribes a connection whose query names no streams to (spec 1)."""
_USER_KINDS = frozenset((Kind.USER, Kind.UNANSWERED, Kind.SUBSCRIPTION))
AUTH_HINT = "pass token= to ClientProtocol (or send UseToken)"
DROPPED = "left out of the venue's activeSubscriptions (spec 3.2)"


class ClientProtocol(ClientSession):
    """The Rails client machine; see the module docstring and ``docs/venues/rails.md``.

    ``ClientProtocol(options)`` or ``ClientProtocol(**fields of ClientOptions)``; a bad
    value raises :class:`~tradewire.protocol.LocalProtocolError` naming it.
    """

    def __init__(self, options: ClientOptions | None = None, /, **overrides: Any) -> None:
        options = resolve_options(ClientOptions, options, overrides)
        self.options = options
        self.market = options.market
        asks = SnapshotAsks()
        codec = RailsClientCodec(market=options.market, legacy=options.legacy_requests, asks=asks)
        self._books = RailsBooks(
            market=options.market,
            maintain=options.maintain_books,
            max_levels=options.max_book_levels,
            max_books=options.max_subscriptions,
            asks=asks,
            on_armed=codec.arm,
        )
        self._token = RailsTokenAuth(
            options.token,
            expires_in=options.token_expires_in,
            renew_fraction=options.renew_fraction,
            token_wait=options.token_wait,
        )
        spec = ClientSpec(
            codec=codec,
            subscriptions=RailsSubscriptions(),
            auth=self._token,
            heartbeat=heartbeat(options.ping_interval, options.pong_timeout),
            pacing=pacing(options.order_rate),
            classify=classify,
            handshake=self._handshake,
            routers=(
                RailsReplies(
                    books=self._books, asks=asks, cancel_confirmed=options.cancel_confirmed
                ),
            ),
            books=(self._books,),
            auth_hint=AUTH_HINT,
            dropped=DROPPED,
        )
        super().__init__(spec, options)
        self._token.events = self.event_queue
        if options.subscriptions:
            self._subs.ledger.want(options.subscriptions)

    def __repr__(self) -> str:
        return (
            f"rails.ClientProtocol(market={self.market!r}, state={self.state.value}, "
            f"pending={self.pending}, active={len(self.ledger.active())})"
        )

    # -- the upgrade request ------------------------------------------------------------------

    def _handshake(self) -> Handshake:
        query = [("market", self.market)]
        desired = self.ledger.desired()
        if desired:
            query.append(("subscriptions", ",".join(desired)))
        token = self._token.token
        protocols = () if token is None else (f"authorization#{token.reveal()}",)
        return Handshake(path=self.options.path, query=tuple(query), subprotocols=protocols)

    # -- the token ------------------------------------------------------------------------------

    @property
    def token_wanted(self) -> bool:
        """A new token is wanted (a ``TokenWanted`` was reported, no ``UseToken`` since)."""
        return self._token.wanted

    @property
    def token_due(self) -> float | None:
        """When the next ``TokenWanted`` is due (``None``: none scheduled)."""
        return self._token.next_deadline()

    @property
    def token_expires_at(self) -> float | None:
        return self._token.expires_at

    def upgrade_refused(self, status: int, now: float) -> bool:
        """The stack's hook for a refused upgrade: reports :class:`UpgradeRefused` (and
        :class:`TokenWanted` for a 401); ``True`` while a 401 is worth retrying."""
        return self._token.upgrade_refused(status, b"", now)

    # -- the driving contract, with the token's timers ------------------------------------------

    def send(self, command: Command, now: float, *, timeout: float | None = None) -> RequestId:
        if not isinstance(command, UseToken):
            return super().send(command, now, timeout=timeout)
        self._check_room()
        self._token.use(command.token, command.expires_in, now, connected=self._live())
        ids = self.session_options.ids
        assert ids is not None  # ClientOptions requires them
        request_id = ids()
        self.event_queue.append(
            RequestSucceeded(request_id=request_id, command=command, result=None)
        )
        if self._live():
            self._renew_when_quiet(now)
        return request_id

    def connection_made(self, now: float) -> None:
        self._token.anchor(now)
        self._books.clock = now
        venue_default = not self.ledger.desired()
        super().connection_made(now)
        if venue_default and self._live():
            self._end_venue_default(now)

    def _end_venue_default(self, now: float) -> None:
        """The upgrade named no streams, so the venue applies its default, ``orders``
        (spec 1): it is active though nobody wants it, and is unsubscribed at once (our
        choice: the ledger stays exact whatever the venue does with an empty list)."""
        ledger = self._subs.ledger
        ledger.want(DEFAULT_STREAMS)
        self._subs.activate_all()
        ledger.unwant(DEFAULT_STREAMS)
        self._after_subscriptions(now)

    def handle_timer(self, now: float) -> None:
        self._token.anchor(now)
        self._token.due(now)
        if self._token.renew_at is not None and now >= self._token.renew_at:
            self._renew_when_quiet(now)
        super().handle_timer(now)
        if self._live():
            self._books.tick(now)

    def next_deadline(self) -> float | None:
        best = super().next_deadline()
        due = self._token.next_deadline()
        if due is not None and (best is None or due < best):
            best = due
        return best

    def _renew_when_quiet(self, now: float) -> None:
        """Close for the new token now, or shortly once the caller's requests on the
        wire are answered (at most ``RENEW_GRACE`` seconds after the token came)."""
        auth = self._token
        deadline = auth.renew_deadline if auth.renew_deadline is not None else now
        busy = any(
            req.kind in _USER_KINDS and req.phase is Phase.SENT
            for req in self._outbox.reqs.values()
        )
        if busy and now < deadline:
            auth.renew_at = min(deadline, now + RENEW_GRACE / 50)
            return
        auth.renew_at = None
        if self._live():
            self.close_request = CloseRequest(
                code=1000, reason="renewing credentials", planned=True
            )

    # -- books ----------------------------------------------------------------------------------

    def book(self, topic: str) -> OrderBook | None:
        """The maintained ``OrderBook`` of market ``topic`` (``maintain_books=True``), with
        ``Decimal`` prices and sizes; ``None`` if there is none (yet)."""
        return self._books.book(topic)

    def doubt(self, market: str, now: float) -> None:
        """You suspect ``market``'s book missed a delta: it is stale until the snapshot
        the machine asks for now (``BookResynced`` reports the end)."""
        self._books.doubt(market, now)

    @property
    def subscriptions(self) -> tuple[str, ...]:
        """The streams wanted (the next upgrade's ``subscriptions``)."""
        return tuple(self.ledger.desired())

    @property
    def book_stream_active(self) -> bool:
        return self.ledger.is_active(BOOK_STREAM)
