"""The trio WebSocket client: :func:`connect` and :class:`Client`."""

from __future__ import annotations

import math
import random
import ssl as _ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import trio

from tradewire.protocol import (
    ClientMachine,
    Command,
    Event,
    RandomSource,
    RequestId,
    RequestTimeout,
    WebSocketClientStack,
)

from ._client import ClientCore, outcome
from ._common import DEFAULT_MAX_QUEUED_EVENTS, client_ssl_context, parse_ws_url, with_url_target
from ._epoch import resolve_epoch_offset
from ._session import Session
from ._trio_driver import _Driver, _session_scope
from ._trio_pipe import _EventWaiter

__all__ = ["Client", "connect", "epoch_offset"]


def epoch_offset() -> float:
    """Seconds to add to ``trio.current_time()`` to read Unix epoch seconds.

    Call it inside ``trio.run`` (the run's clock decides; a ``MockClock`` works too).
    ``connect()`` applies it to client machines by itself (see
    ``tradewire.bindings._epoch``); a server application passes it where a venue wants
    epoch time, e.g. ``deribit.ServerConfig(epoch_offset=epoch_offset())``.
    """
    return time.time() - trio.current_time()


_measure_epoch_offset = epoch_offset


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
        self._waiting = False
        self._core.wake = self._wake
        driver.consumer_waiting = self._consumer_waiting

    @property
    def queued(self) -> int:
        """Events waiting for the consumer (never more than ``max_queued_events``)."""
        return len(self._core.queue)

    @property
    def reading_paused(self) -> bool:
        return self._core.paused_at is not None

    def _wake(self) -> None:
        self._ready.set()

    def _consumer_waiting(self) -> bool:
        return self._waiting

    async def send(self, command: Command) -> RequestId | None:
        """Send ``command``; returns its request id (its answer arrives as an event)."""
        self._driver.settle()
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
        self._driver.settle()
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
        # The hot path: an event is waiting and reading is not paused, so ClientCore.pop
        # would only take it off the queue; skip the call and the clock read (as the
        # asyncio binding does), keeping the cancellation point.
        queue = core.queue
        if queue and core.paused_at is None:
            await trio.lowlevel.checkpoint_if_cancelled()
            return queue.popleft()
        while True:
            # Cancelled here, before the pop: a cancelled iteration loses no event.
            await trio.lowlevel.checkpoint_if_cancelled()
            event = core.pop(trio.current_time())
            if event is not None:
                return event
            if self._driver.settle():  # a read kept for this task (see _trio_driver)
                continue
            if core.drained:
                raise StopAsyncIteration
            self._ready = trio.Event()
            self._waiting = True
            try:
                await self._ready.wait()
            finally:
                self._waiting = False

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Close handshake, then TCP; no reconnect.  Bounded by the stack's close_timeout."""
        self._driver.close(code, reason)
        await self._driver.finished.wait()


@asynccontextmanager
async def connect(
    url: str,
    machine: ClientMachine,
    *,
    ssl: _ssl.SSLContext | None = None,
    rng: RandomSource | None = None,
    max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
    low_water: int | None = None,
    epoch_offset: float | None = None,
    **stack_options: Any,
) -> AsyncIterator[Client]:
    """``async with connect(url, machine) as client``: as in the asyncio binding.

    ``epoch_offset`` defaults to ``time.time() - trio.current_time()`` on entering.
    """
    endpoint = parse_ws_url(url)
    context = client_ssl_context(endpoint, ssl)
    fixed = resolve_epoch_offset(machine, epoch_offset)
    offset = _measure_epoch_offset() if fixed is None else fixed
    stack = WebSocketClientStack(
        with_url_target(machine, endpoint),
        host=endpoint.host_header,
        rng=rng if rng is not None else random.SystemRandom(),
        **stack_options,
    )
    core = ClientCore(max_queued_events=max_queued_events, low_water=low_water)
    session = Session(stack, core, endpoint, context, epoch_offset=offset)
    async with _session_scope(session, True) as driver:
        yield Client(driver, machine)
