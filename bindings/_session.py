"""One client session: a client stack, its :class:`ClientCore`, and the rules of driving it.

:class:`Session` is what every binding's client driver calls: when to dial, what to do
after every input (:meth:`Session.pump`), how a dial failure, a close and the end are
handled.  Two rules live here so that no binding can forget them:

* the epoch clock (:mod:`._epoch`): every call into the stack gets ``now +
  epoch_offset``, and :meth:`Session.next_deadline` turns the stack's deadline back
  into the binding's clock;
* the end of a session: a machine whose ``session_ended`` turns true (Deribit's
  ``ClientProtocol`` after ``private/logout``, reported as its ``LoggedOut`` event)
  wants no more connections, so the stack is closed for good when the transport goes,
  instead of reconnecting to a session that would be closed at once.

A binding supplies the transport (a :class:`Link`) and the clock; nothing here does
I/O or reads a clock.
"""

from __future__ import annotations

import ssl
from typing import Protocol

from tradewire.protocol import (
    Command,
    ConnectionDead,
    ConnectionLost,
    HTTPClientStack,
    HTTPRequest,
    LocalProtocolError,
    RemoteProtocolError,
    RequestId,
    StackState,
    WebSocketClientStack,
)

from ._client import ClientCore
from ._common import CLOSE_GRACE, Endpoint, ProtocolViolation
from ._epoch import to_binding_time

__all__ = ["Link", "Session"]


class Link(Protocol):
    """A binding's handle on one open transport, as :meth:`Session.pump` uses it."""

    @property
    def broken(self) -> bool:
        """A write failed: the transport is gone."""

    def push(self, data: bytes) -> object:
        """Queue ``data`` for writing (never blocks); the result is ignored."""

    def shut(self, abort: bool) -> None:
        """Stop using the transport: flush and close it, or abort it at once."""


#: What :meth:`Session._after` asks of the transport.
KEEP, CLOSE, ABORT = 0, 1, 2


class Session:
    """A client stack, its :class:`ClientCore`, and the rules of driving it.

    The binding owns the transport and the clock.  It dials when :meth:`wants_dial`
    (reporting the outcome with :meth:`connected` or :meth:`dial_failed`), feeds reads
    to :meth:`receive`, calls :meth:`timer` at :meth:`next_deadline`, and after each
    of these calls :meth:`pump`, which writes the stack's bytes to the :class:`Link` and
    closes it when the stack says so.  It stops when :attr:`done`.  Works for the
    WebSocket client stack (dial when its state is ``DIAL``; done at ``CLOSED``) and
    the HTTP client stack (dial when it ``wants_connection``; done after :meth:`close`).

    Every ``now`` a binding passes is on its own clock; the stack gets ``now +
    epoch_offset`` (see :mod:`._epoch`).
    """

    def __init__(
        self,
        stack: WebSocketClientStack | HTTPClientStack,
        core: ClientCore,
        endpoint: Endpoint,
        ssl_context: ssl.SSLContext | None,
        *,
        open_timeout: float | None = None,
        epoch_offset: float = 0.0,
    ) -> None:
        self.stack = stack
        #: Added to the binding's clock for every call into the stack (see ``_epoch``).
        self.epoch_offset = epoch_offset
        self.core = core
        self.endpoint = endpoint
        self.ssl_context = ssl_context
        self.websocket = isinstance(stack, WebSocketClientStack)
        if open_timeout is None:
            open_timeout = stack.open_timeout if isinstance(stack, WebSocketClientStack) else 10.0
        self.open_timeout = open_timeout
        self.close_grace = (
            stack.close_timeout if isinstance(stack, WebSocketClientStack) else CLOSE_GRACE
        )
        self._closing = False
        self._dial_failures = 0
        #: For connect(): True once connected, the error once the first attempt failed.
        self.first: bool | BaseException | None = None
        self.watch_first = False

    @property
    def server_hostname(self) -> str | None:
        return self.endpoint.host if self.ssl_context is not None else None

    def wants_dial(self, connected: bool) -> bool:
        if connected or self._closing:
            return False
        stack = self.stack
        if isinstance(stack, WebSocketClientStack):
            return stack.state is StackState.DIAL
        return stack.wants_connection

    @property
    def done(self) -> bool:
        """Nothing more to do: no dial will be wanted again."""
        stack = self.stack
        if isinstance(stack, WebSocketClientStack):
            return stack.state is StackState.CLOSED
        return self._closing

    @property
    def closing(self) -> bool:
        return self._closing

    def next_deadline(self) -> float | None:
        """When :meth:`timer` must run next, on the binding's clock (``None``: never)."""
        deadline = self.stack.next_deadline()
        if deadline is None or not self.epoch_offset:
            return deadline
        return to_binding_time(deadline, self.epoch_offset)

    # -- inputs ---------------------------------------------------------------------------

    def connected(self, now: float) -> None:
        self.stack.connection_made(now + self.epoch_offset)

    def receive(self, data: bytes, now: float) -> None:
        try:
            self.stack.receive_data(data, now + self.epoch_offset)
        except RemoteProtocolError as exc:
            self.core.absorb([ProtocolViolation(reason=str(exc), close_code=exc.close_code)], now)

    def timer(self, now: float) -> None:
        self.stack.handle_timer(now + self.epoch_offset)

    def transport_closed(self, now: float) -> None:
        stack = self.stack
        stack.connection_lost(now + self.epoch_offset)
        if isinstance(stack, WebSocketClientStack) and self.session_ended:
            stack.close(now + self.epoch_offset)  # no reconnect: the session is over
        events = stack.events()
        if events:
            self.core.absorb(events, now)

    @property
    def session_ended(self) -> bool:
        """The machine says its session is over (Deribit: ``LoggedOut``; see module doc)."""
        stack = self.stack
        if not isinstance(stack, WebSocketClientStack):
            return False
        return getattr(stack.machine, "session_ended", False) is True

    def dial_failed(self, error: BaseException, now: float) -> None:
        stack = self.stack
        stack.connection_lost(now + self.epoch_offset)
        if isinstance(stack, WebSocketClientStack):
            attempt = stack.attempt
        else:
            self._dial_failures += 1
            attempt = self._dial_failures
            if isinstance(error, ssl.SSLCertVerificationError):
                # Not transient: fail the requests waiting for this dial now, not at
                # their deadlines (their late RequestFailed events are then dropped).
                for request_id in list(self.core.waiters):
                    self.core.abandon_with(request_id, error)
        self.core.dial_failed(error, attempt, now)
        events = stack.events()
        if events:
            self.core.absorb(events, now)

    def pump(self, now: float, link: Link | None) -> Link | None:
        """After any input: write the stack's bytes to ``link``; when the stack wants the
        transport closed (or a write failed), shut ``link`` and tell the stack, which may
        then want a dial.  Returns the link still in use (``None`` once shut)."""
        while True:
            out, verdict = self._after(now)
            if link is None:
                break
            if out:
                link.push(out)
            if link.broken and not verdict:
                verdict = ABORT
            if not verdict:
                break
            link.shut(verdict == ABORT)
            link = None
            self.transport_closed(now)
        if self.watch_first and self.first is None:
            attempt = self.stack.attempt if isinstance(self.stack, WebSocketClientStack) else 0
            self.first = self.core.first_outcome(attempt)
        return link

    def _after(self, now: float) -> tuple[bytes, int]:
        """Drain the stack after any call: bytes to write, and KEEP / CLOSE / ABORT."""
        stack = self.stack
        out = stack.data_to_send()
        events = stack.events()
        verdict = KEEP
        if stack.should_close_transport:
            dead = any(isinstance(event, ConnectionDead) for event in events)
            verdict = ABORT if dead else CLOSE
        elif self._closing and not self.websocket:
            verdict = CLOSE
        if events:
            self.core.absorb(events, now)
        return out, verdict

    # -- the caller's commands ------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closing or self.done:
            raise ConnectionLost("the client is closed")

    def send(self, command: Command, now: float) -> RequestId | None:
        self._check_open()
        stack = self.stack
        if not isinstance(stack, WebSocketClientStack):
            raise LocalProtocolError("send() is for WebSocket clients; use request()")
        return stack.send(command, now + self.epoch_offset)

    def request_id_for(self, command: Command, now: float) -> RequestId:
        """Send a command that must have a request id (for ``request()``)."""
        request_id = self.send(command, now)
        if request_id is None:
            raise LocalProtocolError(
                f"invalid command: {type(command).__name__} gets no request id, "
                "so there is no answer to await; use send()"
            )
        return request_id

    def http_request(self, request: HTTPRequest, now: float, timeout: float | None) -> RequestId:
        self._check_open()
        stack = self.stack
        if not isinstance(stack, HTTPClientStack):
            raise LocalProtocolError("http_request() is for HTTP clients")
        return stack.request(request, now + self.epoch_offset, timeout=timeout)

    def close(self, now: float, code: int = 1000, reason: str = "") -> None:
        """Close for good: a WebSocket close handshake, or drop the HTTP connection."""
        stack = self.stack
        if isinstance(stack, WebSocketClientStack):
            stack.close(now + self.epoch_offset, code, reason)
        else:
            self._closing = True  # after() now says CLOSE; the in-flight request fails

    def finish(self) -> None:
        """After the transport is gone for good: fail leftover waiters, end iteration."""
        self._closing = True
        self.core.fail_waiters("the client is closed")
        self.core.closed = True
        self.core.wake()
        if self.first is None:
            self.first = ConnectionError("the client stopped before connecting")
