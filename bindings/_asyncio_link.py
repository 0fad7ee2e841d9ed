"""The asyncio binding's transport glue: one :class:`asyncio.BufferedProtocol` per connection.

:class:`_Link` forwards a connection's callbacks to the client driver or server that
owns it and is also the ``Link`` / ``ServerLink`` the shared session and hub write
through: ``push`` (never blocks), ``shut`` (close with a grace period, or abort) and
``arm`` (one lazy ``call_at`` timer).  :class:`_FutureWaiter` resolves an awaited
request's future.

Reads are :data:`READ_SIZE` (64 KiB) at a time.  A plain :class:`asyncio.Protocol` gets
whatever the transport reads, up to 256 KiB from the selector loop's socket transport:
hundreds of messages whose decoded events all stay alive until the consumer runs, which
costs more in cache misses than the extra reads cost (measured in ``benchmarks/``:
``bench_stack`` in memory, ``bench_e2e`` on loopback).  The buffer is one per thread,
shared by every link of the loops running there (a server with many connections holds
64 KiB, not 64 KiB each): a transport fills it and calls ``buffer_updated`` at once,
which copies the bytes out before anything else runs.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Protocol, cast

from tradewire.protocol import Event

from ._common import CLOSE_GRACE, ServerConnection

__all__ = ["READ_SIZE", "_FutureWaiter", "_Link", "_Owner"]

READ_SIZE = 64 * 1024
"""Bytes asked of the transport per read (see the module docstring)."""


class _ReadBuffer(threading.local):
    """This thread's read buffer: transports fill it, ``buffer_updated`` copies it out."""

    def __init__(self) -> None:
        self.view = memoryview(bytearray(READ_SIZE))


_read_buffer = _ReadBuffer()


class _Owner(Protocol):
    def link_made(self, link: _Link) -> None: ...

    def link_data(self, link: _Link, data: bytes) -> None: ...

    def link_lost(self, link: _Link) -> None: ...

    def link_timer(self, link: _Link, now: float) -> None: ...


class _Link(asyncio.BufferedProtocol):
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
        self._view = _read_buffer.view  # what get_buffer handed out last

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.owner.link_made(self)

    def get_buffer(self, sizehint: int) -> memoryview:
        self._view = view = _read_buffer.view
        return view

    def buffer_updated(self, nbytes: int) -> None:
        self.owner.link_data(self, self._view[:nbytes].tobytes())

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
        """Write ``data``; nothing once the transport is closing or failed (asyncio
        counts such writes and logs "socket.send() raised exception" past five)."""
        transport = self.transport
        if transport.is_closing():
            return 0  # gone: connection_lost is on its way
        transport.write(data)
        return transport.get_write_buffer_size()

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
