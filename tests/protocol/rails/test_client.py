"""The Rails client machine on its own, fed the venue's messages (spec 1-8): the upgrade
request, subscriptions in the query and by request, 202 then 200 resolving once, pings,
the token's life, and errors by class.  Books are in ``test_client_books.py``."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import pytest

from tradewire.protocol import (
    CloseRequest,
    ConnectionLost,
    LocalProtocolError,
    RedactingFilter,
    RequestFailed,
    RequestSucceeded,
    SubscriptionActive,
    SubscriptionEnded,
    SubscriptionRejected,
    UuidIds,
)
from tradewire.protocol.rails import (
    BadRequest,
    CancelOrder,
    CancelOrderResult,
    ClientProtocol,
    CreateOrder,
    CreateOrderResult,
    ErrorMessage,
    GenericRequest,
    ModifyOrder,
    ModifyOrderResult,
    OrderFilled,
    OrderRefused,
    OrderRejected,
    Ping,
    PongTimeout,
    ReadOnlyKey,
    RequestAccepted,
    Subscribe,
    SubscribeResult,
    TokenRejected,
    TokenWanted,
    TooManyRequests,
    UnknownMessage,
    Unsubscribe,
    UpgradeRefused,
    UseToken,
)

sys.path.append(str(Path(__file__).parent))
from support_rails import TOKEN, client, message, order, reply, sent


def connected(**options: Any) -> ClientProtocol:
    options.setdefault("subscriptions", ("publicTrades",))
    machine = client(ping_interval=None, **options)
    machine.connection_made(0.0)
    sent(machine)
    machine.events()
    return machine


def types(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


# -- the upgrade request (spec 1) ------------------------------------------------------------


def test_the_upgrade_carries_market_subscriptions_and_the_token_as_subprotocol() -> None:
    machine = client(subscriptions=("orders", "trades", "publicTrades", "publicOrderBook"))
    handshake = machine.handshake
    assert handshake.path == "/"
    assert handshake.query == (
        ("market", "BTC-USD"),
        ("subscriptions", "orders,trades,publicTrades,publicOrderBook"),
    )
    assert handshake.subprotocols == (f"authorization#{TOKEN}",)
    assert TOKEN not in repr(handshake)  # the JWT never shows
    assert TOKEN not in repr(machine)
    assert TOKEN not in repr(machine.options)


def test_without_subscriptions_the_query_leaves_them_to_the_venue_default() -> None:
    assert client().handshake.query == (("market", "BTC-USD"),)


def test_market_all_and_a_missing_token_shape_the_upgrade() -> None:
    machine = client(market="ALL", token=None, token_expires_in=None)
    assert machine.handshake.query == (("market", "ALL"),)
    assert machine.handshake.subprotocols == ()


@pytest.mark.parametrize(
    ("options", "argument"),
    [
        ({"market": "btc-usd"}, "market"),
        ({"ids": None}, "ids"),
        ({"token": 5}, "token"),
        ({"subscriptions": ("book",)}, "subscriptions"),
        ({"renew_fraction": 1.0}, "renew_fraction"),
        ({"ping_interval": 0}, "ping_interval"),
        ({"order_rate": -1}, "order_rate"),
        ({"path": "ws"}, "path"),
        ({"nope": 1}, "option"),
    ],
)
def test_a_bad_option_is_refused_by_name(options: dict[str, Any], argument: str) -> None:
    with pytest.raises(LocalProtocolError, match=f"invalid {argument}"):
        client(**options)


# -- subscriptions (spec 1, 3.2, 3.3) -----------------------------------------------------------


def test_subscriptions_go_in_the_query_then_by_request_and_are_restored_exactly() -> None:
    machine = client(ping_interval=None)
    request_id = machine.send(Subscribe(subscriptions=("orders", "publicOrderBook")), 0.0)
    assert machine.handshake.query[1] == ("subscriptions", "orders,publicOrderBook")
    machine.connection_made(1.0)
    events = machine.events()
    assert [e.topic for e in events if isinstance(e, SubscriptionActive)] == [
        "orders",
        "publicOrderBook",
    ]
    (done,) = [e for e in events if isinstance(e, RequestSucceeded)]
    assert done.request_id == request_id
    assert done.result == SubscribeResult(active=("orders", "publicOrderBook"))
    sent(machine)  # the book's snapshot request
    later = machine.send(Subscribe(subscriptions=("publicTrades", "orders")), 2.0)
    (subscribe,) = sent(machine)
    assert subscribe["message"] == "subscribe"
    assert subscribe["content"]["subscriptions"] == ["publicTrades"]  # orders is active
    crid = subscribe["content"]["clientRequestId"]
    machine.receive_message(
        message(
            "subscribed",
            {
                "activeSubscriptions": ["orders", "publicTrades", "publicOrderBook"],
                "clientRequestId": crid,
                "requestedSubscriptions": ["publicTrades"],
            },
        ),
        2.1,
    )
    done_later = [e for e in machine.events() if isinstance(e, RequestSucceeded)]
    assert [e.request_id for e in done_later] == [later]
    gone = machine.send(Unsubscribe(subscriptions=("orders",)), 3.0)
    (unsubscribe,) = sent(machine)
    assert unsubscribe["message"] == "unsubscribe"
    machine.receive_message(
        message(
            "unsubscribed",
            {
                "activeSubscriptions": ["publicTrades", "publicOrderBook"],
                "clientRequestId": unsubscribe["content"]["clientRequestId"],
                "requestedSubscriptions": ["orders"],
            },
        ),
        3.1,
    )
    events = machine.events()
    assert [e.topic for e in events if isinstance(e, SubscriptionEnded)] == ["orders"]
    assert any(isinstance(e, RequestSucceeded) and e.request_id == gone for e in events)
    machine.connection_lost(4.0)
    assert machine.handshake.query == (
        ("market", "BTC-USD"),
        ("subscriptions", "publicOrderBook,publicTrades"),
    )
    machine.connection_made(5.0)
    assert sorted(machine.ledger.active()) == ["publicOrderBook", "publicTrades"]


def test_with_no_stream_wanted_the_venues_default_orders_is_ended_at_once() -> None:
    machine = client(ping_interval=None)
    assert machine.handshake.query == (("market", "BTC-USD"),)  # the venue's default applies
    machine.connection_made(0.0)
    (request,) = sent(machine)
    assert request["message"] == "unsubscribe"
    assert request["content"]["subscriptions"] == ["orders"]
    machine.receive_message(
        message(
            "unsubscribed",
            {
                "activeSubscriptions": [],
                "clientRequestId": request["content"]["clientRequestId"],
                "requestedSubscriptions": ["orders"],
            },
        ),
        0.1,
    )
    assert types(machine.events()) == ["SubscriptionActive", "SubscriptionEnded"]
    assert machine.ledger.active() == []
    assert machine.pending == 0


def test_a_stream_left_out_of_active_subscriptions_is_rejected_by_name() -> None:
    machine = connected(subscriptions=("orders",))
    machine.send(Subscribe(subscriptions=("publicTrades",)), 1.0)
    (request,) = sent(machine)
    machine.receive_message(
        message(
            "subscribed",
            {"activeSubscriptions": [], "clientRequestId": request["content"]["clientRequestId"]},
        ),
        1.1,
    )
    (rejected,) = [e for e in machine.events() if isinstance(e, SubscriptionRejected)]
    assert rejected.topic == "publicTrades"
    assert "activeSubscriptions" in rejected.reason


def test_private_streams_need_a_token() -> None:
    machine = client(token=None, token_expires_in=None)
    with pytest.raises(LocalProtocolError, match="token"):
        machine.send(Subscribe(subscriptions=("orders",)), 0.0)
    machine.send(Subscribe(subscriptions=("publicTrades",)), 0.0)  # public: fine


def test_the_wire_subscribe_is_managed_by_the_machine() -> None:
    machine = connected()
    with pytest.raises(LocalProtocolError, match="send Subscribe"):
        machine.send(GenericRequest(name="subscribe", fields={"subscriptions": ["orders"]}), 1.0)


# -- requests: 202 then 200, once (spec 2, 4) -------------------------------------------------


def test_an_order_is_accepted_then_confirmed_and_resolves_once() -> None:
    machine = connected()
    request_id = machine.send(CreateOrder(side="buy", price="3600", quantity="1"), 1.0)
    (request,) = sent(machine)
    assert request["content"]["clientRequestId"] == request_id
    assert "market" not in request["content"]  # a one-market connection: as the docs do
    machine.receive_message(
        reply(
            "createOrder", request_id, 202, "order created, pending acceptance",
            order=order("pending", clientRequestId=request_id), apiQuotaUsed=1,
        ),
        1.1,
    )  # fmt: skip
    (accepted,) = machine.events()
    assert isinstance(accepted, RequestAccepted)
    assert accepted.request_id == request_id
    assert isinstance(accepted.result, CreateOrderResult)
    machine.receive_message(
        reply("createOrder", request_id, 200, "order accepted", order=order("active")), 1.2
    )
    (done,) = machine.events()
    assert isinstance(done, RequestSucceeded)
    assert done.result.data.order.order_status == "active"
    # A post-only order that would cross: its rejectOrder comes after the 200 (spec 4.2).
    machine.receive_message(
        reply("rejectOrder", request_id, 400, "order rejected", order=order("rejected")), 1.3
    )
    (late,) = machine.events()
    assert isinstance(late, OrderRejected)
    assert machine.pending == 0


def test_a_refused_order_fails_with_the_error_of_its_status() -> None:
    machine = connected()
    request_id = machine.send(CreateOrder(side="buy", price="1", quantity="1"), 1.0)
    sent(machine)
    machine.receive_message(
        reply("createOrder", request_id, 400, "order rejected: qty too low"), 1.1
    )
    (failed,) = machine.events()
    assert isinstance(failed, RequestFailed)
    assert isinstance(failed.error, BadRequest)
    assert failed.error.code == 400
    assert failed.error.message == "order rejected: qty too low"
    request_id = machine.send(CreateOrder(side="buy", price="1", quantity="1"), 2.0)
    sent(machine)
    machine.receive_message(reply("rejectOrder", request_id, 400, "post only"), 2.1)
    (refused,) = machine.events()
    assert isinstance(refused, RequestFailed)
    assert isinstance(refused.error, OrderRefused)


def test_a_cancel_resolves_with_its_confirmation_or_its_202_by_choice() -> None:
    machine = connected()
    request_id = machine.send(CancelOrder(order_id="01HZ5J70FCBNJAS7TVPVB4GAAG"), 1.0)
    sent(machine)
    machine.receive_message(reply("cancelOrder", request_id, 202, "cancelling order"), 1.1)
    assert types(machine.events()) == ["RequestAccepted"]
    machine.receive_message(reply("cancelOrder", request_id, 200, "order cancelled"), 1.2)
    assert types(machine.events()) == ["RequestSucceeded"]
    quick = connected(cancel_confirmed=False)
    request_id = quick.send(CancelOrder(order_id="01HZ5J70FCBNJAS7TVPVB4GAAG"), 1.0)
    sent(quick)
    quick.receive_message(reply("cancelOrder", request_id, 202, "cancelling order"), 1.1)
    (done,) = quick.events()
    assert isinstance(done, RequestSucceeded)
    assert isinstance(done.result, CancelOrderResult)


@pytest.mark.parametrize("legacy", [False, True])
def test_a_modify_resolves_once_and_the_new_orders_messages_are_events(legacy: bool) -> None:
    machine = connected()
    request_id = machine.send(ModifyOrder(order_id="OLD", price="3601"), 1.0)
    (request,) = sent(machine)
    assert request["content"] == {"clientRequestId": request_id, "orderId": "OLD", "price": "3601"}
    machine.receive_message(reply("modifyOrder", request_id, 202, "modifying order"), 1.1)
    if legacy:  # the older revision: four messages (spec 4.4)
        machine.receive_message(
            reply("modifyOrder", request_id, 200, "original order modified"), 1.2
        )
        machine.receive_message(
            reply("modifyOrder", request_id, 200, "new order created, pending acceptance"), 1.3
        )
    else:
        machine.receive_message(
            reply("modifyOrder", request_id, 200, "order modified, pending acceptance"), 1.2
        )
    machine.receive_message(reply("createOrder", request_id, 200, "order accepted"), 1.4)
    events = machine.events()
    expected = ["RequestAccepted", "RequestSucceeded"]
    expected += ["ModifyOrderResult"] if legacy else []
    assert types(events) == [*expected, "CreateOrderResult"]
    assert isinstance(events[1], RequestSucceeded)
    assert isinstance(events[1].result, ModifyOrderResult)


def test_market_all_requires_market_on_every_market_scoped_request() -> None:
    machine = connected(market="ALL")
    with pytest.raises(LocalProtocolError, match="market=ALL"):
        machine.send(CreateOrder(side="buy", price="1", quantity="1"), 1.0)
    assert sent(machine) == []  # nothing was queued
    machine.send(CreateOrder(side="buy", price="1", quantity="1", market="ETH-USD"), 1.0)
    (request,) = sent(machine)
    assert request["content"]["market"] == "ETH-USD"
    machine.send(Ping(), 1.0)  # not market-scoped
    assert "market" not in sent(machine)[0]["content"]


def test_a_one_market_connection_refuses_another_market() -> None:
    machine = connected()
    with pytest.raises(LocalProtocolError, match="'ETH-USD' on a connection opened for 'BTC-USD'"):
        machine.send(CancelOrder(order_id="X", market="ETH-USD"), 1.0)


def test_a_rate_limited_order_goes_again_with_the_same_id_after_the_refill() -> None:
    machine = connected(order_rate=10.0)
    request_id = machine.send(CreateOrder(side="buy", price="1", quantity="1"), 1.0)
    sent(machine)
    machine.receive_message(reply("createOrder", request_id, 429, "too many requests"), 1.1)
    assert machine.events() == []  # parked until the bucket refills
    assert sent(machine) == []
    machine.handle_timer(machine.next_deadline() or 0.0)
    (again,) = sent(machine)
    assert again["content"]["clientRequestId"] == request_id
    machine.receive_message(reply("createOrder", request_id, 200, "order accepted"), 2.5)
    (done,) = machine.events()
    assert isinstance(done, RequestSucceeded)
    assert done.request_id == request_id


def test_a_rate_limited_order_fails_when_the_refill_comes_after_its_deadline() -> None:
    machine = connected(order_rate=0.05)  # 20 s to refill one, the deadline is 10 s
    request_id = machine.send(CreateOrder(side="buy", price="1", quantity="1"), 1.0)
    sent(machine)
    machine.receive_message(reply("createOrder", request_id, 429, "too many requests"), 1.1)
    (failed,) = machine.events()
    assert isinstance(failed, RequestFailed)
    assert isinstance(failed.error, TooManyRequests)


def test_an_error_message_answers_its_request_and_one_without_an_id_is_an_event() -> None:
    machine = connected()
    request_id = machine.send(GenericRequest(name="getOrders"), 1.0)
    (request,) = sent(machine)
    assert request == {"message": "getOrders", "content": {"clientRequestId": request_id}}
    machine.receive_message(
        message(
            "error", {"statusCode": 400, "body": "unknown message", "clientRequestId": request_id}
        ),
        1.1,
    )
    (failed,) = machine.events()
    assert isinstance(failed, RequestFailed)
    assert isinstance(failed.error, BadRequest)
    machine.receive_message(message("error", {"statusCode": 400, "body": "bad json"}), 1.2)
    (event,) = machine.events()
    assert isinstance(event, ErrorMessage)


def test_an_unknown_answer_resolves_a_generic_request() -> None:
    machine = connected()
    request_id = machine.send(GenericRequest(name="getOrders"), 1.0)
    sent(machine)
    machine.receive_message(
        message("orders", {"statusCode": 200, "clientRequestId": request_id, "orders": []}), 1.1
    )
    (done,) = machine.events()
    assert isinstance(done, RequestSucceeded)
    assert isinstance(done.result, UnknownMessage)


def test_fills_and_other_pushes_are_events() -> None:
    machine = connected()
    machine.receive_message(
        message("fillOrder", {"statusCode": 200, "body": "order filled", "order": order("filled")}),
        1.0,
    )
    (filled,) = machine.events()
    assert isinstance(filled, OrderFilled)


def test_a_request_on_the_wire_fails_when_the_connection_drops() -> None:
    machine = connected()
    request_id = machine.send(CreateOrder(side="buy", price="1", quantity="1"), 1.0)
    sent(machine)
    machine.connection_lost(1.5)
    (failed,) = machine.events()
    assert isinstance(failed, RequestFailed)
    assert failed.request_id == request_id
    assert isinstance(failed.error, ConnectionLost)


# -- pings (spec 3.1) ----------------------------------------------------------------------------


def test_pings_go_out_on_schedule_and_an_unanswered_one_drops_the_connection() -> None:
    machine = client(ping_interval=30.0, pong_timeout=10.0, subscriptions=("publicTrades",))
    machine.connection_made(0.0)
    (ping,) = sent(machine)
    assert ping["message"] == "ping"
    crid = ping["content"]["clientRequestId"]
    machine.receive_message(message("pong", {"clientRequestId": crid, "statusCode": 200}), 0.2)
    assert not [e for e in machine.events() if isinstance(e, RequestSucceeded)]  # its own ping
    assert machine.next_deadline() == 30.0
    machine.handle_timer(30.0)
    (again,) = sent(machine)
    assert again["message"] == "ping"
    machine.handle_timer(40.0)
    (dead,) = [e for e in machine.events() if isinstance(e, PongTimeout)]
    assert dead.waited == 10.0
    assert machine.close_request == CloseRequest(abort=True)


# -- the token (spec 1, 1.1) ---------------------------------------------------------------------


def test_a_new_token_is_wanted_at_the_renew_fraction_and_at_expiry() -> None:
    machine = client(ping_interval=None, renew_fraction=0.8, subscriptions=("publicTrades",))
    machine.connection_made(0.0)
    machine.events()
    assert machine.token_due == 1440.0
    assert machine.next_deadline() == 1440.0
    machine.handle_timer(1440.0)
    (wanted,) = [e for e in machine.events() if isinstance(e, TokenWanted)]
    assert wanted == TokenWanted(reason="renew", expires_at=1800.0)
    assert machine.token_wanted
    machine.handle_timer(1800.0)
    (expired,) = [e for e in machine.events() if isinstance(e, TokenWanted)]
    assert expired.reason == "expired"


def test_a_new_token_renews_the_connection_and_the_next_upgrade_carries_it() -> None:
    machine = connected(subscriptions=("orders",))
    request_id = machine.send(UseToken(token="NEW.JWT.X", expires_in=1800), 100.0)
    (done,) = machine.events()
    assert isinstance(done, RequestSucceeded)
    assert done.request_id == request_id
    assert machine.close_request == CloseRequest(
        code=1000, reason="renewing credentials", planned=True
    )
    assert not machine.token_wanted
    machine.connection_lost(100.1)
    handshake = machine.handshake
    assert handshake.subprotocols == ("authorization#NEW.JWT.X",)
    assert handshake.query[1] == ("subscriptions", "orders")  # restored in the query
    machine.connection_made(101.0)
    assert machine.close_request is None
    assert machine.token_due == 100.0 + 0.8 * 1800  # the new token's life started at 100


def test_a_renewal_waits_for_the_callers_requests_on_the_wire_at_most_the_grace() -> None:
    machine = connected()
    request_id = machine.send(CreateOrder(side="buy", price="1", quantity="1"), 10.0)
    sent(machine)
    machine.send(UseToken(token="NEW.JWT.X"), 10.0)
    assert machine.close_request is None  # an order is on the wire
    deadline = machine.next_deadline()
    assert deadline is not None
    assert deadline <= 15.0
    machine.receive_message(reply("createOrder", request_id, 200, "order accepted"), 10.5)
    machine.handle_timer(machine.next_deadline() or 0.0)
    assert machine.close_request == CloseRequest(
        code=1000, reason="renewing credentials", planned=True
    )
    stuck = connected()  # the venue never answers the order: renew after the grace anyway
    stuck.send(CreateOrder(side="buy", price="1", quantity="1"), 10.0)
    stuck.send(UseToken(token="NEW.JWT.X"), 10.0)
    now = 10.0
    while stuck.close_request is None:
        now = stuck.next_deadline() or 0.0
        stuck.handle_timer(now)
    assert 14.9 <= now <= 15.0


def test_a_401_at_the_upgrade_is_retried_while_a_new_token_is_awaited_a_403_is_not() -> None:
    machine = client(ping_interval=None, token_wait=60.0)
    assert machine.upgrade_refused(401, 5.0) is True
    events = machine.events()
    assert types(events) == ["TokenWanted", "UpgradeRefused"]
    assert events[0] == TokenWanted(reason="refused", expires_at=None)
    refused = events[1]
    assert isinstance(refused, UpgradeRefused)
    assert isinstance(refused.error, TokenRejected)
    assert refused.error.code == 401
    assert refused.retrying
    assert machine.upgrade_refused(401, 30.0) is True  # still waiting for a token
    assert machine.upgrade_refused(401, 66.0) is False  # waited token_wait: give up
    machine.events()
    machine.send(UseToken(token="NEW.JWT.X"), 70.0)
    assert machine.upgrade_refused(401, 71.0) is True  # a new token: a fresh wait
    read_only = client(ping_interval=None)
    assert read_only.upgrade_refused(403, 1.0) is False
    (event,) = read_only.events()
    assert isinstance(event, UpgradeRefused)
    assert isinstance(event.error, ReadOnlyKey)


def test_a_401_answer_on_an_open_connection_asks_for_a_new_token() -> None:
    machine = connected()
    request_id = machine.send(CreateOrder(side="buy", price="1", quantity="1"), 5.0)
    sent(machine)
    machine.receive_message(reply("createOrder", request_id, 401, "token expired"), 5.1)
    events = machine.events()
    assert "TokenWanted" in types(events)
    assert machine.token_wanted


def test_no_event_repr_or_log_line_holds_the_token() -> None:
    import logging

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    machine = client(ping_interval=None)
    machine.connection_made(0.0)
    machine.send(UseToken(token="SECOND.JWT.TOKEN", expires_in=60), 1.0)
    machine.handle_timer(100.0)
    machine.upgrade_refused(401, 101.0)
    texts = [repr(e) for e in machine.events()]
    texts += [repr(machine), repr(machine.handshake), repr(machine.options), str(machine.spec.auth)]
    logger = logging.getLogger("tradewire.test.rails")
    handler = Keep()
    handler.addFilter(RedactingFilter([TOKEN, "SECOND.JWT.TOKEN"]))
    logger.addHandler(handler)
    try:
        logger.warning("upgrade %s", machine.handshake.subprotocols)
    finally:
        logger.removeHandler(handler)
    texts += [r.getMessage() for r in records]
    for text in texts:
        assert TOKEN not in text
        assert "SECOND.JWT.TOKEN" not in text


def test_ids_are_uuids_from_the_injected_source() -> None:
    first = client(ids=UuidIds(random.Random(3)), ping_interval=None)
    second = client(ids=UuidIds(random.Random(3)), ping_interval=None)
    for machine in (first, second):
        machine.connection_made(0.0)
    assert first.send(Ping(), 1.0) == second.send(Ping(), 1.0)
