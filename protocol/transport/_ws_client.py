"""The WebSocket client stack: a venue client machine over bytes, with reconnects.

One :class:`WebSocketClientStack` lives as long as the caller's session, across any
number of TCP connections.  It

* builds the upgrade request from the machine's ``handshake`` (path, query,
  subprotocols such as Rails' ``authorization#<JWT>``, extra headers) at every connect;
* routes complete text messages into the machine and frames its outbound messages;
* answers pings, sends keepalive pings every ``ping_interval`` and declares the peer
  dead when a pong is ``ping_timeout`` late (a connection that goes silent while
  looking open is an event, never a hang);
* bounds inbound messages (``max_message_size``): a bigger one is closed with 1009;
* reads a refused upgrade (an HTTP error response) whatever the read boundaries: the
  status, the headers and the first ``MAX_REJECT_BODY`` bytes of the body are reported
  as :class:`UpgradeRejected` once the body is complete, the transport ends, or the
  bound is reached (the rest is not read);
* surfaces close codes (Deribit's 4000 included) as :class:`WebSocketClosed`;
* retries a refused upgrade when retrying can
  help (408, 425, 429, 5xx) or when the machine says it can fix the refusal: a machine
  may have an ``upgrade_refused(status, now) -> bool`` method, called once per refusal,
  which returns ``True`` when its next handshake will differ (a handshake token it is
  renewing after a 401); its events follow the ``UpgradeRejected``;
* after the transport is gone, schedules the next attempt with :class:`Backoff` (reset
  when the previous connection stayed up ``backoff_reset_after`` seconds, or the machine
  closed it on purpose with ``CloseRequest(planned=True)``) and tells the
  binding to dial through ``state`` (``DIAL``) and a :class:`ReconnectDue` event.

The binding's loop: when ``state is DIAL`` open a transport and call
``connection_made`` (report a failed dial with ``connection_lost``); write
``data_to_send()``; feed reads to ``receive_data``; when ``should_close_transport``,
close the transport and call ``connection_lost``; call ``handle_timer`` at
``next_deadline()``.  The venue machine outlives connections: on the next
``connection_made`` it re-authenticates and resubscribes by itself.

Randomness: frame masks and backoff jitter come from the injected ``rng``; only the
``Sec-WebSocket-Key`` nonce of the upgrade request is drawn by wsproto.
"""

from __future__ import annotations

import wsproto
import wsproto.events as wse
import wsproto.utilities
from wsproto.connection import ConnectionState

from .._contract import ClientMachine, redact_subprotocol
from .._errors import LocalProtocolError
from .._secrets import MASK, is_secret_name, redact
from .._sources import RandomSource
from ._backoff import Backoff
from ._frames import FrameReader
from ._websocket import (
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MESSAGE_TIMEOUT,
    Connected,
    ReconnectDue,
    ReconnectScheduled,
    StackState,
    UpgradeRejected,
    check_positive,
)
from ._ws_common import StackBase, Violation

__all__ = ["MAX_REJECT_BODY", "WebSocketClientStack"]

#: Refusals worth retrying; any other 4xx would be refused again, so the stack stops.
_RETRYABLE_STATUSES = frozenset({408, 425, 429})

#: Bytes of a refused upgrade's body kept for :class:`UpgradeRejected` (redacted).
MAX_REJECT_BODY = 64 * 1024
_MAX_RESPONSE_HEAD = 64 * 1024


class WebSocketClientStack(StackBase):
    """A client venue machine wrapped into bytes in / bytes out, across reconnects."""

    machine: ClientMachine

    def __init__(
        self,
        machine: ClientMachine,
        *,
        host: str,
        rng: RandomSource,
        backoff: Backoff | None = None,
        reconnect: bool = True,
        ping_interval: float | None = 20.0,
        ping_timeout: float = 20.0,
        open_timeout: float = 10.0,
        close_timeout: float = 5.0,
        backoff_reset_after: float = 10.0,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_events: int = 10_000,
        fast_path: bool = True,
        message_timeout: float = DEFAULT_MESSAGE_TIMEOUT,
    ) -> None:
        if not isinstance(host, str) or not host:
            raise LocalProtocolError(f"invalid host: expected a non-empty str, got {host!r}")
        check_positive("backoff_reset_after", backoff_reset_after)
        super().__init__(
            machine,
            mask_rng=rng,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            max_message_size=max_message_size,
            max_events=max_events,
            message_timeout=message_timeout,
        )
        self.host = host
        self.backoff = backoff if backoff is not None else Backoff(rng)
        self.reconnect = reconnect
        self.backoff_reset_after = backoff_reset_after
        self.state = StackState.DIAL
        self.attempt = 0  # 0 for the first connection, +1 per reconnect
        self._final = False  # no reconnect after this connection
        self._reconnect_at: float | None = None
        self._reject: tuple[int, list[tuple[str, str]], bytearray] | None = None
        self.fast_path = fast_path
        self._reader = FrameReader(max_message_size)
        self._head = bytearray()
        self._head_done = False  # wsproto has the whole response head
        self._refused = False  # the refusal is reported: nothing more is read

    def connection_made(self, now: float) -> None:
        """The transport (TCP, TLS) is up: queue the upgrade request."""
        if self.state is not StackState.DIAL:
            raise LocalProtocolError(
                f"connection_made() in state {self.state.value}; expected state dial"
            )
        self._reset_connection_state()
        self._reject = None
        self._reader = FrameReader(self.max_message_size)
        self._head = bytearray()
        self._head_done = False
        self._refused = False
        self.should_close_transport = False
        self._reconnect_at = None
        hs = self.machine.handshake
        self._ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        request = wse.Request(
            host=self.host,
            target=hs.target,
            subprotocols=list(hs.subprotocols),
            extra_headers=[(k.encode(), v.encode()) for k, v in hs.headers],
        )
        self._out.append(self._ws.send(request))
        self.state = StackState.CONNECTING
        self._open_deadline = now + self.open_timeout

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the transport; ``b""`` means end of file.

        Raises :class:`RemoteProtocolError` when the peer broke the WebSocket protocol
        (garbage bytes, a bad upgrade response, an oversize message); a close frame is
        queued where possible and ``should_close_transport`` is set.  Events produced
        before the violation stay queued.

        With ``fast_path`` (the default), complete simple text frames skip wsproto's
        parser (see :class:`~tradewire.protocol.transport._frames.FrameReader`); wsproto handles
        everything else, byte for byte in order, and every error.
        """
        if not data and self._reject is not None:
            self._on_rejected(now)  # the body ends with the transport: report what came
        if self._refused:
            return  # the rest of a refusal (past MAX_REJECT_BODY, or its end) is not read
        if not self.fast_path or not data:
            super().receive_data(data, now)
        elif self.state is StackState.CONNECTING and not self._head_done:
            self._receive_head(data, now)
        elif self._opened_at is not None and self.state in (StackState.OPEN, StackState.CLOSING):
            # Also while closing: the reader may hold part of a frame that wsproto must
            # see whole; messages it finds then are dropped, as wsproto would drop them.
            self._receive_open(data, now)
        else:
            super().receive_data(data, now)

    def _receive_head(self, data: bytes, now: float) -> None:
        # Give wsproto the response head only, so no frame bytes are left in its buffer
        # when the fast path takes over.
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > _MAX_RESPONSE_HEAD:
                head, self._head = bytes(self._head), bytearray()
                super().receive_data(head, now)  # let wsproto/h11 fail on it
            return
        head, rest = bytes(self._head[: end + 4]), bytes(self._head[end + 4 :])
        self._head = bytearray()
        self._head_done = True  # what follows is frames, or a refusal's body: wsproto's
        super().receive_data(head, now)
        if rest:
            if self.state is StackState.OPEN:
                self._receive_open(rest, now)
            else:
                super().receive_data(rest, now)

    def _receive_open(self, data: bytes, now: float) -> None:
        ws = self._ws
        if ws is None or _closed(ws):
            return
        self._events.ensure_room()
        whole: list[bytes] = []  # complete simple messages, delivered as one read
        try:
            for chunk in self._reader.runs(data):
                if isinstance(chunk, list):
                    if whole:
                        whole += chunk
                    else:
                        whole = chunk
                    continue
                if whole:
                    self._deliver_read(whole, now)
                    whole = []
                if _closed(ws):  # the peer's close frame came in an earlier chunk
                    break
                self._pump(now)  # keep machine events ahead of what wsproto reports
                ws.receive_data(chunk)
                for event in ws.events():
                    self._handle_ws_event(event, now)
            if whole:
                self._deliver_read(whole, now)
        except (wsproto.utilities.RemoteProtocolError, Violation) as exc:
            self._raise_violation(exc)
        finally:
            self._pump(now)

    def handle_timer(self, now: float) -> None:
        self._events.ensure_room()
        self.machine.handle_timer(now)
        self._timers(now)
        if (
            self.state is StackState.BACKOFF
            and self._reconnect_at is not None
            and now >= self._reconnect_at
        ):
            self.state = StackState.DIAL
            self._reconnect_at = None
            self._events.append(ReconnectDue(attempt=self.attempt))
        self._pump(now)

    def next_deadline(self) -> float | None:
        candidates = [self.machine.next_deadline(), *self._deadlines()]
        if self.state is StackState.BACKOFF:
            candidates.append(self._reconnect_at)
        present = [c for c in candidates if c is not None]
        return min(present) if present else None

    def connection_lost(self, now: float) -> None:
        """The transport is closed (or a dial failed): schedule the next attempt."""
        if self.state in (StackState.BACKOFF, StackState.CLOSED):
            return
        request = self.machine.close_request  # read before the machine forgets it
        planned = request is not None and request.planned
        self._machine_lost(now)
        opened = self._opened_at
        if planned or (opened is not None and now - opened >= self.backoff_reset_after):
            self.backoff.reset()
        self._ws = None
        self._out.clear()
        self.should_close_transport = False
        self.attempt += 1
        if self._final or not self.reconnect:
            self.state = StackState.CLOSED
        else:
            delay = self.backoff.next_delay()
            self._reconnect_at = now + delay
            self.state = StackState.BACKOFF
            self._events.append(
                ReconnectScheduled(attempt=self.attempt, delay=delay, at=self._reconnect_at)
            )
        self._pump(now)

    def close(self, now: float, code: int = 1000, reason: str = "") -> None:
        """Close for good: a close handshake if open, and no reconnect afterwards."""
        self._final = True
        if self.state is StackState.OPEN:
            self._send_close(code, reason, now)
        elif self.state is StackState.CONNECTING:
            self.should_close_transport = True
        elif self.state in (StackState.DIAL, StackState.BACKOFF):
            self.state = StackState.CLOSED
            self._reconnect_at = None

    # -- the opening handshake ----------------------------------------------------------

    def _handle_handshake_event(self, event: wse.Event, now: float) -> None:
        if isinstance(event, wse.AcceptConnection):
            self.subprotocol = event.subprotocol
            shown = redact_subprotocol(event.subprotocol)  # a token never goes into events
            self._events.append(Connected(subprotocol=shown, attempt=self.attempt))
            self._opened(now)
            self._pump(now)
        elif isinstance(event, wse.RejectConnection):
            self._reject = (
                event.status_code,
                [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers],
                bytearray(),
            )
            if not event.has_body:
                self._on_rejected(now)
        elif isinstance(event, wse.RejectData) and self._reject is not None:
            body = self._reject[2]
            body += event.data[: MAX_REJECT_BODY + 1 - len(body)]
            if event.body_finished or len(body) > MAX_REJECT_BODY:
                self._on_rejected(now)

    def _on_rejected(self, now: float) -> None:
        """Report the refusal (once) and end the connection; what is left unread stays so."""
        if self._reject is None:
            return
        status, headers, body = self._reject
        self._reject = None
        self._refused = True
        self._open_deadline = None  # answered: not an upgrade that timed out
        retrying = self.reconnect and (
            status in _RETRYABLE_STATUSES or status >= 500 or self._machine_can_fix(status, now)
        )
        if not retrying:
            self._final = True
        self._events.append(
            UpgradeRejected(
                status=status,
                headers=redact_headers(headers),
                body=redact(bytes(body[:MAX_REJECT_BODY])),
                retrying=retrying,
            )
        )
        self._events.extend(self.machine.events())  # what the machine said about it
        self.should_close_transport = True

    def _machine_can_fix(self, status: int, now: float) -> bool:
        """Ask the machine's optional ``upgrade_refused(status, now)`` hook whether a
        refusal that retrying would not fix by itself (a 401 for an expired token) can be
        fixed by the machine before the next attempt (a renewed token in its handshake)."""
        hook = getattr(self.machine, "upgrade_refused", None)
        return hook is not None and hook(status, now) is True


def redact_headers(headers: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((name, MASK if is_secret_name(name) else value) for name, value in headers)


def _closed(ws: wsproto.WSConnection) -> bool:
    # A function, not an inline test: the state changes while a chunk is processed.
    return ws.state is ConnectionState.CLOSED
