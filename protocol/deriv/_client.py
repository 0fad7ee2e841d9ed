"""``deriv.ClientProtocol``: the Deriv WebSocket API v3 client machine (docs/architecture.md).

One machine lives as long as the caller's session, across connections; the WebSocket
stack calls ``connection_made`` / ``connection_lost`` per connection, and the machine
authorizes and restores its streams by itself.

Requests.  ``send(command, now)`` takes a typed command or a ``GenericCommand`` and
returns its ``req_id`` at once; replies are matched by ``req_id`` (they may come in any
order, spec 1.1) and the request resolves exactly once: ``RequestSucceeded`` with the
typed payload (``Time()`` -> ``int``, ``Proposal(...)`` -> ``ProposalResult``), or
``RequestFailed`` with the typed error of its code (``deriv.InvalidToken`` ...), a
``RequestTimeout``, a ``ConnectionLost`` or a ``MalformedResult``.

Streams.  ``Subscribe(streams=[...])`` starts streams named by topics (``"ticks.R_50"``,
``"candles.R_50.60"``: ``_topics``) or given as stream commands (``Proposal(...)``).
Each is one request; its first reply (a tick, a history, a proposal ...) is its ack and
carries the venue's ``subscription.id``; every message of the stream is an event with
``topic`` set to the user-facing name.  After a reconnect the machine authorizes first,
then sends exactly the same requests again; the new ids map to the same topics.
``Unsubscribe`` is ``forget`` with the current id; ``ForgetAll(forget_all=[types])``
is sent as such and ends the streams it stopped.  A stream the venue ends by itself (an
open contract sold, a proposal bought) is ``SubscriptionEnded``.

Liveness.  ``{"ping": 1}`` every ``ping_interval`` (30 s); no pong within
``pong_timeout`` (5 s) is :class:`~tradewire.protocol.session.PongTimeout` and the
connection is aborted (``close_request``), so the stack reconnects: the zombie
connection python-deriv-api hangs on (spec 8) is an event here.

Auth.  With ``token``, every connection sends ``authorize`` first; private calls and
private streams (``balance``, ``transaction``, ``proposal_open_contract``) wait for it.
An ``InvalidToken`` / ``AuthorizationRequired`` answer on an authorized connection makes
the machine authorize again (at most once a second).  The token is a ``Secret``: masked
in every ``repr``, event and log line; it is revealed only when ``authorize`` is encoded.

Pacing.  Calls are paced within the published budgets (spec 6.2, ``_client_limits``);
a ``RateLimit`` answer empties the group's buckets and the call goes again, with the
same ``req_id``, once they refill, if that is before its deadline.
"""

from __future__ import annotations

from typing import Any

from .._contract import Handshake
from ..session import ClientSession, ClientSpec, Heartbeat, resolve_options
from ._client_options import ClientOptions
from ._client_policies import (
    AUTH_HINT,
    DROPPED,
    DerivAuth,
    DerivClientCodec,
    DerivSubscriptions,
    StreamRouter,
)
from ._commands import Ping
from ._errors import classify

__all__ = ["ClientProtocol"]


def _ping() -> Ping:
    return Ping()


class ClientProtocol(ClientSession):
    """The Deriv client machine; see the module docstring and ``docs/venues/deriv.md``.

    ``ClientProtocol(options)`` or ``ClientProtocol(**fields of ClientOptions)``; a bad
    value raises :class:`~tradewire.protocol.LocalProtocolError` naming it.
    """

    def __init__(self, options: ClientOptions | None = None, /, **overrides: Any) -> None:
        options = resolve_options(ClientOptions, options, overrides)
        self.options = options
        codec = DerivClientCodec(new_api=options.new_api)
        self._streams = DerivSubscriptions(max_streams=options.max_subscriptions)
        self._router = StreamRouter(self._streams, codec, max_routes=2 * options.max_subscriptions)
        self._streams.router = self._router
        self._authorizer = DerivAuth(options.token, self._router)
        query = (("app_id", str(options.app_id)), ("l", options.language), ("brand", options.brand))
        self._handshake = Handshake(path=options.path, query=query)
        heartbeat = Heartbeat()
        if options.ping_interval is not None:
            heartbeat = Heartbeat(
                ping=_ping, ping_interval=options.ping_interval, pong_timeout=options.pong_timeout
            )
        limits = options.rate_limits
        spec = ClientSpec(
            codec=codec,
            subscriptions=self._streams,
            auth=self._authorizer,
            heartbeat=heartbeat,
            pacing=limits.pacing() if limits is not None else None,
            classify=classify,
            handshake=self._get_handshake,
            routers=(self._router,),
            auth_hint=AUTH_HINT,
            dropped=DROPPED,
        )
        super().__init__(spec, options)
        self._streams.ledger = self.ledger

    def _get_handshake(self) -> Handshake:
        return self._handshake

    def __repr__(self) -> str:
        return (
            f"deriv.ClientProtocol(connected={self.connected!r}, "
            f"auth={self._authorizer.state.value}, pending={self.pending}, "
            f"streams={len(self.ledger.active())})"
        )

    def topic(self, stream: Any) -> str:
        """The canonical topic of a stream given as a topic or a stream command."""
        return self._streams.topic(stream)

    def stream_id(self, stream: Any) -> str | None:
        """The venue's ``subscription.id`` of a live stream on this connection."""
        return self.ledger.remote_id(self._streams.topic(stream))
