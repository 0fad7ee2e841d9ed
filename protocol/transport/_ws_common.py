"""What the WebSocket client and server stacks share: message assembly, keepalive,
the closing handshake, and moving a venue machine's output onto the wire.

Subclasses own the opening handshake (the client builds it from the machine's
``handshake`` and reconnects; the server asks the machine's ``decide_upgrade``).
"""

from __future__ import annotations

from typing import Literal, NoReturn

import wsproto
import wsproto.events as wse
import wsproto.utilities
from wsproto.connection import ConnectionState

from .._bounded import BoundedQueue
from .._contract import Machine
from .._errors import RemoteProtocolError
from .._events import Command, ConnectionDead, Event, MessageRejected
from .._sources import RandomSource, RequestId
from ._frames import OP_PING, OP_PONG, OP_TEXT, encode_frame
from ._websocket import StackState, WebSocketClosed, check_positive

__all__ = ["StackBase", "Violation"]


class Violation(Exception):
    """Internal: a peer violation found while handling wsproto events."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class StackBase:
    """The part of a WebSocket stack that does not depend on its role."""

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
    ) -> None:
        check_positive("ping_interval", ping_interval, allow_none=True)
        for name, value in (
            ("ping_timeout", ping_timeout),
            ("open_timeout", open_timeout),
            ("close_timeout", close_timeout),
            ("max_message_size", max_message_size),
            ("max_events", max_events),
        ):
            check_positive(name, value)
        self.machine = machine
        self._mask_rng = mask_rng
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.open_timeout = open_timeout
        self.close_timeout = close_timeout
        self.max_message_size = max_message_size
        self._events: BoundedQueue[Event] = BoundedQueue("event queue", max_events, "events")
        self._out: list[bytes] = []
        self.state = StackState.CONNECTING
        self.should_close_transport = False
        self.subprotocol: str | None = None
        self._ws: wsproto.WSConnection | None = None
        self._machine_connected = False
        self._reset_connection_state()

    def _reset_connection_state(self) -> None:
        self._fragments: list[str] = []
        self._fragment_size = 0
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
        raise RemoteProtocolError(f"WebSocket peer error: {exc}", close_code=code) from None

    def send(self, command: Command, now: float) -> RequestId | None:
        """Pass a command to the machine; its messages go out while the connection is open."""
        self._events.ensure_room()
        request_id = self.machine.send(command, now)
        self._pump(now)
        return request_id

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

    # -- shared internals ---------------------------------------------------------------

    def _handle_ws_event(self, event: wse.Event, now: float) -> None:
        if isinstance(event, wse.TextMessage):
            self._on_text(event.data, event.message_finished, now)
        elif isinstance(event, wse.BytesMessage):
            self._on_binary(len(event.data), event.message_finished)
        elif isinstance(event, wse.Ping):
            self._out.append(encode_frame(OP_PONG, bytes(event.payload), self._mask_rng))
            if self._machine_connected:
                # An optional hook: a venue whose idle timer counts control pings as
                # activity (Deriv's server) implements ``ping_received``.
                ping_received = getattr(self.machine, "ping_received", None)
                if ping_received is not None:
                    ping_received(now)
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
        self._fragment_size += len(data)
        if self._fragment_size > self.max_message_size:
            raise Violation(f"message exceeds max_message_size={self.max_message_size}", 1009)
        if not finished:
            self._fragments.append(data)
            return
        if self._fragments:
            self._fragments.append(data)
            data = "".join(self._fragments)
            self._fragments = []
        self._fragment_size = 0
        if self.state is not StackState.OPEN:
            return  # after our close frame, messages are no longer delivered
        self._deliver(data, now)
        self._pump(now)

    def _deliver(self, data: bytes | str, now: float) -> None:
        """One complete text message into the machine; a bad one becomes an event."""
        try:
            self.machine.receive_message(data, now)
        except RemoteProtocolError as exc:
            raw = data.encode("utf-8", "replace") if isinstance(data, str) else data
            self._events.append(MessageRejected(reason=str(exc), data=raw[:512]))

    def _on_binary(self, size: int, finished: bool) -> None:
        self._fragment_size += size
        if self._fragment_size > self.max_message_size:
            raise Violation(f"message exceeds max_message_size={self.max_message_size}", 1009)
        if finished:
            self._fragment_size = 0
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

    def _fail_transport(self, code: int) -> None:
        """After a peer violation: send our close frame if we can, then hang up."""
        ws = self._ws
        if ws is not None and ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            self._out.append(ws.send(wse.CloseConnection(code=code, reason="")))
            self._sent_close = (code, "")
        if self.state in (StackState.OPEN, StackState.CLOSING):
            self._report_closed(code, "", "local")
        self.state = StackState.CLOSING
        self.should_close_transport = True

    def _timers(self, now: float) -> None:
        state = self.state
        if state is StackState.CONNECTING:
            if self._open_deadline is not None and now >= self._open_deadline:
                self._dead("WebSocket upgrade not completed in time")
        elif state is StackState.OPEN:
            if self._pong_deadline is not None and now >= self._pong_deadline:
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
            return [self._pong_deadline or self._next_ping]
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
        assert ws is not None
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
                rng = self._mask_rng
                self._out.extend([encode_frame(OP_TEXT, m, rng) for m in messages])
            request = machine.close_request
            if request is not None:
                if request.abort:
                    self.state = StackState.CLOSING
                    self.should_close_transport = True
                else:
                    self._send_close(request.code, request.reason, now)
        self._events.extend(machine.events())
