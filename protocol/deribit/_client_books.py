"""Book continuity for the Deribit client (spec 4): the ``change_id`` chain per channel.

Every ``book.{instrument}.{interval}`` notification is checked, whether or not books are
maintained, by the session layer's :class:`~tradewire.protocol.session.ChainBooks`: a
change continues the chain when its ``prev_change_id`` equals the ``change_id`` of the
last one applied (never by ``+1``, since the counter is shared by many instruments); a
snapshot (no ``prev_change_id``) restarts it; anything else is a ``BookGap``, the
channel goes stale and is resynced alone.  ``book.{instrument}.{group}.{depth}.{interval}``
has no chain: each frame is the whole window (spec 3.3) and replaces the maintained book
(:class:`~tradewire.protocol.session.ReplaceBooks`).

The hot path is Deribit's own, in two places.  With no book kept, the codec's
``decode`` (armed by :meth:`DeribitChainBooks.handlers`, see :func:`hot_decoder`) checks a
change continuing its chain as it decodes it and queues it itself: one dict lookup (which
doubles as the proof of the decoded channel's family) and one compare, and the machine
only sees ``HANDLED``; over a whole read, the codec's ``take`` (see :func:`chain_taker`)
does the same to a run of such changes with no Python work per message.  With books
kept, the handler this policy registers for ``BookUpdate`` applies such a change with
the same lookup and compare.  Everything else
(snapshots, gaps, stale channels, channels nobody subscribed to) goes to the policy.
Only channels the client is subscribed to keep a state (and a book): an unsolicited
notification is an event and nothing more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import takewhile
from operator import attrgetter, methodcaller
from typing import Any

from .._bounded import BoundedQueue
from .._errors import RemoteProtocolError
from .._events import Event
from ..session import (
    HANDLED,
    BookAccess,
    BookState,
    ChainBooks,
    Handler,
    OrderBook,
    ReplaceBooks,
    SessionHost,
    Take,
)
from ._inbound import (
    _DECODE_ERRORS,
    _FAST,
    _PREFIX,
    WIDER,
    _decode_bytes,
    _hints,
    _types,
    _wide_hints,
    decode_inbound,
)
from ._notifications import BookUpdate, GroupedBookUpdate

__all__ = ["DeribitChainBooks", "chain_taker", "grouped_books", "hot_decoder"]


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


def hot_decoder(states: dict[str, BookState], queue: BoundedQueue[Event]) -> Callable[[Any], Any]:
    """``decode_inbound`` with the chain check of an unkept book change folded in.

    The first steps are ``decode_inbound``'s own (the first-byte hint); a hinted
    ``BookUpdate`` whose decoded channel has a state in ``states`` (only channels verified
    to route to ``BookUpdate`` get one) and continues its chain, with no book kept, is
    queued here and answered ``HANDLED``.  Everything else is what ``decode_inbound``
    returns.
    """
    hint_for = _hints.get
    wide_hint_for = _wide_hints.get
    type_of = _types.get
    state_of = states.get
    decode_bytes = _decode_bytes
    decode_other = decode_inbound
    errors = _DECODE_ERRORS
    wider = WIDER
    book_update = BookUpdate

    def decode(data: Any) -> Any:
        if type(data) is not bytes:
            return decode_other(data)
        hint = hint_for(data[62:63])
        if hint is wider:
            hint = wide_hint_for(data[62:70])
        if hint is None:
            return decode_bytes(data)
        decoder, event_type = hint
        try:
            event = decoder(data).params
        except errors:
            return decode_bytes(data)
        if event_type is book_update:
            state = state_of(event.channel)
            if state is not None:  # a channel verified to route to BookUpdate
                book_data = event.data
                if book_data.prev_change_id == state.last and state.book is None:
                    state.last = book_data.change_id  # continues its chain: done here
                    queue.items.append(event)
                    return HANDLED
                return event
        if type_of(event.channel) is event_type:
            return event
        return decode_bytes(data)

    return decode


_BOOK_START = _PREFIX + b"book."
"""How the venue starts a ``book.*`` notification (the documented key order)."""
_PARAMS = attrgetter("params")
_CHANNEL = attrgetter("channel")
_PREV = attrgetter("data.prev_change_id")
_ID = attrgetter("data.change_id")


def chain_taker(states: dict[str, BookState], queue: BoundedQueue[Event]) -> Take:
    """:func:`hot_decoder`'s shortcut over a read (``ClientCodec.take``).

    It looks at a read only where a message starts as the venue writes a ``book.*``
    notification, on a channel that has a state (so it routes to ``BookUpdate``), no
    kept book and no gap being resynced: read from the bytes, with no decode, so a read
    of kept books costs one lookup per message.  Then the run of messages that start
    with the same bytes up to the channel name's closing quote (found by a C loop,
    ``takewhile`` of ``startswith``) is decoded by one C loop (``map`` of the
    ``BookUpdate`` envelope decoder, the first message alone first: a snapshot or a gap
    there leaves the run to the machine at the cost of one decode) and checked as the
    hot decoder checks each change: the decoded channel is the state's, and each
    ``prev_change_id`` is the ``change_id`` before it, checked by C passes (the channels
    counted, the two id columns compared as lists).  The changes up to the first that
    fails a check are queued as they are and taken; that one and everything after it go
    to the machine, which decodes them again, one by one (a snapshot, a gap, another
    channel: what ``hot_decoder`` leaves to the book policy), so a read ends exactly as
    it would one message at a time, and no message is decoded more than twice.
    """
    decode = _FAST[BookUpdate].decode
    state_of = states.get
    errors = _DECODE_ERRORS
    at = len(_PREFIX)

    def take(messages: Sequence[Any], start: int, stop: int) -> int:
        first = messages[start]
        if type(first) is not bytes or not first.startswith(_BOOK_START):
            return start  # not a book notification as the venue writes them: no decode
        end = first.find(b'"', at)
        try:
            state = state_of(first[at:end].decode())
        except UnicodeDecodeError:
            return start
        if state is None or state.book is not None or state.stale:
            return start  # not a hot channel: the machine's, with no decode here
        try:
            head = decode(first).params
        except errors:
            return start
        data = head.data
        if state_of(head.channel) is not state or data.prev_change_id != state.last:
            return start  # a snapshot or a gap (or a renamed channel): the policy's
        state.last = data.change_id
        queue.items.append(head)
        begin = start + 1
        if begin == stop:
            return stop
        same = methodcaller("startswith", first[: end + 1])  # the channel's run, no further
        run = takewhile(same, map(messages.__getitem__, range(begin, stop)))
        envelopes: list[Any] = []
        try:  # noqa: SIM105 (a try costs nothing; suppress is two Python calls)
            envelopes.extend(map(decode, run))
        except errors:
            pass  # the ones before it are book changes; it is the machine's
        if not envelopes:
            return begin
        events = list(map(_PARAMS, envelopes))
        count = len(events)
        if list(map(_CHANNEL, events)).count(head.channel) == count:
            ids = list(map(_ID, events))
            prevs = list(map(_PREV, events))
            if prevs[0] == state.last and prevs[1:] == ids[:-1]:
                state.last = ids[-1]
                queue.items.extend(events)
                return begin + count
        taken = 0  # a gap or a snapshot in the run (or a renamed channel): change by change
        for event in events:
            state = state_of(event.channel)
            data = event.data
            if state is None or state.book is not None or data.prev_change_id != state.last:
                break
            state.last = data.change_id
            taken += 1
        queue.items.extend(events[:taken])
        return begin + taken

    return take


class DeribitChainBooks(ChainBooks):
    """``ChainBooks`` for ``BookUpdate``, with Deribit's hot paths (module docstring).

    ``on_armed`` receives the hot decoder and its read-wide shortcut (:func:`chain_taker`)
    once the machine is known (the codec takes them).
    """

    def __init__(
        self,
        *,
        maintain: bool,
        max_levels: int,
        max_books: int,
        on_armed: Callable[[Callable[[Any], Any], Take], None] | None = None,
    ) -> None:
        super().__init__(
            CHAIN, (BookUpdate,), maintain=maintain, max_levels=max_levels, max_books=max_books
        )
        self.on_armed = on_armed

    def handlers(self, host: SessionHost) -> dict[type, Handler]:
        self.host = host
        states = self.states
        if self.on_armed is not None:
            queue = host.event_queue
            self.on_armed(hot_decoder(states, queue), chain_taker(states, queue))
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
