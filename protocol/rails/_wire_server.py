"""The Rails codec, venue side: requests in, messages out (spec 2-8).

Requests: :func:`decode_request` reads ``{"message": ..., "content": {...}}`` and turns the
content of each documented request into the client's own command type (the same
validation, so the venue and the client agree on what a valid request is), or raises
:class:`RejectedRequest` with the ``statusCode`` and text to answer (400 for anything
malformed; the answer's ``resultType`` is the request's ``message`` when known, else
``error``: spec 8, our design).  ``clientRequestId`` must be a UUID when present (spec 2).

Messages: the ``*Out`` structs write exactly the fields the doc examples show, in
their order, leaving out what a message does not have (``omit_defaults``): no ``ts``
on a snapshot, no ``statusCode`` on ``subscribed``, no ``market`` on ``pong`` or on the
account's trades.  Decimals are written as exact strings (:func:`decimal_string`).  A
field the examples always show (``statusCode`` 200 included) has no default, so it is
always written.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import msgspec

from .._errors import LocalProtocolError
from ._commands import (
    CancelOrder,
    CreateOrder,
    EmitPublicOrderBook,
    EmitPublicTrades,
    ModifyOrder,
    Ping,
    RailsCommand,
    Subscribe,
    Unsubscribe,
)
from ._wire import LEGACY_NAMES

__all__ = [
    "BookDataOut",
    "Envelope",
    "ErrorDataOut",
    "LevelOut",
    "OrderDataOut",
    "OrderOut",
    "PongDataOut",
    "PublicTradeOut",
    "PublicTradesDataOut",
    "RejectedRequest",
    "Request",
    "SubscriptionDataOut",
    "UserTradeOut",
    "decimal_string",
    "decode_request",
    "encode",
]

MAX_REQUEST_SIZE = 64 * 1024
"""Bytes a request may take; more is answered 400 (our bound)."""

REQUEST_TYPES: dict[str, type[RailsCommand]] = {
    "ping": Ping,
    "subscribe": Subscribe,
    "unsubscribe": Unsubscribe,
    "createOrder": CreateOrder,
    "cancelOrder": CancelOrder,
    "modifyOrder": ModifyOrder,
    "emitPublicOrderBook": EmitPublicOrderBook,
    "emitPublicCompletedOrders": EmitPublicTrades,
}
"""Every request the venue takes, by ``message`` (the older names too, spec 6, 7)."""
REQUEST_TYPES.update({old: REQUEST_TYPES[new] for new, old in LEGACY_NAMES.items()})


class RejectedRequest(Exception):
    """A request that cannot be taken: answer ``status`` with ``text`` in a message of
    ``result_type``, echoing ``client_request_id`` when it could be read."""

    def __init__(
        self, status: int, text: str, result_type: str, client_request_id: str | None
    ) -> None:
        super().__init__(text)
        self.status = status
        self.text = text
        self.result_type = result_type
        self.client_request_id = client_request_id


class Request(msgspec.Struct, frozen=True, kw_only=True):
    """A request read: its ``message`` as sent, ``command`` (the client's type),
    ``client_request_id`` and the ``market`` it named (``None``: none)."""

    message: str
    command: RailsCommand
    client_request_id: str | None
    market: str | None


class _Envelope(msgspec.Struct, gc=False):
    message: Any = None
    content: Any = None


class _CreateContent(msgspec.Struct, rename="camel", forbid_unknown_fields=False):
    price: Any
    quantity: Any
    order_type: Any
    trade_type: Any = "limit"
    post_only: Any = None
    max_slippage: Any = None
    leverage: Any = None


class _OrderIdContent(msgspec.Struct, rename="camel"):
    order_id: Any
    cancel_by: Any = "orderId"
    price: Any = None
    quantity: Any = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)


def _uuid(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return None
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    return value if str(parsed) == value.lower() else None


def decode_request(data: bytes | str, *, max_size: int = MAX_REQUEST_SIZE) -> Request:
    """One request (see the module docstring); :class:`RejectedRequest` otherwise."""
    if len(data) > max_size:
        raise RejectedRequest(400, f"request larger than {max_size} bytes", "error", None)
    try:
        envelope = _ENVELOPE.decode(data)
    except msgspec.DecodeError:
        raise RejectedRequest(400, "the request is not a JSON object", "error", None) from None
    message, content = envelope.message, envelope.content
    if content is None:
        content = {}
    if not isinstance(message, str) or not isinstance(content, dict):
        raise RejectedRequest(400, "expected {message: str, content: object}", "error", None)
    raw_id = content.get("clientRequestId")
    client_request_id = _uuid(raw_id)
    command_type = REQUEST_TYPES.get(message)
    if command_type is None:
        raise RejectedRequest(400, f"unknown message {message[:40]!r}", "error", client_request_id)
    if raw_id is not None and client_request_id is None:
        raise RejectedRequest(400, "clientRequestId must be a UUID", message, None)
    market = content.get("market")
    if market is not None and not isinstance(market, str):
        raise RejectedRequest(400, "market must be a string", message, client_request_id)
    try:
        command = _command(command_type, content, market)
    except (LocalProtocolError, msgspec.ValidationError) as exc:
        text = str(exc).replace("invalid ", "invalid field ", 1)
        raise RejectedRequest(400, text, message, client_request_id) from None
    return Request(
        message=message, command=command, client_request_id=client_request_id, market=market
    )


def _command(kind: type[RailsCommand], content: dict[str, Any], market: str | None) -> RailsCommand:
    scoped = market if kind.market_scoped else None
    if kind is Ping:
        return Ping()
    if kind in (Subscribe, Unsubscribe):
        subscriptions = content.get("subscriptions")
        if not isinstance(subscriptions, list):
            raise LocalProtocolError("invalid subscriptions: expected a list of stream names")
        return kind(subscriptions=tuple(subscriptions))
    if kind is CreateOrder:
        fields = msgspec.convert(content, _CreateContent)
        return CreateOrder(
            side=fields.order_type,
            price=_text(fields.price),
            quantity=_text(fields.quantity),
            trade_type=fields.trade_type,
            post_only=fields.post_only,
            max_slippage=_text(fields.max_slippage),
            leverage=_text(fields.leverage),
            market=scoped,
        )
    if kind in (CancelOrder, ModifyOrder):
        ids = msgspec.convert(content, _OrderIdContent)
        if kind is CancelOrder:
            if ids.cancel_by != "orderId":
                raise LocalProtocolError("invalid cancelBy: accepted values: 'orderId'")
            return CancelOrder(order_id=ids.order_id, market=scoped)
        return ModifyOrder(
            order_id=ids.order_id,
            price=_text(ids.price),
            quantity=_text(ids.quantity),
            market=scoped,
        )
    return kind(market=scoped)


def _text(value: Any) -> Any:
    """Decimals must come as strings on the wire (spec 2); a JSON number is refused."""
    if value is None or isinstance(value, str):
        return value
    raise LocalProtocolError(f"invalid decimal {value!r:.40}: decimals are strings on Rails")


def decimal_string(value: float | int | Decimal, places: int) -> str:
    """``value`` rounded to ``places`` decimals, as the shortest exact text (``"3600"``,
    ``"0.01"``): how the venue writes prices and quantities."""
    text = f"{Decimal(repr(value) if isinstance(value, float) else value):.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# -- what the venue sends ------------------------------------------------------------------------


class _Out(msgspec.Struct, omit_defaults=True, rename="camel", gc=False):
    pass


class LevelOut(_Out, gc=False):
    order_type: str
    price: str
    quantity: str


class BookDataOut(_Out, gc=False):
    orders: list[LevelOut]
    status_code: int
    ts: int | None = None
    client_request_id: str | None = None


class PublicTradeOut(_Out, gc=False):
    execution_type: str
    match_id: str
    order_type: str
    price: str
    quantity: str
    updated_at: int


class PublicTradesDataOut(_Out, gc=False):
    orders: list[PublicTradeOut]
    status_code: int
    client_request_id: str | None = None


class UserTradeOut(_Out, gc=False):
    market: str
    order_id: str
    match_id: str
    order_type: str
    trade_type: str
    execution_type: str
    fill_type: str
    price: str
    quantity: str
    leverage: str
    fees: str
    order_created_at: int
    order_filled_at: int
    trigger_type: str
    trigger_price: str
    trigger_created_at: int


class OrderOut(_Out, gc=False):
    market: str
    order_id: str
    order_type: str
    trade_type: str
    price: str
    quantity: str
    filled_quantity: str
    leverage: str
    created_at: int
    updated_at: int
    order_status: str
    client_request_id: str | None
    post_only: bool
    avg_fill_price: str | None = None
    max_slippage: str | None = None


class OrderDataOut(_Out, gc=False):
    status_code: int
    body: str
    order: OrderOut | None = None
    client_request_id: str | None = None
    api_quota_used: int | None = None


class PongDataOut(_Out, gc=False):
    client_request_id: str | None
    status_code: int


class SubscriptionDataOut(_Out, gc=False):
    active_subscriptions: list[str]
    client_request_id: str | None = None
    requested_subscriptions: list[str] = msgspec.field(default_factory=list)


class ErrorDataOut(_Out, gc=False):
    status_code: int
    body: str
    client_request_id: str | None = None


class Envelope(msgspec.Struct, omit_defaults=True, gc=False, rename={"result_type": "resultType"}):
    """``{"resultType", "market"?, "data"}``."""

    result_type: str
    market: str | None = None
    data: Any = None


_ENCODER = msgspec.json.Encoder()


def encode(result_type: str, data: Any, market: str | None = None) -> bytes:
    """One venue message."""
    return _ENCODER.encode(Envelope(result_type=result_type, market=market, data=data))
