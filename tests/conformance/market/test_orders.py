"""Order management: edit, cancel, the cancel-all family, labels, queries, and every
refusal, with the Deribit code and message the reference venue answers it with (and the
protocol's error class for that code)."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from tradewire.conformance.deribit import REASON_CODES, refusal
from tradewire.conformance.market import (
    BookChange,
    Execution,
    Market,
    MarketError,
    Order,
    UserTrade,
)
from tradewire.protocol.deribit import _errors as deribit_errors

PERP = "BTC-PERPETUAL"


def limit(m: Market, who: str, side: str, amount: float, price: float, **kw: Any) -> Execution:
    return m.place(who, kw.pop("instrument", PERP), side, 1.0, amount=amount, price=price, **kw)


class Refused(NamedTuple):
    """A market refusal and the Deribit error answering it."""

    reason: str
    code: int
    message: str
    data: Any


def refused(call: Any) -> Refused:
    with pytest.raises(MarketError) as info:
        call()
    code, message, data = refusal(info.value)
    return Refused(info.value.reason, code, message, data)


# -- edit ---------------------------------------------------------------------------------


def test_edit_keeps_the_id_and_marks_the_order_replaced(quiet: Market) -> None:
    placed = limit(quiet, "alice", "buy", 100, 59_000).order
    edited = quiet.edit("alice", placed.order_id, 2.0, amount=200, price=59_500)
    assert edited.order.order_id == placed.order_id
    assert (edited.order.amount, edited.order.price, edited.order.replaced) == (
        200.0,
        59_500.0,
        True,
    )
    assert edited.order.last_update_timestamp == placed.creation_timestamp + 1000
    assert quiet.book(PERP).bids == ((59_500.0, 200.0),)
    (change,) = [e for e in edited.events if isinstance(e, BookChange)]
    assert change.bids == (("new", 59_500.0, 200.0), ("delete", 59_000.0, 0.0))


def test_edit_down_in_amount_keeps_the_queue_place(quiet: Market) -> None:
    bob = limit(quiet, "bob", "sell", 100, 60_000).order
    limit(quiet, "carol", "sell", 100, 60_000)
    quiet.edit("bob", bob.order_id, 1.0, amount=50)
    taken = quiet.buy("alice", PERP, 1.0, amount=50, type="market")
    assert [t.account for t in taken.events if isinstance(t, UserTrade)] == ["alice", "bob"]


def test_edit_up_in_amount_goes_to_the_back_of_the_queue(quiet: Market) -> None:
    bob = limit(quiet, "bob", "sell", 100, 60_000).order
    limit(quiet, "carol", "sell", 100, 60_000)
    quiet.edit("bob", bob.order_id, 1.0, amount=150)
    taken = quiet.buy("alice", PERP, 1.0, amount=50, type="market")
    assert [t.account for t in taken.events if isinstance(t, UserTrade)] == ["alice", "carol"]


def test_edit_to_a_crossing_price_trades_at_once(quiet: Market) -> None:
    bid = limit(quiet, "alice", "buy", 100, 59_000).order
    limit(quiet, "bob", "sell", 60, 60_000)
    edited = quiet.edit("alice", bid.order_id, 1.0, price=60_000)
    assert [(t.price, t.amount) for t in edited.trades] == [(60_000.0, 60.0)]
    assert (edited.order.filled_amount, edited.order.order_state) == (60.0, "open")
    assert quiet.book(PERP).bids == ((60_000.0, 40.0),)


def test_edit_of_a_post_only_order_reprices_or_rejects(quiet: Market) -> None:
    limit(quiet, "bob", "sell", 100, 60_000)
    bid = limit(quiet, "alice", "buy", 10, 59_000, post_only=True).order
    assert quiet.edit("alice", bid.order_id, 1.0, price=61_000).order.price == 59_999.5
    error = refused(
        lambda: quiet.edit("alice", bid.order_id, 1.0, price=61_000, reject_post_only=True)
    )
    assert error.code == 11054
    assert quiet.order("alice", bid.order_id).price == 59_999.5  # unchanged


def test_edit_refusals(quiet: Market) -> None:
    order = limit(quiet, "alice", "buy", 100, 59_000).order
    assert refused(lambda: quiet.edit("alice", "nope", 1.0, amount=10)).code == 10004
    assert refused(lambda: quiet.edit("bob", order.order_id, 1.0, amount=10)).code == 10004
    assert refused(lambda: quiet.edit("alice", order.order_id, 1.0, price=59_000.2)).code == 10043
    limit(quiet, "bob", "sell", 50, 59_000)
    assert refused(lambda: quiet.edit("alice", order.order_id, 1.0, amount=50)).code == 10021
    quiet.cancel("alice", order.order_id, 1.0)
    assert refused(lambda: quiet.edit("alice", order.order_id, 1.0, amount=90)).code == 11044


def test_edit_by_label(quiet: Market) -> None:
    limit(quiet, "alice", "buy", 100, 59_000, label="grid-1")
    edited = quiet.edit_by_label("alice", "grid-1", PERP, 1.0, price=58_000)
    assert (edited.order.label, edited.order.price) == ("grid-1", 58_000.0)
    assert refused(lambda: quiet.edit_by_label("alice", "nope", PERP, 1.0)).code == 10004


# -- cancel -----------------------------------------------------------------------------------


def test_cancel_returns_the_cancelled_order_and_deletes_its_level(quiet: Market) -> None:
    order = limit(quiet, "alice", "buy", 100, 59_000).order
    result = quiet.cancel("alice", order.order_id, 2.0)
    (cancelled,) = result.orders
    assert (cancelled.order_state, cancelled.cancel_reason) == ("cancelled", "user_request")
    assert cancelled.last_update_timestamp == order.creation_timestamp + 1000
    (change,) = [e for e in result.events if isinstance(e, BookChange)]
    assert change.bids == (("delete", 59_000.0, 0.0),)
    assert quiet.open_orders("alice") == []
    assert quiet.order("alice", order.order_id) == cancelled
    assert quiet.order_history("alice") == [cancelled]


def test_cancel_refusals(quiet: Market) -> None:
    assert refused(lambda: quiet.cancel("alice", "584849853", 1.0)).code == 10004
    order = limit(quiet, "alice", "buy", 100, 59_000).order
    assert refused(lambda: quiet.cancel("bob", order.order_id, 1.0)).code == 10004
    quiet.cancel("alice", order.order_id, 1.0)
    error = refused(lambda: quiet.cancel("alice", order.order_id, 1.0))
    assert (error.code, error.message) == (11044, "not_open_order")
    limit(quiet, "bob", "sell", 100, 60_000)
    filled = limit(quiet, "alice", "buy", 100, 60_000).order
    assert refused(lambda: quiet.cancel("alice", filled.order_id, 1.0)).code == 11044


@pytest.fixture
def spread(quiet: Market) -> dict[str, str]:
    """One resting order per family, labelled; returns instrument -> order id."""
    option = quiet.instruments("BTC", "option")[0].instrument_name
    orders = {
        PERP: limit(quiet, "alice", "buy", 100, 59_000, label="a").order,
        "ETH-PERPETUAL": limit(
            quiet, "alice", "buy", 1, 2_900, instrument="ETH-PERPETUAL", label="a"
        ).order,
        option: limit(quiet, "alice", "buy", 1, 0.001, instrument=option, label="b").order,
        "BTC_USDC-PERPETUAL": limit(
            quiet, "alice", "buy", 0.01, 59_000, instrument="BTC_USDC-PERPETUAL", label="b"
        ).order,
        "BTC_USDC": limit(quiet, "alice", "buy", 0.01, 59_000, instrument="BTC_USDC").order,
    }
    limit(quiet, "bob", "buy", 100, 59_000, label="a")  # another account is never touched
    return {name: o.order_id for name, o in orders.items()}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"BTC-PERPETUAL", "ETH-PERPETUAL", "option", "BTC_USDC-PERPETUAL", "BTC_USDC"}),
        ({"currency": "BTC"}, {"BTC-PERPETUAL", "option", "BTC_USDC"}),
        ({"currency": ["ETH", "USDC"]}, {"ETH-PERPETUAL", "BTC_USDC-PERPETUAL"}),
        ({"currency": "any", "kind": "future"},
         {"BTC-PERPETUAL", "ETH-PERPETUAL", "BTC_USDC-PERPETUAL"}),
        ({"currency": "BTC", "kind": "option"}, {"option"}),
        ({"kind": "spot"}, {"BTC_USDC"}),
        ({"instrument_name": "ETH-PERPETUAL"}, {"ETH-PERPETUAL"}),
        ({"label": "b"}, {"option", "BTC_USDC-PERPETUAL"}),
        ({"label": "b", "currency": "USDC"}, {"BTC_USDC-PERPETUAL"}),
        ({"type": "limit"}, {"BTC-PERPETUAL", "ETH-PERPETUAL", "option", "BTC_USDC-PERPETUAL",
                             "BTC_USDC"}),
        ({"type": "trigger_all"}, set()),
        ({"kind": "future_combo"}, set()),
    ],
)  # fmt: skip
def test_cancel_all_variants(
    quiet: Market, spread: dict[str, str], filters: dict[str, Any], expected: set[str]
) -> None:
    result = quiet.cancel_all("alice", 1.0, **filters)

    def family(name: str) -> str:
        return "option" if name.endswith(("-C", "-P")) else name

    assert {family(o.instrument_name) for o in result.orders} == expected
    assert all(o.order_state == "cancelled" for o in result.orders)
    left = {family(o.instrument_name) for o in quiet.open_orders("alice")}
    assert left == {family(name) for name in spread} - expected
    assert len(quiet.open_orders("bob")) == 1
    assert sum(isinstance(e, Order) for e in result.events) == len(expected)


def test_cancel_all_with_an_unknown_kind_or_type_is_refused(
    quiet: Market, spread: dict[str, str]
) -> None:
    assert refused(lambda: quiet.cancel_all("alice", 1.0, kind="swap")).code == 11029
    assert refused(lambda: quiet.cancel_all("alice", 1.0, type="iceberg")).code == 11029
    assert len(quiet.open_orders("alice")) == len(spread)


def test_open_orders_queries_filter_like_cancel_all(quiet: Market, spread: dict[str, str]) -> None:
    assert [o.order_id for o in quiet.open_orders("alice", label="a")] == [
        spread[PERP],
        spread["ETH-PERPETUAL"],
    ]
    assert quiet.open_orders("nobody") == []
    assert [o.order_id for o in quiet.open_orders("alice", instrument_name="BTC_USDC")] == [
        spread["BTC_USDC"]
    ]


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "code", "error_class"),
    [
        ({"instrument_name": "BTC-1JAN99"}, 10020, deribit_errors.InvalidInstrument),
        ({"amount": 5}, 10002, deribit_errors.QuantityTooLow),
        ({"amount": 15}, 10027, deribit_errors.InvalidAmount),
        ({"amount": 0}, 10021, deribit_errors.InvalidAmount),
        ({"amount": None}, 10021, deribit_errors.InvalidAmount),
        ({"amount": 20, "contracts": 3}, 10021, deribit_errors.InvalidAmount),
        ({"price": 60_000.25}, 10043, deribit_errors.PriceWrongTick),
        ({"price": 70_000}, 10007, deribit_errors.PriceOutOfRange),
        ({"price": 50_000}, 10005, deribit_errors.PriceOutOfRange),
        ({"price": None}, 10023, deribit_errors.PriceOutOfRange),
        ({"price": float("nan")}, 10023, deribit_errors.PriceOutOfRange),
        ({"type": "stop_limit"}, 10033, deribit_errors.MethodNotImplemented),
        ({"type": "iceberg"}, 11029, deribit_errors.BadRequest),
        ({"time_in_force": "forever"}, 11029, deribit_errors.BadRequest),
        ({"direction": "hold"}, 11029, deribit_errors.BadRequest),
        ({"label": "x" * 65}, 11029, deribit_errors.BadRequest),
        ({"post_only": True, "time_in_force": "immediate_or_cancel"}, 11055, None),
        ({"post_only": True, "type": "market"}, 11055, None),
        ({"amount": 50_000_000}, 10009, deribit_errors.InsufficientFunds),
    ],
)
def test_refused_orders_carry_deribit_codes_and_change_nothing(
    quiet: Market, params: dict[str, Any], code: int, error_class: type | None
) -> None:
    limit(quiet, "bob", "sell", 100, 60_000)
    before = (quiet.book(PERP), quiet.open_orders("alice"), quiet.portfolio("alice", "BTC"))
    request: dict[str, Any] = {
        "instrument_name": PERP,
        "direction": "buy",
        "amount": 100,
        "price": 59_000,
    } | params
    name, direction = request.pop("instrument_name"), request.pop("direction")
    error = refused(lambda: quiet.place("alice", name, direction, 1.0, **request))
    assert error.code == code == REASON_CODES[error.reason]
    assert error.message.split()[0] == deribit_errors.ERROR_MESSAGES[code]
    if error_class is not None:
        assert isinstance(deribit_errors.error_for(error.code, error.message), error_class)
    assert (quiet.book(PERP), quiet.open_orders("alice"), quiet.portfolio("alice", "BTC")) == before
    follow = limit(quiet, "alice", "buy", 10, 59_000).order
    assert follow.order_id == "584849854"  # a refused order consumes no id


def test_price_band_errors_name_the_limit(quiet: Market) -> None:
    error = refused(lambda: limit(quiet, "alice", "buy", 10, 70_000))
    assert error.message == "price_too_high 63000.0"
    error = refused(lambda: limit(quiet, "alice", "sell", 10, 50_000))
    assert error.message == "price_too_low 57000.0"


def test_amounts_may_be_given_in_contracts(quiet: Market) -> None:
    order = quiet.buy("alice", PERP, 1.0, contracts=3, price=59_000).order
    assert (order.amount, order.contracts) == (30.0, 3.0)
    option = quiet.instruments(kind="option")[0].instrument_name
    error = refused(lambda: quiet.buy("alice", option, 1.0, amount=0.15, price=0.001))
    assert error.code == 10021  # off the 0.1 grid of an option: invalid_amount


def test_option_prices_must_sit_on_the_tick_steps(quiet: Market) -> None:
    option = quiet.instruments(kind="option")[0].instrument_name
    assert refused(lambda: quiet.buy("alice", option, 1.0, amount=1, price=0.0051)).code == 10043
    assert quiet.buy("alice", option, 1.0, amount=1, price=0.0049).order.price == 0.0049
    assert quiet.buy("alice", option, 1.0, amount=1, price=0.0055).order.price == 0.0055


def test_an_expired_instrument_refuses_orders(quiet: Market) -> None:
    dated = quiet.instruments("BTC", "future")[1]
    assert dated.settlement_period != "perpetual"
    later = (dated.expiration_timestamp - quiet.config.start_ms) / 1000 + 1
    quiet.advance(later)
    name = dated.instrument_name
    error = refused(lambda: quiet.buy("alice", name, later, amount=10, price=60_000))
    assert (error.code, error.message) == (13019, "orderbook_closed")
    assert quiet.instrument(name).is_active is False
    assert name in [i.instrument_name for i in quiet.instruments("BTC", expired=True)]
