"""One port for WebSocket and plain HTTP: decide from a connection's first bytes.

Deribit serves ``/ws/api/v2`` (WebSocket) and ``/api/v2/...`` (HTTP) on one port; so
does its reference venue.  :class:`UpgradeOrHTTP` is a :class:`ServerConnection` that
buffers a connection's first bytes until the request head is complete, asks
:func:`classify_request_head`, builds the WebSocket or the HTTP server stack, and from
then on is a transparent pass-through to it.

Pure: no I/O, no clock (time comes in as ``now``), imports only
:mod:`tradewire.protocol`, so it can move there unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, Literal, Protocol, TypeVar

from tradewire.protocol import Event, LocalProtocolError

__all__ = ["UpgradeOrHTTP", "classify_request_head", "route_upgrade"]

Kind = Literal["websocket", "http"]

#: Bytes of request head read before giving up on finding its end (it then goes to the
#: HTTP stack, which answers 431).
MAX_HEAD = 16 * 1024


def classify_request_head(data: bytes, *, max_head: int = MAX_HEAD) -> Kind | None:
    """``"websocket"`` for a WebSocket upgrade request, ``"http"`` for anything else,
    ``None`` while the head is incomplete (give more bytes).

    An upgrade is a ``GET`` whose ``Upgrade`` header lists the ``websocket`` token
    (RFC 6455 section 4.2.1; case-insensitive).  Malformed heads are ``"http"``: the
    HTTP stack answers them with 400.  Only the head is inspected; a body never is.
    """
    end = data.find(b"\r\n\r\n")
    if end < 0:
        end = data.find(b"\n\n")
        if end < 0:
            if len(data) > max_head or (data and not data[:1].isalpha()):
                return "http"
            return None
    lines = data[:end].split(b"\n")
    method, _, _ = lines[0].strip().partition(b" ")
    if method != b"GET":
        return "http"
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() == b"upgrade":
            tokens = {token.strip().lower() for token in value.split(b",")}
            if b"websocket" in tokens:
                return "websocket"
    return "http"


class _Stack(Protocol):
    """The server-connection shape (see ``ServerConnection``)."""

    @property
    def should_close_transport(self) -> bool: ...

    def connection_made(self, now: float) -> None: ...

    def receive_data(self, data: bytes, now: float) -> None: ...

    def data_to_send(self) -> bytes: ...

    def events(self) -> list[Event]: ...

    def handle_timer(self, now: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def connection_lost(self, now: float) -> None: ...


W = TypeVar("W", bound=_Stack)
H = TypeVar("H", bound=_Stack)


class UpgradeOrHTTP(Generic[W, H]):
    """A server connection that becomes a WebSocket or an HTTP stack by its first request.

    ``websocket(peer)`` and ``http(peer)`` build the stack; ``stack`` is the one built
    (``None`` until the head is complete), ``kind`` says which.  A client that sends no
    complete head within ``head_timeout`` seconds is disconnected.
    """

    def __init__(
        self,
        websocket: Callable[[str | None], W],
        http: Callable[[str | None], H],
        peer: str | None = None,
        *,
        head_timeout: float = 10.0,
        max_head: int = MAX_HEAD,
    ) -> None:
        if not head_timeout > 0:
            raise LocalProtocolError(
                f"invalid head_timeout: expected seconds > 0, got {head_timeout!r}"
            )
        self._websocket = websocket
        self._http = http
        self.peer = peer
        self.head_timeout = head_timeout
        self.max_head = max_head
        self.stack: W | H | None = None
        self.kind: Kind | None = None
        self._head = bytearray()
        self._deadline: float | None = None
        self._closing = False

    @property
    def should_close_transport(self) -> bool:
        stack = self.stack
        return stack.should_close_transport if stack is not None else self._closing

    def connection_made(self, now: float) -> None:
        self._deadline = now + self.head_timeout

    def receive_data(self, data: bytes, now: float) -> None:
        stack = self.stack
        if stack is not None:
            stack.receive_data(data, now)
            return
        if not data:
            self._closing = True  # EOF before a request: nothing to answer
            return
        self._head += data
        kind = classify_request_head(bytes(self._head), max_head=self.max_head)
        if kind is None:
            return
        self.kind = kind
        self._deadline = None
        built: W | H = self._websocket(self.peer) if kind == "websocket" else self._http(self.peer)
        self.stack = built
        head, self._head = bytes(self._head), bytearray()
        built.connection_made(now)
        built.receive_data(head, now)

    def data_to_send(self) -> bytes:
        stack = self.stack
        return stack.data_to_send() if stack is not None else b""

    def events(self) -> list[Event]:
        stack = self.stack
        return stack.events() if stack is not None else []

    def handle_timer(self, now: float) -> None:
        stack = self.stack
        if stack is not None:
            stack.handle_timer(now)
        elif self._deadline is not None and now >= self._deadline:
            self._closing = True
            self._deadline = None

    def next_deadline(self) -> float | None:
        stack = self.stack
        return stack.next_deadline() if stack is not None else self._deadline

    def connection_lost(self, now: float) -> None:
        stack = self.stack
        if stack is not None:
            stack.connection_lost(now)
        self._closing = False
        self._deadline = None


def route_upgrade(
    websocket: Callable[[str | None], W],
    http: Callable[[str | None], H],
    *,
    head_timeout: float = 10.0,
) -> Callable[[str | None], UpgradeOrHTTP[W, H]]:
    """A ``serve()`` connection factory serving WebSocket upgrades and HTTP on one port."""

    def factory(peer: str | None) -> UpgradeOrHTTP[W, H]:
        return UpgradeOrHTTP(websocket, http, peer, head_timeout=head_timeout)

    return factory
