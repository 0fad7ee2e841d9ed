"""The trio client driver: one client session's timers, dials and pipe, in a nursery.

A driver task sleeps until the session's next deadline (or a wake-up when the deadline
moves earlier, a dial is wanted, or the session is done), then calls ``timer(now)``
with ``now = trio.current_time()``; it starts the dials.  :func:`_session_scope` runs it
inside ``connect()`` / ``http_client()`` and lets the body's exception out unwrapped.

A read that comes while the consumer waits in ``async for`` is not decoded in the pipe's
reader task: the driver keeps it (``_unread``), wakes the consumer, and the consumer's
``__anext__`` hands it to the session (:meth:`_Driver.settle`), so a read's events are
made in the task that consumes them, just before it does.  The reader reads again only
once the kept read is handed over (``_Pipe._hand_over``: two batches of the run at
most, then it hands it over itself, in case the consumer never runs).  Decoded in the
reader, the next read's events were made while the consumer still held the last
read's: on ``benchmarks/bench_e2e.py`` (one connection, the Deribit book stream) the
level tuples of ~130 book changes alive at once outgrow CPython's tuple free list, and
the fresh ones fill the garbage collector's youngest generation: ~1300 collections
(and 3-4 full ones) per 100,000 messages, 13-16% of the run, where the asyncio binding
(which does the same since it kept reads for its consumer) has none.  With the
read handed over, the trio binding's rate went from 0.74-0.86x the asyncio binding's
to 0.88-0.94x (medians of 5-9 interleaved runs of 100,000 messages); by instruction
count (``valgrind --tool=callgrind``) it is 0.95x, the rest being the cancellation
check that every ``__anext__`` keeps.  Every other input to the session (a timer, a
send, a request, a close, the end of the stream) hands the kept read over first, so
the session sees everything in the order it came.  Without a waiting consumer a read
is handed over at once, as before.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import trio

from ._common import never
from ._session import Session
from ._trio_pipe import _open, _Pipe

__all__ = ["_Driver", "_session_scope"]


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
        # A read that came while the consumer was waiting, kept for it (see settle).
        self._unread: list[bytes] = []
        self.consumer_waiting: Callable[[], bool] = never
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
        deadline = session.next_deadline()
        if deadline is not None and (self._timer_at is None or deadline < self._timer_at):
            self._wake.set()

    async def run(self) -> None:
        session = self.session
        try:
            while True:
                now = trio.current_time()
                if self._timer_at is not None and now >= self._timer_at:
                    self._timer_at = None
                    self.settle()
                    session.timer(now)
                    self.step(now)
                if session.done and self.pipe is None and not self._dialing:
                    break
                if session.wants_dial(self.pipe is not None or self._dialing):
                    self._dialing = True
                    self._dial_scope = trio.CancelScope()
                    self.nursery.start_soon(self._dial, self._dial_scope)
                deadline = session.next_deadline()
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
        pipe = _Pipe(
            stream,
            self._on_data,
            self._on_broken,
            session.close_grace,
            kept=self._kept,
            settle=self.settle,
        )
        if self.core.paused_at is not None:
            pipe.pause()
        self.pipe = pipe
        self.nursery.start_soon(pipe.run)
        session.connected(now)
        self.step(now)

    def _on_data(self, pipe: _Pipe, data: bytes) -> bool:
        """Hand ``data`` to the session, or keep it for the waiting consumer (``True``)."""
        if pipe is not self.pipe:
            return False
        unread = self._unread
        if unread or self.consumer_waiting():
            unread.append(data)
            if len(unread) == 1:
                self.core.wake()
            return True
        now = trio.current_time()
        self.session.receive(data, now)
        self.step(now)
        return False

    def _kept(self) -> bool:
        return bool(self._unread)

    def settle(self) -> bool:
        """Hand the session the reads kept for the consumer, in order; ``True`` if any."""
        unread = self._unread
        if not unread:
            return False
        self._unread = []
        now = trio.current_time()
        for data in unread:
            self.session.receive(data, now)
        self.step(now)
        return True

    def _on_broken(self, pipe: _Pipe) -> None:
        self.settle()
        if pipe is self.pipe:
            self.pipe = None
            pipe.shut(abort=True)
            now = trio.current_time()
            self.session.transport_closed(now)
            self.step(now)

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.settle()
        if not self.session.closing and not self.session.done:
            now = trio.current_time()
            self.session.close(now, code, reason)
            self.step(now)
        if self._dial_scope is not None:
            self._dial_scope.cancel()
        self._wake.set()


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
