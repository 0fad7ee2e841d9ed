"""The reference Currency.com venue: the protocol machines driven by the simulated market.

:class:`CurrencycomVenue` owns a :class:`~tradewire.conformance.market.Market` with
Currency.com's catalog (``_catalog``) and a ``currencycom.server.ServerState`` (keys,
rate pools), builds the per-connection objects, answers what they report, and is the
application timer that moves the market and pushes its events:

* :meth:`CurrencycomVenue.websocket_connection` (``/connect``) and
  :meth:`CurrencycomVenue.http_connection` (``/api/v1/...``, ``/api/v2/...``) share one
  state: an order placed over REST shows in the account over WebSocket;
* pushes (spec 4.2), after each market tick: ``marketdepth.event`` with the whole book
  (20 levels a side) for every book that changed, ``internal.quote`` when the best
  levels moved, one ``internal.trade`` per public trade, and ``ohlc.event`` with the
  running bar of every subscribed interval of a symbol that traded or whose book moved;
* the exchange mode (SPOT symbols: balances move) and the leverage mode (``_LEVERAGE``
  symbols and ``Oil - Brent.``: positions) both come from the market.

Demo credentials (public on purpose, a local test double): API key ``tradewire-demo``,
secret ``tradewire-demo-secret``, account ``1``.

Faults (``FaultPlan``) are the venue-neutral engine's (``_fault_engine``) with
:class:`CurrencycomFaultHooks`: ``heartbeat`` ignores the next ``ping`` (the client's
pong deadline fires), ``ratelimit`` empties the pools the next request draws on (-1003),
fault targets name topics with ``.`` for ``:`` and ``_`` for ``/`` and spaces
(``duplicate:trades.BTC_USD``, ``_socket.fault_target``),
``gap`` is not applicable (every depth event is the whole book: refused when planned),
``expire`` does nothing (requests are signed one by one).  The rest (disconnect, zombie,
duplicate, reorder, malformed, stall) is the engine's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from tradewire.protocol import Event, LocalProtocolError
from tradewire.protocol.currencycom.server import (
    Broadcast,
    Reply,
    ReplyError,
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
    SessionClosed,
    SubscribeReceived,
    rate_keys,
)

from .. import market as mk
from .._fault_engine import FaultySocket
from .._faults import Fault, FaultPlan, with_faults
from .._venue_sockets import VenueSockets, one_fault
from ._catalog import currencycom_catalog, market_config
from ._methods import Methods, Refusal, book_payload, candle_payload
from ._socket import CurrencycomFaultHooks, VenueHTTP, currencycom_machine

__all__ = ["DEMO_ACCOUNT", "DEMO_KEY", "DEMO_SECRET", "CurrencycomVenue", "VenueConfig"]

DEMO_KEY = "tradewire-demo"
DEMO_SECRET = "tradewire-demo-secret"
DEMO_ACCOUNT = "1"
BOOK_DEPTH = 20


class VenueConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The market, the server settings, the keys registered at start and the faults."""

    market: mk.MarketConfig = msgspec.field(default_factory=market_config)
    server: ServerConfig = msgspec.field(default_factory=ServerConfig)
    keys: tuple[tuple[str, str, str], ...] = ((DEMO_KEY, DEMO_SECRET, DEMO_ACCOUNT),)
    faults: FaultPlan = msgspec.field(default_factory=FaultPlan)
    max_pending_bytes: int = 4 * 1024 * 1024


class CurrencycomVenue:
    """A faithful local Currency.com (see the module docstring)."""

    def __init__(
        self,
        config: VenueConfig | None = None,
        *,
        now: float = 0.0,
        faults: FaultPlan | str | None = None,
    ) -> None:
        config = with_faults(config if config is not None else VenueConfig(), faults)
        for fault in config.faults.faults:
            if fault.kind in ("gap", "expire"):
                raise LocalProtocolError(
                    f"invalid fault {fault.spec()!r}: Currency.com has no {fault.kind} "
                    "(every depth event is the whole book; requests are signed one by one)"
                )
        self.config = config
        self.birth = now
        self.market = mk.Market(config.market, catalog=currencycom_catalog(config.market), now=now)
        server = msgspec.structs.replace(
            config.server, epoch_offset=config.market.start_ms / 1000 - now
        )
        self.state = ServerState(server)
        for api_key, secret, account in config.keys:
            self.state.add_key(api_key, secret, account=account)
        self.methods = Methods(self.market)
        self.connections = VenueSockets(
            lambda peer: ServerProtocol(self.state, peer=peer),
            CurrencycomFaultHooks(self.state),
            config.faults,
            max_pending_bytes=config.max_pending_bytes,
            too_slow_code=1008,
            too_slow_reason="connection_too_slow",
        )
        self.sockets = self.connections.sockets  # connection id -> open WebSocket
        self._http: dict[int, VenueHTTP] = {}
        self._quotes: dict[str, tuple[Any, ...]] = {}

    def __repr__(self) -> str:
        return f"CurrencycomVenue(seed={self.config.market.seed}, websockets={len(self.sockets)})"

    @property
    def epoch_offset(self) -> float:
        """Epoch seconds minus the caller's clock (a client's ``epoch_offset``)."""
        return self.state.config.epoch_offset

    # -- connection factories ---------------------------------------------------------------

    @property
    def accepted(self) -> int:
        """WebSocket connections accepted so far."""
        return self.connections.accepted

    def websocket_connection(self, peer: str | None = None) -> FaultySocket:
        """A WebSocket connection; the ``serve()`` / ``route_upgrade`` factory."""
        return self.connections.open(peer)

    def http_connection(self, peer: str | None = None) -> VenueHTTP:
        connection = VenueHTTP(self.state, peer=peer, on_lost=self._http_lost)
        self._http[connection.connection_id] = connection
        return connection

    def _http_lost(self, connection_id: int) -> None:
        self._http.pop(connection_id, None)

    # -- the application timer --------------------------------------------------------------

    def next_deadline(self) -> float:
        return self.market.next_deadline()

    def handle_timer(self, now: float) -> None:
        self.publish(self.market.advance(now), now)

    def publish(self, events: Sequence[mk.MarketEvent], now: float) -> None:
        """Push what ``events`` changed to the subscribed connections (module docstring)."""
        books: dict[str, None] = {}
        trades: list[mk.PublicTrade] = []
        for record in events:
            if isinstance(record, mk.BookChange):
                books[record.instrument_name] = None
            elif isinstance(record, mk.PublicTrade):
                trades.append(record)
                books.setdefault(record.instrument_name, None)
        if not books:
            return
        sockets = [
            s for s in self.sockets.values() if s.machine.is_open and currencycom_machine(s).topics
        ]
        machines = [currencycom_machine(s) for s in sockets]
        if not machines:
            return
        # Broadcast: each notification is encoded (and framed) once for all subscribers
        for symbol in books:
            depth = Broadcast(book_payload(self.market, symbol, now, BOOK_DEPTH))
            data = self._quote(symbol, now)
            quote = Broadcast(data) if data is not None else None
            for machine in machines:
                machine.notify("depth:" + symbol, depth, now)
                if quote is not None:
                    machine.notify("quote:" + symbol, quote, now)
        for trade in trades:
            payload = Broadcast(
                {
                    "price": trade.price,
                    "size": trade.amount,
                    "id": trade.trade_seq,
                    "ts": trade.timestamp,
                    "symbol": trade.instrument_name,
                    "orderId": trade.trade_id,
                    "clientOrderId": trade.trade_id,
                    "buyer": trade.direction == "buy",
                }
            )
            for machine in machines:
                machine.notify("trades:" + trade.instrument_name, payload, now)
        for machine in machines:
            for topic in machine.topics:
                kind, _, rest = topic.partition(":")
                if kind not in ("ohlc", "heikin-ashi"):
                    continue
                interval, _, symbol = rest.partition(":")
                if symbol in books:
                    machine.notify(
                        topic, candle_payload(self.market, symbol, interval, kind, now), now
                    )
        for socket in sockets:
            socket.handle_timer(now)  # write what was queued (the stack sends on a pump)

    def _quote(self, symbol: str, now: float) -> dict[str, Any] | None:
        quote = self.market.quote(symbol)
        key = (
            quote.best_bid_price,
            quote.best_bid_amount,
            quote.best_ask_price,
            quote.best_ask_amount,
        )
        if self._quotes.get(symbol) == key:
            return None
        self._quotes[symbol] = key
        return self.quote_payload(symbol, now)

    def quote_payload(self, symbol: str, now: float) -> dict[str, Any]:
        """An ``internal.quote`` payload (spec 4.2: ``symbolName``, ``ofr``)."""
        quote = self.market.quote(symbol)
        return {
            "symbolName": symbol,
            "bid": quote.best_bid_price,
            "bidQty": quote.best_bid_amount,
            "ofr": quote.best_ask_price,
            "ofrQty": quote.best_ask_amount,
            "timestamp": self.market.timestamp(now),
        }

    # -- connection events ------------------------------------------------------------------

    def on_events(self, connection: object, events: Sequence[Event], now: float) -> None:
        self.handle_timer(now)
        for event in events:
            if isinstance(event, SubscribeReceived):
                self._subscribe(event, now)
            elif isinstance(event, RequestReceived):
                self._request(event, now)
            elif isinstance(event, SessionClosed):
                self.sockets.pop(event.connection_id, None)

    def on_backlog(self, connection: object, waiting: int, now: float) -> None:
        """A binding reports ``waiting`` unsent bytes on ``connection``: past
        ``max_pending_bytes`` it is closed as too slow (1008)."""
        self.connections.backlog(connection, waiting, now)

    def _subscribe(self, event: SubscribeReceived, now: float) -> None:
        socket = self.sockets.get(event.connection_id)
        if socket is None:
            return
        machine = currencycom_machine(socket)
        listed = {i.instrument_name for i in self.market.instruments()}
        accepted = [t for t in event.topics if t.rpartition(":")[2] in listed]
        new = machine.accept_subscription(event.request_id, accepted, now)
        socket.handle_timer(now)  # write the answer before the first pushes
        for topic in new:  # the current state at once, as the venue does on subscribe
            kind, _, rest = topic.partition(":")
            if kind == "depth":
                machine.notify(topic, book_payload(self.market, rest, now, BOOK_DEPTH), now)
            elif kind == "quote":
                machine.notify(topic, self.quote_payload(rest, now), now)
            elif kind in ("ohlc", "heikin-ashi"):
                interval, _, symbol = rest.partition(":")
                machine.notify(topic, candle_payload(self.market, symbol, interval, kind, now), now)
        socket.handle_timer(now)

    def _request(self, event: RequestReceived, now: float) -> None:
        connection: FaultySocket | VenueHTTP | None = self.sockets.get(event.connection_id)
        if connection is None or event.transport == "http":
            connection = self._http.get(event.connection_id)
        if connection is None:
            return
        self.methods.last_events = ()
        try:
            result = self.methods.answer(
                event.name, event.params, event.account, now, event.transport
            )
        except Refusal as refusal:
            connection.send(
                ReplyError(request_id=event.request_id, code=refusal.code, message=refusal.message),
                now,
            )
            return
        connection.send(Reply(request_id=event.request_id, result=result), now)
        self.publish(self.methods.last_events, now)

    # -- faults -----------------------------------------------------------------------------

    def inject(self, connection_id: int, fault: Fault | str, now: float) -> None:
        """Apply ``fault`` (its trigger is ignored) to a live WebSocket connection now."""
        self.connections.inject(connection_id, one_fault(fault), now)


assert rate_keys("openOrders") == ("request", "openOrders")
