"""Named bounds for a machine's queues.

A machine never grows a queue without limit (DESIGN.md, "Everything is bounded").  The
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
    """A FIFO list with a named limit, checked by :meth:`ensure_room`."""

    __slots__ = ("_items", "drain_method", "limit", "name")

    def __init__(self, name: str, limit: int, drain_method: str) -> None:
        if limit < 1:
            raise LocalProtocolError(f"invalid {name}: expected a positive int, got {limit!r}")
        self._items: list[T] = []
        self.name = name
        self.limit = limit
        self.drain_method = drain_method

    def ensure_room(self) -> None:
        """Raise :class:`LocalProtocolError` when the queue has reached its limit."""
        if len(self._items) >= self.limit:
            raise LocalProtocolError(
                f"{self.name} is full ({len(self._items)} >= limit {self.limit}); "
                f"drain it with {self.drain_method}() first"
            )

    @property
    def items(self) -> list[T]:
        """The list behind the queue, oldest first, for a hot path.

        It is the same list object for the queue's whole life (:meth:`drain` hands out
        a copy and empties it), so a machine that adds an item per message may keep it
        and call its ``append`` directly, saving a method call per item.  Appending to
        it *is* appending to the queue: the bound is still checked by
        :meth:`ensure_room` at the entry of each driving call, as for :meth:`append`.
        Take items out only with :meth:`drain`.
        """
        return self._items

    def append(self, item: T) -> None:
        self._items.append(item)

    def extend(self, items: list[T]) -> None:
        self._items.extend(items)

    def drain(self) -> list[T]:
        """All items, oldest first, in a new list the caller owns; the queue is empty."""
        items = self._items[:]
        self._items.clear()
        return items

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)
