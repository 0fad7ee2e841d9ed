"""The trio server: :func:`serve` and :class:`Server`.

An accept loop per listener; per connection one task, which reads (a :class:`_Link`), and
nothing else while the connection is idle: its writes go out from a task started when
there is output and ending once it is sent, and every connection's timer sits in one
heap of deadlines that a single server task serves, beside the application timer.  An
idle connection therefore costs one blocked task, not three tasks, two nurseries and a
timer loop: what trio keeps per task is what the cyclic garbage collector walks on each
full pass, and with thousands of idle connections those passes were what delayed every
other connection (see ``benchmarks/RESULTS.md``, load_idle).  The connections go
through the shared :class:`ServerHub`.  Closing drops every connection in one pass and
lets the tasks end by themselves before anything is cancelled (see
:meth:`Server.close`).  ``now`` is ``trio.current_time()``.  The body's exception comes
out as it is, not in an ExceptionGroup.
"""

from __future__ import annotations

import errno
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
from ._deadlines import DeadlineHeap
from ._server import ServerHub
from ._trio_pipe import READ_SIZE

__all__ = ["Server", "serve"]

logger = logging.getLogger("tradewire.bindings")

_STREAM_ERRORS = (trio.BrokenResourceError, trio.ClosedResourceError)
#: ``accept()`` failures that mean "out of descriptors or memory for now": retried
#: after ``_ACCEPT_RETRY`` seconds (as ``trio.serve_listeners`` does), not fatal.
_ACCEPT_CAPACITY = {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS}
_ACCEPT_RETRY = 0.1


def _close_now(stream: trio.abc.Stream) -> bool:
    """Close a stream's socket at once, without a checkpoint (an abort, or a plain
    TCP close after the flush); ``False`` if it has no socket to close that way."""
    transport = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
    if isinstance(transport, trio.SocketStream):
        transport.socket.close()
        return True
    return False


class _Link:
    """One accepted connection (a ``ServerLink``).

    Its task reads inside ``scope``, which ``shut`` cancels; ``push`` queues output and
    starts a writer task if none is running; ``arm`` puts a deadline in the server's
    heap (``timer_at`` is the earliest one armed, so a later one adds nothing).
    """

    __slots__ = (
        "abort",
        "broken",
        "close_by",
        "conn",
        "done",
        "flushed",
        "out_size",
        "outbox",
        "scope",
        "server",
        "stream",
        "timer_at",
        "writing",
    )

    def __init__(self, server: Server, stream: trio.abc.Stream) -> None:
        self.server = server
        self.stream = stream
        self.conn: ServerConnection | None = None
        self.done = False
        self.scope = trio.CancelScope()
        self.outbox: list[bytes] = []
        self.out_size = 0
        self.writing = False  # a writer task is running
        self.flushed: trio.Event | None = None  # set when the writer ends, if awaited
        self.broken = False  # a write failed (the hub was told)
        self.abort = False
        self.close_by = math.inf  # a graceful close is given up after this
        self.timer_at: float | None = None

    def push(self, data: bytes) -> int:
        if self.broken:
            return 0  # a write failed: the stream is gone, the hub was told
        self.outbox.append(data)
        self.out_size += len(data)
        if not self.writing:
            self.writing = True
            self.server.nursery.start_soon(self._write)
        return self.out_size

    def shut(self, abort: bool) -> None:
        """Stop reading; then flush and close within ``CLOSE_GRACE``, or abort."""
        if abort:
            self.abort = True
        elif self.close_by == math.inf:
            self.close_by = trio.current_time() + self.server.grace
        self.scope.cancel()

    def arm(self, deadline: float | None) -> None:
        if deadline is not None and (self.timer_at is None or deadline < self.timer_at):
            self.timer_at = deadline
            self.server.arm(self, deadline)

    async def _write(self) -> None:
        """Send the outbox until it is empty (what is pushed meanwhile too), then end."""
        try:
            while self.outbox and not self.abort:
                data = b"".join(self.outbox)
                self.outbox.clear()
                self.out_size = 0
                await self.stream.send_all(data)
        except _STREAM_ERRORS:
            self.broken = True
            self.outbox.clear()
            self.out_size = 0
            self.server.hub.receive(self, b"", trio.current_time())
        finally:
            self.writing = False
            if self.flushed is not None:
                self.flushed.set()

    async def close(self) -> None:
        """After reading stopped: flush and close gracefully if ``shut(False)`` asked
        for it, or abort (dropped with ``abort``, a failed read or write, a lost
        transport).  A TCP socket is closed without a checkpoint: thousands of
        connections reset at once then end in one scheduler turn each."""
        stream = self.stream
        if not (self.abort or self.broken or self.close_by == math.inf):
            with trio.move_on_at(self.close_by) as flushing:
                while self.writing:
                    self.flushed = trio.Event()
                    await self.flushed.wait()
            if not flushing.cancelled_caught:
                if isinstance(stream, trio.SSLStream):
                    with trio.move_on_after(self.server.grace):
                        await stream.aclose()  # its close_notify
                    return
                _close_now(stream)  # all a plain TCP stream's aclose() does
                return
        if not _close_now(stream):
            await trio.aclose_forcefully(stream)


class Server:
    """A listening server (see :func:`serve`): ``port``, ``url``, ``close()``."""

    def __init__(self, hub: ServerHub, host: str, ssl: _ssl.SSLContext | None) -> None:
        self.hub = hub
        self.host = host
        self.port = 0
        self.grace = CLOSE_GRACE
        self.nursery: trio.Nursery  # set by serve(): connection and writer tasks
        self._ssl = ssl
        self._cancel = trio.CancelScope()
        self._listening = trio.CancelScope()
        self._closed = False
        self._handlers = 0  # connection tasks alive
        self._drained = trio.Event()  # set once closed and every connection task ended
        self._timers: DeadlineHeap[_Link] = DeadlineHeap(_timer_at)
        self._wake = trio.Event()  # a deadline earlier than the one slept to was armed
        self._sleeping_to = math.inf
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
        server does); their tasks then end by themselves (a read that is cancelled, a
        writer that finds its stream closed), which costs far less than cancelling
        thousands of them.  Leaving ``serve()`` waits for that (at most ``CLOSE_GRACE``
        seconds), then cancels whatever is left.
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
        """One accepted connection: this task reads it until it is done, then closes it."""
        self._handlers += 1
        try:
            if self._closed:
                await trio.aclose_forcefully(stream)
                return
            if isinstance(stream, trio.SSLStream) and not await self._handshake(stream):
                return
            await self._serve(stream)
        except BaseException:
            await trio.aclose_forcefully(stream)  # cancelled while closing, or a failure
            raise
        finally:
            self._handlers -= 1
            if self._closed and not self._handlers:
                self._drained.set()

    async def _handshake(self, stream: trio.SSLStream[Any]) -> bool:
        handshaken = False
        with trio.move_on_after(TLS_HANDSHAKE_TIMEOUT):
            try:
                await stream.do_handshake()
                handshaken = True
            except trio.BrokenResourceError as exc:
                logger.debug("TLS handshake with a client failed: %s", exc.__cause__)
        if not handshaken or self._closed:  # no connection object is built
            await trio.aclose_forcefully(stream)
            return False
        return True

    async def _serve(self, stream: trio.abc.Stream) -> None:
        hub = self.hub
        transport = stream.transport_stream if isinstance(stream, trio.SSLStream) else stream
        peer = None
        if isinstance(transport, trio.SocketStream):
            try:
                peer = format_peer(transport.socket.getpeername())
            except OSError:  # reset before it was served
                peer = None
        link = _Link(self, stream)
        try:
            hub.open(link, peer, trio.current_time())
            with link.scope:  # cancelled by shut(): the hub dropped the connection
                while True:
                    try:
                        data = bytes(await stream.receive_some(READ_SIZE))
                    except _STREAM_ERRORS:
                        link.broken = True  # reset: nothing more can be written either
                        data = b""
                    hub.receive(link, data, trio.current_time())
                    if not data:
                        break
                if not link.done:
                    await trio.sleep_forever()  # an end of input the stack has not acted on
        finally:
            hub.lost(link, trio.current_time())
            self._timers.forget(link)
            await link.close()

    # -- timers ---------------------------------------------------------------------------

    def arm(self, link: _Link, deadline: float) -> None:
        """``link`` wants ``hub.timer`` at ``deadline``."""
        self._timers.push(link, deadline, len(self.hub.links))
        if deadline < self._sleeping_to:
            self._wake.set()

    def _rearm_app(self) -> None:
        deadline = self.hub.next_app_deadline()
        if deadline is not None and deadline < self._sleeping_to:
            self._wake.set()

    async def run_timers(self) -> None:
        """Every connection's timer and the application's, from one task."""
        hub = self.hub
        while True:
            now = trio.current_time()
            app_at = hub.next_app_deadline()
            if app_at is not None and now >= app_at:
                hub.app_timer(now)
            for link in self._timers.pop_due(now):  # one re-armed at once: next turn
                link.timer_at = None
                hub.timer(link, now)
            app_at = hub.next_app_deadline()
            first = self._timers.next_deadline()
            at = math.inf if first is None else first
            self._sleeping_to = at if app_at is None else min(at, app_at)
            with trio.move_on_at(self._sleeping_to):
                await self._wake.wait()
            self._wake = trio.Event()
            self._sleeping_to = -math.inf  # awake: whatever is armed is seen next turn

    async def listen(
        self,
        listeners: list[trio.abc.Listener[Any]],
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Accept until ``close()``; connection tasks go to ``self.nursery``, so closing
        stops the accepting without cancelling them.  (``trio.serve_listeners`` less its
        wrapper task frame and the checkpoint of its closing every stream again.)"""
        with self._listening:
            async with trio.open_nursery() as nursery:
                for listener in listeners:
                    nursery.start_soon(self._accept, listener)
                task_status.started()

    async def _accept(self, listener: trio.abc.Listener[Any]) -> None:
        async with listener:
            while True:
                try:
                    stream = await listener.accept()
                except OSError as exc:
                    if exc.errno not in _ACCEPT_CAPACITY:
                        raise
                    logger.error("accept failed (%s); retrying", exc)
                    await trio.sleep(_ACCEPT_RETRY)
                    continue
                self.nursery.start_soon(self.handle, stream)


def _timer_at(link: _Link) -> float | None:
    return link.timer_at


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
            server.nursery = nursery
            await nursery.start(server.listen, listeners)
            nursery.start_soon(server.run_timers)
            try:
                yield server
            except BaseException as exc:
                failure = exc
            finally:
                server.close()
                await server._finish()
    if failure is not None:
        raise failure
