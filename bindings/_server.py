"""The server side every binding shares: what happens after anything runs.

:class:`ServerHub` owns the accepted connections' objects (what the factory returned)
and the rules of driving them; a binding supplies one :class:`ServerLink` per
accepted transport and the clock.  The rules:

* after a connection's input (bytes, a timer, its loss) its events go to
  ``on_events(connection, events, now)``, or are drained and dropped without it;
* after ``on_events`` or the application timer ran, *every* connection is settled:
  its new events delivered, its bytes flushed, its close honoured, its timer re-armed,
  because application code may have written to any connection through its stack
  (repeated while that produces events, up to a bound of rounds);
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
from typing import Protocol

from tradewire.protocol import Event, RemoteProtocolError

from ._common import AppTimer, EventsCallback, ServerConnection

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
    ) -> None:
        self.factory = factory
        self.on_events = on_events
        self.app = app
        self.max_write_buffer = max_write_buffer
        self.links: set[ServerLink] = set()
        self._dirty = False  # application code ran since the last settle
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
        self._step(link, now)

    def receive(self, link: ServerLink, data: bytes, now: float) -> None:
        conn = link.conn
        if conn is None or link.done:
            return
        try:
            conn.receive_data(data, now)
        except RemoteProtocolError as exc:
            logger.debug("peer %r broke the protocol: %s", getattr(conn, "peer", None), exc)
        self._step(link, now)

    def timer(self, link: ServerLink, now: float) -> None:
        conn = link.conn
        if conn is None or link.done:
            return
        conn.handle_timer(now)
        self._step(link, now)

    def lost(self, link: ServerLink, now: float) -> None:
        """The transport went away by itself (reset, EOF the stack did not act on ...)."""
        self.links.discard(link)
        if link.done:
            return
        link.done = True
        conn = link.conn
        if conn is not None:
            conn.connection_lost(now)
            self._dispatch(link, conn.events(), now)
            if self._dirty:
                self.settle(now)

    def app_timer(self, now: float) -> None:
        app = self.app
        if app is None:
            return
        try:
            app.handle_timer(now)
        except Exception:
            logger.exception("the application timer failed")
        self.settle(now)

    def close_all(self, now: float) -> None:
        """Drop every connection (no close handshakes): the server is closing."""
        for link in list(self.links):
            self.drop(link, now, abort=True)

    # -- the rules ------------------------------------------------------------------------

    def _step(self, link: ServerLink, now: float) -> None:
        conn = link.conn
        assert conn is not None
        self._dispatch(link, conn.events(), now)
        self._flush(link, now)
        if self._dirty:
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
        """Deliver every connection's events and flush them, until quiet."""
        for _ in range(_SETTLE_ROUNDS):
            self._dirty = False
            for link in list(self.links):
                conn = link.conn
                if conn is None or link.done:
                    continue
                self._dispatch(link, conn.events(), now)
                self._flush(link, now)
            if not self._dirty:
                break
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
        self.links.discard(link)
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
