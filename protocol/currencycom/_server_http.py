"""The venue side over REST (spec 4.4): the same requests as over WebSocket, the same
events, on the same port.

:class:`HTTPServerProtocol` turns one :class:`~tradewire.protocol.HTTPRequestReceived`
into a :class:`RequestReceived` (``transport="http"``) the venue answers with the same
``send(Reply(...))`` / ``send(ReplyError(...))``; :class:`HTTPServerConnection` wires it
to an :class:`~tradewire.protocol.HTTPServerStack` in the shape bindings' ``serve()``
drive (and the ``http`` side of ``route_upgrade``).

Routes (under ``/api/v1`` and ``/api/v2``): ``GET time``, ``exchangeInfo``, ``depth``,
``ticker/24hr``, ``klines``, ``aggTrades``; signed: ``GET currencies``, ``account``,
``openOrders``, ``myTrades``, ``tradingPositions``, ``leverageSettings``, ``POST order``
(``order/create``), ``DELETE order`` (``order/cancel``), ``POST
closeTradingPosition``.

Signed requests (spec 4.4, 5): the ``X-MBX-APIKEY`` header, ``timestamp`` (and an
optional ``recvWindow``, at most 60000) in the parameters, and ``signature`` = hex
HMAC-SHA256 of the query string as sent (then the form body, if any) without the
``signature`` parameter, compared in constant time.  Errors are ``{"code", "msg"}``
bodies, status 400 (429 for -1003, 404 for an unknown path; our choices after Binance's
conventions, spec 2.4).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import msgspec

from .._bounded import BoundedQueue
from .._errors import LocalProtocolError
from .._events import Command, Event
from .._sources import RequestId
from ..session import Disconnect, HTTPProtocolConnection, PendingTable, Reply, ReplyError
from ..transport._http import HTTPRequestReceived
from ..transport._http_server import HTTPServerStack
from ._server import PRIVATE, PUBLIC, rate_keys
from ._server_events import RequestReceived
from ._server_state import ServerState

__all__ = ["HTTPAnswer", "HTTPServerConnection", "HTTPServerProtocol", "rest_name"]

_ENCODE = msgspec.json.Encoder().encode
_SIGNING = ("timestamp", "recvWindow", "signature")


class HTTPAnswer(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def rest_name(method: str, path: str) -> str | None:
    """The WebSocket name of REST ``method path`` (``POST order`` -> ``order/create``)."""
    if path == "order":
        return {"POST": "order/create", "DELETE": "order/cancel", "GET": "fetchOrder"}.get(method)
    if path in PUBLIC or path in PRIVATE:
        return path
    return None


class HTTPServerProtocol:
    """The venue side of one HTTP connection, request by request."""

    def __init__(self, state: ServerState, *, peer: str | None = None) -> None:
        self.state = state
        self.connection_id = state.new_connection_id()
        self.peer = peer
        self.held = PendingTable(state.config.max_pending)
        self._events: BoundedQueue[Event] = BoundedQueue("event queue", 10_000, "events")
        self._response: HTTPAnswer | None = None
        self._waiting = False
        self._open = False
        self.close_requested = False

    @property
    def waiting(self) -> bool:
        return self._waiting

    def events(self) -> list[Event]:
        return self._events.drain()

    def connection_made(self, now: float) -> None:
        self._open = True

    def connection_lost(self, now: float) -> None:
        self._open = False
        self._waiting = False
        self._response = None

    def take_response(self) -> HTTPAnswer | None:
        answer, self._response = self._response, None
        return answer

    def handle_request(self, request: HTTPRequestReceived, now: float) -> None:
        if not self._open:
            raise LocalProtocolError("handle_request: the connection is not open")
        self._events.ensure_room()
        self._waiting = True
        path = request.path
        version = ""
        for prefix in ("/api/v1/", "/api/v2/"):
            if path.startswith(prefix):
                version, path = prefix[5:7], path[len(prefix) :]
                break
        name = rest_name(request.method, path) if version else None
        if name is None:
            return self._error(404, -1020, "This operation is not supported.")
        query = request.target.partition("?")[2]
        body = request.body.decode("utf-8", "replace") if request.body else ""
        form = parse_qsl(body, keep_blank_values=True) if body and not body.startswith("{") else []
        params: dict[str, Any] = {}
        for key, value in (*request.query, *form):
            params[key] = value
        account: str | None = None
        pool = f"http:{request.peer or self.connection_id}"
        if name in PRIVATE or name == "currencies":
            api_key = request.header("x-mbx-apikey")
            text = _without_signature(query)
            if form:
                text = f"{text}&{_without_signature(body)}" if text else _without_signature(body)
            check = self.state.check_query(api_key, text, params.get("signature"), params, now)
            if check.code is not None:
                return self._error(400, check.code, check.message)
            account = check.account
            pool = f"key:{api_key}"
        if not self.state.charge(pool, rate_keys(name), now):
            return self._error(429, -1003, "Too many requests.")
        handle = self.held.hold(None, now)
        self._events.append(
            RequestReceived(
                connection_id=self.connection_id,
                request_id=handle,
                name=name,
                version=version,
                params={k: v for k, v in params.items() if k not in _SIGNING},
                account=account,
                transport="http",
            )
        )
        return None

    # -- the venue's side -------------------------------------------------------------------

    def send(self, command: Command, now: float) -> RequestId | None:
        if isinstance(command, Reply):
            self.held.get(command.request_id, "reply")
            self.held.take(command.request_id)
            self._respond(200, _ENCODE(command.result))
        elif isinstance(command, ReplyError):
            self.held.get(command.request_id, "reply_error")
            self.held.take(command.request_id)
            status = 429 if command.code == -1003 else 400
            self._respond(status, _ENCODE({"code": command.code, "msg": command.message or ""}))
        elif isinstance(command, Disconnect):
            self.close_requested = True
        else:
            raise LocalProtocolError(
                f"invalid command: {type(command).__name__}; REST takes Reply, ReplyError "
                "or Disconnect"
            )
        return None

    def _error(self, status: int, code: int, message: str) -> None:
        self._respond(status, _ENCODE({"code": code, "msg": message}))

    def _respond(self, status: int, body: bytes) -> None:
        if not self._open or not self._waiting:
            return
        headers: list[tuple[str, str]] = [("Content-Type", "application/json")]
        if self.close_requested:
            headers.append(("Connection", "close"))
        self._response = HTTPAnswer(status=status, headers=tuple(headers), body=body)
        self._waiting = False


def _without_signature(query: str) -> str:
    return "&".join(p for p in query.split("&") if p and not p.startswith("signature="))


class HTTPServerConnection(HTTPProtocolConnection):
    """One HTTP connection of the venue (REST on the WebSocket's port): an
    :class:`HTTPServerStack` driven by an :class:`HTTPServerProtocol`."""

    protocol: HTTPServerProtocol

    def __init__(self, state: ServerState, *, peer: str | None = None) -> None:
        stack = HTTPServerStack(
            max_body_size=max(64 * 1024, state.config.max_message_size),
            max_header_size=16 * 1024,
            idle_timeout=60.0,
            request_timeout=10.0,
            peer=peer,
        )
        super().__init__(HTTPServerProtocol(state, peer=peer), stack, peer=peer)
