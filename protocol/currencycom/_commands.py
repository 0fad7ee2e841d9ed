"""Commands (spec 4.1, 4.3): what a caller passes to ``send``, each a destination and its
payload, validated on construction (:class:`LocalProtocolError` naming the argument).

Field names are Python's; :meth:`Request.payload` writes the venue's camelCase names
(``timeInForce``, ``accountId``, ``showZeroBalance``).  A private command's payload is
signed by the client machine when the request is released (spec 5): never put
``apiKey``, ``timestamp`` or ``signature`` in it yourself.

Our choices: symbols are passed as the venue writes them (``"BTC/USD"``); sides, order
types and times in force are upper-case as in spec 7; quantities and prices are numbers
(the signature writes them as JavaScript would, spec 5); the default ``version`` of the
REST-over-WS destinations is ``v1`` (spec 4.3: demo accounts support v1 only).
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec

from .._events import Command, require, require_choice
from ._results import (
    Account,
    ExchangeInfo,
    LeverageSettings,
    OrderResult,
    ServerTime,
    TickerList,
    TradingPositions,
)
from ._topics import parse_topic

__all__ = [
    "COMMANDS",
    "CancelOrder",
    "CloseTradingPosition",
    "CreateOrder",
    "GetAccount",
    "GetDepth",
    "GetExchangeInfo",
    "GetKlines",
    "GetLeverageSettings",
    "GetMyTrades",
    "GetOpenOrders",
    "GetServerTime",
    "GetTicker",
    "GetTradingPositions",
    "GetTradingPositionsHistory",
    "Ping",
    "Request",
    "Subscribe",
    "Unsubscribe",
    "VenueRequest",
]

SIDES = ("BUY", "SELL")
ORDER_TYPES = ("LIMIT", "MARKET", "STOP")
TIME_IN_FORCE = ("GTC", "IOC", "FOK")
VERSIONS = ("v1", "v2")


def _positive(value: Any, name: str) -> None:
    require(
        value is None
        or (isinstance(value, int | float) and not isinstance(value, bool) and value > 0),
        name,
        "a number > 0",
    )


def _symbol(value: Any, name: str = "symbol") -> None:
    require(isinstance(value, str) and value != "", name, "a symbol such as 'BTC/USD'")


def _optional_symbol(value: Any) -> None:
    if value is not None:
        _symbol(value)


def _int(value: Any, name: str) -> None:
    require(
        value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0),
        name,
        "an int >= 0",
    )


class Subscribe(Command, frozen=True, kw_only=True):
    """Subscribe to ``topics`` (``depth:BTC/USD``, ``ohlc:1m:BTC/USD`` ...; see
    ``_topics``); resolves once every topic is active or refused."""

    topics: tuple[str, ...]

    def __post_init__(self) -> None:
        topics = self.topics
        require(
            isinstance(topics, list | tuple) and len(topics) > 0,
            "topics",
            "a non-empty list of topics",
        )
        for topic in topics:
            parse_topic(topic)
        msgspec.structs.force_setattr(self, "topics", tuple(topics))


class Unsubscribe(Command, frozen=True, kw_only=True):
    """Stop ``topics``.  The venue has no unsubscribe (spec 4.1): the machine closes the
    connection and the next one subscribes the topics still wanted."""

    topics: tuple[str, ...]

    def __post_init__(self) -> None:
        topics = self.topics
        require(
            isinstance(topics, list | tuple) and len(topics) > 0,
            "topics",
            "a non-empty list of topics",
        )
        for topic in topics:
            parse_topic(topic)
        msgspec.structs.force_setattr(self, "topics", tuple(topics))


class VenueRequest(Command, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """A typed request: a destination, its payload (the fields but ``version``), and the
    type its answer's payload decodes to."""

    destination_path: ClassVar[str] = ""
    private: ClassVar[bool] = False
    result_type: ClassVar[Any] = Any
    rate_key: ClassVar[str] = "request"

    version: str = "v1"

    def __post_init__(self) -> None:
        require_choice(self.version, "version", VERSIONS)

    @property
    def destination(self) -> str:
        return f"/api/{self.version}/{self.destination_path}"

    def payload(self) -> dict[str, Any]:
        """The payload as sent (camelCase, ``None`` fields left out), before signing."""
        fields: dict[str, Any] = msgspec.to_builtins(self)
        fields.pop("version", None)
        return fields


class Request(Command, frozen=True, kw_only=True):
    """Any destination with any payload (``private``: signed); the result is the raw
    JSON payload.  For destinations without a typed command (``/api/v1/fetchOrder``,
    ``/api/v1/updateTradingOrder`` ...)."""

    destination: str
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    private: bool = False

    def __post_init__(self) -> None:
        require(
            isinstance(self.destination, str) and self.destination != "",
            "destination",
            "a destination such as '/api/v1/time'",
        )
        require(isinstance(self.payload, dict), "payload", "a dict of parameters")
        require(
            all(k not in self.payload for k in ("apiKey", "timestamp", "signature")),
            "payload",
            "parameters without apiKey, timestamp or signature (the machine signs)",
        )


class Ping(Command, frozen=True, kw_only=True):
    """The ``ping`` destination; the machine sends it itself (``ping_interval``)."""


class GetServerTime(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "time"
    result_type: ClassVar[Any] = ServerTime


class GetExchangeInfo(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "exchangeInfo"
    result_type: ClassVar[Any] = ExchangeInfo


class GetTicker(VenueRequest, frozen=True, kw_only=True):
    """``/api/v1/ticker/24hr`` for ``symbol`` (every symbol when ``None``)."""

    destination_path: ClassVar[str] = "ticker/24hr"
    result_type: ClassVar[Any] = TickerList
    symbol: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _optional_symbol(self.symbol)


class GetDepth(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "depth"
    symbol: str
    limit: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _symbol(self.symbol)
        _int(self.limit, "limit")


class GetKlines(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "klines"
    symbol: str
    interval: str = "1m"
    limit: int | None = None
    start_time: int | None = None
    end_time: int | None = None
    type: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _symbol(self.symbol)
        require_choice(
            self.interval, "interval", ("1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w")
        )
        _int(self.limit, "limit")
        if self.type is not None:
            require_choice(self.type, "type", ("classic", "heiken-ashi"))


class GetAccount(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "account"
    private: ClassVar[bool] = True
    result_type: ClassVar[Any] = Account
    show_zero_balance: bool | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.show_zero_balance is None or isinstance(self.show_zero_balance, bool),
            "show_zero_balance",
            "a bool",
        )


class GetLeverageSettings(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "leverageSettings"
    private: ClassVar[bool] = True
    result_type: ClassVar[Any] = LeverageSettings
    symbol: str

    def __post_init__(self) -> None:
        super().__post_init__()
        _symbol(self.symbol)


class CreateOrder(VenueRequest, frozen=True, kw_only=True):
    """``/api/v1/order/create`` (spec 4.3): ``price`` for LIMIT and STOP orders only;
    ``leverage`` (with ``account_id``, ``take_profit``, ``stop_loss``) for ``_LEVERAGE``
    symbols; STOP only in leverage mode (spec 7)."""

    destination_path: ClassVar[str] = "order/create"
    private: ClassVar[bool] = True
    result_type: ClassVar[Any] = OrderResult
    rate_key: ClassVar[str] = "order"
    symbol: str
    side: str
    type: str
    quantity: float
    price: float | None = None
    time_in_force: str | None = None
    leverage: int | None = None
    account_id: str | None = None
    take_profit: float | None = None
    stop_loss: float | None = None
    expire_timestamp: int | None = None
    new_order_resp_type: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _symbol(self.symbol)
        require_choice(self.side, "side", SIDES)
        require_choice(self.type, "type", ORDER_TYPES)
        _positive(self.quantity, "quantity")
        require(self.quantity is not None, "quantity", "a number > 0")
        _positive(self.price, "price")
        if self.type in ("LIMIT", "STOP"):
            require(self.price is not None, "price", f"a number > 0 for a {self.type} order")
        else:
            require(self.price is None, "price", "None for a MARKET order")
        if self.time_in_force is not None:
            require_choice(self.time_in_force, "time_in_force", TIME_IN_FORCE)
        if self.leverage is not None:
            require(
                isinstance(self.leverage, int) and not isinstance(self.leverage, bool)
                and self.leverage >= 1,
                "leverage",
                "an int >= 1",
            )  # fmt: skip
        if self.type == "STOP":
            require(self.leverage is not None, "type", "STOP only with leverage (spec 7)")
        _positive(self.take_profit, "take_profit")
        _positive(self.stop_loss, "stop_loss")
        _int(self.expire_timestamp, "expire_timestamp")
        if self.new_order_resp_type is not None:
            require_choice(self.new_order_resp_type, "new_order_resp_type", ("RESULT", "FULL"))
        require(
            self.account_id is None or isinstance(self.account_id, str),
            "account_id",
            "a str account id",
        )


class CancelOrder(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "order/cancel"
    private: ClassVar[bool] = True
    result_type: ClassVar[Any] = OrderResult
    rate_key: ClassVar[str] = "order"
    symbol: str
    order_id: str

    def __post_init__(self) -> None:
        super().__post_init__()
        _symbol(self.symbol)
        require(isinstance(self.order_id, str) and self.order_id != "", "order_id", "a str")


class GetOpenOrders(VenueRequest, frozen=True, kw_only=True):
    """``/api/v1/openOrders`` (5 requests a second, spec 6)."""

    destination_path: ClassVar[str] = "openOrders"
    private: ClassVar[bool] = True
    rate_key: ClassVar[str] = "openOrders"
    symbol: str | None = None
    limit: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _optional_symbol(self.symbol)
        _int(self.limit, "limit")


class GetMyTrades(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "myTrades"
    private: ClassVar[bool] = True
    symbol: str
    limit: int | None = None
    start_time: int | None = None
    end_time: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _symbol(self.symbol)
        _int(self.limit, "limit")


class GetTradingPositions(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "tradingPositions"
    private: ClassVar[bool] = True
    result_type: ClassVar[Any] = TradingPositions
    limit: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _int(self.limit, "limit")


class GetTradingPositionsHistory(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "tradingPositionsHistory"
    private: ClassVar[bool] = True
    result_type: ClassVar[Any] = TradingPositions
    symbol: str | None = None
    from_ms: int | None = msgspec.field(default=None, name="from")
    to_ms: int | None = msgspec.field(default=None, name="to")
    limit: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _optional_symbol(self.symbol)
        _int(self.from_ms, "from_ms")
        _int(self.to_ms, "to_ms")
        _int(self.limit, "limit")


class CloseTradingPosition(VenueRequest, frozen=True, kw_only=True):
    destination_path: ClassVar[str] = "closeTradingPosition"
    private: ClassVar[bool] = True
    rate_key: ClassVar[str] = "order"
    position_id: str

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            isinstance(self.position_id, str) and self.position_id != "", "position_id", "a str"
        )


COMMANDS: dict[str, type[VenueRequest]] = {
    cls.destination_path: cls
    for cls in (
        GetServerTime,
        GetExchangeInfo,
        GetTicker,
        GetDepth,
        GetKlines,
        GetAccount,
        GetLeverageSettings,
        CreateOrder,
        CancelOrder,
        GetOpenOrders,
        GetMyTrades,
        GetTradingPositions,
        GetTradingPositionsHistory,
        CloseTradingPosition,
    )
}
"""Path under ``/api/vN/`` -> the typed command."""
