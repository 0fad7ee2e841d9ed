"""One port for WebSocket and plain HTTP: decide by each request head on a connection.

Deribit serves ``/ws/api/v2`` (WebSocket) and ``/api/v2/...`` (HTTP) on one port; so
does its reference venue.  :class:`UpgradeOrHTTP` is a :class:`ServerConnection` that
reads a connection's request heads, asks :func:`classify_request_head` about each, and
drives the WebSocket or the HTTP server stack it builds for them.

The decision is per request, not per connection: an HTTP client that keeps its
connection alive may send a WebSocket upgrade as its *next* request (aiohttp, and so
ccxt, reuses an idle REST connection for ``ws_connect``).  So while the connection is
HTTP, the router frames each request (with its own h11 reader: heads, ``Content-Length``
and chunked bodies) and hands the HTTP stack one request at a time; a request pipelined
behind one that is not answered yet waits in the router (at most ``max_pipelined``
bytes) until the HTTP stack has written the start of a final response.  When the next
head is an upgrade, the HTTP stack is retired (its last output is flushed first, its
events still delivered, then ``connection_lost``) and a fresh WebSocket stack gets the
head and every byte read after it.  A WebSocket never goes back to HTTP.

The router forwards ``serve()``'s ``wakeup`` to the stacks it builds, and counts the
bytes it holds (an incomplete head, pipelined requests) in ``buffered`` with its stack's.
A head is at most ``max_head`` bytes however it arrives: one that is longer, even whole
in one read, goes to the HTTP stack, which answers 431.

Work that becomes possible only after the application answered (routing the held
bytes) runs from :meth:`UpgradeOrHTTP.handle_timer`: :meth:`UpgradeOrHTTP.next_deadline`
then returns the last ``now`` seen, a timer due at once, so the events it produces are
delivered like any timer's.

Pure: no I/O, no clock (time comes in as ``now``), imports only
:mod:`tradewire.protocol` and h11 (a dependency of the protocol layer), so it can move
there unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, Literal, TypeVar

import h11

from tradewire.protocol import Event, LocalProtocolError, RemoteProtocolError

from ._common import ServerConnection, tracks_work

__all__ = ["MAX_HEAD", "MAX_PIPELINED", "UpgradeOrHTTP", "classify_request_head", "route_upgrade"]

Kind = Literal["websocket", "http"]

#: Bytes of request head read before giving up on finding its end (it then goes to the
#: HTTP stack, which answers 431).
MAX_HEAD = 16 * 1024

#: Bytes a client may send behind an HTTP request that is not answered yet (they wait in
#: the router); more is a protocol error and the connection closes.
MAX_PIPELINED = 128 * 1024

_STATUS = re.compile(rb"HTTP/\d\.\d (\d{3})")


def classify_request_head(data: bytes, *, max_head: int = MAX_HEAD) -> Kind | None:
    """``"websocket"`` for a WebSocket upgrade request, ``"http"`` for anything else,
    ``None`` while the head is incomplete (give more bytes).

    An upgrade is a ``GET`` whose ``Upgrade`` header lists the ``websocket`` token
    (RFC 6455 section 4.2.1; case-insensitive).  Malformed heads are ``"http"``: the
    HTTP stack answers them with 400, and heads over ``max_head`` bytes, complete or
    not, with 431.  Only the head is inspected; a body never is.
    """
    end = data.find(b"\r\n\r\n", 0, max_head + 4)
    if end < 0:
        end = data.find(b"\n\n", 0, max_head + 2)
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


def _head_end(data: bytes) -> int:
    """The offset just past the blank line ending the request head in ``data``."""
    crlf, lf = data.find(b"\r\n\r\n"), data.find(b"\n\n")
    ends = [i + 4 for i in (crlf,) if i >= 0] + [i + 2 for i in (lf,) if i >= 0]
    return min(ends) if ends else len(data)


def _final_response_started(out: bytes) -> bool:
    """``out`` (what an HTTP stack wrote after a complete request) holds the start of a
    final response, not only interim ``1xx`` ones (``100 Continue``)."""
    while out:
        status = _STATUS.match(out)
        if status is None or not status.group(1).startswith(b"1"):
            return True
        end = out.find(b"\r\n\r\n")
        if end < 0:
            return False
        out = out[end + 4 :]
    return False


W = TypeVar("W", bound=ServerConnection)
H = TypeVar("H", bound=ServerConnection)


class UpgradeOrHTTP(Generic[W, H]):
    """A server connection that serves HTTP requests and WebSocket upgrades on one
    transport (see the module docstring).

    ``websocket(peer)`` and ``http(peer)`` build the stacks; ``stack`` is the one in use
    (``None`` until the first head is complete), ``kind`` says which; ``requests``
    counts the HTTP requests handed to the HTTP stack.  A client that sends no complete
    head within ``head_timeout`` seconds of the connect (or of a later head's first
    byte) is disconnected.  ``error`` is the last :class:`RemoteProtocolError` a stack
    raised while the router fed it held bytes from a timer (the stack has queued its
    error response and asked to close).
    """

    #: Set by ``serve()`` (see ``ServerConnection``); forwarded to the stacks built.
    wakeup: Callable[[], None] | None = None

    def __init__(
        self,
        websocket: Callable[[str | None], W],
        http: Callable[[str | None], H],
        peer: str | None = None,
        *,
        head_timeout: float = 10.0,
        max_head: int = MAX_HEAD,
        max_pipelined: int = MAX_PIPELINED,
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
        self.max_pipelined = max_pipelined
        self.stack: W | H | None = None
        self.kind: Kind | None = None
        self.requests = 0
        self.error: RemoteProtocolError | None = None
        self._held = bytearray()  # read, not handed to a stack yet
        self._framer: h11.Connection | None = None  # the HTTP request being handed over
        self._passthrough = False  # framing failed: the HTTP stack gets every byte
        self._owed = False  # a complete HTTP request waits for its response
        self._resume_at: float | None = None  # route the held bytes from handle_timer
        self._eof = False
        self._eof_given = False
        self._retired_out = b""
        self._retired_events: list[Event] = []
        self._deadline: float | None = None
        self._closing = False
        self._now = 0.0
        #: ``False`` once a stack without ``wakeup`` is in use (``serve()`` then settles
        #: this connection after every application callback).
        self.tracked = True

    @property
    def buffered(self) -> int:
        """Bytes held for unfinished input: here (heads, pipelined requests) and in the
        stack in use."""
        stack = self.stack
        inner: int = getattr(stack, "buffered", 0) if stack is not None else 0
        return len(self._held) + inner

    def _wake(self) -> None:
        wakeup = self.wakeup
        if wakeup is not None:
            wakeup()

    def _adopt(self, stack: W | H, now: float) -> None:
        """Wire a stack just built: its ``wakeup`` is ours, then ``connection_made``."""
        if tracks_work(stack):
            stack.wakeup = self._wake  # type: ignore[union-attr]
        else:
            self.tracked = False
        stack.connection_made(now)

    @property
    def should_close_transport(self) -> bool:
        stack = self.stack
        return self._closing or (stack is not None and stack.should_close_transport)

    def connection_made(self, now: float) -> None:
        self._now = now
        self._deadline = now + self.head_timeout

    def receive_data(self, data: bytes, now: float) -> None:
        self._now = now
        stack = self.stack
        if self.kind == "websocket" or self._passthrough:
            assert stack is not None
            stack.receive_data(data, now)
            return
        if not data:
            self._on_eof(now)
            return
        if self._framer is not None and not self._held:
            self._frame(data, now)  # more of the request being handed over
            return
        self._held += data
        if self._owed:
            if len(self._held) > self.max_pipelined:
                self._closing = True
                raise RemoteProtocolError(
                    f"client pipelined {len(self._held)} bytes behind an unanswered "
                    f"request, over max_pipelined={self.max_pipelined}"
                )
            return  # routed once the HTTP stack has answered
        self._route(now)

    def data_to_send(self) -> bytes:
        stack = self.stack
        out = stack.data_to_send() if stack is not None else b""
        if self._owed and out and _final_response_started(out):
            self._owed = False
            if self._held or (self._eof and not self._eof_given):
                self._resume_at = self._now
        if self._retired_out:
            out, self._retired_out = self._retired_out + out, b""
        return out

    def events(self) -> list[Event]:
        stack = self.stack
        events = stack.events() if stack is not None else []
        if self._retired_events:
            events, self._retired_events = self._retired_events + events, []
        return events

    def handle_timer(self, now: float) -> None:
        self._now = now
        if self._resume_at is not None and now >= self._resume_at:
            self._resume_at = None
            try:
                self._route(now)
            except RemoteProtocolError as exc:
                self.error = exc
        stack = self.stack
        if stack is not None:
            stack.handle_timer(now)
        if self._deadline is not None and now >= self._deadline:
            self._closing = True
            self._deadline = None

    def next_deadline(self) -> float | None:
        stack = self.stack
        deadlines = [self._resume_at, self._deadline]
        if stack is not None:
            deadlines.append(stack.next_deadline())
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def connection_lost(self, now: float) -> None:
        stack = self.stack
        if stack is not None:
            stack.connection_lost(now)
        self._held.clear()
        self._framer = None
        self._closing = False
        self._deadline = None
        self._resume_at = None

    # -- routing ----------------------------------------------------------------------------

    def _route(self, now: float) -> None:
        """Hand the held bytes over, request by request, until they run out, a head is
        incomplete, or an HTTP request waits for its answer."""
        held = self._held
        while held and not self._owed and not self.should_close_transport:
            if self._framer is not None:
                data = bytes(held)
                held.clear()
                self._frame(data, now)
                continue
            while held and held[0] in (0x0D, 0x0A):  # CR, LF
                del held[:1]  # empty lines before a request line (RFC 9112, 2.2)
            if not held:
                break
            kind = classify_request_head(bytes(held), max_head=self.max_head)
            if kind is None:
                if self._deadline is None:
                    self._deadline = now + self.head_timeout
                break
            self._deadline = None
            if kind == "websocket":
                self._upgrade(now)
                return
            if self.stack is None:
                self.kind = "http"
                self.stack = self._http(self.peer)
                self._adopt(self.stack, now)
            self._framer = h11.Connection(h11.SERVER, max_incomplete_event_size=self.max_head)
        self._give_eof(now)

    def _frame(self, data: bytes, now: float) -> None:
        """Hand ``data`` to the HTTP stack, up to the end of the current request; what
        follows it is held for the next head."""
        framer, stack = self._framer, self.stack
        assert framer is not None
        assert stack is not None
        framer.receive_data(data)
        try:
            while True:
                event = framer.next_event()
                if event is h11.NEED_DATA or event is h11.PAUSED:
                    break
                if isinstance(event, h11.EndOfMessage):
                    rest = framer.trailing_data[0]
                    self._framer = None
                    self._owed = True
                    self.requests += 1
                    self._held[:0] = rest
                    data = data[: len(data) - len(rest)]
                    break
        except h11.RemoteProtocolError:
            # not a request the router can frame: the HTTP stack answers it (400, 431 ...)
            # and closes; from now on it gets every byte
            self._framer = None
            self._passthrough = True
            self._held.clear()
        stack.receive_data(data, now)

    def _upgrade(self, now: float) -> None:
        """The held bytes start with a WebSocket upgrade: a fresh WebSocket stack gets
        them; an HTTP stack in use is retired first."""
        head = bytes(self._held)
        self._held.clear()
        old = self.stack
        if old is not None:
            self._retired_out += old.data_to_send()
            old.connection_lost(now)
            self._retired_events += old.events()
        built = self._websocket(self.peer)
        self.stack = built
        self.kind = "websocket"
        self._adopt(built, now)
        # the head alone first: a WebSocket stack reads frames that arrive in the same
        # call as the upgrade head only at its next read
        end = _head_end(head)
        built.receive_data(head[:end], now)
        if head[end:]:
            built.receive_data(head[end:], now)
        if self._eof:
            self._eof_given = True
            built.receive_data(b"", now)

    def _on_eof(self, now: float) -> None:
        self._eof = True
        if self.stack is None:
            self._closing = True  # EOF before a request: nothing to answer
            return
        if not self._owed:
            self._route(now)
        self._give_eof(now)

    def _give_eof(self, now: float) -> None:
        """Tell the HTTP stack about an EOF once no held request is left to hand over
        (an incomplete head is dropped)."""
        if not self._eof or self._eof_given or self.kind != "http":
            return
        if self._held and self._owed:
            return
        self._held.clear()
        self._eof_given = True
        assert self.stack is not None
        self.stack.receive_data(b"", now)


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
