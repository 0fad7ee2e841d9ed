"""The sync binding: blocking calls for the caller, one background I/O thread each.

Every client (``connect``, ``http_client``) and every server (``serve``) runs one
daemon thread with a :mod:`selectors` loop over non-blocking sockets; TLS runs over
memory buffers (:class:`TLSPipe`), so one loop drives TCP, TLS, the stack and its
timers.  The thread sleeps in ``select`` until a socket is ready or the stack's
``next_deadline()`` (``now`` is :func:`time.monotonic`); a socket pair wakes it when
the caller's thread changed something.  One lock guards the stack: the caller's
``send`` / ``request`` / ``events`` take it briefly, the I/O thread holds it while it
processes one read (one batch).  Keepalive, heartbeats and timeouts therefore run while
the caller's code is busy elsewhere.

Backpressure as in the async bindings (see :class:`ClientCore`): a full event queue
takes the socket out of the read set; ``send`` blocks while more than 1 MiB waits to
be written.  Server callbacks (``on_events``, the application timer) run in the
server's thread, under its lock: keep them short and never block in them.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import random
import selectors
import socket
import ssl as _ssl
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from tradewire.protocol import (
    ClientMachine,
    Command,
    Event,
    HTTPClientStack,
    HTTPRequest,
    HTTPResponse,
    RandomSource,
    RequestId,
    RequestTimeout,
    WebSocketClientStack,
)

from ._client import ClientCore, Session, outcome
from ._common import (
    CLOSE_GRACE,
    DEFAULT_MAX_QUEUED_EVENTS,
    DEFAULT_MAX_WRITE_BUFFER,
    TLS_HANDSHAKE_TIMEOUT,
    WRITE_HIGH_WATER,
    AppTimer,
    EventsCallback,
    ServerConnection,
    client_ssl_context,
    format_peer,
    parse_http_url,
    parse_ws_url,
    with_url_target,
)
from ._server import ServerHub
from ._tlspipe import TLSPipe

__all__ = ["Client", "HTTPClient", "Server", "connect", "http_client", "serve"]

logger = logging.getLogger("tradewire.bindings")

READ_SIZE = 262144
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
        # server side
        self.conn: ServerConnection | None = None
        self.deadline: float | None = None
        self.done = False

    def receive(self) -> tuple[bytes, bool] | None:
        """(plaintext, end of file), or ``None`` when nothing came.  May raise SSLError."""
        try:
            data = self.sock.recv(READ_SIZE)
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
        self.deadline = deadline

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
                return
            except OSError:
                self.broken = True
                out.clear()
                return
            del out[:sent]

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

    def linger(self, conn: _Conn, now: float) -> None:
        """Close once the outbound buffer is flushed (at most CLOSE_GRACE seconds)."""
        conn.flush()
        if conn.out and not conn.broken:
            self._lingering[conn] = now + CLOSE_GRACE
            self.watch(conn, _W)
        else:
            self.discard(conn)

    # -- subclass hooks -------------------------------------------------------------------

    def tick(self, now: float) -> tuple[bool, float | None]:
        """Fire due timers, update interests; return (keep running, next deadline)."""
        raise NotImplementedError

    def on_ready(self, conn: _Conn, mask: int, now: float) -> None:
        raise NotImplementedError

    def on_stop(self, now: float) -> None:
        raise NotImplementedError

    # -- the loop -------------------------------------------------------------------------

    def _main(self) -> None:
        try:
            while True:
                with self.lock:
                    now = time.monotonic()
                    for conn, until in list(self._lingering.items()):
                        if not conn.out or now >= until:
                            self.discard(conn)
                    running, deadline = self.tick(now)
                    if not running and not self._lingering:
                        break
                    for until in self._lingering.values():
                        deadline = until if deadline is None else min(deadline, until)
                    self.wait_until = deadline
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                ready = self.selector.select(timeout)
                with self.lock:
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


# -- client ----------------------------------------------------------------------------------


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
            deadline = session.stack.next_deadline()
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
        deadline = session.stack.next_deadline()
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
        deadline = session.stack.next_deadline()
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


class _Base:
    def __init__(self, reactor: _ClientReactor) -> None:
        self._reactor = reactor
        self._session = reactor.session
        self._core = reactor.core
        self._cond = reactor.cond

    def _call(self, make_id: Callable[[float], RequestId], timeout: float | None) -> Event:
        """Send under the lock, then wait for the answer (``None``: no extra bound)."""
        cond = self._cond
        with cond:
            now = time.monotonic()
            request_id = make_id(now)
            waiter = _SlotWaiter(cond)
            self._core.register(request_id, waiter)
            self._reactor.step(now)
            end = None if timeout is None else now + timeout
            while waiter.event is None:
                remaining = None if end is None else end - time.monotonic()
                if remaining is not None and remaining <= 0:
                    self._core.abandon(request_id)
                    raise RequestTimeout(f"request {request_id!r} unanswered after {timeout}s")
                cond.wait(remaining)
            return waiter.event

    def _shutdown(self, code: int = 1000, reason: str = "") -> None:
        reactor = self._reactor
        with self._cond:
            if not self._session.closing and not self._session.done:
                self._session.close(time.monotonic(), code, reason)
                reactor.step(time.monotonic())
            reactor.wakeup()
        if reactor.thread.is_alive() and not reactor.in_loop():
            reactor.thread.join()


class Client(_Base):
    """A WebSocket client session (see :func:`connect`)."""

    def __init__(self, reactor: _ClientReactor, machine: ClientMachine) -> None:
        super().__init__(reactor)
        self.machine = machine
        stack = reactor.session.stack
        assert isinstance(stack, WebSocketClientStack)
        self.stack: WebSocketClientStack = stack

    @property
    def queued(self) -> int:
        """Events waiting for the consumer (never more than ``max_queued_events``)."""
        return len(self._core.queue)

    @property
    def reading_paused(self) -> bool:
        return self._core.paused_at is not None

    def send(self, command: Command) -> RequestId | None:
        """Send ``command``; returns its request id (its answer arrives as an event)."""
        with self._cond:
            now = time.monotonic()
            request_id = self._session.send(command, now)
            self._reactor.step(now)
            while True:
                conn = self._reactor.conn
                if conn is None or len(conn.out) <= WRITE_HIGH_WATER or not conn.ready:
                    return request_id
                self._cond.wait(1.0)

    def request(self, command: Command, timeout: float | None = None) -> Any:
        """Send ``command`` and return its result; raise its ``RequestFailure``.

        The machine's own deadline always applies; ``timeout`` is an extra bound.
        """
        return outcome(self._call(lambda now: self._session.request_id_for(command, now), timeout))

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Yield events as they come; stop when the client is closed (and drained) or
        when none arrived for ``timeout`` seconds."""
        core, cond = self._core, self._cond
        while True:
            with cond:
                end = None if timeout is None else time.monotonic() + timeout
                while True:
                    event = core.pop(time.monotonic())
                    if event is not None:
                        break
                    if core.drained:
                        return
                    remaining = None if end is None else end - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return
                    cond.wait(remaining)
            yield event

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close handshake, then TCP; no reconnect; joins the I/O thread."""
        self._shutdown(code, reason)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def connect(
    url: str,
    machine: ClientMachine,
    *,
    ssl: _ssl.SSLContext | None = None,
    rng: RandomSource | None = None,
    max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
    low_water: int | None = None,
    **stack_options: Any,
) -> Client:
    """Connect (blocking until the first connection is open, or raising as the async
    bindings do) and return the :class:`Client`; use it as a context manager."""
    endpoint = parse_ws_url(url)
    context = client_ssl_context(endpoint, ssl)
    stack = WebSocketClientStack(
        with_url_target(machine, endpoint),
        host=endpoint.host_header,
        rng=rng if rng is not None else random.SystemRandom(),
        **stack_options,
    )
    core = ClientCore(max_queued_events=max_queued_events, low_water=low_water)
    session = Session(stack, core, endpoint, context)
    session.watch_first = True
    reactor = _ClientReactor(session)
    reactor.thread.start()
    with reactor.cond:
        while session.first is None:
            reactor.cond.wait()
        first = session.first
    client = Client(reactor, machine)
    if first is not True:
        client.close()
        raise first if isinstance(first, BaseException) else ConnectionError(first)
    return client


class HTTPClient(_Base):
    """An HTTP/1.1 client with keep-alive (see :func:`http_client`)."""

    def __init__(self, reactor: _ClientReactor) -> None:
        super().__init__(reactor)
        stack = reactor.session.stack
        assert isinstance(stack, HTTPClientStack)
        self.stack: HTTPClientStack = stack

    def request(self, request: HTTPRequest, *, timeout: float | None = None) -> HTTPResponse:
        """Send ``request``; return the response (any status) or raise its failure."""
        event = self._call(lambda now: self._session.http_request(request, now, timeout), None)
        response = outcome(event)
        assert isinstance(response, HTTPResponse)
        return response

    def close(self) -> None:
        self._shutdown()

    def __enter__(self) -> HTTPClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def http_client(
    base_url: str,
    *,
    ssl: _ssl.SSLContext | None = None,
    open_timeout: float = 10.0,
    **stack_options: Any,
) -> HTTPClient:
    """An HTTP client for ``base_url`` (scheme, host, port); close it or use ``with``."""
    endpoint = parse_http_url(base_url)
    context = client_ssl_context(endpoint, ssl)
    stack = HTTPClientStack(host=endpoint.host_header, **stack_options)
    session = Session(
        stack, ClientCore(keep_unclaimed=False), endpoint, context, open_timeout=open_timeout
    )
    reactor = _ClientReactor(session)
    reactor.thread.start()
    return HTTPClient(reactor)


# -- server ----------------------------------------------------------------------------------


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
        for shaking in list(self._handshaking):
            if shaking.deadline is not None and now >= shaking.deadline:  # TLS too slow
                self._handshaking.discard(shaking)
                shaking.shut(abort=True)
        links = [link for link in hub.links if isinstance(link, _Conn)]
        for link in links:
            if not link.done and link.deadline is not None and now >= link.deadline:
                link.deadline = None
                hub.timer(link, now)
        for link in [*links, *self._handshaking]:
            if not link.done:
                self.watch(link, _R | (_W if link.out else 0))
                if link.deadline is not None:
                    deadline = link.deadline if deadline is None else min(deadline, link.deadline)
        return True, deadline

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
                link.deadline = None
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
                link.deadline = now + TLS_HANDSHAKE_TIMEOUT
                self._handshaking.add(link)

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
) -> Server:
    """Listen now (``port`` is known on return) and serve from one background thread.

    Same arguments as the async bindings; callbacks run in the server's thread.
    ``close()`` (or leaving ``with``) stops it and joins the thread.
    """
    hub = ServerHub(
        connection_factory, on_events=on_events, app=app, max_write_buffer=max_write_buffer
    )
    server = Server(hub, host, port, ssl)
    server.thread.start()
    return server
