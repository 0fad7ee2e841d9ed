"""The server side every binding shares: what happens after anything runs.

:class:`ServerHub` owns the accepted connections' objects (what the factory returned)
and the rules of driving them; a binding supplies one :class:`ServerLink` per
accepted transport and the clock.  The rules:

* after a connection's input (bytes, a timer, its loss) its events go to
  ``on_events(connection, events, now)``, or are drained and dropped without it;
* after ``on_events``, ``on_backlog`` or the application timer ran, every connection
  the application wrote to is settled: its new events delivered, its bytes flushed,
  its close honoured, its timer re-armed (repeated while that gives more work, up to a
  bound of rounds).  Which ones: a connection object whose class declares ``wakeup`` gets
  a callable there that it calls when application code queued something on it (the
  WebSocket and HTTP server stacks and ``UpgradeOrHTTP`` do), so the cost of an event
  follows the connections it touched, not the connections open.  An object without
  ``wakeup``, or an ``UpgradeOrHTTP`` whose stack has none (it says so with
  ``tracked = False``), is settled after every application callback, as it cannot say;
* the bytes connections hold for unfinished input (``buffered`` on the connection
  object: an incomplete message, request head or body) are bounded together by
  ``max_held_input``: past it, the connection that has held input the longest is
  dropped, so hostile connections that never finish a message cannot exhaust memory
  however many there are;
* a connection whose unsent output passes ``max_write_buffer`` is dropped (a venue
  drops a client that does not read); below that, if ``app`` has an ``on_backlog``
  method, it is told after every write that leaves bytes unsent:
  ``app.on_backlog(connection, waiting, now)``, so a venue can close a slow reader its
  own way first (the reference Deribit venue's ``connection_too_slow``);
* exceptions from the factory, ``on_events`` or the application timer are logged
  (logger ``tradewire.bindings``) and drop the connection concerned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Protocol

from tradewire.protocol import Event, RemoteProtocolError, redact

from ._common import (
    DEFAULT_MAX_HELD_INPUT,
    AppTimer,
    EventsCallback,
    ServerConnection,
    tracks_work,
)

__all__ = ["ServerHub", "ServerLink"]

logger = logging.getLogger("tradewire.bindings")

_SETTLE_ROUNDS = 100


class ServerLink(Protocol):
    """A binding's handle on one accepted transport."""

    conn: ServerConnection | None
    done: bool

    def push(self, data: bytes) -> int:
        """Queue ``data`` for writing; returns the bytes now waiting to be written."""

    def shut(self, abort: bool) -> None:
        """Flush and close the transport, or abort it at once."""

    def arm(self, deadline: float | None) -> None:
        """Call ``hub.timer(link, now)`` no later than ``deadline`` (earlier is harmless)."""


def _noop() -> None:
    pass


class ServerHub:
    """The connections of one server and the rules of driving them (see module doc)."""

    def __init__(
        self,
        factory: Callable[[str | None], ServerConnection],
        *,
        on_events: EventsCallback | None,
        app: AppTimer | None,
        max_write_buffer: int,
        max_held_input: int = DEFAULT_MAX_HELD_INPUT,
    ) -> None:
        self.factory = factory
        self.on_events = on_events
        self.app = app
        self.max_write_buffer = max_write_buffer
        self.max_held_input = max_held_input
        self.links: set[ServerLink] = set()
        self._work: dict[ServerLink, None] = {}  # woken since they were last settled
        self._untracked: dict[ServerLink, None] = {}  # cannot say: settled every time
        self._dirty = False  # application code ran since the last settle
        #: Bytes of unfinished input per connection holding some, oldest holder first.
        self._held: dict[ServerLink, int] = {}
        self.held_input = 0
        #: Connections visited by settling (delivering and flushing), for tests.
        self.settled = 0
        self._on_backlog: Callable[[ServerConnection, int, float], None] | None = getattr(
            app, "on_backlog", None
        )
        #: Set by the binding: re-read ``app.next_deadline()`` (it may have moved earlier).
        self.rearm_app: Callable[[], None] = _noop

    @property
    def connections(self) -> list[ServerConnection]:
        return [link.conn for link in self.links if link.conn is not None and not link.done]

    # -- inputs ---------------------------------------------------------------------------

    def open(self, link: ServerLink, peer: str | None, now: float) -> None:
        """A transport is up (TLS handshaken): build its connection object."""
        self.links.add(link)
        try:
            conn = self.factory(peer)
            conn.connection_made(now)
        except Exception:
            logger.exception("connection factory failed; dropping the connection")
            self.links.discard(link)
            link.done = True
            link.shut(True)
            return
        link.conn = conn
        if tracks_work(conn):
            conn.wakeup = partial(self._wake, link)  # type: ignore[attr-defined]
        else:
            self._untracked[link] = None
        self._step(link, now)

    def receive(self, link: ServerLink, data: bytes, now: float) -> None:
        conn = link.conn
        if conn is None or link.done:
            return
        try:
            conn.receive_data(data, now)
        except RemoteProtocolError as exc:
            peer = getattr(conn, "peer", None)
            logger.debug("peer %r broke the protocol: %s", peer, redact(str(exc)))
        self._step(link, now)

    def timer(self, link: ServerLink, now: float) -> None:
        conn = link.conn
        if conn is None or link.done:
            return
        conn.handle_timer(now)
        self._step(link, now)

    def lost(self, link: ServerLink, now: float) -> None:
        """The transport went away by itself (reset, EOF the stack did not act on ...)."""
        self._forget(link)
        if link.done:
            return
        link.done = True
        conn = link.conn
        if conn is not None:
            conn.connection_lost(now)
            self._dispatch(link, conn.events(), now)
            if self._has_work():
                self.settle(now)

    def app_timer(self, now: float) -> None:
        app = self.app
        if app is None:
            return
        try:
            app.handle_timer(now)
        except Exception:
            logger.exception("the application timer failed")
        self._dirty = True
        self.settle(now)

    def close_all(self, now: float) -> None:
        """Drop every connection (no close handshakes): the server is closing."""
        for link in list(self.links):
            self.drop(link, now, abort=True)

    # -- the rules ------------------------------------------------------------------------

    def _wake(self, link: ServerLink) -> None:
        self._work[link] = None

    def _has_work(self) -> bool:
        return bool(self._work) or (self._dirty and bool(self._untracked))

    def _forget(self, link: ServerLink) -> None:
        self.links.discard(link)
        self._work.pop(link, None)
        self._untracked.pop(link, None)
        held = self._held.pop(link, None)
        if held is not None:
            self.held_input -= held

    def _hold(self, link: ServerLink, held: int, now: float) -> None:
        """``link`` now holds ``held`` bytes of unfinished input; past
        ``max_held_input`` in all, drop the longest holders."""
        old = self._held.get(link)
        if held:
            self._held[link] = held  # a holder keeps its place in the age order
            self.held_input += held - (old or 0)
        elif old is not None:
            del self._held[link]
            self.held_input -= old
        while self.held_input > self.max_held_input and self._held:
            oldest = next(iter(self._held))
            conn = oldest.conn
            logger.warning(
                "unfinished input held by all connections passed max_held_input=%d; "
                "dropping peer %r, which has held input the longest",
                self.max_held_input,
                getattr(conn, "peer", None),
            )
            self.drop(oldest, now, abort=True)

    def _step(self, link: ServerLink, now: float) -> None:
        conn = link.conn
        assert conn is not None
        held = getattr(conn, "buffered", 0)
        if held or link in self._held:
            self._hold(link, held, now)
        self._dispatch(link, conn.events(), now)
        self._flush(link, now)
        if self._has_work():
            self.settle(now)

    def _dispatch(self, link: ServerLink, events: list[Event], now: float) -> None:
        """Hand ``events`` to ``on_events`` (or drop them without it)."""
        on_events = self.on_events
        if not events or on_events is None:
            return
        self._dirty = True
        try:
            on_events(link.conn, events, now)
        except Exception:
            logger.exception("on_events failed; dropping the connection")
            self.drop(link, now, abort=True)

    def settle(self, now: float) -> None:
        """Deliver the events of the connections with work and flush them, until quiet."""
        for _ in range(_SETTLE_ROUNDS):
            batch = self._work
            self._work = {}
            if self._dirty and self._untracked:
                batch = {**batch, **self._untracked}
            self._dirty = False
            if not batch:
                break
            for link in batch:
                conn = link.conn
                if conn is None or link.done:
                    continue
                self.settled += 1
                self._dispatch(link, conn.events(), now)
                self._flush(link, now)
        self._dirty = False
        self.rearm_app()

    def _flush(self, link: ServerLink, now: float) -> None:
        conn = link.conn
        if conn is None or link.done:
            return
        out = conn.data_to_send()
        if out:
            waiting = link.push(out)
            if waiting > self.max_write_buffer:
                logger.warning("peer %r reads too slowly; dropping it", getattr(conn, "peer", None))
                self.drop(link, now, abort=True)
                return
            if waiting and self._on_backlog is not None and not self._backlog(link, waiting, now):
                return
        if conn.should_close_transport:
            self.drop(link, now, abort=False)
            return
        if link not in self._untracked and not getattr(conn, "tracked", True):
            self._untracked[link] = None  # an UpgradeOrHTTP whose stack cannot say
        link.arm(conn.next_deadline())

    def _backlog(self, link: ServerLink, waiting: int, now: float) -> bool:
        """Tell ``app.on_backlog``; ``False`` when it failed and the link was dropped."""
        assert self._on_backlog is not None
        assert link.conn is not None
        self._dirty = True  # it may write (a close frame): settle flushes that
        try:
            self._on_backlog(link.conn, waiting, now)
        except Exception:
            logger.exception("on_backlog failed; dropping the connection")
            self.drop(link, now, abort=True)
            return False
        return True

    def drop(self, link: ServerLink, now: float, *, abort: bool) -> None:
        """Close the transport (flushing unless ``abort``) and tell the connection."""
        self._forget(link)
        if link.done:
            return
        link.done = True
        link.shut(abort)
        conn = link.conn
        if conn is not None:
            conn.connection_lost(now)
            self._dispatch(link, conn.events(), now)

    def next_app_deadline(self) -> float | None:
        return self.app.next_deadline() if self.app is not None else None
