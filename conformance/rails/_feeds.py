"""The Rails venue's streams: market events to frames, the same frames for everyone.

**Deterministic delivery** (spec 1): every connection with the same ``market`` and
``subscriptions`` receives the same sequence of events.  The feeds give that by
construction: each market event is encoded *once* into one frame, and the frames go out
in the order the market produced the events, to every connection that wants them, in
the order the connections opened (a connection id order, so the venue's own order of
work is fixed too).  A connection sees exactly the frames of its streams and market
from the moment its stream is active; nothing depends on which connection asked what.

What goes where (one tick of the market, or one order's consequences, in order):

* ``publicCompletedOrdersDelta`` (``publicTrades``): the trades of one market, one
  frame per market per batch, at the place of its first trade;
* ``publicOrderBookDelta`` (``publicOrderBook``): one frame per market per batch, each
  level the new total at its price (``"0"`` removes it), bids then asks, with ``ts``;
* ``completedOrdersDelta`` (``trades``): the account's fills, on every market, one
  frame per account per batch (spec 5: whatever the connection's market);
* ``fillOrder`` / ``partialFillOrder`` (``orders``): an order of the account that
  filled (more) in this batch; the names and bodies are ours (spec 4.5).  ``orders``
  frames go to the account's connections of that market (or ``ALL``; ours).

Top-level ``market`` is written on every market-scoped message (``always_market``, the
newer pages' reading); with it off, a one-market connection gets a second encoding
without it, still one per kind of connection.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from tradewire.protocol.rails.server import (
    BookDataOut,
    LevelOut,
    PublicTradeOut,
    PublicTradesDataOut,
    ServerConfig,
    ServerProtocol,
    UserTradeOut,
    decimal_string,
    encode,
)
from tradewire.protocol.transport._frames import SharedText

from .. import market as mk
from ._orders import Orders

__all__ = ["Feeds", "match_id"]

_MATCH_NAMESPACE = uuid.UUID("6f1c6c1e-8a4c-4f7e-9d55-7a1a52a2b1e0")


def match_id(trade_id: str) -> str:
    """The ``matchId`` of a trade: a UUID derived from the market's trade id, the same
    in the public tape and in the account's fills."""
    return str(uuid.uuid5(_MATCH_NAMESPACE, trade_id))


class Feeds:
    """Connections, and the frames of each batch of market events (module docstring)."""

    def __init__(
        self,
        market: mk.Market,
        config: ServerConfig,
        orders: Orders,
        places: Callable[[str], tuple[int, int]],
        flush: Callable[[int, tuple[bytes, ...], float], None],
    ) -> None:
        self.market = market
        self.config = config
        self.orders = orders
        self.places = places
        self.flush = flush  # sends a connection's frames of one batch, in order
        self._batch: dict[int, list[bytes]] = {}
        self._connections: dict[int, ServerProtocol] = {}
        self._order: list[ServerProtocol] = []
        self.frames_sent = 0
        self.lose_next: set[str] = set()  # the gap fault: the next delta of these is lost

    def add(self, protocol: ServerProtocol) -> None:
        self._connections[protocol.connection_id] = protocol
        self._order = [self._connections[k] for k in sorted(self._connections)]

    def remove(self, connection_id: int) -> None:
        if self._connections.pop(connection_id, None) is not None:
            self._order = [self._connections[k] for k in sorted(self._connections)]

    @property
    def connections(self) -> list[ServerProtocol]:
        return list(self._order)

    # -- publishing --------------------------------------------------------------------------

    def publish(self, events: Iterable[mk.MarketEvent], now: float) -> None:
        """Encode and send the frames of ``events`` (see the module docstring)."""
        events = list(events)
        notices = self.orders.fill_notices(events)
        if not events or not self._order:
            return
        trades: dict[str, list[mk.PublicTrade]] = {}
        fills: dict[str, list[mk.UserTrade]] = {}
        plan: list[tuple[str, str]] = []  # (kind, key) in order of first appearance
        for event in events:
            if isinstance(event, mk.PublicTrade):
                name = event.instrument_name
                if name not in trades:
                    trades[name] = []
                    plan.append(("trades", name))
                trades[name].append(event)
            elif isinstance(event, mk.UserTrade):
                if event.account not in fills:
                    fills[event.account] = []
                    plan.append(("fills", event.account))
                fills[event.account].append(event)
        planned = iter(plan)
        pending = next(planned, None)
        for event in events:
            while pending is not None and self._first_of(pending, event):
                self._send_plan(pending, trades, fills)
                pending = next(planned, None)
            if isinstance(event, mk.BookChange):
                self._book_delta(event)
            elif isinstance(event, mk.Order) and event.order_id in notices:
                self._fill_notice(event, notices.pop(event.order_id))
        while pending is not None:
            self._send_plan(pending, trades, fills)
            pending = next(planned, None)
        batch, self._batch = self._batch, {}
        for connection_id, frames in batch.items():
            self.flush(connection_id, tuple(frames), now)

    @staticmethod
    def _first_of(pending: tuple[str, str], event: mk.MarketEvent) -> bool:
        kind, key = pending
        if kind == "trades":
            return isinstance(event, mk.PublicTrade) and event.instrument_name == key
        return isinstance(event, mk.UserTrade) and event.account == key

    def _send_plan(
        self,
        pending: tuple[str, str],
        trades: dict[str, list[mk.PublicTrade]],
        fills: dict[str, list[mk.UserTrade]],
    ) -> None:
        kind, key = pending
        if kind == "trades":
            self._public_trades(key, trades[key])
        else:
            self._user_trades(key, fills[key])

    def _fan_out(
        self,
        stream: str,
        market: str | None,
        make: Callable[[str | None], bytes],
        account: str | None = None,
    ) -> None:
        """Send one message to every connection that wants it: ``make(market)`` is
        encoded at most once per form (with, or without, the top-level market)."""
        cache: dict[str | None, bytes] = {}
        for protocol in self._order:
            if account is not None and protocol.account != account:
                continue
            if not protocol.is_open or not protocol.wants(stream, market):
                continue
            shown = protocol.message_market(market) if market is not None else None
            frame = cache.get(shown)
            if frame is None:
                frame = cache[shown] = SharedText(make(shown))  # framed once, too
            self._batch.setdefault(protocol.connection_id, []).append(frame)
            self.frames_sent += 1

    def _public_trades(self, name: str, trades: list[mk.PublicTrade]) -> None:
        price_places, size_places = self.places(name)
        data = PublicTradesDataOut(
            status_code=200,
            orders=[
                PublicTradeOut(
                    execution_type="taker",
                    match_id=match_id(t.trade_id),
                    order_type=t.direction,
                    price=decimal_string(t.price, price_places),
                    quantity=decimal_string(t.amount, size_places),
                    updated_at=t.timestamp,
                )
                for t in trades
            ],
        )
        self._fan_out("publicTrades", name, lambda m: encode("publicCompletedOrdersDelta", data, m))

    def _book_delta(self, change: mk.BookChange) -> None:
        name = change.instrument_name
        if name in self.lose_next:
            self.lose_next.discard(name)
            return  # lost on the way, for everyone (no sequence number shows it)
        price_places, size_places = self.places(name)
        levels = [
            LevelOut(
                order_type=side,
                price=decimal_string(price, price_places),
                quantity="0" if action == "delete" else decimal_string(amount, size_places),
            )
            for side, actions in (("buy", change.bids), ("sell", change.asks))
            for action, price, amount in actions
        ]
        if not levels:
            return
        data = BookDataOut(
            orders=levels, status_code=200, ts=change.timestamp if self.config.delta_ts else None
        )
        self._fan_out("publicOrderBook", name, lambda m: encode("publicOrderBookDelta", data, m))

    def _user_trades(self, account: str, fills: list[mk.UserTrade]) -> None:
        rows = [self.orders.user_trade(t) for t in fills]
        rows_out: list[UserTradeOut] = [row for row in rows if row is not None]
        if rows_out:
            self._fan_out(
                "trades", None, lambda m: encode("completedOrdersDelta", rows_out), account
            )

    def _fill_notice(self, order: mk.Order, notice: tuple[str, Any]) -> None:
        result_type, body = notice
        self._fan_out(
            "orders",
            order.instrument_name,
            lambda m: encode(result_type, body, m),
            order.account,
        )
