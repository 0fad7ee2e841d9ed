"""Orders of the reference Rails venue: requests to the market engine, answers to frames.

:class:`Orders` maps Rails' requests onto the venue-neutral market
(``tradewire.conformance.market``) and the market's records back onto Rails' messages:

* ``createOrder`` (spec 4.1): the order is placed; the answers are a 202 (``pending``,
  ``apiQuotaUsed`` 1) and a 200 (``active``), both showing the order as accepted, before
  anything it traded; its fills follow as ``fillOrder`` / ``partialFillOrder`` and in the
  streams.  A post-only order that would cross is refused by the market, and Rails' flow
  for it is kept: 202, 200, then ``rejectOrder`` (400, ``rejected``; spec 4.2).  A market
  order becomes an immediate-or-cancel limit at the price moved by ``maxSlippage``
  (default 0.02; 0: at the price), as the docs describe slippage; what it cannot fill
  is cancelled.  ``leverage`` other than the account's is refused (spec 4);
* ``cancelOrder`` (spec 4.3): 202 (``cancelling``, with ``avgFillPrice``), then 200
  (``cancelled``; the 200 is our reading).  An id the account does not know is 404,
  an order no longer open 400 (ours);
* ``modifyOrder`` (spec 4.4): a cancel and a re-create under a new ``orderId``, in the
  current revision's three messages (202 ``modifying``; ``modifyOrder`` 200
  ``pending``; ``createOrder`` 200 ``active``) or the older one's four
  (``ServerConfig.modify_flow``).  The new order keeps the side, takes the new price and
  quantity (default: the old price and what remained).  If the new order is refused,
  the old one stays cancelled and the modify is answered 400 (ours);
* ``emitPublicOrderBook`` / ``emitPublicCompletedOrders`` (spec 6, 7): the book and the
  last ``public_trades_snapshot`` trades (newest last, ours), answered under the name
  family the request used.

Order ids are 26-character ULIDs (the time in ms, then 80 bits from the venue's seeded
RNG), mapped to the market's own ids.  A refusal by the market is a 400 whose body names
its reason (404 for an unknown order).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tradewire.protocol.rails import (
    CancelOrder,
    CreateOrder,
    EmitPublicOrderBook,
    EmitPublicTrades,
    ModifyOrder,
)
from tradewire.protocol.rails.server import (
    BookDataOut,
    Envelope,
    LevelOut,
    OrderDataOut,
    OrderOut,
    PublicTradeOut,
    PublicTradesDataOut,
    RequestReceived,
    ServerConfig,
    UserTradeOut,
    decimal_string,
)

from .. import market as mk

__all__ = ["Orders", "Outcome"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ENGINE_STATUS = {"open": "active", "filled": "filled", "cancelled": "cancelled"}
MAX_REMEMBERED = 10_000
"""Orders whose ids and facts the venue remembers (the oldest closed ones go first)."""


@dataclass
class Outcome:
    """What answering one request does: ``steps`` for its connection, in order
    (``("ack", message)``, ``("reply", message)``, ``("error", (status, text, type))``,
    ``("push", message)``), and the market events to publish after them."""

    steps: list[tuple[str, Any]] = field(default_factory=list)
    events: list[mk.MarketEvent] = field(default_factory=list)


class _Facts:
    __slots__ = ("client_request_id", "created_ms", "price", "rails_id", "trade_type")

    def __init__(
        self, rails_id: str, trade_type: str, client_request_id: str | None, price: str, ms: int
    ) -> None:
        self.rails_id = rails_id
        self.trade_type = trade_type
        self.client_request_id = client_request_id
        self.price = price  # as the request gave it (a market order's expected price)
        self.created_ms = ms


def _refusal(error: mk.MarketError) -> tuple[int, str]:
    status = 404 if error.reason == "order_not_found" else 400
    text = error.reason.replace("_", " ")
    return status, f"order rejected: {text} {error.detail}".strip()


class Orders:
    """The venue's order handling (see the module docstring)."""

    def __init__(
        self,
        market: mk.Market,
        config: ServerConfig,
        *,
        rng: random.Random,
        leverage: str,
        places: Any,
    ) -> None:
        self.market = market
        self.config = config
        self.rng = rng
        self.leverage = leverage
        self.places = places
        self.rails_of: dict[str, _Facts] = {}  # engine id -> facts
        self.engine_of: dict[str, str] = {}  # rails id -> engine id
        self.filled: dict[str, float] = {}  # engine id -> filled amount reported

    # -- ids -----------------------------------------------------------------------------------

    def new_id(self, ms: int) -> str:
        value = (ms & ((1 << 48) - 1)) << 80 | self.rng.getrandbits(80)
        return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))

    def _remember(self, engine_id: str, facts: _Facts) -> None:
        self.rails_of[engine_id] = facts
        self.engine_of[facts.rails_id] = engine_id
        while len(self.rails_of) > MAX_REMEMBERED:
            old = next(iter(self.rails_of))
            self.engine_of.pop(self.rails_of.pop(old).rails_id, None)
            self.filled.pop(old, None)

    # -- records to messages ---------------------------------------------------------------------

    def order_out(
        self, order: mk.Order, *, status: str | None = None, fresh: bool = False
    ) -> OrderOut:
        """``order`` as Rails writes it; ``fresh``: as accepted, before any fill."""
        facts = self.rails_of.get(order.order_id)
        price_places, size_places = self.places(order.instrument_name)
        filled = 0.0 if fresh else order.filled_amount
        remaining = order.amount - filled  # what is (or was, when it ended) left
        price = facts.price if facts is not None else decimal_string(order.price, price_places)
        return OrderOut(
            market=order.instrument_name,
            order_id=facts.rails_id if facts is not None else order.order_id,
            order_type=order.direction,
            trade_type=facts.trade_type if facts is not None else order.order_type,
            price=price,
            quantity=decimal_string(max(remaining, 0.0), size_places),
            filled_quantity=decimal_string(filled, size_places),
            leverage=self.leverage,
            created_at=order.creation_timestamp,
            updated_at=order.creation_timestamp if fresh else order.last_update_timestamp,
            order_status=status or _ENGINE_STATUS.get(order.order_state, order.order_state),
            client_request_id=facts.client_request_id if facts is not None else None,
            post_only=order.post_only,
            avg_fill_price=(
                decimal_string(order.average_price, price_places) if filled > 0 else None
            ),
        )

    def fill_notices(self, events: list[mk.MarketEvent]) -> dict[str, tuple[str, OrderDataOut]]:
        """``fillOrder`` / ``partialFillOrder`` for each account order that filled (more)."""
        notices: dict[str, tuple[str, OrderDataOut]] = {}
        for event in events:
            if not isinstance(event, mk.Order) or not event.account:
                continue
            before = self.filled.get(event.order_id, 0.0)
            if event.filled_amount <= before:
                continue
            self.filled[event.order_id] = event.filled_amount
            done = event.order_state == "filled"
            notices[event.order_id] = (
                "fillOrder" if done else "partialFillOrder",
                OrderDataOut(
                    status_code=200,
                    body="order filled" if done else "order partially filled",
                    order=self.order_out(event),
                ),
            )
        return notices

    def user_trade(self, trade: mk.UserTrade) -> UserTradeOut | None:
        facts = self.rails_of.get(trade.order_id)
        if facts is None:
            return None
        from ._feeds import match_id

        price_places, size_places = self.places(trade.instrument_name)
        return UserTradeOut(
            market=trade.instrument_name,
            order_id=facts.rails_id,
            match_id=match_id(trade.trade_id),
            order_type=trade.direction,
            trade_type=facts.trade_type,
            execution_type="maker" if trade.liquidity == "M" else "taker",
            fill_type="complete" if trade.state == "filled" else "partial",
            price=decimal_string(trade.price, price_places),
            quantity=decimal_string(trade.amount, size_places),
            leverage=self.leverage,
            fees=decimal_string(trade.fee, 8),
            order_created_at=facts.created_ms,
            order_filled_at=trade.timestamp,
            trigger_type="none",
            trigger_price="0",
            trigger_created_at=0,
        )

    # -- requests --------------------------------------------------------------------------------

    def handle(self, request: RequestReceived, shown: str | None, now: float) -> Outcome:
        """Answer ``request`` (``shown``: the top-level ``market`` to write, if any)."""
        command = request.command
        if isinstance(command, CreateOrder):
            return self._create(request, command, shown, now)
        if isinstance(command, CancelOrder):
            return self._cancel(request, command, shown, now)
        if isinstance(command, ModifyOrder):
            return self._modify(request, command, shown, now)
        if isinstance(command, EmitPublicOrderBook):
            return self._book(request, shown)
        if isinstance(command, EmitPublicTrades):
            return self._trades(request, shown)
        return Outcome(steps=[("error", (400, f"unknown message {request.message}", "error"))])

    @staticmethod
    def _message(result_type: str, shown: str | None, data: Any) -> Envelope:
        return Envelope(result_type=result_type, market=shown, data=data)

    def _create(
        self, request: RequestReceived, command: CreateOrder, shown: str | None, now: float
    ) -> Outcome:
        if command.leverage is not None and Decimal(command.leverage) != Decimal(self.leverage):
            text = (
                f"leverage {command.leverage} differs from the account's leverage {self.leverage}"
            )
            return Outcome(steps=[("error", (400, text, "createOrder"))])
        market, name = self.market, request.market
        params: dict[str, Any] = {"type": "limit", "price": float(command.price)}
        if command.trade_type == "market":
            params.update(price=self._slipped(command, name), time_in_force="immediate_or_cancel")
        elif command.post_only:
            params.update(post_only=True, reject_post_only=True)
        ms = market.timestamp(now)
        rails_id = self.new_id(ms)
        try:
            execution = market.place(
                request.account, name, command.side, now, amount=float(command.quantity), **params
            )
        except mk.MarketError as error:
            if error.reason == "post_only_reject":
                return self._post_only_rejected(request, command, shown, rails_id, ms)
            if (
                error.reason in ("price_too_high", "price_too_low")
                and command.trade_type == "market"
            ):
                return self._market_order_in_band(request, command, shown, rails_id, now)
            status, text = _refusal(error)
            return Outcome(steps=[("error", (status, text, "createOrder"))])
        return self._placed(request, command, shown, rails_id, execution)

    def _slipped(self, command: CreateOrder, name: str) -> float:
        """A market order's limit: its price moved by ``maxSlippage``, onto the tick grid
        (down for a buy, up for a sell: never past the slippage allowed)."""
        slip = Decimal(command.max_slippage if command.max_slippage is not None else "0.02")
        price = Decimal(command.price)
        contract = self.market.engine.contracts[name]
        if command.side == "buy":
            units = contract.floor_units(float(price * (1 + slip)))
        else:
            units = contract.ceil_units(float(price * (1 - slip)))
        return contract.price(max(units, 1))

    def _market_order_in_band(
        self,
        request: RequestReceived,
        command: CreateOrder,
        shown: str | None,
        rails_id: str,
        now: float,
    ) -> Outcome:
        try:
            execution = self.market.place(
                request.account,
                request.market,
                command.side,
                now,
                amount=float(command.quantity),
                type="market",
            )
        except mk.MarketError as error:
            status, text = _refusal(error)
            return Outcome(steps=[("error", (status, text, "createOrder"))])
        return self._placed(request, command, shown, rails_id, execution)

    def _placed(
        self,
        request: RequestReceived,
        command: CreateOrder,
        shown: str | None,
        rails_id: str,
        execution: mk.Execution,
    ) -> Outcome:
        order = execution.order
        facts = _Facts(
            rails_id,
            command.trade_type,
            request.client_request_id,
            str(command.price),
            order.creation_timestamp,
        )
        self._remember(order.order_id, facts)
        crid = request.client_request_id
        pending = self.order_out(order, status="pending", fresh=True)
        active = self.order_out(order, status="active", fresh=True)
        ack = OrderDataOut(
            status_code=202,
            body="order created, pending acceptance",
            order=pending,
            client_request_id=crid,
            api_quota_used=1,
        )
        reply = OrderDataOut(
            status_code=200, body="order accepted", order=active, client_request_id=crid
        )
        return Outcome(
            steps=[
                ("ack", self._message("createOrder", shown, ack)),
                ("reply", self._message("createOrder", shown, reply)),
            ],
            events=list(execution.events),
        )

    def _post_only_rejected(
        self,
        request: RequestReceived,
        command: CreateOrder,
        shown: str | None,
        rails_id: str,
        ms: int,
    ) -> Outcome:
        crid = request.client_request_id

        def view(status: str) -> OrderOut:
            return OrderOut(
                market=request.market,
                order_id=rails_id,
                order_type=command.side,
                trade_type="limit",
                price=str(command.price),
                quantity=str(command.quantity),
                filled_quantity="0",
                leverage=self.leverage,
                created_at=ms,
                updated_at=ms,
                order_status=status,
                client_request_id=crid,
                post_only=True,
            )

        steps: list[tuple[str, Any]] = [
            (
                "ack",
                self._message(
                    "createOrder",
                    shown,
                    OrderDataOut(
                        status_code=202,
                        body="order created, pending acceptance",
                        order=view("pending"),
                        client_request_id=crid,
                        api_quota_used=1,
                    ),
                ),
            ),
            (
                "reply",
                self._message(
                    "createOrder",
                    shown,
                    OrderDataOut(
                        status_code=200,
                        body="order accepted",
                        order=view("active"),
                        client_request_id=crid,
                    ),
                ),
            ),
            (
                "push",
                self._message(
                    "rejectOrder",
                    shown,
                    OrderDataOut(
                        status_code=400,
                        body="order rejected: post-only order would cross the book",
                        order=view("rejected"),
                        client_request_id=crid,
                    ),
                ),
            ),
        ]
        return Outcome(steps=steps)

    def _open_order(self, request: RequestReceived, order_id: str, what: str) -> mk.Order | Outcome:
        engine_id = self.engine_of.get(order_id)
        try:
            if engine_id is None:
                raise mk.MarketError("order_not_found")
            record = self.market.order(request.account, engine_id)
        except mk.MarketError as error:
            status, text = _refusal(error)
            return Outcome(steps=[("error", (status, text, what))])
        if record.order_state != "open":
            return Outcome(steps=[("error", (400, "order is not open", what))])
        return record

    def _cancel(
        self, request: RequestReceived, command: CancelOrder, shown: str | None, now: float
    ) -> Outcome:
        found = self._open_order(request, command.order_id, "cancelOrder")
        if isinstance(found, Outcome):
            return found
        crid = request.client_request_id
        ack = OrderDataOut(
            status_code=202,
            body="cancelling order",
            order=self.order_out(found, status="cancelling"),
            client_request_id=crid,
            api_quota_used=1,
        )
        cancellation = self.market.cancel(request.account, found.order_id, now)
        ended = next(o for o in cancellation.orders if o.order_id == found.order_id)
        reply = OrderDataOut(
            status_code=200,
            body="order cancelled",
            order=self.order_out(ended),
            client_request_id=crid,
        )
        return Outcome(
            steps=[
                ("ack", self._message("cancelOrder", shown, ack)),
                ("reply", self._message("cancelOrder", shown, reply)),
            ],
            events=list(cancellation.events),
        )

    def _modify(
        self, request: RequestReceived, command: ModifyOrder, shown: str | None, now: float
    ) -> Outcome:
        found = self._open_order(request, command.order_id, "modifyOrder")
        if isinstance(found, Outcome):
            return found
        crid = request.client_request_id
        price_places, size_places = self.places(found.instrument_name)
        outcome = Outcome()
        ack = OrderDataOut(
            status_code=202,
            body="modifying order",
            order=self.order_out(found, status="modifying"),
            client_request_id=crid,
            api_quota_used=1,
        )
        outcome.steps.append(("ack", self._message("modifyOrder", shown, ack)))
        cancellation = self.market.cancel(request.account, found.order_id, now)
        outcome.events.extend(cancellation.events)
        ended = next(o for o in cancellation.orders if o.order_id == found.order_id)
        price = command.price or decimal_string(found.price, price_places)
        quantity = command.quantity or decimal_string(
            found.amount - found.filled_amount, size_places
        )
        replacement = CreateOrder(
            side=found.direction,
            price=price,
            quantity=quantity,
            post_only=found.post_only or None,
            market=request.market,
        )
        ms = self.market.timestamp(now)
        rails_id = self.new_id(ms)
        try:
            execution = self.market.place(
                request.account,
                request.market,
                found.direction,
                now,
                amount=float(quantity),
                type="limit",
                price=float(price),
                post_only=found.post_only,
                reject_post_only=found.post_only,
            )
        except mk.MarketError as error:
            status, text = _refusal(error)
            outcome.steps.append(("error", (status, f"modify refused: {text}", "modifyOrder")))
            return outcome
        order = execution.order
        self._remember(
            order.order_id,
            _Facts(rails_id, "limit", crid, str(replacement.price), order.creation_timestamp),
        )
        pending = self.order_out(order, status="pending", fresh=True)
        active = self.order_out(order, status="active", fresh=True)
        if self.config.modify_flow == "legacy":
            old = self.order_out(ended, status="modified")
            outcome.steps += [
                ("reply", self._modified(shown, "original order modified", old, crid)),
                (
                    "push",
                    self._modified(shown, "new order created, pending acceptance", pending, crid),
                ),
            ]
        else:
            outcome.steps.append(
                (
                    "reply",
                    self._modified(shown, "order modified, pending acceptance", pending, crid),
                )
            )
        accepted = OrderDataOut(
            status_code=200, body="order accepted", order=active, client_request_id=crid
        )
        outcome.steps.append(("push", self._message("createOrder", shown, accepted)))
        outcome.events.extend(execution.events)
        return outcome

    def _modified(
        self, shown: str | None, body: str, order: OrderOut, crid: str | None
    ) -> Envelope:
        data = OrderDataOut(status_code=200, body=body, order=order, client_request_id=crid)
        return self._message("modifyOrder", shown, data)

    def _book(self, request: RequestReceived, shown: str | None) -> Outcome:
        book = self.market.book(request.market)
        price_places, size_places = self.places(request.market)
        levels = [
            LevelOut(
                order_type=side,
                price=decimal_string(price, price_places),
                quantity=decimal_string(amount, size_places),
            )
            for side, side_levels in (("buy", book.bids), ("sell", book.asks))
            for price, amount in side_levels
        ]
        config = self.config
        data = BookDataOut(
            orders=levels,
            status_code=200,
            ts=book.timestamp if config.snapshot_ts else None,
            client_request_id=request.client_request_id if config.snapshot_ids else None,
        )
        name = "orderBook" if request.message == "emitOrderBook" else "publicOrderBook"
        return Outcome(steps=[("reply", self._message(name, shown, data))])

    def _trades(self, request: RequestReceived, shown: str | None) -> Outcome:
        from ._feeds import match_id

        price_places, size_places = self.places(request.market)
        trades = self.market.last_trades(request.market, self.config.public_trades_snapshot)
        rows = [
            PublicTradeOut(
                execution_type="taker",
                match_id=match_id(t.trade_id),
                order_type=t.direction,
                price=decimal_string(t.price, price_places),
                quantity=decimal_string(t.amount, size_places),
                updated_at=t.timestamp,
            )
            for t in sorted(trades, key=lambda t: (t.timestamp, t.trade_seq))
        ]
        data = PublicTradesDataOut(
            orders=rows,
            status_code=200,
            client_request_id=request.client_request_id if self.config.snapshot_ids else None,
        )
        legacy = request.message == "emitCompletedOrders"
        name = "completedOrders" if legacy else "publicCompletedOrders"
        return Outcome(steps=[("reply", self._message(name, shown, data))])
