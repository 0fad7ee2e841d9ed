"""A small Deribit venue for the binding tests, served by any binding's ``serve()``.

Adapted from ``tests/protocol/deribit/support_server.py``'s ``MiniVenue`` for real
sockets, until the reference venue (``tradewire.conformance.deribit``) lands: one
:class:`ServerState` shared by a :class:`ServerProtocol` per WebSocket and an
:class:`HTTPServerConnection` per HTTP connection, on one port (``route_upgrade``),
answered by :meth:`DeribitVenue.on_events`:

* ``public/ticker``, ``private/get_account_summary``, ``public/status``: typed results
  (a method in :attr:`DeribitVenue.abort_after` then has its connection dropped, no
  close frame, as a venue fault would);
* subscribe calls: every candidate is accepted; a new ``book.{instrument}.{interval}``
  channel gets a snapshot, then (with ``tick``) a change every ``tick`` seconds, each
  continuing its ``change_id`` chain;
* every request the machines see is logged per connection (:attr:`DeribitVenue.log`:
  ``public/auth`` with its grant, subscribe calls with their channels, ...);
* :meth:`VenueSocket.silence` turns a connection into a zombie: it stops reading,
  writing and answering but never closes (a venue that hangs).

``now`` is the serving binding's clock; ``epoch_offset`` (the binding's
``epoch_offset()``) makes it epoch time for signatures, ``usIn`` and book timestamps.
Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import msgspec

from tradewire.bindings import UpgradeOrHTTP, route_upgrade
from tradewire.protocol import Event, WebSocketClosed, WebSocketServerStack
from tradewire.protocol.deribit import (
    ClientProtocol,
    Credentials,
    parse_channel,
)
from tradewire.protocol.deribit.server import (
    AcceptSubscription,
    Disconnect,
    HTTPServerConnection,
    Notify,
    Reply,
    ReplyError,
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
    SubscribeReceived,
    Unsubscribed,
)

CLIENT_ID = "tradewire-test"
SECRET = "s3cret-tradewire-test-key"

TICKER = {
    "instrument_name": "BTC-PERPETUAL",
    "timestamp": 0,
    "state": "open",
    "best_bid_price": 100.0,
    "best_bid_amount": 10.0,
    "best_ask_price": 100.5,
    "best_ask_amount": 20.0,
    "last_price": 100.25,
    "mark_price": 100.2,
    "index_price": 100.1,
    "min_price": 95.0,
    "max_price": 105.0,
    "stats": {"high": 101.0, "low": 99.0, "volume": 12.5},
}
SUMMARY = {
    "currency": "BTC",
    "balance": 1.5,
    "equity": 1.5,
    "available_funds": 1.25,
    "margin_balance": 1.5,
    "initial_margin": 0.25,
    "maintenance_margin": 0.125,
}


class RecordingServerProtocol(ServerProtocol):
    """A :class:`ServerProtocol` that logs each request's method (and what matters of
    its params) before answering it as usual."""

    log: list[tuple[int, str, Any]]

    def receive_message(self, data: bytes | str, now: float) -> None:
        try:
            message = msgspec.json.decode(data)
            method = message["method"]
            params = message.get("params") or {}
        except (msgspec.DecodeError, KeyError, TypeError, AttributeError):
            method, params = "?", {}
        if method == "public/auth":
            detail: Any = params.get("grant_type")
        elif method.endswith("subscribe"):
            detail = tuple(params.get("channels", ()))
        else:
            detail = None
        self.log.append((self.connection_id, method, detail))
        super().receive_message(data, now)


class VenueSocket:
    """One WebSocket of the venue (its server stack), with a switch that makes it a
    zombie: silent, deaf and never closing."""

    def __init__(self, stack: WebSocketServerStack) -> None:
        self.stack = stack
        self.silent = False

    @property
    def machine(self) -> RecordingServerProtocol:
        machine = self.stack.machine
        assert isinstance(machine, RecordingServerProtocol)
        return machine

    def silence(self) -> None:
        self.silent = True

    @property
    def should_close_transport(self) -> bool:
        return False if self.silent else self.stack.should_close_transport

    def connection_made(self, now: float) -> None:
        self.stack.connection_made(now)

    def receive_data(self, data: bytes, now: float) -> None:
        if not self.silent:
            self.stack.receive_data(data, now)

    def data_to_send(self) -> bytes:
        return b"" if self.silent else self.stack.data_to_send()

    def events(self) -> list[Event]:
        return self.stack.events()

    def handle_timer(self, now: float) -> None:
        if not self.silent:
            self.stack.handle_timer(now)

    def next_deadline(self) -> float | None:
        return None if self.silent else self.stack.next_deadline()

    def connection_lost(self, now: float) -> None:
        self.stack.connection_lost(now)

    def send(self, command: Any, now: float) -> Any:
        return self.stack.send(command, now)


class DeribitVenue:
    """Factory, ``on_events`` and application timer for ``serve()`` (module docstring)."""

    def __init__(self, epoch_offset: float, *, tick: float | None = None) -> None:
        self.state = ServerState(ServerConfig(epoch_offset=epoch_offset), rng=random.Random(7))
        self.state.add_client(CLIENT_ID, SECRET)
        self.tick = tick
        self.sockets: list[VenueSocket] = []
        self.http: list[HTTPServerConnection] = []
        self.log: list[tuple[int, str, Any]] = []
        self.closed: list[WebSocketClosed] = []
        self.abort_after: set[str] = set()
        self._books: dict[VenueSocket, dict[str, int]] = {}
        self._next_tick: float | None = None
        self._change_id = 1000

    @property
    def factory(self) -> Callable[[str | None], UpgradeOrHTTP[VenueSocket, HTTPServerConnection]]:
        return route_upgrade(self._websocket, self._http)

    def _websocket(self, peer: str | None) -> VenueSocket:
        machine = RecordingServerProtocol(self.state, peer=peer)
        machine.log = self.log
        socket = VenueSocket(WebSocketServerStack(machine, peer=peer))
        self.sockets.append(socket)
        return socket

    def _http(self, peer: str | None) -> HTTPServerConnection:
        conn = HTTPServerConnection(self.state, peer=peer)
        self.http.append(conn)
        return conn

    def requests(self, connection: int) -> list[tuple[str, Any]]:
        """``(method, detail)`` of every request the ``connection``-th WebSocket got."""
        wanted = self.sockets[connection].machine.connection_id
        return [(method, detail) for cid, method, detail in self.log if cid == wanted]

    # -- answering ------------------------------------------------------------------------

    def on_events(self, conn: Any, events: list[Event], now: float) -> None:
        stack = conn.stack if isinstance(conn, UpgradeOrHTTP) else conn
        for event in events:
            if isinstance(event, SubscribeReceived):
                self._subscribe(stack, event, now)
            elif isinstance(event, RequestReceived):
                self._answer(stack, event, now)
            elif isinstance(event, Unsubscribed):
                books = self._books.get(stack, {})
                for channel in event.channels:
                    books.pop(channel, None)
            elif isinstance(event, WebSocketClosed):
                self.closed.append(event)

    def _answer(self, stack: Any, event: RequestReceived, now: float) -> None:
        method = event.method
        if method == "public/ticker":
            result: Any = dict(TICKER, timestamp=self.state.epoch_ms(now))
        elif method == "private/get_account_summary":
            result = SUMMARY
        elif method == "public/status":
            result = {"locked": "false", "locked_indices": []}
        else:
            stack.send(ReplyError(request_id=event.request_id, code=-32601), now)
            return
        stack.send(Reply(request_id=event.request_id, result=result), now)
        if method in self.abort_after and isinstance(stack, VenueSocket):
            stack.send(Disconnect(abort=True), now)

    def _subscribe(self, stack: VenueSocket, event: SubscribeReceived, now: float) -> None:
        stack.send(AcceptSubscription(request_id=event.request_id, channels=event.channels), now)
        books = self._books.setdefault(stack, {})
        for name in event.channels:
            channel = parse_channel(name)
            if channel.family.value != "book" or name in books:
                continue
            self._change_id += 1
            books[name] = self._change_id
            snapshot = {
                "type": "snapshot",
                "instrument_name": channel.instrument,
                "timestamp": self.state.epoch_ms(now),
                "change_id": self._change_id,
                "bids": [["new", 100.0, 10.0], ["new", 99.5, 5.0]],
                "asks": [["new", 100.5, 20.0], ["new", 101.0, 7.0]],
            }
            stack.send(Notify(channel=name, data=snapshot), now)
        if self.tick is not None and self._next_tick is None:
            self._next_tick = now + self.tick

    # -- the application timer: book changes -------------------------------------------------

    def next_deadline(self) -> float | None:
        return self._next_tick

    def handle_timer(self, now: float) -> None:
        if self._next_tick is None or now < self._next_tick or self.tick is None:
            return
        self._next_tick = now + self.tick
        for stack, books in self._books.items():
            if stack.silent or not stack.machine.is_open:
                continue
            for name, last in books.items():
                self._change_id += 1
                change = {
                    "type": "change",
                    "instrument_name": parse_channel(name).instrument,
                    "timestamp": self.state.epoch_ms(now),
                    "change_id": self._change_id,
                    "prev_change_id": last,
                    "bids": [["change", 100.0, float(self._change_id % 50 + 1)]],
                    "asks": [],
                }
                books[name] = self._change_id
                stack.send(Notify(channel=name, data=change), now)


# -- the client side ---------------------------------------------------------------------

#: A public book, a raw book (needs an authenticated connection) and a private channel.
CHANNELS = (
    "book.BTC-PERPETUAL.100ms",
    "book.ETH-PERPETUAL.raw",
    "user.orders.BTC-PERPETUAL.raw",
)


def credentials() -> Credentials:
    return Credentials(client_id=CLIENT_ID, client_secret=SECRET)


def client_machine(**options: Any) -> ClientProtocol:
    """The real Deribit client machine, logging in with ``client_signature``."""
    options.setdefault("credentials", credentials())
    return ClientProtocol(**options)


def subscribe_calls(requests: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [(m, d) for m, d in requests if m in ("public/subscribe", "private/subscribe")]
