"""The recent states of a reference venue's books, for venues without sequence numbers.

A Currency.com depth push and a Rails book delta carry no sequence number, so the soak
cannot ask "is the venue's book at the number the client last saw?".  Instead
:class:`BookHistory` wraps the venue's publishing function (the one call through which
every market change reaches the connections) and, right after each call, keeps each
watched book's state when it changed: the client's book, once it has consumed what it
received, must equal one of them (``Served.history`` in :mod:`benchmarks._soak_venue`).
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from typing import Any

__all__ = ["KEEP", "BookHistory"]

KEEP = 300
"""States kept per book: about 30 s of a book that changes every market tick (0.1 s),
a few MB in all; a client further behind than that would be reported as a mismatch."""

State = tuple[list[Any], list[Any]]


class BookHistory:
    """Per channel, the last :data:`KEEP` distinct states of the venue's book."""

    def __init__(self, readers: dict[str, Callable[[], State]]) -> None:
        self.readers = readers
        self.states: dict[str, collections.deque[State]] = {
            channel: collections.deque(maxlen=KEEP) for channel in readers
        }
        self.record()

    def record(self) -> None:
        """Keep every watched book's state if it differs from the last one kept."""
        for channel, read in self.readers.items():
            state = read()
            kept = self.states[channel]
            if not kept or kept[-1] != state:
                kept.append(state)

    def after(self, publish: Callable[..., None]) -> Callable[..., None]:
        """``publish`` followed by :meth:`record` (set it where the venue looks it up)."""

        def recorded(*args: Any, **kwargs: Any) -> None:
            publish(*args, **kwargs)
            self.record()

        return recorded

    def __call__(self, channel: str) -> list[State]:
        return list(self.states[channel])
