"""Rails wire models: every message the venue sends, as frozen msgspec structs (spec 2-8).

A Rails message is ``{"resultType": ..., "market"?: ..., "data": ...}`` (spec 2).  Each
class here *is* one ``resultType``: the codec decodes a whole message in one typed pass
(a tagged union on ``resultType``) and the struct it gets is the event, with no copy.
Field names are the venue's camelCase on the wire and snake_case in Python
(``orderType`` is ``order_type``).

Numbers.  Every decimal the venue sends (prices, quantities, fees, leverage, slippage)
is a JSON string (spec 2), and it stays the exact string the venue wrote: no float round
trip, and no cost on the hot path.  Convert with ``decimal.Decimal(level.price)`` when
you need arithmetic; a maintained book (``maintain_books=True``) holds ``Decimal``
prices and sizes (``_client_books``).  Timestamps are ints of epoch milliseconds.

Which names come from which doc revision (spec 6, 7): the current names
(``publicOrderBookDelta``, ``publicOrderBook``, ``publicCompletedOrdersDelta``,
``publicCompletedOrders``) and the older revision's (``orderBookDelta``, ``orderBook``,
``completedOrders``, and ``completedOrdersDelta`` with ``data.orders``) decode to the
same classes (the legacy ones are subclasses).  ``completedOrdersDelta`` with ``data``
as an array is the account's own trades (spec 5).

What is ours, not the venue's (spec 3.3, 4.2, 4.3, 4.5, 8): the ``unsubscribed`` reply,
the ``rejectOrder`` body, the cancel confirmation, the fill notifications
``fillOrder`` / ``partialFillOrder`` and the generic ``error`` message are the shapes the
notes propose; a ``resultType`` nobody knows is an :class:`OrderUpdate` when its ``data``
has an ``order``, else an :class:`UnknownMessage`.  Optional fields are optional here
whenever a revision leaves them out (``market``, ``ts``, ``clientRequestId``).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from .._events import Event

__all__ = [
    "BookData",
    "BookDelta",
    "BookLevel",
    "BookSnapshot",
    "CancelOrderResult",
    "CreateOrderResult",
    "ErrorData",
    "ErrorMessage",
    "LegacyBookDelta",
    "LegacyBookSnapshot",
    "LegacyPublicTrades",
    "LegacyPublicTradesSnapshot",
    "ModifyOrderResult",
    "Order",
    "OrderData",
    "OrderFilled",
    "OrderPartiallyFilled",
    "OrderRejected",
    "OrderUpdate",
    "Pong",
    "PongData",
    "PublicTrade",
    "PublicTrades",
    "PublicTradesData",
    "PublicTradesSnapshot",
    "RailsMessage",
    "Side",
    "Subscribed",
    "SubscriptionData",
    "UnknownMessage",
    "Unsubscribed",
    "UserTrade",
    "UserTrades",
]

Side = Literal["buy", "sell"]
"""``orderType`` on the wire: the side (a naming trap of the venue, spec 4.1)."""


class _Wire(msgspec.Struct, frozen=True, kw_only=True, gc=False, rename="camel"):
    """A nested wire object: camelCase on the wire, unknown fields ignored."""


class BookLevel(_Wire, frozen=True, kw_only=True, gc=False):
    """One price level (spec 7): ``quantity`` is the new total at ``price``; ``"0"``
    removes the level.  ``order_type`` ``buy`` is the bid side, ``sell`` the ask side."""

    order_type: Side
    price: str
    quantity: str


class BookData(_Wire, frozen=True, kw_only=True, gc=False):
    """``data`` of a book message: levels, ``ts`` (ms; newest revision's deltas only)."""

    orders: tuple[BookLevel, ...]
    status_code: int = 200
    ts: int | None = None
    client_request_id: str | None = None


class PublicTrade(_Wire, frozen=True, kw_only=True, gc=False):
    """A trade of the public tape (spec 6); ``order_type`` is the taker's side."""

    match_id: str
    order_type: Side
    price: str
    quantity: str
    updated_at: int
    execution_type: str = "taker"


class PublicTradesData(_Wire, frozen=True, kw_only=True, gc=False):
    orders: tuple[PublicTrade, ...]
    status_code: int = 200
    client_request_id: str | None = None


class UserTrade(_Wire, frozen=True, kw_only=True, gc=False):
    """One fill of the account's own orders (spec 5); ``quantity`` is this fill's size."""

    market: str
    order_id: str
    match_id: str
    order_type: Side
    trade_type: str
    execution_type: str
    fill_type: str
    price: str
    quantity: str
    fees: str = "0"
    leverage: str | None = None
    order_created_at: int = 0
    order_filled_at: int = 0
    trigger_type: str = "none"
    trigger_price: str = "0"
    trigger_created_at: int = 0


class Order(_Wire, frozen=True, kw_only=True, gc=False):
    """An order object (spec 4.1): ``quantity`` is what remains, ``filled_quantity`` the
    cumulative fill (remaining plus filled is the original size); ``order_type`` is the
    side.  ``order_status``: ``pending``, ``active``, ``cancelling``, ``modifying``,
    ``modified``, ``cancelled``, ``filled`` (and ``rejected``, ours, spec 4.2)."""

    market: str
    order_id: str
    order_type: Side
    price: str
    quantity: str
    order_status: str
    trade_type: str = "limit"
    filled_quantity: str = "0"
    leverage: str | None = None
    created_at: int = 0
    updated_at: int = 0
    client_request_id: str | None = None
    post_only: bool = False
    avg_fill_price: str | None = None
    max_slippage: str | None = None


class OrderData(_Wire, frozen=True, kw_only=True, gc=False):
    """``data`` of the order messages: ``status_code`` 202 (acknowledged, pending), 200
    (confirmed), 400 (rejected), 429 (rate limited); ``body`` the venue's text."""

    status_code: int
    body: str = ""
    order: Order | None = None
    client_request_id: str | None = None
    api_quota_used: int | None = None


class PongData(_Wire, frozen=True, kw_only=True, gc=False):
    client_request_id: str | None = None
    status_code: int = 200


class SubscriptionData(_Wire, frozen=True, kw_only=True, gc=False):
    """``data`` of ``subscribed`` / ``unsubscribed``: the streams now active on the
    connection (``None`` if the venue left the list out) and the ones the request named
    (no ``statusCode`` in the doc's example; an error answer has one)."""

    active_subscriptions: tuple[str, ...] | None = None
    requested_subscriptions: tuple[str, ...] = ()
    client_request_id: str | None = None
    status_code: int = 200
    body: str = ""


class ErrorData(_Wire, frozen=True, kw_only=True, gc=False):
    status_code: int
    body: str = ""
    client_request_id: str | None = None


class RailsMessage(Event, frozen=True, kw_only=True, tag_field="resultType", rename="camel"):
    """Base of every message the venue sends: ``market`` when the message has one."""

    market: str | None = None


# -- public streams (spec 6, 7) ---------------------------------------------------------------


class BookDelta(RailsMessage, frozen=True, kw_only=True, tag="publicOrderBookDelta", gc=False):
    """``publicOrderBookDelta``: levels that changed, each the new total at its price."""

    data: BookData


class LegacyBookDelta(BookDelta, frozen=True, kw_only=True, tag="orderBookDelta", gc=False):
    """``orderBookDelta``, the older revision's name of :class:`BookDelta`."""


class BookSnapshot(RailsMessage, frozen=True, kw_only=True, tag="publicOrderBook", gc=False):
    """``publicOrderBook``: the whole book, the answer to ``emitPublicOrderBook``."""

    data: BookData


class LegacyBookSnapshot(BookSnapshot, frozen=True, kw_only=True, tag="orderBook", gc=False):
    """``orderBook``, the older revision's name of :class:`BookSnapshot`."""


class PublicTrades(
    RailsMessage, frozen=True, kw_only=True, tag="publicCompletedOrdersDelta", gc=False
):
    """``publicCompletedOrdersDelta``: new trades on the market's public tape."""

    data: PublicTradesData


class LegacyPublicTrades(
    PublicTrades, frozen=True, kw_only=True, tag="completedOrdersDelta", gc=False
):
    """``completedOrdersDelta`` with ``data.orders``: the older revision's public tape
    (told from the private trades of the same name by its shape, spec 6)."""


class PublicTradesSnapshot(
    RailsMessage, frozen=True, kw_only=True, tag="publicCompletedOrders", gc=False
):
    """``publicCompletedOrders``: recent trades, the answer to
    ``emitPublicCompletedOrders`` (newest last in the reference venue, our choice)."""

    data: PublicTradesData


class LegacyPublicTradesSnapshot(
    PublicTradesSnapshot, frozen=True, kw_only=True, tag="completedOrders", gc=False
):
    """``completedOrders``, the older revision's name of :class:`PublicTradesSnapshot`."""


# -- private streams (spec 4, 5) ---------------------------------------------------------------


class UserTrades(RailsMessage, frozen=True, kw_only=True, tag="completedOrdersDelta", gc=False):
    """``completedOrdersDelta`` with ``data`` as an array: the account's own fills, on
    every market it trades whatever the connection's ``market`` (spec 5)."""

    data: tuple[UserTrade, ...]


class CreateOrderResult(RailsMessage, frozen=True, kw_only=True, tag="createOrder", gc=False):
    """``createOrder``: 202 (acknowledged, ``pending``), then 200 (``active``); also the
    200 that confirms the new order of a modify (spec 4.1, 4.4)."""

    data: OrderData


class CancelOrderResult(RailsMessage, frozen=True, kw_only=True, tag="cancelOrder", gc=False):
    """``cancelOrder``: 202 (``cancelling``), then 200 (``cancelled``; the 200 is our
    reading, spec 4.3)."""

    data: OrderData


class ModifyOrderResult(RailsMessage, frozen=True, kw_only=True, tag="modifyOrder", gc=False):
    """``modifyOrder``: 202 (``modifying``), then 200 (spec 4.4, both revisions)."""

    data: OrderData


class OrderRejected(RailsMessage, frozen=True, kw_only=True, tag="rejectOrder", gc=False):
    """``rejectOrder`` (400): a post-only order that would have crossed, after its 202
    and 200 (spec 4.2; the body is our reading)."""

    data: OrderData


class OrderFilled(RailsMessage, frozen=True, kw_only=True, tag="fillOrder", gc=False):
    """``fillOrder``: an order of the account filled completely (spec 4.5; the name and
    body are ours)."""

    data: OrderData


class OrderPartiallyFilled(
    RailsMessage, frozen=True, kw_only=True, tag="partialFillOrder", gc=False
):
    """``partialFillOrder``: part of an order filled, the rest rests (spec 4.5; ours)."""

    data: OrderData


# -- session (spec 3, 8) --------------------------------------------------------------------------


class Pong(RailsMessage, frozen=True, kw_only=True, tag="pong", gc=False):
    """``pong``: the answer to ``ping`` (spec 3.1)."""

    data: PongData


class Subscribed(RailsMessage, frozen=True, kw_only=True, tag="subscribed", gc=False):
    """``subscribed``: the answer to ``subscribe`` (spec 3.2)."""

    data: SubscriptionData


class Unsubscribed(RailsMessage, frozen=True, kw_only=True, tag="unsubscribed", gc=False):
    """``unsubscribed``: the answer to ``unsubscribe`` (spec 3.3; the name is ours)."""

    data: SubscriptionData


class ErrorMessage(RailsMessage, frozen=True, kw_only=True, tag="error", gc=False):
    """``error``: a request the venue could not take at all (unparseable, unknown
    ``message``, no ``market`` on a ``market=ALL`` connection; spec 8, our design)."""

    data: ErrorData


# -- fallbacks ------------------------------------------------------------------------------------


class OrderUpdate(Event, frozen=True, kw_only=True):
    """A message of a ``resultType`` tradewire does not know whose ``data`` has an
    ``order`` (spec 4.5: route those to a generic order handler)."""

    result_type: str
    market: str | None
    data: OrderData


class UnknownMessage(Event, frozen=True, kw_only=True):
    """Any other message: its ``resultType`` (``None`` if it had none) and ``data`` as
    plain JSON.  A request sent as ``GenericRequest`` is answered by one of these."""

    result_type: str | None
    market: str | None
    data: Any


KNOWN = (
    BookDelta,
    LegacyBookDelta,
    BookSnapshot,
    LegacyBookSnapshot,
    PublicTrades,
    PublicTradesSnapshot,
    LegacyPublicTradesSnapshot,
    UserTrades,
    CreateOrderResult,
    CancelOrderResult,
    ModifyOrderResult,
    OrderRejected,
    OrderFilled,
    OrderPartiallyFilled,
    Pong,
    Subscribed,
    Unsubscribed,
    ErrorMessage,
)
"""The members of the tagged union on ``resultType`` (``LegacyPublicTrades`` shares its
tag with :class:`UserTrades` and is decoded by shape, see ``_wire``)."""

ORDER_MESSAGES = (
    CreateOrderResult,
    CancelOrderResult,
    ModifyOrderResult,
    OrderRejected,
    OrderFilled,
    OrderPartiallyFilled,
)
