"""The Deribit venue side over HTTP (spec 1.3, 2.1, 2.3): same requests, same events.

:class:`HTTPServerProtocol` turns one :class:`~tradewire.protocol.HTTPRequestReceived`
into what a WebSocket request gives: a session method answered here, an error, or a
:class:`RequestReceived` (``transport="http"``) the venue answers with the same
``send(Reply(...))`` / ``reply(...)``; the answer comes out of :meth:`take_response` as an
:class:`HTTPAnswer`.  :class:`HTTPServerConnection` wires it to an
:class:`~tradewire.protocol.HTTPServerStack`, giving the connection shape that bindings'
``serve()`` drive (and the ``http`` side of ``route_upgrade``), so a venue handles
WebSocket and HTTP connections with one ``on_events``.

Routes:

* ``GET /api/v2/{public|private}/{name}?k=v``: params from the query string (spec 1.3,
  what ccxt and the doc examples use); the response has no ``id``;
* ``POST /api/v2``, ``/api/v2/`` or ``/api/v2/{public|private}/{name}`` with a JSON-RPC
  body; a path naming a method must name the body's (else 11050).

Authentication: an ``Authorization`` header (``Bearer`` in any case, ``Basic``,
``deri-hmac-sha256`` verified over the raw target and body, spec 2.3) or an
``access_token`` param; a header that fails is answered with its error even on a public
method.  WebSocket-only methods get 10030 ``must_be_websocket_request``.  Tokens from
``public/auth`` over HTTP are bound to no connection (see :mod:`._server_auth`).
Cancel-on-disconnect over HTTP takes ``scope: "account"`` only (10030 otherwise).

Our choices where the spec is silent: results are 200 and errors
``ServerConfig.http_error_status`` (400; ccxt maps ``error.code`` and ignores the
status); a path outside ``/api/v2`` is 404 and an HTTP method other than GET and POST
405, both with a JSON-RPC error body (-32601 and 11050); a connection over the per-IP
limit (spec 7.2; counted while the TCP connection is open) gets 429 to its first request
and is closed, as is a connection whose credits ran out (10028 with ``Connection:
close``).  Bodies up to twice ``max_message_size`` reach the decoder (-32600 over
32 kB, as spec 1.2 says); larger ones get the stack's 413.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._bounded import BoundedQueue
from .._errors import LocalProtocolError
from .._events import Command, Event
from .._sources import RequestId
from ..session import (
    AcceptSubscription,
    Disconnect,
    HTTPProtocolConnection,
    Notify,
    PendingTable,
    Reply,
    ReplyError,
)
from ..transport._http import HTTPRequestReceived
from ..transport._http_server import HTTPServerStack
from ._errors import DeribitError, ErrorCode
from ._limits import RateClass
from ._server_auth import Principal, error, http_principal
from ._server_config import IssuedToken, peer_ip
from ._server_core import DeribitRequests, error_parts
from ._server_events import Transport
from ._server_state import ServerState
from ._wire_server import RejectedRequest, decode_request

__all__ = ["API_ROOT", "HTTPAnswer", "HTTPServerConnection", "HTTPServerProtocol"]

API_ROOT = "/api/v2"

Headers = tuple[tuple[str, str], ...]


class HTTPAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A response to pass to :meth:`HTTPServerStack.respond`."""

    status: int
    headers: Headers
    body: bytes

    @property
    def closes(self) -> bool:
        """The connection closes after this response."""
        return any(n.lower() == "connection" and v == "close" for n, v in self.headers)


class HTTPServerProtocol:
    """The venue side of one HTTP connection, request by request (module docstring).

    The request path is :class:`~._server_core.DeribitRequests`, shared with the
    WebSocket machine; this class is its :class:`~._server_core.Link` for HTTP: no
    connection-scoped authentication or cancel-on-disconnect, an answer is the response.
    """

    transport: Transport = "http"

    def __init__(self, state: ServerState, *, peer: str | None = None) -> None:
        self.state = state
        self.config = state.config
        self.connection_id = state.new_connection_id()
        self.peer = peer
        self._ip = peer_ip(peer)
        self.held = PendingTable(self.config.max_pending_requests)
        self._events: BoundedQueue[Event] = BoundedQueue(
            "event queue", self.config.max_events, "events"
        )
        self.requests = DeribitRequests(state, self)
        self._open = False
        self._lost = False
        self._counted = False
        self._refused = False
        self._waiting = False
        self._response: HTTPAnswer | None = None
        self._close_after = False

    @property
    def ip(self) -> str | None:
        return self._ip

    @property
    def pending_requests(self) -> int:
        """Requests handed to the venue and not answered yet."""
        return len(self.held)

    def events(self) -> list[Event]:
        """Drain queued events, oldest first."""
        return self._events.drain()

    @property
    def waiting(self) -> bool:
        """A request has arrived and its response is not ready yet."""
        return self._waiting

    @property
    def close_requested(self) -> bool:
        """The connection should close (after the response in progress, if any)."""
        return self._close_after

    def connection_made(self, now: float) -> None:
        """Count the connection against its peer address (spec 7.2)."""
        if self._open or self._lost:
            raise LocalProtocolError("connection_made: already called (one per connection)")
        self._open = True
        self._counted = self.state.acquire_connection(self._ip)
        self._refused = not self._counted

    def connection_lost(self, now: float) -> None:
        if self._lost:
            return
        self._lost = True
        self._open = False
        self._waiting = False
        self._response = None
        if self._counted:
            self._counted = False
            self.state.release_connection(self._ip)

    def take_response(self) -> HTTPAnswer | None:
        """The finished response to the current request, once (``None`` if not ready)."""
        answer, self._response = self._response, None
        return answer

    def handle_request(self, request: HTTPRequestReceived, now: float) -> None:
        """One request: answered here (see :meth:`take_response`) or an event."""
        if not self._open:
            raise LocalProtocolError("handle_request: the connection is not open")
        if self._waiting or self._response is not None:
            raise LocalProtocolError(
                "handle_request: the previous request is not answered (take_response) yet"
            )
        self._events.ensure_room()
        self._waiting = True
        if self._refused:
            self._close_after = True
            return self._respond(429, b"too many connections from this address\n", "text/plain")
        path = request.path
        if path == API_ROOT or path == API_ROOT + "/":
            name = ""
        elif path.startswith(API_ROOT + "/"):
            name = path[len(API_ROOT) + 1 :]
        else:
            return self._route_error(404, error(ErrorCode.METHOD_NOT_FOUND), now)
        if request.method == "GET":
            return self._finish(request, None, name, tuple(request.query), now)
        if request.method != "POST":
            problem = error(ErrorCode.BAD_REQUEST, "unsupported HTTP method: use GET or POST")
            return self._route_error(405, problem, now)
        try:
            rpc = decode_request(request.body, max_size=self.config.max_message_size)
        except RejectedRequest as rejected:
            return self.requests.reject(None, rejected.request_id, rejected.error, now)
        if name and rpc.method != name:
            problem = error(ErrorCode.BAD_REQUEST, "method does not match the path")
            return self.requests.reject(None, rpc.id, problem, now)
        return self._finish(request, rpc.id, rpc.method, rpc.params, now)

    def _finish(
        self,
        request: HTTPRequestReceived,
        wire_id: RequestId | None,
        method: str,
        params: Any,
        now: float,
    ) -> None:
        header = http_principal(
            self.state, request, now=now, connection_id=self.connection_id, ip=self._ip
        )
        if isinstance(header, DeribitError):
            return self.requests.reject(None, wire_id, header, now)
        return self.requests.dispatch(wire_id, method, params, now, header=header)

    # -- the venue's side -------------------------------------------------------------------

    def send(self, command: Command, now: float) -> RequestId | None:
        """Carry out a venue command (:class:`Reply`, :class:`ReplyError`,
        :class:`Disconnect`); returns ``None``."""
        if isinstance(command, Reply):
            self.reply(command.request_id, command.result, now)
        elif isinstance(command, ReplyError):
            code = command.code
            if not isinstance(code, int):
                raise LocalProtocolError(
                    f"invalid code: expected an int Deribit error code, got {code!r}"
                )
            self.reply_error(
                command.request_id, code, now, data=command.data, message=command.message
            )
        elif isinstance(command, AcceptSubscription | Notify):
            raise LocalProtocolError(
                f"{type(command).__name__}: http has no subscriptions (spec 3.1)"
            )
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
        pending = self.held.get(request_id, "reply")
        body = self.requests.codec.encode_result(
            pending.wire_id, result, received_at=pending.received_at, now=now
        )
        self.held.take(request_id)
        self.write(body, is_error=False)

    def reply_error(
        self,
        request_id: int,
        error_or_code: DeribitError | int,
        now: float,
        data: Any = None,
        *,
        message: str | None = None,
    ) -> None:
        """Answer ``request_id`` with an error (see ``ServerProtocol.reply_error``)."""
        code, text, data = error_parts(error_or_code, data)
        pending = self.held.get(request_id, "reply_error")
        body = self.requests.codec.encode_error(
            pending.wire_id, code, message or text, data, received_at=pending.received_at, now=now
        )
        self.held.take(request_id)
        self.write(body, is_error=True)

    def accept_subscription(self, request_id: int, channels: Any, now: float) -> list[str]:
        raise LocalProtocolError("accept_subscription: http has no subscriptions (spec 3.1)")

    def notify(self, channel: str, data: Any, now: float) -> bool:
        raise LocalProtocolError("notify: http has no subscriptions (spec 3.1)")

    def disconnect(
        self, now: float, *, code: int = 1000, reason: str = "", abort: bool = False
    ) -> None:
        """Close the connection after the response in progress (or at once)."""
        self._close_after = True

    # -- the Link for DeribitRequests -------------------------------------------------------

    def emit(self, event: Event) -> None:
        self._events.append(event)

    def session_principal(self, now: float) -> Principal | None:
        return None  # HTTP has no connection-scoped authentication

    def authenticated(self, record: IssuedToken, now: float) -> None:
        pass  # a token from public/auth over HTTP is bound to no connection

    def connection_cod(self, enabled: bool | None, principal: Principal) -> bool | None:
        return None  # no connection scope over HTTP

    # -- responses ----------------------------------------------------------------------------

    def _respond(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        headers: list[tuple[str, str]] = [("Content-Type", content_type)]
        if self._close_after:
            headers.append(("Connection", "close"))
        self._response = HTTPAnswer(status=status, headers=tuple(headers), body=body)
        self._waiting = False

    def write(self, body: bytes, *, is_error: bool) -> None:
        if not self._open or not self._waiting:
            return  # the connection is gone: a late answer is dropped
        self._respond(self.config.http_error_status if is_error else 200, body)

    def _route_error(self, status: int, problem: DeribitError, now: float) -> None:
        if self.requests.charge(None, RateClass.NON_MATCHING, None, now):
            self._respond(status, self.requests.error_body(None, problem, now))

    def rate_limited(self, body: bytes, now: float) -> None:
        """10028: the error is the response, and the connection closes after it."""
        self._close_after = True
        self.write(body, is_error=True)
        answer = self._response
        if answer is not None and not answer.closes:
            self._response = HTTPAnswer(
                status=answer.status,
                headers=(*answer.headers, ("Connection", "close")),
                body=answer.body,
            )

    def __repr__(self) -> str:
        return (
            f"HTTPServerProtocol(connection_id={self.connection_id}, peer={self.peer!r}, "
            f"waiting={self._waiting})"
        )


class HTTPServerConnection(HTTPProtocolConnection):
    """One HTTP connection of the venue: an :class:`HTTPServerStack` driven by an
    :class:`HTTPServerProtocol`, in the bytes-in / bytes-out shape of a server stack.

    The venue reads :class:`RequestReceived` from :meth:`events` and answers with
    :meth:`send` (:class:`Reply` / :class:`ReplyError`), as on a WebSocket.  Bodies up to
    twice ``max_message_size`` reach the decoder (it answers -32600 past the limit).
    """

    protocol: HTTPServerProtocol

    def __init__(
        self,
        state: ServerState,
        *,
        peer: str | None = None,
        max_header_size: int = 16 * 1024,
        idle_timeout: float = 60.0,
        request_timeout: float = 10.0,
    ) -> None:
        stack = HTTPServerStack(
            max_body_size=max(64 * 1024, 2 * state.config.max_message_size),
            max_header_size=max_header_size,
            idle_timeout=idle_timeout,
            request_timeout=request_timeout,
            peer=peer,
        )
        super().__init__(HTTPServerProtocol(state, peer=peer), stack, peer=peer)
