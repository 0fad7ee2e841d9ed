"""``deriv.server.ServerProtocol``: the venue side of one Deriv WebSocket, holding no market.

The machine speaks the envelope (spec 1, 2, 3, 6, 7.1) and leaves market knowledge to the
venue.  For each message, in the real server's order (spec 6.1): the endpoint key
(none: ``UnrecognisedRequest``, ``msg_type`` ``"error"``), the rate budget of the call
(``RateLimit``; the connection stays open), schema validation (``InputValidationFailed``
with ``details``), ``AuthorizationRequired`` and the token's scope (``PermissionDenied``),
then ``AlreadySubscribed`` for a stream that already runs.  It answers ``ping``,
``time``, ``authorize``, ``logout``, ``get_session_token``, ``website_status``,
``forget`` and ``forget_all`` itself and hands every other call to the venue as a
:class:`RequestReceived` event; the venue answers with :meth:`ServerProtocol.reply`,
:meth:`~ServerProtocol.reply_error`, or for a stream :meth:`~ServerProtocol.open_stream`
then :meth:`~ServerProtocol.push` (the first push answers the request).

Every reply and stream message carries ``msg_type`` (spec 1.3: ``tick`` for ``ticks``,
``history``/``candles`` then ``tick``/``ohlc`` for ``ticks_history``, the call's own
otherwise), ``echo_req`` (sensitive fields ``"<not shown>"``), the request's ``req_id``
and ``passthrough``, and on a stream ``subscription.id``: 36 characters, UUID-shaped,
from the state's random source (``forget`` takes ``^[\\w-]{32,128}$``).  Frames stay under
``max_frame_size`` (1 MiB less a margin: python-deriv-api closes on anything larger,
spec 7.1 item 11): a reply that would not fit becomes an ``OutputValidationFailed``
error.  Invalid JSON closes the connection (1007), as the current server does (spec 6.1).

``app_id`` is required (spec 3.1): without a numeric one the connection gets one
``InvalidAppID`` message (``msg_type`` ``"error"``) and is closed (1008, our code);
ids in ``blocked_app_ids`` are refused at the upgrade with 403.  The upgrade path is
``/websockets/v3`` at the root; a path that ends in ``websockets/v3`` is taken too (the
JS client drops the slash after a path prefix, spec 1.1).

The idle close (spec 2): ``idle_timeout`` (120 s; ``None``: never) without anything
from the client closes with 1000 ``"inactivity timeout"`` (our code and text; the real
venue's are not documented).  Streams do not keep a connection alive (the docs count
"requests or responses"; our reading); WebSocket ping frames do, by default
(``pings_are_activity``: python-deriv-api sends nothing else when idle).  When the
connection ends every stream is dropped (``forget_all`` on disconnect) and the venue
gets :class:`SessionClosed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

from .._contract import AcceptUpgrade, RejectUpgrade, UpgradeRequest
from .._errors import LocalProtocolError
from .._events import Command, Event
from .._sources import RequestId
from ..session import ServerSession, ServerSpec, SessionFront
from ._commands import (
    Authorize,
    Forget,
    ForgetAll,
    GetSessionToken,
    Logout,
    StreamCommand,
    Ticks,
    TicksHistory,
    WebsiteStatus,
)
from ._errors import ERROR_MESSAGES
from ._server_requests import (
    Invalid,
    echo_of,
    find_call,
    first_msg_type,
    validate,
)
from ._server_state import (
    SCOPES,
    Account,
    ServerState,
    StreamMeta,
    stream_key,
)

__all__ = [
    "ACCEPTED_PATH",
    "RequestReceived",
    "ServerProtocol",
    "SessionClosed",
    "StreamsStopped",
]

ACCEPTED_PATH = "/websockets/v3"
_DICT = msgspec.json.Decoder(dict[str, Any])
_ENCODER = msgspec.json.Encoder()
_LOCAL = frozenset(
    {
        "ping",
        "time",
        "authorize",
        "logout",
        "get_session_token",
        "website_status",
        "forget",
        "forget_all",
    }
)


class RequestReceived(Event, frozen=True, kw_only=True):
    """A call for the venue: answer ``request_id`` once (``reply``, ``reply_error``, or
    ``open_stream`` + ``push`` when ``subscribe``).  ``command`` is the typed command
    (a ``GenericCommand`` for an extra call); ``account`` the authorized account."""

    connection_id: int
    request_id: int
    call: str
    command: Any
    subscribe: bool = False
    account: Account | None = None


class StreamsStopped(Event, frozen=True, kw_only=True):
    """Streams of a connection stopped by ``forget`` / ``forget_all`` / the venue."""

    connection_id: int
    ids: tuple[str, ...]


class SessionClosed(Event, frozen=True, kw_only=True):
    """The connection is gone; every stream on it with it."""

    connection_id: int
    reason: str


class _Context(msgspec.Struct, kw_only=True):
    """What an answer to one request carries (spec 1.3)."""

    call: str
    msg_type: str
    echo: dict[str, Any]
    req_id: int | None
    passthrough: Any
    command: Any = None
    subscribe: bool = False
    key: tuple[Any, ...] | None = None


class ServerProtocol(SessionFront):
    """One Deriv WebSocket connection, venue side (see the module docstring)."""

    def __init__(self, state: ServerState, *, peer: str | None = None) -> None:
        self.state = state
        self.config = config = state.config
        self.connection_id = state.new_connection_id()
        self.session = ServerSession(
            ServerSpec(
                codec=_Codec(),
                receive=self._receive,
                upgrade=self._upgrade,
                idle_timeout=config.idle_timeout,
                idle_with_topics=True,
                idle_close=(1000, "inactivity timeout", False),
                pings_are_activity=config.pings_are_activity,
                on_lost=self._on_lost,
                max_events=config.max_events,
                max_outbound=config.max_queued_messages,
                max_pending=config.max_pending_requests,
                max_topics=config.max_streams,
            ),
            connection_id=self.connection_id,
            peer=peer,
        )
        self.account: Account | None = None
        self.app_id: int | None = None
        self._app_id_ok = True
        self._keys: dict[tuple[Any, ...], str] = {}  # stream key -> subscription id
        self._live: dict[str, None] = {}  # subscription ids in the order they started

    # -- inspection -----------------------------------------------------------------------

    @property
    def streams(self) -> frozenset[str]:
        """The subscription ids live on this connection."""
        return self.session.topics

    def stream_meta(self, sub_id: str) -> StreamMeta | None:
        meta = self.session.topic_meta(sub_id)
        return meta if isinstance(meta, StreamMeta) else None

    # -- the driving contract ---------------------------------------------------------------

    def connection_made(self, now: float) -> None:
        self.session.connection_made(now)
        if not self._app_id_ok:
            self._write(
                {
                    "echo_req": {},
                    "error": {"code": "InvalidAppID", "message": ERROR_MESSAGES["InvalidAppID"]},
                    "msg_type": "error",
                }
            )
            self.session.close(1008, "InvalidAppID", why="invalid app_id")

    def send(self, command: Command, now: float) -> RequestId | None:
        """Commands from the fault engine (``Disconnect``) go to the session."""
        return self.session.send(command, now)

    # -- the venue's side -------------------------------------------------------------------

    def reply(self, request_id: int, result: Any, now: float, **extra: Any) -> None:
        """Answer held request ``request_id`` with ``result`` under its payload key;
        ``extra`` adds top-level fields (``pip_size`` of ``ticks_history``)."""
        context = self._take(request_id, "reply")
        self._answer(context, result, extra)

    def reply_error(
        self,
        request_id: int,
        code: str,
        now: float,
        message: str | None = None,
        details: Any = None,
    ) -> None:
        """Answer held request ``request_id`` with the error ``code``."""
        context = self._take(request_id, "reply_error")
        self._error(context, code, message, details)

    def open_stream(self, request_id: int) -> str:
        """Start the stream a held subscribe request asked for; returns its subscription
        id.  The first :meth:`push` on it answers the request."""
        pending = self.session.held.get(request_id, "open_stream")
        context = pending.meta
        assert isinstance(context, _Context)
        if not context.subscribe:
            raise LocalProtocolError(f"open_stream: request {request_id} is not a subscribe call")
        self.session.held.take(request_id)
        sub_id = self.state.new_stream_id()
        meta = StreamMeta(
            sub_id=sub_id,
            call=context.call,
            msg_type=context.msg_type,
            echo=context.echo,
            req_id=context.req_id,
            passthrough=context.passthrough,
            stream_type=_stream_type(context.command),
            key=context.key,
            command=context.command,
        )
        if self.session.is_open:
            self.session.activate([sub_id], meta)
            self._live[sub_id] = None
            if context.key is not None:
                self._keys[context.key] = sub_id
        return sub_id

    def push(
        self, sub_id: str, payload: Any, now: float, *, msg_type: str | None = None, **extra: Any
    ) -> bool:
        """Send one message of stream ``sub_id`` (``msg_type``: the stream's by default);
        returns whether it was sent (the stream is live here)."""
        meta = self.stream_meta(sub_id)
        if meta is None or not self.session.is_open:
            return False
        kind = msg_type or meta.msg_type
        body = self._envelope(meta.echo, kind, meta.req_id, meta.passthrough)
        body["subscription"] = {"id": sub_id}
        body[kind] = payload
        body.update(extra)
        return self.session.push(self._frame(body, meta.echo, kind, meta.req_id))

    def end_stream(self, sub_id: str) -> bool:
        """The venue ends a stream (a sold contract, a bought proposal)."""
        return bool(self._stop([sub_id], tell=False))

    def disconnect(
        self, now: float, *, code: int = 1000, reason: str = "", abort: bool = False
    ) -> None:
        self.session.close(code, reason, why="closed by venue", abort=abort)

    # -- internals --------------------------------------------------------------------------

    def _upgrade(
        self, session: ServerSession, request: UpgradeRequest, now: float
    ) -> AcceptUpgrade | RejectUpgrade:
        path = request.path
        if path != ACCEPTED_PATH and not path.rstrip("/").endswith("websockets/v3"):
            return RejectUpgrade(status=404, body=b"not found\n")
        raw = request.query_value("app_id")
        if raw is not None and raw.isdigit() and int(raw) in self.config.blocked_app_ids:
            return RejectUpgrade(status=403, body=b"AccessRestricted\n")
        if raw is not None and raw.isdigit() and 0 < int(raw) < 2**31:
            self.app_id = int(raw)
        elif self.config.app_id_required:
            self._app_id_ok = False
        return AcceptUpgrade()

    def _take(self, request_id: int, operation: str) -> _Context:
        pending = self.session.held.get(request_id, operation)
        self.session.held.take(request_id)
        context = pending.meta
        assert isinstance(context, _Context)
        return context

    @staticmethod
    def _envelope(echo: Any, msg_type: str, req_id: int | None, passthrough: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"echo_req": echo, "msg_type": msg_type}
        if passthrough is not None:
            body["passthrough"] = passthrough
        if req_id is not None:
            body["req_id"] = req_id
        return body

    def _frame(self, body: dict[str, Any], echo: Any, msg_type: str, req_id: int | None) -> bytes:
        data = _ENCODER.encode(body)
        if len(data) > self.config.max_frame_size:
            error = {
                "code": "OutputValidationFailed",
                "message": f"The response is too large ({len(data)} bytes).",
            }
            small = self._envelope(echo, msg_type, req_id, None)
            small["error"] = error
            data = _ENCODER.encode(small)
        return data

    def _write(self, body: dict[str, Any]) -> None:
        self.session.write(_ENCODER.encode(body))

    def _answer(self, context: _Context, result: Any, extra: dict[str, Any]) -> None:
        body = self._envelope(context.echo, context.msg_type, context.req_id, context.passthrough)
        body[context.msg_type] = result
        body.update(extra)
        self.session.write(self._frame(body, context.echo, context.msg_type, context.req_id))

    def _error(
        self, context: _Context, code: str, message: str | None = None, details: Any = None
    ) -> None:
        msg_type = "error" if code in ("UnrecognisedRequest", "InvalidAppID") else context.call
        body = self._envelope(context.echo, msg_type, context.req_id, context.passthrough)
        error: dict[str, Any] = {
            "code": code,
            "message": message if message is not None else ERROR_MESSAGES.get(code, code),
        }
        if details:
            error["details"] = details
        body["error"] = error
        self.session.write(_ENCODER.encode(body))

    def _receive(self, session: ServerSession, data: bytes | str, now: float) -> None:
        if len(data) > self.config.max_message_size:
            self.session.close(1009, "message too big", why="message too big")
            return
        try:
            request = _DICT.decode(data)
        except msgspec.ValidationError:
            request = None  # JSON, but not an object
        except (msgspec.DecodeError, UnicodeError, RecursionError):
            self.session.close(1007, "invalid JSON", why="invalid JSON")
            return
        if request is None:
            context = _Context(
                call="error", msg_type="error", echo={}, req_id=None, passthrough=None
            )
            return self._error(context, "UnrecognisedRequest")
        req_id = request.get("req_id")
        if isinstance(req_id, bool) or not isinstance(req_id, int):
            req_id = None
        echo = echo_of(request)
        call = find_call(request, self.config.extra_calls)
        passthrough = (
            request.get("passthrough") if isinstance(request.get("passthrough"), dict) else None
        )
        if call is None:
            context = _Context(
                call="error", msg_type="error", echo=echo, req_id=req_id, passthrough=passthrough
            )
            return self._error(context, "UnrecognisedRequest")
        context = _Context(
            call=call, msg_type=call, echo=echo, req_id=req_id, passthrough=passthrough
        )
        if not self.state.charge(self, call, now):
            return self._error(context, "RateLimit", f"You have reached the rate limit for {call}.")
        if call in self.config.extra_calls:
            return self._extra(context, request, now)
        try:
            command, subscribe = validate(call, request, new_api=self.config.new_api)
        except Invalid as invalid:
            if "req_id" in invalid.details:
                context.req_id = None  # a req_id that fails validation is not echoed
            return self._error(context, "InputValidationFailed", invalid.message, invalid.details)
        context.command = command
        context.subscribe = subscribe
        context.msg_type = first_msg_type(call, command)
        if command.needs_auth and self.account is None:
            return self._error(context, "AuthorizationRequired")
        scopes = SCOPES.get(call)
        account = self.account
        if (
            scopes is not None
            and account is not None
            and not any(s in account.scopes for s in scopes)
        ):
            return self._error(
                context, "PermissionDenied", f"Permission denied, requires {scopes[0]} scope."
            )
        if subscribe:
            key = stream_key(command)
            context.key = key
            if key in self._keys:
                what = getattr(command, "ticks", None) or getattr(command, "ticks_history", None)
                return self._error(
                    context,
                    "AlreadySubscribed",
                    f"You are already subscribed to {what or call}.",
                )
        if call in _LOCAL:
            return self._local(context, command, now)
        if not self.session.can_hold():
            return self._error(context, "RateLimit", "Too many requests in flight.")
        handle = self.session.hold(req_id, now, meta=context)
        self.session.emit(
            RequestReceived(
                connection_id=self.connection_id,
                request_id=handle,
                call=call,
                command=command,
                subscribe=subscribe,
                account=self.account,
            )
        )

    def _extra(self, context: _Context, request: dict[str, Any], now: float) -> None:
        from ._commands import GenericCommand

        params = {
            k: v for k, v in request.items() if k not in (context.call, "req_id", "passthrough")
        }
        command = GenericCommand(call=context.call, value=request[context.call], params=params)
        context.command = command
        handle = self.session.hold(context.req_id, now, meta=context)
        self.session.emit(
            RequestReceived(
                connection_id=self.connection_id,
                request_id=handle,
                call=context.call,
                command=command,
                account=self.account,
            )
        )

    def _local(self, context: _Context, command: Any, now: float) -> None:
        call = context.call
        if call == "ping":
            return self._answer(context, "pong", {})
        if call == "time":
            return self._answer(context, int(now + self.config.epoch_offset), {})
        if isinstance(command, Authorize):
            account = self.state.account_for(command.authorize.reveal(), now)
            if account is None:
                return self._error(context, "InvalidToken")
            self.account = account
            return self._answer(context, account.authorize_result(), {})
        if isinstance(command, Logout):
            self.account = None
            return self._answer(context, 1, {})
        if isinstance(command, GetSessionToken):
            issued = self.state.exchange_one_time_token(command.get_session_token.reveal(), now)
            if issued is None:
                return self._error(context, "InvalidToken")
            return self._answer(context, issued, {})
        if isinstance(command, WebsiteStatus):
            status = self.state.website_status()
            if not context.subscribe:
                return self._answer(context, status, {})
            handle = self.session.hold(context.req_id, now, meta=context)
            sub_id = self.open_stream(handle)
            self.push(sub_id, {**status, "id": sub_id}, now)
            return None
        if isinstance(command, Forget):
            stopped = self._stop([command.forget], tell=True)
            return self._answer(context, 1 if stopped else 0, {})
        assert isinstance(command, ForgetAll)
        types = set(command.forget_all)
        ids = [
            sub_id
            for sub_id in list(self._live)
            if (meta := self.stream_meta(sub_id)) is not None and meta.stream_type in types
        ]
        self._stop(ids, tell=True)
        return self._answer(context, ids, {})

    def _stop(self, ids: Iterable[str], *, tell: bool) -> list[str]:
        metas = [self.stream_meta(sub_id) for sub_id in ids]
        stopped = self.session.deactivate(m.sub_id for m in metas if m is not None)
        for sub_id in stopped:
            self._live.pop(sub_id, None)
        for meta in metas:
            if (
                meta is not None
                and meta.key is not None
                and self._keys.get(meta.key) == meta.sub_id
            ):
                del self._keys[meta.key]
        if stopped and tell:
            self.session.emit(StreamsStopped(connection_id=self.connection_id, ids=tuple(stopped)))
        return stopped

    def _on_lost(self, session: ServerSession) -> None:
        self._keys.clear()
        self._live.clear()
        self.state.drop_connection(self.connection_id)
        session.emit(
            SessionClosed(
                connection_id=self.connection_id, reason=session.close_reason or "connection lost"
            )
        )

    def __repr__(self) -> str:
        return (
            f"deriv.ServerProtocol(connection_id={self.connection_id}, phase={self.phase}, "
            f"streams={len(self.session.topics)}, pending={self.pending_requests})"
        )


def _stream_type(command: Any) -> str:
    if isinstance(command, Ticks):
        return "ticks"
    if isinstance(command, TicksHistory):
        return command.stream_kind
    if isinstance(command, StreamCommand) and command.stream_type is not None:
        return command.stream_type
    return "proposal_open_contract"  # buy with subscribe streams open contracts


class _Codec:
    """The session's codec, for what it encodes itself (nothing on this venue's paths:
    every Deriv answer needs its request's context, so the protocol writes them)."""

    @staticmethod
    def encode_result(
        wire_id: RequestId | None, result: Any, *, received_at: float, now: float
    ) -> bytes:
        return _ENCODER.encode(
            {
                "msg_type": "error",
                "req_id": wire_id,
                "error": {"code": "WrongResponse", "message": ""},
            }
        )

    @staticmethod
    def encode_error(
        wire_id: RequestId | None,
        code: int | str,
        message: str,
        data: Any,
        *,
        received_at: float,
        now: float,
    ) -> bytes:
        body: dict[str, Any] = {
            "echo_req": {},
            "error": {"code": code, "message": message},
            "msg_type": "error",
        }
        if wire_id is not None:
            body["req_id"] = wire_id
        return _ENCODER.encode(body)

    @staticmethod
    def encode_notification(topic: str, data: Any, meta: Any) -> bytes:
        return _ENCODER.encode(data)
