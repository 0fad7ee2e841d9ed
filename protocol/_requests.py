"""The request table: every request resolves exactly once.

A request is opened with an id from an injected source and a deadline.  It then resolves
exactly once, through exactly one of:

* :meth:`RequestTable.succeed`: the venue answered with a result;
* :meth:`RequestTable.fail`: the venue answered with an error (or the machine gave up);
* :meth:`RequestTable.expire`: its deadline passed (:class:`RequestTimeout`);
* :meth:`RequestTable.abort_all`: the connection was lost (:class:`ConnectionLost`).

Each of these removes the entry before building the event, so a late or duplicated
answer finds nothing and returns ``None``: nothing resolves twice, and nothing hangs,
because every entry has a deadline.  ``tests/protocol/test_requests.py`` checks this
under arbitrary interleavings with hypothesis.
"""

from __future__ import annotations

import heapq
import math
from typing import Any

from ._errors import ConnectionLost, LocalProtocolError, RequestFailure, RequestTimeout
from ._events import Command, RequestFailed, RequestSucceeded
from ._sources import IdSource, RequestId

__all__ = ["PendingRequest", "RequestTable"]


class PendingRequest:
    """One open request.  ``context`` is free for the venue machine (retry counts ...)."""

    __slots__ = ("command", "context", "deadline", "opened_at", "request_id")

    def __init__(
        self,
        request_id: RequestId,
        command: Command,
        opened_at: float,
        deadline: float,
        context: Any,
    ) -> None:
        self.request_id = request_id
        self.command = command
        self.opened_at = opened_at
        self.deadline = deadline
        self.context = context

    def __repr__(self) -> str:
        return (
            f"PendingRequest(request_id={self.request_id!r}, "
            f"command={type(self.command).__name__}, deadline={self.deadline!r})"
        )


class RequestTable:
    """Open requests keyed by id, with deadlines.

    ``max_pending`` bounds the table: :meth:`open` raises :class:`LocalProtocolError`
    when it is full, before taking an id.  ``default_timeout`` (seconds) applies when
    :meth:`open` gets no ``timeout``.
    """

    __slots__ = ("_deadlines", "_ids", "_pending", "_seq", "default_timeout", "max_pending")

    def __init__(
        self, *, ids: IdSource, max_pending: int = 1024, default_timeout: float = 10.0
    ) -> None:
        if max_pending < 1:
            raise LocalProtocolError(
                f"invalid max_pending: expected a positive int, got {max_pending!r}"
            )
        if not 0 < default_timeout < math.inf:
            raise LocalProtocolError(
                f"invalid default_timeout: expected finite seconds > 0, got {default_timeout!r}"
            )
        self._ids = ids
        self._pending: dict[RequestId, PendingRequest] = {}
        self._deadlines: list[tuple[float, int, RequestId]] = []
        self._seq = 0
        self.max_pending = max_pending
        self.default_timeout = default_timeout

    def open(
        self,
        command: Command,
        now: float,
        *,
        timeout: float | None = None,
        context: Any = None,
        request_id: RequestId | None = None,
    ) -> PendingRequest:
        """Open a request; its id comes from the id source unless ``request_id`` is given."""
        if len(self._pending) >= self.max_pending:
            raise LocalProtocolError(
                f"too many pending requests (limit max_pending={self.max_pending}); "
                "wait for answers or raise the limit"
            )
        if timeout is None:
            timeout = self.default_timeout
        elif not 0 < timeout < math.inf:
            raise LocalProtocolError(
                f"invalid timeout: expected finite seconds > 0, got {timeout!r}"
            )
        if request_id is None:
            request_id = self._ids()
        elif request_id in self._pending:
            raise LocalProtocolError(f"invalid request_id: {request_id!r} is already pending")
        entry = PendingRequest(request_id, command, now, now + timeout, context)
        self._pending[request_id] = entry
        self._push_deadline(entry)
        return entry

    def _push_deadline(self, entry: PendingRequest) -> None:
        self._seq += 1
        heap = self._deadlines
        heapq.heappush(heap, (entry.deadline, self._seq, entry.request_id))
        if len(heap) > 64 and len(heap) > 4 * len(self._pending):
            # Resolved entries linger in the heap until their deadline; rebuild it so
            # its size stays proportional to the open requests, not to the traffic.
            self._deadlines = [
                item
                for item in heap
                if (e := self._pending.get(item[2])) is not None and e.deadline == item[0]
            ]
            heapq.heapify(self._deadlines)

    def get(self, request_id: RequestId) -> PendingRequest | None:
        return self._pending.get(request_id)

    def pop(self, request_id: RequestId) -> PendingRequest | None:
        """Remove and return the entry (resolving it); ``None`` if not pending."""
        return self._pending.pop(request_id, None)

    def succeed(self, request_id: RequestId, result: Any) -> RequestSucceeded | None:
        entry = self._pending.pop(request_id, None)
        if entry is None:
            return None
        return RequestSucceeded(request_id=request_id, command=entry.command, result=result)

    def fail(self, request_id: RequestId, error: RequestFailure) -> RequestFailed | None:
        entry = self._pending.pop(request_id, None)
        if entry is None:
            return None
        return RequestFailed(request_id=request_id, command=entry.command, error=error)

    def set_deadline(self, request_id: RequestId, deadline: float) -> None:
        """Move a pending request's deadline (a retry that must end sooner or later).

        Only the new deadline fires, earlier or later than the old one.  It must be a
        finite time: a request with a deadline that can never pass would never resolve.
        """
        entry = self._pending.get(request_id)
        if entry is None:
            raise LocalProtocolError(f"invalid request_id: {request_id!r} is not pending")
        if not math.isfinite(deadline):
            raise LocalProtocolError(
                f"invalid deadline: expected a finite time in seconds, got {deadline!r}"
            )
        entry.deadline = deadline
        self._push_deadline(entry)

    def expire(self, now: float) -> list[RequestFailed]:
        """Fail every request whose deadline is at or before ``now``."""
        failed: list[RequestFailed] = []
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            deadline, _, request_id = heapq.heappop(heap)
            entry = self._pending.get(request_id)
            if entry is None or entry.deadline != deadline:
                continue  # resolved already, or its deadline moved
            del self._pending[request_id]
            failed.append(
                RequestFailed(
                    request_id=request_id,
                    command=entry.command,
                    error=RequestTimeout(
                        f"request {request_id!r} ({type(entry.command).__name__}) "
                        f"unanswered after {deadline - entry.opened_at:g}s"
                    ),
                )
            )
        return failed

    def abort_all(self, reason: str = "connection lost") -> list[RequestFailed]:
        """Fail every pending request with :class:`ConnectionLost`, oldest first."""
        pending = self._pending
        self._pending = {}
        self._deadlines = []
        return [
            RequestFailed(
                request_id=request_id, command=entry.command, error=ConnectionLost(reason)
            )
            for request_id, entry in pending.items()
        ]

    def next_deadline(self) -> float | None:
        heap = self._deadlines
        while heap:
            deadline, _, request_id = heap[0]
            entry = self._pending.get(request_id)
            if entry is not None and entry.deadline == deadline:
                return deadline
            heapq.heappop(heap)  # stale: drop it so the heap stays small
        return None

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, request_id: object) -> bool:
        return request_id in self._pending

    def pending(self) -> list[PendingRequest]:
        """The open requests, oldest first."""
        return list(self._pending.values())
