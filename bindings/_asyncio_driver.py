"""The asyncio client driver: moves one client session's bytes and timers.

Shared by :class:`~tradewire.bindings.asyncio.Client` and
:class:`~tradewire.bindings.asyncio.HTTPClient`: each read (at most 64 KiB, see
``_asyncio_link``) goes to the session whole, and its events are routed synchronously
(no task, future or await per message); one ``loop.call_at`` handle per client at the
session's next deadline, re-armed only when the deadline moves earlier; one small task
dials when the session asks, bounded by ``open_timeout``; ``pause_reading`` /
``resume_reading`` for the event queue's backpressure.

A read that comes while the consumer waits in ``async for`` is not decoded in the
transport's callback: the driver keeps it (``_unread``, one read, at most
``READ_SIZE`` bytes, since the loop's next turn hands it over before the socket is read
again), wakes the consumer, and the consumer's ``__anext__`` hands it to the session
(:meth:`_Driver.settle`), so its events are made just before they are consumed.
Otherwise, with many connections ready in one turn of the loop, every connection's
whole read would be decoded before any consumer ran: thousands of events alive at once,
paid for in cache misses and garbage-collector passes (``benchmarks/bench_e2e.py``,
100 connections: 2.2-2.7x the CPU per message of one connection before, 1.15-1.25x
after).  A ``call_soon`` settles the read anyway in the loop's next turn, in case the
consumer never runs (cancelled, or busy), and every other input to the session (a
timer, a send, a request, a close, the end of the transport) settles it first, so the
session sees everything in the order it came.  Without a waiting consumer (requests
only, or a consumer busy elsewhere) a read is handed over at once, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from ._asyncio_link import _Link
from ._common import WRITE_HIGH_WATER, never
from ._session import Session

__all__ = ["_Driver"]


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
        # Reads that came while the consumer was waiting, kept for it (see settle).
        self._unread: list[bytes] = []
        self.consumer_waiting: Callable[[], bool] = never
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
        if link is not self.link:
            return
        unread = self._unread
        if unread or self.consumer_waiting():
            unread.append(data)
            if len(unread) == 1:
                self.core.wake()
                self.loop.call_soon(self._settle_soon)
            return
        now = self.loop.time()
        self.session.receive(data, now)
        self.step(now)

    def settle(self) -> bool:
        """Hand the session the reads kept for the consumer, in order; ``True`` if any."""
        unread = self._unread
        if not unread:
            return False
        self._unread = []
        now = self.loop.time()
        for data in unread:
            self.session.receive(data, now)
        self.step(now)
        return True

    def link_timer(self, link: _Link, now: float) -> None:
        pass  # client timers are per session, not per link

    def _settle_soon(self) -> None:
        self.settle()

    def link_lost(self, link: _Link) -> None:
        self.settle()
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
        deadline = session.next_deadline()
        if deadline is not None and (self._timer is None or deadline < self._timer_at):
            if self._timer is not None:
                self._timer.cancel()
            self._timer_at = deadline
            self._timer = self.loop.call_at(deadline, self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self._finished:
            return
        self.settle()
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
        self.settle()
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
