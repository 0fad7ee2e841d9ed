"""The asyncio server: :func:`serve` and :class:`Server`.

``loop.create_server``; one :class:`_Link` per accepted connection drives the object
the factory returned through the shared :class:`ServerHub`, with a lazy ``call_at``
timer per connection and one for the application timer.  ``now`` is ``loop.time()``.
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
from collections.abc import Callable
from types import TracebackType

from ._asyncio_link import _Link
from ._common import (
    DEFAULT_MAX_HELD_INPUT,
    DEFAULT_MAX_WRITE_BUFFER,
    TLS_HANDSHAKE_TIMEOUT,
    AppTimer,
    EventsCallback,
    ServerConnection,
    format_peer,
)
from ._server import ServerHub

__all__ = ["Server", "serve"]


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
    max_held_input: int = DEFAULT_MAX_HELD_INPUT,
) -> Server:
    """``async with serve(factory) as server``: accept TCP (TLS) connections.

    ``connection_factory(peer)`` returns the object to drive per connection (a
    :class:`~tradewire.protocol.WebSocketServerStack`, an
    :class:`~tradewire.protocol.HTTPServerStack`, an :class:`UpgradeOrHTTP` ...).
    ``on_events(connection, events, now)`` receives each connection's events (without
    it they are drained and dropped); after it runs, every connection is flushed, so
    the application may write to any connection through its stack (see
    :class:`ServerConnection` for how only those written to are visited).  ``app`` is
    an application-wide timer (``next_deadline`` / ``handle_timer``).  A peer whose
    unsent output passes ``max_write_buffer`` bytes is dropped; when the unfinished
    input all connections hold passes ``max_held_input`` bytes, the one holding it the
    longest is dropped.  Errors raised by the
    factory, ``on_events`` or ``app`` are logged (logger ``tradewire.bindings``) and
    drop the connection concerned; the server keeps serving.
    """
    hub = ServerHub(
        connection_factory,
        on_events=on_events,
        app=app,
        max_write_buffer=max_write_buffer,
        max_held_input=max_held_input,
    )
    return Server(hub, host, port, ssl)
