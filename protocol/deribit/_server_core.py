"""The path of one Deribit request through the venue side, whatever the transport.

:class:`DeribitRequests` is shared by the WebSocket machine (:class:`ServerProtocol`) and
the HTTP adapter (:class:`HTTPServerProtocol`); each gives it a :class:`Link`, the few
things that differ by transport (who the connection is authenticated as, what a token
grant binds to, how the connection ends after 10028, whether cancel-on-disconnect has a
connection scope) and the table of requests held for the venue.

A request goes: method lookup (-32601; 10030 for a WebSocket-only method over HTTP),
params (-32602 / -32000 naming the param), who is asking (the connection's token, the
request's ``access_token``, or an HTTP ``Authorization`` header), credits (10028), auth
(13009 with ``{"reason": "invalid_token"}``), then either a session method answered here
or a :class:`RequestReceived` for the venue.  Every request not answered here is held
until the venue answers it exactly once; answering twice or an unknown ``request_id`` is
a :class:`LocalProtocolError`.

Credits (spec 7.3): every message is charged, before its errors are answered, by its
method's rate class (the default class when the method is unknown or the message is
not a request) against the pool of the asking (sub-)account, or of the peer IP when
unauthenticated (of the connection when the IP is unknown).  An empty pool answers 10028
``too_many_requests`` and ends the connection, once the requests held before it are
answered (the link decides how).

More than ``max_pending_requests`` requests unanswered by the venue on one connection
get 10066 ``too_many_concurrent_requests``, Deribit's code for too many requests in
flight.  An invalid ``access_token`` param is an error only for a method that needs auth;
elsewhere the request is simply unauthenticated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Protocol

import msgspec

from .._errors import LocalProtocolError
from .._events import Event
from .._sources import RequestId
from ..session import PendingTable
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
from ._server_config import IssuedToken
from ._server_events import RequestReceived, Transport
from ._server_state import ServerState
from ._wire_server import (
    RejectedRequest,
    decode_params,
    decode_query_params,
    encode_error,
    encode_notification,
    encode_result,
)

__all__ = ["DeribitRequests", "Link", "Params", "ServerCodec"]

Params = msgspec.Raw | bytes | tuple[tuple[str, str], ...]
"""Request params as they arrived: raw JSON (WebSocket, POST) or query pairs (GET)."""

Handler = Callable[[Any, RequestId | None, Principal | None, float], None]
LinkHandler = Callable[[Any, Any, RequestId | None, Principal | None, float], None]
"""A request answered by the link itself (a WebSocket connection's heartbeat and
subscriptions): called with the link, the command, its id, the principal and ``now``.
The tables of these are per class, not per connection: a connection keeps no bound
method for them (thousands of idle connections are thousands fewer objects for the
garbage collector to walk)."""
NO_LINK_HANDLERS: Mapping[type[Any], LinkHandler] = MappingProxyType({})

_GENERIC_PARAMS = msgspec.json.Decoder(dict[str, Any])


class Link(Protocol):
    """What :class:`DeribitRequests` needs from the transport it serves."""

    transport: Transport
    connection_id: int
    held: PendingTable

    @property
    def ip(self) -> str | None: ...

    def write(self, body: bytes, *, is_error: bool) -> None:
        """Queue one answer (WebSocket: a message; HTTP: the response)."""

    def emit(self, event: Event) -> None: ...

    def session_principal(self, now: float) -> Principal | None:
        """Who the connection itself is authenticated as (WebSocket only)."""

    def authenticated(self, record: IssuedToken, now: float) -> None:
        """A token method succeeded on this connection (WebSocket: it now acts as it)."""

    def rate_limited(self, body: bytes, now: float) -> None:
        """The pool is empty: send ``body`` (the 10028 error) and end the connection."""

    def connection_cod(self, enabled: bool | None, principal: Principal) -> bool | None:
        """Set (``enabled`` not ``None``) and return this connection's COD flag;
        ``None`` when the transport has no connection scope (HTTP)."""


class ServerCodec:
    """Deribit's server codec for the session layer: ``usIn`` / ``usOut`` from the state's
    epoch clock, ``testnet`` from its config, notifications with their label."""

    __slots__ = ("state",)

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def _times(self, received_at: float, now: float) -> tuple[int, int]:
        us_in = self.state.epoch_us(received_at)
        return us_in, max(us_in, self.state.epoch_us(now))

    def encode_result(
        self, wire_id: RequestId | None, result: Any, *, received_at: float, now: float
    ) -> bytes:
        us_in, us_out = self._times(received_at, now)
        return encode_result(
            wire_id, result, us_in=us_in, us_out=us_out, testnet=self.state.config.testnet
        )

    def encode_error(
        self,
        wire_id: RequestId | None,
        code: int | str,
        message: str,
        data: Any,
        *,
        received_at: float,
        now: float,
    ) -> bytes:
        assert isinstance(code, int)
        us_in, us_out = self._times(received_at, now)
        return encode_error(
            wire_id,
            code,
            message,
            data,
            us_in=us_in,
            us_out=us_out,
            testnet=self.state.config.testnet,
        )

    def encode_notification(self, topic: str, data: Any, meta: Any) -> bytes:
        """A label (from ``private/subscribe``) is sent on ``user.*`` channels only."""
        label = meta if topic.startswith("user.") else None
        return encode_notification(topic, data, label=label)


def error_parts(error_or_code: DeribitError | int, data: Any) -> tuple[int, str, Any]:
    """``(code, message, data)`` for ``reply_error``: a :class:`DeribitError` as it is, or
    a code with its message from :data:`ERROR_MESSAGES`."""
    if isinstance(error_or_code, DeribitError):
        code = error_or_code.code
        assert isinstance(code, int)
        return code, error_or_code.message, error_or_code.data if data is None else data
    if isinstance(error_or_code, int) and not isinstance(error_or_code, bool):
        return error_or_code, ERROR_MESSAGES.get(error_or_code, "error"), data
    raise LocalProtocolError(
        f"invalid error_or_code: expected a DeribitError or an int, got {error_or_code!r}"
    )


class DeribitRequests:
    """One Deribit request's path, on a :class:`Link` (see the module docstring)."""

    def __init__(
        self,
        state: ServerState,
        link: Link,
        *,
        codec: ServerCodec | None = None,
        link_handlers: Mapping[type[Any], LinkHandler] = NO_LINK_HANDLERS,
    ) -> None:
        self.state = state
        self.config = state.config
        self.codec = codec if codec is not None else ServerCodec(state)
        self.link = link
        self.link_handlers = link_handlers

    # -- answers ------------------------------------------------------------------------

    def answer(self, wire_id: RequestId | None, result: Any, now: float) -> None:
        """A result computed on arrival (``usIn`` = ``usOut`` = ``now``)."""
        body = self.codec.encode_result(wire_id, result, received_at=now, now=now)
        self.link.write(body, is_error=False)

    def fail(self, wire_id: RequestId | None, problem: DeribitError, now: float) -> None:
        self.link.write(self.error_body(wire_id, problem, now), is_error=True)

    def error_body(self, wire_id: RequestId | None, problem: DeribitError, now: float) -> bytes:
        code = problem.code
        assert isinstance(code, int)
        return self.codec.encode_error(
            wire_id, code, problem.message, problem.data, received_at=now, now=now
        )

    # -- one request ------------------------------------------------------------------------

    def pool(self, principal: Principal | None) -> str:
        if principal is not None:
            return f"account:{principal.account_id}"
        ip = self.link.ip
        return f"ip:{ip}" if ip is not None else f"connection:{self.link.connection_id}"

    def charge(
        self,
        principal: Principal | None,
        rate_class: RateClass,
        wire_id: RequestId | None,
        now: float,
    ) -> bool:
        """Take the request's credits; on an empty pool answer 10028 and end the connection."""
        if self.state.charge(self.pool(principal), rate_class, now):
            return True
        body = self.error_body(wire_id, error(ErrorCode.TOO_MANY_REQUESTS), now)
        self.link.rate_limited(body, now)
        return False

    def reject(
        self,
        principal: Principal | None,
        wire_id: RequestId | None,
        problem: DeribitError,
        now: float,
    ) -> None:
        """Charge a message that is not a valid request, then answer its error."""
        if self.charge(principal, RateClass.NON_MATCHING, wire_id, now):
            self.fail(wire_id, problem, now)

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
            return self.link.session_principal(now)
        record = self.state.find_access(token, now, self.link.connection_id, self.link.ip)
        return token_principal(record) if record is not None else None

    def dispatch(
        self,
        wire_id: RequestId | None,
        method: str,
        params: Params,
        now: float,
        *,
        header: Principal | None = None,
    ) -> None:
        """Take one well-formed request from method lookup to its answer or event."""
        link = self.link
        command_type = command_type_for(method)
        if command_type is None and method not in self.config.extra_methods:
            problem = error(ErrorCode.METHOD_NOT_FOUND)
            return self.reject(header or link.session_principal(now), wire_id, problem, now)
        if command_type is not None and command_type.ws_only and link.transport == "http":
            problem = error(ErrorCode.MUST_BE_WEBSOCKET_REQUEST)
            return self.reject(header, wire_id, problem, now)
        try:
            command = self._decode(command_type, method, params, wire_id)
        except (RejectedRequest, msgspec.DecodeError) as exc:
            problem = (
                exc.error if isinstance(exc, RejectedRequest) else error(ErrorCode.INVALID_PARAMS)
            )
            return self.reject(header or link.session_principal(now), wire_id, problem, now)
        principal = header if header is not None else self._principal(command, now)
        rate_class = command_type.rate_class if command_type else RateClass.NON_MATCHING
        if not self.charge(principal, rate_class, wire_id, now):
            return None
        needs_auth = command_type.requires_auth if command_type else method.startswith("private/")
        if needs_auth and principal is None:
            return self.fail(wire_id, unauthorized(), now)
        kind = type(command)
        on_link = self.link_handlers.get(kind)
        if on_link is not None:
            return on_link(self.link, command, wire_id, principal, now)
        handler = _OWN_HANDLERS.get(kind)
        if handler is not None:
            return handler(self, command, wire_id, principal, now)
        return self.forward(command, wire_id, principal, now)

    def forward(
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
        held = self.link.held
        if not held.can_hold():
            return self.fail(wire_id, error(ErrorCode.TOO_MANY_CONCURRENT_REQUESTS), now)
        handle = held.hold(wire_id, now, candidates=candidates, meta=label)
        fields: dict[str, Any] = {"channels": candidates} if candidates is not None else {}
        self.link.emit(
            event_type(
                request_id=handle,
                wire_id=wire_id,
                command=command,
                connection_id=self.link.connection_id,
                transport=self.link.transport,
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
            return self.fail(wire_id, outcome, now)
        record, result = outcome
        self.link.authenticated(record, now)
        return self.answer(wire_id, result, now)

    def _token_args(self) -> dict[str, Any]:
        return {
            "connection_id": self.link.connection_id,
            "ip": self.link.ip,
            "bind": self.link.transport == "websocket",
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
            return self.fail(wire_id, error(11094), now)
        return self.answer(wire_id, VersionResult(version=self.config.version), now)

    def _on_get_time(self, _: Any, wire_id: RequestId | None, __: Any, now: float) -> None:
        self.answer(wire_id, self.state.epoch_ms(now), now)

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
                self.link.connection_cod(enabled, principal)
            state = self.state.cod_default(principal.account_id)
        else:
            flag = self.link.connection_cod(enabled, principal)
            if flag is None:
                return self.fail(wire_id, error(ErrorCode.MUST_BE_WEBSOCKET_REQUEST), now)
            state = flag
        if isinstance(command, GetCancelOnDisconnect):
            return self.answer(wire_id, CancelOnDisconnectState(scope=scope, enabled=state), now)
        return self.answer(wire_id, "ok", now)


_OWN_HANDLERS: dict[type[Any], Callable[..., None]] = {
    AuthClientCredentials: DeribitRequests._on_auth,
    AuthClientSignature: DeribitRequests._on_auth,
    AuthRefreshToken: DeribitRequests._on_auth,
    ExchangeToken: DeribitRequests._on_exchange_token,
    ForkToken: DeribitRequests._on_fork_token,
    Test: DeribitRequests._on_test,
    GetTime: DeribitRequests._on_get_time,
    EnableCancelOnDisconnect: DeribitRequests._on_cod,
    DisableCancelOnDisconnect: DeribitRequests._on_cod,
    GetCancelOnDisconnect: DeribitRequests._on_cod,
}
"""The requests answered here, whatever the transport (see ``LinkHandler`` for those a
WebSocket link answers itself, which come first)."""
