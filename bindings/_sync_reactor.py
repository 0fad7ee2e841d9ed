"""The sync binding's I/O loop: a selector in one thread over non-blocking sockets.

:class:`_Conn` is one socket (TLS over memory buffers optional) with its outbound
buffer, and the ``Link`` / ``ServerLink`` the shared session and hub write through.
:class:`_Reactor` is the loop: a wake-up socket pair, read/write interests, lingering
closes (flush, at most ``CLOSE_GRACE`` seconds) and three hooks its subclasses fill in
(``tick``, ``on_ready``, ``on_stop``), plus two a server uses to find the connections
that need attention without looking at all of them (``armed``: a connection's deadline
changed; ``flushed``: its outbound buffer was written to or drained) and one that lets
it drop what it keeps of a closed connection (``released``).  ``now`` is
:func:`time.monotonic`.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
import time

from tradewire.protocol import Event

from ._common import CLOSE_GRACE, ServerConnection
from ._tlspipe import TLSPipe

__all__ = ["CLIENT_READ_SIZE", "READ_SIZE", "_R", "_W", "_Conn", "_Reactor", "_SlotWaiter"]

logger = logging.getLogger("tradewire.bindings")

READ_SIZE = 262144
"""Bytes asked of a server connection's socket per read."""
CLIENT_READ_SIZE = 65536
"""Bytes asked of a client connection's socket per read, as the async bindings read.

A client hands each read to its one session whole, and the events of a read all live
until the consumer takes them: the ~260 book changes of a 256 KiB read of the Deribit
book stream outgrow CPython's tuple free list (their level tuples), and the fresh tuples
fill the garbage collector's youngest generation (``benchmarks/bench_e2e.py``, one
connection: ~3000 collections and 11-15 full ones per 100,000 messages, 20-30% of the
run, at 256 KiB; a third of that at 64 KiB)."""
_R, _W = selectors.EVENT_READ, selectors.EVENT_WRITE


class _Conn:
    """One non-blocking socket (TLS optional) with its outbound buffer.

    Also the ``Link`` / ``ServerLink`` the shared session and hub write through.
    """

    def __init__(self, reactor: _Reactor, sock: socket.socket, tls: TLSPipe | None) -> None:
        self.reactor = reactor
        self.sock = sock
        self.tls = tls
        self.out = bytearray()
        self.connecting = False  # client: the TCP connect is in progress
        self.ready = tls is None  # TCP up and TLS (if any) handshaken
        self.broken = False
        self.read_size = READ_SIZE
        # server side
        self.conn: ServerConnection | None = None
        self.deadline: float | None = None
        self.done = False

    def receive(self) -> tuple[bytes, bool] | None:
        """(plaintext, end of file), or ``None`` when nothing came.  May raise SSLError."""
        try:
            data = self.sock.recv(self.read_size)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            data = b""
        tls = self.tls
        if tls is None:
            return data, not data
        plain = tls.feed(data)
        self._pull()
        self.flush()
        return plain, not data or tls.eof

    def push(self, data: bytes) -> int:
        if self.broken:
            return 0  # a write failed: the transport is gone, the loop reports the loss
        if self.tls is not None:
            self.tls.send(data)
            self._pull()
        else:
            self.out += data
        self.flush()
        return len(self.out)

    def shut(self, abort: bool) -> None:
        self.done = True
        if abort:
            self.reactor.discard(self)
        else:
            self.reactor.linger(self, time.monotonic())

    def arm(self, deadline: float | None) -> None:
        if deadline != self.deadline:
            self.deadline = deadline
            self.reactor.armed(self)

    def _pull(self) -> None:
        assert self.tls is not None
        cipher = self.tls.take()
        if cipher:
            self.out += cipher

    def flush(self) -> None:
        out = self.out
        while out and not self.broken:
            try:
                sent = self.sock.send(out)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.broken = True
                out.clear()
                break
            del out[:sent]
        self.reactor.flushed(self)

    def close(self) -> None:
        self.sock.close()


class _Reactor:
    """A selector loop in one thread: wake-up socket pair, interests, lingering closes."""

    def __init__(self, name: str) -> None:
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.selector.register(self._wake_r, _R, None)
        self._masks: dict[_Conn, int] = {}
        self._lingering: dict[_Conn, float] = {}
        self.wait_until: float | None = None
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)

    def wakeup(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def in_loop(self) -> bool:
        return threading.current_thread() is self.thread

    def watch(self, conn: _Conn, mask: int) -> None:
        old = self._masks.get(conn, 0)
        if mask == old:
            return
        if not old:
            self.selector.register(conn.sock, mask, conn)
        elif not mask:
            self.selector.unregister(conn.sock)
        else:
            self.selector.modify(conn.sock, mask, conn)
        if mask:
            self._masks[conn] = mask
        else:
            del self._masks[conn]

    def discard(self, conn: _Conn) -> None:
        self.watch(conn, 0)
        self._lingering.pop(conn, None)
        conn.close()
        self.released(conn)

    def linger(self, conn: _Conn, now: float) -> None:
        """Close once the outbound buffer is flushed (at most CLOSE_GRACE seconds)."""
        conn.flush()
        if conn.out and not conn.broken:
            self._lingering[conn] = now + CLOSE_GRACE
            self.watch(conn, _W)
        else:
            self.discard(conn)

    # -- subclass hooks -------------------------------------------------------------------

    def armed(self, conn: _Conn) -> None:
        """``conn.deadline`` changed."""

    def flushed(self, conn: _Conn) -> None:
        """``conn.out`` was written to the socket (it may still hold bytes)."""

    def released(self, conn: _Conn) -> None:
        """``conn`` is closed: nothing of the loop's may keep it alive any longer."""

    def tick(self, now: float) -> tuple[bool, float | None]:
        """Fire due timers, update interests; return (keep running, next deadline)."""
        raise NotImplementedError

    def on_ready(self, conn: _Conn, mask: int, now: float) -> None:
        raise NotImplementedError

    def on_stop(self, now: float) -> None:
        raise NotImplementedError

    def _end_lingering(self, now: float) -> None:
        for conn, until in list(self._lingering.items()):
            if not conn.out or now >= until:
                self.discard(conn)

    def _handle(self, ready: list[tuple[selectors.SelectorKey, int]]) -> None:
        now = time.monotonic()
        for key, mask in ready:
            conn = key.data
            if conn is None:
                with contextlib.suppress(OSError):
                    self._wake_r.recv(4096)
            elif conn in self._lingering:
                conn.flush()
            elif conn in self._masks:
                self.on_ready(conn, mask, now)

    # -- the loop -------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            while True:
                with self.lock:
                    now = time.monotonic()
                    self._end_lingering(now)
                    running, deadline = self.tick(now)
                    if not running and not self._lingering:
                        break
                    for until in self._lingering.values():
                        deadline = until if deadline is None else min(deadline, until)
                    self.wait_until = deadline
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                ready = self.selector.select(timeout)
                with self.lock:
                    self._handle(ready)
                # No connection stays a local of this frame through the next wait: it
                # would keep one that closed meanwhile alive until the loop wakes again.
                del ready
        except Exception:
            logger.exception("the I/O thread failed")
        finally:
            with self.lock:
                self.on_stop(time.monotonic())
                for conn in list(self._masks) + list(self._lingering):
                    self.discard(conn)
                self.selector.close()
                self._wake_r.close()
                self._wake_w.close()
                self.cond.notify_all()


class _SlotWaiter:
    __slots__ = ("cond", "event")

    def __init__(self, cond: threading.Condition) -> None:
        self.cond = cond
        self.event: Event | None = None

    def resolve(self, event: Event) -> None:
        if self.event is None:
            self.event = event
            self.cond.notify_all()
