"""Book continuity: every book message checked, maintained books kept exact.

Venues describe their books three ways, and each has a policy here:

* :class:`ChainBooks`: every change names the id of the change before it (Deribit's
  ``prev_change_id``).  A change continues the chain when that id equals the last one
  applied; a snapshot (no previous id) restarts it.  A change before any snapshot, or
  one that does not continue the chain, is a gap: :class:`BookGap`, the topic is stale,
  the change and every change until the next snapshot are dropped (no delta is applied
  across a gap), and the machine resyncs that topic alone.  While stale, a change that
  arrives after the resubscription was acknowledged means no snapshot came: resync again.
* :class:`ReplaceBooks`: every message is the whole book (Currency.com's depth events,
  Deribit's grouped windows); nothing can be missed, so there is no gap.
* :class:`SnapshotDeltaBooks`: deltas without any sequence (Rails).  A client cannot see
  a gap in the messages themselves, so the book is only trusted between a snapshot and
  the next doubt: deltas before the first snapshot are held back (bounded) and applied
  after it; a reconnect, or an explicit :meth:`SnapshotDeltaBooks.doubt`, marks the book
  stale until a fresh snapshot arrives.

Books are kept only for topics the machine is subscribed to (desired or active in its
ledger): a book message on any other topic is passed on as an event and keeps no state,
so memory is bounded by what the caller asked for; ``max_levels`` bounds each book.

A venue supplies a :class:`BookAccess` (how to read its messages) and may register a
hot handler of its own for the common case, calling the policy's ``on_message`` for the
rest (Deribit does: one dict lookup and one compare per continuing change).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from .._errors import LocalProtocolError, RemoteProtocolError
from .._events import Event
from ._book import OrderBook
from ._policies import Handler, SessionHost

__all__ = [
    "UNKNOWN",
    "BookAccess",
    "BookCrossed",
    "BookGap",
    "BookResynced",
    "BookState",
    "ChainBooks",
    "ReplaceBooks",
    "SnapshotDeltaBooks",
]

UNKNOWN: object = object()
"""``BookState.last`` when the chain is not known (no snapshot since the last gap)."""


class BookGap(Event, frozen=True, kw_only=True):
    """A book change does not continue the chain.

    ``expected`` is the last id seen (``None``: no snapshot yet), ``got`` the change's
    previous id.  The book is stale: this change and every later one are dropped (no
    delta is applied across a gap) until a snapshot arrives; the topic alone is
    resubscribed to get one.
    """

    channel: str
    expected: int | None
    got: int | None


class BookResynced(Event, frozen=True, kw_only=True):
    """A snapshot ended a stale period (a gap, or a lost connection) on ``channel``.

    ``dropped`` counts the changes discarded while stale.  The snapshot itself is the
    book message delivered just before this event.
    """

    channel: str
    change_id: int
    dropped: int


class BookCrossed(Event, frozen=True, kw_only=True):
    """A maintained book became crossed (best bid >= best ask) after an update.

    Reported once per episode; the book is kept as the venue described it.
    """

    channel: str
    best_bid: float
    best_ask: float


class BookAccess(msgspec.Struct, frozen=True, kw_only=True):
    """How to read a venue's book messages.

    * ``topic(message)``: the subscription topic it belongs to;
    * ``seq(message)`` / ``prev(message)``: its id and its previous id (``None``: a
      snapshot) for chained books; ``is_snapshot(message)`` for unchained ones;
    * ``apply(book, message, snapshot)``: apply it to a maintained book (raises
      RemoteProtocolError for levels the book refuses).
    """

    topic: Callable[[Any], str]
    apply: Callable[[OrderBook, Any, bool], None]
    seq: Callable[[Any], int] | None = None
    prev: Callable[[Any], int | None] | None = None
    is_snapshot: Callable[[Any], bool] | None = None


class BookState:
    """One book topic: its chain, its stale flag and (optionally) its book."""

    __slots__ = ("awaiting", "book", "crossed", "dropped", "held", "last", "stale")

    def __init__(self, book: OrderBook | None) -> None:
        self.last: object = UNKNOWN
        self.book = book
        self.stale = False
        self.awaiting = False  # resubscribed after a gap; the next frame must be a snapshot
        self.dropped = 0
        self.crossed = False
        self.held: list[Any] = []  # SnapshotDeltaBooks: deltas waiting for a snapshot

    def __repr__(self) -> str:
        last = self.last if self.last is not UNKNOWN else None
        return f"BookState(last={last!r}, stale={self.stale!r})"


class _Books:
    """What the three policies share: states for subscribed topics, bounded."""

    def __init__(
        self,
        access: BookAccess,
        types: tuple[type, ...],
        *,
        maintain: bool,
        max_levels: int,
        max_books: int,
    ) -> None:
        self.access = access
        self.types = types
        self.maintain = maintain
        self.max_levels = max_levels
        self.max_books = max_books
        self.states: dict[str, BookState] = {}
        self.host: SessionHost | None = None

    def handlers(self, host: SessionHost) -> dict[type, Handler]:
        self.host = host
        return dict.fromkeys(self.types, self.on_message)

    def on_message(self, message: Any, now: float) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def state(self, topic: str) -> BookState | None:
        """The topic's state, made on first use if the topic is subscribed; ``None`` for
        a topic nobody subscribed to (its messages are events, nothing more)."""
        state = self.states.get(topic)
        if state is None:
            host = self.host
            if host is None or not host.is_subscribed(topic):
                return None
            if len(self.states) >= self.max_books:
                raise RemoteProtocolError(
                    f"book message on a new topic {topic!r:.80} beyond {self.max_books} "
                    "books (limit max_subscriptions); dropped"
                )
            book = OrderBook(max_levels=self.max_levels) if self.maintain else None
            state = self.states[topic] = BookState(book)
        return state

    def book(self, topic: str) -> OrderBook | None:
        if not self.maintain:
            raise LocalProtocolError(
                "books are not maintained: construct the client with maintain_books=True"
            )
        state = self.states.get(topic)
        return None if state is None else state.book

    def emit(self, event: Event) -> None:
        assert self.host is not None
        self.host.event_queue.items.append(event)

    def apply(self, state: BookState, topic: str, message: Any, *, snapshot: bool) -> None:
        book = state.book
        if book is None:
            return
        try:
            self.access.apply(book, message, snapshot)
        except RemoteProtocolError as exc:
            raise self.broken(state, topic, exc) from None

    def broken(self, state: BookState, topic: str, exc: RemoteProtocolError) -> RemoteProtocolError:
        """Levels the book refused: it may be half-updated, so it is stale until a
        snapshot replaces it.  Returns the error to raise."""
        self.mark_stale(state)
        return RemoteProtocolError(
            f"book update on {topic!r:.80} not applied ({exc}); the book is stale "
            "and is being resynced"
        )

    def check_crossed(self, state: BookState, topic: str) -> None:
        """Report a book that has just become crossed (once per episode)."""
        book = state.book
        if book is None:
            return
        crossed = book.is_crossed()
        if crossed and not state.crossed:
            bid, ask = book.best_bid(), book.best_ask()
            assert bid is not None
            assert ask is not None
            self.emit(BookCrossed(channel=topic, best_bid=bid[0], best_ask=ask[0]))
        state.crossed = crossed

    @staticmethod
    def mark_stale(state: BookState) -> None:
        state.stale = True
        state.awaiting = False
        state.last = UNKNOWN
        state.held.clear()
        if state.book is not None:
            state.book.stale = True

    def resubscribed(self, topic: str) -> None:
        """``topic``'s subscription was acknowledged: a stale book expects a snapshot."""
        state = self.states.get(topic)
        if state is not None and state.stale:
            state.awaiting = True

    def forget(self, topic: str) -> None:
        self.states.pop(topic, None)

    def connection_lost(self, keep: set[str]) -> None:
        """Every book ends with the connection: books of topics not in ``keep`` are
        forgotten; the others wait for what the policy needs (see ``_lost``)."""
        for topic in list(self.states):
            if topic not in keep:
                del self.states[topic]
            else:
                self._lost(self.states[topic])

    def _lost(self, state: BookState) -> None:
        """A kept book after a lost connection: stale until a fresh snapshot."""
        self.mark_stale(state)
        state.dropped = 0


class ChainBooks(_Books):
    """Books whose changes name their predecessor (see the module docstring)."""

    def _lost(self, state: BookState) -> None:
        # A chain never started (no snapshot yet) has nothing to go stale.
        if state.last is not UNKNOWN or state.stale:
            self.mark_stale(state)
            state.dropped = 0

    def on_message(self, message: Any, now: float) -> None:
        """A book message the venue's hot handler did not take (or every one, without one)."""
        access = self.access
        topic = access.topic(message)
        try:
            resync = self._on_chain(topic, message)
        except RemoteProtocolError:
            self._resync(topic, now)
            raise
        if resync:
            self._resync(topic, now)

    def _resync(self, topic: str, now: float) -> None:
        assert self.host is not None
        self.host.resync(topic, now)

    def _on_chain(self, topic: str, message: Any) -> bool:
        state = self.state(topic)
        if state is None:
            self.emit(message)  # nobody asked for this book: an event, no state
            return False
        access = self.access
        assert access.prev is not None
        assert access.seq is not None
        prev = access.prev(message)
        if prev is None:  # a snapshot
            self.apply(state, topic, message, snapshot=True)
            seq = access.seq(message)
            state.last = seq
            state.awaiting = False
            self.emit(message)
            if state.stale:
                state.stale = False
                self.emit(BookResynced(channel=topic, change_id=seq, dropped=state.dropped))
                state.dropped = 0
            self.check_crossed(state, topic)
            return False
        if prev == state.last:  # continues the chain
            self.apply(state, topic, message, snapshot=False)
            state.last = access.seq(message)
            self.emit(message)
            self.check_crossed(state, topic)
            return False
        if state.stale:
            state.dropped += 1
            if not state.awaiting:
                return False  # the resync is under way
            state.awaiting = False  # resubscribed, yet no snapshot came: try again
            self.emit(BookGap(channel=topic, expected=None, got=prev))
            return True
        last = state.last
        self.emit(
            BookGap(channel=topic, expected=last if isinstance(last, int) else None, got=prev)
        )
        self.mark_stale(state)
        state.dropped = 1
        return True


class ReplaceBooks(_Books):
    """Books where every message is the whole book: applied as a snapshot, never a gap."""

    def _lost(self, state: BookState) -> None:
        pass  # the next message replaces the whole book anyway

    def on_message(self, message: Any, now: float) -> None:
        if not self.maintain:
            self.emit(message)  # nothing to check: every message is the whole book
            return
        topic = self.access.topic(message)
        state = self.state(topic)
        if state is not None and state.book is not None:
            book = state.book
            try:
                self.access.apply(book, message, True)
            except RemoteProtocolError as exc:
                raise RemoteProtocolError(f"book on {topic!r:.80} not applied: {exc}") from None
            book.stale = False
            self.emit(message)
            self.check_crossed(state, topic)
            return
        self.emit(message)


class SnapshotDeltaBooks(_Books):
    """Snapshot then deltas, with no sequence (see the module docstring).

    ``max_held`` bounds the deltas held back while waiting for a snapshot; past it the
    oldest are dropped and counted (the snapshot replaces the book anyway).
    """

    def __init__(self, *args: Any, max_held: int = 10_000, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_held = max_held

    def on_message(self, message: Any, now: float) -> None:
        access = self.access
        assert access.is_snapshot is not None
        topic = access.topic(message)
        state = self.state(topic)
        if state is None:
            self.emit(message)
            return
        if access.is_snapshot(message):
            self.apply(state, topic, message, snapshot=True)
            was_stale = state.stale or state.last is UNKNOWN
            state.last = 0
            state.stale = False
            state.awaiting = False
            self.emit(message)
            held, state.held = state.held, []
            for delta in held:  # deltas that came after the snapshot was asked for
                self.apply(state, topic, delta, snapshot=False)
            if was_stale and (state.dropped or held):
                self.emit(BookResynced(channel=topic, change_id=0, dropped=state.dropped))
            state.dropped = 0
            self.check_crossed(state, topic)
            return
        if state.stale or state.last is UNKNOWN:
            if len(state.held) >= self.max_held:
                del state.held[0]
                state.dropped += 1
            state.held.append(message)
            self.emit(message)
            return
        self.apply(state, topic, message, snapshot=False)
        self.emit(message)
        self.check_crossed(state, topic)

    def doubt(self, topic: str, now: float) -> None:
        """The caller suspects a lost message: the book is stale until a new snapshot."""
        state = self.states.get(topic)
        if state is not None:
            self.mark_stale(state)
            assert self.host is not None
            self.host.resync(topic, now)
