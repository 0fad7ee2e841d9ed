"""The HTTP client stack: requests over keep-alive HTTP/1.1 connections, on h11.

One :class:`HTTPClientStack` lives as long as the caller's session, across any number
of TCP connections to one ``host``.  HTTP/1.1 without pipelining: one request is in
flight per connection; the others wait in a queue (bounded by ``max_pending``) and go
out in order, on the same connection while the server keeps it alive, else on the
next one.

Every request resolves exactly once (docs/architecture.md), as one event:

* :class:`HTTPResponse`: the server answered (any status);
* ``RequestFailed(error=RequestTimeout)``: its deadline passed, queued or in flight.  A
  request that times out *in flight* also retires the connection: its late answer
  would otherwise be taken for the next request's;
* ``RequestFailed(error=ConnectionLost)``: the connection ended while it was in flight
  (:class:`InvalidResponse`, a subclass, when the server's answer was garbage or over
  ``max_body_size``).  Queued requests that were never sent survive a lost connection.

The binding's loop: when ``wants_connection``, dial and call ``connection_made``; write
``data_to_send()``; feed reads to ``receive_data`` (``b""`` at EOF); when
``should_close_transport``, flush, close the transport and call ``connection_lost``;
call ``handle_timer`` at ``next_deadline()``.  Report a failed dial with
``connection_lost`` too: the next dial then waits for ``backoff`` (as it does after a
connection that answered none of the requests sent on it), while the queued requests'
deadlines keep running, so a venue that is down costs a paced trickle of dials and
every request still resolves.

Deribit closes HTTP connections after 15 minutes even with keep-alive;
``max_connection_age`` (e.g. ``14 * 60``) retires a connection before the server does,
so a request is not lost to that race.
"""

from __future__ import annotations

from collections import deque
from enum import Enum

import h11

from .._errors import ConnectionLost, LocalProtocolError, RemoteProtocolError
from .._events import Event
from .._requests import RequestTable
from .._sources import CounterIds, IdSource, RequestId
from ._backoff import Backoff
from ._http import (
    HTTPRequest,
    HTTPResponse,
    InvalidResponse,
    check_headers,
    find_header,
)

__all__ = ["HTTPClientStack"]


class _Phase(Enum):
    DOWN = "down"  # no connection
    READY = "ready"  # connected, nothing in flight
    BUSY = "busy"  # one request in flight
    CLOSING = "closing"  # retired: the binding must close it; inbound bytes are dropped


class _NoJitter:
    """The RNG of the default backoff: every delay is its ceiling (0.5 s, 1 s ... 30 s)."""

    def random(self) -> float:
        return 1.0

    def getrandbits(self, k: int, /) -> int:
        return 0


def _positive_int(name: str, value: object) -> int:
    if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        raise LocalProtocolError(f"invalid {name}: expected a positive int, got {value!r}")
    return value


class HTTPClientStack:
    """HTTP/1.1 requests to one ``host``, bytes in / bytes out, across connections.

    ``host`` is the ``Host`` header (add ``:port`` when it is not the default).
    ``max_pending`` bounds queued + in-flight requests *and* undrained events, so a
    caller that never calls :meth:`events` gets a :class:`LocalProtocolError` from
    :meth:`request` rather than a growing list.  ``max_body_size`` and
    ``max_header_size`` bound a response.  ``Accept: application/json`` is added unless
    the request has an ``Accept`` header: every venue API answers in JSON.
    """

    def __init__(
        self,
        *,
        host: str,
        ids: IdSource | None = None,
        default_timeout: float = 10.0,
        max_pending: int = 256,
        max_body_size: int = 16 * 2**20,
        max_header_size: int = 64 * 2**10,
        user_agent: str = "tradewire",
        max_connection_age: float | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        if not isinstance(host, str) or not host or "/" in host:
            raise LocalProtocolError(f"invalid host: expected 'name[:port]', got {host!r}")
        check_headers((("User-Agent", user_agent),), "user_agent")
        check_headers((("X-Host", host),), "host")
        if max_connection_age is not None and not max_connection_age > 0:
            raise LocalProtocolError(
                f"invalid max_connection_age: expected seconds > 0 or None, "
                f"got {max_connection_age!r}"
            )
        self.host = host
        self.user_agent = user_agent
        self.max_pending = _positive_int("max_pending", max_pending)
        self.max_body_size = _positive_int("max_body_size", max_body_size)
        self.max_header_size = _positive_int("max_header_size", max_header_size)
        self.max_connection_age = max_connection_age
        self.backoff = backoff if backoff is not None else Backoff(_NoJitter(), initial=0.5)
        self._dial_after: float | None = None
        self._answered_on_connection = 0
        self._table = RequestTable(
            ids=ids if ids is not None else CounterIds(),
            max_pending=max_pending,
            default_timeout=default_timeout,
        )
        self._queue: deque[RequestId] = deque()
        self._events: list[Event] = []
        self._out: list[bytes] = []
        self._phase = _Phase.DOWN
        self._conn: h11.Connection | None = None
        self._connected_at = 0.0
        self._sent_on_connection = 0
        self._in_flight: RequestId | None = None
        self._response: h11.Response | None = None
        self._body = bytearray()
        #: The connection must be closed: flush ``data_to_send``, close, ``connection_lost``.
        self.should_close_transport = False
        #: Why the stack asked for the close (for logs), else ``None``.
        self.close_reason: str | None = None

    # -- the driving contract ---------------------------------------------------------

    @property
    def wants_connection(self) -> bool:
        """Requests are waiting, no connection is up and no backoff delay is running."""
        return self._phase is _Phase.DOWN and bool(self._queue) and self._dial_after is None

    @property
    def in_flight(self) -> RequestId | None:
        """The id of the request on the wire, if any."""
        return self._in_flight

    def connection_made(self, now: float) -> None:
        """A TCP (TLS) connection to ``host`` is up; queued requests start going out."""
        if self._phase is not _Phase.DOWN:
            raise LocalProtocolError(
                "connection_made: a connection is already up; call connection_lost first"
            )
        self._conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=self.max_header_size)
        self._phase = _Phase.READY
        self._connected_at = now
        self._sent_on_connection = 0
        self._answered_on_connection = 0
        self._dial_after = None
        self.should_close_transport = False
        self.close_reason = None
        self._expire(now)  # an expired request must not go on the wire
        self._pump(now)

    def request(
        self, request: HTTPRequest, now: float, *, timeout: float | None = None
    ) -> RequestId:
        """Queue ``request``; it goes out when the connection is free.  Returns its id."""
        if not isinstance(request, HTTPRequest):
            raise LocalProtocolError(
                f"invalid request: expected an HTTPRequest, got {type(request).__name__}"
            )
        if len(self._table) + len(self._events) >= self.max_pending:
            raise LocalProtocolError(
                f"too many pending requests and undrained events (limit "
                f"max_pending={self.max_pending}); drain events() or wait for answers"
            )
        entry = self._table.open(request, now, timeout=timeout)
        self._queue.append(entry.request_id)
        self._pump(now)
        return entry.request_id

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the server; ``b""`` means EOF.

        Raises :class:`RemoteProtocolError` (only) when the server broke HTTP or a
        bound; the in-flight request has then failed and ``should_close_transport`` is
        set.  EOF is not an error: it ends the connection (an in-flight request fails
        with :class:`ConnectionLost`, unless EOF completes a close-delimited body).
        """
        if self._phase is _Phase.DOWN or self._conn is None:
            raise LocalProtocolError("receive_data: no connection; call connection_made first")
        if self._phase is _Phase.CLOSING:
            return  # late bytes on a retired connection belong to nobody
        if data and self._in_flight is None:
            self._retire("unsolicited data from server", InvalidResponse)
            raise RemoteProtocolError(
                f"server sent {len(data)} bytes while no request was in flight"
            )
        self._conn.receive_data(data)
        try:
            self._process(now)
        except h11.RemoteProtocolError as exc:
            if not data:  # EOF cut the response short: the connection was lost
                self._retire("server closed the connection mid-response", ConnectionLost)
                return
            if exc.error_status_hint == 431:  # h11's buffer passed max_incomplete_event_size
                reason = f"response headers exceed max_header_size={self.max_header_size} bytes"
            else:
                reason = f"invalid HTTP response from server: {exc}"
            self._retire(reason, InvalidResponse)
            raise RemoteProtocolError(reason) from None
        except RemoteProtocolError as exc:
            self._retire(str(exc), InvalidResponse)
            raise
        if not data:
            self._retire("server closed the connection", ConnectionLost)

    def data_to_send(self) -> bytes:
        """Drain the bytes to write to the transport."""
        out = b"".join(self._out)
        self._out.clear()
        return out

    def events(self) -> list[Event]:
        """Drain events: :class:`HTTPResponse` and ``RequestFailed``, in order."""
        events = self._events
        self._events = []
        return events

    def handle_timer(self, now: float) -> None:
        """Fail requests whose deadline passed; retire a connection past its age."""
        self._expire(now)
        if self._dial_after is not None and now >= self._dial_after:
            self._dial_after = None
        if (
            self._phase is _Phase.READY
            and self.max_connection_age is not None
            and now >= self._connected_at + self.max_connection_age
        ):
            self._retire("connection reached max_connection_age", ConnectionLost)

    def next_deadline(self) -> float | None:
        deadlines = [self._table.next_deadline()]
        if self._phase is _Phase.READY and self.max_connection_age is not None:
            deadlines.append(self._connected_at + self.max_connection_age)
        if self._queue:
            deadlines.append(self._dial_after)
        return min((d for d in deadlines if d is not None), default=None)

    def connection_lost(self, now: float) -> None:
        """The transport is gone, or a dial failed.  The in-flight request fails; queued
        ones stay.  Call it once per ``connection_made`` and once per failed dial.
        """
        if self._phase is _Phase.DOWN or (
            self._sent_on_connection and not self._answered_on_connection
        ):
            self._dial_after = now + self.backoff.next_delay()
        if self._phase is _Phase.DOWN:
            return
        if self._in_flight is not None:
            self._fail(self._in_flight, ConnectionLost("connection lost while in flight"))
        self._phase = _Phase.DOWN
        self._conn = None
        self._out.clear()
        self.should_close_transport = False

    # -- internals ----------------------------------------------------------------------

    def _expire(self, now: float) -> None:
        expired = self._table.expire(now)
        if not expired:
            return
        self._events.extend(expired)
        if any(failed.request_id == self._in_flight for failed in expired):
            self._in_flight = None
            self._retire("request timed out in flight", ConnectionLost)
        self._queue = deque(rid for rid in self._queue if rid in self._table)

    def _fail(self, request_id: RequestId, error: ConnectionLost) -> None:
        if request_id == self._in_flight:
            self._in_flight = None
        failed = self._table.fail(request_id, error)
        if failed is not None:
            self._events.append(failed)

    def _retire(self, reason: str, error: type[ConnectionLost]) -> None:
        """Stop using this connection; the in-flight request (if any) fails."""
        if self._in_flight is not None:
            self._fail(self._in_flight, error(reason))
        if self._phase is not _Phase.DOWN:
            self._phase = _Phase.CLOSING
            self.should_close_transport = True
            self.close_reason = reason

    def _pump(self, now: float) -> None:
        """Put the next queued request on the wire if the connection is free."""
        if self._phase is not _Phase.READY or self._conn is None:
            return
        while self._queue:
            entry = self._table.get(self._queue[0])
            if entry is None:
                self._queue.popleft()
                continue
            if (
                self.max_connection_age is not None
                and self._sent_on_connection
                and now >= self._connected_at + self.max_connection_age
            ):
                self._retire("connection reached max_connection_age", ConnectionLost)
                return
            self._queue.popleft()
            request = entry.command
            assert isinstance(request, HTTPRequest)
            self._send(entry.request_id, request)
            return

    def _send(self, request_id: RequestId, request: HTTPRequest) -> None:
        assert self._conn is not None
        headers = [("Host", self.host), ("User-Agent", self.user_agent)]
        if request.header("accept") is None:
            headers.append(("Accept", "application/json"))
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(request.body))))
        headers.extend(request.headers)
        conn = self._conn
        self._out.append(
            conn.send(h11.Request(method=request.method, target=request.target, headers=headers))
        )
        if request.body:
            self._out.append(conn.send(h11.Data(data=request.body)))
        self._out.append(conn.send(h11.EndOfMessage()))
        self._in_flight = request_id
        self._phase = _Phase.BUSY
        self._sent_on_connection += 1
        self._response = None
        self._body = bytearray()

    def _process(self, now: float) -> None:
        """Parse what h11 has buffered; may raise h11's or our RemoteProtocolError."""
        conn = self._conn
        assert conn is not None
        while self._in_flight is not None:
            event = conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                self._on_response_head(event)
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > self.max_body_size:
                    raise RemoteProtocolError(
                        f"response body exceeds max_body_size={self.max_body_size} bytes"
                    )
            elif isinstance(event, h11.EndOfMessage):
                self._on_response_end(now)
            elif isinstance(event, h11.ConnectionClosed):
                return
            # InformationalResponse (1xx): nothing to do, the final answer follows.

    def _on_response_head(self, event: h11.Response) -> None:
        size = sum(len(name) + len(value) + 4 for name, value in event.headers.raw_items())
        if size > self.max_header_size:
            raise RemoteProtocolError(
                f"response headers exceed max_header_size={self.max_header_size} bytes"
            )
        length = find_header(
            tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers),
            "content-length",
        )
        if length is not None and int(length) > self.max_body_size:
            raise RemoteProtocolError(
                f"response Content-Length {length} exceeds max_body_size={self.max_body_size} bytes"
            )
        self._response = event

    def _on_response_end(self, now: float) -> None:
        conn = self._conn
        head = self._response
        request_id = self._in_flight
        assert conn is not None
        assert head is not None
        assert request_id is not None
        entry = self._table.pop(request_id)
        self._in_flight = None
        self._answered_on_connection += 1
        self.backoff.reset()
        if entry is not None:
            request = entry.command
            assert isinstance(request, HTTPRequest)
            self._events.append(
                HTTPResponse(
                    request_id=request_id,
                    request=request,
                    status=head.status_code,
                    reason=head.reason.decode("latin-1"),
                    headers=tuple(
                        (n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers
                    ),
                    body=bytes(self._body),
                )
            )
        self._response = None
        self._body = bytearray()
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
            self._phase = _Phase.READY
            self._pump(now)
            if self._in_flight is None and conn.trailing_data[0]:
                raise RemoteProtocolError("server sent data after the response")
        else:
            self._retire("server closed the connection after the response", ConnectionLost)
