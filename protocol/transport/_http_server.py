"""The HTTP server stack: one HTTP/1.1 connection, on h11.

One :class:`HTTPServerStack` serves one TCP connection.  Requests are handed out one at
a time: after a complete request (:class:`HTTPRequestReceived`) nothing more is parsed
until the application answers it with :meth:`HTTPServerStack.respond`; then the next
(pipelined or later) request is read.  Connections are kept alive (HTTP/1.1 default)
unless the client says ``Connection: close``, speaks HTTP/1.0, or a response carries
``Connection: close``.

The peer's faults end the connection, with a response while one can still be sent:

* a malformed request: 400 (501 for a transfer-coding other than chunked);
* headers over ``max_header_size``: 431;
* a body over ``max_body_size``, declared by ``Content-Length`` or not: 413;
  ``receive_data`` raises :class:`RemoteProtocolError` after queuing each of these;
* a request still incomplete ``request_timeout`` after its first byte: 408, from
  ``handle_timer``;
* no request within ``idle_timeout`` of the connect or the last response: the
  connection is closed without a response, from ``handle_timer``.

The error response is queued before anything is raised, so the binding flushes
``data_to_send()`` and then closes the transport (``should_close_transport``).  While
the application is working on a request no timer runs: answering is its job.
Bytes pipelined behind the current request are held, up to ``max_header_size +
max_body_size``; more is a protocol error.  A malformed request line or header is quoted
in the error (for logs) with credential-like query values and headers masked
(:func:`~tradewire.protocol.redact`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any
from urllib.parse import parse_qsl

import h11

from .._errors import LocalProtocolError, RemoteProtocolError
from .._events import Event, require
from .._secrets import redact
from ._http import (
    HTTPRequestReceived,
    check_headers,
    encode_json,
    find_header,
    reason_phrase,
)

__all__ = ["HTTPServerStack"]


class _Phase(Enum):
    NEW = "new"  # before connection_made
    IDLE = "idle"  # waiting for the first byte of a request
    READING = "reading"  # a request is arriving
    RESPONDING = "responding"  # a complete request awaits respond()
    CLOSING = "closing"  # the connection is finished; the binding must close it
    CLOSED = "closed"  # connection_lost was called


_UNSET: Any = object()
_NO_BODY_STATUSES = frozenset({204, 304})


def _positive(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise LocalProtocolError(f"invalid {name}: expected a positive number, got {value!r}")


class HTTPServerStack:
    """One server-side HTTP/1.1 connection, bytes in / bytes out.

    ``peer`` (an address for logs) is copied into every :class:`HTTPRequestReceived`.
    The defaults suit a venue API: Deribit refuses requests over 32 kB.
    """

    #: Set by a server binding: called after :meth:`respond`, so it knows which
    #: connections have output without looking at all of them.
    wakeup: Callable[[], None] | None = None

    def __init__(
        self,
        *,
        max_body_size: int = 32 * 1024,
        max_header_size: int = 16 * 1024,
        idle_timeout: float = 60.0,
        request_timeout: float = 10.0,
        peer: str | None = None,
    ) -> None:
        for name, value in (
            ("max_body_size", max_body_size),
            ("max_header_size", max_header_size),
            ("idle_timeout", idle_timeout),
            ("request_timeout", request_timeout),
        ):
            _positive(name, value)
        self.max_body_size = max_body_size
        self.max_header_size = max_header_size
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.peer = peer
        self._conn = h11.Connection(h11.SERVER, max_incomplete_event_size=max_header_size)
        self._phase = _Phase.NEW
        self._since = 0.0  # start of the idle period, or of the request being read
        self._head: h11.Request | None = None
        self._body = bytearray()
        self._out: list[bytes] = []
        self._events: list[Event] = []
        #: The connection is finished: flush ``data_to_send``, close, ``connection_lost``.
        self.should_close_transport = False
        #: Why the stack asked for the close (for logs), else ``None``.
        self.close_reason: str | None = None

    @property
    def buffered(self) -> int:
        """Bytes of a request body held until the request is complete."""
        return len(self._body)

    @property
    def awaiting_response(self) -> bool:
        """A complete request waits for :meth:`respond`."""
        return self._phase is _Phase.RESPONDING

    # -- the driving contract ---------------------------------------------------------

    def connection_made(self, now: float) -> None:
        """The client connected: the idle timer starts."""
        if self._phase is not _Phase.NEW:
            raise LocalProtocolError(
                "connection_made: already called (one HTTPServerStack per connection)"
            )
        self._phase = _Phase.IDLE
        self._since = now

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the client; ``b""`` means EOF (not an error, even mid-request).

        Raises :class:`RemoteProtocolError` (only) after queuing a 400, 413 or 431
        response; ``should_close_transport`` is then set.
        """
        phase = self._phase
        if phase is _Phase.NEW or phase is _Phase.CLOSED:
            raise LocalProtocolError(
                "receive_data: no connection; call connection_made first"
                if phase is _Phase.NEW
                else "receive_data: connection_lost was called"
            )
        if phase is _Phase.CLOSING:
            return  # the connection is finishing; nothing more is read
        if data and self._conn.trailing_data[1]:
            raise LocalProtocolError("receive_data: data after EOF (b'')")
        if not data:
            self._conn.receive_data(b"")
            if phase is not _Phase.RESPONDING:  # a half-closed client still gets its answer
                self._finish("client closed the connection")
            return
        if phase is _Phase.RESPONDING:
            held = len(self._conn.trailing_data[0]) + len(data)
            if held > self.max_header_size + self.max_body_size:
                self._finish("too much pipelined data")
                raise RemoteProtocolError(
                    f"client pipelined {held} bytes, over max_header_size + max_body_size"
                )
            self._conn.receive_data(data)
            return
        if phase is _Phase.IDLE:
            self._phase = _Phase.READING
            self._since = now
        self._conn.receive_data(data)
        error = self._process()
        if error is not None:
            raise error

    def respond(
        self,
        status: int,
        body: bytes = b"",
        headers: Iterable[tuple[str, str]] = (),
        *,
        now: float,
        json: Any = _UNSET,
        chunks: Iterable[bytes] | None = None,
    ) -> None:
        """Answer the current request.

        Give the body as ``body`` (sent with ``Content-Length``), as ``json`` (encoded
        by msgspec, ``Content-Type: application/json`` added), or as ``chunks`` (sent
        with ``Transfer-Encoding: chunked``, one chunk per non-empty item; close-
        delimited to an HTTP/1.0 client).  A ``Connection: close`` header closes the
        connection after the response.  Never raises :class:`RemoteProtocolError`:
        garbage pipelined behind the request is answered with 400 and
        ``should_close_transport``.
        """
        if self._phase is not _Phase.RESPONDING:
            raise LocalProtocolError("respond: no request is awaiting a response")
        try:
            self._respond(status, body, headers, now=now, json=json, chunks=chunks)
        finally:
            if self.wakeup is not None:
                self.wakeup()

    def _respond(
        self,
        status: int,
        body: bytes,
        headers: Iterable[tuple[str, str]],
        *,
        now: float,
        json: Any,
        chunks: Iterable[bytes] | None,
    ) -> None:
        require(
            isinstance(status, int) and not isinstance(status, bool) and 200 <= status <= 599,
            "status",
            f"an int from 200 to 599, got {status!r}",
        )
        pairs = list(check_headers(tuple(headers)))
        given = sum(1 for x in (body != b"", json is not _UNSET, chunks is not None) if x)
        require(given <= 1, "body", "only one of body, json and chunks")
        require(isinstance(body, bytes), "body", "bytes")
        if json is not _UNSET:
            body = encode_json(json, "json")
            if find_header(tuple(pairs), "content-type") is None:
                pairs.append(("Content-Type", "application/json"))
        if chunks is not None:
            require(
                isinstance(chunks, Iterable) and not isinstance(chunks, bytes | str),
                "chunks",
                "a sequence of bytes",
            )
            parts = list(chunks)
            require(all(isinstance(part, bytes) for part in parts), "chunks", "a sequence of bytes")
            parts = [part for part in parts if part]  # an empty chunk would end the body
        else:
            parts = [body] if body else []
            pairs.append(("Content-Length", str(len(body))))
        if status in _NO_BODY_STATUSES:
            require(not parts and chunks is None, "body", f"no body with status {status}")
            pairs = [(n, v) for n, v in pairs if n != "Content-Length"]
        conn = self._conn
        self._out.append(
            conn.send(h11.Response(status_code=status, reason=reason_phrase(status), headers=pairs))
        )
        if self._head is not None and self._head.method == b"HEAD":
            parts = []  # same headers as the GET, no body
        self._out.extend(conn.send(h11.Data(data=part)) for part in parts)
        self._out.append(conn.send(h11.EndOfMessage()))
        self._head = None
        self._body = bytearray()
        if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
            conn.start_next_cycle()
            self._phase = _Phase.IDLE
            self._since = now
            pending, closed = conn.trailing_data
            if pending:
                self._phase = _Phase.READING
                self._process()  # an error response is queued; nothing is raised here
            elif closed:
                self._finish("client closed the connection")
        else:
            self._finish("connection not kept alive")

    def data_to_send(self) -> bytes:
        """Drain the bytes to write to the transport."""
        out = b"".join(self._out)
        self._out.clear()
        return out

    def events(self) -> list[Event]:
        """Drain events: at most one :class:`HTTPRequestReceived` until it is answered."""
        events = self._events
        self._events = []
        return events

    def handle_timer(self, now: float) -> None:
        """Close an idle connection; answer a request that is too slow with 408."""
        if self._phase is _Phase.IDLE and now >= self._since + self.idle_timeout:
            self._finish("idle timeout")
        elif self._phase is _Phase.READING and now >= self._since + self.request_timeout:
            self._reject(408, "request not completed within request_timeout")

    def next_deadline(self) -> float | None:
        if self._phase is _Phase.IDLE:
            return self._since + self.idle_timeout
        if self._phase is _Phase.READING:
            return self._since + self.request_timeout
        return None

    def connection_lost(self, now: float) -> None:
        """The transport is gone; the stack is finished (a pending request is dropped)."""
        self._phase = _Phase.CLOSED
        self._out.clear()
        self.should_close_transport = False

    # -- internals ----------------------------------------------------------------------

    def _process(self) -> RemoteProtocolError | None:
        """Read events until a request is complete or data runs out.

        Returns (rather than raises) the error to report after a rejection, so
        :meth:`respond` can parse pipelined data without raising.
        """
        conn = self._conn
        while self._phase is _Phase.READING:
            try:
                event = conn.next_event()
            except h11.RemoteProtocolError as exc:
                status = exc.error_status_hint
                why = redact(str(exc))  # h11 quotes the bad line: it may hold a token
                if status == 431:  # h11's buffer passed max_incomplete_event_size
                    self._reject(431, "request headers too large")
                    return RemoteProtocolError(
                        f"request headers exceed max_header_size={self.max_header_size} bytes"
                    )
                self._reject(status, f"malformed request: {why}")
                return RemoteProtocolError(f"malformed HTTP request ({status}): {why}")
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return None
            if isinstance(event, h11.Request):
                error = self._on_head(event)
                if error is not None:
                    return error
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > self.max_body_size:
                    return self._too_large()
            elif isinstance(event, h11.EndOfMessage):
                self._on_end()
            elif isinstance(event, h11.ConnectionClosed):
                self._finish("client closed the connection")
        return None

    def _on_head(self, event: h11.Request) -> RemoteProtocolError | None:
        size = len(event.method) + len(event.target) + 12
        size += sum(len(name) + len(value) + 4 for name, value in event.headers.raw_items())
        if size > self.max_header_size:
            self._reject(431, "request headers too large")
            return RemoteProtocolError(
                f"request headers ({size} bytes) exceed max_header_size={self.max_header_size}"
            )
        self._head = event
        self._body = bytearray()
        length = find_header(
            tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers),
            "content-length",
        )
        if length is not None and int(length) > self.max_body_size:
            return self._too_large()
        if self._conn.they_are_waiting_for_100_continue:
            self._out.append(
                self._conn.send(
                    h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
                )
            )
        return None

    def _too_large(self) -> RemoteProtocolError:
        self._reject(413, "request body too large")
        return RemoteProtocolError(f"request body exceeds max_body_size={self.max_body_size} bytes")

    def _on_end(self) -> None:
        head = self._head
        assert head is not None
        target = head.target.decode("ascii")
        path, _, query = target.partition("?")
        self._events.append(
            HTTPRequestReceived(
                method=head.method.decode("ascii"),
                target=target,
                path=path,
                query=tuple(parse_qsl(query, keep_blank_values=True)),
                headers=tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in head.headers),
                body=bytes(self._body),
                http_version=head.http_version.decode("ascii"),
                peer=self.peer,
            )
        )
        self._phase = _Phase.RESPONDING

    def _reject(self, status: int, reason: str) -> None:
        """Answer with ``status`` and ``Connection: close`` if a response can still go."""
        conn = self._conn
        if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            text = f"{status} {reason_phrase(status)}\n".encode()
            headers = [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(text))),
                ("Connection", "close"),
            ]
            try:
                self._out.append(
                    conn.send(
                        h11.Response(
                            status_code=status, reason=reason_phrase(status), headers=headers
                        )
                    )
                )
                self._out.append(conn.send(h11.Data(data=text)))
                self._out.append(conn.send(h11.EndOfMessage()))
            except h11.LocalProtocolError:
                pass
        self._finish(reason)

    def _finish(self, reason: str) -> None:
        if self._conn.our_state is not h11.ERROR:
            with contextlib.suppress(h11.LocalProtocolError):
                self._conn.send(h11.ConnectionClosed())
        self._phase = _Phase.CLOSING
        self.should_close_transport = True
        self.close_reason = reason
