"""The sync client's I/O thread: one client session's dials, socket and timers.

:class:`_ClientReactor` dials (``getaddrinfo``, non-blocking ``connect`` per address,
then TLS over memory buffers), feeds reads to the session and fires its timers at the
session's next deadline; the caller's thread calls :meth:`_ClientReactor.step` under
the lock after changing something, which wakes the loop when needed.
"""

from __future__ import annotations

import errno
import socket
import ssl as _ssl
from typing import Any

from ._session import Session
from ._sync_reactor import _R, _W, CLIENT_READ_SIZE, _Conn, _Reactor
from ._tlspipe import TLSPipe

__all__ = ["_ClientReactor"]


class _ClientReactor(_Reactor):
    """The I/O thread of one client session."""

    def __init__(self, session: Session) -> None:
        super().__init__("tradewire-client")
        self.session = session
        self.core = session.core
        self.conn: _Conn | None = None
        self._addresses: list[Any] = []
        self._dial_deadline: float | None = None
        self.core.wake = self.cond.notify_all
        self.core.pause_reading = self._interest_changed
        self.core.resume_reading = self._interest_changed

    def _interest_changed(self) -> None:
        if not self.in_loop():
            self.wakeup()

    def step(self, now: float) -> None:
        session = self.session
        conn = self.conn
        if conn is not None and conn.ready:
            link = session.pump(now, conn)
            if link is None:
                self.conn = None
        else:
            session.pump(now, None)
        if session.first is not None:
            self.cond.notify_all()
        if not self.in_loop():
            deadline = session.next_deadline()
            if (
                (self.conn is not None and self.conn.out)
                or session.done
                or session.closing
                or session.wants_dial(self.conn is not None)
                or (
                    deadline is not None and (self.wait_until is None or deadline < self.wait_until)
                )
            ):
                self.wakeup()

    def tick(self, now: float) -> tuple[bool, float | None]:
        session = self.session
        deadline = session.next_deadline()
        if deadline is not None and now >= deadline:
            session.timer(now)
            self.step(now)
        conn = self.conn
        if conn is not None and not conn.ready:
            if session.done or session.closing:
                self.conn = None
                self.discard(conn)
            elif self._dial_deadline is not None and now >= self._dial_deadline:
                self._dial_failed(
                    TimeoutError(
                        f"could not connect within open_timeout={session.open_timeout:g}s"
                    ),
                    now,
                )
        if session.done and self.conn is None:
            return False, None
        if session.wants_dial(self.conn is not None):
            self._dial(now)
        conn = self.conn
        if conn is not None:
            if conn.connecting:
                mask = _W
            else:
                mask = 0 if conn.ready and self.core.paused_at is not None else _R
                if conn.out:
                    mask |= _W
            self.watch(conn, mask)
        deadline = session.next_deadline()
        if self._dial_deadline is not None:
            deadline = (
                self._dial_deadline if deadline is None else min(deadline, self._dial_deadline)
            )
        return True, deadline

    def _dial(self, now: float) -> None:
        endpoint = self.session.endpoint
        try:
            self._addresses = socket.getaddrinfo(
                endpoint.host, endpoint.port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            self._dial_failed(exc, now)
            return
        self._dial_deadline = now + self.session.open_timeout
        self._next_address(now, None)

    def _next_address(self, now: float, error: BaseException | None) -> None:
        while self._addresses:
            family, kind, proto, _, address = self._addresses.pop(0)
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            code = sock.connect_ex(address)
            if code in (0, errno.EINPROGRESS, errno.EWOULDBLOCK):
                conn = _Conn(self, sock, None)
                conn.read_size = CLIENT_READ_SIZE
                conn.connecting = True
                conn.ready = False
                self.conn = conn
                return
            sock.close()
            error = OSError(code, f"connect to {address}: {errno.errorcode.get(code, code)}")
        self._dial_failed(error or OSError("no address to connect to"), now)

    def _dial_failed(self, error: BaseException, now: float) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            self.discard(conn)
        self._dial_deadline = None
        self._addresses = []
        self.session.dial_failed(error, now)
        self.step(now)

    def _opened(self, conn: _Conn, now: float) -> None:
        conn.ready = True
        self._dial_deadline = None
        self.session.connected(now)
        self.step(now)

    def on_ready(self, conn: _Conn, mask: int, now: float) -> None:
        if conn is not self.conn:
            self.discard(conn)
            return
        if conn.connecting:
            code = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if code:
                self.conn = None
                self.discard(conn)
                self._next_address(now, OSError(code, f"connect: {errno.errorcode.get(code)}"))
                return
            conn.connecting = False
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            context = self.session.ssl_context
            if context is None:
                self._opened(conn, now)
                return
            conn.tls = TLSPipe(
                context, server_side=False, server_hostname=self.session.server_hostname
            )
            conn.tls.start()
            conn.push(b"")
            return
        if mask & _W:
            conn.flush()
            self.cond.notify_all()  # a send() may wait for the buffer to drain
            if conn.broken:
                self.step(now)
                return
        if not mask & _R:
            return
        try:
            received = conn.receive()
        except _ssl.SSLError as exc:
            if conn.ready:
                received = b"", True
            else:
                self._dial_failed(exc, now)
                return
        if received is None:
            return
        plain, eof = received
        if not conn.ready:
            assert conn.tls is not None
            if conn.tls.handshaken:
                self._opened(conn, now)
            elif eof:
                self._dial_failed(
                    ConnectionError("connection closed during the TLS handshake"), now
                )
                return
        if plain:
            self.session.receive(plain, now)
        if eof:
            self.session.receive(b"", now)
        self.step(now)

    def on_stop(self, now: float) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            self.discard(conn)
            if conn.ready:
                self.session.transport_closed(now)
        self.session.finish()
