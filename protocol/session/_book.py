"""The L2 order book every venue machine keeps: price levels per side, best first.

It takes the two level shapes the venues send, both "size is the new total at price":

* ``[price, size]`` pairs (Rails deltas, Deribit grouped windows and ``get_order_book``,
  Currency.com maps as ``dict.items()``): :meth:`OrderBook.set_levels`, ``0`` removes;
* Deribit ``[action, price, amount]`` triples (deribit.md 3.3), action ``new`` /
  ``change`` / ``delete``: :meth:`OrderBook.apply_actions`.

:meth:`OrderBook.apply_snapshot` replaces both sides and takes either shape.  Bad peer
data (unknown action, wrong arity, a price that is not a finite number, a negative or
non-finite size, a side past ``max_levels``) raises :class:`RemoteProtocolError` naming it.
A snapshot is checked whole before it replaces anything, so a rejected snapshot changes
nothing; the usual snapshot side is checked by C-level passes over the dict it builds,
anything unusual level by level.  A delta batch is checked as it is applied, in one pass
(a second pass over every batch would cost as much as applying it), with as few checks
per level as that allows (a price already in the book is known to be a finite number, so
only a new price is checked): a bad level stops the batch there, the levels before it
stay applied, and the book is marked ``stale``, as it is after any lost update, until the
next snapshot replaces it.  That is what a venue client does anyway (a book that
missed an update is only good again after a snapshot), and what tradewire's client
machines do: they resync the channel.
Prices and sizes must be numbers (``int`` or ``float``, as JSON decodes them, or
``decimal.Decimal``, which the Rails machine's exact books hold) and are stored as given,
with no conversion on the hot path; strings are rejected, so the Rails and Currency.com
machines convert their decimal strings themselves.  ``bool`` passes as a
number, as in Python; a typed msgspec decode rejects JSON ``true`` before it gets here.

Continuity is the owner's job (docs/architecture.md: a gap is an event, the book is marked stale and
no delta is applied across it).  ``sequence`` (e.g. Deribit's ``change_id``) and ``stale``
are carried for the owner and never read; a snapshot clears ``stale``, since a snapshot
is what ends a resync.

Layout, for ~20-level changes near the top of books of hundreds to hundreds of thousands
of levels: per side a dict price -> size and the rank keys (the price for bids, minus the
price for asks) in ascending order, split into chunks of at most ``2 * _load`` keys with
each chunk's last key in ``maxes``, so both sides keep their best level at the *end*, an
insert near the top touches only the last chunk, and an insert anywhere costs a bisect of
``maxes`` and a move of one chunk (the "sorted list of lists" of ``sortedcontainers``).
A change to an existing level is one dict store.  A deleted level stays as a tombstone
(size ``0``): Deribit deletes and re-creates the same prices near the top all the time,
and reviving a tombstone is one dict store.  Tombstones are trimmed off the top after
every batch, so the last key is always the best live level, and a side is compacted when
its tombstones outnumber its live levels (amortised O(1) per delete; a side holds at
most about twice ``max_levels`` entries).

"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterable, Sequence
from operator import neg
from typing import Any, ClassVar, Literal

from .._errors import LocalProtocolError, RemoteProtocolError

__all__ = ["OrderBook", "Side"]

Side = Literal["bid", "ask"]
Level = tuple[float, float]

_INF = math.inf
_NEG_INF = -math.inf
_ACTIONS = frozenset(("new", "change", "delete"))
_isfinite = math.isfinite
_SEQUENCES = (list, tuple)  # taken as they are; any other iterable is copied to a list


class _Side:
    """One side: ``sizes`` (live levels and tombstones) and the rank keys, ascending, in
    chunks (``chunks``, each at most ``2 * load`` keys; ``maxes`` holds each chunk's last
    key), so an insert anywhere moves at most one chunk's worth of memory."""

    __slots__ = ("chunks", "dead", "load", "maxes", "name", "sign", "sizes")

    def __init__(self, name: str, sign: int, load: int) -> None:
        self.name = name
        self.sign = sign  # rank key = price * sign
        self.load = load
        self.sizes: dict[float, float] = {}
        self.chunks: list[list[float]] = []
        self.maxes: list[float] = []
        self.dead = 0  # tombstones: entries of ``sizes`` with size 0

    def reset(self, sizes: dict[Any, Any], keys: list[Any]) -> None:
        """Take a checked side whole: ``sizes`` (live only) and its sorted rank keys."""
        load = self.load
        self.sizes = sizes
        self.chunks = chunks = [keys[i : i + load] for i in range(0, len(keys), load)]
        self.maxes = [chunk[-1] for chunk in chunks]
        self.dead = 0

    def insert(self, key: float) -> None:
        """Add a rank key that is not there (a new live level)."""
        maxes = self.maxes
        if not maxes:
            self.chunks.append([key])
            maxes.append(key)
            return
        i = bisect_left(maxes, key)
        if i == len(maxes):  # past every key: the new best; the last chunk takes it
            i -= 1
            chunk = self.chunks[i]
            chunk.append(key)
            maxes[i] = key
        else:
            chunk = self.chunks[i]
            insort(chunk, key)
        if len(chunk) > 2 * self.load:
            half = len(chunk) >> 1
            self.chunks.insert(i + 1, chunk[half:])
            del chunk[half:]
            maxes.insert(i, chunk[-1])

    def count(self) -> int:
        return sum(map(len, self.chunks))

    def best(self) -> float | None:
        chunks = self.chunks
        return chunks[-1][-1] if chunks else None

    def top(self, n: int) -> list[Level]:
        """The best ``n`` live levels, best first; stops as soon as it has them."""
        levels: list[Level] = []
        if n > 0:
            sizes, sign = self.sizes, self.sign
            for chunk in reversed(self.chunks):
                for k in reversed(chunk):
                    if v := sizes[p := k * sign]:
                        levels.append((p, v))
                        if len(levels) == n:
                            return levels
        return levels

    def levels(self) -> list[Level]:
        """Every live level, best first."""
        sizes, sign = self.sizes, self.sign
        return [
            (p, v)
            for chunk in reversed(self.chunks)
            for k in reversed(chunk)
            if (v := sizes[p := k * sign])
        ]

    def settle(self, dead: int, compact_min: int) -> None:
        """Trim tombstones off the top; compact when they outnumber the live levels."""
        if dead:
            chunks, sizes, sign = self.chunks, self.sizes, self.sign
            while chunks:
                chunk = chunks[-1]
                while chunk and not sizes[chunk[-1] * sign]:
                    del sizes[chunk.pop() * sign]
                    dead -= 1
                if chunk:
                    self.maxes[-1] = chunk[-1]
                    break
                chunks.pop()
                self.maxes.pop()
            if dead > compact_min and 2 * dead > len(sizes):
                live = {p: v for p, v in sizes.items() if v}
                keys = [k for chunk in chunks for k in chunk if k * sign in live]
                self.reset(live, keys)
                return
        self.dead = dead


class OrderBook:
    """A price-level (L2) book: two sides of ``price -> size``, queried best first.

    ``max_levels`` bounds the live levels of each side; a snapshot that would exceed it is
    a :class:`RemoteProtocolError` and changes nothing, a delta batch that leaves more
    is one that leaves the book stale.  ``sequence`` and ``stale`` belong
    to the owner (see the module docstring).  There is no ``__len__`` on purpose: an empty
    book would be falsy and ``if book:`` would mean two things; use :meth:`depth`.
    """

    __slots__ = ("_ask", "_bid", "_sides", "max_levels", "sequence", "stale")

    _compact_min: ClassVar[int] = 32  # tombstones tolerated per side before compaction
    _load: ClassVar[int] = 512  # keys per chunk (a chunk splits past twice this)

    def __init__(self, *, max_levels: int = 100_000) -> None:
        if not _is_int(max_levels) or max_levels < 1:
            raise LocalProtocolError(
                f"invalid max_levels: expected a positive int, got {max_levels!r}"
            )
        self.max_levels = max_levels
        self.sequence: int | None = None
        self.stale = False
        self._bid = _Side("bid", 1, self._load)
        self._ask = _Side("ask", -1, self._load)
        self._sides = {"bid": self._bid, "ask": self._ask}

    # -- updates from the peer ---------------------------------------------------------

    def apply_snapshot(self, bids: Iterable[Sequence[Any]], asks: Iterable[Sequence[Any]]) -> None:
        """Replace both sides and clear ``stale``; ``sequence`` is left to the owner.

        Each side is either all ``[price, size]`` pairs or all Deribit ``[action, price,
        amount]`` triples; the length of its first level decides.  The last entry for a
        price wins; size ``0`` (or ``delete``) means the level is absent.  Both sides are
        built and checked before either replaces the current book.
        """
        bid_sizes, bid_keys = self._build(self._bid, bids)
        ask_sizes, ask_keys = self._build(self._ask, asks)
        self._bid.reset(bid_sizes, bid_keys)
        self._ask.reset(ask_sizes, ask_keys)
        self.stale = False

    def set_levels(self, side: Side, levels: Iterable[Sequence[Any]]) -> None:
        """Set ``[price, size]`` levels on ``side``: the size is the new total, ``0`` removes.

        Removing an absent level is a no-op, so replaying deltas is idempotent.
        """
        try:
            s = self._sides[side]
        except (KeyError, TypeError):
            raise _bad_side(side) from None
        batch = levels if isinstance(levels, _SEQUENCES) else list(levels)
        sizes, dead = s.sizes, s.dead
        get = sizes.get
        zeroed = False  # only a removal can leave a tombstone on top or call for compaction
        try:
            for price, size in batch:
                if 0.0 < size < _INF:  # a level to set
                    old = get(price)
                    if not old:
                        if old is None:  # a new price: the only kind not yet known finite
                            if not _NEG_INF < price < _INF:
                                raise ValueError
                            s.insert(price * s.sign)
                        else:
                            dead -= 1
                    sizes[price] = size
                elif size == 0:  # a level to remove
                    if get(price):
                        sizes[price] = 0
                        dead += 1
                        zeroed = True
                    elif not _NEG_INF < price < _INF:
                        raise ValueError
                else:
                    raise ValueError
        except (TypeError, ValueError, ArithmeticError):
            s.settle(dead, self._compact_min)
            raise self._refused(s, batch, 2) from None
        self._finish(s, dead, zeroed)

    def apply_actions(self, side: Side, actions: Iterable[Sequence[Any]]) -> None:
        """Apply Deribit ``[action, price, amount]`` levels (spec section 3.3) to ``side``.

        ``new`` and ``change`` both set the level to ``amount`` (creating or replacing it:
        the amount is absolute, so either is safe to apply as "set"); ``delete``, or an
        amount of ``0``, removes it, and removing an absent level is a no-op.  The amount
        of a ``delete`` is checked like any other but otherwise ignored.
        """
        try:
            s = self._sides[side]
        except (KeyError, TypeError):
            raise _bad_side(side) from None
        batch = actions if isinstance(actions, _SEQUENCES) else list(actions)
        sizes, dead = s.sizes, s.dead
        get = sizes.get
        zeroed = False  # only a removal can leave a tombstone on top or call for compaction
        try:
            for action, price, size in batch:
                if 0.0 < size < _INF and action in {"change", "new"}:
                    old = get(price)
                    if not old:
                        if old is None:  # a new price: the only kind not yet known finite
                            if not _NEG_INF < price < _INF:
                                raise ValueError
                            s.insert(price * s.sign)
                        else:
                            dead -= 1
                    sizes[price] = size
                elif (action == "delete" and 0.0 <= size < _INF) or (
                    size == 0 and action in _ACTIONS
                ):  # a level to remove
                    if get(price):
                        sizes[price] = 0
                        dead += 1
                        zeroed = True
                    elif not _NEG_INF < price < _INF:
                        raise ValueError
                else:
                    raise ValueError
        except (TypeError, ValueError, ArithmeticError):
            s.settle(dead, self._compact_min)
            raise self._refused(s, batch, 3) from None
        self._finish(s, dead, zeroed)

    def clear(self) -> None:
        """Empty both sides.  ``sequence`` and ``stale`` are the owner's and stay as they are."""
        for s in (self._bid, self._ask):
            s.reset({}, [])

    # -- queries -------------------------------------------------------------------------

    def best_bid(self) -> Level | None:
        """The highest bid as ``(price, size)``, or ``None`` when there are no bids."""
        chunks = self._bid.chunks
        if not chunks:
            return None
        price = chunks[-1][-1]
        return (price, self._bid.sizes[price])

    def best_ask(self) -> Level | None:
        """The lowest ask as ``(price, size)``, or ``None`` when there are no asks."""
        chunks = self._ask.chunks
        if not chunks:
            return None
        price = -chunks[-1][-1]
        return (price, self._ask.sizes[price])

    def top(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels of each side: ``(bids descending, asks ascending)``."""
        if not _is_int(n) or n < 0:
            raise LocalProtocolError(f"invalid n: expected an int >= 0, got {n!r}")
        return self._bid.top(n), self._ask.top(n)

    def bids(self) -> list[Level]:
        """Every bid level, highest price first."""
        return self._bid.levels()

    def asks(self) -> list[Level]:
        """Every ask level, lowest price first."""
        return self._ask.levels()

    def depth(self, side: Side) -> int:
        """The number of levels on ``side``."""
        try:
            s = self._sides[side]
        except (KeyError, TypeError):
            raise _bad_side(side) from None
        return len(s.sizes) - s.dead

    def is_crossed(self) -> bool:
        """Both sides are non-empty and the best bid is at or above the best ask.

        A locked book (equal prices) counts as crossed: no venue rests such a book, so
        either way the local copy is wrong.
        """
        bids, asks = self._bid.chunks, self._ask.chunks
        return bool(bids and asks) and bids[-1][-1] >= -asks[-1][-1]

    def __repr__(self) -> str:
        return (
            f"OrderBook(best_bid={self.best_bid()!r}, best_ask={self.best_ask()!r}, "
            f"depth=({self.depth('bid')}, {self.depth('ask')}), "
            f"sequence={self.sequence!r}, stale={self.stale!r})"
        )

    # -- internals -----------------------------------------------------------------------

    def _build(self, s: _Side, levels: Iterable[Sequence[Any]]) -> tuple[dict[Any, Any], list[Any]]:
        """Check one snapshot side and return its ``(sizes, keys)``; ``s`` is not touched."""
        batch = levels if isinstance(levels, _SEQUENCES) else list(levels)
        width = 3 if batch and _len(batch[0]) == 3 else 2
        sizes = _whole(batch, width)
        if sizes is None:  # in doubt: level by level, to name the first bad level
            sizes = {}
            try:
                if width == 2:
                    for price, size in batch:
                        if not (_NEG_INF < price < _INF and 0.0 <= size < _INF):
                            raise _invalid(s, batch, 2)
                        sizes[price] = size
                else:
                    for action, price, size in batch:
                        if not (
                            _NEG_INF < price < _INF and 0.0 <= size < _INF and action in _ACTIONS
                        ):
                            raise _invalid(s, batch, 3)
                        sizes[price] = 0 if action == "delete" else size
            except (TypeError, ValueError, ArithmeticError) as exc:
                raise _invalid(s, batch, width) from exc
            if not all(sizes.values()):
                sizes = {p: v for p, v in sizes.items() if v}
        if len(sizes) > self.max_levels:
            raise _too_deep(s, len(sizes), self.max_levels)
        keys = sorted(sizes) if s.sign > 0 else sorted(map(neg, sizes))
        return sizes, keys

    def _refused(self, s: _Side, batch: Sequence[Any], width: int) -> RemoteProtocolError:
        """A bad level stopped the batch part-way: the book is stale (module docstring)."""
        self.stale = True
        error = _invalid(s, batch, width)
        return RemoteProtocolError(f"{error}; the book is stale until the next snapshot")

    def _finish(self, s: _Side, dead: int, zeroed: bool) -> None:
        """After a delta batch: the tombstone count kept, the top trimmed when a level
        was removed (only a removal can leave a tombstone on top or call for compaction),
        then the live levels held against ``max_levels``."""
        if zeroed:
            s.settle(dead, self._compact_min)
        else:
            s.dead = dead
        if len(s.sizes) - s.dead > self.max_levels:  # after settle: it may trim or compact
            raise self._overfull(s)

    def _overfull(self, s: _Side) -> RemoteProtocolError:
        """A batch left more than ``max_levels`` live levels: the book is stale."""
        self.stale = True
        levels = len(s.sizes) - s.dead
        return RemoteProtocolError(
            f"book {s.name} side holds {levels} levels after the update (limit "
            f"max_levels={self.max_levels}); the book is stale until the next snapshot"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad_side(side: object) -> LocalProtocolError:
    return LocalProtocolError(f"invalid side: {side!r}; accepted values: 'bid', 'ask'")


def _whole(batch: Sequence[Any], width: int) -> dict[Any, Any] | None:
    """A snapshot side's live ``{price: size}``, checked as a whole, or ``None`` when in doubt.

    The usual snapshot (distinct prices; triples all ``new`` with a positive amount) is
    built by one comprehension, or ``dict()`` for pairs, which also checks every level's
    arity, then checked by C-level passes: ``min`` over the sizes of pairs (the
    comprehension checks its own), one ``sum`` for a non-finite price or size (any
    ``nan`` or infinity makes the sum non-finite).  Anything else (a repeated price,
    which would hide a size from the check; another action; a zero; a bad level;
    numbers that do not add up, such as ``Decimal`` mixed with ``float``, or huge ones)
    returns ``None``, and the caller checks level by level, as it always did, and names
    the first bad level.
    """
    try:
        if width == 3:
            sizes = {price: size for action, price, size in batch if action == "new" and size > 0}
        else:
            sizes = dict(batch)
            if sizes and not min(sizes.values()) > 0:
                return None
        if len(sizes) != len(batch) or not _isfinite(sum(sizes, sum(sizes.values()))):
            return None
    except (TypeError, ValueError, ArithmeticError):
        return None
    return sizes


def _len(level: Any) -> int:
    try:
        return len(level)
    except TypeError:
        return -1


def _too_deep(s: _Side, levels: int, limit: int) -> RemoteProtocolError:
    return RemoteProtocolError(
        f"book {s.name} side would hold {levels} levels (limit max_levels={limit}); "
        f"the update was not applied"
    )


def _invalid(s: _Side, levels: Sequence[Any], width: int) -> RemoteProtocolError:
    """Name the first bad level; only called once the fast check has failed."""
    shape = "[action, price, amount]" if width == 3 else "[price, size]"
    for i, level in enumerate(levels):
        problem = _problem(level, width)
        if problem:
            return RemoteProtocolError(
                f"invalid {s.name} level #{i} {level!r}: {problem}; expected {shape}"
            )
    return RemoteProtocolError(f"invalid {s.name} levels: expected {shape} items")


def _problem(level: Any, width: int) -> str:
    if isinstance(level, str | bytes) or _len(level) != width:
        return f"expected a sequence of {width} items"
    if width == 3 and not (isinstance(level[0], str) and level[0] in _ACTIONS):
        return f"unknown action {level[0]!r}; accepted values: 'new', 'change', 'delete'"
    price, size = level[-2], level[-1]
    try:
        if not _NEG_INF < price < _INF:
            return "price is not a finite number"
        if not 0.0 <= size < _INF:
            return "size is negative or not a finite number"
    except (TypeError, ArithmeticError):
        return "price and size must be numbers"
    return ""
