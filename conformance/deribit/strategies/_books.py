"""``book.*`` chains by ``change_id``, with injected faults and a model of spec 4.

The model (:func:`_spec4`) says what a client must report for a chain, independently
of ``ClientProtocol``, so the tests compare two implementations of the rule.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from hypothesis import strategies as st

from tradewire.protocol.deribit import (
    BookData,
    BookGap,
    BookResynced,
    BookUpdate,
    ChannelFamily,
)
from tradewire.protocol.deribit.server import (
    encode_notification,
)

from ._channels import channel_names
from ._samples import FAULT_KINDS, BookChain, ChainFault, FaultKind
from ._values import _timestamps

__all__ = ["book_chains"]


def book_chains(
    channel: str | st.SearchStrategy[str] | None = None,
    *,
    faults: Collection[FaultKind] = (),
    max_faults: int = 3,
    min_changes: int = 2,
    max_changes: int = 8,
) -> st.SearchStrategy[BookChain]:
    """A :class:`BookChain`: snapshots and changes on one ``book.{instrument}.{interval}``
    channel, chained by ``change_id`` / ``prev_change_id``.

    Ids come from a counter shared with other books, so they jump (never assume +1).
    Levels are consistent: ``new`` for a price not in the book, ``change`` and
    ``delete`` (amount 0) for one that is; bids stay below asks, bids are sent best
    first (descending), asks ascending.  ``faults`` (some of :data:`FAULT_KINDS`) may be
    injected, up to ``max_faults``, each in its own stretch that the venue follows with
    a new snapshot (as after a resubscription), so each fault is one ``BookGap``; the
    chain says where each fault shows, and what a client following spec 4 reports.
    """
    for kind in faults:
        if kind not in FAULT_KINDS:
            raise ValueError(f"invalid fault {kind!r}; accepted: {', '.join(FAULT_KINDS)}")
    if min_changes < 2 or max_changes < min_changes:
        raise ValueError("expected 2 <= min_changes <= max_changes")
    if max_faults < 0:
        raise ValueError("expected max_faults >= 0")
    return _book_chains(channel, tuple(faults), max_faults, (min_changes, max_changes))


@st.composite
def _book_chains(
    draw: st.DrawFn,
    channel: str | st.SearchStrategy[str] | None,
    faults: tuple[FaultKind, ...],
    max_faults: int,
    changes_per_stretch: tuple[int, int],
) -> BookChain:
    min_changes, max_changes = changes_per_stretch
    if isinstance(channel, str):
        name = channel
    else:
        name = draw(channel if channel is not None else channel_names([ChannelFamily.BOOK]))
    instrument = name.split(".")[1]
    kinds = list(faults)
    injected: list[FaultKind] = []
    if kinds:
        count = draw(st.integers(0, max_faults))
        injected = [draw(st.sampled_from(kinds)) for _ in range(count)]
    stretches: list[FaultKind | None] = [*injected, None] if draw(st.booleans()) else list(injected)
    if not stretches:
        stretches = [None]
    counter = draw(st.integers(1, 10**10))
    stamp = draw(_timestamps())
    tick = draw(st.sampled_from((0.5, 0.05, 2.5)))
    mid = draw(st.integers(1_000, 100_000)) * tick
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    delivered: list[BookData] = []
    fault_marks: list[tuple[FaultKind, int]] = []

    def next_id() -> int:
        nonlocal counter
        counter += draw(st.integers(1, 7))
        return counter

    def tick_time() -> int:
        nonlocal stamp
        stamp += draw(st.integers(0, 500))
        return stamp

    for fault in stretches:
        bids.clear()
        asks.clear()
        for book, sign in ((bids, -1), (asks, 1)):
            for step in draw(st.lists(st.integers(1, 50), min_size=1, max_size=6, unique=True)):
                book[mid + sign * step * tick] = draw(st.integers(1, 500)) * 10.0
        snapshot = BookData(
            type="snapshot",
            instrument_name=instrument,
            timestamp=tick_time(),
            change_id=next_id(),
            bids=[("new", p, a) for p, a in sorted(bids.items(), reverse=True)],
            asks=[("new", p, a) for p, a in sorted(asks.items())],
        )
        delivered.append(snapshot)
        changes: list[BookData] = []
        last = snapshot.change_id
        for _ in range(draw(st.integers(min_changes, max_changes))):
            change_id = next_id()
            changes.append(
                BookData(
                    type="change",
                    instrument_name=instrument,
                    timestamp=tick_time(),
                    change_id=change_id,
                    prev_change_id=last,
                    bids=_mutate(draw, bids, -1, mid, tick),
                    asks=_mutate(draw, asks, 1, mid, tick),
                )
            )
            last = change_id
        start = len(delivered)
        if fault == "gap":
            at = draw(st.integers(0, len(changes) - 2))
            lost = draw(st.integers(1, len(changes) - 1 - at))
            changes = changes[:at] + changes[at + lost :]
            fault_marks.append((fault, start + at))
        elif fault == "duplicate":
            at = draw(st.integers(0, len(changes) - 1))
            changes = [*changes[: at + 1], changes[at], *changes[at + 1 :]]
            fault_marks.append((fault, start + at + 1))
        elif fault == "reorder":
            at = draw(st.integers(0, len(changes) - 2))
            changes[at], changes[at + 1] = changes[at + 1], changes[at]
            fault_marks.append((fault, start + at))
        delivered.extend(changes)
    gaps, resyncs = _spec4(name, delivered)
    updates = tuple(BookUpdate(channel=name, data=d) for d in delivered)
    return BookChain(
        channel=name,
        messages=tuple(encode_notification(name, d) for d in delivered),
        updates=updates,
        faults=tuple(ChainFault(kind=k, position=p) for k, p in fault_marks),
        gaps=gaps,
        resyncs=resyncs,
        bids=dict(bids),
        asks=dict(asks),
        in_sync=stretches[-1] is None,
    )


def _mutate(
    draw: st.DrawFn, book: dict[float, float], sign: int, mid: float, tick: float
) -> list[Any]:
    """One side's actions of a change, applied to ``book``; best first on the wire."""
    actions: dict[float, tuple[str, float, float]] = {}
    for _ in range(draw(st.integers(0, 3))):
        verb = draw(st.sampled_from(("new", "change", "delete")))
        present = sorted(p for p in book if p not in actions)
        if verb == "new" or not present:
            price = mid + sign * draw(st.integers(1, 60)) * tick
            if price in book or price in actions:
                continue
            amount = draw(st.integers(1, 500)) * 10.0
            book[price] = amount
            actions[price] = ("new", price, amount)
        elif verb == "change":
            price = draw(st.sampled_from(present))
            amount = draw(st.integers(1, 500)) * 10.0
            book[price] = amount
            actions[price] = ("change", price, amount)
        elif len(book) > 1:
            price = draw(st.sampled_from(present))
            del book[price]
            actions[price] = ("delete", price, 0.0)
    return [actions[p] for p in sorted(actions, reverse=sign < 0)]


def _spec4(
    channel: str, delivered: Sequence[BookData]
) -> tuple[tuple[BookGap, ...], tuple[BookResynced, ...]]:
    """The reference model of spec 4 (one channel, no resubscription acknowledged)."""
    gaps: list[BookGap] = []
    resyncs: list[BookResynced] = []
    last: int | None = None
    stale = False
    dropped = 0
    for data in delivered:
        if data.prev_change_id is None:
            if stale:
                resyncs.append(
                    BookResynced(channel=channel, change_id=data.change_id, dropped=dropped)
                )
            last, stale, dropped = data.change_id, False, 0
        elif stale:
            dropped += 1
        elif data.prev_change_id == last:
            last = data.change_id
        else:
            gaps.append(BookGap(channel=channel, expected=last, got=data.prev_change_id))
            last, stale, dropped = None, True, 1
    return tuple(gaps), tuple(resyncs)
