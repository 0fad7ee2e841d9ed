"""The Currency.com server machine (docs/venues/currencycom.md): envelopes, ping, the 30 s
idle close (pings only, control frames included), signature and recvWindow checks,
rate limits, subscriptions, the REST adapter."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from tradewire.protocol import CloseRequest, HTTPRequestReceived
from tradewire.protocol.currencycom import rest_query, rest_signature, sign_payload
from tradewire.protocol.currencycom.server import (
    HTTPServerProtocol,
    Reply,
    ReplyError,
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
    SessionClosed,
    SubscribeReceived,
)
from tradewire.protocol.session import PoolRule

KEY, SECRET = "k1", "s1"
EPOCH = 1_600_000_000.0


def state(**config: Any) -> ServerState:
    server = ServerState(ServerConfig(epoch_offset=EPOCH, **config))
    server.add_key(KEY, SECRET, account="7")
    return server


def machine(**config: Any) -> ServerProtocol:
    m = ServerProtocol(state(**config), peer="127.0.0.1:5")
    m.connection_made(0.0)
    return m


def send(
    m: ServerProtocol, destination: str, payload: Any = None, cid: Any = 1, now: float = 0.0
) -> None:
    body = {
        "destination": destination,
        "correlationId": cid,
        "payload": {} if payload is None else payload,
    }
    m.receive_message(msgspec.json.encode(body), now)


def out(m: ServerProtocol) -> list[Any]:
    return [msgspec.json.decode(x) for x in m.messages_to_send()]


def signed(payload: dict[str, Any], now: float = 0.0, secret: str = SECRET) -> dict[str, Any]:
    return sign_payload(payload, api_key=KEY, secret=secret, timestamp=round((now + EPOCH) * 1000))


def test_ping_is_answered_with_its_destination_and_the_id_as_a_string() -> None:
    m = machine()
    send(m, "ping", cid=12)
    send(m, "ping", cid="ccxt-3")
    assert out(m) == [
        {"status": "OK", "destination": "ping", "correlationId": "12", "payload": {}},
        {"status": "OK", "destination": "ping", "correlationId": "ccxt-3", "payload": {}},
    ]


def test_a_connection_not_pinged_for_30_s_is_closed_whatever_else_it_sent() -> None:
    m = machine()
    send(m, "ping", now=10.0)
    send(m, "/api/v1/time", now=35.0)  # a request: not liveness
    assert m.next_deadline() == 40.0
    m.ping_received(39.0)  # a control-frame ping is
    assert m.next_deadline() == 69.0
    m.handle_timer(69.0)
    assert m.close_request == CloseRequest(code=1000, reason="no ping for 30 s")
    assert SessionClosed(connection_id=m.connection_id, reason="idle timeout") in m.events()


def test_public_requests_reach_the_venue_and_answers_echo_the_id() -> None:
    m = machine()
    send(m, "/api/v2/exchangeInfo", cid=5)
    (event,) = m.events()
    assert isinstance(event, RequestReceived)
    assert (event.name, event.version, event.account) == ("exchangeInfo", "v2", None)
    m.send(Reply(request_id=event.request_id, result={"symbols": []}), 0.0)
    assert out(m) == [{"status": "OK", "correlationId": "5", "payload": {"symbols": []}}]


def test_signed_requests_are_checked() -> None:
    m = machine()
    send(m, "/api/v1/account", signed({"showZeroBalance": True}))
    (event,) = m.events()
    assert isinstance(event, RequestReceived)
    assert event.account == "7"
    assert event.params == {"showZeroBalance": True}
    cases = [
        ({}, -2014),
        ({**signed({}), "apiKey": "nobody"}, -2015),
        (signed({}, secret="wrong"), -1022),
        ({**signed({"symbol": "A"}), "symbol": "B"}, -1022),
        (signed({}, now=-6.0), -1021),
        (signed({"recvWindow": 70_000}), -1131),
        ({k: v for k, v in signed({}).items() if k != "timestamp"}, -1102),
    ]
    for payload, code in cases:
        send(m, "/api/v1/account", payload, cid=9)
        (error,) = out(m)
        assert error["status"] == "BAD_REQUEST"
        assert error["payload"]["code"] == code, (payload, error)
        assert error["correlationId"] == "9"
        assert error["destination"] == "/api/v1/account"
    assert m.events() == []
    send(m, "/api/v1/account", signed({"recvWindow": 10_000}, now=-8.0))
    assert len(m.events()) == 1  # inside its own, larger window


def test_unknown_destinations_and_malformed_messages_get_errors_and_the_socket_stays() -> None:
    m = machine()
    send(m, "marketData.unsubscribe", {"symbols": ["X"]}, cid=3)
    m.receive_message(b"{not json", 0.0)
    m.receive_message(b'{"correlationId":4,"payload":{}}', 0.0)
    codes = [(e["correlationId"], e["payload"]["code"]) for e in out(m)]
    assert codes == [("3", -1020), (None, -1102), ("4", -1102)]
    assert m.is_open


def test_the_rate_limit_answers_1003() -> None:
    rule = PoolRule(1.0, 1.0, 1.0)
    m = machine(rate_rules={"request": PoolRule(1.0, 2.0, 1.0), "order": rule, "openOrders": rule})
    for cid in (1, 2, 3):
        send(m, "/api/v1/time", cid=cid)
    (refused,) = out(m)
    assert refused["status"] == "TOO_MANY_REQUESTS"
    assert (refused["correlationId"], refused["payload"]["code"]) == ("3", -1003)
    assert len(m.events()) == 2
    send(m, "/api/v1/time", cid=4, now=1.0)
    assert len(m.events()) == 1


def test_subscriptions_answer_per_symbol_and_ohlc_topics_keep_the_token() -> None:
    m = machine()
    send(
        m, "OHLCMarketData.subscribe", {"symbols": ["BTC/USD", "NOPE"], "intervals": ["M1"]}, cid=2
    )
    (event,) = m.events()
    assert isinstance(event, SubscribeReceived)
    assert event.topics == ("ohlc:M1:BTC/USD", "ohlc:M1:NOPE")
    assert m.accept_subscription(event.request_id, ["ohlc:M1:BTC/USD"], 0.0) == ["ohlc:M1:BTC/USD"]
    assert out(m) == [
        {
            "status": "OK",
            "correlationId": "2",
            "payload": {"subscriptions": {"BTC/USD": "PROCESSED", "NOPE": "REJECTED"}},
        }
    ]
    assert m.notify("ohlc:M1:BTC/USD", {"interval": "M1", "symbol": "BTC/USD"}, 0.0)
    assert not m.notify("ohlc:1m:BTC/USD", {}, 0.0)
    (push,) = out(m)
    assert push["destination"] == "ohlc.event"
    assert push["payload"]["interval"] == "M1"
    send(m, "OHLCMarketData.subscribe", {"symbols": ["X"], "intervals": ["2m"]}, cid=3)
    assert out(m)[0]["payload"]["code"] == -1102


@pytest.mark.parametrize("as_string", [False, True])
def test_depth_data_is_an_object_or_with_the_switch_a_string(as_string: bool) -> None:
    m = machine(depth_data_as_string=as_string)
    send(m, "depthMarketData.subscribe", {"symbols": ["BTC/USD"]})
    (event,) = m.events()
    m.accept_subscription(event.request_id, event.topics, 0.0)
    out(m)
    m.notify(
        "depth:BTC/USD", {"symbol": "BTC/USD", "data": {"ts": 1, "bid": {"1": 2}, "ofr": {}}}, 0.0
    )
    (push,) = out(m)
    assert push["destination"] == "marketdepth.event"
    data = push["payload"]["data"]
    assert isinstance(data, str) is as_string
    assert (msgspec.json.decode(data) if as_string else data) == {
        "ts": 1,
        "bid": {"1": 2},
        "ofr": {},
    }


def http_request(
    method: str, target: str, headers: tuple[tuple[str, str], ...] = (), body: bytes = b""
) -> HTTPRequestReceived:
    from urllib.parse import parse_qsl

    path, _, query = target.partition("?")
    return HTTPRequestReceived(
        method=method, target=target, path=path,
        query=tuple(parse_qsl(query, keep_blank_values=True)),
        headers=headers, body=body, http_version="1.1", peer="127.0.0.1:9",
    )  # fmt: skip


def test_rest_signed_get_and_post_in_the_order_sent() -> None:
    server = state()
    http = HTTPServerProtocol(server)
    http.connection_made(0.0)
    query = rest_query([("timestamp", round(EPOCH * 1000)), ("recvWindow", 5000)])
    target = f"/api/v2/currencies?{query}&signature={rest_signature(SECRET, query)}"
    http.handle_request(http_request("GET", target, (("X-MBX-APIKEY", KEY),)), 0.0)
    (event,) = http.events()
    assert isinstance(event, RequestReceived)
    assert (event.name, event.account, event.transport) == ("currencies", "7", "http")
    http.send(Reply(request_id=event.request_id, result=[1]), 0.0)
    answer = http.take_response()
    assert answer is not None
    assert (answer.status, answer.body) == (200, b"[1]")
    body = rest_query([("symbol", "BTC/USD"), ("side", "BUY"), ("timestamp", round(EPOCH * 1000))])
    signed_body = f"{body}&signature={rest_signature(SECRET, body)}".encode()
    http.handle_request(
        http_request("POST", "/api/v2/order", (("X-MBX-APIKEY", KEY),), signed_body), 0.0
    )
    (event,) = http.events()
    assert event.name == "order/create"
    assert event.params == {"symbol": "BTC/USD", "side": "BUY"}  # type: ignore[attr-defined]
    http.send(ReplyError(request_id=event.request_id, code=-1121, message="Invalid symbol."), 0.0)  # type: ignore[attr-defined]
    answer = http.take_response()
    assert answer is not None
    assert answer.status == 400
    assert msgspec.json.decode(answer.body) == {"code": -1121, "msg": "Invalid symbol."}
    reordered = rest_query([("recvWindow", 5000), ("timestamp", round(EPOCH * 1000))])
    bad = f"/api/v2/account?{reordered}&signature={rest_signature(SECRET, query)}"
    http.handle_request(http_request("GET", bad, (("X-MBX-APIKEY", KEY),)), 0.0)
    answer = http.take_response()
    assert answer is not None
    assert msgspec.json.decode(answer.body)["code"] == -1022
    http.handle_request(http_request("GET", "/api/v2/nothing"), 0.0)
    answer = http.take_response()
    assert answer is not None
    assert answer.status == 404
