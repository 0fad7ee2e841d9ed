"""The asyncio binding: the pure stacks over native asyncio protocols and transports.

Driving loop (client, WebSocket or HTTP):

* one :class:`asyncio.Protocol` per TCP (TLS) connection.  ``data_received`` feeds the
  whole read to the stack, writes what the stack answers, and routes the batch of
  events (answers to their waiters, the rest to the bounded queue) synchronously:
  no task, future or await per message;
* timers: one ``loop.call_at`` handle per client at the stack's ``next_deadline()``,
  with ``now = loop.time()``.  It is re-armed only when the deadline moves earlier; an
  early firing is harmless (``handle_timer`` fires only what is due);
* one small task dials when the stack asks (``state is DIAL`` / ``wants_connection``),
  bounded by ``open_timeout``; a failed dial goes to the stack's ``connection_lost``,
  which schedules the next attempt with backoff;
* backpressure: ``transport.pause_reading()`` when the event queue is full,
  ``resume_reading()`` below its low-water mark (see :class:`ClientCore`); ``send``
  waits while the transport's write buffer is over its high-water mark.

Server: ``loop.create_server``; one protocol per accepted connection drives the object
the factory returned, the same way, with a lazy ``call_at`` timer per connection and
one for the application timer.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl as _ssl
from collections.abc import Callable
from types import TracebackType
from typing import Any, Protocol, cast

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


class _Owner(Protocol):
    def link_made(self, link: _Link) -> None: ...

    def link_data(self, link: _Link, data: bytes) -> None: ...

    def link_lost(self, link: _Link) -> None: ...

    def link_timer(self, link: _Link, now: float) -> None: ...


class _Link(asyncio.Protocol):
    """One TCP connection; forwards its callbacks to the client or server that owns it.

    It is also the ``Link`` / ``ServerLink`` the shared session and hub write through.
    """

    transport: asyncio.Transport

    def __init__(self, owner: _Owner, loop: asyncio.AbstractEventLoop, tls: bool) -> None:
        self.owner = owner
        self.loop = loop
        self.tls = tls
        self.closed: asyncio.Future[None] = loop.create_future()
        self.write_ready: asyncio.Future[None] | None = None
        self.conn: ServerConnection | None = None  # server side: what this link drives
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at = 0.0
        self.done = False
        self.broken = False  # asyncio reports failed writes through connection_lost
        self.grace = CLOSE_GRACE
        self._abort_later: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.owner.link_made(self)

    def data_received(self, data: bytes) -> None:
        self.owner.link_data(self, data)

    def eof_received(self) -> bool:
        self.owner.link_data(self, b"")
        return not self.tls  # keep a half-closed TCP connection for the answer; TLS cannot

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self._abort_later is not None:
            self._abort_later.cancel()
        self.resume_writing()
        self.owner.link_lost(self)
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        if self.write_ready is None:
            self.write_ready = self.loop.create_future()

    def resume_writing(self) -> None:
        ready, self.write_ready = self.write_ready, None
        if ready is not None and not ready.done():
            ready.set_result(None)

    def push(self, data: bytes) -> int:
        self.transport.write(data)
        return self.transport.get_write_buffer_size()

    def shut(self, abort: bool) -> None:
        """Close (flushing) or abort; a close that takes longer than ``grace`` is aborted."""
        self.done = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if abort:
            self.transport.abort()
        else:
            self.transport.close()
            self._abort_later = self.loop.call_later(self.grace, self._abort_if_open)

    def _abort_if_open(self) -> None:
        if not self.closed.done():
            self.transport.abort()

    def arm(self, deadline: float | None) -> None:
        """Make sure the owner's ``link_timer`` runs at ``deadline`` (never later)."""
        if deadline is None or self.done:
            return
        if self.timer is not None:
            if deadline >= self.timer_at:
                return
            self.timer.cancel()
        self.timer_at = deadline
        self.timer = self.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self.timer = None
        if not self.done:
            self.owner.link_timer(self, max(self.loop.time(), self.timer_at))


class _FutureWaiter:
    __slots__ = ("future",)

    def __init__(self, future: asyncio.Future[Event]) -> None:
        self.future = future

    def resolve(self, event: Event) -> None:
        if not self.future.done():
            self.future.set_result(event)


# -- client ----------------------------------------------------------------------------------


class _Driver:
    """Moves one client session's bytes and timers; shared by Client and HTTPClient."""

    def __init__(self, session: Session) -> None:
        self.loop = asyncio.get_running_loop()
        self.session = session
        self.core = session.core
        self.link: _Link | None = None
        self.links: set[_Link] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._wake = asyncio.Event()
        self.first_ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._dial_task: asyncio.Task[None] | None = None
        self._dialing = False
        self._connects = 0
        self._finished = False
        self.core.pause_reading = self._pause_reading
        self.core.resume_reading = self._resume_reading

    def start(self) -> None:
        self._task = self.loop.create_task(self._dialer(), name="tradewire-dialer")
        self._wake.set()

    # -- link callbacks -------------------------------------------------------------------

    def link_made(self, link: _Link) -> None:
        self.links.add(link)
        if self.session.done or self.session.closing or self.link is not None:
            link.shut(abort=True)
            return
        self.link = link
        link.grace = self.session.close_grace
        self._connects += 1
        link.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
        if self.core.paused_at is not None:
            link.transport.pause_reading()
        now = self.loop.time()
        self.session.connected(now)
        self.step(now)

    def link_data(self, link: _Link, data: bytes) -> None:
        if link is self.link:
            now = self.loop.time()
            self.session.receive(data, now)
            self.step(now)

    def link_timer(self, link: _Link, now: float) -> None:
        pass  # client timers are per session, not per link

    def link_lost(self, link: _Link) -> None:
        self.links.discard(link)
        if link is self.link:
            self.link = None
            now = self.loop.time()
            self.session.transport_closed(now)
            self.step(now)

    def _pause_reading(self) -> None:
        if self.link is not None:
            self.link.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self.link is not None:
            self.link.transport.resume_reading()

    # -- after every input ----------------------------------------------------------------

    def step(self, now: float) -> None:
        session = self.session
        link = session.pump(now, self.link)
        self.link = link if isinstance(link, _Link) else None
        if session.first is not None:
            self.first_ready.set()
        if session.done or session.wants_dial(self.link is not None or self._dialing):
            self._wake.set()
        if self._finished:
            return
        deadline = session.stack.next_deadline()
        if deadline is not None and (self._timer is None or deadline < self._timer_at):
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = deadline
            self._timer = self.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._finished:
            return
        now = max(self.loop.time(), self._timer_at)
        self.session.timer(now)
        self.step(now)

    # -- dialing --------------------------------------------------------------------------

    async def _dialer(self) -> None:
        """Dial whenever the session wants it; when it is done, wait for the last
        transport to close and finish (waiters fail, iteration ends)."""
        session = self.session
        try:
            while not session.done:
                await self._wake.wait()
                self._wake.clear()
                if session.wants_dial(self.link is not None):
                    self._dial_task = self.loop.create_task(self._dial())
                    await asyncio.wait({self._dial_task})
                    self._dial_task = None
            while self.links:
                await asyncio.wait({link.closed for link in self.links})
        finally:
            self._finished = True
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            session.finish()
            self.first_ready.set()

    async def _dial(self) -> None:
        session, endpoint = self.session, self.session.endpoint
        before = self._connects
        tls = session.ssl_context is not None
        self._dialing = True
        try:
            async with asyncio.timeout(session.open_timeout):
                await self.loop.create_connection(
                    lambda: _Link(self, self.loop, tls),
                    endpoint.host,
                    endpoint.port,
                    ssl=session.ssl_context,
                    server_hostname=session.server_hostname,
                )
        except OSError as exc:  # refused, unreachable, TLS errors, TimeoutError
            if self._connects == before and not session.done:
                now = self.loop.time()
                session.dial_failed(exc, now)
                self.step(now)
        finally:
            self._dialing = False

    # -- shutting down --------------------------------------------------------------------

    def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.session.closing and not self.session.done:
            now = self.loop.time()
            self.session.close(now, code, reason)
            self.step(now)
        if self._dialing and self._dial_task is not None:
            self._dial_task.cancel()  # create_connection closes what it opened
        self._wake.set()

    async def wait_finished(self) -> None:
        """Wait (bounded by the stack's close timeout) until everything is closed."""
        task = self._task
        if task is not None:
            await asyncio.wait({task})
            if not task.cancelled() and task.exception() is not None:
                raise cast(BaseException, task.exception())


class Client:
    """A WebSocket client session (see :func:`connect`)."""

    def __init__(self, driver: _Driver, machine: ClientMachine) -> None:
        self._driver = driver
        self._loop = driver.loop
        self._session = driver.session
        self._core = driver.core
        self.machine = machine
        stack = driver.session.stack
        assert isinstance(stack, WebSocketClientStack)
        self.stack: WebSocketClientStack = stack
        self._waiting: asyncio.Future[None] | None = None
        self._core.wake = self._wake

    @property
    def queued(self) -> int:
        """Events waiting for the consumer (never more than ``max_queued_events``)."""
        return len(self._core.queue)

    @property
    def reading_paused(self) -> bool:
        """Reading is paused because the event queue is full."""
        return self._core.paused_at is not None

    async def send(self, command: Command) -> RequestId | None:
        """Send ``command``; returns its request id (its answer arrives as an event)."""
        now = self._loop.time()
        request_id = self._session.send(command, now)
        self._driver.step(now)
        link = self._driver.link
        if link is not None and link.write_ready is not None:
            await link.write_ready
        return request_id

    async def request(self, command: Command, timeout: float | None = None) -> Any:
        """Send ``command`` and return its result; raise its ``RequestFailure``.

        The machine's own deadline always applies; ``timeout`` (seconds) is an extra
        bound, raising :class:`RequestTimeout` (a late answer is then dropped).
        """
        now = self._loop.time()
        request_id = self._session.request_id_for(command, now)
        future: asyncio.Future[Event] = self._loop.create_future()
        self._core.register(request_id, _FutureWaiter(future))
        self._driver.step(now)
        try:
            async with asyncio.timeout(timeout):
                event = await future
        except TimeoutError:
            self._core.abandon(request_id)
            raise RequestTimeout(f"request {request_id!r} unanswered after {timeout}s") from None
        except asyncio.CancelledError:
            self._core.abandon(request_id)
            raise
        return outcome(event)

    def _wake(self) -> None:
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    def __aiter__(self) -> Client:
        return self

    async def __anext__(self) -> Event:
        core = self._core
        while True:
            event = core.pop(self._loop.time())
            if event is not None:
                return event
            if core.drained:
                raise StopAsyncIteration
            self._waiting = self._loop.create_future()
            try:
                await self._waiting
            finally:
                self._waiting = None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close handshake, then TCP; no reconnect.  Bounded by the stack's close_timeout."""
        self._driver.close(code, reason)
        await self._driver.wait_finished()


class _Connect:
    def __init__(self, make: Callable[[], tuple[_Driver, ClientMachine]]) -> None:
        self._make = make
        self._client: Client | None = None

    async def __aenter__(self) -> Client:
        driver, machine = self._make()
        driver.session.watch_first = True
        driver.start()
        try:
            await driver.first_ready.wait()
        except BaseException:
            driver.close()
            await asyncio.shield(driver.wait_finished())
            raise
        result = driver.session.first
        if result is not True:
            driver.close()
            await driver.wait_finished()
            raise result if isinstance(result, BaseException) else ConnectionError(result)
        self._client = Client(driver, machine)
        return self._client

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.close()


def connect(
    url: str,
    machine: ClientMachine,
    *,
    ssl: _ssl.SSLContext | None = None,
    rng: RandomSource | None = None,
    max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
    low_water: int | None = None,
    **stack_options: Any,
) -> _Connect:
    """``async with connect(url, machine) as client``: a WebSocket session to ``url``.

    ``url`` is ``ws://`` or ``wss://`` (TLS verified by default; pass ``ssl`` to trust
    another CA; SNI is the URL's host).  The machine's handshake path and query win;
    the URL's are used where the machine has none (see ``merge_handshake``).  Entering
    waits for the first connection and raises if it fails (the dial's :class:`OSError`,
    e.g. :class:`ssl.SSLCertVerificationError`, or :class:`ConnectFailed`); after that
    the stack reconnects by itself.  ``stack_options`` go to
    :class:`~tradewire.protocol.WebSocketClientStack` (``ping_interval``, ``backoff`` ...).
    """
    endpoint = parse_ws_url(url)
    context = client_ssl_context(endpoint, ssl)
    core = ClientCore(max_queued_events=max_queued_events, low_water=low_water)

    def make() -> tuple[_Driver, ClientMachine]:
        stack = WebSocketClientStack(
            with_url_target(machine, endpoint),
            host=endpoint.host_header,
            rng=rng if rng is not None else random.SystemRandom(),
            **stack_options,
        )
        return _Driver(Session(stack, core, endpoint, context)), machine

    return _Connect(make)


class HTTPClient:
    """An HTTP/1.1 client with keep-alive (see :func:`http_client`)."""

    def __init__(self, driver: _Driver) -> None:
        self._driver = driver
        self._loop = driver.loop
        self._session = driver.session
        stack = driver.session.stack
        assert isinstance(stack, HTTPClientStack)
        self.stack: HTTPClientStack = stack

    async def request(self, request: HTTPRequest, *, timeout: float | None = None) -> HTTPResponse:
        """Send ``request``; return the response (any status) or raise its failure.

        ``timeout`` replaces the stack's ``default_timeout`` for this request.
        """
        now = self._loop.time()
        request_id = self._session.http_request(request, now, timeout)
        future: asyncio.Future[Event] = self._loop.create_future()
        self._session.core.register(request_id, _FutureWaiter(future))
        self._driver.step(now)
        try:
            event = await future
        except asyncio.CancelledError:
            self._session.core.abandon(request_id)
            raise
        response = outcome(event)
        assert isinstance(response, HTTPResponse)
        return response

    async def close(self) -> None:
        self._driver.close()
        await self._driver.wait_finished()

    async def __aenter__(self) -> HTTPClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class _HTTPConnect:
    def __init__(self, make: Callable[[], _Driver]) -> None:
        self._make = make
        self._client: HTTPClient | None = None

    async def __aenter__(self) -> HTTPClient:
        driver = self._make()
        driver.start()
        self._client = HTTPClient(driver)
        return self._client

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.close()


def http_client(
    base_url: str,
    *,
    ssl: _ssl.SSLContext | None = None,
    open_timeout: float = 10.0,
    **stack_options: Any,
) -> _HTTPConnect:
    """``async with http_client("https://host") as http``: keep-alive HTTP/1.1 requests.

    ``base_url`` is scheme, host and port only; each :class:`HTTPRequest` carries its
    full path.  ``stack_options`` go to :class:`~tradewire.protocol.HTTPClientStack`.
    """
    endpoint = parse_http_url(base_url)
    context = client_ssl_context(endpoint, ssl)

    def make() -> _Driver:
        stack = HTTPClientStack(host=endpoint.host_header, **stack_options)
        core = ClientCore(keep_unclaimed=False)
        return _Driver(Session(stack, core, endpoint, context, open_timeout=open_timeout))

    return _HTTPConnect(make)


# -- server ----------------------------------------------------------------------------------


class Server:
    """A listening server (see :func:`serve`): ``port``, ``url``, ``close()``."""

    def __init__(self, hub: ServerHub, host: str, port: int, ssl: _ssl.SSLContext | None) -> None:
        self.hub = hub
        self.host = host
        self.port = port
        self._ssl = ssl
        self._server: asyncio.Server | None = None
        self._app_timer: asyncio.TimerHandle | None = None
        self._app_at = 0.0
        self._closed = False
        self._pending: set[_Link] = set()
        self._loop: asyncio.AbstractEventLoop
        hub.rearm_app = self._arm_app

    @property
    def url(self) -> str:
        return f"{'wss' if self._ssl else 'ws'}://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"{'https' if self._ssl else 'http'}://{self.host}:{self.port}"

    @property
    def connections(self) -> list[ServerConnection]:
        return self.hub.connections

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        tls = self._ssl is not None
        self._server = await self._loop.create_server(
            lambda: _Link(self, self._loop, tls),
            self.host,
            self.port,
            ssl=self._ssl,
            ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT if tls else None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._arm_app()

    def link_made(self, link: _Link) -> None:
        self._pending.add(link)
        if self._closed:
            link.shut(abort=True)
            return
        peer = format_peer(link.transport.get_extra_info("peername"))
        self.hub.open(link, peer, self._loop.time())

    def link_data(self, link: _Link, data: bytes) -> None:
        self.hub.receive(link, data, self._loop.time())

    def link_timer(self, link: _Link, now: float) -> None:
        self.hub.timer(link, now)

    def link_lost(self, link: _Link) -> None:
        self._pending.discard(link)
        self.hub.lost(link, self._loop.time())

    def _arm_app(self) -> None:
        deadline = self.hub.next_app_deadline()
        if deadline is None or self._closed:
            return
        if self._app_timer is not None:
            if deadline >= self._app_at:
                return
            self._app_timer.cancel()
        self._app_at = deadline
        self._app_timer = self._loop.call_at(deadline, self._on_app_timer)

    def _on_app_timer(self) -> None:
        self._app_timer = None
        if not self._closed:
            self.hub.app_timer(max(self._loop.time(), self._app_at))

    async def close(self) -> None:
        """Stop listening and drop every connection (no close handshakes)."""
        if self._closed:
            return
        self._closed = True
        if self._app_timer is not None:
            self._app_timer.cancel()
        if self._server is not None:
            self._server.close()
        self.hub.close_all(self._loop.time())
        if self._server is not None:
            await self._server.wait_closed()
        while self._pending:
            await asyncio.wait({link.closed for link in self._pending})

    async def __aenter__(self) -> Server:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


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
    """``async with serve(factory) as server``: accept TCP (TLS) connections.

    ``connection_factory(peer)`` returns the object to drive per connection (a
    :class:`~tradewire.protocol.WebSocketServerStack`, an
    :class:`~tradewire.protocol.HTTPServerStack`, an :class:`UpgradeOrHTTP` ...).
    ``on_events(connection, events, now)`` receives each connection's events (without
    it they are drained and dropped); after it runs, every connection is flushed, so
    the application may write to any connection through its stack.  ``app`` is an
    application-wide timer (``next_deadline`` / ``handle_timer``).  A peer whose
    unsent output passes ``max_write_buffer`` bytes is dropped.  Errors raised by the
    factory, ``on_events`` or ``app`` are logged (logger ``tradewire.bindings``) and
    drop the connection concerned; the server keeps serving.
    """
    hub = ServerHub(
        connection_factory, on_events=on_events, app=app, max_write_buffer=max_write_buffer
    )
    return Server(hub, host, port, ssl)
