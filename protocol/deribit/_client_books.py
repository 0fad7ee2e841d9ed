"""Book continuity for the Deribit client (spec 4): the ``change_id`` chain per channel.

Every ``book.{instrument}.{interval}`` notification is checked, whether or not books are
maintained, by the session layer's :class:`~tradewire.protocol.session.ChainBooks`: a
change continues the chain when its ``prev_change_id`` equals the ``change_id`` of the
last one applied (never by ``+1``, since the counter is shared by many instruments); a
snapshot (no ``prev_change_id``) restarts it; anything else is a ``BookGap``, the
channel goes stale and is resynced alone.  ``book.{instrument}.{group}.{depth}.{interval}``
has no chain: each frame is the whole window (spec 3.3) and replaces the maintained book
(:class:`~tradewire.protocol.session.ReplaceBooks`).

The hot path is Deribit's own: :func:`chain_books` registers a handler for
``BookUpdate`` that takes a change continuing its chain with one dict lookup and one
compare, and hands everything else (snapshots, gaps, stale channels, channels nobody
subscribed to) to the policy.  Only channels the client is subscribed to keep a state
(and a book): an unsolicited notification is an event and nothing more.
"""

from __future__ import annotations

from typing import Any

from .._errors import RemoteProtocolError
from ..session import BookAccess, ChainBooks, Handler, OrderBook, ReplaceBooks, SessionHost
from ._notifications import BookUpdate, GroupedBookUpdate

__all__ = ["DeribitChainBooks", "grouped_books"]


def _apply_change(book: OrderBook, message: Any, snapshot: bool) -> None:
    data = message.data
    if snapshot:
        book.apply_snapshot(data.bids, data.asks)
    else:
        book.apply_actions("bid", data.bids)
        book.apply_actions("ask", data.asks)


def _apply_window(book: OrderBook, message: Any, snapshot: bool) -> None:
    data = message.data
    book.apply_snapshot(data.bids, data.asks)


def _channel(message: Any) -> str:
    return message.channel  # type: ignore[no-any-return]


def _change_id(message: Any) -> int:
    return message.data.change_id  # type: ignore[no-any-return]


def _prev_change_id(message: Any) -> int | None:
    return message.data.prev_change_id  # type: ignore[no-any-return]


CHAIN = BookAccess(topic=_channel, apply=_apply_change, seq=_change_id, prev=_prev_change_id)
WINDOW = BookAccess(topic=_channel, apply=_apply_window)


class DeribitChainBooks(ChainBooks):
    """``ChainBooks`` for ``BookUpdate``, with Deribit's hot handler (module docstring)."""

    def __init__(self, *, maintain: bool, max_levels: int, max_books: int) -> None:
        super().__init__(
            CHAIN, (BookUpdate,), maintain=maintain, max_levels=max_levels, max_books=max_books
        )

    def handlers(self, host: SessionHost) -> dict[type, Handler]:
        self.host = host
        states = self.states
        queue = host.event_queue
        slow = self.on_message

        def on_book(message: BookUpdate, now: float) -> None:
            data = message.data
            state = states.get(message.channel)
            if state is None or data.prev_change_id != state.last:
                slow(message, now)  # a snapshot, a gap, a stale or unknown channel
                return
            # A change that continues its chain: one lookup and one compare.
            state.last = data.change_id
            book = state.book
            if book is None:
                queue.items.append(message)
                return
            try:
                book.apply_actions("bid", data.bids)
                book.apply_actions("ask", data.asks)
            except RemoteProtocolError as exc:
                error = self.broken(state, message.channel, exc)
                host.resync(message.channel, now)
                raise error from None
            queue.items.append(message)
            if state.crossed or book.is_crossed():
                self.check_crossed(state, message.channel)

        return {BookUpdate: on_book}


def grouped_books(*, maintain: bool, max_levels: int, max_books: int) -> ReplaceBooks:
    """The policy for grouped windows (``GroupedBookUpdate``): each replaces the book."""
    return ReplaceBooks(
        WINDOW, (GroupedBookUpdate,), maintain=maintain, max_levels=max_levels, max_books=max_books
    )
