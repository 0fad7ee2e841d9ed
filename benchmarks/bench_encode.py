"""Encode: one ``private/buy`` request out, in microseconds per request.

The order is the spec 5.1 shape a market maker sends all day: a post-only limit buy
with a label, ``{"jsonrpc":"2.0","id":N,"method":"private/buy","params":{...}}``, the id
changing with every request.  Rows, all producing the same compact JSON bytes:

* ``encode_request(id, buy)``: a prebuilt (validated) :class:`Buy`; the envelope is
  built and encoded per call, with the size check;
* ``Buy(...)`` + ``encode_request``: the full cost of a new order, construction and
  validation included (``__post_init__`` checks every field);
* ``json.dumps`` / ``orjson.dumps`` of the envelope ``dict`` built per call around a
  prebuilt ``params`` dict: the same work as the first row (``json.dumps`` with compact
  separators, and ``.encode()`` to get bytes, as a socket needs); no validation;
* ``dict`` + ``orjson.dumps`` with the ``params`` dict built per call too: the same work
  as the second row minus the validation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

from tradewire.protocol.deribit import Buy, encode_request

from ._timing import Result, interleave, timed

__all__ = ["run"]

GROUP = "encode: private/buy request"

_FIELDS: dict[str, Any] = {
    "instrument_name": "BTC-PERPETUAL",
    "amount": 1000.0,
    "type": "limit",
    "price": 96999.5,
    "label": "mm-bid-000123",
    "time_in_force": "good_til_cancelled",
    "post_only": True,
}


def _count_loop(body: Callable[[int], object], count: int) -> Callable[[], float]:
    def loop() -> None:
        for i in range(count):
            body(i)

    return lambda: timed(loop, count)


def run(repeats: int, scale: float) -> tuple[list[Result], Result]:
    """The encode rows and the reference row (``encode_request`` of a prebuilt Buy)."""
    count = int(20000 * scale)
    buy = Buy(**_FIELDS)
    params = dict(_FIELDS)
    expected = encode_request(7, buy)
    envelope = {"jsonrpc": "2.0", "id": 7, "method": "private/buy", "params": params}
    assert orjson.dumps(envelope) == expected
    assert json.dumps(envelope, separators=(",", ":")).encode() == expected
    dumps, odumps = json.dumps, orjson.dumps
    f = _FIELDS

    def prebuilt(i: int) -> bytes:
        return encode_request(i, buy)

    def full(i: int) -> bytes:
        return encode_request(i, Buy(**f))

    def json_row(i: int) -> bytes:
        message = {"jsonrpc": "2.0", "id": i, "method": "private/buy", "params": params}
        return dumps(message, separators=(",", ":")).encode()

    def orjson_row(i: int) -> bytes:
        return odumps({"jsonrpc": "2.0", "id": i, "method": "private/buy", "params": params})

    def orjson_full(i: int) -> bytes:
        return odumps({"jsonrpc": "2.0", "id": i, "method": "private/buy", "params": dict(**f)})

    ref = Result(GROUP, "encode_request(id, prebuilt Buy)", "us")
    rows = [
        (ref, _count_loop(prebuilt, count)),
        (
            Result(GROUP, "Buy(...) + encode_request (validation included)", "us"),
            _count_loop(full, count),
        ),
        (Result(GROUP, "json.dumps(envelope dict).encode()", "us"), _count_loop(json_row, count)),
        (Result(GROUP, "orjson.dumps(envelope dict)", "us"), _count_loop(orjson_row, count)),
        (
            Result(GROUP, "orjson.dumps(envelope + params dict built per call)", "us"),
            _count_loop(orjson_full, count),
        ),
    ]
    interleave(rows, repeats)
    return [r for r, _ in rows], ref
