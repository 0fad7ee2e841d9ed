"""The Rails server machine on its own (spec 1-8): the upgrade's refusals (401, 403, 400)
and the subprotocol echoed exactly, the query's streams active at connect, what the
machine answers itself, 400 / 429 answers, the token's expiry; and the HTTP side: the
token endpoint (20 a minute per key) and the market list."""

from __future__ import annotations

import random
from typing import Any

import msgspec
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tradewire.protocol import (
    AcceptUpgrade,
    HTTPRequestReceived,
    RejectUpgrade,
    UpgradeRequest,
)
from tradewire.protocol.rails import CreateOrder, Market
from tradewire.protocol.rails.server import (
    Acknowledge,
    ApiKey,
    Envelope,
    HTTPServerConnection,
    Push,
    Reply,
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
    SessionClosed,
    SessionOpened,
    SubscriptionsChanged,
    decimal_string,
)

MARKETS = tuple(
    Market(
        market=name, base_asset=name[:3], quote_asset="USD", tick_size="0.5",
        step_size="0.0001", min_quantity="0.0001",
    )
    for name in ("BTC-USD", "ETH-USD")
)  # fmt: skip
KEYS = (
    ApiKey(key="k", secret="s", account="1"),
    ApiKey(key="ro", secret="s2", account="1", read_only=True),
)
CRID = "0835bf3e-4a20-41f0-908d-8213f2b7a285"


def make_state(**config: Any) -> ServerState:
    return ServerState(
        ServerConfig(markets=MARKETS, epoch_offset=1_700_000_000.0, **config),
        rng=random.Random(1),
        keys=KEYS,
    )


def upgrade(
    state: ServerState,
    query: str = "market=BTC-USD",
    *,
    key: ApiKey | None = KEYS[0],
    token: str | None = None,
    now: float = 0.0,
    path: str = "/",
    protocols: tuple[str, ...] | None = None,
) -> tuple[ServerProtocol, AcceptUpgrade | RejectUpgrade]:
    from urllib.parse import parse_qsl

    if token is None and key is not None:
        token, _ = state.issue(key, now)
    if protocols is None:
        protocols = (f"authorization#{token}",) if token is not None else ()
    machine = ServerProtocol(state, peer="127.0.0.1:5000")
    request = UpgradeRequest(
        path=path,
        query=tuple(parse_qsl(query, keep_blank_values=True)),
        subprotocols=protocols,
        headers=(),
    )
    return machine, machine.decide_upgrade(request, now)


def opened(query: str = "market=BTC-USD", **kwargs: Any) -> ServerProtocol:
    machine, decision = upgrade(kwargs.pop("state", None) or make_state(), query, **kwargs)
    assert isinstance(decision, AcceptUpgrade)
    machine.connection_made(0.0)
    return machine


def out(machine: ServerProtocol) -> list[dict[str, Any]]:
    return [msgspec.json.decode(m) for m in machine.messages_to_send()]


def request(message: str, **content: Any) -> bytes:
    return msgspec.json.encode(
        {"message": message, "content": {"clientRequestId": CRID, **content}}
    )


# -- the upgrade (spec 1, 1.1) -------------------------------------------------------------------


def test_the_token_subprotocol_is_echoed_exactly_and_the_query_streams_are_active() -> None:
    state = make_state()
    token, _ = state.issue(KEYS[0], 0.0)
    offered = f"authorization#{token}"
    machine, decision = upgrade(
        state, "market=BTC-USD&subscriptions=orders,publicOrderBook", token=token,
        protocols=("other", offered),
    )  # fmt: skip
    assert decision == AcceptUpgrade(subprotocol=offered)
    machine.connection_made(0.0)
    assert machine.streams == frozenset({"orders", "publicOrderBook"})
    (opened_event,) = machine.events()
    assert opened_event == SessionOpened(
        connection_id=machine.connection_id,
        market="BTC-USD",
        subscriptions=("orders", "publicOrderBook"),
        account="1",
        read_only=False,
    )


def test_no_subscriptions_in_the_query_means_orders_an_empty_list_means_none() -> None:
    assert opened("market=BTC-USD").streams == frozenset({"orders"})
    assert opened("market=BTC-USD&subscriptions=").streams == frozenset()


@pytest.mark.parametrize(
    ("query", "kwargs", "status"),
    [
        ("market=BTC-USD", {"key": None}, 401),  # no token
        ("market=BTC-USD", {"key": None, "token": "a.b.c"}, 401),  # not ours
        ("market=BTC-USD", {"key": None, "protocols": ("authorization#",)}, 401),
        ("market=BTC-USD&subscriptions=orders", {"key": KEYS[1]}, 403),  # read-only, private
        ("market=BTC-USD", {"key": KEYS[1]}, 403),  # the default stream is orders
        ("subscriptions=orders", {}, 400),  # no market
        ("market=DOGE-USD", {}, 400),
        ("market=BTC-USD&subscriptions=book", {}, 400),
        ("market=BTC-USD", {"path": "/ws"}, 404),
    ],
)
def test_the_upgrade_is_refused(query: str, kwargs: dict[str, Any], status: int) -> None:
    _, decision = upgrade(make_state(), query, **kwargs)
    assert isinstance(decision, RejectUpgrade)
    assert decision.status == status


def test_a_read_only_key_may_open_public_streams() -> None:
    machine = opened("market=ALL&subscriptions=publicTrades,publicOrderBook", key=KEYS[1])
    assert machine.read_only
    assert machine.streams == frozenset({"publicTrades", "publicOrderBook"})


def test_an_expired_token_is_refused_and_an_open_connection_is_closed_when_it_expires() -> None:
    state = make_state(token_lifetime=60.0)
    token, _ = state.issue(KEYS[0], 0.0)
    _, late = upgrade(state, token=token, now=60.0, key=None)
    assert isinstance(late, RejectUpgrade)
    assert late.status == 401
    machine = opened(state=state, token=token, key=None)
    assert machine.next_deadline() == 60.0
    machine.handle_timer(60.0)
    assert machine.close_request is not None
    assert (machine.close_request.code, machine.close_request.reason) == (1008, "token expired")
    other = opened(state=state)  # a second connection, its own token
    state.expire_tokens(10.0, account="1")  # the expire fault's hook
    other.handle_timer(10.0)
    assert other.close_request is not None


# -- what the machine answers itself (spec 3) ------------------------------------------------------


def test_ping_subscribe_and_unsubscribe_are_answered_as_the_docs_show() -> None:
    machine = opened("market=BTC-USD&subscriptions=orders")
    machine.events()
    machine.receive_message(request("ping"), 1.0)
    assert out(machine) == [
        {"resultType": "pong", "data": {"clientRequestId": CRID, "statusCode": 200}}
    ]
    machine.receive_message(
        request("subscribe", subscriptions=["trades", "publicTrades", "publicOrderBook"]), 1.0
    )
    assert out(machine) == [
        {
            "resultType": "subscribed",
            "data": {
                "activeSubscriptions": ["orders", "trades", "publicTrades", "publicOrderBook"],
                "clientRequestId": CRID,
                "requestedSubscriptions": ["trades", "publicTrades", "publicOrderBook"],
            },
        }
    ]
    (changed,) = machine.events()
    assert changed == SubscriptionsChanged(
        connection_id=machine.connection_id,
        added=("trades", "publicTrades", "publicOrderBook"),
        removed=(),
        active=("orders", "trades", "publicTrades", "publicOrderBook"),
    )
    machine.receive_message(request("subscribe", subscriptions=["orders"]), 1.0)  # a no-op
    assert out(machine)[0]["data"]["activeSubscriptions"] == [
        "orders", "trades", "publicTrades", "publicOrderBook",
    ]  # fmt: skip
    assert machine.events() == []
    machine.receive_message(
        request("unsubscribe", subscriptions=["publicTrades", "publicTrades"]), 1.0
    )
    (answer,) = out(machine)
    assert answer["resultType"] == "unsubscribed"
    assert answer["data"]["activeSubscriptions"] == ["orders", "trades", "publicOrderBook"]


@pytest.mark.parametrize(
    ("data", "result_type"),
    [
        (b"{not json", "error"),
        (b'{"message":"nope","content":{}}', "error"),
        (b'{"message":"ping","content":{"clientRequestId":"not-a-uuid"}}', "ping"),
        (request("subscribe", subscriptions=["book"]), "subscribe"),
        (request("createOrder", price=1, quantity="1", orderType="buy"), "createOrder"),
        (request("createOrder", price="1", quantity="1", orderType="long"), "createOrder"),
        (request("cancelOrder", orderId="A", cancelBy="clientId"), "cancelOrder"),
        (
            request("createOrder", price="1", quantity="1", orderType="buy", market="ETH-USD"),
            "createOrder",
        ),
    ],
)
def test_what_cannot_be_taken_is_answered_400(data: bytes, result_type: str) -> None:
    machine = opened()
    machine.events()
    machine.receive_message(data, 1.0)
    (answer,) = out(machine)
    assert answer["resultType"] == result_type
    assert answer["data"]["statusCode"] == 400
    assert answer["data"]["body"]
    assert machine.events() == []  # nothing reached the venue
    assert machine.is_open


def test_a_market_all_connection_needs_market_on_market_scoped_requests() -> None:
    machine = opened("market=ALL")
    machine.events()
    machine.receive_message(request("emitPublicOrderBook"), 1.0)
    (answer,) = out(machine)
    assert (answer["resultType"], answer["data"]["statusCode"]) == ("error", 400)
    assert answer["data"]["clientRequestId"] == CRID
    machine.receive_message(request("emitPublicOrderBook", market="ETH-USD"), 1.0)
    (received,) = machine.events()
    assert isinstance(received, RequestReceived)
    assert received.market == "ETH-USD"


def test_requests_go_to_the_venue_which_answers_202_then_200() -> None:
    machine = opened()
    machine.events()
    machine.receive_message(
        request("createOrder", price="2000.90", quantity="1.00", orderType="buy"), 1.0
    )
    (received,) = machine.events()
    assert isinstance(received, RequestReceived)
    assert received.command == CreateOrder(side="buy", price="2000.90", quantity="1.00")
    assert (received.market, received.account, received.client_request_id) == ("BTC-USD", "1", CRID)
    ack = Envelope(result_type="createOrder", market="BTC-USD", data={"statusCode": 202})
    machine.send(Acknowledge(request_id=received.request_id, result=ack), 1.1)
    machine.send(Acknowledge(request_id=received.request_id, result=ack), 1.1)  # any number
    final = Envelope(result_type="createOrder", market="BTC-USD", data={"statusCode": 200})
    machine.send(Reply(request_id=received.request_id, result=final), 1.2)
    assert [m["data"]["statusCode"] for m in out(machine)] == [202, 202, 200]
    with pytest.raises(Exception, match="already answered"):
        machine.send(Reply(request_id=received.request_id, result=final), 1.3)


def test_order_requests_past_the_accounts_rate_are_answered_429() -> None:
    state = make_state(order_rate=2)
    machine = opened(state=state)
    machine.events()
    for _ in range(3):
        machine.receive_message(request("cancelOrder", orderId="A"), 1.0)
    answers = out(machine)
    assert [a["data"]["statusCode"] for a in answers] == [429]
    assert answers[0]["resultType"] == "cancelOrder"
    assert len(machine.events()) == 2
    assert machine.is_open  # the docs say nothing of a close
    machine.receive_message(request("emitPublicOrderBook"), 1.0)  # not an order request
    assert len(machine.events()) == 1


def test_a_read_only_key_cannot_trade() -> None:
    machine = opened("market=BTC-USD&subscriptions=publicTrades", key=KEYS[1])
    machine.events()
    machine.receive_message(request("cancelOrder", orderId="A"), 1.0)
    (answer,) = out(machine)
    assert answer["data"]["statusCode"] == 403
    machine.receive_message(request("subscribe", subscriptions=["trades"]), 1.0)
    assert out(machine)[0]["data"]["statusCode"] == 403


def test_pushes_go_out_only_while_open_and_the_venue_hears_of_the_close() -> None:
    machine = opened("market=BTC-USD&subscriptions=publicTrades")
    machine.events()
    assert machine.wants("publicTrades", "BTC-USD")
    assert not machine.wants("publicTrades", "ETH-USD")
    assert not machine.wants("publicOrderBook", "BTC-USD")
    machine.send(Push(frames=(b"{}", b"[]")), 1.0)
    assert machine.messages_to_send() == [b"{}", b"[]"]
    machine.connection_lost(2.0)
    (closed,) = machine.events()
    assert isinstance(closed, SessionClosed)
    machine.send(Push(frames=(b"{}",)), 3.0)
    assert machine.messages_to_send() == []


@settings(max_examples=300)
@given(
    st.one_of(
        st.binary(max_size=120),
        st.builds(
            lambda name, content: msgspec.json.encode({"message": name, "content": content}),
            st.sampled_from(["ping", "subscribe", "unsubscribe", "createOrder", "cancelOrder",
                             "modifyOrder", "emitPublicOrderBook", "emitOrderBook", "x"]),
            st.dictionaries(
                st.sampled_from(["clientRequestId", "market", "price", "quantity", "orderType",
                                 "tradeType", "orderId", "subscriptions", "postOnly", "cancelBy"]),
                st.none() | st.booleans() | st.integers() | st.sampled_from(
                    ["1", "buy", "BTC-USD", "ALL", CRID, "orders", "limit", "orderId", "-1"]
                ) | st.lists(st.sampled_from(["orders", "trades", "book"]), max_size=3),
                max_size=6,
            ),
        ),
    )
)  # fmt: skip
def test_any_input_is_answered_or_handed_on_and_the_connection_stays_usable(data: bytes) -> None:
    machine = opened("market=ALL")
    machine.events()
    machine.receive_message(data, 1.0)
    answers = out(machine)
    events = machine.events()
    assert len(answers) + len(events) >= 1
    for answer in answers:
        assert answer["data"].get("clientRequestId") in (None, CRID)
        event("answered " + str(answer["data"].get("statusCode", 200)))
    for item in events:
        event("handed on " + type(item).__name__)
    machine.receive_message(request("ping"), 2.0)
    assert out(machine)[0]["resultType"] == "pong"
    assert machine.is_open


def test_decimals_are_written_as_the_shortest_exact_text() -> None:
    assert decimal_string(3600.0, 2) == "3600"
    assert decimal_string(0.1 + 0.2, 4) == "0.3"
    assert decimal_string(92911.48605, 5) == "92911.48605"
    assert decimal_string(0.0, 4) == "0"


# -- HTTP: the token endpoint and the markets (spec 1.1) ------------------------------------


def http(state: ServerState, method: str, path: str, **headers: str) -> tuple[int, Any]:
    connection = HTTPServerConnection(state)
    received = HTTPRequestReceived(
        method=method, target=path, path=path, query=(), headers=tuple(headers.items()),
        body=b"", http_version="1.1",
    )  # fmt: skip
    return connection.route(received, 0.0)


def test_the_token_endpoint_answers_as_documented_and_its_token_opens_a_websocket() -> None:
    state = make_state()
    status, body = http(state, "POST", "/api/v1/token", **{"x-api-key": "k", "x-api-secret": "s"})
    assert status == 200
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 1800)
    header, claims, _ = body["access_token"].split(".")
    import base64
    import json

    decoded = json.loads(base64.urlsafe_b64decode(claims + "=="))
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    assert decoded["exp"] - decoded["iat"] == 1800
    assert decoded["sub"] == "1"
    _machine, decision = upgrade(state, token=body["access_token"], key=None)
    assert isinstance(decision, AcceptUpgrade)


def test_bad_credentials_are_401_and_the_21st_request_in_a_minute_is_429() -> None:
    state = make_state()
    assert (
        http(state, "POST", "/api/v1/token", **{"x-api-key": "k", "x-api-secret": "no"})[0] == 401
    )
    assert http(state, "POST", "/api/v1/token")[0] == 401
    statuses = [
        http(state, "POST", "/api/v1/token", **{"x-api-key": "k", "x-api-secret": "s"})[0]
        for _ in range(20)
    ]
    assert statuses == [200] * 19 + [429]  # the wrong secret above counted too
    assert http(state, "GET", "/api/v1/token")[0] == 405
    assert http(state, "GET", "/api/v2/nothing")[0] == 404


def test_the_market_list() -> None:
    status, body = http(make_state(), "GET", "/api/v1/markets")
    assert status == 200
    assert [m.market for m in body["data"]] == ["BTC-USD", "ETH-USD"]
