"""Book continuity for the Deribit client (spec 4): the ``change_id`` chain per channel.

Every ``book.{instrument}.{interval}`` notification is checked, whether or not books are
maintained.  One :class:`BookState` per channel holds ``last``, the ``change_id`` of the
last notification applied.  A change continues the chain when its ``prev_change_id``
equals ``last``; never by ``+1``, since the counter is shared by many instruments.  The
client checks that inline on its hot path (one dict lookup and one compare); everything
else comes here:

* a snapshot (``prev_change_id`` absent) restarts the chain and ends a stale period
  (:class:`BookResynced`);
* a change before any snapshot, or one that does not continue the chain, is a gap:
  :class:`BookGap`, the channel is stale, the change is dropped, and so is every change
  until the next snapshot; the caller resubscribes that channel alone;
* while stale, changes are dropped and counted; a change that arrives after the
  resubscription was acknowledged means no snapshot came, so the channel is resynced
  again (each time with a new :class:`BookGap`).

``book.{instrument}.{group}.{depth}.{interval}`` has no chain: each frame is the whole
window (spec 3.3) and, when books are maintained, replaces it.

``last`` of a stale or fresh channel is a private sentinel that no ``prev_change_id``
(an int or ``None``) equals, so the hot-path compare needs no second test.
"""

from __future__ import annotations

from .._bounded import BoundedQueue
from .._errors import LocalProtocolError, RemoteProtocolError
from .._events import Event
from ..session._book import OrderBook
from ._client_events import BookCrossed, BookGap, BookResynced
from ._notifications import BookUpdate, GroupedBookUpdate

__all__ = ["UNKNOWN", "BookKeeper", "BookState"]

UNKNOWN: object = object()
"""``BookState.last`` when the chain is not known (no snapshot since the last gap)."""


class BookState:
    """One book channel: its chain, its stale flag and (optionally) its book."""

    __slots__ = ("awaiting", "book", "crossed", "dropped", "last", "stale")

    def __init__(self, book: OrderBook | None) -> None:
        self.last: object = UNKNOWN
        self.book = book
        self.stale = False
        self.awaiting = False  # resubscribed after a gap; the next frame must be a snapshot
        self.dropped = 0
        self.crossed = False

    def __repr__(self) -> str:
        last = self.last if self.last is not UNKNOWN else None
        return f"BookState(last={last!r}, stale={self.stale!r})"


class BookKeeper:
    """The :class:`BookState` of every book channel seen, bounded by ``max_channels``.

    ``states`` holds the chained channels (``BookUpdate``) and nothing else, ``windows``
    the grouped ones (kept only when books are maintained).  The client's hot path
    relies on that split: a state in ``states`` was made for a ``BookUpdate`` that was
    decoded and routed exactly, so finding one proves the channel's family (see
    ``ClientProtocol.receive_message``).
    """

    __slots__ = ("maintain", "max_channels", "max_levels", "states", "windows")

    def __init__(self, *, maintain: bool, max_levels: int, max_channels: int) -> None:
        self.maintain = maintain
        self.max_levels = max_levels
        self.max_channels = max_channels
        self.states: dict[str, BookState] = {}
        self.windows: dict[str, BookState] = {}

    def _state(self, channel: str, *, grouped: bool = False) -> BookState:
        states = self.windows if grouped else self.states
        state = states.get(channel)
        if state is None:
            if len(self.states) + len(self.windows) >= self.max_channels:
                raise RemoteProtocolError(
                    f"book notification on a new channel {channel!r:.80} beyond "
                    f"{self.max_channels} book channels (limit max_subscriptions); dropped"
                )
            book = OrderBook(max_levels=self.max_levels) if self.maintain else None
            state = states[channel] = BookState(book)
        return state

    def book(self, channel: str) -> OrderBook | None:
        if not self.maintain:
            raise LocalProtocolError(
                "books are not maintained: construct the client with maintain_books=True"
            )
        state = self.states.get(channel) or self.windows.get(channel)
        return None if state is None else state.book

    # -- notifications --------------------------------------------------------------------

    def on_book(self, event: BookUpdate, events: BoundedQueue[Event]) -> bool:
        """Everything but a plain continuing change; returns whether to resync the channel."""
        channel = event.channel
        state = self._state(channel)
        data = event.data
        prev = data.prev_change_id
        if prev is None:  # a snapshot
            if state.book is not None:
                self._apply(state, channel, event, snapshot=True)
            state.last = data.change_id
            state.awaiting = False
            events.append(event)
            if state.stale:
                state.stale = False
                events.append(
                    BookResynced(channel=channel, change_id=data.change_id, dropped=state.dropped)
                )
                state.dropped = 0
            self.check_crossed(state, channel, events)
            return False
        if prev == state.last:  # continues the chain (the hot path normally takes these)
            if state.book is not None:
                self._apply(state, channel, event, snapshot=False)
            state.last = data.change_id
            events.append(event)
            self.check_crossed(state, channel, events)
            return False
        if state.stale:
            state.dropped += 1
            if not state.awaiting:
                return False  # the resync is under way
            state.awaiting = False  # resubscribed, yet no snapshot came: try again
            events.append(BookGap(channel=channel, expected=None, got=prev))
            return True
        last = state.last
        events.append(
            BookGap(channel=channel, expected=last if isinstance(last, int) else None, got=prev)
        )
        self.mark_stale(state)
        state.dropped = 1
        return True

    def on_grouped(self, event: GroupedBookUpdate, events: BoundedQueue[Event]) -> None:
        """A grouped window: replace the maintained book (no chain, spec 3.3)."""
        if self.maintain:
            channel = event.channel
            state = self._state(channel, grouped=True)
            book = state.book
            assert book is not None
            try:
                book.apply_snapshot(event.data.bids, event.data.asks)
            except RemoteProtocolError as exc:
                raise RemoteProtocolError(
                    f"book window on {channel!r:.80} not applied: {exc}"
                ) from None
            events.append(event)
            self.check_crossed(state, channel, events)
        else:
            events.append(event)

    def _apply(self, state: BookState, channel: str, event: BookUpdate, *, snapshot: bool) -> None:
        book = state.book
        assert book is not None
        data = event.data
        try:
            if snapshot:
                book.apply_snapshot(data.bids, data.asks)
            else:
                book.apply_actions("bid", data.bids)
                book.apply_actions("ask", data.asks)
        except RemoteProtocolError as exc:
            raise self.broken(state, channel, exc) from None

    def broken(
        self, state: BookState, channel: str, exc: RemoteProtocolError
    ) -> RemoteProtocolError:
        """Levels the book refused: it may be half-updated, so it is stale until a
        snapshot replaces it.  Returns the error to raise."""
        self.mark_stale(state)
        return RemoteProtocolError(
            f"book update on {channel!r:.80} not applied ({exc}); the book is stale "
            "and is being resynced"
        )

    @staticmethod
    def check_crossed(state: BookState, channel: str, events: BoundedQueue[Event]) -> None:
        """Report a book that has just become crossed (once per episode)."""
        book = state.book
        if book is None:
            return
        crossed = book.is_crossed()
        if crossed and not state.crossed:
            bid, ask = book.best_bid(), book.best_ask()
            assert bid is not None
            assert ask is not None
            events.append(BookCrossed(channel=channel, best_bid=bid[0], best_ask=ask[0]))
        state.crossed = crossed

    # -- lifecycle --------------------------------------------------------------------------

    @staticmethod
    def mark_stale(state: BookState) -> None:
        state.stale = True
        state.awaiting = False
        state.last = UNKNOWN
        if state.book is not None:
            state.book.stale = True

    def resubscribed(self, channel: str) -> None:
        """``channel``'s subscription was acknowledged: a stale book expects a snapshot."""
        state = self.states.get(channel)
        if state is not None and state.stale:
            state.awaiting = True

    def forget(self, channel: str) -> None:
        self.states.pop(channel, None)
        self.windows.pop(channel, None)

    def connection_lost(self, keep: set[str]) -> None:
        """Every chain ends with the connection; books of channels in ``keep`` go stale."""
        for channel in [c for c in self.windows if c not in keep]:
            del self.windows[channel]  # a window has no chain: nothing goes stale
        for channel in list(self.states):
            if channel not in keep:
                del self.states[channel]
                continue
            state = self.states[channel]
            if state.last is not UNKNOWN or state.stale:
                self.mark_stale(state)
                state.dropped = 0
