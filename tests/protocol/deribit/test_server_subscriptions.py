"""ServerProtocol: subscribe candidates, acceptance, notify, labels, unsubscribe."""

from __future__ import annotations

from typing import Any

import pytest

from tradewire.protocol import LocalProtocolError
from tradewire.protocol.deribit import (
    GetTicker,
    PrivateSubscribe,
    PrivateUnsubscribe,
    PrivateUnsubscribeAll,
    PublicSubscribe,
    PublicUnsubscribe,
    PublicUnsubscribeAll,
)
from tradewire.protocol.deribit.server import (
    AcceptSubscription,
    Notify,
    SubscribeReceived,
    Unsubscribed,
)

from .support_server import START, Driver, make_state

BOOK = "book.BTC-PERPETUAL.100ms"
TRADES = "trades.BTC-PERPETUAL.100ms"
RAW = "book.BTC-PERPETUAL.raw"
ORDERS = "user.orders.any.any.raw"
PORTFOLIO = "user.portfolio.BTC"


@pytest.fixture
def driver() -> Driver:
    return Driver(make_state(credits={}))


def subscribe(driver: Driver, command: PublicSubscribe | PrivateSubscribe) -> SubscribeReceived:
    driver.call(command)
    (event,) = driver.events()
    assert isinstance(event, SubscribeReceived)
    return event


def accept_all(driver: Driver, command: PublicSubscribe | PrivateSubscribe) -> list[str]:
    event = subscribe(driver, command)
    return driver.machine.accept_subscription(event.request_id, event.channels, driver.now)


def test_candidates_drop_bad_names_and_duplicates_and_keep_order(driver: Driver) -> None:
    event = subscribe(
        driver,
        PublicSubscribe(channels=[TRADES, "book.BTC-PERPETUAL.50ms", BOOK, TRADES, "nonsense"]),
    )
    assert event.channels == (TRADES, BOOK)
    assert event.command == PublicSubscribe(
        channels=[TRADES, "book.BTC-PERPETUAL.50ms", BOOK, TRADES, "nonsense"]
    )
    assert driver.sent() == []  # the venue answers


def test_acceptance_answers_with_the_accepted_channels_and_activates_them(driver: Driver) -> None:
    event = subscribe(driver, PublicSubscribe(channels=[BOOK, TRADES]))
    new = driver.machine.accept_subscription(event.request_id, [TRADES], START + 0.001)
    assert new == [TRADES]
    (message,) = driver.sent()
    assert message["result"] == [TRADES]
    assert message["usDiff"] == 1000
    assert driver.machine.channels == frozenset({TRADES})
    assert driver.machine.notify(TRADES, [{"price": 1.0}], START)
    assert not driver.machine.notify(BOOK, [{"price": 1.0}], START)
    assert driver.sent() == [
        {
            "jsonrpc": "2.0",
            "method": "subscription",
            "params": {"channel": TRADES, "data": [{"price": 1.0}]},
        }
    ]


def test_an_active_channel_is_acknowledged_again_but_is_not_new(driver: Driver) -> None:
    assert accept_all(driver, PublicSubscribe(channels=[BOOK])) == [BOOK]
    assert accept_all(driver, PublicSubscribe(channels=[BOOK, TRADES])) == [TRADES]
    assert [m["result"] for m in driver.sent()] == [[BOOK], [BOOK, TRADES]]


def test_the_venue_may_accept_nothing_reorder_or_refuse(driver: Driver) -> None:
    event = subscribe(driver, PublicSubscribe(channels=["ticker.BTC-NOPE.100ms"]))
    driver.machine.send(AcceptSubscription(request_id=event.request_id, channels=()), START)
    event = subscribe(driver, PublicSubscribe(channels=[BOOK, TRADES]))
    driver.machine.accept_subscription(event.request_id, [TRADES, BOOK], START)
    event = subscribe(driver, PublicSubscribe(channels=[BOOK]))
    driver.machine.reply_error(event.request_id, 11052, START)
    assert [m.get("result", m.get("error")) for m in driver.sent()] == [
        [],
        [TRADES, BOOK],
        {"code": 11052, "message": "subscribe_error_unsubscribed"},
    ]


def test_acceptance_is_checked(driver: Driver) -> None:
    event = subscribe(driver, PublicSubscribe(channels=[BOOK]))
    with pytest.raises(LocalProtocolError, match="were not candidates"):
        driver.machine.accept_subscription(event.request_id, [TRADES], START)
    with pytest.raises(LocalProtocolError, match="subscribe call; answer it with"):
        driver.machine.reply(event.request_id, [BOOK], START)
    with pytest.raises(LocalProtocolError, match="expected a sequence"):
        driver.machine.accept_subscription(event.request_id, BOOK, START)
    driver.machine.accept_subscription(event.request_id, [BOOK], START)
    with pytest.raises(LocalProtocolError, match="already answered"):
        driver.machine.accept_subscription(event.request_id, [BOOK], START)
    driver.call(GetTicker(instrument_name="BTC-PERPETUAL"))
    (ticker,) = driver.requests()
    with pytest.raises(LocalProtocolError, match="not a subscribe call"):
        driver.machine.accept_subscription(ticker.request_id, [], START)


def test_raw_channels_need_auth_13778(driver: Driver) -> None:
    driver.call(PublicSubscribe(channels=[RAW]), request_id=3600)
    assert driver.sent() == [
        {
            "jsonrpc": "2.0",
            "id": 3600,
            "error": {"code": 13778, "message": "raw_subscriptions_not_available_for_unauthorized"},
            "testnet": False,
            "usIn": 1576074319000000,
            "usOut": 1576074319000000,
            "usDiff": 0,
        }
    ]
    assert driver.events() == []


def test_mixed_raw_and_other_channels_fail_entirely_by_default(driver: Driver) -> None:
    driver.call(PublicSubscribe(channels=[BOOK, RAW]))
    assert driver.sent()[0]["error"]["code"] == 13778
    assert driver.events() == []


def test_mixed_raw_can_be_configured_to_drop_the_raw_channels() -> None:
    driver = Driver(make_state(credits={}, mixed_raw_subscribe="drop"))
    assert subscribe(driver, PublicSubscribe(channels=[BOOK, RAW])).channels == (BOOK,)
    driver.call(PublicSubscribe(channels=[RAW]))
    assert driver.sent()[0]["error"]["code"] == 13778


def test_raw_channels_are_fine_once_authenticated(driver: Driver) -> None:
    driver.login()
    assert subscribe(driver, PublicSubscribe(channels=[RAW])).channels == (RAW,)


def test_user_channels_only_through_private_subscribe(driver: Driver) -> None:
    assert subscribe(driver, PublicSubscribe(channels=[ORDERS, BOOK])).channels == (BOOK,)
    driver.call(PrivateSubscribe(channels=[ORDERS]))
    assert driver.sent()[0]["error"] == {
        "code": 13009,
        "message": "unauthorized",
        "data": {"reason": "invalid_token"},
    }
    driver.login()
    event = subscribe(driver, PrivateSubscribe(channels=[ORDERS, BOOK]))
    assert event.channels == (ORDERS, BOOK)
    assert event.client_id == "AMANDA"


def test_labels_go_on_private_channels_subscribed_with_one(driver: Driver) -> None:
    driver.login()
    accept_all(driver, PrivateSubscribe(channels=[ORDERS, BOOK], label="desk1"))
    accept_all(driver, PrivateSubscribe(channels=[PORTFOLIO]))
    driver.sent()
    for channel in (ORDERS, BOOK, PORTFOLIO):
        assert driver.machine.notify(channel, {"n": 1}, START)
    params = [m["params"] for m in driver.sent()]
    assert params == [
        {"channel": ORDERS, "data": {"n": 1}, "label": "desk1"},
        {"channel": BOOK, "data": {"n": 1}},
        {"channel": PORTFOLIO, "data": {"n": 1}},
    ]


def test_notify_through_send_and_structs(driver: Driver) -> None:
    accept_all(driver, PublicSubscribe(channels=[BOOK]))
    driver.sent()
    assert driver.machine.send(Notify(channel=BOOK, data={"change_id": 1}), START) is None
    assert driver.machine.send(Notify(channel=TRADES, data=[]), START) is None
    assert [m["params"]["channel"] for m in driver.sent()] == [BOOK]


def test_unsubscribe_answers_only_the_channels_it_removed(driver: Driver) -> None:
    accept_all(driver, PublicSubscribe(channels=[BOOK, TRADES]))
    driver.sent()
    assert driver.result(PublicUnsubscribe(channels=[TRADES, "quote.ETH-PERPETUAL", TRADES])) == [
        TRADES
    ]
    assert driver.events() == [
        Unsubscribed(connection_id=driver.machine.connection_id, channels=(TRADES,))
    ]
    assert driver.result(PublicUnsubscribe(channels=[TRADES])) == []
    assert driver.events() == []
    assert not driver.machine.notify(TRADES, [], START)
    assert driver.machine.is_subscribed(BOOK)


def test_unsubscribe_all_answers_ok(driver: Driver) -> None:
    driver.login()
    accept_all(driver, PrivateSubscribe(channels=[BOOK, ORDERS]))
    driver.sent()
    assert driver.result(PrivateUnsubscribe(channels=[ORDERS])) == [ORDERS]
    assert driver.result(PublicUnsubscribeAll()) == "ok"
    assert driver.result(PrivateUnsubscribeAll()) == "ok"
    assert driver.machine.channels == frozenset()
    removed: list[Any] = [e.channels for e in driver.events() if isinstance(e, Unsubscribed)]
    assert removed == [(ORDERS,), (BOOK,)]


def test_a_subscription_after_unsubscribing_is_new_again(driver: Driver) -> None:
    accept_all(driver, PublicSubscribe(channels=[BOOK]))
    driver.sent()
    assert driver.result(PublicUnsubscribe(channels=[BOOK])) == [BOOK]
    driver.events()
    assert accept_all(driver, PublicSubscribe(channels=[BOOK])) == [BOOK]
