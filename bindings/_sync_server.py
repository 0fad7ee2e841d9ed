"""The sync server: :func:`serve` and :class:`Server`, one I/O thread each.

A :class:`_Reactor` over the listening socket and the accepted ones (TLS over memory
buffers, handshakes bounded by ``TLS_HANDSHAKE_TIMEOUT``), driving each connection
through the shared :class:`ServerHub`.  A loop turn costs what happened in it, not the
connections open: deadlines sit in a heap, and only connections whose outbound buffer
changed have their write interest updated.  Callbacks (``on_events``, the application
timer) run in the server's thread, under its lock.  ``now`` is :func:`time.monotonic`.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl as _ssl
from collections.abc import Callable
from types import TracebackType

from ._common import (
    DEFAULT_MAX_HELD_INPUT,
    DEFAULT_MAX_WRITE_BUFFER,
    TLS_HANDSHAKE_TIMEOUT,
    AppTimer,
    EventsCallback,
    ServerConnection,
    format_peer,
)
from ._deadlines import DeadlineHeap
from ._server import ServerHub
from ._sync_reactor import _R, _W, _Conn, _Reactor
from ._tlspipe import TLSPipe

__all__ = ["Server", "serve"]

logger = logging.getLogger("tradewire.bindings")


class Server(_Reactor):
    """A listening server with its own I/O thread (see :func:`serve`)."""

    def __init__(self, hub: ServerHub, host: str, port: int, ssl: _ssl.SSLContext | None) -> None:
        super().__init__("tradewire-server")
        self.hub = hub
        self._ssl = ssl
        self._stopping = False
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._listener.bind((host, port))
            self._listener.listen(128)
            self._listener.setblocking(False)
        except BaseException:
            self._listener.close()
            self.selector.close()
            self._wake_r.close()
            self._wake_w.close()
            raise
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._listen = _Conn(self, self._listener, None)
        self._handshaking: set[_Conn] = set()
        self._timers: DeadlineHeap[_Conn] = DeadlineHeap(_deadline_of)
        self._interest: dict[_Conn, None] = {}  # outbound buffer changed since the last tick
        self.watch(self._listen, _R)

    @property
    def url(self) -> str:
        return f"{'wss' if self._ssl else 'ws'}://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"{'https' if self._ssl else 'http'}://{self.host}:{self.port}"

    @property
    def connections(self) -> list[ServerConnection]:
        with self.lock:
            return self.hub.connections

    def close(self) -> None:
        """Stop listening, drop every connection, join the thread."""
        with self.lock:
            self._stopping = True
            self.wakeup()
        if self.thread.is_alive() and not self.in_loop():
            self.thread.join()

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- the loop hooks -------------------------------------------------------------------

    def tick(self, now: float) -> tuple[bool, float | None]:
        if self._stopping:
            return False, None
        hub = self.hub
        deadline = hub.next_app_deadline()
        if deadline is not None and now >= deadline:
            hub.app_timer(now)
            deadline = hub.next_app_deadline()
        for link in self._timers.pop_due(now):  # a timer re-armed at once fires next turn
            link.deadline = None
            if link in self._handshaking:  # TLS too slow
                self._handshaking.discard(link)
                link.shut(abort=True)
            else:
                hub.timer(link, now)
        interest, self._interest = self._interest, {}
        for link in interest:
            if not link.done:
                self.watch(link, _R | (_W if link.out else 0))
        first = self._timers.next_deadline()
        if first is not None:
            deadline = first if deadline is None else min(deadline, first)
        return True, deadline

    def armed(self, conn: _Conn) -> None:
        if conn.deadline is None:
            return
        self._timers.push(conn, conn.deadline, len(self._masks))

    def flushed(self, conn: _Conn) -> None:
        self._interest[conn] = None

    def released(self, conn: _Conn) -> None:
        self._timers.forget(conn)

    def on_ready(self, link: _Conn, mask: int, now: float) -> None:
        if link is self._listen:
            self._accept(now)
            return
        if link.done:
            return
        if mask & _W:
            link.flush()
        if not mask & _R:
            return
        try:
            received = link.receive()
        except _ssl.SSLError as exc:
            logger.debug("TLS error from a client: %s", exc)
            received = b"", True
        if received is None:
            return
        plain, eof = received
        if not link.ready:
            assert link.tls is not None
            if link.tls.handshaken:
                self._handshaking.discard(link)
                link.ready = True
                link.arm(None)
                self._open(link, now)
            elif eof:
                self._handshaking.discard(link)
                link.shut(abort=True)
                return
        if plain:
            self.hub.receive(link, plain, now)
        if eof:
            self.hub.receive(link, b"", now)
        if link.broken:
            self.hub.lost(link, now)
            link.shut(abort=True)

    def _accept(self, now: float) -> None:
        for _ in range(64):
            try:
                sock, _address = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                logger.exception("accept failed")
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            tls = TLSPipe(self._ssl, server_side=True) if self._ssl is not None else None
            link = _Conn(self, sock, tls)
            self.watch(link, _R)
            if tls is None:
                self._open(link, now)
            else:
                self._handshaking.add(link)
                link.arm(now + TLS_HANDSHAKE_TIMEOUT)

    def _open(self, link: _Conn, now: float) -> None:
        address = None
        with contextlib.suppress(OSError):
            address = link.sock.getpeername()
        self.hub.open(link, format_peer(address), now)

    def on_stop(self, now: float) -> None:
        self.hub.close_all(now)
        for link in list(self._handshaking):
            link.shut(abort=True)
        self.discard(self._listen)


def serve(
    connection_factory: Callable[[str | None], ServerConnection],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl: _ssl.SSLContext | None = None,
    on_events: EventsCallback | None = None,
    app: AppTimer | None = None,
    max_write_buffer: int = DEFAULT_MAX_WRITE_BUFFER,
    max_held_input: int = DEFAULT_MAX_HELD_INPUT,
) -> Server:
    """Listen now (``port`` is known on return) and serve from one background thread.

    Same arguments as the async bindings; callbacks run in the server's thread.
    ``close()`` (or leaving ``with``) stops it and joins the thread.
    """
    hub = ServerHub(
        connection_factory,
        on_events=on_events,
        app=app,
        max_write_buffer=max_write_buffer,
        max_held_input=max_held_input,
    )
    server = Server(hub, host, port, ssl)
    server.thread.start()
    return server


def _deadline_of(conn: _Conn) -> float | None:
    return conn.deadline
