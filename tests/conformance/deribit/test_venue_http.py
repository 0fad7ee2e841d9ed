"""The venue over HTTP (in-memory ``HTTPClientStack`` to its ``HTTPServerConnection``):
ccxt's startup calls, signed private calls, and one state shared with WebSocket."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import msgspec

from tradewire.conformance.deribit import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, HTTPLink
from tradewire.protocol import HTTPRequest, HTTPResponse
from tradewire.protocol.deribit import (
    Buy,
    GetOpenOrdersByCurrency,
    GetOrderBook,
    Subscribe,
    UserOrdersUpdate,
    build_http_authorization,
)

sys.path.append(str(Path(__file__).parent))
from support_venue import STILL, Client, make_harness


def exchange(http: HTTPLink, request: HTTPRequest) -> HTTPResponse:
    http.client.request(request, http.clock.now)
    for _ in range(20):
        http.pump()
    responses = [e for e in http.take_events() if isinstance(e, HTTPResponse)]
    assert len(responses) == 1, responses
    return responses[0]


def signed_get(http: HTTPLink, path: str, params: dict[str, Any], nonce: str) -> HTTPRequest:
    """A GET signed with ``deri-hmac-sha256`` the way ccxt signs it (spec 2.3, 8.1)."""
    venue = http.venue
    uri = path + ("?" + urlencode(params) if params else "")
    header = build_http_authorization(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        timestamp_ms=venue.state.epoch_ms(http.clock.now),
        nonce=nonce,
        method="GET",
        uri=uri,
    )
    return HTTPRequest.get(path, params, headers=[("Authorization", header)])


def test_ccxt_startup_calls_currencies_then_instruments_without_params() -> None:
    harness = make_harness(STILL)
    http = harness.http()
    currencies = exchange(http, HTTPRequest.get("/api/v2/public/get_currencies"))
    assert currencies.status == 200
    assert [c["currency"] for c in currencies.json()["result"]] == ["BTC", "ETH", "USDC"]
    instruments = exchange(http, HTTPRequest.get("/api/v2/public/get_instruments"))
    body = instruments.json()
    assert "id" not in body  # a GET has no JSON-RPC id
    names = {i["instrument_name"]: i for i in body["result"]}
    assert {"BTC-PERPETUAL", "ETH-PERPETUAL", "BTC_USDC-PERPETUAL", "BTC_USDC"} <= set(names)
    ccxt_reads = (
        "contract_size", "tick_size", "min_trade_amount", "kind", "base_currency",
        "quote_currency", "settlement_currency", "instrument_type", "is_active",
    )  # fmt: skip
    for field in ccxt_reads:
        assert field in names["BTC-PERPETUAL"], field
    assert "settlement_period" not in names["BTC_USDC"]  # spot: ccxt keys on its absence
    assert "amount_step" not in names["BTC-PERPETUAL"]  # the market's own field stays home
    assert {i["kind"] for i in body["result"]} == {"future", "option", "spot"}
    assert http.servers == 1  # keep-alive


def test_post_echoes_string_and_int_ids() -> None:
    harness = make_harness(STILL)
    http = harness.http()
    for request_id in ("abc-1", 42):
        response = exchange(
            http,
            HTTPRequest.post_json(
                "/api/v2/public/ticker",
                {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "method": "public/ticker",
                    "params": {"instrument_name": "BTC-PERPETUAL"},
                },
            ),
        )
        body = response.json()
        assert body["id"] == request_id
        assert body["result"]["instrument_name"] == "BTC-PERPETUAL"
        assert {"usIn", "usOut", "usDiff", "testnet"} <= set(body)


def test_http_and_websocket_share_one_state() -> None:
    harness = make_harness(STILL)
    ws = Client(harness)
    ws.send(Subscribe(channels=["user.orders.any.any.raw"]))
    harness.advance(1.0)
    http = harness.http()
    low = ws.call(GetOrderBook(instrument_name="BTC-PERPETUAL")).bids[-1][0] - 50
    params = {"instrument_name": "BTC-PERPETUAL", "amount": 10, "price": low, "type": "limit"}
    bought = exchange(http, signed_get(http, "/api/v2/private/buy", params, nonce="n1"))
    assert bought.status == 200, bought.json()
    order_id = bought.json()["result"]["order"]["order_id"]
    harness.pump()
    seen = [o.order_id for e in ws.of(UserOrdersUpdate) for o in e.orders]
    assert seen == [order_id]  # placed over HTTP, notified on the WebSocket
    ws_order = ws.call(Buy(instrument_name="BTC-PERPETUAL", amount=20, price=low))
    listed = exchange(
        http,
        signed_get(http, "/api/v2/private/get_open_orders_by_currency", {"currency": "BTC"}, "n2"),
    )
    assert [o["order_id"] for o in listed.json()["result"]] == [
        order_id,
        ws_order.order.order_id,
    ]
    assert [o.order_id for o in ws.call(GetOpenOrdersByCurrency(currency="BTC"))] == [
        order_id,
        ws_order.order.order_id,
    ]


def test_http_refuses_unsigned_private_calls_and_websocket_only_methods() -> None:
    harness = make_harness(STILL)
    http = harness.http()
    private = exchange(
        http, HTTPRequest.get("/api/v2/private/get_open_orders_by_currency", {"currency": "BTC"})
    )
    assert private.status == 400
    assert private.json()["error"]["code"] == 13009
    subscribe = exchange(
        http, HTTPRequest.get("/api/v2/public/subscribe", {"channels": '["quote.BTC-PERPETUAL"]'})
    )
    assert subscribe.json()["error"]["code"] == 10030
    replayed = signed_get(http, "/api/v2/private/get_positions", {"currency": "BTC"}, "same")
    assert exchange(http, replayed).status == 200
    assert exchange(http, replayed).json()["error"]["data"] == {"reason": "nonce_reused"}


def test_post_bodies_with_a_leading_slash_are_served_like_the_plain_form() -> None:
    # deribit-trading-sdk POSTs public calls to the bare /api/v2 and signed private ones
    # to /api/v2/private/<name>, with "/private/<name>" as the body's method (spec 1.3)
    harness = make_harness(STILL)
    http = harness.http()
    body = {"jsonrpc": "2.0", "method": "/public/get_time", "params": None}
    answer = exchange(http, HTTPRequest.post_json("/api/v2", body))
    assert answer.status == 200, answer.json()
    assert answer.json()["result"] == harness.venue.state.epoch_ms(http.clock.now)
    ask = harness.venue.market.book("BTC-PERPETUAL").asks[0][0]
    params = {"instrument_name": "BTC-PERPETUAL", "amount": 10, "type": "limit", "price": ask - 500}
    text = msgspec.json.encode(
        {"jsonrpc": "2.0", "id": 0, "method": "/private/buy", "params": params}
    )
    header = build_http_authorization(
        DEMO_CLIENT_ID,
        DEMO_CLIENT_SECRET,
        timestamp_ms=harness.venue.state.epoch_ms(http.clock.now),
        nonce="slash",
        method="POST",
        uri="/api/v2/private/buy",
        body=text,
    )
    bought = exchange(
        http,
        HTTPRequest(
            method="POST",
            path="/api/v2/private/buy",
            headers=(("Content-Type", "application/json"), ("Authorization", header)),
            body=text,
        ),
    )
    assert bought.status == 200, bought.json()
    assert bought.json()["id"] == 0
    assert bought.json()["result"]["order"]["order_state"] == "open"
