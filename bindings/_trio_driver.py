"""The trio client driver: one client session's timers, dials and pipe, in a nursery.

A driver task sleeps until the session's next deadline (or a wake-up when the deadline
moves earlier, a dial is wanted, or the session is done), then calls ``timer(now)``
with ``now = trio.current_time()``; it starts the dials.  :func:`_session_scope` runs it
inside ``connect()`` / ``http_client()`` and lets the body's exception out unwrapped.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import trio

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
