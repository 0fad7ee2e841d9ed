"""Named bounds for a machine's queues.

A machine never grows a queue without limit (docs/architecture.md, "Everything is bounded").  The
check happens at the *entry* of each driving call, before anything is consumed: a caller
that stops draining gets a :class:`LocalProtocolError` naming the bound, and the message
or command it was passing is not lost (it was never taken).  One call adds a bounded
number of items, so a queue never exceeds its limit by more than one call's worth.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from ._errors import LocalProtocolError

__all__ = ["BoundedQueue"]

T = TypeVar("T")


class BoundedQueue(Generic[T]):
    """A FIFO list with a named limit, checked by :meth:`ensure_room`.

    ``items`` is the list behind the queue, oldest first, for a hot path.  Only the
    queue's owner replaces it, and only as the owner's own drain: it takes the list
    whole and puts an empty one in its place (``q.items = []``), which spares the copy
    :meth:`drain` makes; code that kept the old list must then read ``items`` again.
    While nobody replaces it, it is the same list object (:meth:`drain` hands out a
    copy and empties it), so a machine that adds an item per message may keep it and
    call its ``append`` directly, saving a method call per item.  Appending to it *is*
    appending to the queue: the bound is still checked by :meth:`ensure_room` at the
    entry of each driving call, as for :meth:`append`.  Take items out only with
    :meth:`drain` or the owner's swap.
    """

    __slots__ = ("drain_method", "items", "limit", "name")

    def __init__(self, name: str, limit: int, drain_method: str) -> None:
        if limit < 1:
            raise LocalProtocolError(f"invalid {name}: expected a positive int, got {limit!r}")
        self.items: list[T] = []
        self.name = name
        self.limit = limit
        self.drain_method = drain_method

    def ensure_room(self) -> None:
        """Raise :class:`LocalProtocolError` when the queue has reached its limit."""
        if len(self.items) >= self.limit:
            raise LocalProtocolError(
                f"{self.name} is full ({len(self.items)} >= limit {self.limit}); "
                f"drain it with {self.drain_method}() first"
            )

    def append(self, item: T) -> None:
        self.items.append(item)

    def extend(self, items: list[T]) -> None:
        self.items.extend(items)

    def drain(self) -> list[T]:
        """All items, oldest first, in a new list the caller owns; the queue is empty."""
        items = self.items[:]
        self.items.clear()
        return items

    def __len__(self) -> int:
        return len(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)
