"""Venue messages (spec 3-8) as samples: the bytes the venue sends and the event
``decode_inbound`` must give for them; and commands with the bytes the client sends."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import strategies as st

from tradewire.protocol import RequestId
from tradewire.protocol.rails import (
    BookData,
    BookDelta,
    BookLevel,
    BookSnapshot,
    CancelOrder,
    CancelOrderResult,
    CreateOrder,
    CreateOrderResult,
    EmitPublicOrderBook,
    EmitPublicTrades,
    ModifyOrder,
    Order,
    OrderData,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    Ping,
    Pong,
    PongData,
    PublicTrade,
    PublicTrades,
    PublicTradesData,
    RailsCommand,
    RailsMessage,
    Subscribe,
    Subscribed,
    SubscriptionData,
    Unsubscribe,
    UserTrade,
    UserTrades,
    encode_request,
)

from ._values import (
    client_request_ids,
    decimal_strings,
    market_names,
    order_ids,
    sides,
    stream_lists,
    timestamps,
)

__all__ = [
    "PushSample",
    "RequestSample",
    "book_deltas",
    "book_snapshots",
    "commands",
    "order_messages",
    "orders",
    "public_trades",
    "requests",
    "server_messages",
    "user_trades",
]


class PushSample(msgspec.Struct, frozen=True, kw_only=True):
    """A venue message and the event ``decode_inbound(data)`` gives for it."""

    data: bytes
    expected: RailsMessage


class RequestSample(msgspec.Struct, frozen=True, kw_only=True):
    """A client request: ``data`` is ``encode_request(request_id, command, market)``."""

    command: RailsCommand
    request_id: RequestId
    market: str | None
    data: bytes


def _wire(struct: Any) -> Any:
    return msgspec.to_builtins(struct)


def _sample(message: RailsMessage) -> PushSample:
    return PushSample(data=msgspec.json.encode(message), expected=message)


def book_levels(*, removals: bool = True) -> st.SearchStrategy[BookLevel]:
    """Levels; ``removals``: some with quantity ``"0"`` (a delta removing a level)."""
    size = decimal_strings(places=4, min_value="0.0001", max_value="1000")
    return st.builds(
        BookLevel,
        order_type=sides(),
        price=decimal_strings(places=2, min_value="0.01", max_value="200000"),
        quantity=size | st.just("0") if removals else size,
    )


def book_deltas(market: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[PushSample]:
    """``publicOrderBookDelta`` messages (with or without ``ts``)."""
    return st.builds(
        lambda m, levels, ts: _sample(
            BookDelta(market=m, data=BookData(orders=tuple(levels), ts=ts))
        ),
        market if market is not None else market_names(),
        st.lists(book_levels(), min_size=1, max_size=20),
        timestamps() | st.none(),
    )


def book_snapshots(market: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[PushSample]:
    """``publicOrderBook`` answers (no ``ts``, with or without ``clientRequestId``)."""
    return st.builds(
        lambda m, levels, crid: _sample(
            BookSnapshot(market=m, data=BookData(orders=tuple(levels), client_request_id=crid))
        ),
        market if market is not None else market_names(),
        st.lists(book_levels(removals=False), max_size=40),
        client_request_ids() | st.none(),
    )


def _public_trade() -> st.SearchStrategy[PublicTrade]:
    return st.builds(
        PublicTrade,
        match_id=client_request_ids(),
        order_type=sides(),
        price=decimal_strings(places=2, min_value="0.01", max_value="200000"),
        quantity=decimal_strings(places=4, min_value="0.0001", max_value="100"),
        updated_at=timestamps(),
        execution_type=st.just("taker"),
    )


def public_trades() -> st.SearchStrategy[PushSample]:
    """``publicCompletedOrdersDelta`` messages."""
    return st.builds(
        lambda m, trades: _sample(
            PublicTrades(market=m, data=PublicTradesData(orders=tuple(trades)))
        ),
        market_names(),
        st.lists(_public_trade(), min_size=1, max_size=5),
    )


def _user_trade() -> st.SearchStrategy[UserTrade]:
    return st.builds(
        UserTrade,
        market=market_names(),
        order_id=order_ids(),
        match_id=client_request_ids(),
        order_type=sides(),
        trade_type=st.sampled_from(("limit", "market")),
        execution_type=st.sampled_from(("maker", "taker")),
        fill_type=st.sampled_from(("partial", "complete")),
        price=decimal_strings(places=5),
        quantity=decimal_strings(places=4),
        fees=decimal_strings(places=8),
        leverage=st.just("1"),
        order_created_at=timestamps(),
        order_filled_at=timestamps(),
    )


def user_trades() -> st.SearchStrategy[PushSample]:
    """``completedOrdersDelta`` with ``data`` as an array: the account's fills (spec 5)."""
    return st.lists(_user_trade(), min_size=1, max_size=4).map(
        lambda fills: _sample(UserTrades(data=tuple(fills)))
    )


def orders(status: str | None = None) -> st.SearchStrategy[Order]:
    """Order objects (spec 4.1)."""
    return st.builds(
        Order,
        market=market_names(),
        order_id=order_ids(),
        order_type=sides(),
        price=decimal_strings(places=2),
        quantity=decimal_strings(places=4) | st.just("0"),
        order_status=st.just(status) if status else st.sampled_from(
            ("pending", "active", "cancelling", "cancelled", "filled", "modifying", "rejected")
        ),
        trade_type=st.sampled_from(("limit", "market")),
        filled_quantity=decimal_strings(places=4) | st.just("0"),
        leverage=st.just("1"),
        created_at=timestamps(),
        updated_at=timestamps(),
        client_request_id=client_request_ids() | st.none(),
        post_only=st.booleans(),
        avg_fill_price=decimal_strings(places=2) | st.none(),
    )  # fmt: skip


_ORDER_KINDS: dict[str, tuple[type[RailsMessage], tuple[int, ...]]] = {
    "createOrder": (CreateOrderResult, (202, 200, 400, 429)),
    "cancelOrder": (CancelOrderResult, (202, 200, 400, 404)),
    "rejectOrder": (OrderRejected, (400,)),
    "fillOrder": (OrderFilled, (200,)),
    "partialFillOrder": (OrderPartiallyFilled, (200,)),
}


def order_messages() -> st.SearchStrategy[PushSample]:
    """The order stream's messages: acknowledgements, confirmations, rejections, fills."""

    @st.composite
    def build(draw: st.DrawFn) -> PushSample:
        name = draw(st.sampled_from(sorted(_ORDER_KINDS)))
        kind, statuses = _ORDER_KINDS[name]
        status = draw(st.sampled_from(statuses))
        data = OrderData(
            status_code=status,
            body=draw(st.text(max_size=30)),
            order=draw(orders() | st.none()),
            client_request_id=draw(client_request_ids() | st.none()),
            api_quota_used=1 if status == 202 else None,
        )
        return _sample(kind(market=draw(market_names()), data=data))  # type: ignore[call-arg]

    return build()


def _session_messages() -> st.SearchStrategy[PushSample]:
    pong = st.builds(
        lambda crid: _sample(Pong(data=PongData(client_request_id=crid))), client_request_ids()
    )
    subscribed = st.builds(
        lambda active, requested, crid: _sample(
            Subscribed(
                data=SubscriptionData(
                    active_subscriptions=active,
                    requested_subscriptions=requested,
                    client_request_id=crid,
                )
            )
        ),
        stream_lists(min_size=0),
        stream_lists(),
        client_request_ids(),
    )
    return pong | subscribed


def server_messages() -> st.SearchStrategy[PushSample]:
    """Any message the venue sends, with the event it decodes to."""
    return st.one_of(
        book_deltas(), book_snapshots(), public_trades(), user_trades(), order_messages(),
        _session_messages(),
    )  # fmt: skip


def commands(*, all_markets: bool = False) -> st.SearchStrategy[RailsCommand]:
    """Valid requests; ``all_markets``: each market-scoped one names its market."""
    market = market_names() if all_markets else st.none()
    price = decimal_strings(places=2, min_value="0.01", max_value="200000")
    quantity = decimal_strings(places=4, min_value="0.0001", max_value="1000")
    limit = st.builds(
        CreateOrder, side=sides(), price=price, quantity=quantity,
        post_only=st.booleans() | st.none(), market=market,
    )  # fmt: skip
    slippage = st.sampled_from(("0", "0.02", "0.5", "1")) | st.none()
    market_order = st.builds(
        CreateOrder, side=sides(), price=price, quantity=quantity, trade_type=st.just("market"),
        max_slippage=slippage, market=market,
    )  # fmt: skip
    modify = st.builds(
        ModifyOrder, order_id=order_ids(), price=price, quantity=quantity | st.none(),
        market=market,
    )  # fmt: skip
    return st.one_of(
        limit,
        market_order,
        st.builds(CancelOrder, order_id=order_ids(), market=market),
        modify,
        st.builds(EmitPublicOrderBook, market=market),
        st.builds(EmitPublicTrades, market=market),
        st.builds(Subscribe, subscriptions=stream_lists()),
        st.builds(Unsubscribe, subscriptions=stream_lists()),
        st.just(Ping()),
    )  # fmt: skip


def requests(*, all_markets: bool = False) -> st.SearchStrategy[RequestSample]:
    """Commands with their ids and the bytes the client sends for them."""
    return st.builds(
        lambda command, request_id: RequestSample(
            command=command,
            request_id=request_id,
            market=command.market,
            data=encode_request(request_id, command, command.market),
        ),
        commands(all_markets=all_markets),
        client_request_ids(),
    )
