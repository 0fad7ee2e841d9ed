"""What the WebSocket machine and the HTTP adapter share: one request's path through the
venue side, and the venue's answers.

A request goes: method lookup (-32601; 10030 for a WebSocket-only method over HTTP),
params (-32602 / -32000 naming the param), who is asking (the connection's token, the
request's ``access_token``, or an HTTP ``Authorization`` header), credits (10028), auth
(13009 with ``{"reason": "invalid_token"}``), then either a session method the machine
answers itself or a :class:`RequestReceived` for the venue.  Every request that is
not answered here is held until the venue answers it exactly once; answering twice or an
unknown ``request_id`` is a :class:`LocalProtocolError`.

Credits (spec 7.3): every message is charged, before its errors are answered, by its
method's rate class (the default class when the method is unknown or the message is
not a request) against the pool of the asking (sub-)account, or of the peer IP when
unauthenticated (of the connection when the IP is unknown).  An empty pool answers 10028
``too_many_requests`` and ends the connection.

More than ``max_pending_requests`` requests unanswered by the venue on one connection
get 10066 ``too_many_concurrent_requests``, Deribit's code for too many requests in
flight.  An invalid ``access_token`` param is an error only for a method that needs auth;
elsewhere the request is simply unauthenticated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import msgspec

from .._bounded import BoundedQueue
from .._errors import LocalProtocolError
from .._events import Command, Event
from .._sources import RequestId
from ._commands import (
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
    DeribitCommand,
    ExchangeToken,
    ForkToken,
    GenericRequest,
    GetTime,
    Test,
)
from ._commands_trading import (
    DisableCancelOnDisconnect,
    EnableCancelOnDisconnect,
    GetCancelOnDisconnect,
)
from ._errors import ERROR_MESSAGES, DeribitError, ErrorCode
from ._limits import RateClass
from ._methods import command_type_for
from ._models_session import CancelOnDisconnectState, VersionResult
from ._server_auth import (
    Principal,
    authenticate,
    error,
    exchange_token,
    fork_token,
    token_principal,
    unauthorized,
)
from ._server_config import IssuedToken, peer_ip
from ._server_events import (
    AcceptSubscription,
    Disconnect,
    Notify,
    Reply,
    ReplyError,
    RequestReceived,
    Transport,
)
from ._server_state import ServerState
from ._wire_server import (
    RejectedRequest,
    decode_params,
    decode_query_params,
    encode_error,
    encode_result,
)

__all__ = ["Params", "Pending", "ServerEndpoint"]

Params = msgspec.Raw | bytes | tuple[tuple[str, str], ...]
"""Request params as they arrived: raw JSON (WebSocket, POST) or query pairs (GET)."""

Handler = Callable[[Any, RequestId | None, Principal | None, float], None]

_GENERIC_PARAMS = msgspec.json.Decoder(dict[str, Any])


class Pending(msgspec.Struct, kw_only=True):
    """A request the venue has not answered yet."""

    wire_id: RequestId | None
    received_at: float
    candidates: frozenset[str] | None = None  # subscribe requests: what may be accepted
    label: str | None = None


class ServerEndpoint:
    """The transport-independent half of :class:`ServerProtocol` and
    :class:`HTTPServerProtocol` (see the module docstring)."""

    transport: ClassVar[Transport]

    def __init__(self, state: ServerState, *, peer: str | None = None) -> None:
        self.state = state
        self.config = state.config
        self.connection_id = state.new_connection_id()
        self.peer = peer
        self._ip = peer_ip(peer)
        self._pending: dict[int, Pending] = {}
        self._next_handle = 1
        self._events: BoundedQueue[Event] = BoundedQueue(
            "event queue", self.config.max_events, "events"
        )
        self._local: dict[type[Any], Handler] = {
            AuthClientCredentials: self._on_auth,
            AuthClientSignature: self._on_auth,
            AuthRefreshToken: self._on_auth,
            ExchangeToken: self._on_exchange_token,
            ForkToken: self._on_fork_token,
            Test: self._on_test,
            GetTime: self._on_get_time,
            EnableCancelOnDisconnect: self._on_cod,
            DisableCancelOnDisconnect: self._on_cod,
            GetCancelOnDisconnect: self._on_cod,
        }

    # -- hooks for the transports ---------------------------------------------------------

    def _write(self, body: bytes, *, is_error: bool) -> None:
        """Queue one answer (WebSocket: a message; HTTP: the response)."""
        raise NotImplementedError

    def _ensure_room(self) -> None:
        """Raise :class:`LocalProtocolError` when the outbound queue is full."""

    def _session_principal(self, now: float) -> Principal | None:
        """Who the connection itself is authenticated as (WebSocket only)."""
        return None

    def _authenticated(self, record: IssuedToken, now: float) -> None:
        """A token method succeeded on this connection (WebSocket: it now acts as it)."""

    def _rate_limited(self) -> None:
        """The pool is empty and 10028 was queued: end the connection."""

    def _connection_cod(self, enabled: bool | None, principal: Principal) -> bool | None:
        """Set (``enabled`` not ``None``) and return this connection's COD flag;
        ``None`` when the transport has no connection scope (HTTP)."""
        return None

    # -- the venue's side -------------------------------------------------------------------

    def events(self) -> list[Event]:
        """Drain queued events, oldest first."""
        return self._events.drain()

    @property
    def pending_requests(self) -> int:
        """Requests handed to the venue and not answered yet."""
        return len(self._pending)

    def send(self, command: Command, now: float) -> RequestId | None:
        """Carry out a venue command (:class:`Reply`, :class:`ReplyError`,
        :class:`AcceptSubscription`, :class:`Notify`, :class:`Disconnect`); returns ``None``."""
        if isinstance(command, Reply):
            self.reply(command.request_id, command.result, now)
        elif isinstance(command, ReplyError):
            self.reply_error(
                command.request_id, command.code, now, data=command.data, message=command.message
            )
        elif isinstance(command, AcceptSubscription):
            self.accept_subscription(command.request_id, command.channels, now)
        elif isinstance(command, Notify):
            self.notify(command.channel, command.data, now)
        elif isinstance(command, Disconnect):
            self.disconnect(now, code=command.code, reason=command.reason, abort=command.abort)
        else:
            raise LocalProtocolError(
                f"invalid command: {type(command).__name__}; a Deribit server takes Reply, "
                "ReplyError, AcceptSubscription, Notify or Disconnect"
            )
        return None

    def reply(self, request_id: int, result: Any, now: float) -> None:
        """Answer ``request_id`` with ``result`` (a wire model or any JSON value)."""
        pending = self._pending_for(request_id, "reply")
        if pending.candidates is not None:
            raise LocalProtocolError(
                f"reply: request {request_id} is a subscribe call; answer it with "
                "accept_subscription (or reply_error)"
            )
        self._ensure_room()
        body = self._encode_result(pending, result, now)
        del self._pending[request_id]
        self._write(body, is_error=False)

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
        if isinstance(error_or_code, DeribitError):
            code, text = error_or_code.code, error_or_code.message
            data = error_or_code.data if data is None else data
        elif isinstance(error_or_code, int) and not isinstance(error_or_code, bool):
            code, text = error_or_code, ERROR_MESSAGES.get(error_or_code, "error")
        else:
            raise LocalProtocolError(
                f"invalid error_or_code: expected a DeribitError or an int, got {error_or_code!r}"
            )
        pending = self._pending_for(request_id, "reply_error")
        self._ensure_room()
        body = self._encode_error(
            pending.wire_id, code, message or text, data, received_at=pending.received_at, now=now
        )
        del self._pending[request_id]
        self._write(body, is_error=True)

    def accept_subscription(self, request_id: int, channels: Any, now: float) -> list[str]:
        raise LocalProtocolError(
            f"accept_subscription: {self.transport} has no subscriptions (spec 3.1)"
        )

    def notify(self, channel: str, data: Any, now: float) -> bool:
        raise LocalProtocolError(f"notify: {self.transport} has no subscriptions (spec 3.1)")

    def disconnect(
        self, now: float, *, code: int = 1000, reason: str = "", abort: bool = False
    ) -> None:
        raise NotImplementedError

    def _pending_for(self, request_id: int, operation: str) -> Pending:
        pending = self._pending.get(request_id)
        if pending is None:
            raise LocalProtocolError(
                f"{operation}: unknown request_id {request_id!r}: never received on this "
                "connection, or already answered"
            )
        return pending

    # -- encoding -------------------------------------------------------------------------

    def _times(self, received_at: float, now: float) -> tuple[int, int]:
        us_in = self.state.epoch_us(received_at)
        return us_in, max(us_in, self.state.epoch_us(now))

    def _encode_result(self, pending: Pending, result: Any, now: float) -> bytes:
        us_in, us_out = self._times(pending.received_at, now)
        return encode_result(
            pending.wire_id, result, us_in=us_in, us_out=us_out, testnet=self.config.testnet
        )

    def _encode_error(
        self,
        wire_id: RequestId | None,
        code: int,
        message: str,
        data: Any,
        *,
        received_at: float,
        now: float,
    ) -> bytes:
        us_in, us_out = self._times(received_at, now)
        return encode_error(
            wire_id, code, message, data, us_in=us_in, us_out=us_out, testnet=self.config.testnet
        )

    def _answer(self, wire_id: RequestId | None, result: Any, now: float) -> None:
        """A result computed on arrival (``usIn`` = ``usOut`` = ``now``)."""
        self._write(
            self._encode_result(Pending(wire_id=wire_id, received_at=now), result, now),
            is_error=False,
        )

    def _fail(self, wire_id: RequestId | None, problem: DeribitError, now: float) -> None:
        body = self._encode_error(
            wire_id, problem.code, problem.message, problem.data, received_at=now, now=now
        )
        self._write(body, is_error=True)

    # -- one request ------------------------------------------------------------------------

    def _pool(self, principal: Principal | None) -> str:
        if principal is not None:
            return f"account:{principal.account_id}"
        return f"ip:{self._ip}" if self._ip is not None else f"connection:{self.connection_id}"

    def _charge(
        self,
        principal: Principal | None,
        rate_class: RateClass,
        wire_id: RequestId | None,
        now: float,
    ) -> bool:
        """Take the request's credits; on an empty pool answer 10028 and end the connection."""
        if self.state.charge(self._pool(principal), rate_class, now):
            return True
        self._fail(wire_id, error(ErrorCode.TOO_MANY_REQUESTS), now)
        self._rate_limited()
        return False

    def _reject(
        self,
        principal: Principal | None,
        wire_id: RequestId | None,
        problem: DeribitError,
        now: float,
    ) -> None:
        """Charge a message that is not a valid request, then answer its error."""
        if self._charge(principal, RateClass.NON_MATCHING, wire_id, now):
            self._fail(wire_id, problem, now)

    def _decode(
        self,
        command_type: type[DeribitCommand] | None,
        method: str,
        params: Params,
        wire_id: RequestId | None,
    ) -> DeribitCommand | GenericRequest:
        if command_type is not None:
            if isinstance(params, tuple):
                return decode_query_params(command_type, params, request_id=wire_id)
            return decode_params(command_type, params, request_id=wire_id)
        if isinstance(params, tuple):
            values: dict[str, Any] = dict(params)
        else:
            values = _GENERIC_PARAMS.decode(params) if params else {}
        return GenericRequest(method=method, params=values)

    def _principal(self, command: DeribitCommand | GenericRequest, now: float) -> Principal | None:
        if isinstance(command, GenericRequest):
            raw = command.params.get("access_token")
            token = raw if isinstance(raw, str) else None
        else:
            secret = command.access_token
            token = secret.reveal() if secret is not None else None
        if token is None:
            return self._session_principal(now)
        record = self.state.find_access(token, now, self.connection_id, self._ip)
        return token_principal(record) if record is not None else None

    def _dispatch(
        self,
        wire_id: RequestId | None,
        method: str,
        params: Params,
        now: float,
        *,
        header: Principal | None = None,
    ) -> None:
        """Take one well-formed request from method lookup to its answer or event."""
        command_type = command_type_for(method)
        if command_type is None and method not in self.config.extra_methods:
            problem = error(ErrorCode.METHOD_NOT_FOUND)
            return self._reject(header or self._session_principal(now), wire_id, problem, now)
        if command_type is not None and command_type.ws_only and self.transport == "http":
            problem = error(ErrorCode.MUST_BE_WEBSOCKET_REQUEST)
            return self._reject(header, wire_id, problem, now)
        try:
            command = self._decode(command_type, method, params, wire_id)
        except (RejectedRequest, msgspec.DecodeError) as exc:
            problem = (
                exc.error if isinstance(exc, RejectedRequest) else error(ErrorCode.INVALID_PARAMS)
            )
            return self._reject(header or self._session_principal(now), wire_id, problem, now)
        principal = header if header is not None else self._principal(command, now)
        rate_class = command_type.rate_class if command_type else RateClass.NON_MATCHING
        if not self._charge(principal, rate_class, wire_id, now):
            return None
        needs_auth = command_type.requires_auth if command_type else method.startswith("private/")
        if needs_auth and principal is None:
            return self._fail(wire_id, unauthorized(), now)
        handler = self._local.get(type(command))
        if handler is not None:
            return handler(command, wire_id, principal, now)
        return self._forward(command, wire_id, principal, now)

    def _forward(
        self,
        command: DeribitCommand | GenericRequest,
        wire_id: RequestId | None,
        principal: Principal | None,
        now: float,
        *,
        candidates: tuple[str, ...] | None = None,
        label: str | None = None,
        event_type: type[RequestReceived] = RequestReceived,
    ) -> None:
        """Hold the request for the venue and tell it (:class:`RequestReceived`)."""
        if len(self._pending) >= self.config.max_pending_requests:
            return self._fail(wire_id, error(ErrorCode.TOO_MANY_CONCURRENT_REQUESTS), now)
        handle = self._next_handle
        self._next_handle += 1
        self._pending[handle] = Pending(
            wire_id=wire_id,
            received_at=now,
            candidates=frozenset(candidates) if candidates is not None else None,
            label=label,
        )
        fields: dict[str, Any] = {"channels": candidates} if candidates is not None else {}
        self._events.append(
            event_type(
                request_id=handle,
                wire_id=wire_id,
                command=command,
                connection_id=self.connection_id,
                transport=self.transport,
                client_id=principal.client_id if principal else None,
                account_id=principal.account_id if principal else None,
                scope=principal.scope if principal else None,
                received_at=now,
                **fields,
            )
        )
        return None

    # -- session methods answered here ----------------------------------------------------

    def _granted(self, outcome: Any, wire_id: RequestId | None, now: float) -> None:
        if isinstance(outcome, DeribitError):
            return self._fail(wire_id, outcome, now)
        record, result = outcome
        self._authenticated(record, now)
        return self._answer(wire_id, result, now)

    def _token_args(self) -> dict[str, Any]:
        return {
            "connection_id": self.connection_id,
            "ip": self._ip,
            "bind": self.transport == "websocket",
        }

    def _on_auth(self, command: Any, wire_id: RequestId | None, _: Any, now: float) -> None:
        outcome = authenticate(self.state, command, now=now, **self._token_args())
        self._granted(outcome, wire_id, now)

    def _on_exchange_token(
        self, command: Any, wire_id: RequestId | None, _: Any, now: float
    ) -> None:
        outcome = exchange_token(self.state, command, now=now, **self._token_args())
        self._granted(outcome, wire_id, now)

    def _on_fork_token(self, command: Any, wire_id: RequestId | None, _: Any, now: float) -> None:
        outcome = fork_token(self.state, command, now=now, **self._token_args())
        self._granted(outcome, wire_id, now)

    def _on_test(self, command: Test, wire_id: RequestId | None, _: Any, now: float) -> None:
        if command.expected_result == "exception":
            return self._fail(wire_id, error(11094), now)
        return self._answer(wire_id, VersionResult(version=self.config.version), now)

    def _on_get_time(self, _: Any, wire_id: RequestId | None, __: Any, now: float) -> None:
        self._answer(wire_id, self.state.epoch_ms(now), now)

    def _on_cod(self, command: Any, wire_id: RequestId | None, principal: Any, now: float) -> None:
        assert isinstance(principal, Principal)  # the COD methods need auth
        scope = command.scope or "connection"
        enabled: bool | None = None
        if isinstance(command, EnableCancelOnDisconnect):
            enabled = True
        elif isinstance(command, DisableCancelOnDisconnect):
            enabled = False
        if scope == "account":
            if enabled is not None:
                self.state.set_cod_default(principal.account_id, enabled)
                self._connection_cod(enabled, principal)
            state = self.state.cod_default(principal.account_id)
        else:
            flag = self._connection_cod(enabled, principal)
            if flag is None:
                return self._fail(wire_id, error(ErrorCode.MUST_BE_WEBSOCKET_REQUEST), now)
            state = flag
        if isinstance(command, GetCancelOnDisconnect):
            return self._answer(wire_id, CancelOnDisconnectState(scope=scope, enabled=state), now)
        return self._answer(wire_id, "ok", now)
