"""The trio server: :func:`serve` and :class:`Server`.

``trio.serve_listeners``; per connection a :class:`_Pipe` (reader and writer) and the
handler task itself runs that connection's timers, through the shared
:class:`ServerHub`.  Closing drops every connection in one pass and lets the tasks end
by themselves before anything is cancelled (see :meth:`Server.close`).  An application
timer gets a task.  ``now`` is ``trio.current_time()``.  The body's exception comes out
as it is, not in an ExceptionGroup.
"""

from __future__ import annotations

import logging
import math
import ssl as _ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import trio

from ._common import (
    CLOSE_GRACE,
    DEFAULT_MAX_HELD_INPUT,
    DEFAULT_MAX_WRITE_BUFFER,
    TLS_HANDSHAKE_TIMEOUT,
    AppTimer,
    EventsCallback,
    ServerConnection,
    format_peer,
)
from ._server import ServerHub
from ._trio_pipe import _Pipe

__all__ = ["Server", "serve"]

logger = logging.getLogger("tradewire.bindings")


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
        self._listening = trio.CancelScope()
        self._closed = False
        self._handlers = 0  # connection tasks alive
        self._drained = trio.Event()  # set once closed and every connection task ended
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
        """Stop listening and drop every connection (no close handshakes).

        The connections are dropped here, in one pass at one ``now`` (as the asyncio
        server does); their tasks then end by themselves (a pipe told to abort, a loop
        that finds its connection done), which costs far less than cancelling thousands
        of them.  Leaving ``serve()`` waits for that (at most ``CLOSE_GRACE`` seconds),
        then cancels whatever is left.
        """
        if self._closed:
            return
        self._closed = True
        self._listening.cancel()
        self.hub.close_all(trio.current_time())
        if not self._handlers:
            self._drained.set()

    async def _finish(self) -> None:
        """After ``close()``: wait for the connection tasks, then cancel the rest."""
        with trio.CancelScope(shield=True), trio.move_on_after(CLOSE_GRACE):
            await self._drained.wait()
        self._cancel.cancel()

    async def handle(self, stream: trio.abc.Stream) -> None:
        """One accepted connection: its pipe runs beside this task, which runs its timers."""
        self._handlers += 1
        try:
            if not self._closed:
                await self._handle(stream)
            else:
                await trio.aclose_forcefully(stream)
        finally:
            self._handlers -= 1
            if self._closed and not self._handlers:
                self._drained.set()

    async def _handle(self, stream: trio.abc.Stream) -> None:
        hub = self.hub
        if isinstance(stream, trio.SSLStream):
            handshaken = False
            with trio.move_on_after(TLS_HANDSHAKE_TIMEOUT):
                try:
                    await stream.do_handshake()
                    handshaken = True
                except trio.BrokenResourceError as exc:
                    logger.debug("TLS handshake with a client failed: %s", exc.__cause__)
            if not handshaken or self._closed:  # no connection object is built
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

    async def listen(
        self,
        listeners: list[trio.abc.Listener[Any]],
        handlers: trio.Nursery,
        *,
        task_status: trio.TaskStatus[list[trio.abc.Listener[Any]]] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Accept until ``close()``; connection tasks go to ``handlers``, so closing
        stops the accepting without cancelling them."""
        with self._listening:
            await trio.serve_listeners(
                self.handle, listeners, handler_nursery=handlers, task_status=task_status
            )

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
    max_held_input: int = DEFAULT_MAX_HELD_INPUT,
) -> AsyncIterator[Server]:
    """``async with serve(factory) as server``: as in the asyncio binding."""
    hub = ServerHub(
        connection_factory,
        on_events=on_events,
        app=app,
        max_write_buffer=max_write_buffer,
        max_held_input=max_held_input,
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
            await nursery.start(server.listen, listeners, nursery)
            if app is not None:
                nursery.start_soon(server.run_app)
            try:
                yield server
            except BaseException as exc:
                failure = exc
            finally:
                server.close()
                await server._finish()
    if failure is not None:
        raise failure
