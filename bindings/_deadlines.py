"""One heap of every connection's deadline, for servers that serve timers from one place.

The trio and sync servers keep thousands of mostly idle connections; each may want its
stack's ``handle_timer`` at some time.  A task or a check per connection would cost per
open connection; this heap costs per deadline armed.  Entries are never removed when a
connection re-arms or closes: they go stale, are skipped when they come due, and the
heap is rebuilt from its live entries when it holds more than twice as many entries as
there are connections (plus a small constant), so its size stays bounded by the number
of connections.

An entry holds the connection through a one-item slot that :meth:`DeadlineHeap.forget`
empties when the connection ends, never the connection itself: a stale entry may wait
for its time or the next rebuild (with 4,000 connections open, up to 4,000 entries), and
a closed connection it held would keep its whole stack (about a hundred objects) alive
that long, for every full pass of the garbage collector to walk.

A connection is any object with a ``done`` flag; the server says how to read the one
deadline it currently wants (``current``), so an entry is live while that still equals
the entry's time.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

__all__ = ["DeadlineHeap"]


class _Connection(Protocol):
    @property
    def done(self) -> bool: ...


C = TypeVar("C", bound=_Connection)

SLACK = 64
"""Stale entries tolerated beyond twice the number of connections before a rebuild."""


class DeadlineHeap(Generic[C]):
    """``push`` a connection's new deadline, ``pop_due`` those that have come."""

    def __init__(self, current: Callable[[C], float | None]) -> None:
        self._entries: list[tuple[float, int, list[C | None]]] = []
        self._slots: dict[C, list[C | None]] = {}  # each armed connection's one slot
        self._seq = itertools.count()  # ties keep their order; connections never compare
        self._current = current

    def __len__(self) -> int:
        return len(self._entries)

    def push(self, conn: C, deadline: float, connections: int) -> None:
        """``conn`` now wants its timer at ``deadline``; ``connections`` open in all.  A
        connection that is ``done`` wants none (nor a slot it would never be forgotten
        from, if it is armed after :meth:`forget`)."""
        if conn.done:
            return
        entries = self._entries
        slot = self._slots.get(conn)
        if slot is None:
            slot = self._slots[conn] = [conn]
        heapq.heappush(entries, (deadline, next(self._seq), slot))
        if len(entries) > 2 * connections + SLACK:  # mostly stale: keep the live ones
            current = self._current
            entries[:] = [
                e
                for e in entries
                if (c := e[2][0]) is not None and not c.done and current(c) == e[0]
            ]
            heapq.heapify(entries)

    def forget(self, conn: C) -> None:
        """``conn`` has ended: its entries let go of it now (they are dropped when they
        come due or at the next rebuild)."""
        slot = self._slots.pop(conn, None)
        if slot is not None:
            slot[0] = None

    def pop_due(self, now: float) -> list[C]:
        """The connections whose current deadline is at or before ``now``, each once, in
        deadline order; their entries leave the heap (a connection that re-arms while
        they are handled is due again on a later call, not in this one)."""
        entries = self._entries
        due: dict[C, None] = {}
        while entries and entries[0][0] <= now:
            conn = heapq.heappop(entries)[2][0]
            if conn is not None:
                due[conn] = None
        current = self._current
        live = [
            (at, order, conn)
            for order, conn in enumerate(due)
            if not conn.done and (at := current(conn)) is not None and at <= now
        ]
        live.sort(key=_time_and_order)  # a stale earlier entry must not set the order
        return [conn for _, _, conn in live]

    def next_deadline(self) -> float | None:
        """The earliest entry's time (perhaps a stale one: waking for it costs a check)."""
        return self._entries[0][0] if self._entries else None


def _time_and_order(entry: tuple[float, int, object]) -> tuple[float, int]:
    return entry[0], entry[1]
