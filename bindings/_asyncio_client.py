"""The asyncio WebSocket client: :func:`connect` and :class:`Client`."""

from __future__ import annotations

import asyncio
import random
import ssl as _ssl
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from tradewire.protocol import (
    ClientMachine,
    Command,
    Event,
    RandomSource,
    RequestId,
    RequestTimeout,
    WebSocketClientStack,
)

from ._asyncio_driver import _Driver
from ._asyncio_link import _FutureWaiter
from ._client import ClientCore, outcome
from ._common import (
    DEFAULT_MAX_QUEUED_EVENTS,
    client_ssl_context,
    parse_ws_url,
    with_url_target,
)
from ._epoch import resolve_epoch_offset
from ._session import Session

__all__ = ["Client", "connect", "epoch_offset"]


def epoch_offset() -> float:
    """Seconds to add to this binding's clock to read Unix epoch seconds.

    ``time.time() - loop.time()`` of the running loop (``time.monotonic()`` outside
    one, the default loops' clock).  ``connect()`` applies it to client machines by
    itself (see ``tradewire.bindings._epoch``); a server application passes it where a
    venue wants epoch time, e.g. ``deribit.ServerConfig(epoch_offset=epoch_offset())``.
    """
    try:
        clock = asyncio.get_running_loop().time()
    except RuntimeError:
        clock = time.monotonic()
    return time.time() - clock


_measure_epoch_offset = epoch_offset


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
        driver.consumer_waiting = self._consumer_waiting

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
        self._driver.settle()
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
        self._driver.settle()
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

    def _consumer_waiting(self) -> bool:
        return self._waiting is not None

    def _wake(self) -> None:
        waiting = self._waiting
        if waiting is not None and not waiting.done():
            waiting.set_result(None)

    def __aiter__(self) -> Client:
        return self

    async def __anext__(self) -> Event:
        core = self._core
        # The hot path: an event is waiting and reading is not paused, so ClientCore.pop
        # would only take it off the queue; skip the call and the clock read.
        queue = core.queue
        if queue and core.paused_at is None:
            return queue.popleft()
        while True:
            event = core.pop(self._loop.time())
            if event is not None:
                return event
            if self._driver.settle():
                continue
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
    epoch_offset: float | None = None,
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

    The machine is driven in epoch seconds: ``now`` is the loop's clock plus
    ``epoch_offset``, measured on entering (``time.time() - loop.time()``) unless given,
    so a machine that signs with the time (Deribit's ``client_signature``) needs no
    clock setting of its own (see ``tradewire.bindings._epoch``).  When the machine ends
    its session (Deribit's ``LoggedOut`` after ``private/logout``), the client closes
    for good instead of reconnecting, and iteration ends.
    """
    endpoint = parse_ws_url(url)
    context = client_ssl_context(endpoint, ssl)
    core = ClientCore(max_queued_events=max_queued_events, low_water=low_water)
    fixed = resolve_epoch_offset(machine, epoch_offset)

    def make() -> tuple[_Driver, ClientMachine]:
        offset = _measure_epoch_offset() if fixed is None else fixed
        stack = WebSocketClientStack(
            with_url_target(machine, endpoint),
            host=endpoint.host_header,
            rng=rng if rng is not None else random.SystemRandom(),
            **stack_options,
        )
        session = Session(stack, core, endpoint, context, epoch_offset=offset)
        return _Driver(session), machine

    return _Connect(make)
