"""Currency.com decode: a depth event and a trade through the client machine, in
microseconds per message (docs/venues/currencycom.md section 4.2).

Rows, on the same list of ``bytes`` for each message kind:

* **through the machine**: ``currencycom.ClientProtocol.receive_message(data, now)`` then
  ``events()``, on a connected machine subscribed to ``depth:BTC/USD`` and
  ``trades:BTC/USD`` (books not maintained, pings and pacing on: the defaults);
* **bare msgspec typed decode**: ``msgspec.json.Decoder(DepthUpdate | TradeUpdate)``, the
  floor: the same event objects, the type known in advance;
* **orjson.loads / json.loads + dict handling**: route by ``destination``, read the
  symbol and every field an application would use (all price levels of the book, each
  converted from its price string; the trade's price, size, side, ids), as a consumer
  of plain dicts would.

Depth events carry 20 levels a side in the object form (the reference venue's); trades
are single trades, as the venue pushes them.
"""

from __future__ import annotations

import json
import random
from typing import Any

import msgspec

from tradewire.protocol.currencycom import ClientProtocol, DepthUpdate, Subscribe, TradeUpdate

from ._timing import Result
from ._venue_micro import compare

__all__ = ["KINDS", "TOPICS", "handle_dict", "machine", "run"]

KINDS = ("depth event, 20 levels a side", "trade")
TOPICS = ("depth:BTC/USD", "trades:BTC/USD")

GROUP = "currencycom decode"
NOW = 1_000.0


def depth_messages(count: int) -> list[bytes]:
    rng = random.Random(5)
    out = []
    for i in range(count):
        mid = 60_000 + rng.uniform(-50, 50)
        bid = {
            f"{round(mid - 0.5 - k * 0.5, 2)}": round(rng.uniform(0.001, 2), 4) for k in range(20)
        }
        ofr = {
            f"{round(mid + 0.5 + k * 0.5, 2)}": round(rng.uniform(0.001, 2), 4) for k in range(20)
        }
        data = {"ts": 1_700_000_000_000 + i, "bid": bid, "ofr": ofr}
        payload = {"symbol": "BTC/USD", "data": data}
        out.append(
            msgspec.json.encode(
                {"status": "OK", "destination": "marketdepth.event", "payload": payload}
            )
        )
    return out


def trade_messages(count: int) -> list[bytes]:
    rng = random.Random(6)
    out = []
    for i in range(count):
        payload = {
            "price": round(60_000 + rng.uniform(-50, 50), 2),
            "size": round(rng.uniform(0.001, 1), 4),
            "id": 1_616_651_347 + i,
            "ts": 1_700_000_000_000 + i,
            "symbol": "BTC/USD",
            "orderId": "00a02503-0079-54c4-0000-00004020316a",
            "clientOrderId": "00a02503-0079-54c4-0000-482f00003a06",
            "buyer": bool(i % 2),
        }
        out.append(
            msgspec.json.encode(
                {"status": "OK", "destination": "internal.trade", "payload": payload}
            )
        )
    return out


def machine() -> ClientProtocol:
    client = ClientProtocol()
    client.connection_made(NOW)
    client.send(Subscribe(topics=TOPICS), NOW)
    for sent in client.messages_to_send():
        cid = msgspec.json.decode(sent)["correlationId"]
        client.receive_message(b'{"status":"OK","correlationId":"%d","payload":{}}' % cid, NOW)
    client.events()
    return client


def handle_dict(message: dict[str, Any]) -> Any:
    destination = message["destination"]
    payload = message["payload"]
    if destination == "marketdepth.event":
        data = payload["data"]
        if isinstance(data, str):
            data = json.loads(data)
        return {
            "symbol": payload["symbol"],
            "ts": data["ts"],
            "bids": [(float(p), q) for p, q in data["bid"].items()],
            "asks": [(float(p), q) for p, q in data["ofr"].items()],
        }
    if destination == "internal.trade":
        return {
            "symbol": payload["symbol"],
            "price": payload["price"],
            "size": payload["size"],
            "side": "buy" if payload["buyer"] else "sell",
            "id": payload["id"],
            "ts": payload["ts"],
        }
    return message


def run(repeats: int, scale: float) -> tuple[list[Result], dict[str, Result]]:
    """The rows; ``named`` maps ``"<kind>/<row>"`` to results for the targets."""
    depth, trade = KINDS
    cases = (
        (depth, depth_messages(int(3000 * scale))),
        (trade, trade_messages(int(6000 * scale))),
    )
    return compare(
        GROUP,
        cases,
        machine_label="through the machine: currencycom.ClientProtocol",
        make=machine,
        bare=msgspec.json.Decoder(DepthUpdate | TradeUpdate).decode,
        handle=handle_dict,
        now=NOW,
        repeats=repeats,
    )
