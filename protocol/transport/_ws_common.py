"""What the WebSocket client and server stacks share: message assembly, keepalive,
the closing handshake, and moving a venue machine's output onto the wire.

Subclasses own the opening handshake (the client builds it from the machine's
``handshake`` and reconnects; the server asks the machine's ``decide_upgrade``).

Message assembly is bounded in bytes (the UTF-8 payload as sent), three ways:

* ``max_message_size``: a message over it closes the connection with 1009;
* the machine's own request limit: a machine with an int attribute ``max_message_size``
  (the largest message it accepts; Deribit's 32 kB) refuses bigger ones by their size
  alone, so a message arriving in pieces is kept only up to that limit plus one byte
  and reaches the machine cut there: it answers as it answers any oversize message
  (Deribit: -32600) and the connection stays open, while the stack holds at most
  ``limit + 1`` bytes per connection, not ``max_message_size``;
* ``message_timeout``: a message whose last piece has not come this many seconds after
  its first closes the connection with 1008.

``buffered`` is the number of bytes held for an unfinished message, so a server can
bound what all its connections hold together.  Bytes of a rejected message kept in
:class:`MessageRejected` pass through :func:`~tradewire.protocol.redact` first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NoReturn

import wsproto
import wsproto.events as wse
import wsproto.utilities
from wsproto.connection import ConnectionState

from .._bounded import BoundedQueue
from .._contract import Machine
from .._errors import RemoteProtocolError
from .._events import Command, ConnectionDead, Event, MessageRejected
from .._secrets import redact
from .._sources import RandomSource, RequestId
from ._frames import OP_PING, OP_PONG, encode_frame, text_frames
from ._websocket import StackState, WebSocketClosed, check_positive

__all__ = ["MAX_REJECTED_BYTES", "StackBase", "Violation"]

#: Bytes of a rejected message kept in :class:`MessageRejected` (redacted).
MAX_REJECTED_BYTES = 512


class Violation(Exception):
    """Internal: a peer violation found while handling wsproto events."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class StackBase:
    """The part of a WebSocket stack that does not depend on its role."""

    #: Set by a server binding: called when application code queued output, events or
    #: a close on this stack (``send``, ``close``, ``handle_timer``), so it knows which
    #: connections have work without looking at all of them.
    wakeup: Callable[[], None] | None = None

    def __init__(
        self,
        machine: Machine,
        *,
        mask_rng: RandomSource | None,
        ping_interval: float | None,
        ping_timeout: float,
        open_timeout: float,
        close_timeout: float,
        max_message_size: int,
        max_events: int,
        message_timeout: float,
    ) -> None:
        check_positive("ping_interval", ping_interval, allow_none=True)
        for name, value in (
            ("ping_timeout", ping_timeout),
            ("open_timeout", open_timeout),
            ("close_timeout", close_timeout),
            ("max_message_size", max_message_size),
            ("max_events", max_events),
            ("message_timeout", message_timeout),
        ):
            check_positive(name, value)
        self.machine = machine
        self._mask_rng = mask_rng
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self.max_message_size = max_message_size
        self.message_timeout = message_timeout
        limit = getattr(machine, "max_message_size", None)
        #: Bytes of a message in pieces kept for the machine (see the module docstring).
        self.keep_limit = (
            limit + 1
            if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0
            else max_message_size
        )
        # a str this long or shorter is within both bounds whatever its characters
        self._safe_chars = min(self.keep_limit, max_message_size) // 4
        self._events: BoundedQueue[Event] = BoundedQueue("event queue", max_events, "events")
        self._out: list[bytes] = []
        self.state = StackState.CONNECTING
        self.should_close_transport = False
        self.subprotocol: str | None = None
        self._ws: wsproto.WSConnection | None = None
        self._machine_connected = False
        self._reset_connection_state()

    def _reset_connection_state(self) -> None:
        self._fragments = bytearray()  # UTF-8, at most keep_limit bytes
        self._fragment_size = 0  # bytes of the message so far, kept or not
        self._message_deadline: float | None = None
        self._opened_at: float | None = None
        self._open_deadline: float | None = None
        self._close_deadline: float | None = None
        self._next_ping: float | None = None
        self._pong_deadline: float | None = None
        self._ping_payload = b""
        self._ping_count = 0
        self._closed_reported = False
        self._sent_close: tuple[int, str] | None = None

    # -- public, shared -----------------------------------------------------------------

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished inbound message."""
        return len(self._fragments)

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the transport; ``b""`` means end of file.

        Raises :class:`RemoteProtocolError` when the peer broke the WebSocket protocol
        (garbage bytes, a bad handshake, an oversize message); a close frame (or an HTTP
        error response during the handshake) is queued and ``should_close_transport``
        is set.  Events produced before the violation stay queued.
        """
        ws = self._ws
        if ws is None or self.state not in (
            StackState.CONNECTING,
            StackState.OPEN,
            StackState.CLOSING,
        ):
            return  # nothing is listening: data after the close is dropped, as TCP would
        self._events.ensure_room()
        if ws.state is ConnectionState.CLOSED:
            return
        try:
            ws.receive_data(data if data else None)
            for event in ws.events():
                self._handle_ws_event(event, now)
        except (wsproto.utilities.RemoteProtocolError, Violation) as exc:
            self._raise_violation(exc)
        finally:
            if not data:
                self.should_close_transport = True
            self._pump(now)

    def _raise_violation(self, exc: Exception) -> NoReturn:
        code = exc.code if isinstance(exc, Violation) else 1002
        self._peer_violation(code, exc)
        raise RemoteProtocolError(
            f"WebSocket peer error: {redact(str(exc))}", close_code=code
        ) from None

    def send(self, command: Command, now: float) -> RequestId | None:
        """Pass a command to the machine; its messages go out while the connection is open."""
        self._events.ensure_room()
        try:
            request_id = self.machine.send(command, now)
            self._pump(now)
        finally:
            self._wake()
        return request_id

    def flush(self, now: float) -> None:
        """Move what was queued on the machine directly (not through :meth:`send`) onto
        the wire: a venue fanning one notification out to many connections writes to
        each machine, then flushes each stack once, rather than framing and waking per
        message."""
        try:
            self._pump(now)
        finally:
            self._wake()

    def _wake(self) -> None:
        wakeup = self.wakeup
        if wakeup is not None:
            wakeup()

    def data_to_send(self) -> bytes:
        out = self._out
        if not out:
            return b""
        self._out = []
        return b"".join(out)

    def events(self) -> list[Event]:
        return self._events.drain()

    # -- role hooks ---------------------------------------------------------------------

    def _handle_handshake_event(self, event: wse.Event, now: float) -> None:
        raise NotImplementedError

    def _peer_violation(self, code: int, exc: Exception) -> None:
        self._fail_transport(code)

    def _on_ping(self, now: float) -> None:
        """The peer sent a control-frame ping (already answered with a pong)."""

    # -- shared internals ---------------------------------------------------------------

    def _handle_ws_event(self, event: wse.Event, now: float) -> None:
        if isinstance(event, wse.TextMessage):
            self._on_text(event.data, event.message_finished, now)
        elif isinstance(event, wse.BytesMessage):
            self._on_binary(len(event.data), event.message_finished, now)
        elif isinstance(event, wse.Ping):
            self._out.append(encode_frame(OP_PONG, bytes(event.payload), self._mask_rng))
            self._on_ping(now)
        elif isinstance(event, wse.Pong):
            if self._pong_deadline is not None and bytes(event.payload) == self._ping_payload:
                self._pong_deadline = None
        elif isinstance(event, wse.CloseConnection):
            self._on_close(event, now)
        else:
            self._handle_handshake_event(event, now)

    def _opened(self, now: float) -> None:
        self.state = StackState.OPEN
        self._opened_at = now
        self._open_deadline = None
        if self.ping_interval is not None:
            self._next_ping = now + self.ping_interval
        self._machine_connected = True
        self.machine.connection_made(now)

    def _on_text(self, data: str, finished: bool, now: float) -> None:
        chunk: bytes | None = None
        size = len(data)
        if not finished or self._fragment_size or size > self._safe_chars:
            chunk = data.encode()  # part of a message, or maybe over a bound: count bytes
            size = len(chunk)
        self._count(size, finished, now)
        kept = self._fragments
        if not finished or kept:
            room = self.keep_limit - len(kept)
            if room > 0:
                kept += (chunk if chunk is not None else data.encode())[:room]
            if not finished:
                return
            message: bytes | str = bytes(kept)
            self._fragments = bytearray()
        else:
            message = data  # the usual case: a whole message in one piece
        if self.state is not StackState.OPEN:
            return  # after our close frame, messages are no longer delivered
        self._deliver(message, now)
        self._pump(now)

    def _count(self, size: int, finished: bool, now: float) -> None:
        """Add ``size`` bytes to the message in progress: 1009 past ``max_message_size``;
        its deadline starts with its first unfinished piece."""
        total = self._fragment_size + size
        if total > self.max_message_size:
            self._fragments = bytearray()
            raise Violation(f"message exceeds max_message_size={self.max_message_size}", 1009)
        if finished:
            self._fragment_size = 0
            self._message_deadline = None
        else:
            self._fragment_size = total
            if self._message_deadline is None:
                self._message_deadline = now + self.message_timeout

    def _deliver(self, data: bytes | str, now: float) -> None:
        """One complete text message into the machine; a bad one becomes an event."""
        try:
            self.machine.receive_message(data, now)
        except RemoteProtocolError as exc:
            self._events.append(rejected(str(exc), data))

    def _deliver_read(self, messages: list[bytes], now: float) -> None:
        """The complete messages of one read into the machine, oldest first: in one call
        when it has ``receive_messages``.  A message it refuses becomes an event, as in
        ``_deliver``; a close it asks for is sent before the messages after it, which are
        dropped, as wsproto drops messages after a close."""
        receive_many, count, start = batch_receive(self.machine), len(messages), 0
        while start < count and self.state is StackState.OPEN:
            if receive_many is None:
                self._deliver(messages[start], now)
                start += 1
            else:
                try:
                    taken = receive_many(messages[start:] if start else messages, now)
                except RemoteProtocolError as exc:
                    at = start + (exc.position or 0)
                    self._events.append(rejected(str(exc), messages[at]))
                    start = at + 1
                    continue
                if taken < 1:  # against the contract: the rest one by one, none lost
                    receive_many = None
                    continue
                start += taken
            if self.machine.close_request is not None:
                self._pump(now)

    def _on_binary(self, size: int, finished: bool, now: float) -> None:
        self._count(size, finished, now)
        if finished:
            self._events.append(
                MessageRejected(reason="binary message; venues speak text", data=b"")
            )

    def _on_close(self, event: wse.CloseConnection, now: float) -> None:
        ws = self._ws
        assert ws is not None
        code = int(event.code)
        if ws.state is ConnectionState.REMOTE_CLOSING:
            # The peer started the close handshake: answer it and hang up.
            self._out.append(ws.send(event.response()))
            self._report_closed(code, event.reason or "", "remote")
            self.state = StackState.CLOSING
            self.should_close_transport = True
        elif ws.state is ConnectionState.CLOSED and self._sent_close is not None:
            sent_code, sent_reason = self._sent_close
            self._report_closed(sent_code, sent_reason, "local")
            self.should_close_transport = True
        elif code == 1006:
            self._report_closed(1006, "", "transport")
            self.should_close_transport = True
        else:
            # wsproto found a framing violation (1002, 1007 ...): close with its code.
            raise Violation(event.reason or "invalid frame", code)

    def _fail_transport(self, code: int, reason: str = "") -> None:
        """After a peer violation: send our close frame if we can, then hang up."""
        self._fragments = bytearray()
        self._message_deadline = None
        ws = self._ws
        if ws is not None and ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            self._out.append(ws.send(wse.CloseConnection(code=code, reason=reason)))
            self._sent_close = (code, reason)
        if self.state in (StackState.OPEN, StackState.CLOSING):
            self._report_closed(code, reason, "local")
        self.state = StackState.CLOSING
        self.should_close_transport = True

    def _timers(self, now: float) -> None:
        state = self.state
        if state is StackState.CONNECTING:
            if self._open_deadline is not None and now >= self._open_deadline:
                self._dead("WebSocket upgrade not completed in time")
        elif state is StackState.OPEN:
            if self._message_deadline is not None and now >= self._message_deadline:
                self._fail_transport(1008, "message not completed in time")
            elif self._pong_deadline is not None and now >= self._pong_deadline:
                self._dead(f"no pong within {self.ping_timeout:g}s of a keepalive ping")
            elif self._next_ping is not None and now >= self._next_ping:
                self._send_ping(now)
        elif (
            state is StackState.CLOSING
            and self._close_deadline is not None
            and now >= self._close_deadline
        ):
            self.should_close_transport = True

    def _deadlines(self) -> list[float | None]:
        state = self.state
        if state is StackState.CONNECTING:
            return [self._open_deadline]
        if state is StackState.OPEN:
            return [self._pong_deadline or self._next_ping, self._message_deadline]
        if state is StackState.CLOSING and not self.should_close_transport:
            return [self._close_deadline]
        return []

    def _dead(self, reason: str) -> None:
        self._events.append(ConnectionDead(reason=reason))
        self.state = StackState.CLOSING
        self.should_close_transport = True

    def _send_ping(self, now: float) -> None:
        self._ping_count += 1
        self._ping_payload = self._ping_count.to_bytes(4, "big")
        self._out.append(encode_frame(OP_PING, self._ping_payload, self._mask_rng))
        self._pong_deadline = now + self.ping_timeout
        assert self.ping_interval is not None
        self._next_ping = now + self.ping_interval

    def _send_close(self, code: int, reason: str, now: float) -> None:
        ws = self._ws
        if ws is None or ws.state is not ConnectionState.OPEN:
            # the connection is ending already (the peer's close or EOF came first):
            # nothing to send, just hang up
            self.state = StackState.CLOSING
            self.should_close_transport = True
            return
        self._out.append(ws.send(wse.CloseConnection(code=code, reason=reason)))
        self._sent_close = (code, reason)
        self.state = StackState.CLOSING
        self._close_deadline = now + self.close_timeout

    def _report_closed(
        self, code: int, reason: str, by: Literal["local", "remote", "transport"]
    ) -> None:
        if self._closed_reported:
            return
        self._closed_reported = True
        self._events.append(WebSocketClosed(code=code, reason=reason, by=by))

    def _machine_lost(self, now: float) -> None:
        self._fragments = bytearray()
        self._message_deadline = None
        if self.state in (StackState.OPEN, StackState.CLOSING):
            self._report_closed(1006, "", "transport")
        if self._machine_connected:
            self._machine_connected = False
            self.machine.connection_lost(now)

    def _pump(self, now: float) -> None:
        """Move the machine's outbound messages and events into the stack's queues."""
        machine = self.machine
        if self.state is StackState.OPEN:
            messages = machine.messages_to_send()
            if messages:
                self._out.extend(text_frames(messages, self._mask_rng))
            request = machine.close_request
            if request is not None:
                if request.abort:
                    self.state = StackState.CLOSING
                    self.should_close_transport = True
                else:
                    self._send_close(request.code, request.reason, now)
        self._events.extend(machine.events())


def batch_receive(machine: object) -> Callable[[list[bytes], float], int] | None:
    """The machine's ``receive_messages``, when it belongs with its ``receive_message``.

    A wrapper that intercepts ``receive_message`` (a transcript recorder, a user's own
    proxy) and hands other names to the machine inside it (``__getattr__``) would see
    no message at all if the stack called the inner machine's batch receive: the batch
    is used only when both methods are bound to the same object, so such a wrapper (or
    a ``receive_message`` replaced on the instance) gets its messages one by one, as it
    expects.  Looked up per read: a replacement made after the stack was built counts.
    """
    many = getattr(machine, "receive_messages", None)
    one = getattr(machine, "receive_message", None)
    if many is None or getattr(many, "__self__", many) is not getattr(one, "__self__", one):
        return None
    return many  # type: ignore[no-any-return]


def rejected(reason: str, data: bytes | str) -> MessageRejected:
    """The event for a message the machine refused: its first bytes and the reason,
    credentials masked (a cut-off auth answer is still masked: see ``redact``)."""
    raw = data[:MAX_REJECTED_BYTES].encode("utf-8", "replace") if isinstance(data, str) else data
    return MessageRejected(
        reason=redact(reason), data=redact(raw[:MAX_REJECTED_BYTES])[:MAX_REJECTED_BYTES]
    )
