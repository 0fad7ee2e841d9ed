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
  caller's session (its connection, or its named session).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

from .._bounded import BoundedQueue
from .._contract import AcceptUpgrade, CloseRequest, RejectUpgrade, UpgradeRequest
from .._errors import LocalProtocolError
from .._sources import RequestId
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
from ._errors import ErrorCode
from ._models_session import VersionResult
from ._server_auth import Principal, error, token_principal
from ._server_config import IssuedToken, peer_ip
from ._server_core import ServerEndpoint
from ._server_events import (
    HEARTBEAT_CLOSE_CODE,
    HEARTBEAT_CLOSE_REASON,
    CancelOnDisconnect,
    SessionClosed,
    SubscribeReceived,
    Unsubscribed,
)
from ._server_state import ServerState
from ._wire_server import RejectedRequest, decode_request, encode_heartbeat, encode_notification

__all__ = ["WS_PATHS", "ServerProtocol"]

WS_PATHS = ("/ws/api/v2", "/ws/api/v2/")
"""Upgrade paths accepted (spec 1.1; the trailing slash some clients add, spec 10)."""


class _Phase(Enum):
    NEW = "new"  # before connection_made
    OPEN = "open"
    CLOSING = "closing"  # the machine asked for the close; input is ignored
    CLOSED = "closed"  # connection_lost was called


class ServerProtocol(ServerEndpoint):
    """One Deribit WebSocket connection, venue side (see the module docstring).

    ``peer`` (``host:port``) may be given here or comes from the upgrade request; its
    address keys the per-IP connection count and the unauthenticated credit pool.

    Driving calls by phase (``test_server_session.py`` checks every pair; "error" is a
    :class:`LocalProtocolError`):

    ===================  ========  ===========  ========  ========
    call                 new       open         closing   closed
    ===================  ========  ===========  ========  ========
    ``connection_made``  -> open   error        error     error
    ``receive_message``  error     answered     ignored   error
    ``handle_timer``     nothing   timers       nothing   nothing
    ``reply`` (pending)  --        sent         dropped   dropped
    ``notify``           False     sent if      False     False
                                   active
    ``connection_lost``  -> closed -> closed    -> closed nothing
    ===================  ========  ===========  ========  ========

    Replying to an id that is not pending is an error in every phase.
    """

    transport = "websocket"

    def __init__(self, state: ServerState, *, peer: str | None = None) -> None:
        super().__init__(state, peer=peer)
        self._phase = _Phase.NEW
        self._out: BoundedQueue[bytes] = BoundedQueue(
            "outbound queue", self.config.max_queued_messages, "messages_to_send"
        )
        self.close_request: CloseRequest | None = None
        self._counted = False
        self._session: IssuedToken | None = None
        self._channels: dict[str, str | None] = {}
        self._cod_owner: Principal | None = None
        self._cod_done = False
        self._logged_out = False
        self._close_reason: str | None = None
        self._last_inbound = 0.0
        self._hb_interval: float | None = None
        self._hb_next: float | None = None
        self._hb_deadline: float | None = None
        self._busy = False
        self._local.update(
            {
                SetHeartbeat: self._on_set_heartbeat,
                DisableHeartbeat: self._on_disable_heartbeat,
                Hello: self._on_hello,
                Logout: self._on_logout,
                PublicSubscribe: self._on_subscribe,
                PrivateSubscribe: self._on_subscribe,
                PublicUnsubscribe: self._on_unsubscribe,
                PrivateUnsubscribe: self._on_unsubscribe,
                PublicUnsubscribeAll: self._on_unsubscribe_all,
                PrivateUnsubscribeAll: self._on_unsubscribe_all,
            }
        )

    # -- inspection -----------------------------------------------------------------------

    @property
    def phase(self) -> str:
        """``"new"``, ``"open"``, ``"closing"`` (the machine asked for the close) or
        ``"closed"`` (``connection_lost`` was called)."""
        return self._phase.value

    @property
    def is_open(self) -> bool:
        """Requests are being taken and answers sent."""
        return self._phase is _Phase.OPEN

    @property
    def channels(self) -> frozenset[str]:
        """The channels active on this connection."""
        return frozenset(self._channels)

    def is_subscribed(self, channel: str) -> bool:
        return channel in self._channels

    @property
    def client_id(self) -> str | None:
        """The key the connection is authenticated as (with a usable token), or ``None``."""
        record = self._session
        return record.client_id if record is not None else None

    @property
    def cancel_on_disconnect(self) -> bool:
        return self._cod_owner is not None

    # -- the driving contract ---------------------------------------------------------------

    def decide_upgrade(self, request: UpgradeRequest, now: float) -> AcceptUpgrade | RejectUpgrade:
        """Accept ``/ws/api/v2`` (and with a trailing slash), no subprotocol; 404 for other
        paths; 429 over ``max_connections_per_ip`` (spec 7.2)."""
        if request.path not in WS_PATHS:
            return RejectUpgrade(status=404, body=b"not found\n")
        if request.peer is not None:
            self.peer = request.peer
            self._ip = peer_ip(request.peer)
        if not self._counted:
            if not self.state.acquire_connection(self._ip):
                return RejectUpgrade(status=429, body=b"too many connections from this address\n")
            self._counted = True
        return AcceptUpgrade()

    def connection_made(self, now: float) -> None:
        if self._phase is not _Phase.NEW:
            raise LocalProtocolError(
                "connection_made: already called (one ServerProtocol per connection)"
            )
        self._phase = _Phase.OPEN
        self._last_inbound = now

    def receive_message(self, data: bytes | str, now: float) -> None:
        """One client message; answered or handed to the venue, never raised about."""
        phase = self._phase
        if phase is _Phase.CLOSING:
            return
        if phase is not _Phase.OPEN:
            raise LocalProtocolError(
                f"receive_message: the connection is {phase.value} "
                "(call connection_made first; none after connection_lost)"
            )
        self._events.ensure_room()
        self._out.ensure_room()
        self._last_inbound = now
        try:
            request = decode_request(data, max_size=self.config.max_message_size)
        except RejectedRequest as rejected:
            self._busy = True
            return self._reject(
                self._session_principal(now), rejected.request_id, rejected.error, now
            )
        if request.method != Test.method:
            self._busy = True
        return self._dispatch(request.id, request.method, request.params, now)

    def handle_timer(self, now: float) -> None:
        if self._phase is not _Phase.OPEN:
            return
        if self._hb_deadline is not None and now >= self._hb_deadline:
            self._close(HEARTBEAT_CLOSE_CODE, HEARTBEAT_CLOSE_REASON, why="heartbeat")
            return
        if self._hb_next is not None and self._hb_interval is not None and now >= self._hb_next:
            if not self._busy:
                self._out.append(encode_heartbeat("heartbeat"))
            self._out.append(encode_heartbeat("test_request"))
            self._busy = False
            if self._hb_deadline is None:
                self._hb_deadline = now + self._hb_interval
            self._hb_next = now + self._hb_interval
        idle = self._idle_deadline()
        if idle is not None and now >= idle:
            self._close(1006, "", why="idle timeout", abort=True)

    def next_deadline(self) -> float | None:
        if self._phase is not _Phase.OPEN:
            return None
        present = [
            t for t in (self._hb_deadline, self._hb_next, self._idle_deadline()) if t is not None
        ]
        return min(present) if present else None

    def connection_lost(self, now: float) -> None:
        """The transport is gone: cancel-on-disconnect fires (unless logged out)."""
        if self._phase is _Phase.CLOSED:
            return
        self._phase = _Phase.CLOSED
        why = self._close_reason or "connection lost"
        self._fire_cod(why)
        self.state.drop_connection(self.connection_id)
        if self._counted:
            self._counted = False
            self.state.release_connection(self._ip)
        self._channels.clear()
        self._session = None
        self._hb_interval = self._hb_next = self._hb_deadline = None
        self._out.drain()
        self._events.append(
            SessionClosed(connection_id=self.connection_id, reason=why, logged_out=self._logged_out)
        )

    def messages_to_send(self) -> list[bytes]:
        return self._out.drain()

    # -- the venue's side -------------------------------------------------------------------

    def accept_subscription(
        self, request_id: int, channels: Iterable[str], now: float
    ) -> list[str]:
        """Answer subscribe request ``request_id``: ``channels`` (candidates of its
        :class:`SubscribeReceived`, any order) become active and are the result.

        Returns the channels that were not active before: the ones to send a first
        snapshot on (a duplicate subscription gets none, spec 3.1).
        """
        pending = self._pending_for(request_id, "accept_subscription")
        candidates = pending.candidates
        if candidates is None:
            raise LocalProtocolError(
                f"accept_subscription: request {request_id} is not a subscribe call; use reply"
            )
        if isinstance(channels, str):
            raise LocalProtocolError("invalid channels: expected a sequence of channel names")
        accepted = list(dict.fromkeys(channels))
        unknown = [c for c in accepted if c not in candidates]
        if unknown:
            raise LocalProtocolError(
                f"invalid channels: {unknown!r} were not candidates of request {request_id}; "
                f"accepted values: {sorted(candidates)!r}"
            )
        self._ensure_room()
        body = self._encode_result(pending, accepted, now)
        del self._pending[request_id]
        if self._phase is not _Phase.OPEN:
            return []
        new = [c for c in accepted if c not in self._channels]
        for name in accepted:
            self._channels[name] = pending.label if name.startswith("user.") else None
        self._write(body, is_error=False)
        return new

    def notify(self, channel: str, data: Any, now: float) -> bool:
        """Send ``data`` on ``channel`` if it is active here; returns whether it was sent.

        ``data`` is a wire model or JSON value; ``params.label`` is added for a labelled
        private subscription.  Notifications carry no ``usIn``/``usOut`` (spec 1.2).
        """
        if self._phase is not _Phase.OPEN or channel not in self._channels:
            return False
        self._out.ensure_room()
        self._out.append(encode_notification(channel, data, label=self._channels[channel]))
        self._busy = True
        return True

    def disconnect(
        self, now: float, *, code: int = 1000, reason: str = "", abort: bool = False
    ) -> None:
        """The venue ends the connection; cancel-on-disconnect applies."""
        self._close(code, reason, why="closed by venue", abort=abort)

    # -- transport hooks ----------------------------------------------------------------------

    def _write(self, body: bytes, *, is_error: bool) -> None:
        if self._phase is _Phase.OPEN:
            self._out.append(body)

    def _ensure_room(self) -> None:
        if self._phase is _Phase.OPEN:
            self._out.ensure_room()

    def _session_principal(self, now: float) -> Principal | None:
        record = self._session
        if record is None or not record.usable(now, self.connection_id, self._ip):
            return None
        return token_principal(record)

    def _authenticated(self, record: IssuedToken, now: float) -> None:
        self._session = record
        if self._cod_owner is None and self.state.cod_default(record.account_id):
            self._cod_owner = token_principal(record)

    def _rate_limited(self) -> None:
        self._close(
            self.config.rate_limit_close_code,
            self.config.rate_limit_close_reason,
            why="too_many_requests",
        )

    def _connection_cod(self, enabled: bool | None, principal: Principal) -> bool | None:
        if enabled is True:
            self._cod_owner = principal
        elif enabled is False:
            self._cod_owner = None
        return self._cod_owner is not None

    # -- internals ----------------------------------------------------------------------------

    def _idle_deadline(self) -> float | None:
        timeout = self.config.idle_timeout
        if timeout is None or self._channels:
            return None
        return self._last_inbound + timeout

    def _close(self, code: int, reason: str, *, why: str, abort: bool = False) -> None:
        if self._phase is not _Phase.OPEN:
            return
        self.close_request = CloseRequest(code=code, reason=reason, abort=abort)
        self._phase = _Phase.CLOSING
        self._close_reason = why
        self._fire_cod(why)

    def _fire_cod(self, why: str) -> None:
        owner = self._cod_owner
        if owner is None or self._cod_done or self._logged_out:
            return
        self._cod_done = True
        self._events.append(
            CancelOnDisconnect(
                connection_id=self.connection_id,
                client_id=owner.client_id,
                account_id=owner.account_id,
                reason=why,
            )
        )

    # -- session methods ----------------------------------------------------------------------

    def _on_set_heartbeat(
        self, command: SetHeartbeat, wire_id: RequestId | None, _: Any, now: float
    ) -> None:
        self._hb_interval = float(command.interval)
        self._hb_next = now + command.interval
        self._hb_deadline = None
        self._busy = False
        self._answer(wire_id, "ok", now)

    def _on_disable_heartbeat(self, _: Any, wire_id: RequestId | None, __: Any, now: float) -> None:
        self._hb_interval = self._hb_next = self._hb_deadline = None
        self._answer(wire_id, "ok", now)

    def _on_test(
        self, command: Test, wire_id: RequestId | None, principal: Any, now: float
    ) -> None:
        self._hb_deadline = None
        super()._on_test(command, wire_id, principal, now)

    def _on_hello(self, _: Any, wire_id: RequestId | None, __: Any, now: float) -> None:
        self._answer(wire_id, VersionResult(version=self.config.version), now)

    def _on_logout(self, command: Logout, _: Any, principal: Any, now: float) -> None:
        assert isinstance(principal, Principal)  # logout needs auth
        if command.invalidate_token is not False and principal.token is not None:
            self.state.revoke(principal.token.lineage)
        self._logged_out = True
        self._session = None
        self._close(1000, "logout", why="logout")

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
        room = self.config.max_channels - len(self._channels)
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
            if name not in self._channels:
                if room <= 0:
                    continue  # past max_channels: dropped like any channel not taken
                room -= 1
            candidates.append(name)
        if raw_refused and (self.config.mixed_raw_subscribe == "reject" or not candidates):
            return self._fail(wire_id, error(ErrorCode.RAW_SUBSCRIPTIONS_NEED_AUTH), now)
        label = command.label if isinstance(command, PrivateSubscribe) else None
        return self._forward(
            command,
            wire_id,
            principal,
            now,
            candidates=tuple(candidates),
            label=label,
            event_type=SubscribeReceived,
        )

    def _removed(self, names: Iterable[str]) -> list[str]:
        removed = [name for name in dict.fromkeys(names) if name in self._channels]
        for name in removed:
            del self._channels[name]
        if removed:
            self._events.append(
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
        self._answer(wire_id, self._removed(command.channels), now)

    def _on_unsubscribe_all(self, _: Any, wire_id: RequestId | None, __: Any, now: float) -> None:
        self._removed(list(self._channels))
        self._answer(wire_id, "ok", now)

    def __repr__(self) -> str:
        return (
            f"ServerProtocol(connection_id={self.connection_id}, phase={self._phase.value}, "
            f"peer={self.peer!r}, channels={len(self._channels)}, "
            f"pending={len(self._pending)})"
        )
