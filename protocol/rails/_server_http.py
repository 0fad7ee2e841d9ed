"""The Rails venue over HTTP: the token endpoint and the market list (spec 1.1).

:class:`HTTPServerConnection` is an :class:`~tradewire.protocol.HTTPServerStack` that
answers every request itself (nothing goes to the venue's ``on_events``), in the
connection shape bindings' ``serve()`` drive and ``route_upgrade`` takes for its
HTTP side:

* ``POST /api/v1/token`` with ``X-Api-Key`` and ``X-Api-Secret``: 200
  ``{"access_token", "token_type": "Bearer", "expires_in": 1800}``; 401 for a missing
  or wrong key or secret; 429 past 20 requests a minute per key (a request with a key
  the venue knows is counted, whatever its secret: ours);
* ``GET /api/v1/markets``: 200 ``{"statusCode": 200, "data": [market, ...]}`` (the
  shape is ours, the docs do not show it);
* anything else: 404 (405 for another method on a known path).

Error bodies are ``{"statusCode": N, "body": "..."}``, like the WebSocket's (ours: the
docs show none).
"""

from __future__ import annotations

from typing import Any

from .._events import Event
from ..transport._http import HTTPRequestReceived
from ..transport._http_server import HTTPServerStack
from ._rest import MARKETS_PATH, TOKEN_PATH
from ._server_state import ServerState

__all__ = ["HTTPServerConnection"]


class HTTPServerConnection:
    """One HTTP connection of a Rails venue (see the module docstring)."""

    def __init__(
        self,
        state: ServerState,
        *,
        peer: str | None = None,
        idle_timeout: float = 60.0,
        request_timeout: float = 10.0,
    ) -> None:
        self.state = state
        self.peer = peer
        self.connection_id = state.connections.new_id()
        self.stack = HTTPServerStack(
            max_body_size=16 * 1024,
            idle_timeout=idle_timeout,
            request_timeout=request_timeout,
            peer=peer,
        )
        self.answered = 0
        self._now = 0.0

    def __repr__(self) -> str:
        return f"rails.HTTPServerConnection(connection_id={self.connection_id}, peer={self.peer!r})"

    @property
    def should_close_transport(self) -> bool:
        return self.stack.should_close_transport

    def connection_made(self, now: float) -> None:
        self.stack.connection_made(now)

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the client; :class:`RemoteProtocolError` only for broken HTTP."""
        try:
            self.stack.receive_data(data, now)
        finally:
            self._answer(now)

    def data_to_send(self) -> bytes:
        return self.stack.data_to_send()

    def events(self) -> list[Event]:
        return []  # answered here: the venue hears of nothing

    def handle_timer(self, now: float) -> None:
        self.stack.handle_timer(now)

    def next_deadline(self) -> float | None:
        return self.stack.next_deadline()

    def connection_lost(self, now: float) -> None:
        self.stack.connection_lost(now)

    def _answer(self, now: float) -> None:
        for event in self.stack.events():
            if isinstance(event, HTTPRequestReceived) and self.stack.awaiting_response:
                status, body = self.route(event, now)
                self.stack.respond(status, json=body, now=now)
                self.answered += 1

    def route(self, request: HTTPRequestReceived, now: float) -> tuple[int, Any]:
        """The status and JSON body for one request."""
        path = request.path
        if path == TOKEN_PATH:
            if request.method != "POST":
                return _error(405, "use POST")
            return self._token(request, now)
        if path == MARKETS_PATH:
            if request.method not in ("GET", "HEAD"):
                return _error(405, "use GET")
            return 200, {"statusCode": 200, "data": list(self.state.config.markets)}
        return _error(404, "not found")

    def _token(self, request: HTTPRequestReceived, now: float) -> tuple[int, Any]:
        key = request.header("x-api-key")
        state = self.state
        if key is not None and key in state.keys and not state.charge_token_request(key, now):
            return _error(429, "too many token requests: 20 a minute per key")
        found = state.check_key(key, request.header("x-api-secret"))
        if found is None:
            return _error(401, "invalid api key or secret")
        token, lifetime = state.issue(found, now)
        expires_in: int | float = round(lifetime) if lifetime == round(lifetime) else lifetime
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}


def _error(status: int, text: str) -> tuple[int, Any]:
    return status, {"statusCode": status, "body": text}
