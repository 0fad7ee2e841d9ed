"""Book continuity for the Rails client: snapshot, then deltas, with no sequence (spec 7).

Rails' book stream carries no sequence number in any revision, so a client cannot see a
lost delta in the messages themselves; the venue's answer is a fresh snapshot on request
(``emitPublicOrderBook``).  So a book is trusted only between a snapshot and the next
doubt, on the session layer's :class:`~tradewire.protocol.session.SnapshotDeltaBooks`:

* the machine asks for a snapshot itself (a request of its own, reported to nobody)
  whenever a book has none it can trust: when ``publicOrderBook`` becomes active (in
  the upgrade's query or by a ``subscribe``), after every reconnect, when a delta comes
  for a market it has no trusted book of (``market=ALL``), after :meth:`doubt`, and
  after a delta the book refuses.  At most one such request per market is open;
* deltas that come while a book waits for its snapshot are held (bounded) and applied
  on top of the snapshot when it comes: they were sent before it, and each sets a
  level's new total, so applying them again changes nothing the snapshot did not;
* a reconnect, or a message the machine cannot read (it may have been a delta), makes
  every book stale until its new snapshot (:class:`BookResynced` reports the end of a
  stale period that dropped or held deltas).  A lost delta itself cannot be seen: only
  a doubt (:meth:`RailsBooks.doubt`) or a reconnect repairs the book after one.

Books are per market: ``client.book("BTC-USD")``.  On a one-market connection only that
market's book is kept; with ``market=ALL``, every market's (at most
``max_subscriptions`` books).  A book message of a market the client keeps no book of
(``publicOrderBook`` not subscribed, another market) is an event and nothing else.

Numbers: with ``maintain_books=True`` the book holds ``decimal.Decimal`` prices and
sizes, converted once from the venue's exact strings when a message is applied
(``OrderBook`` stores numbers as given), so the book is exact; without it nothing is
converted.  The hot path (``hot_delta``): a delta for a market whose book is trusted,
with no book kept, is queued by the codec as it is decoded (one lookup, two compares).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from itertools import islice
from operator import attrgetter
from typing import Any

import msgspec

from .._errors import RemoteProtocolError
from .._sources import RequestId
from ..session import (
    HANDLED,
    Answer,
    BookAccess,
    BookState,
    Handler,
    OrderBook,
    SessionHost,
    SnapshotDeltaBooks,
    Take,
)
from ._commands import MARKET_ALL, EmitPublicOrderBook
from ._models import BookDelta, BookSnapshot, LegacyBookDelta, LegacyBookSnapshot
from ._wire import _UNION, decode_inbound

__all__ = ["BOOK_STREAM", "RailsBooks", "SnapshotAsks"]

BOOK_STREAM = "publicOrderBook"
_MARKET = attrgetter("market")
NO_MARKET = ""
"""The topic of a book message with no ``market`` on a ``market=ALL`` connection."""
UNKNOWN_STATE: object = BookState(None).last
"""``BookState.last`` before a book's first snapshot."""
MAX_ASKS = 64
"""Snapshot requests remembered per (request, market) to match an answer without id."""


def _levels(message: Any) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    bids: list[tuple[Decimal, Decimal]] = []
    asks: list[tuple[Decimal, Decimal]] = []
    try:
        for level in message.data.orders:
            pair = (Decimal(level.price), Decimal(level.quantity))
            (bids if level.order_type == "buy" else asks).append(pair)
    except InvalidOperation:
        raise RemoteProtocolError("a book level's price or quantity is not a decimal") from None
    return bids, asks


def apply_levels(book: OrderBook, message: Any, snapshot: bool) -> None:
    """Apply a Rails book message to ``book`` (``Decimal`` levels)."""
    bids, asks = _levels(message)
    if snapshot:
        book.apply_snapshot(bids, asks)
        return
    if bids:
        book.set_levels("bid", bids)
    if asks:
        book.set_levels("ask", asks)


class SnapshotAsks:
    """Open snapshot requests by (request name, market), oldest first: an answer that
    carries no ``clientRequestId`` (the doc's examples show none) answers the oldest."""

    def __init__(self) -> None:
        self._asked: dict[tuple[str, str], deque[RequestId]] = {}

    def add(self, name: str, market: str, request_id: RequestId) -> None:
        key = (name, market)
        asked = self._asked.get(key)
        if asked is None:
            if len(self._asked) >= MAX_ASKS:
                self._asked.pop(next(iter(self._asked)))
            asked = self._asked[key] = deque(maxlen=MAX_ASKS)
        asked.append(request_id)

    def take(self, name: str, market: str | None, host: SessionHost) -> RequestId | None:
        """The oldest request of ``name`` for ``market`` still open, or ``None``."""
        if market is None:
            return None
        asked = self._asked.get((name, market))
        while asked:
            request_id = asked.popleft()
            if host.is_open(request_id):
                return request_id
        return None


class RailsBooks(SnapshotDeltaBooks):
    """Rails' books, per market (see the module docstring)."""

    def __init__(
        self,
        *,
        market: str,
        maintain: bool,
        max_levels: int,
        max_books: int,
        asks: SnapshotAsks,
        max_held: int = 10_000,
        on_armed: Callable[[Callable[[Any], Any], Take], None] | None = None,
    ) -> None:
        access = BookAccess(topic=self._market_of, apply=apply_levels, is_snapshot=_is_snapshot)
        types = (BookDelta, LegacyBookDelta, BookSnapshot, LegacyBookSnapshot)
        super().__init__(
            access,
            types,
            maintain=maintain,
            max_levels=max_levels,
            max_books=max_books,
            max_held=max_held,
        )
        self.market = market
        self.asks = asks
        self.on_armed = on_armed
        self.clock = 0.0  # the time of the driving call under way (set by the machine)
        self._asking: dict[str, RequestId] = {}  # market -> our open snapshot request

    def _market_of(self, message: Any) -> str:
        market = message.market
        if market is None:
            return self.market if self.market != MARKET_ALL else NO_MARKET
        return market  # type: ignore[no-any-return]

    # -- the machine's hooks -----------------------------------------------------------------

    def handlers(self, host: SessionHost) -> dict[type, Handler]:
        self.host = host
        if self.on_armed is not None:
            self.on_armed(hot_decoder(self, host), delta_taker(self, host))
        on_delta, on_snapshot = delta_handler(self, host), self.on_snapshot
        return {
            BookDelta: on_delta,
            LegacyBookDelta: self.on_delta,
            BookSnapshot: on_snapshot,
            LegacyBookSnapshot: on_snapshot,
        }

    def state(self, topic: str) -> BookState | None:
        """A market's state; made on first use while ``publicOrderBook`` is subscribed
        (and, on a one-market connection, only for that market)."""
        state = self.states.get(topic)
        if state is not None:
            return state
        host = self.host
        if host is None or topic == NO_MARKET or not host.is_subscribed(BOOK_STREAM):
            return None
        if self.market not in (MARKET_ALL, topic):
            return None
        if len(self.states) >= self.max_books:
            raise RemoteProtocolError(
                f"book message on a new market {topic!r:.40} beyond {self.max_books} books "
                "(limit max_subscriptions); dropped"
            )
        book = OrderBook(max_levels=self.max_levels) if self.maintain else None
        if book is not None:
            book.stale = True  # nothing to trust before its first snapshot
        state = self.states[topic] = BookState(book)
        return state

    def resubscribed(self, topic: str) -> None:
        """``publicOrderBook`` is active (again): snapshot every book this connection
        can have (the connection's market; with ``market=ALL``, those known so far)."""
        if topic != BOOK_STREAM or self.host is None:
            return
        markets = list(self.states) if self.market == MARKET_ALL else [self.market]
        for market in markets:
            state = self.state(market)
            if state is not None:
                self._ask(market, state, force=True)

    def forget(self, topic: str) -> None:
        if topic == BOOK_STREAM:
            self.states.clear()
            self._asking.clear()

    def connection_lost(self, keep: set[str]) -> None:
        self._asking.clear()  # our requests died with the connection
        if BOOK_STREAM not in keep:
            self.states.clear()
            return
        for state in self.states.values():
            self._lost(state)

    # -- messages ------------------------------------------------------------------------------

    def on_delta(self, message: Any, now: float) -> None:
        """A delta the codec's shortcut did not take: a kept book, a stale or unknown
        one, or a market nobody keeps."""
        self.clock = now
        market = self._market_of(message)
        state = self.state(market)
        if state is None:
            self.emit(message)
            return
        if state.stale or state.last is UNKNOWN_STATE:
            self.on_message(message, now)  # held until the snapshot
            self._ask(market, state)
            return
        book = state.book
        if book is not None:
            try:
                apply_levels(book, message, False)
            except RemoteProtocolError as exc:
                error = self.broken(state, market, exc)
                self._ask(market, state, force=True)
                raise error from None
        self.emit(message)
        if book is not None and (state.crossed or book.is_crossed()):
            self.check_crossed(state, market)

    def on_snapshot(self, message: Any, now: float) -> None:
        self.clock = now
        host = self.host
        assert host is not None
        market = self._market_of(message)
        request_id = message.data.client_request_id
        if request_id is None:
            request_id = self.asks.take("emitPublicOrderBook", message.market or self.market, host)
        if request_id is not None:
            host.answered(Answer(request_id=request_id, result=message), now)
        if self._asking.get(market) == request_id:
            self._asking.pop(market, None)
        try:
            self.on_message(message, now)
        except RemoteProtocolError:
            state = self.states.get(market)
            if state is not None:
                self._ask(market, state, force=True)
            raise

    def suspect_all(self) -> None:
        """A message could not be read (it may have been a delta): every trusted book
        is stale; its snapshot is asked for at the next delta or timer."""
        for state in self.states.values():
            if not state.stale and state.last is not UNKNOWN_STATE:
                self.mark_stale(state)

    def tick(self, now: float) -> None:
        """The machine's timer: ask for the snapshot of every book that waits for one
        and has no request of ours open (a quiet market sends no delta to prompt it)."""
        self.clock = now
        for market, state in self.states.items():
            if state.stale or state.last is UNKNOWN_STATE:
                self._ask(market, state)

    def doubt(self, topic: str, now: float) -> None:
        """You suspect ``topic``'s book (a market) missed a delta: it is stale until a
        fresh snapshot, which the machine asks for now."""
        self.clock = now
        state = self.states.get(topic)
        if state is not None:
            self._ask(topic, state, force=True)

    def _ask(self, market: str, state: BookState, *, force: bool = False) -> None:
        """Ask for ``market``'s snapshot unless one of ours is open; ``force``: the book
        is stale from now on (a reconnect, a doubt, a refused delta)."""
        host = self.host
        assert host is not None
        if force and state.last is not UNKNOWN_STATE and not state.stale:
            self.mark_stale(state)
        asking = self._asking.get(market)
        if asking is not None and host.is_open(asking):
            return
        command = EmitPublicOrderBook(market=None if self.market != MARKET_ALL else market)
        request_id = host.request(command, self.clock)
        if request_id is None:
            self._asking.pop(market, None)
            return
        self._asking[market] = request_id


def _is_snapshot(message: Any) -> bool:
    return isinstance(message, BookSnapshot)


def trusted_unkept(books: RailsBooks) -> Callable[[str | None], bool]:
    """Whether a market's delta takes the shortcut: its book is trusted (its snapshot
    came, no doubt since) and not kept, so the delta is an event and nothing else."""
    states = books.states
    default = books.market
    unknown = UNKNOWN_STATE

    def trusted(market: str | None) -> bool:
        state = states.get(market or default)
        return (
            state is not None
            and state.book is None
            and state.last is not unknown
            and not state.stale
        )

    return trusted


def hot_decoder(books: RailsBooks, host: SessionHost) -> Callable[[Any], Any]:
    """``decode_inbound`` that queues a delta of a trusted, unkept book itself."""
    union = _UNION.decode
    slow = decode_inbound
    queue = host.event_queue
    delta = BookDelta
    trusted = trusted_unkept(books)
    errors = (msgspec.DecodeError,)

    def decode(data: Any) -> Any:
        try:
            message = union(data)
        except errors:
            try:
                return slow(data)  # the fallbacks, or the RemoteProtocolError
            except RemoteProtocolError:
                books.suspect_all()  # it may have been a delta: no book is trusted now
                raise
        if type(message) is delta and trusted(message.market):
            queue.items.append(message)
            return HANDLED
        return message

    return decode


def delta_handler(books: RailsBooks, host: SessionHost) -> Handler:
    """The delta handler: the shortcut ``hot_decoder`` takes (a trusted, unkept book's
    delta is queued as it is), else :meth:`RailsBooks.on_delta`.  A delta reaches it
    when the machine decoded a read at once (``pure_decode``), or when the shortcut
    did not apply."""
    queue = host.event_queue
    trusted = trusted_unkept(books)
    on_delta = books.on_delta

    def handle(message: Any, now: float) -> None:
        if trusted(message.market):
            queue.items.append(message)
            return
        on_delta(message, now)

    return handle


_DELTA = msgspec.json.Decoder(BookDelta)
_DELTA_START = b'{"resultType":"publicOrderBookDelta"'
"""How the venue starts a delta (``resultType`` first): a read that starts otherwise is
not tried as a run of deltas (a refused decode costs more than the look)."""


def delta_taker(books: RailsBooks, host: SessionHost) -> Take:
    """The book shortcut over a read (``ClientCodec.take``): a run of deltas (from a
    message that starts as :data:`_DELTA_START`) whose books are trusted and unkept,
    decoded by the delta decoder in one C loop (it stops at the first message that is
    not a delta) and queued as they are, exactly what ``hot_decoder`` does to each; the
    first other message, or the first delta of another book, is left to the machine's
    decoded read (``pure_decode``)."""
    queue = host.event_queue
    trusted = trusted_unkept(books)
    decode = _DELTA.decode
    errors = (msgspec.DecodeError, UnicodeError, RecursionError)

    def take(messages: Sequence[Any], start: int, stop: int) -> int:
        first = messages[start]
        if type(first) is not bytes or not first.startswith(_DELTA_START):
            return start  # not a delta as the venue writes them: no decode tried
        items = queue.items
        before = len(items)
        try:  # noqa: SIM105 (a try costs nothing; suppress is two Python calls)
            items.extend(map(decode, islice(messages, start, stop)))
        except errors:
            pass  # the ones before it are deltas; it is left to the decoded read
        taken = len(items) - before
        if taken:
            markets = set(map(_MARKET, islice(items, before, None)))
            if len(markets) != 1 or not trusted(markets.pop()):
                for k in range(taken):  # up to the first delta of a book not trusted
                    if not trusted(_MARKET(items[before + k])):
                        del items[before + k :]
                        return start + k
        return start + taken

    return take
