"""The bytes every benchmark shares, and the dict handling of the JSON baselines.

Messages are built the way Deribit writes them (spec 3.3-3.5): compact JSON, the
documented key order (``jsonrpc, method, params{channel, data}``; book data ``type,
instrument_name, timestamp, change_id, prev_change_id, bids, asks``), BTC-PERPETUAL
prices on a 0.5 tick around 97,000, amounts in USD multiples of 10 printed as floats
(``12340.0``).  :class:`BookSim` keeps a model book of 200 levels a side and emits
changes near the top (``new`` on an empty tick, ``change`` or ``delete`` of a live one,
within the best 40 ticks), so a book fed the stream stays about 400 levels deep and
every change chains through ``prev_change_id``.  Everything is seeded: the same run
gives the same bytes, to every row of a comparison.

The JSON baselines get the work the typed decode does for free, written the fastest way
plain Python allows (:func:`handle_dict`):

* routing: ``method`` (``subscription`` / ``heartbeat``), ``params["channel"]`` and the
  optional ``label``, then the channel's family by its prefix through a dict lookup;
* field access: every field the typed event has; required ones with ``itemgetter``
  (one C call, ``KeyError`` when missing), optional ones with ``dict.get``;
* book levels: each ``[action, price, amount]`` unpacked (an arity check); trades: the
  same field access for each trade of the array.

It does *not* check types (a typed decode rejects a string price, an unknown action,
a float timestamp), convert ints to floats, or build objects: the baseline is generous.
"""

from __future__ import annotations

import random
from operator import itemgetter
from typing import Any

import msgspec

from tradewire.protocol.deribit.server import (
    encode_heartbeat,
    encode_notification,
    encode_result,
)

__all__ = [
    "BOOK",
    "TICKER",
    "TRADES",
    "BookSim",
    "answer_request",
    "bare_decoder",
    "handle_dict",
    "heartbeats",
    "subscribe_request",
    "tickers",
    "trades",
]

INSTRUMENT = "BTC-PERPETUAL"
BOOK = f"book.{INSTRUMENT}.100ms"
TICKER = f"ticker.{INSTRUMENT}.100ms"
TRADES = f"trades.{INSTRUMENT}.100ms"

_MID = 97_000.0
_TICK = 0.5
_DEPTH = 200  # live levels per side in the snapshot
_TOP = 40  # changes touch the best 40 ticks of a side
_T0 = 1_763_700_000_000  # ms, 2025-11-21
_CHANGE_ID0 = 72_000_000_000


class BookSim:
    """A seeded model of one Deribit book that emits a snapshot, then chained changes."""

    def __init__(self, seed: int = 6) -> None:
        self.rng = random.Random(seed)
        # tick distance from the mid -> amount; bids below the mid, asks above: never crossed
        self.sides: dict[str, dict[int, float]] = {}
        for side in ("bids", "asks"):
            ticks = sorted(self.rng.sample(range(1, _DEPTH + 60), _DEPTH))
            self.sides[side] = {k: self._amount() for k in ticks}
        self.change_id = _CHANGE_ID0
        self.timestamp = _T0

    def _amount(self) -> float:
        return float(self.rng.choice((10, 20, 50, 100, 500, 1000, 5000, 20000, 120000)) * 10)

    @staticmethod
    def _price(side: str, k: int) -> float:
        return _MID - k * _TICK if side == "bids" else _MID + k * _TICK

    def snapshot(self) -> bytes:
        """The whole book as a ``type: snapshot`` notification (no ``prev_change_id``)."""
        self.change_id += 1
        data = {
            "type": "snapshot",
            "instrument_name": INSTRUMENT,
            "timestamp": self.timestamp,
            "change_id": self.change_id,
            "bids": [
                ["new", self._price("bids", k), v] for k, v in sorted(self.sides["bids"].items())
            ],
            "asks": [
                ["new", self._price("asks", k), v] for k, v in sorted(self.sides["asks"].items())
            ],
        }
        return encode_notification(BOOK, data)

    def change_data(self, levels: int) -> dict[str, Any]:
        """The data of the next change: ``levels`` actions on distinct top-of-book ticks."""
        rng = self.rng
        picked: dict[str, list[list[Any]]] = {"bids": [], "asks": []}
        touched: set[tuple[str, int]] = set()
        while len(touched) < levels:
            side = rng.choice(("bids", "asks"))
            k = rng.randint(1, _TOP)
            if (side, k) in touched:
                continue
            touched.add((side, k))
            book = self.sides[side]
            price = self._price(side, k)
            if k not in book:
                book[k] = amount = self._amount()
                picked[side].append(["new", price, amount])
            elif rng.random() < 0.3:
                del book[k]
                picked[side].append(["delete", price, 0.0])
            else:
                book[k] = amount = self._amount()
                picked[side].append(["change", price, amount])
        prev, self.change_id = self.change_id, self.change_id + rng.randint(1, 5)
        self.timestamp += rng.randint(80, 120)
        return {
            "type": "change",
            "instrument_name": INSTRUMENT,
            "timestamp": self.timestamp,
            "change_id": self.change_id,
            "prev_change_id": prev,
            # Deribit's order on the wire: bids best first (descending), asks ascending
            "bids": sorted(picked["bids"], key=lambda level: -level[1]),
            "asks": sorted(picked["asks"], key=lambda level: level[1]),
        }

    def changes(self, count: int, levels: int = 20) -> list[bytes]:
        """``count`` chained change notifications of ``levels`` levels each."""
        return [encode_notification(BOOK, self.change_data(levels)) for _ in range(count)]

    def change_template(self, levels: int) -> bytes:
        """A change with ``%d`` in place of ``change_id`` and ``prev_change_id``.

        The loopback server fills them in as it sends, so a stream of any length
        chains correctly however often the templates repeat.
        """
        data = self.change_data(levels)
        data["change_id"] = data["prev_change_id"] = 0
        message = encode_notification(BOOK, data)
        marker = b'"change_id":0,"prev_change_id":0'
        assert message.count(marker) == 1
        assert b"%" not in message
        return message.replace(marker, b'"change_id":%d,"prev_change_id":%d')


def tickers(count: int, seed: int = 7) -> list[bytes]:
    """``ticker.BTC-PERPETUAL.100ms`` notifications as in spec 3.4, prices moving."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        bid = _MID - rng.randint(1, 4) * _TICK
        data = {
            "instrument_name": INSTRUMENT,
            "timestamp": _T0 + 100 * i,
            "state": "open",
            "best_bid_price": bid,
            "best_bid_amount": float(rng.randint(1, 5000) * 10),
            "best_ask_price": bid + _TICK,
            "best_ask_amount": float(rng.randint(1, 5000) * 10),
            "last_price": bid + rng.choice((0.0, _TICK)),
            "mark_price": round(bid + rng.random(), 2),
            "index_price": round(bid - rng.random() * 20, 2),
            "estimated_delivery_price": round(bid - 10.13, 2),
            "settlement_price": 96_512.49,
            "min_price": 95_547.37,
            "max_price": 98_452.72,
            "open_interest": 502_097_590.0 + i,
            "current_funding": 0.0,
            "funding_8h": 2.11e-5,
            "interest_value": 1.7362511643080387,
            "stats": {
                "high": 98_824.5,
                "low": 95_213.5,
                "price_change": 0.7229,
                "volume": 7871.02139035,
                "volume_usd": 284_061_480.0,
            },
        }
        out.append(encode_notification(TICKER, data))
    return out


def trades(count: int, per_message: int = 3, seed: int = 8) -> list[bytes]:
    """``trades.BTC-PERPETUAL.100ms`` notifications: arrays of ``per_message`` trades."""
    rng = random.Random(seed)
    seq = 30_289_442
    out = []
    for i in range(count):
        batch = []
        for _ in range(per_message):
            seq += 1
            batch.append(
                {
                    "trade_id": str(48_079_269 + seq),
                    "trade_seq": seq,
                    "timestamp": _T0 + 100 * i,
                    "instrument_name": INSTRUMENT,
                    "price": _MID + rng.randint(-4, 4) * _TICK,
                    "amount": float(rng.randint(1, 500) * 10),
                    "direction": rng.choice(("buy", "sell")),
                    "tick_direction": rng.randint(0, 3),
                    "mark_price": 96_998.9,
                    "index_price": 96_995.88,
                }
            )
        out.append(encode_notification(TRADES, batch))
    return out


def heartbeats(count: int) -> list[bytes]:
    """``{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}``."""
    return [encode_heartbeat("heartbeat")] * count


def subscribe_request(request_id: int, channels: list[str]) -> bytes:
    """What a client sends first: ``public/subscribe`` (spec 3.1)."""
    return msgspec.json.encode(
        {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "public/subscribe",
            "params": {"channels": channels},
        }
    )


# -- the bare typed decode: a decoder told the message type in advance ---------------------


def bare_decoder(event_type: type) -> msgspec.json.Decoder[Any]:
    """``{method: str, params: event_type}``: one msgspec pass, no routing at all.

    It decodes into tradewire's own event types, so both sides build the same objects;
    what it skips is everything tradewire adds: finding the type from the channel,
    checking the peek, the machine.  It is the floor a typed decode can reach.
    """
    envelope = msgspec.defstruct(
        f"Bare{event_type.__name__}", [("method", str), ("params", event_type)], gc=False
    )
    return msgspec.json.Decoder(envelope)


# -- the JSON baselines' dict handling (see the module docstring) ----------------------------

_BOOK_REQUIRED = itemgetter("type", "instrument_name", "timestamp", "change_id", "bids", "asks")
_TICKER_REQUIRED = itemgetter(
    "instrument_name",
    "timestamp",
    "state",
    "best_bid_price",
    "best_bid_amount",
    "best_ask_price",
    "best_ask_amount",
    "last_price",
    "mark_price",
    "index_price",
    "min_price",
    "max_price",
    "stats",
)
_TICKER_OPTIONAL = (
    "estimated_delivery_price",
    "settlement_price",
    "delivery_price",
    "open_interest",
    "current_funding",
    "funding_8h",
    "interest_value",
    "greeks",
    "mark_iv",
    "bid_iv",
    "ask_iv",
    "underlying_price",
    "underlying_index",
    "interest_rate",
)
_STATS = ("high", "low", "price_change", "volume", "volume_usd", "volume_notional")
_TRADE_REQUIRED = itemgetter(
    "trade_id",
    "trade_seq",
    "timestamp",
    "instrument_name",
    "price",
    "amount",
    "direction",
    "tick_direction",
    "mark_price",
    "index_price",
)
_TRADE_OPTIONAL = (
    "iv",
    "liquidation",
    "block_trade_id",
    "block_rfq_id",
    "combo_id",
    "combo_trade_id",
    "contracts",
)


def _book(data: dict[str, Any]) -> Any:
    _type, _name, _ts, _cid, bids, asks = _BOOK_REQUIRED(data)
    data.get("prev_change_id")
    for _action, _price, _amount in bids:
        pass
    for _action, _price, _amount in asks:
        pass
    return data


def _ticker(data: dict[str, Any]) -> Any:
    stats = _TICKER_REQUIRED(data)[-1]
    tuple(map(data.get, _TICKER_OPTIONAL))
    tuple(map(stats.get, _STATS))
    return data


def _trades(data: list[dict[str, Any]]) -> Any:
    for trade in data:
        _TRADE_REQUIRED(trade)
        tuple(map(trade.get, _TRADE_OPTIONAL))
    return data


_FAMILIES = {"book": _book, "ticker": _ticker, "trades": _trades}


def handle_dict(message: Any) -> Any:
    """Route a ``json.loads`` / ``orjson.loads`` result and read its fields (see above).

    Returns ``(channel, data)`` for a notification, the heartbeat ``type`` for a
    heartbeat, and ``None`` for anything else (a response).
    """
    method = message.get("method")
    if method == "subscription":
        params = message["params"]
        channel = params["channel"]
        params.get("label")
        family = _FAMILIES[channel[: channel.index(".")]]
        return channel, family(params["data"])
    if method == "heartbeat":
        return message["params"]["type"]
    return None


# -- the venue's side of the conversation ------------------------------------------------------


class _Request(msgspec.Struct, gc=False):
    id: Any = None
    method: Any = None
    params: Any = None


_REQUEST = msgspec.json.Decoder(_Request)


def answer_request(message: bytes | str, us: int = 1_763_700_000_000_000) -> bytes | None:
    """The reference venue's minimal answer to one client request, or ``None``.

    ``*/subscribe`` gets its channel list back (as Deribit does), ``public/hello`` and
    ``public/test`` a version, everything else ``"ok"``; messages without ``id`` and
    ``method`` get nothing.  Enough for a client machine to see its subscription acked.
    """
    try:
        request = _REQUEST.decode(message)
    except msgspec.DecodeError:
        return None
    if request.id is None or not isinstance(request.method, str):
        return None
    result: Any = "ok"
    if request.method.endswith("/subscribe") and isinstance(request.params, dict):
        result = request.params.get("channels", [])
    elif request.method in ("public/hello", "public/test"):
        result = {"version": "1.2.26"}
    return encode_result(request.id, result, us_in=us, us_out=us + 15)
