"""The change_id chain of every book, its log, window merging and fault hooks.

Spec 4: ``change_id`` is **one counter shared by all instruments**, so an instrument's
ids increase but skip whatever other books used; a change's ``prev_change_id`` is the
previous ``change_id`` of *that instrument*.  :class:`ChangeFeed` owns the counter, the
last id per instrument, and a bounded log of what was published (``MAX_CHANGE_LOG``).

Faults for testing clients' gap handling (spec 4: "add a test hook that drops a delta or
skips ids"), armed per instrument and consumed by its next change:

* ``gap``: the change's ``prev_change_id`` is an id that was never published (the
  counter skips one), as if a delta had been lost on the way;
* ``duplicate``: the change is published twice;
* ``reorder``: the change is held back and published after the instrument's next change
  (or by :meth:`ChangeFeed.release`, which the market calls at the end of each tick).

Faults change what is *published* (events and log); the market's own book is always
right, so a snapshot after a fault resynchronises a client.

:func:`merge_changes` folds a window of one instrument's changes into as few records as
the chain allows (for ``100ms`` / ``agg2`` channels).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Literal

from ._config import MAX_CHANGE_LOG
from ._records import BookChange, LevelAction

__all__ = ["ChangeFeed", "Fault", "merge_changes"]

Fault = Literal["gap", "duplicate", "reorder"]
_FAULTS = ("gap", "duplicate", "reorder")


class ChangeFeed:
    """Assigns change ids from one shared counter and publishes book changes."""

    def __init__(self, first_id: int, max_log: int = MAX_CHANGE_LOG) -> None:
        self._next = first_id
        self.last: dict[str, int] = {}
        self.timestamps: dict[str, int] = {}
        self.log: deque[BookChange] = deque(maxlen=max_log)
        self._faults: dict[str, list[Fault]] = {}
        self._held: dict[str, BookChange] = {}

    def _take_id(self) -> int:
        value = self._next
        self._next += 1
        return value

    def start(self, instrument: str, timestamp: int) -> int:
        """Give a new book its first change id (a snapshot state with no change record)."""
        self.last[instrument] = change_id = self._take_id()
        self.timestamps[instrument] = timestamp
        return change_id

    def arm(self, instrument: str, fault: Fault) -> None:
        """Apply ``fault`` to the next change of ``instrument`` (faults queue up in order)."""
        if fault not in _FAULTS:
            raise ValueError(f"unknown fault {fault!r}; accepted values: {_FAULTS}")
        if instrument not in self.last:
            raise KeyError(instrument)
        self._faults.setdefault(instrument, []).append(fault)

    def publish(
        self,
        instrument: str,
        timestamp: int,
        bids: Sequence[LevelAction],
        asks: Sequence[LevelAction],
    ) -> list[BookChange]:
        """Record one change of ``instrument``; return the changes to publish now."""
        faults = self._faults.get(instrument)
        fault = faults.pop(0) if faults else None
        prev = self.last[instrument]
        if fault == "gap":
            prev = self._take_id()  # an id nobody will ever see
        change = BookChange(
            instrument_name=instrument,
            change_id=self._take_id(),
            prev_change_id=prev,
            timestamp=timestamp,
            bids=tuple(bids),
            asks=tuple(asks),
        )
        self.last[instrument] = change.change_id
        self.timestamps[instrument] = timestamp
        out = [change, change] if fault == "duplicate" else [change]
        held = self._held.pop(instrument, None)
        if fault == "reorder":
            self._held[instrument] = change
            out = []
        if held is not None:
            out.append(held)
        self.log.extend(out)
        return out

    def release(self) -> list[BookChange]:
        """Publish every change a ``reorder`` fault still holds back."""
        out = list(self._held.values())
        self._held.clear()
        self.log.extend(out)
        return out


def merge_changes(changes: Iterable[BookChange]) -> list[BookChange]:
    """Fold consecutive changes into one record per unbroken run of the chain.

    Changes ``a`` then ``b`` of one instrument merge when ``b.prev_change_id ==
    a.change_id``; the merged record spans ``a.prev_change_id`` to ``b.change_id`` with
    each touched price's final amount.  Its action is ``new`` if the level did not exist
    before the run, ``delete`` if it does not exist after, ``change`` otherwise; a level
    that appeared and vanished inside the run is left out.  A broken chain (gap,
    duplicate, reorder, another instrument) starts a new record, so merging never hides
    a fault.
    """
    out: list[BookChange] = []
    run: list[BookChange] = []
    for change in changes:
        last = run[-1] if run else None
        if last is not None and (
            change.instrument_name != last.instrument_name
            or change.prev_change_id != last.change_id
        ):
            out.append(_merge(run))
            run = []
        run.append(change)
    if run:
        out.append(_merge(run))
    return out


def _merge_side(levels: Iterable[LevelAction], descending: bool) -> tuple[LevelAction, ...]:
    first: dict[float, str] = {}
    final: dict[float, float] = {}
    for action, price, amount in levels:
        first.setdefault(price, action)
        final[price] = 0.0 if action == "delete" else amount
    merged: list[LevelAction] = []
    for price in sorted(final, reverse=descending):
        existed, exists = first[price] != "new", final[price] > 0
        if existed and exists:
            merged.append(("change", price, final[price]))
        elif exists:
            merged.append(("new", price, final[price]))
        elif existed:
            merged.append(("delete", price, 0.0))
    return tuple(merged)


def _merge(run: list[BookChange]) -> BookChange:
    if len(run) == 1:
        return run[0]
    return BookChange(
        instrument_name=run[0].instrument_name,
        change_id=run[-1].change_id,
        prev_change_id=run[0].prev_change_id,
        timestamp=run[-1].timestamp,
        bids=_merge_side((lv for c in run for lv in c.bids), descending=True),
        asks=_merge_side((lv for c in run for lv in c.asks), descending=False),
    )
