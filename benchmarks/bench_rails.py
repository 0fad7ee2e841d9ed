"""Rails decode: a public order-book delta and a public trade through the client machine,
in microseconds per message (docs/venues/rails.md sections 6 and 7).

Rows, on the same list of ``bytes`` for each message kind (:mod:`benchmarks._venue_micro`):

* **through the machine**: ``rails.ClientProtocol.receive_message(data, now)`` then
  ``events()``, on a machine for ``BTC-USD`` with its defaults (pings every 30 s,
  order pacing on) and ``subscriptions=("publicOrderBook", "publicTrades")`` (in the
  upgrade's query, spec 1), connected, its ping answered and the snapshot it asked for
  (``emitPublicOrderBook``, 50 levels a side) delivered, so the book is trusted and
  every delta takes the machine's hot path (books not maintained: a delta is queued as
  an event, ``_client_books.hot_decoder``);
* **the same with ``maintain_books=True``** (the delta row only): every delta is also
  applied to the machine's ``Decimal`` ``OrderBook``;
* **bare msgspec typed decode**: ``msgspec.json.Decoder(BookDelta)`` for deltas,
  ``msgspec.json.Decoder(PublicTrades)`` for trades: the floor, the same event classes
  with the type known in advance;
* **orjson.loads / json.loads + dict handling**: route by ``resultType``, read the
  market and every level (side, price and quantity, each price and quantity converted
  from its decimal string with ``float``) or every trade (match id, side, price,
  quantity, time, execution type).

Deltas carry 10 levels (5 a side, on fixed price grids so the book never crosses, about
one in eight a removal with ``"0"``) and ``ts``; trades one trade each, as in the doc's
examples (spec 6, 7).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from tradewire.protocol import UuidIds
from tradewire.protocol.rails import BookDelta, ClientProtocol, PublicTrades

from ._timing import Result
from ._venue_micro import READ, compare, machine_row

__all__ = [
    "KINDS",
    "MARKET",
    "STREAMS",
    "answer",
    "delta_messages",
    "handle_dict",
    "machine",
    "run",
    "snapshot",
    "trade_messages",
]

KINDS = ("book delta, 10 levels", "trade")
GROUP = "rails decode"
NOW = 1_000.0
MARKET = "BTC-USD"
STREAMS = ("publicOrderBook", "publicTrades")
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
_BIDS = [f"{60_000 - 0.5 * k:.1f}" for k in range(1, 51)]
_ASKS = [f"{60_000 + 0.5 * k:.1f}" for k in range(0, 50)]


def _level(side: str, price: str, quantity: str) -> dict[str, str]:
    return {"orderType": side, "price": price, "quantity": quantity}


def snapshot(request_id: str | None = None) -> bytes:
    """The answer to ``emitPublicOrderBook``: 50 levels a side, no ``ts`` (spec 7)."""
    rng = random.Random(3)
    orders = [_level("buy", p, f"{rng.uniform(0.01, 5):.4f}") for p in _BIDS]
    orders += [_level("sell", p, f"{rng.uniform(0.01, 5):.4f}") for p in _ASKS]
    data: dict[str, Any] = {"orders": orders, "statusCode": 200}
    if request_id is not None:
        data["clientRequestId"] = request_id
    return msgspec.json.encode({"resultType": "publicOrderBook", "market": MARKET, "data": data})


def delta_messages(count: int, seed: int = 9) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        orders = []
        for side, grid in (("buy", _BIDS), ("sell", _ASKS)):
            for price in rng.sample(grid[:20], 5):
                size = "0" if rng.random() < 0.125 else f"{rng.uniform(0.01, 5):.4f}"
                orders.append(_level(side, price, size))
        data = {"orders": orders, "statusCode": 200, "ts": 1_772_576_154_169 + i}
        body = {"resultType": "publicOrderBookDelta", "market": MARKET, "data": data}
        out.append(msgspec.json.encode(body))
    return out


def trade_messages(count: int, seed: int = 10) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        trade = {
            "executionType": "taker",
            "matchId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "orderType": "buy" if rng.random() < 0.5 else "sell",
            "price": f"{60_000 + rng.uniform(-20, 20):.1f}",
            "quantity": f"{rng.uniform(0.001, 1):.4f}",
            "updatedAt": 1_767_762_810_250 + i,
        }
        data = {"orders": [trade], "statusCode": 200}
        body = {"resultType": "publicCompletedOrdersDelta", "market": MARKET, "data": data}
        out.append(msgspec.json.encode(body))
    return out


def answer(request: bytes) -> bytes | None:
    """The venue's answer to a request the machine sends on connecting: the snapshot to
    ``emitPublicOrderBook``, a ``pong`` to ``ping`` (spec 3.1, 7)."""
    body = msgspec.json.decode(request)
    request_id = body.get("content", {}).get("clientRequestId")
    if body.get("message") == "emitPublicOrderBook":
        return snapshot(request_id)
    if body.get("message") == "ping":
        data = {"clientRequestId": request_id, "statusCode": 200}
        return msgspec.json.encode({"resultType": "pong", "data": data})
    return None


def client(**options: Any) -> ClientProtocol:
    """A machine for ``MARKET`` with ``STREAMS`` in its query (``options`` added)."""
    return ClientProtocol(
        market=MARKET,
        ids=UuidIds(random.Random(7)),
        token=TOKEN,
        subscriptions=STREAMS,
        **options,
    )


def machine(**options: Any) -> ClientProtocol:
    """A connected machine whose requests were answered: its book is trusted."""
    c = client(**options)
    c.connection_made(NOW)
    for request in c.messages_to_send():
        reply = answer(request)
        if reply is not None:
            c.receive_message(reply, NOW)
    c.events()
    if c.pending:
        raise RuntimeError("the Rails machine still waits for an answer")
    return c


def handle_dict(message: dict[str, Any]) -> Any:
    kind = message["resultType"]
    data = message["data"]
    if kind == "publicOrderBookDelta":
        return (
            message.get("market"),
            data.get("ts"),
            [(o["orderType"], float(o["price"]), float(o["quantity"])) for o in data["orders"]],
        )
    if kind == "publicCompletedOrdersDelta":
        return (
            message.get("market"),
            [
                (
                    o["matchId"],
                    o["orderType"],
                    float(o["price"]),
                    float(o["quantity"]),
                    o["updatedAt"],
                    o.get("executionType"),
                )
                for o in data["orders"]
            ],
        )
    return message


def _books_kept(name: str, messages: list[bytes]) -> list[tuple[str, Callable[[], float]]]:
    if name != KINDS[0]:
        return []
    label = f"through the machine, maintain_books=True, {READ} messages per read"
    return [(label, machine_row(lambda: machine(maintain_books=True), messages, NOW))]


def run(repeats: int, scale: float) -> tuple[list[Result], dict[str, Result]]:
    """The rows; ``named`` maps ``"<kind>/<row>"`` to results for the targets."""
    delta, trade = KINDS
    cases = (
        (delta, delta_messages(int(8_000 * scale))),
        (trade, trade_messages(int(16_000 * scale))),
    )
    return compare(
        GROUP,
        cases,
        machine_label="through the machine: rails.ClientProtocol",
        make=machine,
        bare={
            delta: msgspec.json.Decoder(BookDelta).decode,
            trade: msgspec.json.Decoder(PublicTrades).decode,
        },
        handle=handle_dict,
        now=NOW,
        repeats=repeats,
        extra=_books_kept,
    )
