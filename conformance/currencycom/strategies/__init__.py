"""Hypothesis strategies for Currency.com messages, valid and invalid, for your own tests.

Needs ``hypothesis`` (``pip install 'tradewire[test]'``); nothing else in the package
imports this module.  What they generate follows ``docs/venues/currencycom.md``: symbols
as the venue writes them (spec 4), the four pushes of spec 4.2 with the depth ``data``
as an object or a JSON string, answers whose ``correlationId`` is echoed as a string and
errors whose code is a number or a string (spec 2.2, 2.4), requests a server must take,
and messages that are wrong in the ways a peer gets them wrong::

    @given(pushes())
    def test_my_client_decodes(sample):
        assert my_decode(sample.data) == sample.expected   # a DepthUpdate, TradeUpdate ...

    @given(client_inputs())
    def test_my_client_never_crashes(data): ...

    @given(server_inputs())
    def test_my_server_never_crashes(data): ...
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from hypothesis import strategies as st

from tradewire.protocol.currencycom import (
    INTERVALS,
    Candle,
    CandleUpdate,
    DepthData,
    DepthPayload,
    DepthUpdate,
    Quote,
    QuoteUpdate,
    Trade,
    TradeUpdate,
)

__all__ = [
    "PushSample",
    "answers",
    "client_inputs",
    "depth_pushes",
    "errors",
    "intervals",
    "pushes",
    "requests",
    "server_inputs",
    "symbols",
    "topics",
]

SYMBOLS = (
    "BTC/USD",
    "ETH/USD",
    "AAPL",
    "TSLA",
    "BTC/USD_LEVERAGE",
    "ETH/USD_LEVERAGE",
    "Oil - Brent.",
)
CODES = (
    -1000,
    -1003,
    -1013,
    -1021,
    -1022,
    -1100,
    -1102,
    -1121,
    -1128,
    -2010,
    -2011,
    -2013,
    -2014,
    -2015,
)


class PushSample(msgspec.Struct, frozen=True, kw_only=True):
    """The bytes of a push and the event a client must decode them to."""

    data: bytes
    expected: Any


def symbols() -> st.SearchStrategy[str]:
    """Symbols as the venue writes them: pairs, shares, ``_LEVERAGE``, asset names."""
    return st.sampled_from(SYMBOLS)


def intervals() -> st.SearchStrategy[str]:
    """Candle intervals in both spellings (``1m`` and ``M1``, spec 4.1)."""
    return st.sampled_from(sorted(INTERVALS))


def topics() -> st.SearchStrategy[str]:
    """Topics of the client grammar (``depth:BTC/USD``, ``ohlc:M1:AAPL`` ...)."""
    plain = st.builds(
        lambda k, s: f"{k}:{s}", st.sampled_from(("depth", "quote", "trades")), symbols()
    )
    candles = st.builds(
        lambda k, i, s: f"{k}:{i}:{s}",
        st.sampled_from(("ohlc", "heikin-ashi")),
        intervals(),
        symbols(),
    )
    return st.one_of(plain, candles)


_prices = st.floats(min_value=0.01, max_value=1e6, allow_nan=False).map(lambda p: round(p, 2))
_sizes = st.floats(min_value=0.0001, max_value=1e4, allow_nan=False).map(lambda q: round(q, 4))
_ms = st.integers(min_value=1_500_000_000_000, max_value=2_000_000_000_000)


def _levels() -> st.SearchStrategy[dict[str, float]]:
    return st.dictionaries(_prices.map(json.dumps), _sizes, max_size=25)


def depth_pushes() -> st.SearchStrategy[PushSample]:
    """``marketdepth.event`` pushes, ``data`` as an object or a JSON string (spec 4.2)."""

    @st.composite
    def build(draw: st.DrawFn) -> PushSample:
        symbol, ts = draw(symbols()), draw(_ms)
        bid, ofr = draw(_levels()), draw(_levels())
        data: Any = {"ts": ts, "bid": bid, "ofr": ofr}
        if draw(st.booleans()):
            data = json.dumps(data)
        message = {
            "status": "OK",
            "destination": "marketdepth.event",
            "payload": {"symbol": symbol, "data": data},
        }
        expected = DepthUpdate(
            payload=DepthPayload(
                symbol=symbol,
                data=DepthData(
                    ts=ts,
                    bid={k: float(v) for k, v in bid.items()},
                    ofr={k: float(v) for k, v in ofr.items()},
                ),
            )
        )
        return PushSample(data=json.dumps(message).encode(), expected=expected)

    return build()


def pushes() -> st.SearchStrategy[PushSample]:
    """Every push of spec 4.2, with the event it decodes to."""

    @st.composite
    def quote(draw: st.DrawFn) -> PushSample:
        payload = Quote(
            symbolName=draw(symbols()), bid=draw(_prices), bidQty=draw(_sizes),
            ofr=draw(_prices), ofrQty=draw(_sizes), timestamp=draw(_ms),
        )  # fmt: skip
        event = QuoteUpdate(payload=payload)
        return PushSample(data=msgspec.json.encode(event), expected=event)

    @st.composite
    def trade(draw: st.DrawFn) -> PushSample:
        payload = Trade(
            price=draw(_prices), size=draw(_sizes), id=draw(st.integers(1, 2**53)),
            ts=draw(_ms), symbol=draw(symbols()), orderId="o-1", clientOrderId="c-1",
            buyer=draw(st.booleans()),
        )  # fmt: skip
        event = TradeUpdate(payload=payload)
        return PushSample(data=msgspec.json.encode(event), expected=event)

    @st.composite
    def candle(draw: st.DrawFn) -> PushSample:
        low = draw(_prices)
        payload = Candle(
            symbol=draw(symbols()), interval=draw(intervals()),
            type=draw(st.sampled_from(("classic", "heikin-ashi"))), t=draw(_ms),
            o=low, h=round(low * 1.01, 2), l=low, c=low,
        )  # fmt: skip
        event = CandleUpdate(payload=payload)
        return PushSample(data=msgspec.json.encode(event), expected=event)

    return st.one_of(quote(), trade(), candle(), depth_pushes())


def errors(correlation_id: int) -> st.SearchStrategy[bytes]:
    """Error answers to ``correlation_id``: any non-OK status, codes as numbers or strings."""
    code = st.sampled_from(CODES).flatmap(lambda c: st.sampled_from((c, str(c))))
    status = st.sampled_from(("BAD_REQUEST", "ERROR", "TOO_MANY_REQUESTS", "OK"))
    return st.builds(
        lambda s, c, m: json.dumps(
            {"status": s, "correlationId": str(correlation_id), "payload": {"code": c, "msg": m}}
        ).encode(),
        status,
        code,
        st.text(max_size=30),
    )


def answers(correlation_id: int) -> st.SearchStrategy[bytes]:
    """OK answers to ``correlation_id`` (echoed as a string) with any JSON payload."""
    payload = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=10,
    )
    return st.builds(
        lambda p: json.dumps(
            {"status": "OK", "correlationId": str(correlation_id), "payload": p}
        ).encode(),
        payload,
    )


def client_inputs() -> st.SearchStrategy[bytes | str]:
    """Anything a client may receive: pushes, answers, errors, unknown destinations,
    capitalised keys, truncated JSON, non-objects, bytes that are not UTF-8."""
    ids = st.integers(min_value=1, max_value=20)
    junk = st.one_of(
        st.binary(max_size=64),
        st.text(max_size=64),
        st.just(
            b'{"status":"OK","destination":"marketdepth.event","payload":{"symbol":"X","data":"{bad"}}'
        ),
        st.just(b'{"Destination":"internal.quote","Payload":{"symbolName":"BTC/USD","bid":1}}'),
        st.just(b'{"status":"OK","destination":"somewhere.else","payload":[1,2]}'),
        st.just(b'{"status":"OK","destination":"internal.trade","payload":{"price":"x"}}'),
        st.just(b"[1,2,3]"),
    )
    return st.one_of(
        pushes().map(lambda s: s.data),
        ids.flatmap(answers),
        ids.flatmap(errors),
        junk,
    )


def requests() -> st.SearchStrategy[bytes]:
    """Requests a server must take (public ones, pings, subscriptions)."""
    cid = st.one_of(st.integers(1, 2**31), st.integers(1, 2**31).map(str))
    subscribe = st.builds(
        lambda d, s, c: json.dumps(
            {"destination": d, "correlationId": c, "payload": {"symbols": s}}
        ),
        st.sampled_from(("depthMarketData.subscribe", "marketData.subscribe", "trades.subscribe")),
        st.lists(symbols(), min_size=1, max_size=3),
        cid,
    )
    simple = st.builds(
        lambda d, c: json.dumps({"destination": d, "correlationId": c, "payload": {}}),
        st.sampled_from(("ping", "/api/v1/time", "/api/v1/exchangeInfo", "/api/v2/time")),
        cid,
    )
    return st.one_of(subscribe, simple).map(str.encode)


def server_inputs() -> st.SearchStrategy[bytes | str]:
    """Anything a server may receive: requests, unsigned private requests, bad payloads,
    unknown destinations, garbage."""
    bad = st.one_of(
        st.binary(max_size=64),
        st.text(max_size=64),
        st.builds(
            lambda d, p: json.dumps({"destination": d, "correlationId": 1, "payload": p}).encode(),
            st.sampled_from(
                ("/api/v1/account", "/api/v1/order/create", "nope", "OHLCMarketData.subscribe", "")
            ),
            st.one_of(
                st.none(),
                st.integers(),
                st.dictionaries(
                    st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=4
                ),
            ),
        ),
    )
    return st.one_of(requests(), bad)
