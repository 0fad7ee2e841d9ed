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

Layout, for ~20-level changes of books of hundreds to hundreds of thousands of levels:
per side a dict price -> size and the prices in ascending order, split into chunks of at
most ``2 * _load`` prices with each chunk's last price in ``maxes`` (the "sorted list of
lists" of ``sortedcontainers``): the best bid is the last price of the last chunk, the
best ask the first price of the first chunk, so neither side stores a second object per
price.  An insert costs a bisect of ``maxes`` and a move of one chunk.  A deleted level
stays as a tombstone (size ``0``): Deribit deletes and re-creates the same prices near the
top all the time, and reviving a tombstone is one dict store.  A tombstone a removal
leaves on top is trimmed when the best price is next asked for (``best_bid``,
``best_ask``, ``is_crossed``: the lookup of the top size they make anyway tells; the exact
loop and compaction trim at once), so a delta batch pays nothing for it, and a side is
compacted when its tombstones outnumber its live levels (amortised O(1) per delete; a
side holds at most about twice ``max_levels`` entries, four times its live levels while
the count is a bound).

A delta level costs one dict store on the fast path, the loops of
:meth:`OrderBook.set_levels` and :meth:`OrderBook.apply_actions` (one per shape, so a
batch costs one Python call, and per batch only a few dozen bytecodes around the stores):
the level is stored without asking the dict what it held, and the prices new to the side
are found after the batch as the dict's last ``len`` growth keys (a dict keeps insertion
order), so a change of a live level costs little more than a plain ``dict`` update.  The
price that cost: the count of tombstones (``_Side.dead``) is only an upper bound after
such a batch (a store cannot tell a revived tombstone from a change), recounted when it
must be exact (:meth:`OrderBook.depth`, compaction, the ``max_levels`` check).  The fast
path takes the usual levels only (a set with a positive finite size, a ``delete`` with
amount ``0``, finite prices, a batch that cannot reach ``max_levels``); at the first
other level it hands the batch to the exact loop (:meth:`OrderBook._exact`), which checks
level by level as it always did and names the first bad level.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
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
    """One side: ``sizes`` (live levels and tombstones) and every price of ``sizes``,
    ascending, in ``chunks`` of at most ``2 * load`` (``maxes`` holds each chunk's last
    price), so an insert anywhere moves at most one chunk's worth of memory.  ``dead`` is
    the number of tombstones, or an upper bound of it when ``exact`` is false (after a fast
    batch, module docstring); a bound of ``0`` is exact.  Subclasses say where the best
    price is (``END``, copied to the slot ``end``: a slot is cheaper to read)."""

    __slots__ = (
        "chunks",
        "compact_min",
        "dead",
        "end",
        "exact",
        "load",
        "maxes",
        "name",
        "sizes",
    )

    END: ClassVar[int]  # the best price is ``chunks[END][END]``, once the top is trimmed

    def __init__(self, name: str, load: int, compact_min: int) -> None:
        self.name = name
        self.load = load
        self.compact_min = compact_min  # tombstones tolerated before compaction
        self.end = self.END
        self.sizes: dict[float, float] = {}
        self.chunks: list[list[float]] = []
        self.maxes: list[float] = []
        self.dead = 0
        self.exact = True

    def reset(self, sizes: dict[Any, Any], keys: list[Any]) -> None:
        """Take a checked side whole: ``sizes`` (live only) and its prices, ascending
        (``keys`` is kept, not copied, when it fits one chunk)."""
        load = self.load
        self.sizes = sizes
        if len(keys) > load:
            chunks = self.chunks = [keys[i : i + load] for i in range(0, len(keys), load)]
            self.maxes = [chunk[-1] for chunk in chunks]
        elif keys:
            self.chunks, self.maxes = [keys], [keys[-1]]
        else:
            self.chunks, self.maxes = [], []
        self.dead = 0
        self.exact = True

    def insert(self, price: float) -> None:
        """Add a price that is not there (a new live level)."""
        maxes = self.maxes
        if not maxes:
            self.chunks.append([price])
            maxes.append(price)
            return
        i = bisect_left(maxes, price)
        if i == len(maxes):  # past every price: the last chunk takes it
            i -= 1
            chunk = self.chunks[i]
            chunk.append(price)
            maxes[i] = price
        else:
            chunk = self.chunks[i]
            insort(chunk, price)
        if len(chunk) > 2 * self.load:
            half = len(chunk) >> 1
            self.chunks.insert(i + 1, chunk[half:])
            del chunk[half:]
            maxes.insert(i, chunk[-1])

    def absorb(self, added: int) -> None:
        """Key the ``added`` prices a fast batch appended to ``sizes`` (its last keys): a
        new level is inserted, a removal of an absent price (stored as ``0``) undone."""
        sizes = self.sizes
        for price in list(islice(reversed(sizes), added)):
            if sizes[price]:
                self.insert(price)
            else:
                del sizes[price]

    def exact_dead(self) -> int:
        """The number of tombstones, counted when ``dead`` is only a bound (O(n), once; a
        bound of ``0`` needs no count)."""
        if not self.exact:
            if self.dead:
                sizes = self.sizes
                self.dead = len(sizes) - len(list(filter(None, sizes.values())))
            self.exact = True
        return self.dead

    def count(self) -> int:
        return sum(map(len, self.chunks))

    def settle(self) -> None:
        """After a removal: trim tombstones off the top, and compact when they outnumber the
        live levels.  A bound (``exact`` false) is recounted only past three quarters of
        ``sizes``, so a count that stays just under half is not recounted every batch:
        the bound must grow by a quarter of ``sizes`` between two recounts (the fast loops
        call this only then: :meth:`OrderBook.set_levels`)."""
        self.trim()
        dead, sizes, compact_min = self.dead, self.sizes, self.compact_min
        if dead > compact_min and 2 * dead > len(sizes):
            if not self.exact and 4 * dead <= 3 * len(sizes):
                return
            dead = self.exact_dead()
            if dead > compact_min and 2 * dead > len(sizes):
                live = {p: v for p, v in sizes.items() if v}
                self.reset(live, [p for chunk in self.chunks for p in chunk if p in live])

    def trim(self) -> None:
        """Drop the tombstones at the best end, so the best price is live (after a fast batch
        only when the best price is asked for: :meth:`OrderBook.best_bid`)."""
        raise NotImplementedError

    def best(self) -> Level | None:
        """The best live level, the top trimmed first if a removal left a tombstone there."""
        chunks = self.chunks
        if not chunks:
            return None
        end = self.end
        price = chunks[end][end]
        size = self.sizes[price]
        if not size:
            self.trim()
            return self.best()
        return (price, size)

    def best_first(self) -> Iterator[Any]:
        """Every price of the side (tombstones too), best first."""
        raise NotImplementedError

    def top(self, n: int) -> list[Level]:
        """The best ``n`` live levels, best first; stops as soon as it has them."""
        levels: list[Level] = []
        if n > 0:
            sizes = self.sizes
            for p in self.best_first():
                if v := sizes[p]:
                    levels.append((p, v))
                    if len(levels) == n:
                        break
        return levels

    def levels(self) -> list[Level]:
        """Every live level, best first."""
        sizes = self.sizes
        return [(p, v) for p in self.best_first() if (v := sizes[p])]


class _Bids(_Side):
    """Bids: the best (highest) price is the last of the last chunk."""

    __slots__ = ()
    END = -1

    def trim(self) -> None:
        chunks, sizes = self.chunks, self.sizes
        while chunks:
            chunk = chunks[-1]
            while chunk and not sizes[chunk[-1]]:
                del sizes[chunk.pop()]
                self.dead -= 1
            if chunk:
                self.maxes[-1] = chunk[-1]
                return
            chunks.pop()
            self.maxes.pop()

    def best_first(self) -> Iterator[Any]:
        return chain.from_iterable(map(reversed, reversed(self.chunks)))


class _Asks(_Side):
    """Asks: the best (lowest) price is the first of the first chunk."""

    __slots__ = ()
    END = 0

    def trim(self) -> None:
        chunks, sizes = self.chunks, self.sizes
        while chunks:
            chunk = chunks[0]
            gone = 0
            for p in chunk:
                if sizes[p]:
                    break
                del sizes[p]
                gone += 1
            if gone:
                del chunk[:gone]
                self.dead -= gone
            if chunk:  # its last price, ``maxes[0]``, is still there
                return
            del chunks[0]
            del self.maxes[0]

    def best_first(self) -> Iterator[Any]:
        return chain.from_iterable(self.chunks)


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
    _load: ClassVar[int] = 512  # prices per chunk (a chunk splits past twice this)

    def __init__(self, *, max_levels: int = 100_000) -> None:
        if not _is_int(max_levels) or max_levels < 1:
            raise LocalProtocolError(
                f"invalid max_levels: expected a positive int, got {max_levels!r}"
            )
        self.max_levels = max_levels
        self.sequence: int | None = None
        self.stale = False
        self._bid: _Side = _Bids("bid", self._load, self._compact_min)
        self._ask: _Side = _Asks("ask", self._load, self._compact_min)
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

        The fast loop (module docstring): one dict store per usual level, checked with
        compares to literals (``1e309`` is infinity, a constant, cheaper than a global); at
        the first other level the batch goes to :meth:`_handover`.  The checks only ever
        accept a level the exact loop accepts, and apply it the same way.  After a whole
        batch, what the exact loop does in ``_finish``, with as little as that allows: the
        prices new to the side keyed, the tombstone bound moved and ``settle`` called only
        when it may compact (a tombstone left on top is trimmed when the best is asked
        for).  :meth:`apply_actions` is the same loop for triples.
        """
        try:
            s = self._sides[side]
        except (KeyError, TypeError):
            raise _bad_side(side) from None
        batch = levels if isinstance(levels, _SEQUENCES) else list(levels)
        sizes = s.sizes
        before = len(sizes)
        if before + len(batch) > self.max_levels:  # a batch that could overfill: exact
            return self._exact(s, batch, batch, 2)
        removed = 0
        try:
            for price, size in batch:
                if size > 0.0 and size < 1e309 and price > -1e309 and price < 1e309:
                    sizes[price] = size
                elif size == 0.0 and price > -1e309 and price < 1e309:
                    sizes[price] = 0
                    removed += 1
                else:
                    break
            else:
                s.exact = False  # a store may have revived a tombstone: ``dead`` is a bound
                if len(sizes) != before:
                    s.absorb(len(sizes) - before)
                if removed:
                    dead = s.dead = s.dead + removed
                    if dead > s.compact_min and 4 * dead > 3 * len(sizes):
                        s.settle()
                return
        except (TypeError, ValueError, ArithmeticError):
            pass  # a level in doubt: the exact loop decides
        self._handover(s, batch, before, removed, 2)

    def apply_actions(self, side: Side, actions: Iterable[Sequence[Any]]) -> None:
        """Apply Deribit ``[action, price, amount]`` levels (spec section 3.3) to ``side``.

        ``new`` and ``change`` both set the level to ``amount`` (creating or replacing it:
        the amount is absolute, so either is safe to apply as "set"); ``delete``, or an
        amount of ``0``, removes it, and removing an absent level is a no-op.  The amount
        of a ``delete`` is checked like any other but otherwise ignored.

        The fast loop of :meth:`set_levels`, for triples; it takes ``new`` / ``change``
        with a positive amount and ``delete`` with ``0`` (``==`` twice, not ``in`` a set:
        a specialised str compare in 3.11, cheaper).
        """
        try:
            s = self._sides[side]
        except (KeyError, TypeError):
            raise _bad_side(side) from None
        batch = actions if isinstance(actions, _SEQUENCES) else list(actions)
        sizes = s.sizes
        before = len(sizes)
        if before + len(batch) > self.max_levels:  # a batch that could overfill: exact
            return self._exact(s, batch, batch, 3)
        removed = 0
        try:
            for action, price, size in batch:
                if (
                    size > 0.0
                    and size < 1e309
                    and price > -1e309
                    and price < 1e309
                    and (action == "change" or action == "new")  # noqa: PLR1714
                ):
                    sizes[price] = size
                elif size == 0.0 and action == "delete" and price > -1e309 and price < 1e309:
                    sizes[price] = 0
                    removed += 1
                else:
                    break
            else:  # as in set_levels
                s.exact = False
                if len(sizes) != before:
                    s.absorb(len(sizes) - before)
                if removed:
                    dead = s.dead = s.dead + removed
                    if dead > s.compact_min and 4 * dead > 3 * len(sizes):
                        s.settle()
                return
        except (TypeError, ValueError, ArithmeticError):
            pass  # a level in doubt: the exact loop decides
        self._handover(s, batch, before, removed, 3)

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
        size = self._bid.sizes[price]
        return (price, size) if size else self._bid.best()  # else a tombstone on top

    def best_ask(self) -> Level | None:
        """The lowest ask as ``(price, size)``, or ``None`` when there are no asks."""
        chunks = self._ask.chunks
        if not chunks:
            return None
        price = chunks[0][0]
        size = self._ask.sizes[price]
        return (price, size) if size else self._ask.best()  # else a tombstone on top

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
        """The number of levels on ``side`` (O(n) once after a batch that may have revived
        a tombstone, O(1) after that: module docstring)."""
        try:
            s = self._sides[side]
        except (KeyError, TypeError):
            raise _bad_side(side) from None
        return len(s.sizes) - s.exact_dead()

    def is_crossed(self) -> bool:
        """Both sides are non-empty and the best bid is at or above the best ask.

        A locked book (equal prices) counts as crossed: no venue rests such a book, so
        either way the local copy is wrong.
        """
        bid, ask = self._bid.best(), self._ask.best()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def __repr__(self) -> str:
        return (
            f"OrderBook(best_bid={self.best_bid()!r}, best_ask={self.best_ask()!r}, "
            f"depth=({self.depth('bid')}, {self.depth('ask')}), "
            f"sequence={self.sequence!r}, stale={self.stale!r})"
        )

    # -- internals -----------------------------------------------------------------------

    def _handover(
        self, s: _Side, batch: Sequence[Any], before: int, removed: int, width: int
    ) -> None:
        """The fast loop stopped at a level it does not take (a zero amount of ``new`` /
        ``change``, a ``delete`` with an amount, a bad level, an error): the prices it
        appended are keyed, and the exact loop takes the batch again from its first level.
        Each level sets an absolute total (or removes), so applying the levels already
        applied once more leaves them as they are, and the exact loop stops at the first
        bad level and names it, as it always did."""
        sizes = s.sizes
        s.exact = False
        if len(sizes) != before:
            s.absorb(len(sizes) - before)
        if removed:
            s.dead += removed
            s.settle()
        self._exact(s, batch, batch, width)

    def _exact(self, s: _Side, levels: Iterable[Any], batch: Sequence[Any], width: int) -> None:
        """The exact loop: the old level-by-level check and apply (``get`` then store)."""
        sizes = s.sizes
        get = sizes.get
        dead = 0  # the change of the tombstone count
        zeroed = False  # only a removal can leave a tombstone on top or call for compaction
        try:
            for level in levels:
                if width == 3:
                    action, price, size = level
                    is_set = 0.0 < size < _INF and action in {"change", "new"}
                    is_removal = not is_set and (
                        (action == "delete" and 0.0 <= size < _INF)
                        or (size == 0 and action in _ACTIONS)
                    )
                else:
                    price, size = level
                    is_set = 0.0 < size < _INF
                    is_removal = not is_set and size == 0
                if is_set:
                    old = get(price)
                    if not old:
                        if old is None:  # a new price: the only kind not yet known finite
                            if not _NEG_INF < price < _INF:
                                raise ValueError
                            s.insert(price)
                        else:
                            dead -= 1
                    sizes[price] = size
                elif is_removal:
                    if get(price):
                        sizes[price] = 0
                        dead += 1
                        zeroed = True
                    elif not _NEG_INF < price < _INF:
                        raise ValueError
                else:
                    raise ValueError
        except (TypeError, ValueError, ArithmeticError):
            self._finish(s, dead, zeroed)
            raise self._refused(s, batch, width) from None
        self._finish(s, dead, zeroed)
        sizes = s.sizes  # a compaction in ``_finish`` replaces the dict
        if len(sizes) > self.max_levels and len(sizes) - s.exact_dead() > self.max_levels:
            raise self._overfull(s)

    def _finish(self, s: _Side, dead: int, zeroed: bool) -> None:
        """After the exact loop: the tombstone count moved by ``dead``, the top trimmed
        when a level was removed (only a removal can leave a tombstone on top)."""
        s.dead += dead
        if zeroed:
            s.settle()

    def _build(self, s: _Side, levels: Iterable[Sequence[Any]]) -> tuple[dict[Any, Any], list[Any]]:
        """Check one snapshot side and return its ``(sizes, prices ascending)``; ``s`` is
        not touched."""
        batch = levels if isinstance(levels, _SEQUENCES) else list(levels)
        width = 3 if batch and _len(batch[0]) == 3 else 2
        built = _whole(batch, width)
        if built is None:  # in doubt: level by level, to name the first bad level
            sizes: dict[Any, Any] = {}
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
            return sizes, sorted(sizes)
        if len(built[0]) > self.max_levels:
            raise _too_deep(s, len(built[0]), self.max_levels)
        return built

    def _refused(self, s: _Side, batch: Sequence[Any], width: int) -> RemoteProtocolError:
        """A bad level stopped the batch part-way: the book is stale (module docstring)."""
        self.stale = True
        error = _invalid(s, batch, width)
        return RemoteProtocolError(f"{error}; the book is stale until the next snapshot")

    def _overfull(self, s: _Side) -> RemoteProtocolError:
        """A batch left more than ``max_levels`` live levels: the book is stale."""
        self.stale = True
        levels = len(s.sizes) - s.exact_dead()
        return RemoteProtocolError(
            f"book {s.name} side holds {levels} levels after the update (limit "
            f"max_levels={self.max_levels}); the book is stale until the next snapshot"
        )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _bad_side(side: object) -> LocalProtocolError:
    return LocalProtocolError(f"invalid side: {side!r}; accepted values: 'bid', 'ask'")


def _whole(batch: Sequence[Any], width: int) -> tuple[dict[Any, Any], list[Any]] | None:
    """A snapshot side's live ``{price: size}`` and its prices ascending, checked as a
    whole, or ``None`` when in doubt.

    The usual snapshot (distinct prices; triples all ``new`` with a positive finite
    amount) is built by one comprehension that checks the actions and amounts, or by
    ``dict()`` for pairs (which also checks every level's arity, then ``min`` and ``sum``
    check the sizes), and its prices are sorted and summed once: any ``nan`` or infinity
    makes the sum non-finite.  Anything else (a repeated price, which would hide a size
    from the check; another action; a zero; a bad level; numbers that do not add up, such
    as ``Decimal`` mixed with ``float``, or huge ones) returns ``None``, and the caller
    checks level by level, as it always did, and names the first bad level.
    """
    try:
        if width == 3:
            sizes = {
                price: size
                for action, price, size in batch
                if action == "new" and size > 0.0 and size < 1e309  # inf: a constant
            }
            if len(sizes) != len(batch):
                return None
            keys = sorted(sizes)
            if not _isfinite(sum(keys)):
                return None
        else:
            sizes = dict(batch)
            if len(sizes) != len(batch) or (sizes and not min(sizes.values()) > 0):
                return None
            keys = sorted(sizes)
            if not _isfinite(sum(keys, sum(sizes.values()))):
                return None
    except (TypeError, ValueError, ArithmeticError):
        return None
    return sizes, keys


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
