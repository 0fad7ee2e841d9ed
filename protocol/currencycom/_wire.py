"""Wire models (spec 2, 4.2): envelopes, pushed events and their payloads, decoders.

Every message is an envelope ``{"status", "destination", "correlationId", "payload"}``:

* an answer carries the ``correlationId`` of its request, which the client sends as a
  number and the venue echoes as a **string** (spec 2.2): :func:`correlation` compares
  them as strings, giving back the int id when the text is exactly one;
* an error is an answer whose ``status`` is not ``"OK"``, or whose payload is a
  ``{code, msg}`` object with a non-zero code (spec 2.4); the code may be a string;
* a push has no ``correlationId`` and is routed by ``destination`` (spec 2.3, 4.2):
  ``internal.quote`` (:class:`QuoteUpdate`), ``marketdepth.event`` (:class:`DepthUpdate`,
  each one the whole book; ``payload.data`` an object, or the same object JSON-encoded
  as a string, both accepted), ``internal.trade`` (:class:`TradeUpdate`) and
  ``ohlc.event`` (:class:`CandleUpdate`).  Any other destination is a :class:`Push`.

The pushes are one tagged union on ``destination``, so a push is decoded in one typed
msgspec pass (the hot path); answers keep their payload raw until the command they
answer says what type it is.  Keys are lower-case as every client spells them; a
message spelled with capitals (``Destination``/``Payload``, one docstring's spelling)
is accepted on the slow path.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._events import Event

__all__ = [
    "Candle",
    "CandleUpdate",
    "DepthData",
    "DepthPayload",
    "DepthUpdate",
    "ErrorPayload",
    "Push",
    "Quote",
    "QuoteUpdate",
    "Response",
    "Trade",
    "TradeUpdate",
    "correlation",
]


class Quote(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """``internal.quote`` payload: best bid and offer (``ofr``) of ``symbolName``."""

    symbolName: str
    bid: float | None = None
    bidQty: float | None = None
    ofr: float | None = None
    ofrQty: float | None = None
    timestamp: int | None = None


class DepthData(msgspec.Struct, frozen=True, kw_only=True):
    """The whole book: ``bid`` and ``ofr`` map price strings to quantities (unordered);
    ``ts`` in epoch ms."""

    ts: int | None = None
    bid: dict[str, float] = msgspec.field(default_factory=dict)
    ofr: dict[str, float] = msgspec.field(default_factory=dict)


class DepthPayload(msgspec.Struct, frozen=True, kw_only=True):
    """``marketdepth.event`` payload; ``data`` is a :class:`DepthData` once decoded (the
    codec decodes the string form too)."""

    symbol: str
    data: DepthData | str


class Trade(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """``internal.trade`` payload; ``buyer`` true means the buyer was the aggressor."""

    price: float
    size: float
    id: int | str | None = None
    ts: int | None = None
    symbol: str | None = None
    instrumentId: int | None = None
    orderId: str | None = None
    clientOrderId: str | None = None
    buyer: bool | None = None


class Candle(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """``ohlc.event`` payload: a bar of ``symbol`` at ``interval`` (the token the client
    sent), opened at ``t`` (ms); updates of the running bar repeat ``t``; no volume."""

    symbol: str
    interval: str = "1m"
    type: str = "classic"
    t: int
    o: float
    h: float
    l: float  # noqa: E741 - the venue's name
    c: float


class _Pushed(Event, frozen=True, kw_only=True, tag_field="destination"):
    status: str = "OK"


class QuoteUpdate(_Pushed, frozen=True, kw_only=True, tag="internal.quote"):
    """A best bid/offer push (``quote:SYMBOL``)."""

    payload: Quote

    @property
    def topic(self) -> str:
        return "quote:" + self.payload.symbolName


class DepthUpdate(_Pushed, frozen=True, kw_only=True, tag="marketdepth.event"):
    """A depth push (``depth:SYMBOL``): the whole book, replacing the previous one."""

    payload: DepthPayload

    @property
    def topic(self) -> str:
        return "depth:" + self.payload.symbol

    @property
    def data(self) -> DepthData:
        data = self.payload.data
        assert isinstance(data, DepthData), "the codec decodes the string form"
        return data


class TradeUpdate(_Pushed, frozen=True, kw_only=True, tag="internal.trade"):
    """A public trade push (``trades:SYMBOL``)."""

    payload: Trade

    @property
    def topic(self) -> str:
        return "trades:" + (self.payload.symbol or str(self.payload.instrumentId))


class CandleUpdate(_Pushed, frozen=True, kw_only=True, tag="ohlc.event"):
    """A candle push (``ohlc:INTERVAL:SYMBOL``, ``heikin-ashi:INTERVAL:SYMBOL``)."""

    payload: Candle

    @property
    def topic(self) -> str:
        candle = self.payload
        kind = "ohlc" if candle.type == "classic" else candle.type
        return f"{kind}:{candle.interval}:{candle.symbol}"


class Push(Event, frozen=True, kw_only=True):
    """A push to a destination this library does not model (passed on as it is)."""

    destination: str
    status: str | None = None
    payload: Any = None


PushUpdate = QuoteUpdate | DepthUpdate | TradeUpdate | CandleUpdate


class Response(msgspec.Struct, frozen=True, kw_only=True):
    """An answer envelope; ``payload`` stays raw until its command's type is known."""

    status: str | None = None
    destination: str | None = None
    correlationId: int | str | None = None
    payload: msgspec.Raw | None = None


class ErrorPayload(msgspec.Struct, frozen=True, kw_only=True):
    """``{"code": -1121, "msg": "Invalid symbol."}`` (a code may be a string)."""

    code: int | str
    msg: str = ""


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """Any message, for the slow path (unknown destinations, odd spellings)."""

    status: str | None = None
    destination: str | None = None
    correlationId: Any = None
    payload: Any = None


def correlation(value: int | str | None) -> int | str | None:
    """The request id an echoed ``correlationId`` names, compared as strings (spec 2.2):
    ``"7"`` is 7; ``"07"``, ``" 7"`` or ``"abc"`` are no int id of ours and stay text."""
    if isinstance(value, str):
        if value.isascii() and value.isdigit() and (value == "0" or value[0] != "0"):
            return int(value)
        return value
    if isinstance(value, bool):
        return None
    return value


PUSH_DECODER = msgspec.json.Decoder(PushUpdate)
RESPONSE_DECODER = msgspec.json.Decoder(Response)
ERROR_DECODER = msgspec.json.Decoder(ErrorPayload)
ENVELOPE_DECODER = msgspec.json.Decoder(Envelope)
DEPTH_DATA_DECODER = msgspec.json.Decoder(DepthData)
