"""The reference Rails venue: the protocol machines driven by the simulated market.

:class:`RailsVenue` owns a :class:`~tradewire.conformance.market.Market` with the Rails
catalog and a ``rails.server.ServerState`` (keys, JWTs, rate pools), builds the
per-connection objects, answers what they report, and is the application timer that
moves the market and fans its events out (``_feeds``: every connection with the same
market and streams gets the same frames, in the same order):

* :meth:`RailsVenue.websocket_connection` (``/``) and :meth:`RailsVenue.http_connection`
  (``POST /api/v1/token``, ``GET /api/v1/markets``) are connection factories,
  ``factory(peer)``, sharing one state: a token from HTTP opens the WebSocket;
* :meth:`RailsVenue.on_events` takes the events of any of its connections;
* :meth:`RailsVenue.next_deadline` / :meth:`RailsVenue.handle_timer` are the timer.

Time: ``now`` is the caller's clock; the venue's birth ``now`` is ``market.start_ms`` on
the epoch clock (JWT ``iat`` / ``exp`` use the same mapping).  The venue is pure and
deterministic for a seed: replaying the same calls gives the same bytes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import msgspec

from tradewire.protocol import Event, LocalProtocolError
from tradewire.protocol.rails.server import (
    Acknowledge,
    HTTPServerConnection,
    Push,
    Reply,
    ReplyError,
    RequestReceived,
    ServerProtocol,
    ServerState,
    SessionClosed,
    SessionOpened,
    encode,
)

from .. import market as mk
from .._fault_engine import FaultySocket
from .._faults import Fault, FaultPlan, with_faults
from .._venue_sockets import VenueSockets, one_fault
from ._catalog import MARKETS, market_list, places, rails_catalog
from ._config import TOO_SLOW_REASON, VenueConfig
from ._feeds import Feeds
from ._orders import Orders
from ._socket import RailsFaultHooks, rails_machine

__all__ = ["RailsVenue"]

_PLACES = {spec.name: (places(spec.tick), places(spec.step)) for spec in MARKETS}


def _places(name: str) -> tuple[int, int]:
    return _PLACES.get(name, (8, 8))


class RailsVenue:
    """A local Rails (see the module docstring and ``VenueConfig``).

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
        seed = config.market.seed
        self.market = mk.Market(config.market, catalog=rails_catalog(config.market), now=now)
        server = msgspec.structs.replace(
            config.server,
            epoch_offset=config.market.start_ms / 1000 - now,
            markets=market_list(),
        )
        self.state = ServerState(server, rng=random.Random(f"{seed}/tokens"), keys=config.keys)
        self._check_plan(config.faults)
        self.orders = Orders(
            self.market,
            server,
            rng=random.Random(f"{seed}/orders"),
            leverage=config.leverage,
            places=_places,
        )
        self.feeds = Feeds(self.market, server, self.orders, _places, self._flush)
        self.connections = VenueSockets(
            lambda peer: ServerProtocol(self.state, peer=peer),
            RailsFaultHooks(self.state, self._market_fault),
            config.faults,
            max_pending_bytes=config.max_pending_bytes,
            too_slow_code=config.too_slow_close_code,
            too_slow_reason=TOO_SLOW_REASON,
        )
        self.sockets = self.connections.sockets  # connection id -> open WebSocket

    def __repr__(self) -> str:
        return (
            f"RailsVenue(seed={self.config.market.seed}, websockets={len(self.sockets)}, "
            f"faults={self.config.faults.spec()!r})"
        )

    @property
    def epoch_offset(self) -> float:
        """Epoch seconds minus the caller's clock (the JWTs' time base)."""
        return self.state.config.epoch_offset

    def _check_plan(self, plan: FaultPlan) -> None:
        for fault in plan.faults:
            if fault.kind == "gap" and self._gap_market(fault) is None:
                raise LocalProtocolError(
                    f"invalid fault {fault.spec()!r}: the venue lists no market "
                    f"{fault.target!r} (accepted: {', '.join(s.name for s in MARKETS)})"
                )

    @staticmethod
    def _gap_market(fault: Fault) -> str | None:
        target = (fault.target or "").removeprefix("publicOrderBook.")
        return target if target in _PLACES else None

    # -- connection factories ---------------------------------------------------------------

    @property
    def accepted(self) -> int:
        """WebSocket connections accepted so far."""
        return self.connections.accepted

    def websocket_connection(self, peer: str | None = None) -> FaultySocket:
        """A WebSocket connection (``/``); the ``serve()`` / ``route_upgrade`` factory."""
        return self.connections.open(peer)

    def http_connection(self, peer: str | None = None) -> HTTPServerConnection:
        """An HTTP connection (the token endpoint, the market list)."""
        return HTTPServerConnection(self.state, peer=peer)

    socket_of = staticmethod(VenueSockets.socket_of)

    # -- the application timer --------------------------------------------------------------

    def next_deadline(self) -> float:
        """The next market tick."""
        return self.market.next_deadline()

    def handle_timer(self, now: float) -> None:
        """Run the market's due ticks and send their frames."""
        self.feeds.publish(self.market.advance(now), now)

    # -- connection events ------------------------------------------------------------------

    def on_events(self, connection: object, events: Sequence[Event], now: float) -> None:
        """Answer what a connection reported (any connection of this venue)."""
        self.handle_timer(now)
        for event in events:
            if isinstance(event, RequestReceived):
                self._request(event, now)
            elif isinstance(event, SessionOpened):
                socket = self.sockets.get(event.connection_id)
                if socket is not None:
                    self.feeds.add(rails_machine(socket))
            elif isinstance(event, SessionClosed):
                self.feeds.remove(event.connection_id)
                self.sockets.pop(event.connection_id, None)

    def on_backlog(self, connection: object, waiting: int, now: float) -> None:
        """A binding reports ``waiting`` unsent bytes on ``connection``."""
        self.connections.backlog(connection, waiting, now)

    def _request(self, event: RequestReceived, now: float) -> None:
        socket = self.sockets.get(event.connection_id)
        if socket is None:
            return
        protocol = rails_machine(socket)
        shown = protocol.message_market(event.market)
        outcome = self.orders.handle(event, shown, now)
        for kind, payload in outcome.steps:
            if kind == "ack":
                socket.send(Acknowledge(request_id=event.request_id, result=payload), now)
            elif kind == "reply":
                socket.send(Reply(request_id=event.request_id, result=payload), now)
            elif kind == "error":
                status, text, result_type = payload
                socket.send(
                    ReplyError(
                        request_id=event.request_id,
                        code=status,
                        message=text,
                        data=(result_type, shown),
                    ),
                    now,
                )
            else:  # "push": after the final answer, on this connection
                frame = encode(payload.result_type, payload.data, payload.market)
                socket.send(Push(frames=(frame,)), now)
        self.feeds.publish(outcome.events, now)

    def _flush(self, connection_id: int, frames: tuple[bytes, ...], now: float) -> None:
        socket = self.sockets.get(connection_id)
        if socket is not None:
            socket.send(Push(frames=frames), now)

    # -- faults -----------------------------------------------------------------------------

    def _market_fault(self, fault: Fault, now: float) -> None:
        if fault.kind == "gap":
            market = self._gap_market(fault)
            if market is not None:
                self.feeds.lose_next.add(market)

    def inject(self, connection_id: int, fault: Fault | str, now: float) -> None:
        """Apply ``fault`` (its trigger is ignored) to a live WebSocket connection now."""
        fault = one_fault(fault)
        if fault.kind == "gap" and self._gap_market(fault) is None:
            raise LocalProtocolError(f"invalid fault {fault.spec()!r}: no such market")
        self.connections.inject(connection_id, fault, now)
