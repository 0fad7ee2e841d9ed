"""The client side every binding shares: request routing and the bounded event queue.

:class:`ClientCore`: request-id -> waiter bookkeeping, event routing and the bounded
event queue with its backpressure policy.  The rules of driving a client stack are
:class:`~tradewire.bindings._session.Session`'s.  Nothing here does I/O or reads a clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from tradewire.protocol import (
    Command,
    Connected,
    ConnectionDead,
    ConnectionLost,
    Event,
    HTTPResponse,
    LocalProtocolError,
    RequestFailed,
    RequestId,
    RequestSucceeded,
    UpgradeRejected,
)

from ._common import (
    DEFAULT_MAX_QUEUED_EVENTS,
    ConnectFailed,
    DialFailed,
    Lagging,
    ProtocolViolation,
    describe,
)

__all__ = ["ClientCore", "Waiter", "outcome"]


class Waiter(Protocol):
    """Something a binding resolves when the answer to one awaited request arrives."""

    def resolve(self, event: Event) -> None: ...


class _Discard:
    """Stands in for a waiter that gave up: the late answer is dropped, once."""

    def resolve(self, event: Event) -> None:
        pass


_DISCARD = _Discard()
_ANSWERS = (RequestSucceeded, RequestFailed, HTTPResponse)


def outcome(event: Event) -> Any:
    """What an awaited request returns: the result, the response, or raise the error."""
    if isinstance(event, RequestSucceeded):
        return event.result
    if isinstance(event, RequestFailed):
        raise event.error
    return event


def _noop() -> None:
    pass


class ClientCore:
    """Waiters, event routing and the bounded event queue of one client.

    Routing: an answer (``RequestSucceeded``, ``RequestFailed``, ``HTTPResponse``) to a
    request somebody awaits resolves that waiter and is *not* queued; everything else
    goes to the queue the consumer iterates.  An awaited request that gave up (its
    extra ``timeout`` passed, or it was cancelled) leaves a discarding placeholder: the
    core resolves every request exactly once, so the placeholder goes away with it.

    Backpressure: the queue holds at most ``max_queued_events``.  When it is full the
    binding stops reading the socket (``pause_reading``), so TCP pushes back on the
    venue; events that were already decoded from the last read, or that timers produce
    meanwhile, wait in a spill list (at most what one read decodes to).  When the
    consumer takes the queue down to ``low_water`` the spill moves in, reading resumes
    (``resume_reading``) and a :class:`Lagging` event records how long it was paused.
    Memory stays bounded; the price is latency, and while reading is paused neither
    pongs nor heartbeats are read: a venue may drop a slow client, or the stack's own
    keepalive declares the connection dead and reconnects.  Iterate the events (or
    raise the bound) if you await requests: their answers wait behind a paused read.
    """

    def __init__(
        self,
        *,
        max_queued_events: int = DEFAULT_MAX_QUEUED_EVENTS,
        low_water: int | None = None,
        keep_unclaimed: bool = True,
    ) -> None:
        if isinstance(max_queued_events, bool) or not (
            isinstance(max_queued_events, int) and max_queued_events > 0
        ):
            raise LocalProtocolError(
                f"invalid max_queued_events: expected a positive int, got {max_queued_events!r}"
            )
        if low_water is None:
            low_water = max_queued_events // 2
        if isinstance(low_water, bool) or not (
            isinstance(low_water, int) and 0 <= low_water < max_queued_events
        ):
            raise LocalProtocolError(
                f"invalid low_water: expected an int from 0 to max_queued_events - 1, "
                f"got {low_water!r}"
            )
        self.limit = max_queued_events
        self.low_water = low_water
        self.keep_unclaimed = keep_unclaimed
        self.queue: deque[Event] = deque()
        self._spill: deque[Event] = deque()
        self.waiters: dict[RequestId, Waiter] = {}
        self.paused_at: float | None = None
        self.closed = False
        # Hooks the binding sets: wake the consumer; stop / restart reading the socket.
        self.wake: Callable[[], None] = _noop
        self.pause_reading: Callable[[], None] = _noop
        self.resume_reading: Callable[[], None] = _noop
        # The first connection's outcome, for connect() (WebSocket clients only).
        self.opened = False
        self.first_failure: BaseException | None = None

    # -- producer side (the binding's I/O path) -----------------------------------------

    def absorb(self, events: list[Event], now: float) -> None:
        """Route one batch of the stack's events."""
        if not self.opened:
            self._watch_first(events)
        waiters = self.waiters
        queue = self.queue
        if not waiters and self.paused_at is None and len(queue) + len(events) < self.limit:
            if self.keep_unclaimed:
                was_empty = not queue
                queue.extend(events)
                if was_empty:
                    self.wake()
            return
        added = False
        for event in events:
            if waiters and isinstance(event, _ANSWERS):
                waiter = waiters.pop(event.request_id, None)
                if waiter is not None:
                    waiter.resolve(event)
                    continue
            if not self.keep_unclaimed:
                continue
            if self.paused_at is None:
                queue.append(event)
                added = True
                if len(queue) >= self.limit:
                    self.paused_at = now
                    self.pause_reading()
            else:
                self._spill.append(event)
        if added:
            self.wake()

    def _watch_first(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, Connected):
                self.opened = True
                return
            if isinstance(event, UpgradeRejected):
                self.first_failure = ConnectFailed(
                    f"WebSocket upgrade rejected with HTTP {event.status}: "
                    f"{event.body[:200].decode('utf-8', 'replace')}",
                    event,
                )
            elif (isinstance(event, ConnectionDead) and self.first_failure is None) or (
                isinstance(event, ProtocolViolation) and self.first_failure is None
            ):
                self.first_failure = ConnectFailed(
                    f"WebSocket upgrade failed: {event.reason}", event
                )

    def dial_failed(self, error: BaseException, attempt: int, now: float) -> None:
        """A dial failed: remember it for connect(), report it as :class:`DialFailed`."""
        if not self.opened and self.first_failure is None:
            self.first_failure = error
        self.absorb([DialFailed(attempt=attempt, error=describe(error))], now)

    def first_outcome(self, attempt: int) -> bool | BaseException | None:
        """``True`` once connected; the error once the first attempt is over; else None."""
        if self.opened:
            return True
        if attempt == 0:
            return None
        return self.first_failure or ConnectFailed(
            "the connection closed during the WebSocket upgrade"
        )

    # -- consumer side ------------------------------------------------------------------

    def pop(self, now: float) -> Event | None:
        """The next event, or ``None``; may resume reading (and queue :class:`Lagging`)."""
        queue = self.queue
        if not queue:
            if self.paused_at is not None:
                self._refill(now)
                if not queue:
                    return None
            else:
                return None
        event = queue.popleft()
        if self.paused_at is not None and len(queue) <= self.low_water:
            self._refill(now)
        return event

    def _refill(self, now: float) -> None:
        queue, spill, limit = self.queue, self._spill, self.limit
        while spill and len(queue) < limit:
            queue.append(spill.popleft())
        if not spill and len(queue) < limit and self.paused_at is not None:
            queue.append(Lagging(paused_for=max(0.0, now - self.paused_at), limit=limit))
            self.paused_at = None
            self.resume_reading()

    @property
    def drained(self) -> bool:
        """Closed for good and nothing left to deliver: iteration ends."""
        return self.closed and not self.queue and not self._spill

    def register(self, request_id: RequestId, waiter: Waiter) -> None:
        self.waiters[request_id] = waiter

    def abandon(self, request_id: RequestId) -> None:
        """The awaiting caller gave up; the answer, when it comes, is dropped."""
        if request_id in self.waiters:
            self.waiters[request_id] = _DISCARD

    def abandon_with(self, request_id: RequestId, cause: BaseException) -> None:
        """Fail one waiter now with ``ConnectionLost`` caused by ``cause``."""
        waiter = self.waiters.get(request_id)
        if waiter is None or waiter is _DISCARD:
            return
        self.waiters[request_id] = _DISCARD
        error = ConnectionLost(f"could not connect: {describe(cause)}")
        error.__cause__ = cause
        waiter.resolve(RequestFailed(request_id=request_id, command=_Unknown(), error=error))

    def fail_waiters(self, error_text: str, cause: BaseException | None = None) -> None:
        """Resolve every waiter with ``ConnectionLost`` (the client is shutting down)."""
        waiters, self.waiters = self.waiters, {}
        for request_id, waiter in waiters.items():
            error = ConnectionLost(error_text)
            error.__cause__ = cause
            waiter.resolve(RequestFailed(request_id=request_id, command=_Unknown(), error=error))


class _Unknown(Command, frozen=True, kw_only=True):
    """The command of a request the binding failed itself (its own copy is in the stack)."""
