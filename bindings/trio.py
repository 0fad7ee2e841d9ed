"""The trio binding: the pure stacks over trio streams, in nurseries.

Driving loop (client, WebSocket or HTTP), all inside the nursery of ``connect()`` /
``http_client()``:

* a driver task owns the timers: it sleeps until the stack's ``next_deadline()`` (or a
  wake-up when the deadline moves earlier, a dial is wanted, or the session is done),
  then calls ``handle_timer(trio.current_time())``; it starts the dials;
* per connection, a reader task feeds each ``receive_some`` (one batch, up to 64 KiB)
  to the stack and routes the events synchronously, and a writer task drains the
  outbound buffer with ``send_all``.  A writer blocked by a peer that does not read
  never delays a timer, so a zombie peer is still declared dead on time;
* backpressure: the reader stops calling ``receive_some`` while the event queue is
  full (see :class:`ClientCore`); ``send`` waits while the outbound buffer is over its
  high-water mark.

Server: ``trio.serve_listeners``; per connection the same reader and writer, and the
handler task itself runs that connection's timers.  An application timer gets a task.
Context-manager bodies' exceptions are re-raised as they are, not in an ExceptionGroup.
"""

from __future__ import annotations

import logging
import math
import random
import ssl as _ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio

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

__all__ = ["Client", "HTTPClient", "Server", "connect", "http_client", "serve"]

logger = logging.getLogger("tradewire.bindings")

READ_SIZE = 65536
_STREAM_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError)


class _Pipe:
    """One trio stream: a reader task feeding ``on_data``, a writer draining the outbox."""

    def __init__(
        self,
        stream: trio.abc.Stream,
        on_data: Callable[[_Pipe, bytes], None],
        on_broken: Callable[[_Pipe], None],
        grace: float = CLOSE_GRACE,
    ) -> None:
        self.stream = stream
        self._on_data = on_data
        self._on_broken = on_broken
        self.grace = grace
        self.outbox: list[bytes] = []
        self.out_size = 0
        self._has_output = trio.Event()
        self.drained = trio.Event()
        self.drained.set()
        self.resume: trio.Event | None = None
        self.scope = trio.CancelScope()
        self.closing = False
        self.abort = False
        self.broken = False  # set when a write failed (the owner is told too)

    def push(self, data: bytes) -> int:
        self.outbox.append(data)
        self.out_size += len(data)
        self._has_output.set()
        if self.out_size > WRITE_HIGH_WATER and self.drained.is_set():
            self.drained = trio.Event()
        return self.out_size

    def pause(self) -> None:
        if self.resume is None:
            self.resume = trio.Event()

    def unpause(self) -> None:
        resume, self.resume = self.resume, None
        if resume is not None:
            resume.set()

    def shut(self, abort: bool) -> None:
        """Stop: flush the outbox and close, or abort at once."""
        self.closing = True
        if abort:
            self.abort = True
            self.scope.cancel()
        else:
            self._has_output.set()
            self.scope.deadline = trio.current_time() + self.grace

    async def run(self) -> None:
        try:
            with self.scope:
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._reader)
                    await self._writer()
                    nursery.cancel_scope.cancel()
        finally:
            self.drained.set()
            if self.abort or self.scope.cancelled_caught:
                await trio.aclose_forcefully(self.stream)
            else:
                with trio.move_on_after(self.grace):
                    await self.stream.aclose()

    async def _writer(self) -> None:
        while True:
            if self.outbox:
                data = b"".join(self.outbox)
                self.outbox.clear()
                self.out_size = 0
                try:
                    await self.stream.send_all(data)
                except _STREAM_ERRORS:
                    self.broken = True
                    self._on_broken(self)
                    return
                self.drained.set()
                continue
            if self.closing:
                return
            self._has_output = trio.Event()
            await self._has_output.wait()

    async def _reader(self) -> None:
        while True:
            if self.resume is not None:
                await self.resume.wait()
                continue
            try:
                data = bytes(await self.stream.receive_some(READ_SIZE))
            except _STREAM_ERRORS:
                data = b""
            self._on_data(self, data)
            if not data:
                return


class _EventWaiter:
    __slots__ = ("done", "event")

    def __init__(self) -> None:
        self.done = trio.Event()
        self.event: Event | None = None

    def resolve(self, event: Event) -> None:
        if self.event is None:
            self.event = event
            self.done.set()


def _dial_error(exc: BaseException) -> BaseException:
    """The TLS error behind trio's BrokenResourceError, so callers see the real cause."""
    cause = exc.__cause__
    return cause if isinstance(exc, trio.BrokenResourceError) and cause is not None else exc


async def _open(session: Session) -> tuple[trio.abc.Stream | None, BaseException | None]:
    """TCP, then TLS if configured; a failure is returned, a cancellation closes all."""
    endpoint = session.endpoint
    try:
        tcp = await trio.open_tcp_stream(endpoint.host, endpoint.port)
    except OSError as exc:
        return None, exc
    if session.ssl_context is None:
        return tcp, None
    tls = trio.SSLStream(tcp, session.ssl_context, server_hostname=session.server_hostname)
    try:
        await tls.do_handshake()
    except BaseException as exc:
        await trio.aclose_forcefully(tls)
        if isinstance(exc, OSError | trio.BrokenResourceError):
            return None, _dial_error(exc)
        raise
    return tls, None


# -- client ----------------------------------------------------------------------------------


class _Driver:
    """Moves one client session's bytes and timers; shared by Client and HTTPClient."""

    def __init__(self, session: Session, nursery: trio.Nursery) -> None:
        self.session = session
        self.core = session.core
        self.nursery = nursery
        self.pipe: _Pipe | None = None
        self._wake = trio.Event()
        self._timer_at: float | None = None
        self._dialing = False
        self._dial_scope: trio.CancelScope | None = None
        self.finished = trio.Event()
        self.first_ready = trio.Event()
        self.core.pause_reading = self._pause_reading
        self.core.resume_reading = self._resume_reading

    def _pause_reading(self) -> None:
        if self.pipe is not None:
            self.pipe.pause()

    def _resume_reading(self) -> None:
        if self.pipe is not None:
            self.pipe.unpause()

    def step(self, now: float) -> None:
        session = self.session
        pipe = session.pump(now, self.pipe)
        self.pipe = pipe if isinstance(pipe, _Pipe) else None
        if session.first is not None:
            self.first_ready.set()
        if session.done or session.wants_dial(self.pipe is not None or self._dialing):
            self._wake.set()
            return
        deadline = session.stack.next_deadline()
        if deadline is not None and (self._timer_at is None or deadline < self._timer_at):
            self._wake.set()

    async def run(self) -> None:
        session = self.session
        try:
            while True:
                now = trio.current_time()
                if self._timer_at is not None and now >= self._timer_at:
                    self._timer_at = None
                    session.timer(now)
                    self.step(now)
                if session.done and self.pipe is None and not self._dialing:
                    break
                if session.wants_dial(self.pipe is not None or self._dialing):
                    self._dialing = True
                    self._dial_scope = trio.CancelScope()
                    self.nursery.start_soon(self._dial, self._dial_scope)
                deadline = session.stack.next_deadline()
                self._timer_at = deadline
                with trio.move_on_at(math.inf if deadline is None else deadline):
                    await self._wake.wait()
                self._wake = trio.Event()
        finally:
            session.finish()
            self.first_ready.set()
            self.finished.set()

    async def _dial(self, scope: trio.CancelScope) -> None:
        session = self.session
        stream: trio.abc.Stream | None = None
        error: BaseException | None = None
        try:
            with scope:
                scope.deadline = trio.current_time() + session.open_timeout
                stream, error = await _open(session)
            if scope.cancelled_caught and error is None:
                error = TimeoutError(
                    f"could not connect within open_timeout={session.open_timeout:g}s"
                )
        finally:
            self._dialing = False
            self._dial_scope = None
        now = trio.current_time()
        if stream is None:
            if not session.done and not session.closing:
                session.dial_failed(error or ConnectionError("dial failed"), now)
            self.step(now)
            return
        if session.done or session.closing:
            await trio.aclose_forcefully(stream)
            self.step(now)
            return
        pipe = _Pipe(stream, self._on_data, self._on_broken, session.close_grace)
        if self.core.paused_at is not None:
            pipe.pause()
        self.pipe = pipe
        self.nursery.start_soon(pipe.run)
        session.connected(now)
        self.step(now)

    def _on_data(self, pipe: _Pipe, data: bytes) -> None:
        if pipe is self.pipe:
            now = trio.current_time()
            self.session.receive(data, now)
            self.step(now)

    def _on_broken(self, pipe: _Pipe) -> None:
        if pipe is self.pipe:
            self.pipe = None
            pipe.shut(abort=True)
            now = trio.current_time()
            self.session.transport_closed(now)
            self.step(now)

    def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.session.closing and not self.session.done:
            now = trio.current_time()
            self.session.close(now, code, reason)
            self.step(now)
        if self._dial_scope is not None:
            self._dial_scope.cancel()
        self._wake.set()


class Client:
    """A WebSocket client session (see :func:`connect`)."""

    def __init__(self, driver: _Driver, machine: ClientMachine) -> None:
        self._driver = driver
        self._session = driver.session
        self._core = driver.core
        self.machine = machine
        stack = driver.session.stack
        assert isinstance(stack, WebSocketClientStack)
        self.stack: WebSocketClientStack = stack
        self._ready = trio.Event()
        self._core.wake = self._wake

    @property
    def queued(self) -> int:
        """Events waiting for the consumer (never more than ``max_queued_events``)."""
        return len(self._core.queue)

    @property
    def reading_paused(self) -> bool:
        return self._core.paused_at is not None

    def _wake(self) -> None:
        self._ready.set()

    async def send(self, command: Command) -> RequestId | None:
        """Send ``command``; returns its request id (its answer arrives as an event)."""
        now = trio.current_time()
        request_id = self._session.send(command, now)
        self._driver.step(now)
        pipe = self._driver.pipe
        if pipe is not None and not pipe.drained.is_set():
            await pipe.drained.wait()
        else:
            await trio.lowlevel.checkpoint()
        return request_id

    async def request(self, command: Command, timeout: float | None = None) -> Any:
        """Send ``command`` and return its result; raise its ``RequestFailure``.

        The machine's own deadline always applies; ``timeout`` is an extra bound.
        """
        now = trio.current_time()
        request_id = self._session.request_id_for(command, now)
        waiter = _EventWaiter()
        self._core.register(request_id, waiter)
        self._driver.step(now)
        try:
            with trio.move_on_after(math.inf if timeout is None else timeout):
                await waiter.done.wait()
        finally:
            if waiter.event is None:
                self._core.abandon(request_id)
        if waiter.event is None:
            raise RequestTimeout(f"request {request_id!r} unanswered after {timeout}s")
        return outcome(waiter.event)

    def __aiter__(self) -> Client:
        return self

    async def __anext__(self) -> Event:
        core = self._core
        while True:
            event = core.pop(trio.current_time())
            if event is not None:
                await trio.lowlevel.checkpoint_if_cancelled()
                return event
            if core.drained:
                raise StopAsyncIteration
            self._ready = trio.Event()
            await self._ready.wait()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close handshake, then TCP; no reconnect.  Bounded by the stack's close_timeout."""
        self._driver.close(code, reason)
        await self._driver.finished.wait()


@asynccontextmanager
async def _session_scope(session: Session, watch_first: bool) -> AsyncIterator[_Driver]:
    """Run a driver in a nursery; the body's exception comes out unwrapped."""
    failure: BaseException | None = None
    async with trio.open_nursery() as nursery:
        driver = _Driver(session, nursery)
        session.watch_first = watch_first
        nursery.start_soon(driver.run)
        try:
            if watch_first:
                await driver.first_ready.wait()
                first = session.first
                if first is not True:
                    failure = first if isinstance(first, BaseException) else ConnectionError(first)
            if failure is None:
                yield driver
        except BaseException as exc:
            failure = exc
        finally:
            with trio.CancelScope(shield=True):
                driver.close()
                await driver.finished.wait()
    if failure is not None:
        raise failure


@asynccontextmanager
async def connect(
    url: str,
    machine: ClientMachine,
    *,
    ssl: _ssl.SSLContext | None = None,
    rng: RandomSource | None = None,
    max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
    low_water: int | None = None,
    **stack_options: Any,
) -> AsyncIterator[Client]:
    """``async with connect(url, machine) as client``: as in the asyncio binding."""
    endpoint = parse_ws_url(url)
    context = client_ssl_context(endpoint, ssl)
    stack = WebSocketClientStack(
        with_url_target(machine, endpoint),
        host=endpoint.host_header,
        rng=rng if rng is not None else random.SystemRandom(),
        **stack_options,
    )
    core = ClientCore(max_queued_events=max_queued_events, low_water=low_water)
    async with _session_scope(Session(stack, core, endpoint, context), True) as driver:
        yield Client(driver, machine)


class HTTPClient:
    """An HTTP/1.1 client with keep-alive (see :func:`http_client`)."""

    def __init__(self, driver: _Driver) -> None:
        self._driver = driver
        self._session = driver.session
        stack = driver.session.stack
        assert isinstance(stack, HTTPClientStack)
        self.stack: HTTPClientStack = stack

    async def request(self, request: HTTPRequest, *, timeout: float | None = None) -> HTTPResponse:
        """Send ``request``; return the response (any status) or raise its failure."""
        now = trio.current_time()
        request_id = self._session.http_request(request, now, timeout)
        waiter = _EventWaiter()
        self._session.core.register(request_id, waiter)
        self._driver.step(now)
        try:
            await waiter.done.wait()
        finally:
            if waiter.event is None:
                self._session.core.abandon(request_id)
        assert waiter.event is not None
        response = outcome(waiter.event)
        assert isinstance(response, HTTPResponse)
        return response


@asynccontextmanager
async def http_client(
    base_url: str,
    *,
    ssl: _ssl.SSLContext | None = None,
    open_timeout: float = 10.0,
    **stack_options: Any,
) -> AsyncIterator[HTTPClient]:
    """``async with http_client("https://host") as http``: as in the asyncio binding."""
    endpoint = parse_http_url(base_url)
    context = client_ssl_context(endpoint, ssl)
    stack = HTTPClientStack(host=endpoint.host_header, **stack_options)
    session = Session(
        stack, ClientCore(keep_unclaimed=False), endpoint, context, open_timeout=open_timeout
    )
    async with _session_scope(session, False) as driver:
        yield HTTPClient(driver)


# -- server ----------------------------------------------------------------------------------


class _Link:
    """One accepted connection (a ``ServerLink``): its pipe and its timer wake-up."""

    def __init__(self) -> None:
        self.conn: ServerConnection | None = None
        self.pipe: _Pipe | None = None
        self.wake = trio.Event()
        self.timer_at: float | None = None
        self.done = False

    def push(self, data: bytes) -> int:
        assert self.pipe is not None
        return self.pipe.push(data)

    def shut(self, abort: bool) -> None:
        if self.pipe is not None:
            self.pipe.shut(abort)
        self.wake.set()

    def arm(self, deadline: float | None) -> None:
        if deadline is not None and (self.timer_at is None or deadline < self.timer_at):
            self.timer_at = deadline
            self.wake.set()


class Server:
    """A listening server (see :func:`serve`): ``port``, ``url``, ``close()``."""

    def __init__(self, hub: ServerHub, host: str, ssl: _ssl.SSLContext | None) -> None:
        self.hub = hub
        self.host = host
        self.port = 0
        self._ssl = ssl
        self._cancel = trio.CancelScope()
        self._app_wake = trio.Event()
        self._app_at: float | None = None
        hub.rearm_app = self._rearm_app

    @property
    def url(self) -> str:
        return f"{'wss' if self._ssl else 'ws'}://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"{'https' if self._ssl else 'http'}://{self.host}:{self.port}"

    @property
    def connections(self) -> list[ServerConnection]:
        return self.hub.connections

    def close(self) -> None:
        """Stop listening and drop every connection (no close handshakes)."""
        self._cancel.cancel()

    async def handle(self, stream: trio.abc.Stream) -> None:
        """One accepted connection: its pipe runs beside this task, which runs its timers."""
        hub = self.hub
        if isinstance(stream, trio.SSLStream):
            handshaken = False
            with trio.move_on_after(TLS_HANDSHAKE_TIMEOUT):
                try:
                    await stream.do_handshake()
                    handshaken = True
                except trio.BrokenResourceError as exc:
                    logger.debug("TLS handshake with a client failed: %s", exc.__cause__)
            if not handshaken:  # failed or too slow: no connection object is built
                await trio.aclose_forcefully(stream)
                return
        transport = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
        peer = None
        if isinstance(transport, trio.SocketStream):
            peer = format_peer(transport.socket.getpeername())
        link = _Link()
        link.pipe = _Pipe(
            stream,
            lambda _pipe, data: hub.receive(link, data, trio.current_time()),
            lambda _pipe: hub.receive(link, b"", trio.current_time()),
        )
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(link.pipe.run)
                hub.open(link, peer, trio.current_time())
                while not link.done:
                    with trio.move_on_at(math.inf if link.timer_at is None else link.timer_at):
                        await link.wake.wait()
                    link.wake = trio.Event()
                    now = trio.current_time()
                    if link.timer_at is not None and now >= link.timer_at:
                        link.timer_at = None
                        hub.timer(link, now)
        finally:
            hub.lost(link, trio.current_time())

    def _rearm_app(self) -> None:
        deadline = self.hub.next_app_deadline()
        if deadline is not None and (self._app_at is None or deadline < self._app_at):
            self._app_wake.set()

    async def run_app(self) -> None:
        hub = self.hub
        while True:
            self._app_at = deadline = hub.next_app_deadline()
            with trio.move_on_at(math.inf if deadline is None else deadline):
                await self._app_wake.wait()
            self._app_wake = trio.Event()
            now = trio.current_time()
            if deadline is not None and now >= deadline:
                hub.app_timer(now)


@asynccontextmanager
async def serve(
    connection_factory: Callable[[str | None], ServerConnection],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl: _ssl.SSLContext | None = None,
    on_events: EventsCallback | None = None,
    app: AppTimer | None = None,
    max_write_buffer: int = DEFAULT_MAX_WRITE_BUFFER,
) -> AsyncIterator[Server]:
    """``async with serve(factory) as server``: as in the asyncio binding."""
    hub = ServerHub(
        connection_factory, on_events=on_events, app=app, max_write_buffer=max_write_buffer
    )
    server = Server(hub, host, ssl)
    failure: BaseException | None = None
    with server._cancel:
        async with trio.open_nursery() as nursery:
            listeners: list[trio.abc.Listener[Any]] = list(
                await trio.open_tcp_listeners(port, host=host)
            )
            server.port = listeners[0].socket.getsockname()[1]  # type: ignore[attr-defined]
            if ssl is not None:
                listeners = [trio.SSLListener(item, ssl) for item in listeners]
            await nursery.start(trio.serve_listeners, server.handle, listeners)
            if app is not None:
                nursery.start_soon(server.run_app)
            try:
                yield server
            except BaseException as exc:
                failure = exc
            finally:
                server.close()
    if failure is not None:
        raise failure
