"""``deribit.ServerProtocol``: the venue side of one Deribit WebSocket, holding no market.

The machine speaks the dialect (spec 1, 2, 3, 5.5, 7) and leaves market knowledge to the
venue: it decodes requests and answers envelope errors, runs auth and tokens, heartbeats,
credits, unsubscribe bookkeeping and cancel-on-disconnect, and hands everything else to
the venue as :class:`RequestReceived` / :class:`SubscribeReceived` events.  The venue
answers through ``send`` (:class:`Reply`, :class:`ReplyError`,
:class:`AcceptSubscription`, :class:`Notify`, :class:`Disconnect`) or the methods of the
same names.  State shared by connections lives in the :class:`ServerState` passed in.

Nothing a client sends raises: bad input is answered with the Deribit error (spec 1.2,
7.1; the table is in :mod:`._wire_server`) and the socket stays open, except where the
venue ends the session: an empty credit pool (10028, then close code
``rate_limit_close_code``, 1013 "Try Again Later" by default; the real code is
unverified), an unanswered ``test_request`` (4000 ``"heartbeat close"``), ``private/logout``
(no answer, close 1000 ``"logout"``; our reason text) and the optional idle timeout (the
transport is dropped, as the live venue was seen to).

Choices where the spec is silent:

* subscribe (spec 3.1, 3.2): invalid channel names and ``user.*`` channels sent to
  ``public/subscribe`` are dropped silently; a ``raw`` channel on an unauthenticated
  connection makes the whole call fail with 13778 (``ServerConfig.mixed_raw_subscribe``
  ``"drop"`` instead leaves the raw ones out when others remain);
* a ``label`` from ``private/subscribe`` is sent on ``user.*`` channels only, and a later
  subscribe to the same channel replaces it;
* the unsubscribe methods remove any active channel, public or private, and answer the
  channels this call removed, in request order;
* heartbeats (spec 1.5): ``test_request`` every ``interval`` seconds after
  ``public/set_heartbeat``, preceded by a ``heartbeat`` frame when nothing but
  ``public/test`` calls arrived and no notification was sent since the last one; a
  ``public/test`` call answers every outstanding ``test_request``; none within
  ``interval`` seconds closes the socket with 4000;
* ``public/test`` with ``expected_result: "exception"`` answers 11094
  ``internal_server_error``;
* cancel-on-disconnect ``scope: "account"`` sets the account's default (picked up by
  connections that authenticate later) and this connection's flag;
* ``private/logout`` with ``invalidate_token`` (default true) revokes the tokens of the
  caller's session (its connection, or its named session);
* after 10028 the requests accepted before it are still executed: the venue's answers to
  them go out first, in the order it gives them, then the 10028 error, then the close.

Layout: the connection is the session layer's
:class:`~tradewire.protocol.session.ServerSession` (phases, the answer-once table, active
channels, the heartbeat and idle timers, closing), configured here with Deribit's codec,
upgrade rule and timers; the request path is :class:`~._server_core.DeribitRequests`,
shared with the HTTP adapter; this class is the :class:`~._server_core.Link` between them
and adds Deribit's session methods.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._contract import AcceptUpgrade, RejectUpgrade, UpgradeRequest
from .._errors import LocalProtocolError
from .._events import Command, Event
from .._sources import RequestId
from ..session import (
    AcceptSubscription,
    Disconnect,
    Notify,
    PendingTable,
    Reply,
    ReplyError,
    ServerSession,
    ServerSpec,
    SessionFront,
)
from ._channels import parse_channel
from ._commands import (
    DisableHeartbeat,
    Hello,
    Logout,
    PrivateSubscribe,
    PrivateUnsubscribe,
    PrivateUnsubscribeAll,
    PublicSubscribe,
    PublicUnsubscribe,
    PublicUnsubscribeAll,
    SetHeartbeat,
    Test,
)
from ._errors import DeribitError, ErrorCode
from ._models_session import VersionResult
from ._server_auth import Principal, error, token_principal
from ._server_config import IssuedToken, peer_ip
from ._server_core import DeribitRequests, LinkHandler, ServerCodec, error_parts
from ._server_events import (
    HEARTBEAT_CLOSE_CODE,
    HEARTBEAT_CLOSE_REASON,
    CancelOnDisconnect,
    SessionClosed,
    SubscribeReceived,
    Transport,
    Unsubscribed,
)
from ._server_state import ServerState
from ._wire_server import RejectedRequest, decode_request, encode_heartbeat

__all__ = ["WS_PATHS", "ServerProtocol"]

WS_PATHS = ("/ws/api/v2", "/ws/api/v2/")
"""Upgrade paths accepted (spec 1.1; the trailing slash some clients add, spec 10)."""

_HEARTBEAT = encode_heartbeat("heartbeat")
_TEST_REQUEST = encode_heartbeat("test_request")


def _probe(busy: bool) -> list[bytes]:
    """A ``test_request``, after a ``heartbeat`` frame when nothing else went on."""
    return [_TEST_REQUEST] if busy else [_HEARTBEAT, _TEST_REQUEST]


class ServerProtocol(SessionFront):
    """One Deribit WebSocket connection, venue side (see the module docstring).

    ``peer`` (``host:port``) may be given here or comes from the upgrade request; its
    address keys the per-IP connection count and the unauthenticated credit pool.

    Driving calls by phase (``test_server_session.py`` checks every pair; "error" is a
    :class:`LocalProtocolError`); the table is the session layer's ``SERVER_TABLE``:

    ===================  ========  ===========  ==============  ========
    call                 new       open         closing         closed
    ===================  ========  ===========  ==============  ========
    ``connection_made``  -> open   error        error           error
    ``receive_message``  error     answered     ignored         error
    ``handle_timer``     nothing   timers       answers owed    nothing
    ``reply`` (pending)  --        sent         sent if owed,   dropped
                                                else dropped
    ``notify``           False     sent if      False           False
                                   active
    ``connection_lost``  -> closed -> closed    -> closed       nothing
    ===================  ========  ===========  ==============  ========

    Replying to an id that is not pending is an error in every phase.
    """

    transport: Transport = "websocket"

    def __init__(self, state: ServerState, *, peer: str | None = None) -> None:
        self.state = state
        self.config = config = state.config
        self.connection_id = state.new_connection_id()
        self._ip = peer_ip(peer)
        codec = ServerCodec(state)
        self.session = ServerSession(
            ServerSpec(
                codec=codec,
                receive=self._receive,
                upgrade=self._upgrade,
                probe=_probe,
                probe_close=(HEARTBEAT_CLOSE_CODE, HEARTBEAT_CLOSE_REASON),
                idle_timeout=config.idle_timeout,
                idle_with_topics=False,
                idle_close=(1006, "", True),
                on_close=self._on_close,
                on_lost=self._on_lost,
                max_events=config.max_events,
                max_outbound=config.max_queued_messages,
                max_pending=config.max_pending_requests,
                max_topics=config.max_channels,
            ),
            connection_id=self.connection_id,
            peer=peer,
        )
        self.requests = DeribitRequests(state, self, codec=codec, link_handlers=_LINK_HANDLERS)
        self.held: PendingTable = self.session.held
        self._counted = False
        self._session: IssuedToken | None = None
        self._cod_owner: Principal | None = None
        self._logged_out = False

    # -- inspection -----------------------------------------------------------------------

    @property
    def peer(self) -> str | None:
        return self.session.peer

    @property
    def ip(self) -> str | None:
        return self._ip

    @property
    def max_message_size(self) -> int:
        """The largest request taken (32 kB by default); the WebSocket stack keeps no more
        of a message arriving in pieces, and a bigger one is answered -32600 by its size."""
        return self.config.max_message_size

    @property
    def channels(self) -> frozenset[str]:
        """The channels active on this connection."""
        return self.session.topics

    def is_subscribed(self, channel: str) -> bool:
        return self.session.is_subscribed(channel)

    @property
    def client_id(self) -> str | None:
        """The key the connection is authenticated as (with a usable token), or ``None``."""
        record = self._session
        return record.client_id if record is not None else None

    @property
    def cancel_on_disconnect(self) -> bool:
        return self._cod_owner is not None

    # -- the driving contract ---------------------------------------------------------------

    # -- the venue's side -------------------------------------------------------------------

    def send(self, command: Command, now: float) -> RequestId | None:
        """Carry out a venue command (:class:`Reply`, :class:`ReplyError`,
        :class:`AcceptSubscription`, :class:`Notify`, :class:`Disconnect`); returns ``None``."""
        if isinstance(command, ReplyError):
            code = command.code
            if not isinstance(code, int):
                raise LocalProtocolError(
                    f"invalid code: expected an int Deribit error code, got {code!r}"
                )
            self.reply_error(
                command.request_id, code, now, data=command.data, message=command.message
            )
            return None
        if not isinstance(command, Reply | AcceptSubscription | Notify | Disconnect):
            raise LocalProtocolError(
                f"invalid command: {type(command).__name__}; a Deribit server takes Reply, "
                "ReplyError, AcceptSubscription, Notify or Disconnect"
            )
        return self.session.send(command, now)

    def reply(self, request_id: int, result: Any, now: float) -> None:
        """Answer ``request_id`` with ``result`` (a wire model or any JSON value)."""
        self.session.reply(request_id, result, now)

    def reply_error(
        self,
        request_id: int,
        error_or_code: DeribitError | int,
        now: float,
        data: Any = None,
        *,
        message: str | None = None,
    ) -> None:
        """Answer ``request_id`` with an error: a :class:`DeribitError` (its code, message
        and data) or a code (message from :data:`ERROR_MESSAGES` unless given)."""
        code, text, data = error_parts(error_or_code, data)
        self.session.reply_error(request_id, code, now, message or text, data)

    def accept_subscription(
        self, request_id: int, channels: Iterable[str], now: float
    ) -> list[str]:
        """Answer subscribe request ``request_id``: ``channels`` (candidates of its
        :class:`SubscribeReceived`, any order) become active and are the result.

        Returns the channels that were not active before: the ones to send a first
        snapshot on (a duplicate subscription gets none, spec 3.1).
        """
        return self.session.accept_subscription(request_id, channels, now)

    def notify(self, channel: str, data: Any, now: float) -> bool:
        """Send ``data`` on ``channel`` if it is active here; returns whether it was sent.

        ``data`` is a wire model or JSON value; ``params.label`` is added for a labelled
        private subscription.  Notifications carry no ``usIn``/``usOut`` (spec 1.2).
        """
        return self.session.notify(channel, data, now)

    def disconnect(
        self, now: float, *, code: int = 1000, reason: str = "", abort: bool = False
    ) -> None:
        """The venue ends the connection; cancel-on-disconnect applies."""
        self.session.close(code, reason, why="closed by venue", abort=abort)

    # -- the Link for DeribitRequests -------------------------------------------------------

    def write(self, body: bytes, *, is_error: bool) -> None:
        self.session.write(body)

    def emit(self, event: Event) -> None:
        self.session.emit(event)

    def session_principal(self, now: float) -> Principal | None:
        record = self._session
        if record is None or not record.usable(now, self.connection_id, self._ip):
            return None
        return token_principal(record)

    def authenticated(self, record: IssuedToken, now: float) -> None:
        self._session = record
        if self._cod_owner is None and self.state.cod_default(record.account_id):
            self._cod_owner = token_principal(record)

    def rate_limited(self, body: bytes, now: float) -> None:
        self.session.close_after_answers(
            body,
            self.config.rate_limit_close_code,
            self.config.rate_limit_close_reason,
            why="too_many_requests",
            now=now,
        )

    def connection_cod(self, enabled: bool | None, principal: Principal) -> bool | None:
        if enabled is True:
            self._cod_owner = principal
        elif enabled is False:
            self._cod_owner = None
        return self._cod_owner is not None

    # -- the session's hooks ------------------------------------------------------------------

    def _upgrade(
        self, session: ServerSession, request: UpgradeRequest, now: float
    ) -> AcceptUpgrade | RejectUpgrade:
        if request.path not in WS_PATHS:
            return RejectUpgrade(status=404, body=b"not found\n")
        if request.peer is not None:
            self._ip = peer_ip(request.peer)
        if not self._counted:
            if not self.state.acquire_connection(self._ip):
                return RejectUpgrade(status=429, body=b"too many connections from this address\n")
            self._counted = True
        return AcceptUpgrade()

    def _receive(self, session: ServerSession, data: bytes | str, now: float) -> None:
        try:
            request = decode_request(data, max_size=self.config.max_message_size)
        except RejectedRequest as rejected:
            session.busy = True
            return self.requests.reject(
                self.session_principal(now), rejected.request_id, rejected.error, now
            )
        if request.method != Test.method:
            session.busy = True
        return self.requests.dispatch(request.id, request.method, request.params, now)

    def _on_close(self, session: ServerSession, why: str) -> None:
        """Cancel-on-disconnect, once, when the connection ends (never after a logout)."""
        owner = self._cod_owner
        if owner is None or self._logged_out:
            return
        self.session.emit(
            CancelOnDisconnect(
                connection_id=self.connection_id,
                client_id=owner.client_id,
                account_id=owner.account_id,
                reason=why,
            )
        )

    def _on_lost(self, session: ServerSession) -> None:
        self.state.drop_connection(self.connection_id)
        if self._counted:
            self._counted = False
            self.state.release_connection(self._ip)
        self._session = None
        session.emit(
            SessionClosed(
                connection_id=self.connection_id,
                reason=session.close_reason or "connection lost",
                logged_out=self._logged_out,
            )
        )

    # -- session methods ----------------------------------------------------------------------

    def _on_set_heartbeat(
        self, command: SetHeartbeat, wire_id: RequestId | None, _: Any, now: float
    ) -> None:
        self.session.start_probes(command.interval, now)
        self.requests.answer(wire_id, "ok", now)

    def _on_disable_heartbeat(self, _: Any, wire_id: RequestId | None, __: Any, now: float) -> None:
        self.session.stop_probes()
        self.requests.answer(wire_id, "ok", now)

    def _on_test(
        self, command: Test, wire_id: RequestId | None, principal: Any, now: float
    ) -> None:
        self.session.probe_answered()
        if command.expected_result == "exception":
            return self.requests.fail(wire_id, error(11094), now)
        return self.requests.answer(wire_id, VersionResult(version=self.config.version), now)

    def _on_hello(self, _: Any, wire_id: RequestId | None, __: Any, now: float) -> None:
        self.requests.answer(wire_id, VersionResult(version=self.config.version), now)

    def _on_logout(self, command: Logout, _: Any, principal: Any, now: float) -> None:
        assert isinstance(principal, Principal)  # logout needs auth
        if command.invalidate_token is not False and principal.token is not None:
            self.state.revoke(principal.token.lineage)
        self._logged_out = True
        self._session = None
        self.session.close(1000, "logout", why="logout")

    def _on_subscribe(
        self,
        command: PublicSubscribe | PrivateSubscribe,
        wire_id: RequestId | None,
        principal: Principal | None,
        now: float,
    ) -> None:
        private = isinstance(command, PrivateSubscribe)
        candidates: list[str] = []
        raw_refused = False
        room = self.session.room_for_topics()
        for name in dict.fromkeys(command.channels):
            try:
                channel = parse_channel(name)
            except (LocalProtocolError, ValueError):
                continue  # invalid names are dropped silently (spec 3.1)
            if channel.private_only and not private:
                continue
            if channel.interval == "raw" and principal is None:
                raw_refused = True
                continue
            if not self.session.is_subscribed(name):
                if room <= 0:
                    continue  # past max_channels: dropped like any channel not taken
                room -= 1
            candidates.append(name)
        if raw_refused and (self.config.mixed_raw_subscribe == "reject" or not candidates):
            return self.requests.fail(wire_id, error(ErrorCode.RAW_SUBSCRIPTIONS_NEED_AUTH), now)
        label = command.label if isinstance(command, PrivateSubscribe) else None
        return self.requests.forward(
            command,
            wire_id,
            principal,
            now,
            candidates=tuple(candidates),
            label=label,
            event_type=SubscribeReceived,
        )

    def _removed(self, names: Iterable[str]) -> list[str]:
        removed = self.session.deactivate(names)
        if removed:
            self.session.emit(
                Unsubscribed(connection_id=self.connection_id, channels=tuple(removed))
            )
        return removed

    def _on_unsubscribe(
        self,
        command: PublicUnsubscribe | PrivateUnsubscribe,
        wire_id: RequestId | None,
        _: Any,
        now: float,
    ) -> None:
        self.requests.answer(wire_id, self._removed(command.channels), now)

    def _on_unsubscribe_all(self, _: Any, wire_id: RequestId | None, __: Any, now: float) -> None:
        self._removed(list(self.session.topics))
        self.requests.answer(wire_id, "ok", now)

    def __repr__(self) -> str:
        return (
            f"ServerProtocol(connection_id={self.connection_id}, phase={self.phase}, "
            f"peer={self.peer!r}, channels={len(self.session.topics)}, "
            f"pending={self.pending_requests})"
        )


_LINK_HANDLERS: dict[type[Any], LinkHandler] = {
    SetHeartbeat: ServerProtocol._on_set_heartbeat,
    DisableHeartbeat: ServerProtocol._on_disable_heartbeat,
    Test: ServerProtocol._on_test,
    Hello: ServerProtocol._on_hello,
    Logout: ServerProtocol._on_logout,
    PublicSubscribe: ServerProtocol._on_subscribe,
    PrivateSubscribe: ServerProtocol._on_subscribe,
    PublicUnsubscribe: ServerProtocol._on_unsubscribe,
    PrivateUnsubscribe: ServerProtocol._on_unsubscribe,
    PublicUnsubscribeAll: ServerProtocol._on_unsubscribe_all,
    PrivateUnsubscribeAll: ServerProtocol._on_unsubscribe_all,
}
"""What a WebSocket connection answers itself (heartbeat, hello, logout, subscriptions),
one table for every connection."""
