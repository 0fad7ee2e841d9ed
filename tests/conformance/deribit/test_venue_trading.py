"""Trading through the reference venue with tradewire's own client: the order lifecycle,
cancel-on-disconnect, the market's refusals as Deribit errors, scopes and accounts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tradewire.protocol.deribit import (
    Buy,
    Cancel,
    CancelAll,
    CancelAllByCurrency,
    CancelByLabel,
    Edit,
    EditByLabel,
    EnableCancelOnDisconnect,
    GenericRequest,
    GetAccountSummary,
    GetCancelOnDisconnect,
    GetOpenOrdersByCurrency,
    GetOpenOrdersByInstrument,
    GetOrderBook,
    GetOrderState,
    GetPosition,
    GetPositions,
    InvalidParams,
    MethodNotImplemented,
    NotOpenOrder,
    OrderNotFound,
    OrderResult,
    PortfolioUpdate,
    PriceWrongTick,
    Sell,
    Subscribe,
    TimedOut,
    UserChangesUpdate,
    UserOrdersUpdate,
    UserTradesUpdate,
)

sys.path.append(str(Path(__file__).parent))
from support_venue import (
    STILL,
    TAKER_ID,
    TAKER_SECRET,
    Client,
    assert_recovered,
    make_harness,
)

PERP = "BTC-PERPETUAL"
USER = [
    "user.orders.any.any.raw",
    "user.trades.any.any.raw",
    "user.changes.BTC-PERPETUAL.raw",
    "user.portfolio.BTC",
]


def orders_seen(client: Client) -> list[tuple[str, str, float, bool]]:
    return [
        (o.order_id, o.order_state, o.filled_amount, o.replaced)
        for event in client.of(UserOrdersUpdate)
        for o in event.orders
    ]


def test_the_order_lifecycle_rest_edit_partial_fill_cancel() -> None:
    harness = make_harness(STILL)
    maker = Client(harness)
    taker = Client(harness, client_id=TAKER_ID, secret=TAKER_SECRET, seed=8)
    maker.send(Subscribe(channels=USER))
    harness.advance(1.0)
    assert set(maker.machine.ledger.active()) == set(USER)
    book = maker.call(GetOrderBook(instrument_name=PERP, depth=5))
    price = book.bids[0][0] + 0.5  # improve the best bid, below the best ask
    assert price < book.asks[0][0]

    # a resting limit order: the answer, then a user.orders notification (one object, raw)
    placed = maker.call(Buy(instrument_name=PERP, amount=100, type="limit", price=price))
    assert isinstance(placed, OrderResult)
    order_id = placed.order.order_id
    assert (placed.order.order_state, placed.order.filled_amount, placed.trades) == ("open", 0, [])
    assert orders_seen(maker) == [(order_id, "open", 0.0, False)]
    raw = maker.of(UserOrdersUpdate)[-1]
    assert raw.channel == "user.orders.any.any.raw"
    assert not isinstance(raw.data, list)

    # edit: same id, replaced
    edited = maker.call(Edit(order_id=order_id, amount=200, price=price))
    assert (edited.order.order_id, edited.order.amount, edited.order.replaced) == (
        order_id,
        200,
        True,
    )
    assert orders_seen(maker)[-1] == (order_id, "open", 0.0, True)

    # a taker sells into it at the same instant: a partial fill for the maker
    taken = taker.call(Sell(instrument_name=PERP, amount=30, type="limit", price=price))
    assert [(t.price, t.amount, t.liquidity) for t in taken.trades] == [(price, 30, "T")]
    assert orders_seen(maker)[-1] == (order_id, "open", 30.0, True)
    (trades,) = maker.of(UserTradesUpdate)
    assert [(t.order_id, t.amount, t.liquidity, t.direction) for t in trades.data] == [
        (order_id, 30.0, "M", "buy")
    ]
    changes = maker.of(UserChangesUpdate)
    assert changes[-1].data.instrument_name == PERP
    assert [p.size for p in changes[-1].data.positions] == [30.0]
    assert maker.of(PortfolioUpdate)
    position = maker.call(GetPosition(instrument_name=PERP))
    assert (position.size, position.direction, position.average_price) == (30.0, "buy", price)
    assert [p.instrument_name for p in maker.call(GetPositions(currency="BTC"))] == [PERP]

    # cancel: the rest of the order is cancelled
    cancelled = maker.call(Cancel(order_id=order_id))
    assert (cancelled.order_state, cancelled.filled_amount, cancelled.cancel_reason) == (
        "cancelled",
        30.0,
        "user_request",
    )
    assert orders_seen(maker)[-1] == (order_id, "cancelled", 30.0, True)
    state = maker.call(GetOrderState(order_id=order_id))
    assert state.order_state == "cancelled"
    assert maker.call(GetOpenOrdersByCurrency(currency="BTC")) == []
    assert_recovered(maker)


def test_cancel_on_disconnect_cancels_that_connections_orders() -> None:
    harness = make_harness(STILL)
    client = Client(harness)
    # the same account on another connection (client_credentials: two signatures at the
    # same instant would reuse the nonce, which the venue refuses)
    other = Client(harness, seed=9, grant="client_credentials")
    other.send(Subscribe(channels=["user.orders.any.any.raw"]))
    harness.advance(1.0)
    assert client.call(EnableCancelOnDisconnect()) == "ok"
    assert client.call(GetCancelOnDisconnect()).enabled is True
    book = client.call(GetOrderBook(instrument_name=PERP))
    low = book.bids[-1][0] - 100
    mine = client.call(Buy(instrument_name=PERP, amount=10, price=low, label="cod"))
    theirs = other.call(Buy(instrument_name=PERP, amount=10, price=low))
    client.link.drop()  # the cable is pulled
    harness.pump()
    states = {o.order_id: o for e in other.of(UserOrdersUpdate) for o in e.orders}
    assert states[mine.order.order_id].order_state == "cancelled"
    assert states[mine.order.order_id].cancel_reason == "cancel_on_disconnect"
    assert states[theirs.order.order_id].order_state == "open"
    harness.advance(5.0)  # the client reconnects by itself
    again = client.call(GetOrderState(order_id=mine.order.order_id))
    assert (again.order_state, again.cancel_reason) == ("cancelled", "cancel_on_disconnect")
    assert [o.order_id for o in other.call(GetOpenOrdersByInstrument(instrument_name=PERP))] == [
        theirs.order.order_id
    ]


def test_cancel_on_disconnect_is_off_by_default() -> None:
    harness = make_harness(STILL)
    client = Client(harness)
    harness.advance(1.0)
    low = client.call(GetOrderBook(instrument_name=PERP)).bids[-1][0] - 100
    placed = client.call(Buy(instrument_name=PERP, amount=10, price=low))
    client.link.drop()
    harness.advance(5.0)
    assert client.call(GetOrderState(order_id=placed.order.order_id)).order_state == "open"


def test_market_refusals_are_deribit_errors() -> None:
    harness = make_harness(STILL)
    client = Client(harness)
    harness.advance(1.0)
    with pytest.raises(PriceWrongTick) as wrong_tick:
        client.call(Buy(instrument_name=PERP, amount=10, price=50_000.3))
    assert wrong_tick.value.code == 10043
    with pytest.raises(OrderNotFound):
        client.call(Cancel(order_id="nope"))
    low = client.call(GetOrderBook(instrument_name=PERP)).bids[-1][0] - 100
    placed = client.call(Buy(instrument_name=PERP, amount=10, price=low))
    client.call(Cancel(order_id=placed.order.order_id))
    with pytest.raises(NotOpenOrder):
        client.call(Cancel(order_id=placed.order.order_id))
    with pytest.raises(MethodNotImplemented) as unmodelled:
        client.call(Buy(instrument_name=PERP, amount=10, price=low, advanced="usd"))
    assert unmodelled.value.data == {"reason": "not modelled by this venue", "param": "advanced"}
    with pytest.raises(TimedOut):
        client.call(Buy(instrument_name=PERP, amount=10, price=low, valid_until=1))
    with pytest.raises(InvalidParams):
        client.call(GetAccountSummary(currency="XRP"))


def test_cancel_families_by_label_and_currency_with_detailed_reports() -> None:
    harness = make_harness(STILL)
    client = Client(harness)
    harness.advance(1.0)
    low = client.call(GetOrderBook(instrument_name=PERP)).bids[-1][0] - 100
    for label in ("a", "a", "b"):
        client.call(Buy(instrument_name=PERP, amount=10, price=low, label=label))
    edited = client.call(EditByLabel(label="b", instrument_name=PERP, amount=20, price=low))
    assert (edited.order.amount, edited.order.replaced) == (20, True)
    assert client.call(CancelByLabel(label="a")) == 2
    client.call(Buy(instrument_name="ETH-PERPETUAL", amount=1, price=2_900.0))
    reports = client.call(CancelAllByCurrency(currency="BTC", detailed=True))
    assert [(r.currency, r.type, [o.label for o in r.result]) for r in reports] == [
        ("BTC", "limit", ["b"])
    ]
    assert client.call(CancelAll()) == 1


def test_account_summary_extended_and_generic_history_methods() -> None:
    harness = make_harness(STILL)
    client = Client(harness)
    harness.advance(1.0)
    plain = client.call(GetAccountSummary(currency="BTC"))
    assert plain.balance == 10.0
    assert plain.limits is None
    extended = client.call(GetAccountSummary(currency="BTC", extended=True))
    assert (extended.id, extended.username, extended.type) == (1, "tradewire-demo", "main")
    assert extended.limits is not None
    assert extended.limits["matching_engine"]["trading"]["total"] == {"burst": 20, "rate": 5}
    everything = client.call(GenericRequest(method="private/get_account_summaries"))
    assert everything["id"] == 1
    assert [(x["currency"], x["balance"]) for x in everything["summaries"]] == [
        ("BTC", 10.0),
        ("ETH", 100.0),
        ("USDC", 1_000_000.0),
    ]
    ask = client.call(GetOrderBook(instrument_name=PERP)).asks[0][0]
    bought = client.call(Buy(instrument_name=PERP, amount=10, type="market"))
    assert bought.order.order_state == "filled"
    assert bought.trades[0].price == ask
    trades = client.call(
        GenericRequest(
            method="private/get_user_trades_by_instrument", params={"instrument_name": PERP}
        )
    )
    assert [t["order_id"] for t in trades["trades"]] == [bought.order.order_id]
    assert trades["has_more"] is False
    history = client.call(
        GenericRequest(method="private/get_order_history_by_currency", params={"currency": "BTC"})
    )
    assert [o["order_state"] for o in history] == ["filled"]


def test_a_key_without_trade_scope_is_forbidden_to_trade() -> None:
    harness = make_harness(STILL)
    harness.venue.state.add_client("reader", "reader-secret", scope="account:read trade:read")
    client = Client(harness, client_id="reader", secret="reader-secret")
    harness.advance(1.0)
    with pytest.raises(Exception, match="13021") as refused:
        client.call(Buy(instrument_name=PERP, amount=10, price=50_000.0))
    assert getattr(refused.value, "code", None) == 13021
    assert client.call(GetOpenOrdersByCurrency(currency="BTC")) == []
