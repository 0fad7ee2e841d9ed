"""tradewire's Rails client against the reference venue, in memory on a fake clock: the
token from HTTP, the connection with its query streams, the book kept equal to the
venue's, orders created, filled, cancelled and modified (spec 1-7), and the venue's
messages in the documented shapes."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradewire.conformance.rails import VenueConfig, rails_market
from tradewire.protocol import RequestFailed, RequestSucceeded, SubscriptionActive
from tradewire.protocol.rails import (
    BadRequest,
    BookSnapshot,
    CancelOrder,
    CreateOrder,
    CreateOrderResult,
    EmitPublicTrades,
    ModifyOrder,
    ModifyOrderResult,
    NotFound,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    PublicTrades,
    PublicTradesSnapshot,
    RequestAccepted,
    UserTrades,
)
from tradewire.protocol.rails.server import ServerConfig

sys.path.append(str(Path(__file__).parent))
from support_rails_venue import Session, harness, run

QUIET = rails_market(maker_levels=0, taker_rate=0.0, past_hours=0)
"""No makers, no takers: every order in the book is a test's own."""


def quiet(**config: Any) -> Any:
    return harness(config=VenueConfig(market=QUIET, **config))


def keys_of(data: bytes) -> Any:
    """The key structure of a JSON message, in order (values dropped)."""

    def shape(value: Any) -> Any:
        if isinstance(value, dict):
            return [(k, shape(v)) for k, v in value.items()]
        if isinstance(value, list):
            return [shape(value[0])] if value else []
        return type(value).__name__

    return shape(msgspec.json.decode(data))


def test_a_token_from_http_opens_the_websocket_and_the_book_follows_the_venue() -> None:
    h = harness()
    session = Session(h, subscriptions=("publicOrderBook", "publicTrades"))
    run(h, 3.0, session)
    topics = [e.topic for e in session.of(SubscriptionActive)]
    assert topics == ["publicOrderBook", "publicTrades"]
    assert session.book_matches_venue()
    assert session.of(BookSnapshot)  # the machine asked for it
    server = h.venue.feeds.connections[0]
    assert server.streams == frozenset({"publicOrderBook", "publicTrades"})
    assert server.subprotocol is not None
    assert server.subprotocol.startswith("authorization#")


def test_the_venue_writes_the_documented_shapes() -> None:
    h = harness(config=VenueConfig(market=rails_market(taker_rate=0.3, past_hours=0)))
    session = Session(h)
    run(h, 3.0, session)
    request_id = session.send(CreateOrder(side="buy", price="59000", quantity="0.01"))
    session.send(CancelOrder(order_id=session.outcome(request_id).result.data.order.order_id))
    session.send(EmitPublicTrades())
    shapes: dict[str, Any] = {}
    for data in session.received:
        kind = msgspec.json.decode(data)["resultType"]
        status = msgspec.json.decode(data)["data"]
        status = status.get("statusCode") if isinstance(status, dict) else None
        shapes.setdefault(f"{kind}/{status}", keys_of(data))
    order = [
        ("market", "str"), ("orderId", "str"), ("orderType", "str"), ("tradeType", "str"),
        ("price", "str"), ("quantity", "str"), ("filledQuantity", "str"), ("leverage", "str"),
        ("createdAt", "int"), ("updatedAt", "int"), ("orderStatus", "str"),
        ("clientRequestId", "str"), ("postOnly", "bool"),
    ]  # fmt: skip
    assert shapes["createOrder/202"] == [
        ("resultType", "str"),
        ("market", "str"),
        ("data", [
            ("statusCode", "int"), ("body", "str"), ("order", order),
            ("clientRequestId", "str"), ("apiQuotaUsed", "int"),
        ]),
    ]  # fmt: skip
    assert shapes["createOrder/200"][2][1][:3] == [
        ("statusCode", "int"), ("body", "str"), ("order", order),
    ]  # fmt: skip
    assert ("apiQuotaUsed", "int") not in shapes["createOrder/200"][2][1]  # spec 4.1
    level = [("orderType", "str"), ("price", "str"), ("quantity", "str")]
    assert shapes["publicOrderBookDelta/200"] == [
        ("resultType", "str"),
        ("market", "str"),
        ("data", [("orders", [level]), ("statusCode", "int"), ("ts", "int")]),
    ]
    assert shapes["publicOrderBook/200"] == [
        ("resultType", "str"),
        ("market", "str"),
        ("data", [("orders", [level]), ("statusCode", "int"), ("clientRequestId", "str")]),
    ]  # no ts on a snapshot, as in every revision
    trade = [
        ("executionType", "str"), ("matchId", "str"), ("orderType", "str"), ("price", "str"),
        ("quantity", "str"), ("updatedAt", "int"),
    ]  # fmt: skip
    assert shapes["publicCompletedOrdersDelta/200"] == [
        ("resultType", "str"),
        ("market", "str"),
        ("data", [("orders", [trade]), ("statusCode", "int")]),
    ]
    assert shapes["pong/200"] == [
        ("resultType", "str"),
        ("data", [("clientRequestId", "str"), ("statusCode", "int")]),
    ]
    assert shapes["cancelOrder/202"][2][1][2][1][-1] == ("postOnly", "bool")


def test_an_order_rests_is_cancelled_and_the_answers_come_202_then_200() -> None:
    h = quiet()
    session = Session(h, subscriptions=("orders", "publicOrderBook"))
    run(h, 1.0, session)
    request_id = session.send(CreateOrder(side="buy", price="59000", quantity="0.01"))
    accepted = [e for e in session.of(RequestAccepted) if e.request_id == request_id]
    assert len(accepted) == 1
    assert accepted[0].result.data.order.order_status == "pending"
    done = session.outcome(request_id)
    assert isinstance(done, RequestSucceeded)
    order = done.result.data.order
    assert order.order_status == "active"
    assert len(order.order_id) == 26  # a ULID
    assert (order.price, order.quantity, order.filled_quantity) == ("59000", "0.01", "0")
    run(h, 0.5, session)
    book = session.machine.book("BTC-USD")
    assert book is not None
    assert book.best_bid() == (Decimal("59000"), Decimal("0.01"))
    cancel = session.send(CancelOrder(order_id=order.order_id))
    cancelled = session.outcome(cancel)
    assert isinstance(cancelled, RequestSucceeded)
    assert cancelled.result.data.order.order_status == "cancelled"
    assert [e.result.data.order.order_status for e in session.of(RequestAccepted)][-1] == (
        "cancelling"
    )
    run(h, 0.5, session)
    assert book.best_bid() is None
    again = session.send(CancelOrder(order_id=order.order_id))
    refused = session.outcome(again)
    assert isinstance(refused, RequestFailed)
    assert isinstance(refused.error, BadRequest)
    unknown = session.outcome(session.send(CancelOrder(order_id="01ZZZZZZZZZZZZZZZZZZZZZZZZ")))
    assert isinstance(unknown, RequestFailed)
    assert isinstance(unknown.error, NotFound)


def test_a_fill_reaches_both_accounts_streams_and_the_public_tape() -> None:
    h = quiet()
    maker = Session(h, seed=1)
    taker = Session(h, seed=2, market="ALL")
    run(h, 1.0, maker, taker)
    rest = maker.send(CreateOrder(side="sell", price="60000", quantity="0.02"))
    resting = maker.outcome(rest).result.data.order
    take = taker.send(CreateOrder(side="buy", price="60000", quantity="0.01", market="BTC-USD"))
    assert isinstance(taker.outcome(take), RequestSucceeded)
    run(h, 0.5, maker, taker)
    partial = [
        e for e in maker.of(OrderPartiallyFilled) if e.data.order.order_id == resting.order_id
    ]
    assert partial
    assert (partial[-1].data.order.quantity, partial[-1].data.order.filled_quantity) == (
        "0.01",
        "0.01",
    )
    fills = [f for e in maker.of(UserTrades) for f in e.data]
    assert any(f.order_id == resting.order_id and f.execution_type == "maker" for f in fills)
    taker_fills = [f for e in taker.of(UserTrades) for f in e.data]
    assert any(f.execution_type == "taker" and f.fill_type == "complete" for f in taker_fills)
    assert any(isinstance(e, OrderFilled) for e in taker.events)
    tape = [t for e in maker.of(PublicTrades) for t in e.data.orders]
    assert [(t.price, t.quantity, t.order_type) for t in tape] == [("60000", "0.01", "buy")]
    assert tape[0].match_id == fills[0].match_id  # one match, one id


def test_a_post_only_order_that_would_cross_is_confirmed_then_rejected() -> None:
    h = quiet()
    session = Session(h, subscriptions=("orders",))
    session.send(CreateOrder(side="sell", price="60000", quantity="0.01"))
    request_id = session.send(
        CreateOrder(side="buy", price="60000", quantity="0.01", post_only=True)
    )
    done = session.outcome(request_id)
    assert isinstance(done, RequestSucceeded)  # spec 4.2: the normal 202 and 200 ...
    (rejected,) = session.of(OrderRejected)  # ... followed by a 400 rejectOrder
    assert rejected.data.status_code == 400
    assert rejected.data.order.order_status == "rejected"
    assert rejected.data.client_request_id == request_id
    assert h.venue.market.open_orders("1", instrument_name="BTC-USD")[0].direction == "sell"


def test_a_market_order_fills_within_its_slippage_and_the_rest_is_cancelled() -> None:
    h = quiet()
    session = Session(h, subscriptions=("orders", "trades"))
    maker = Session(h, seed=5, key="tradewire-demo")  # the same account can be its own maker
    maker.send(CreateOrder(side="sell", price="60000", quantity="0.01"))
    maker.send(CreateOrder(side="sell", price="61500", quantity="0.01"))  # beyond 2%
    request_id = session.send(
        CreateOrder(side="buy", price="60000", quantity="0.02", trade_type="market")
    )
    assert isinstance(session.outcome(request_id), RequestSucceeded)
    run(h, 0.5, session, maker)
    filled = [t for e in session.of(UserTrades) for t in e.data if t.execution_type == "taker"]
    assert [(t.price, t.quantity) for t in filled] == [("60000", "0.01")]
    book = h.venue.market.book("BTC-USD")
    assert [(p, a) for p, a in book.asks] == [(61500.0, 0.01)]


def test_a_modify_is_a_cancel_and_a_new_order_under_a_new_id() -> None:
    for flow in ("current", "legacy"):
        h = quiet(server=ServerConfig(modify_flow=flow))
        session = Session(h, subscriptions=("orders",))
        first = session.outcome(
            session.send(CreateOrder(side="buy", price="59000", quantity="0.01"))
        )
        old = first.result.data.order
        modify = session.send(ModifyOrder(order_id=old.order_id, price="59100"))
        done = session.outcome(modify)
        assert isinstance(done, RequestSucceeded)
        assert isinstance(done.result, ModifyOrderResult)
        created = [e for e in session.of(CreateOrderResult) if e.data.client_request_id == modify]
        (accepted,) = created  # spec 4.4: the new order's createOrder 200 comes last
        new = accepted.data.order
        assert new.order_status == "active"
        assert new.order_id != old.order_id
        assert new.price == "59100"
        open_orders = h.venue.market.open_orders("1")
        assert [o.price for o in open_orders] == [59100.0]
        extra = [e for e in session.of(ModifyOrderResult) if e.data.client_request_id == modify]
        assert len(extra) == (1 if flow == "legacy" else 0)


def test_an_order_with_another_leverage_than_the_accounts_is_refused() -> None:
    h = quiet()
    session = Session(h)
    request_id = session.send(CreateOrder(side="buy", price="59000", quantity="0.01", leverage="5"))
    failed = session.outcome(request_id)
    assert isinstance(failed, RequestFailed)
    assert isinstance(failed.error, BadRequest)
    assert "leverage" in failed.error.message


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (CreateOrder(side="buy", price="59000.3", quantity="0.01"), "price wrong tick"),
        (CreateOrder(side="buy", price="59000", quantity="0.00001"), "qty too low"),
        (CreateOrder(side="buy", price="10", quantity="0.01"), "price too low"),
    ],
)
def test_a_refusal_by_the_market_names_its_reason(order: CreateOrder, reason: str) -> None:
    session = Session(quiet())
    failed = session.outcome(session.send(order))
    assert isinstance(failed, RequestFailed)
    assert reason in failed.error.message


def test_recent_public_trades_come_on_request_newest_last() -> None:
    h = harness(config=VenueConfig(market=rails_market(past_trades=5)))
    session = Session(h, subscriptions=("publicTrades",))
    request_id = session.send(EmitPublicTrades())
    done = session.outcome(request_id)
    assert isinstance(done, RequestSucceeded)
    assert isinstance(done.result, PublicTradesSnapshot)
    times = [t.updated_at for t in done.result.data.orders]
    assert times == sorted(times)
    assert len(times) == 5
