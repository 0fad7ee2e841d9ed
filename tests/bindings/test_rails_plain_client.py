"""Plain clients work: ``tradewire serve rails`` in a subprocess, and a generic WebSocket
client (``websockets``, no tradewire code on the client side) that does what the Rails
docs show: a token from ``POST /api/v1/token`` with ``urllib``, the upgrade with the
subprotocol ``authorization#<JWT>`` and the query string
``?market=BTC-USD&subscriptions=orders,trades,publicTrades,publicOrderBook``, a ``ping``,
a ``subscribe``, an order placed and cancelled (202 then 200 each), and the book.  Every
wait is bounded; the venue stops with SIGINT."""

from __future__ import annotations

import json
import re
import signal
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from websockets.sync.client import connect

from tradewire.conformance.rails import DEMO_API_KEY, DEMO_API_SECRET

from .test_cli_serve import Served

FIRST_LINE = re.compile(r"ws://127\.0\.0\.1:(\d+)/ http://127\.0\.0\.1:(\d+)\n")
TIMEOUT = 10.0


def token(http_url: str, key: str, secret: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{http_url}/api/v1/token",
        method="POST",
        headers={"X-Api-Key": key, "X-Api-Secret": secret},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        body: dict[str, Any] = json.loads(response.read())
    return body


def ask(ws: Any, message: str, **content: Any) -> str:
    request_id = str(uuid.uuid4())
    ws.send(json.dumps({"message": message, "content": {"clientRequestId": request_id, **content}}))
    return request_id


def answers(ws: Any, request_id: str, count: int) -> list[dict[str, Any]]:
    """The next ``count`` messages answering ``request_id`` (stream messages skipped)."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        message = json.loads(ws.recv(timeout=TIMEOUT))
        data = message.get("data")
        if isinstance(data, dict) and data.get("clientRequestId") == request_id:
            found.append(message)
    return found


def test_a_plain_websocket_client_does_what_the_docs_show() -> None:
    served = Served("rails", "--port", "0", "--seed", "3")
    try:
        line = served.first_line()
        match = FIRST_LINE.fullmatch(line)
        assert match is not None, line
        port = match.group(1)
        http_url = f"http://127.0.0.1:{port}"
        issued = token(http_url, DEMO_API_KEY, DEMO_API_SECRET)
        assert issued["token_type"] == "Bearer"
        assert issued["expires_in"] == 1800
        with pytest.raises(urllib.error.HTTPError) as refused:
            token(http_url, DEMO_API_KEY, "wrong")
        assert refused.value.code == 401
        refused.value.close()
        url = (
            f"ws://127.0.0.1:{port}"
            "?market=BTC-USD&subscriptions=orders,trades,publicTrades,publicOrderBook"
        )
        offered = f"authorization#{issued['access_token']}"
        with connect(url, subprotocols=[offered], open_timeout=TIMEOUT) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == offered  # echoed exactly
            ping = ask(ws, "ping")
            assert answers(ws, ping, 1) == [
                {"resultType": "pong", "data": {"clientRequestId": ping, "statusCode": 200}}
            ]
            subscribe = ask(ws, "subscribe", subscriptions=["publicTrades"])
            (subscribed,) = answers(ws, subscribe, 1)
            assert subscribed["resultType"] == "subscribed"
            assert subscribed["data"]["activeSubscriptions"] == [
                "orders", "trades", "publicTrades", "publicOrderBook",
            ]  # fmt: skip
            book = ask(ws, "emitPublicOrderBook")
            (snapshot,) = answers(ws, book, 1)
            assert snapshot["resultType"] == "publicOrderBook"
            levels = snapshot["data"]["orders"]
            bids = [float(x["price"]) for x in levels if x["orderType"] == "buy"]
            asks = [float(x["price"]) for x in levels if x["orderType"] == "sell"]
            assert bids
            assert asks
            assert max(bids) < min(asks)
            assert all(isinstance(x["quantity"], str) for x in levels)  # decimals as strings
            create = ask(
                ws, "createOrder", price=str(round(max(bids) * 0.99)), quantity="0.01",
                orderType="buy", tradeType="limit", postOnly=False,
            )  # fmt: skip
            pending, accepted = answers(ws, create, 2)
            assert (pending["data"]["statusCode"], accepted["data"]["statusCode"]) == (202, 200)
            assert pending["data"]["order"]["orderStatus"] == "pending"
            assert accepted["data"]["order"]["orderStatus"] == "active"
            order_id = accepted["data"]["order"]["orderId"]
            cancel = ask(ws, "cancelOrder", orderId=order_id, cancelBy="orderId", market="BTC-USD")
            cancelling, cancelled = answers(ws, cancel, 2)
            assert cancelling["data"]["order"]["orderStatus"] == "cancelling"
            assert cancelled["data"]["order"]["orderStatus"] == "cancelled"
            deltas = 0
            while deltas < 3:
                message = json.loads(ws.recv(timeout=TIMEOUT))
                if message["resultType"] == "publicOrderBookDelta":
                    assert message["market"] == "BTC-USD"
                    deltas += 1
    finally:
        code, err, _ = served.stop(signal.SIGINT)
    assert code == 0, err
