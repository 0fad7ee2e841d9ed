"""Rails commands: what a caller sends, validated on construction (spec 3, 4, 6, 7).

Every command is a frozen msgspec struct; a bad argument raises
:class:`~tradewire.protocol.LocalProtocolError` naming it and the accepted values, so a
bad request never reaches the wire.  The codec (``_wire``) writes the ``message`` /
``content`` envelope and adds ``clientRequestId`` (the request id) and, where the
connection needs it, ``market``.

Decimals (prices, quantities, slippage, leverage) are given as ``str``, ``Decimal`` or
``int`` and sent as the exact decimal text; a ``float`` is refused (it is not exact:
``0.1`` is not one tenth), as is anything that is not a finite decimal.

``market`` on a market-scoped command (orders, snapshots): on a connection opened with
``market=ALL`` it is required, since the venue cannot tell which market is meant (spec
2); on a one-market connection it may be left out (it is then not sent, as the doc's
examples do) or given, and must then name the connection's market.

:class:`UseToken` is not a venue request: it hands the machine a new access token (see
``_client_auth``).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import msgspec

from .._errors import LocalProtocolError
from .._events import Command, require, require_choice
from .._secrets import Secret

__all__ = [
    "MARKET_ALL",
    "PRIVATE_STREAMS",
    "STREAMS",
    "CancelOrder",
    "CreateOrder",
    "EmitPublicOrderBook",
    "EmitPublicTrades",
    "GenericRequest",
    "ModifyOrder",
    "Ping",
    "RailsCommand",
    "Subscribe",
    "Unsubscribe",
    "UseToken",
    "check_market",
    "check_streams",
    "decimal_text",
]

STREAMS = ("orders", "trades", "publicTrades", "publicOrderBook")
"""The subscriptions of spec 1 / 3.2 (``orders`` is the venue's default)."""

PRIVATE_STREAMS = frozenset({"orders", "trades"})
"""Streams of the account's own orders and trades (a read-only key gets 403)."""

MARKET_ALL = "ALL"
"""``market=ALL``: one connection for every market (spec 1)."""

_MARKET = re.compile(r"[A-Z0-9]{1,16}-[A-Z0-9]{1,16}")


def check_market(value: object, argument: str = "market") -> str:
    """A market name such as ``BTC-USDT`` (or ``ALL``); LocalProtocolError otherwise."""
    require(
        isinstance(value, str) and (value == MARKET_ALL or _MARKET.fullmatch(value) is not None),
        argument,
        f"a market name such as 'BTC-USDT' or {MARKET_ALL!r}, got {value!r:.40}",
    )
    assert isinstance(value, str)
    return value


def check_streams(value: object, argument: str = "subscriptions") -> tuple[str, ...]:
    """Stream names from :data:`STREAMS`, without duplicates, in the order given."""
    require(
        isinstance(value, list | tuple) and all(isinstance(v, str) for v in value),
        argument,
        f"a sequence of stream names ({', '.join(STREAMS)})",
    )
    assert isinstance(value, list | tuple)
    for name in value:
        require_choice(name, argument, STREAMS)
    return tuple(dict.fromkeys(value))


def decimal_text(value: object, argument: str, *, positive: bool = True) -> str:
    """``value`` (str, Decimal or int) as exact decimal text; floats are refused."""
    if isinstance(value, bool | float):
        kind = "a float" if isinstance(value, float) else "a bool"
        raise _bad(argument, positive, f"got {kind} ({value!r}); floats are not exact")
    if isinstance(value, int):
        number = Decimal(value)
        text = str(value)
    elif isinstance(value, Decimal):
        number = value
        text = format(value, "f")
    elif isinstance(value, str):
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise _bad(argument, positive, f"got {value!r:.40}") from None
        text = value
        if value.strip() != value or "_" in value:
            raise _bad(argument, positive, f"got {value!r:.40}")
    else:
        raise _bad(argument, positive, f"got {type(value).__name__}")
    if not number.is_finite() or (positive and number <= 0) or (not positive and number < 0):
        raise _bad(argument, positive, f"got {text!r:.40}")
    return text


def _bad(argument: str, positive: bool, detail: str) -> LocalProtocolError:
    sign = "positive" if positive else "non-negative"
    return LocalProtocolError(
        f"invalid {argument}: expected a {sign} finite decimal as str, Decimal or int "
        f"(e.g. '2000.90'); {detail}"
    )


class RailsCommand(Command, frozen=True, kw_only=True):
    """Base of the Rails requests: ``message`` is the wire name; ``market_scoped``
    requests carry ``market`` on a ``market=ALL`` connection."""

    message: ClassVar[str] = ""
    market_scoped: ClassVar[bool] = False
    market: str | None = None

    def content(self) -> dict[str, Any]:
        """The ``content`` fields other than ``clientRequestId`` and ``market``."""
        return {}

    def _check_market(self) -> None:
        if self.market is not None:
            check_market(self.market)
            require(self.market != MARKET_ALL, "market", "one market, not 'ALL', on a request")


class Ping(RailsCommand, frozen=True, kw_only=True):
    """``ping`` -> ``pong`` (spec 3.1); the machine also pings on its own schedule."""

    message: ClassVar[str] = "ping"


class Subscribe(RailsCommand, frozen=True, kw_only=True):
    """Add streams (spec 3.2): before a connection they go in its query string, after
    it as a ``subscribe`` request; either way they are restored after a reconnect."""

    message: ClassVar[str] = "subscribe"
    subscriptions: tuple[str, ...]

    def __post_init__(self) -> None:
        streams = check_streams(self.subscriptions)
        require(bool(streams), "subscriptions", "at least one stream name")
        msgspec.structs.force_setattr(self, "subscriptions", streams)
        require(self.market is None, "market", "None: subscriptions are per connection")

    def content(self) -> dict[str, Any]:
        return {"subscriptions": list(self.subscriptions)}


class Unsubscribe(Subscribe, frozen=True, kw_only=True):
    """Remove streams (``unsubscribe``; its shape is our reading, spec 3.3)."""

    message: ClassVar[str] = "unsubscribe"


class CreateOrder(RailsCommand, frozen=True, kw_only=True):
    """``createOrder`` (spec 4.1).  ``side`` is the wire's ``orderType``; ``trade_type``
    ``limit`` or ``market``; ``price`` is the limit (for a market order, the price its
    slippage is measured from); ``quantity`` the size.  ``post_only`` is for limit
    orders, ``max_slippage`` (0 to 1) for market orders; ``leverage`` is sent when
    given (an order whose leverage differs from the account's is refused).  Answered
    202 then 200 (and ``rejectOrder`` later for a post-only order that would cross)."""

    message: ClassVar[str] = "createOrder"
    market_scoped: ClassVar[bool] = True
    side: str
    price: Any
    quantity: Any
    trade_type: str = "limit"
    post_only: bool | None = None
    max_slippage: Any = None
    leverage: Any = None

    def __post_init__(self) -> None:
        self._check_market()
        require_choice(self.side, "side", ("buy", "sell"))
        require_choice(self.trade_type, "trade_type", ("limit", "market"))
        force = msgspec.structs.force_setattr
        force(self, "price", decimal_text(self.price, "price"))
        force(self, "quantity", decimal_text(self.quantity, "quantity"))
        if self.post_only is not None:
            require(isinstance(self.post_only, bool), "post_only", "a bool or None")
            require(
                not self.post_only or self.trade_type == "limit",
                "post_only",
                "True only for a limit order",
            )
        if self.max_slippage is not None:
            require(self.trade_type == "market", "max_slippage", "None for a limit order")
            text = decimal_text(self.max_slippage, "max_slippage", positive=False)
            require(Decimal(text) <= 1, "max_slippage", "a decimal from 0 to 1")
            force(self, "max_slippage", text)
        if self.leverage is not None:
            force(self, "leverage", decimal_text(self.leverage, "leverage"))

    def content(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "price": self.price,
            "quantity": self.quantity,
            "orderType": self.side,
            "tradeType": self.trade_type,
        }
        if self.post_only is not None:
            out["postOnly"] = self.post_only
        if self.max_slippage is not None:
            out["maxSlippage"] = self.max_slippage
        if self.leverage is not None:
            out["leverage"] = self.leverage
        return out


def _order_id(value: object) -> None:
    require(
        isinstance(value, str) and 0 < len(value) <= 64 and value.isprintable(),
        "order_id",
        "the orderId the venue gave (a non-empty str)",
    )


class CancelOrder(RailsCommand, frozen=True, kw_only=True):
    """``cancelOrder`` by ``orderId`` (``cancelBy`` is always ``orderId``, spec 4.3);
    answered 202 (``cancelling``) then 200 (``cancelled``, our reading)."""

    message: ClassVar[str] = "cancelOrder"
    market_scoped: ClassVar[bool] = True
    order_id: str

    def __post_init__(self) -> None:
        self._check_market()
        _order_id(self.order_id)

    def content(self) -> dict[str, Any]:
        return {"orderId": self.order_id, "cancelBy": "orderId"}


class ModifyOrder(RailsCommand, frozen=True, kw_only=True):
    """``modifyOrder`` (spec 4.4; the request fields are our reading): a cancel and a
    re-create under a new ``orderId``; give ``price``, ``quantity`` or both."""

    message: ClassVar[str] = "modifyOrder"
    market_scoped: ClassVar[bool] = True
    order_id: str
    price: Any = None
    quantity: Any = None

    def __post_init__(self) -> None:
        self._check_market()
        _order_id(self.order_id)
        require(
            self.price is not None or self.quantity is not None,
            "price",
            "a new price, a new quantity, or both",
        )
        force = msgspec.structs.force_setattr
        if self.price is not None:
            force(self, "price", decimal_text(self.price, "price"))
        if self.quantity is not None:
            force(self, "quantity", decimal_text(self.quantity, "quantity"))

    def content(self) -> dict[str, Any]:
        out: dict[str, Any] = {"orderId": self.order_id}
        if self.price is not None:
            out["price"] = self.price
        if self.quantity is not None:
            out["quantity"] = self.quantity
        return out


class EmitPublicOrderBook(RailsCommand, frozen=True, kw_only=True):
    """``emitPublicOrderBook``: the market's whole book, as a ``publicOrderBook`` answer
    (spec 7; the machine sends its own to start and resync a maintained book)."""

    message: ClassVar[str] = "emitPublicOrderBook"
    market_scoped: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._check_market()


class EmitPublicTrades(RailsCommand, frozen=True, kw_only=True):
    """``emitPublicCompletedOrders``: recent public trades (spec 6)."""

    message: ClassVar[str] = "emitPublicCompletedOrders"
    market_scoped: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self._check_market()


class GenericRequest(RailsCommand, frozen=True, kw_only=True):
    """Any other request: ``{"message": message, "content": content}`` with
    ``clientRequestId`` added; answered by whatever the venue sends with that id."""

    name: str
    fields: dict[str, Any] = msgspec.field(default_factory=dict)
    scoped: bool = False

    def __post_init__(self) -> None:
        self._check_market()
        require(
            isinstance(self.name, str) and self.name.isidentifier(),
            "name",
            "a message name such as 'getOrders'",
        )
        require(isinstance(self.fields, dict), "fields", "a dict of content fields")
        require(
            not {"clientRequestId", "market"} & set(self.fields),
            "fields",
            "no clientRequestId or market (the machine writes them; pass market=)",
        )

    def content(self) -> dict[str, Any]:
        return dict(self.fields)


class UseToken(Command, frozen=True, kw_only=True):
    """A new access token for the machine (from ``POST /api/v1/token``): the next
    connection carries it, and an open one is renewed by reconnecting at once.
    ``expires_in`` (seconds, as the token endpoint says) schedules the next
    ``TokenWanted``; ``None``: the token's lifetime is not known."""

    token: Secret
    expires_in: float | None = None

    def __post_init__(self) -> None:
        token = self.token
        if isinstance(token, str):
            msgspec.structs.force_setattr(self, "token", Secret(token))
        require(
            isinstance(self.token, Secret) and bool(self.token),
            "token",
            "a non-empty str or Secret",
        )
        value = self.expires_in
        require(
            value is None
            or (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and value > 0
            ),
            "expires_in",
            "seconds > 0 or None",
        )
