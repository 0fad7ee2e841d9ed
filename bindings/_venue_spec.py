"""What the command line and the pytest plugin need to know about one venue: :class:`VenueEntry`.

A venue joins ``tradewire serve | stream | replay | demo`` and the pytest plugin by one
entry in the registry (``tradewire.bindings._venues``).  The entry is data plus small
functions; none of them does I/O:

* ``client(credentials=..., maintain_books=..., **options)``: the venue's client machine;
  ``credentials(client_id, secret)`` turns a key pair into what ``client`` takes;
* ``subscribe(topics)``: the command subscribing to checked topics;
  ``check_topic(topic)``: ``True`` when the topic needs an authenticated connection,
  :class:`~tradewire.protocol.LocalProtocolError` (one line, naming the topic) when it is
  not a topic of this venue;
* ``reference(ReferenceOptions)``: the conformance kit's reference venue, the object
  ``serve()`` drives (:class:`ReferenceVenue`), or ``None`` for a venue without one;
  ``connections(venue)``: its ``serve()`` connection factory (WebSocket and HTTP on one
  port by default);
* ``urls``: where the venue serves (:class:`URLShape`: the WebSocket path and query, and
  the REST paths under the HTTP base, if it has any);
* ``transcripts()``: the venue's transcript adapter for ``tradewire replay``;
* ``demo``: the key pair its reference venue registers for everyone; ``run_demo(seed,
  out)``: its ``tradewire demo VENUE`` (a coroutine; an int it returns is the exit code;
  ``None``: it has none of its own, Deribit's demo is the default);
* ``secret_only``: the venue's credential is one token (Deriv's API token), so
  ``tradewire stream`` takes ``--client-secret`` alone and ``credentials`` gets ``""``
  as the client id;
* ``connect(binding, url, machine, http_url=, credentials=, **options)``: how a client
  of this venue connects with a binding, for a venue whose WebSocket needs more than
  the binding's ``connect`` (Rails fetches its token over HTTP first and keeps it
  fresh); ``None``: ``binding.connect(url, machine, **options)``
  (:func:`~tradewire.bindings._venues.open_client` picks);
* ``lines(event, machine)``: the stream lines of an event (see below).

The stream line format, the same for every venue (``tradewire stream`` without
``--json``).  One event gives one or more lines on stdout, each ``KIND TOPIC ...``:

============================================ ================================================
``book TOPIC bid PxQ ask PxQ``               the best bid and ask of the book the client
                                             maintains, after the update (``-`` for an empty
                                             side); nothing while the book is stale
``trade TOPIC SIDE PxQ``                     one line per trade; ``SIDE`` is the taker's,
                                             ``buy`` or ``sell``
``ticker TOPIC bid PxQ ask PxQ last P``      the ticker's best bid and ask and last price
``EVENT TOPIC JSON``                         any other channel event: its type name and its
                                             data as JSON
============================================ ================================================

``P`` is a price and ``Q`` an amount in the venue's own units, written as the shortest
decimal that reads back as the same float (``60000``, ``60000.5``, ``0.0012``).  Events
that are about the session (connected, authenticated, a book gap, a resync, a
reconnect) are not stream lines: ``lines`` returns ``None`` and the stream prints a
status line on stderr.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from tradewire.conformance import Fault, FaultPlan
from tradewire.conformance._transcripts import VenueAdapter
from tradewire.protocol import ClientMachine, Command, Event, Secret

from ._common import ServerConnection

__all__ = [
    "Level",
    "ReferenceOptions",
    "ReferenceVenue",
    "URLShape",
    "VenueEntry",
    "book_line",
    "number",
    "ticker_line",
    "trade_line",
]

Level = tuple[float, float]
"""``(price, amount)``."""


class ReferenceVenue(Protocol):
    """A reference venue as ``serve()`` and the pytest plugin drive it."""

    @property
    def sockets(self) -> Mapping[int, Any]:
        """Its WebSocket connections by id (each with ``machine.is_open``)."""

    def websocket_connection(self, peer: str | None = None) -> Any: ...

    def on_events(self, connection: object, events: Sequence[Event], now: float) -> None: ...

    def next_deadline(self) -> float | None: ...

    def handle_timer(self, now: float) -> None: ...

    def inject(self, connection_id: int, fault: Fault | str, now: float) -> None: ...


@dataclass(frozen=True)
class ReferenceOptions:
    """What a reference venue is started with.

    ``now`` is the serving binding's clock, ``epoch_offset`` that binding's
    ``epoch_offset()`` (so the venue speaks epoch time to clients that sign with it);
    ``market`` is the venue's market config (``None``: its default), whose seed is
    replaced by ``seed``.
    """

    now: float
    epoch_offset: float
    seed: int = 1
    faults: FaultPlan = field(default_factory=FaultPlan)
    market: Any = None


@dataclass(frozen=True)
class URLShape:
    """Where a venue serves, relative to ``scheme://host:port``.

    ``ws_path`` and ``ws_query`` make the WebSocket URL (Deribit ``/ws/api/v2``; a venue
    at the root says ``/``; a venue that takes its topics in the query string sets
    ``ws_query``); ``rest`` describes the REST paths under the HTTP base for help texts
    (Deribit ``/api/v2/{public|private}/{method}``), ``None`` when the venue serves no
    HTTP.
    """

    ws_path: str
    ws_query: str = ""
    rest: str | None = None

    def ws_url(self, host: str, port: int, *, secure: bool = False) -> str:
        query = f"?{self.ws_query}" if self.ws_query else ""
        return f"{'wss' if secure else 'ws'}://{_host(host)}:{port}{self.ws_path}{query}"

    def http_url(self, host: str, port: int, *, secure: bool = False) -> str | None:
        """The HTTP base (``http://host:port``), ``None`` without REST."""
        if self.rest is None:
            return None
        return f"{'https' if secure else 'http'}://{_host(host)}:{port}"


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def _both_on_one_port(venue: Any) -> Callable[[str | None], ServerConnection]:
    from ._route import route_upgrade

    return route_upgrade(venue.websocket_connection, venue.http_connection)


@dataclass(frozen=True)
class VenueEntry:
    """One venue, as the command line and the pytest plugin see it (module docstring)."""

    name: str
    title: str
    client: Callable[..., ClientMachine]
    credentials: Callable[[str, Secret], Any]
    subscribe: Callable[[Sequence[str]], Command]
    check_topic: Callable[[str], bool]
    urls: URLShape
    lines: Callable[[Event, ClientMachine], list[str] | None]
    reference: Callable[[ReferenceOptions], ReferenceVenue] | None = None
    connections: Callable[[Any], Callable[[str | None], ServerConnection]] = _both_on_one_port
    transcripts: Callable[[], VenueAdapter] | None = None
    demo: tuple[str, str] | None = None
    run_demo: Callable[[int, TextIO], Coroutine[Any, Any, int | None]] | None = None
    connect: Callable[..., AbstractAsyncContextManager[Any]] | None = None
    secret_only: bool = False


# -- the stream line format -------------------------------------------------------------------


def number(value: float) -> str:
    """The shortest decimal that reads back as ``value`` (``60000``, ``0.0012``)."""
    if not math.isfinite(value):
        return str(value)
    text = repr(float(value))
    if "e" in text or "E" in text:
        text = f"{value:f}".rstrip("0").rstrip(".")
    return text[:-2] if text.endswith(".0") else text


def _level(level: Level | None) -> str:
    return "-" if level is None else f"{number(level[0])}x{number(level[1])}"


def book_line(topic: str, bid: Level | None, ask: Level | None) -> str:
    return f"book {topic} bid {_level(bid)} ask {_level(ask)}"


def trade_line(topic: str, side: str, price: float, amount: float) -> str:
    return f"trade {topic} {side} {number(price)}x{number(amount)}"


def ticker_line(topic: str, bid: Level | None, ask: Level | None, last: float | None) -> str:
    shown = "-" if last is None else number(last)
    return f"ticker {topic} bid {_level(bid)} ask {_level(ask)} last {shown}"
