"""One HTTP connection of a venue server: an HTTP server stack driven by a venue's
request handler, in the bytes-in / bytes-out shape of a server stack.

A venue that serves REST or JSON-RPC over HTTP beside its WebSocket writes only the
handler (:class:`HTTPHandler`: it takes each parsed request, queues answers, and may ask
for the connection to close once nothing is owed); :class:`HTTPProtocolConnection` moves
requests from the stack to the handler and answers back, one at a time in order (HTTP/1.1
answers in request order), and reports the handler's events, so a venue reads
``RequestReceived`` and answers with ``send`` exactly as on a WebSocket.
"""

from __future__ import annotations

from typing import Protocol

from .._events import Command, Event
from .._sources import RequestId
from ..transport._http import HTTPRequestReceived
from ..transport._http_server import HTTPServerStack

__all__ = ["HTTPAnswerLike", "HTTPHandler", "HTTPProtocolConnection"]


class HTTPAnswerLike(Protocol):
    """A queued HTTP answer: status, headers and body."""

    @property
    def status(self) -> int: ...

    @property
    def headers(self) -> tuple[tuple[str, str], ...]: ...

    @property
    def body(self) -> bytes: ...


class HTTPHandler(Protocol):
    """What a venue's HTTP request handler offers the connection."""

    @property
    def connection_id(self) -> int: ...

    @property
    def waiting(self) -> bool:
        """A request is being handled and its answer is not queued yet."""

    @property
    def close_requested(self) -> bool:
        """Close the connection once nothing is owed."""

    def connection_made(self, now: float) -> None: ...

    def connection_lost(self, now: float) -> None: ...

    def handle_request(self, request: HTTPRequestReceived, now: float) -> None: ...

    def take_response(self) -> HTTPAnswerLike | None: ...

    def send(self, command: Command, now: float) -> RequestId | None: ...

    def events(self) -> list[Event]: ...


class HTTPProtocolConnection:
    """``stack`` driven by ``protocol`` (see the module docstring)."""

    def __init__(
        self, protocol: HTTPHandler, stack: HTTPServerStack, *, peer: str | None = None
    ) -> None:
        self.peer = peer
        self.protocol = protocol
        self.stack = stack
        self._closing = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(peer={self.peer!r}, protocol={self.protocol!r})"

    @property
    def connection_id(self) -> int:
        return self.protocol.connection_id

    @property
    def should_close_transport(self) -> bool:
        return self.stack.should_close_transport or self._closing

    def connection_made(self, now: float) -> None:
        self.stack.connection_made(now)
        self.protocol.connection_made(now)

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the client; :class:`RemoteProtocolError` only for broken HTTP
        (the stack has queued its 400/413/431 response)."""
        try:
            self.stack.receive_data(data, now)
        finally:
            self._route(now)

    def send(self, command: Command, now: float) -> RequestId | None:
        """A venue command (a reply, an error, a disconnect), as on a WebSocket."""
        result = self.protocol.send(command, now)
        self._route(now)
        return result

    def data_to_send(self) -> bytes:
        return self.stack.data_to_send()

    def events(self) -> list[Event]:
        return self.protocol.events()

    def handle_timer(self, now: float) -> None:
        self.stack.handle_timer(now)

    def next_deadline(self) -> float | None:
        return self.stack.next_deadline()

    def connection_lost(self, now: float) -> None:
        self.stack.connection_lost(now)
        self.protocol.connection_lost(now)

    def _route(self, now: float) -> None:
        protocol, stack = self.protocol, self.stack
        while True:
            answer = protocol.take_response()
            if answer is not None and stack.awaiting_response:
                stack.respond(answer.status, answer.body, answer.headers, now=now)
                continue
            requests = [e for e in stack.events() if isinstance(e, HTTPRequestReceived)]
            if not requests:
                break
            for request in requests:
                protocol.handle_request(request, now)
        if protocol.close_requested and not protocol.waiting:
            self._closing = True
