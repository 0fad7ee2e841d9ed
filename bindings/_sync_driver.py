"""The sync client's I/O thread: one client session's dials, socket and timers.

:class:`_ClientReactor` dials (``getaddrinfo``, non-blocking ``connect`` per address,
then TLS over memory buffers), feeds reads to the session and fires its timers at the
session's next deadline; the caller's thread calls :meth:`_ClientReactor.step` under
the lock after changing something, which wakes the loop when needed.

A consumer that waits for events reads the socket itself (:meth:`_ClientReactor.lead`):
it polls the connection's socket (and a wake-up socket pair of its own) with the lock
released, then reads and hands the read to the session in its own thread, under the
lock, as the I/O thread would.  Meanwhile the I/O thread does not watch the socket for
reading (``lead_conn``) but still fires the session's timers (reading what came first)
and flushes the writes.  Read by the I/O thread, every read went to the consumer through
two thread switches and the GIL, and the next read's events were made while the
consumer still held the last one's (busying the garbage collector): on
``benchmarks/bench_e2e.py`` (one connection, the Deribit book stream) the sync binding
ran at 0.36-0.51x the asyncio binding's rate with 256 KiB reads and 0.66-0.76x with
64 KiB reads (``CLIENT_READ_SIZE``); it now runs at 0.85-1.25x (medians of 5-9
interleaved runs of 100,000 messages on a busy two-core machine, the spread being the
machine's), and at 0.99x by instruction count (``valgrind --tool=callgrind``).

When the consumer goes away (it stops iterating, or takes long over its events), the
I/O thread takes the socket back: while the consumer leads and is not polling, it looks
every :data:`LEASE` seconds and takes the socket back when the consumer has not come
back for events since the last look (an idle consumer polls, so an idle client costs no
wake-ups); leaving ``events()``, or awaiting a request while nobody polls, gives it back
at once.  So keepalive, requests and backpressure work without a consumer as before, at
most :data:`LEASE` later when a consumer has just gone away.
"""

from __future__ import annotations

import contextlib
import errno
import math
import select
import socket
import ssl as _ssl
import time
from typing import Any

from ._session import Session
from ._sync_reactor import _R, _W, CLIENT_READ_SIZE, _Conn, _Reactor
from ._tlspipe import TLSPipe

__all__ = ["LEASE", "_ClientReactor"]

LEASE = 0.01
"""Seconds a consumer that leads the reads may stay away from ``events()`` before the I/O
thread takes the socket back (it looks this often while the consumer is not polling)."""


class _ClientReactor(_Reactor):
    """The I/O thread of one client session."""

    def __init__(self, session: Session) -> None:
        super().__init__("tradewire-client")
        self.session = session
        self.core = session.core
        self.conn: _Conn | None = None
        self._addresses: list[Any] = []
        self._dial_deadline: float | None = None
        # The consumer's reads (see lead): the connection it reads, how many threads
        # poll it now, a count it bumps whenever it comes for events, and the I/O
        # thread's next look at it; its wake-up pair, made when first needed.
        self.lead_conn: _Conn | None = None
        self.lead_polling = 0
        self.lead_seen = 0
        self._lead_check: float | None = None
        self._lead_checked = 0
        self._lead_pair: tuple[socket.socket, socket.socket] | None = None
        self._stopped = False
        self.core.wake = self._wake_consumers
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
            led = self.lead_conn
            if led is not None and led is self.conn and self.core.paused_at is None:
                self._read(led, now)  # what came before the timer goes first, as it would
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
        led = self._check_lead(now)
        if conn is not None:
            if conn.connecting:
                mask = _W
            else:
                paused = conn.ready and self.core.paused_at is not None
                mask = 0 if paused or conn is led else _R
                if conn.out:
                    mask |= _W
            self.watch(conn, mask)
        deadline = session.next_deadline()
        for other in (self._dial_deadline, self._lead_check):
            if other is not None:
                deadline = other if deadline is None else min(deadline, other)
        return True, deadline

    # -- the consumer's reads -------------------------------------------------------------

    def _check_lead(self, now: float) -> _Conn | None:
        """The connection the consumer reads, after the I/O thread's look (see LEASE)."""
        led = self.lead_conn
        if led is not None and led is not self.conn:
            self.lead_conn = led = None
        if led is None or self.lead_polling:
            self._lead_check = None  # polling: it comes back by itself (see lead)
        elif self._lead_check is None or self.lead_seen != self._lead_checked:
            self._lead_check = now + LEASE
            self._lead_checked = self.lead_seen
        elif now >= self._lead_check:
            self.lead_conn = led = None  # away for a whole lease: read for it again
            self._lead_check = None
        return led

    def lead(self, timeout: float | None) -> bool:
        """Under the lock, in a consumer's thread with nothing to consume: poll the
        socket with the lock released, read it and hand the read to the session.
        ``False`` (nothing done) when there is no connection to read, or it is paused."""
        conn = self.conn
        if (
            conn is None
            or not conn.ready
            or self.core.paused_at is not None
            or self._stopped
            or self.in_loop()
        ):
            return False
        if self._lead_pair is None:
            pair = socket.socketpair()
            for end in pair:
                end.setblocking(False)
            self._lead_pair = pair
        wake = self._lead_pair[0]
        self.lead_conn = conn
        self.lead_seen += 1
        self.lead_polling += 1
        readable = woken = False
        self.lock.release()
        try:
            readable, woken = _poll(conn.sock.fileno(), wake.fileno(), timeout)
        finally:
            self.lock.acquire()
            self.lead_polling -= 1
            self.lead_seen += 1
            if self.lead_conn is not None and self._lead_check is None:
                self.wakeup()  # the I/O thread looks at the consumer while it is away
        if self._stopped:
            if not self.lead_polling:
                self._close_lead_pair()
            return True
        if woken:
            with contextlib.suppress(OSError):
                wake.recv(4096)
        if readable and conn is self.conn and conn is self.lead_conn:
            self._read(conn, time.monotonic())
        return True

    def unlead(self) -> None:
        """The consumer left ``events()``: the I/O thread reads again (no lock needed)."""
        if self.lead_conn is not None:
            self.lead_conn = None
            self.wakeup()

    def unlead_idle(self) -> None:
        """Under the lock, awaiting an answer: when no consumer polls, the I/O thread
        reads again now rather than a lease later."""
        if self.lead_conn is not None and not self.lead_polling:
            self.lead_conn = None
            self.wakeup()

    def _wake_consumers(self) -> None:
        self.cond.notify_all()
        if self.lead_polling and self._lead_pair is not None:
            with contextlib.suppress(OSError):
                self._lead_pair[1].send(b"\0")

    def _close_lead_pair(self) -> None:
        pair, self._lead_pair = self._lead_pair, None
        if pair is not None:
            for end in pair:
                end.close()

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
        if not mask & _R or conn is self.lead_conn:
            return
        self._read(conn, now)

    def _read(self, conn: _Conn, now: float) -> None:
        """Read ``conn`` and hand the read to the session (either thread, under the lock)."""
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
        self._stopped = True
        self.lead_conn = None
        if self.lead_polling:
            self._wake_consumers()  # the last one out closes the pair (see lead)
        else:
            self._close_lead_pair()
        conn, self.conn = self.conn, None
        if conn is not None:
            self.discard(conn)
            if conn.ready:
                self.session.transport_closed(now)
        self.session.finish()


def _poll(fd: int, wake: int, timeout: float | None) -> tuple[bool, bool]:
    """Wait until ``fd`` or ``wake`` is readable (or ``timeout``): which of them is."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        poller.register(wake, select.POLLIN)
        ms = None if timeout is None else max(0, math.ceil(timeout * 1000))
        ready = [got for got, _ in poller.poll(ms)]
        return fd in ready, wake in ready
    readable, _, _ = select.select([fd, wake], [], [], timeout)
    return fd in readable, wake in readable
