"""Helpers for the Rails protocol tests: a client machine with pinned ids and a token,
the messages the venue sends (shaped like the doc examples), and what the client sent."""

from __future__ import annotations

import random
from typing import Any

import msgspec

from tradewire.protocol import UuidIds
from tradewire.protocol.rails import ClientProtocol

TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def client(**options: Any) -> ClientProtocol:
    """A client for BTC-USD with a token and ids from a seeded RNG (``options`` win)."""
    options.setdefault("market", "BTC-USD")
    options.setdefault("ids", UuidIds(random.Random(7)))
    options.setdefault("token", TOKEN)
    options.setdefault("token_expires_in", 1800.0)
    return ClientProtocol(**options)


def sent(machine: ClientProtocol) -> list[dict[str, Any]]:
    return [msgspec.json.decode(m) for m in machine.messages_to_send()]


def message(result_type: str, data: Any, market: str | None = None) -> bytes:
    body: dict[str, Any] = {"resultType": result_type}
    if market is not None:
        body["market"] = market
    body["data"] = data
    return msgspec.json.encode(body)


def order(
    status: str, *, order_id: str = "01HZ5J70FCBNJAS7TVPVB4GAAG", **fields: Any
) -> dict[str, Any]:
    """An order object as in spec 4.1."""
    base: dict[str, Any] = {
        "market": "BTC-USD",
        "orderId": order_id,
        "orderType": "buy",
        "tradeType": "limit",
        "price": "3600",
        "quantity": "1",
        "filledQuantity": "0",
        "leverage": "1",
        "createdAt": 1746642892940,
        "updatedAt": 1746642892940,
        "orderStatus": status,
        "postOnly": False,
    }
    base.update(fields)
    return base


def reply(result_type: str, request_id: str, status: int, body: str = "", **data: Any) -> bytes:
    """An answer to ``request_id`` with ``statusCode`` ``status``."""
    return message(
        result_type,
        {"statusCode": status, "body": body, "clientRequestId": request_id, **data},
        data.pop("market", "BTC-USD") if "market" in data else "BTC-USD",
    )


def levels(*items: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"orderType": side, "price": price, "quantity": size} for side, price, size in items]


def delta(*items: tuple[str, str, str], market: str = "BTC-USD") -> bytes:
    return message(
        "publicOrderBookDelta",
        {"orders": levels(*items), "statusCode": 200, "ts": 1772576154169},
        market,
    )


def snapshot(
    request_id: str | None, *items: tuple[str, str, str], market: str = "BTC-USD"
) -> bytes:
    data: dict[str, Any] = {"orders": levels(*items), "statusCode": 200}
    if request_id is not None:
        data["clientRequestId"] = request_id
    return message("publicOrderBook", data, market)
