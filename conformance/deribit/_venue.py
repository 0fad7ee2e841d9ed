"""The reference Deribit venue: the protocol machines driven by the simulated market.

:class:`DeribitVenue` owns a :class:`~tradewire.conformance.market.Market` and a
``deribit.ServerState`` (keys, tokens, nonces, credits, connection counts), builds the
per-connection objects, answers what they report, and is the application timer that
moves the market and fans its events out:

* :meth:`DeribitVenue.websocket_connection` (``/ws/api/v2``) and
  :meth:`DeribitVenue.http_connection` (``GET``/``POST /api/v2/...``) are connection
  factories, ``factory(peer)``; both share one state, so an order placed over HTTP shows
  on WebSocket subscriptions and the other way round;
* :meth:`DeribitVenue.on_events` takes the events of any of its connections
  (``on_events(connection, events, now)``, as bindings' ``serve()`` calls it);
* :meth:`DeribitVenue.next_deadline` / :meth:`DeribitVenue.handle_timer` are the timer.

Time: ``now`` is the caller's clock; the venue's birth ``now`` is ``market.start_ms`` on
the epoch clock, and the protocol's ``usIn``/``get_time``/signature window use the same
mapping.  The venue is pure and deterministic for a seed: replaying the same calls gives
the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import msgspec

from tradewire.protocol import Event, LocalProtocolError
from tradewire.protocol.deribit import (
    parse_channel,
)
from tradewire.protocol.deribit.server import (
    AcceptSubscription,
    CancelOnDisconnect,
    Reply,
    ReplyError,
    RequestReceived,
    ServerProtocol,
    ServerState,
    SessionClosed,
    SubscribeReceived,
    Unsubscribed,
)

from .. import market as mk
from .._fault_engine import FaultySocket
from .._faults import Fault, FaultPlan, with_faults
from .._venue_sockets import VenueSockets, one_fault
from ._catalog import deribit_catalog
from ._config import EXTRA_METHODS, TOO_SLOW_REASON, VenueConfig
from ._feeds import Feeds
from ._methods import Methods, Refusal
from ._socket import DeribitFaultHooks, VenueHTTP, deribit_machine

__all__ = ["DeribitVenue"]

MAX_COD_MEMORY = mk.MAX_ORDER_HISTORY
"""Order ids remembered as cancelled by cancel-on-disconnect (their ``cancel_reason``)."""


class DeribitVenue:
    """A faithful local Deribit (see the module docstring and ``VenueConfig``).

    ``faults`` (a :class:`FaultPlan` or its compact string) replaces ``config.faults``.
    """

    def __init__(
        self,
        config: VenueConfig | None = None,
        *,
        now: float = 0.0,
        faults: FaultPlan | str | None = None,
    ) -> None:
        config = with_faults(config if config is not None else VenueConfig(), faults)
        self.config = config
        self.birth = now
        self.market = mk.Market(config.market, catalog=deribit_catalog(config.market), now=now)
        server = msgspec.structs.replace(
            config.server,
            epoch_offset=config.market.start_ms / 1000 - now,
            extra_methods=config.server.extra_methods | EXTRA_METHODS,
        )
        self.state = ServerState(server, rng=random.Random(f"{config.market.seed}/tokens"))
        for client in config.clients:
            self.state.add_client(
                client.client_id, client.client_secret, account_id=client.account_id
            )
        self._check_plan(config.faults)
        self.cod_cancelled: dict[str, None] = {}
        self.methods = Methods(self.market, self.state, self.cod_cancelled)
        self._written: dict[int, FaultySocket] = {}  # notified since the last flush
        self.feeds = Feeds(self.market, birth=now, agg2=config.agg2_interval, notify=self._notify)
        self.connections = VenueSockets(
            lambda peer: ServerProtocol(self.state, peer=peer),
            DeribitFaultHooks(self.state, self._market_fault),
            config.faults,
            max_pending_bytes=config.max_pending_bytes,
            too_slow_code=config.too_slow_close_code,
            too_slow_reason=TOO_SLOW_REASON,
        )
        self.sockets = self.connections.sockets  # connection id -> open WebSocket
        self._http: dict[int, VenueHTTP] = {}
        self._placed: dict[int, dict[str, str]] = {}  # connection -> order id -> account

    def __repr__(self) -> str:
        return (
            f"DeribitVenue(seed={self.config.market.seed}, websockets={len(self.sockets)}, "
            f"faults={self.config.faults.spec()!r})"
        )

    @property
    def epoch_offset(self) -> float:
        """Epoch seconds minus the caller's clock: pass it as a client's ``epoch_offset`` so
        its signatures carry the venue's time."""
        return self.state.config.epoch_offset

    def _check_plan(self, plan: FaultPlan) -> None:
        for fault in plan.faults:
            if fault.kind == "gap" and self._gap_instrument(fault) is None:
                raise LocalProtocolError(
                    f"invalid fault {fault.spec()!r}: the market lists no instrument "
                    f"{fault.target!r}"
                )

    def _gap_instrument(self, fault: Fault) -> str | None:
        target = fault.target or ""
        try:
            name = parse_channel(target).instrument or target
        except LocalProtocolError:
            name = target
        try:
            self.market.instrument(name)
        except mk.MarketError:
            return None
        return name

    # -- connection factories ---------------------------------------------------------------

    @property
    def accepted(self) -> int:
        """WebSocket connections accepted so far."""
        return self.connections.accepted

    def websocket_connection(self, peer: str | None = None) -> FaultySocket:
        """A WebSocket connection (``/ws/api/v2``); ``serve()`` / ``route_upgrade`` factory."""
        return self.connections.open(peer)

    def http_connection(self, peer: str | None = None) -> VenueHTTP:
        """An HTTP connection (``/api/v2/...``); the ``http`` factory of ``route_upgrade``."""
        connection = VenueHTTP(self.state, peer=peer, on_lost=self._http_lost)
        self._http[connection.connection_id] = connection
        return connection

    def _http_lost(self, connection_id: int) -> None:
        self._http.pop(connection_id, None)

    socket_of = staticmethod(VenueSockets.socket_of)

    # -- the application timer --------------------------------------------------------------

    def next_deadline(self) -> float:
        """The next market tick or aggregation boundary."""
        market = self.market.next_deadline()
        window = self.feeds.next_deadline()
        return market if window is None else min(market, window)

    def handle_timer(self, now: float) -> None:
        """Run the market's due ticks, fan their events out, send due windows."""
        self.feeds.publish(self.market.advance(now), now)
        self.feeds.flush(now)
        self._flush_written(now)

    # -- connection events ------------------------------------------------------------------

    def on_events(self, connection: object, events: Sequence[Event], now: float) -> None:
        """Answer what a connection reported (any connection of this venue; ``connection``
        is only a hint, events carry their connection id)."""
        self.handle_timer(now)
        for event in events:
            if isinstance(event, SubscribeReceived):
                self._subscribe(event, now)
            elif isinstance(event, RequestReceived):
                self._request(event, now)
            elif isinstance(event, Unsubscribed):
                self.feeds.remove(event.connection_id, event.channels)
            elif isinstance(event, CancelOnDisconnect):
                self._cancel_on_disconnect(event, now)
            elif isinstance(event, SessionClosed):
                self.feeds.drop(event.connection_id)
                self.sockets.pop(event.connection_id, None)
                self._written.pop(event.connection_id, None)
                self._placed.pop(event.connection_id, None)
        self._flush_written(now)

    def on_backlog(self, connection: object, waiting: int, now: float) -> None:
        """A binding reports ``waiting`` unsent bytes on ``connection``: past
        ``max_pending_bytes`` it is closed with ``connection_too_slow``."""
        self.connections.backlog(connection, waiting, now)

    def _subscribe(self, event: SubscribeReceived, now: float) -> None:
        socket = self.sockets.get(event.connection_id)
        if socket is None:
            return
        accepted = []
        for name in event.channels:
            channel = parse_channel(name)
            if self.feeds.accepts(channel):
                accepted.append(channel)
        machine = deribit_machine(socket)
        new = [c for c in accepted if not machine.is_subscribed(c.name)]
        socket.send(
            AcceptSubscription(request_id=event.request_id, channels=[c.name for c in accepted]),
            now,
        )
        account = str(event.account_id) if event.account_id is not None else None
        for channel in new:
            if machine.is_subscribed(channel.name):
                self.feeds.add(event.connection_id, channel, account, now)

    def _request(self, event: RequestReceived, now: float) -> None:
        connection: FaultySocket | VenueHTTP | None = self.sockets.get(event.connection_id)
        if connection is None:
            connection = self._http.get(event.connection_id)
        if connection is None:
            return
        try:
            answer = self.methods.answer(event, now)
        except Refusal as refusal:
            command = ReplyError(
                request_id=event.request_id,
                code=refusal.code,
                message=refusal.message,
                data=refusal.data,
            )
            connection.send(command, now)
            return
        connection.send(Reply(request_id=event.request_id, result=answer.result), now)
        if answer.placed is not None and isinstance(connection, FaultySocket):
            self._track(event.connection_id, answer.placed, self.methods.account(event))
        self.feeds.publish(answer.events, now)

    def _notify(self, connection_id: int, channel: str, data: Any, now: float) -> None:
        # Straight to the machine (it sends only on an active channel of an open
        # connection); each stack written to is flushed once, by _flush_written, so a
        # notification to N connections costs N appends of one shared frame.
        socket = self.sockets.get(connection_id)
        if socket is not None and deribit_machine(socket).notify(channel, data, now):
            self._written[connection_id] = socket

    def _flush_written(self, now: float) -> None:
        """Put on the wire what :meth:`_notify` queued on the machines."""
        written = self._written
        while written:
            self._written = {}
            for socket in written.values():
                socket.flush(now)
            written = self._written

    # -- cancel on disconnect ---------------------------------------------------------------

    def _track(self, connection_id: int, order_id: str, account: str) -> None:
        placed = self._placed.setdefault(connection_id, {})
        placed[order_id] = account
        if len(placed) > 2 * mk.MAX_OPEN_ORDERS:
            still_open = {
                o.order_id for a in set(placed.values()) for o in self.market.open_orders(a)
            }
            self._placed[connection_id] = {k: v for k, v in placed.items() if k in still_open}

    def _cancel_on_disconnect(self, event: CancelOnDisconnect, now: float) -> None:
        """Cancel the open orders placed on the connection (spec 5.5)."""
        events: list[mk.MarketEvent] = []
        for order_id, account in self._placed.pop(event.connection_id, {}).items():
            try:
                cancelled = self.market.cancel(account, order_id, now)
            except mk.MarketError:
                continue  # filled or cancelled already
            self.cod_cancelled[order_id] = None
            while len(self.cod_cancelled) > MAX_COD_MEMORY:
                del self.cod_cancelled[next(iter(self.cod_cancelled))]
            for record in cancelled.events:
                if isinstance(record, mk.Order) and record.order_id == order_id:
                    events.append(
                        msgspec.structs.replace(record, cancel_reason="cancel_on_disconnect")
                    )
                else:
                    events.append(record)
        self.feeds.publish(events, now)

    # -- faults -----------------------------------------------------------------------------

    def _market_fault(self, fault: Fault, now: float) -> None:
        if fault.kind == "gap":
            instrument = self._gap_instrument(fault)
            if instrument is not None:
                self.market.inject_fault(instrument, "gap")

    def inject(self, connection_id: int, fault: Fault | str, now: float) -> None:
        """Apply ``fault`` (its trigger is ignored) to a live WebSocket connection now."""
        self.connections.inject(connection_id, one_fault(fault), now)
