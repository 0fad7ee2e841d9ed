"""The sync WebSocket client: :func:`connect` and :class:`Client`."""

from __future__ import annotations

import random
import ssl as _ssl
import time
from collections import deque
from collections.abc import Callable, Iterator
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

from ._client import ClientCore, outcome
from ._common import (
    DEFAULT_MAX_QUEUED_EVENTS,
    WRITE_HIGH_WATER,
    client_ssl_context,
    parse_ws_url,
    with_url_target,
)
from ._epoch import resolve_epoch_offset
from ._session import Session
from ._sync_driver import _ClientReactor
from ._sync_reactor import _SlotWaiter

__all__ = ["Client", "connect", "epoch_offset"]


def epoch_offset() -> float:
    """Seconds to add to this binding's clock (:func:`time.monotonic`) to read Unix
    epoch seconds.

    ``connect()`` applies it to client machines by itself (see
    ``tradewire.bindings._epoch``); a server application passes it where a venue wants
    epoch time, e.g. ``deribit.ServerConfig(epoch_offset=epoch_offset())``.
    """
    return time.time() - time.monotonic()


_measure_epoch_offset = epoch_offset


EVENT_BATCH = 64
"""Events :meth:`Client.events` takes off the queue per lock (the I/O thread and the
consumer otherwise hand the lock back and forth once per event).  They wait in the client
(``taken``) until yielded, so leaving the loop loses none: the next ``events()`` starts
with them."""


class _Base:
    def __init__(self, reactor: _ClientReactor) -> None:
        self._reactor = reactor
        self._session = reactor.session
        self._core = reactor.core
        self._cond = reactor.cond

    def _call(self, make_id: Callable[[float], RequestId], timeout: float | None) -> Event:
        """Send under the lock, then wait for the answer (``None``: no extra bound)."""
        cond = self._cond
        with cond:
            now = time.monotonic()
            request_id = make_id(now)
            waiter = _SlotWaiter(cond)
            self._core.register(request_id, waiter)
            self._reactor.step(now)
            self._reactor.unlead_idle()  # the answer is read now, not a lease later
            end = None if timeout is None else now + timeout
            while waiter.event is None:
                remaining = None if end is None else end - time.monotonic()
                if remaining is not None and remaining <= 0:
                    self._core.abandon(request_id)
                    raise RequestTimeout(f"request {request_id!r} unanswered after {timeout}s")
                cond.wait(remaining)
            return waiter.event

    def _shutdown(self, code: int = 1000, reason: str = "") -> None:
        reactor = self._reactor
        with self._cond:
            if not self._session.closing and not self._session.done:
                self._session.close(time.monotonic(), code, reason)
                reactor.step(time.monotonic())
            reactor.wakeup()
        if reactor.thread.is_alive() and not reactor.in_loop():
            reactor.thread.join()


class Client(_Base):
    """A WebSocket client session (see :func:`connect`)."""

    def __init__(self, reactor: _ClientReactor, machine: ClientMachine) -> None:
        super().__init__(reactor)
        self.machine = machine
        self.taken: deque[Event] = deque()  # off the queue, not yet yielded (EVENT_BATCH)
        stack = reactor.session.stack
        assert isinstance(stack, WebSocketClientStack)
        self.stack: WebSocketClientStack = stack

    @property
    def queued(self) -> int:
        """Events waiting for the consumer (never more than ``max_queued_events``, plus
        at most ``EVENT_BATCH`` taken off the queue for the consumer)."""
        return len(self._core.queue) + len(self.taken)

    @property
    def reading_paused(self) -> bool:
        return self._core.paused_at is not None

    def send(self, command: Command) -> RequestId | None:
        """Send ``command``; returns its request id (its answer arrives as an event)."""
        with self._cond:
            now = time.monotonic()
            request_id = self._session.send(command, now)
            self._reactor.step(now)
            while True:
                conn = self._reactor.conn
                if conn is None or len(conn.out) <= WRITE_HIGH_WATER or not conn.ready:
                    return request_id
                self._cond.wait(1.0)

    def request(self, command: Command, timeout: float | None = None) -> Any:
        """Send ``command`` and return its result; raise its ``RequestFailure``.

        The machine's own deadline always applies; ``timeout`` is an extra bound.
        """
        return outcome(self._call(lambda now: self._session.request_id_for(command, now), timeout))

    def events(self, timeout: float | None = None) -> Iterator[Event]:
        """Yield events as they come; stop when the client is closed (and drained) or
        when none arrived for ``timeout`` seconds.

        While it waits, this thread reads the socket itself (see ``_sync_driver``)."""
        core, cond, taken, reactor = self._core, self._cond, self.taken, self._reactor
        try:
            while True:
                if taken:
                    yield taken.popleft()
                    continue
                with cond:
                    reactor.lead_seen += 1
                    end = None if timeout is None else time.monotonic() + timeout
                    while True:
                        now = time.monotonic()
                        event = core.pop(now)
                        if event is not None:
                            taken.append(event)
                            while len(taken) < EVENT_BATCH:
                                more = core.pop(now)
                                if more is None:
                                    break
                                taken.append(more)
                            break
                        if core.drained:
                            return
                        remaining = None if end is None else end - time.monotonic()
                        if remaining is not None and remaining <= 0:
                            return
                        if not reactor.lead(remaining):
                            cond.wait(remaining)
        finally:
            reactor.unlead()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close handshake, then TCP; no reconnect; joins the I/O thread."""
        self._shutdown(code, reason)

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


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
) -> Client:
    """Connect (blocking until the first connection is open, or raising as the async
    bindings do) and return the :class:`Client`; use it as a context manager.

    ``epoch_offset`` defaults to ``time.time() - time.monotonic()``, measured now.
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
    session.watch_first = True
    reactor = _ClientReactor(session)
    reactor.thread.start()
    with reactor.cond:
        while session.first is None:
            reactor.cond.wait()
        first = session.first
    client = Client(reactor, machine)
    if first is not True:
        client.close()
        raise first if isinstance(first, BaseException) else ConnectionError(first)
    return client
