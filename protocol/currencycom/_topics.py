"""Topics: the names the client's subscription ledger keeps (our grammar, spec 4.1).

The venue has four subscribe destinations, each taking a list of symbols; the client
names one subscription per symbol:

================================ =============================== =========================
topic                            subscribe destination           push
================================ =============================== =========================
``depth:SYMBOL``                 ``depthMarketData.subscribe``   ``marketdepth.event``
``quote:SYMBOL``                 ``marketData.subscribe``        ``internal.quote``
``trades:SYMBOL``                ``trades.subscribe``            ``internal.trade``
``ohlc:INTERVAL:SYMBOL``         ``OHLCMarketData.subscribe``    ``ohlc.event``
``heikin-ashi:INTERVAL:SYMBOL``  the same, ``type: heikin-ashi`` ``ohlc.event``
================================ =============================== =========================

``SYMBOL`` is the venue's symbol as it is written in JSON (``BTC/USD``,
``BTC/USD_LEVERAGE``, ``Oil - Brent.``); ``INTERVAL`` is either spelling of spec 4.1
(``1m 5m 15m 30m 1h 4h 1d 1w`` or ccxt's ``M1 M3 M5 M15 M30 H1 H4 D1 W1``), sent as
written, since the venue echoes the token it was sent.  Topics of one destination (and,
for candles, one interval and type) share a request.
"""

from __future__ import annotations

from .._errors import LocalProtocolError

__all__ = [
    "DEPTH",
    "INTERVALS",
    "KINDS",
    "Topic",
    "interval_seconds",
    "parse_topic",
]

INTERVALS: dict[str, int] = {
    "1m": 60, "5m": 300, "15m": 900, "30m": 1800, "1h": 3600, "4h": 14400,
    "1d": 86400, "1w": 604800,
    "M1": 60, "M3": 180, "M5": 300, "M15": 900, "M30": 1800, "H1": 3600, "H4": 14400,
    "D1": 86400, "W1": 604800,
}  # fmt: skip
"""Both spellings of the candle intervals (spec 4.1, 7), in seconds."""

DEPTH = "depth"
KINDS: dict[str, str] = {
    "depth": "depthMarketData.subscribe",
    "quote": "marketData.subscribe",
    "trades": "trades.subscribe",
    "ohlc": "OHLCMarketData.subscribe",
    "heikin-ashi": "OHLCMarketData.subscribe",
}
"""Topic kind -> subscribe destination."""

MAX_SYMBOL = 100


def interval_seconds(interval: str) -> int:
    """Seconds of a candle interval in either spelling; LocalProtocolError otherwise."""
    seconds = INTERVALS.get(interval)
    if seconds is None:
        raise LocalProtocolError(
            f"invalid interval {interval!r}: accepted values: {', '.join(INTERVALS)}"
        )
    return seconds


class Topic:
    """A parsed topic: ``kind``, ``symbol`` and, for candles, ``interval``."""

    __slots__ = ("interval", "kind", "name", "symbol")

    def __init__(self, name: str, kind: str, symbol: str, interval: str | None) -> None:
        self.name = name
        self.kind = kind
        self.symbol = symbol
        self.interval = interval

    @property
    def destination(self) -> str:
        return KINDS[self.kind]

    @property
    def candle_type(self) -> str | None:
        if self.kind == "ohlc":
            return "classic"
        return "heikin-ashi" if self.kind == "heikin-ashi" else None

    @property
    def group(self) -> str:
        """Topics of one group share a subscribe request."""
        if self.interval is None:
            return self.kind
        return f"{self.kind}:{self.interval}"

    def __repr__(self) -> str:
        return f"Topic({self.name!r})"


def _symbol(symbol: str, name: str) -> str:
    if not symbol or len(symbol) > MAX_SYMBOL or not symbol.isprintable():
        raise LocalProtocolError(
            f"invalid topic {name!r}: expected a symbol of 1 to {MAX_SYMBOL} printable "
            "characters after the kind"
        )
    return symbol


def parse_topic(name: object) -> Topic:
    """Parse ``name`` (see the module docstring); LocalProtocolError names what is wrong."""
    if not isinstance(name, str):
        raise LocalProtocolError(f"invalid topic {name!r}: expected a str")
    kind, sep, rest = name.partition(":")
    if not sep or kind not in KINDS:
        raise LocalProtocolError(
            f"invalid topic {name!r}: expected KIND:SYMBOL or KIND:INTERVAL:SYMBOL with "
            f"KIND one of {', '.join(KINDS)}"
        )
    if kind in ("ohlc", "heikin-ashi"):
        interval, sep, symbol = rest.partition(":")
        if not sep:
            raise LocalProtocolError(
                f"invalid topic {name!r}: expected {kind}:INTERVAL:SYMBOL (e.g. {kind}:1m:BTC/USD)"
            )
        if interval not in INTERVALS:
            raise LocalProtocolError(
                f"invalid topic {name!r}: unknown interval {interval!r}; accepted values: "
                f"{', '.join(INTERVALS)}"
            )
        return Topic(name, kind, _symbol(symbol, name), interval)
    return Topic(name, kind, _symbol(rest, name), None)
