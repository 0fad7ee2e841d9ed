"""The WebSocket server stack: a venue server machine over one accepted connection.

It parses the upgrade request, asks the machine's ``decide_upgrade`` whether to accept
it (echoing the subprotocol the machine picks, which must be one the client offered) or
to refuse it with an HTTP status (401, 403, 429 ...) and a short body, then routes
messages both ways exactly as the client stack does.  A server stack lives for one
connection; there is no reconnect.  Keepalive pings are off by default
(``ping_interval=None``): venues such as Deribit run their own heartbeat in the machine.
A client's control-frame ping is answered here and reported to a machine that has an
optional ``ping_received(now)`` (a venue whose idle close counts pings).

The server closes the TCP connection after the closing handshake (RFC 6455 section
7.1.1): ``should_close_transport`` turns true when the client's close frame arrives or
``close_timeout`` passes.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import wsproto
import wsproto.events as wse
import wsproto.utilities

from .._contract import (
    AcceptUpgrade,
    RejectUpgrade,
    ServerMachine,
    UpgradeRequest,
    redact_subprotocol,
)
from .._errors import LocalProtocolError
from .._secrets import redact
from ._websocket import (
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_MESSAGE_TIMEOUT,
    StackState,
    UpgradeAccepted,
    UpgradeRefused,
)
from ._ws_common import StackBase

__all__ = ["WebSocketServerStack"]

#: Bytes of upgrade request head accepted, whole or in pieces (wsproto's h11 refuses an
#: incomplete head past 16 KiB; a complete one in one read is held to the same bound).
MAX_REQUEST_HEAD = 16 * 1024


class WebSocketServerStack(StackBase):
    """A server venue machine wrapped into bytes in / bytes out for one connection."""

    machine: ServerMachine

    def __init__(
        self,
        machine: ServerMachine,
        *,
        peer: str | None = None,
        ping_interval: float | None = None,
        ping_timeout: float = 20.0,
        open_timeout: float = 10.0,
        close_timeout: float = 5.0,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_events: int = 10_000,
        message_timeout: float = DEFAULT_MESSAGE_TIMEOUT,
    ) -> None:
        super().__init__(
            machine,
            mask_rng=None,  # servers never mask
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            open_timeout=open_timeout,
            close_timeout=close_timeout,
            max_message_size=max_message_size,
            max_events=max_events,
            message_timeout=message_timeout,
        )
        self.peer = peer
        self.request: UpgradeRequest | None = None
        self._made = False
        self._head = bytearray()

    def connection_made(self, now: float, initial_data: bytes = b"") -> None:
        """A client connected; ``initial_data`` is anything already read from it."""
        if self._made:
            raise LocalProtocolError("connection_made() called twice; a server stack is single-use")
        self._made = True
        self._ws = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        self._open_deadline = now + self.open_timeout
        if initial_data:
            self.receive_data(initial_data, now)

    def receive_data(self, data: bytes, now: float) -> None:
        """Bytes from the client; ``b""`` means end of file.

        Until the upgrade is decided, only the request head goes to wsproto: wsproto's
        server drops any frame bytes that arrive in the same read as the head, so the
        stack holds them back and feeds them once the connection is open.
        """
        if self.state is not StackState.CONNECTING or not data or self._ws is None:
            super().receive_data(data, now)
            return
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0 or end + 4 > MAX_REQUEST_HEAD:
            if len(self._head) > MAX_REQUEST_HEAD:
                # let wsproto/h11 refuse it: over its bound, incomplete (even if the end
                # came in the same read)
                cut = len(self._head) if end < 0 else end + 3
                head, self._head = bytes(self._head[:cut]), bytearray()
                super().receive_data(head, now)
            return
        head, rest = bytes(self._head[: end + 4]), bytes(self._head[end + 4 :])
        self._head = bytearray()
        super().receive_data(head, now)
        if rest and self._accepted():
            super().receive_data(rest, now)

    @property
    def buffered(self) -> int:
        """Bytes held for an unfinished request head or inbound message."""
        return len(self._head) + len(self._fragments)

    def _on_ping(self, now: float) -> None:
        # A machine that counts control-frame pings as liveness (an idle close that only
        # pings restart) says so with ``ping_received``; it is optional in the contract.
        hook = getattr(self.machine, "ping_received", None)
        if hook is not None and self._machine_connected:
            hook(now)

    def _accepted(self) -> bool:
        # A method, not an inline test: receive_data above changes the state.
        return self.state is StackState.OPEN

    def handle_timer(self, now: float) -> None:
        self._events.ensure_room()
        try:
            if self._machine_connected:
                self.machine.handle_timer(now)
            self._timers(now)
            self._pump(now)
        finally:
            self._wake()

    def next_deadline(self) -> float | None:
        candidates = self._deadlines()
        if self._machine_connected:
            candidates.append(self.machine.next_deadline())
        present = [c for c in candidates if c is not None]
        return min(present) if present else None

    def connection_lost(self, now: float) -> None:
        if self.state is StackState.CLOSED:
            return
        self._machine_lost(now)
        self.state = StackState.CLOSED
        self._ws = None
        self._head = bytearray()
        self.should_close_transport = False
        self._pump(now)

    def close(self, now: float, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake (or hang up if the upgrade is not done)."""
        if self.state is StackState.OPEN:
            self._send_close(code, reason, now)
        elif self.state is StackState.CONNECTING:
            self.should_close_transport = True
        self._wake()

    # -- the opening handshake ----------------------------------------------------------

    def _handle_handshake_event(self, event: wse.Event, now: float) -> None:
        if not isinstance(event, wse.Request):
            return
        ws = self._ws
        assert ws is not None
        parts = urlsplit(event.target)
        headers = [("host", event.host)]
        headers += [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.extra_headers]
        request = UpgradeRequest(
            path=parts.path or "/",
            query=tuple(parse_qsl(parts.query, keep_blank_values=True)),
            subprotocols=tuple(event.subprotocols),
            headers=tuple(headers),
            peer=self.peer,
        )
        self.request = request
        decision = self.machine.decide_upgrade(request, now)
        if isinstance(decision, AcceptUpgrade):
            if decision.subprotocol is not None and decision.subprotocol not in event.subprotocols:
                raise LocalProtocolError(
                    f"invalid subprotocol: {decision.subprotocol!r} was not offered; "
                    f"offered: {event.subprotocols!r}"
                )
            self._out.append(
                ws.send(
                    wse.AcceptConnection(
                        subprotocol=decision.subprotocol,
                        extra_headers=[(k.encode(), v.encode()) for k, v in decision.headers],
                    )
                )
            )
            self.subprotocol = decision.subprotocol
            shown = redact_subprotocol(decision.subprotocol)  # a token never goes into events
            self._events.append(UpgradeAccepted(request=request, subprotocol=shown))
            self._opened(now)
        elif isinstance(decision, RejectUpgrade):
            self._refuse(decision.status, decision.body, list(decision.headers), request)
        else:
            raise LocalProtocolError(
                f"decide_upgrade() returned {decision!r}; expected AcceptUpgrade or RejectUpgrade"
            )

    def _refuse(
        self,
        status: int,
        body: bytes,
        headers: list[tuple[str, str]],
        request: UpgradeRequest | None,
    ) -> None:
        ws = self._ws
        assert ws is not None
        names = {k.lower() for k, _ in headers}
        if "content-type" not in names:
            headers.append(("content-type", "text/plain; charset=utf-8"))
        headers.append(("content-length", str(len(body))))
        headers.append(("connection", "close"))
        self._out.append(
            ws.send(
                wse.RejectConnection(
                    status_code=status,
                    headers=[(k.encode(), v.encode()) for k, v in headers],
                    has_body=True,
                )
            )
        )
        self._out.append(ws.send(wse.RejectData(data=body, body_finished=True)))
        self._events.append(UpgradeRefused(request=request, status=status))
        self.state = StackState.CLOSING
        self.should_close_transport = True

    def _peer_violation(self, code: int, exc: Exception) -> None:
        if self.state is StackState.CONNECTING and self._ws is not None:
            # A broken upgrade request: answer 400 over HTTP, then hang up.
            try:
                self._refuse(400, f"bad WebSocket upgrade: {redact(str(exc))}".encode(), [], None)
            except wsproto.utilities.LocalProtocolError:  # past answering: just hang up
                self.should_close_transport = True
            return
        self._fail_transport(code)
