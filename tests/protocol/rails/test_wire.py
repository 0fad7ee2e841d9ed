"""The Rails wire layer against the doc examples (spec 2-8): requests written as the docs
show them, every documented message decoded in one typed pass, decimals kept exact, both
doc revisions' names read, and nothing but RemoteProtocolError out of the decoder."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tradewire.protocol import LocalProtocolError, RemoteProtocolError
from tradewire.protocol.rails import (
    BookDelta,
    BookSnapshot,
    CancelOrder,
    CancelOrderResult,
    CreateOrder,
    CreateOrderResult,
    EmitPublicOrderBook,
    EmitPublicTrades,
    ErrorMessage,
    GenericRequest,
    LegacyBookDelta,
    LegacyBookSnapshot,
    LegacyPublicTrades,
    LegacyPublicTradesSnapshot,
    ModifyOrder,
    OrderUpdate,
    Ping,
    Pong,
    PublicTrades,
    PublicTradesSnapshot,
    Subscribe,
    Subscribed,
    UnknownMessage,
    Unsubscribe,
    UserTrades,
    UseToken,
    decimal_text,
    decode_inbound,
    encode_request,
    request_market,
)

CRID = "0835bf3e-4a20-41f0-908d-8213f2b7a285"


def body(data: bytes) -> Any:
    return msgspec.json.decode(data)


# -- requests (spec 3, 4, 6, 7) ------------------------------------------------------------


def test_requests_are_written_as_the_docs_show() -> None:
    ping = "4cc68b60-ed2d-42aa-a21e-cb5486f8fd1a"
    assert body(encode_request(ping, Ping(), None)) == {
        "message": "ping",
        "content": {"clientRequestId": ping},
    }
    subscribe = Subscribe(subscriptions=("trades", "publicTrades", "publicOrderBook"))
    assert body(encode_request("cfff0f58-8780-4cf2-b3d3-6439fed37304", subscribe, None)) == {
        "message": "subscribe",
        "content": {
            "clientRequestId": "cfff0f58-8780-4cf2-b3d3-6439fed37304",
            "subscriptions": ["trades", "publicTrades", "publicOrderBook"],
        },
    }
    limit = CreateOrder(side="buy", price="2000.90", quantity="1.00", post_only=False)
    assert body(encode_request(CRID, limit, None)) == {
        "message": "createOrder",
        "content": {
            "clientRequestId": CRID,
            "price": "2000.90",
            "quantity": "1.00",
            "orderType": "buy",
            "tradeType": "limit",
            "postOnly": False,
        },
    }
    market = CreateOrder(
        side="buy", price="2000.90", quantity="1.00", trade_type="market", max_slippage="0.02"
    )
    assert body(encode_request(CRID, market, None))["content"] == {
        "clientRequestId": CRID,
        "price": "2000.90",
        "quantity": "1.00",
        "orderType": "buy",
        "tradeType": "market",
        "maxSlippage": "0.02",
    }
    cancel = CancelOrder(order_id="01HH0X2VD6R0CJE4X0P0D1NQ11", market="ETH-USD")
    assert body(encode_request(CRID, cancel, "ETH-USD")) == {
        "message": "cancelOrder",
        "content": {
            "clientRequestId": CRID,
            "market": "ETH-USD",
            "orderId": "01HH0X2VD6R0CJE4X0P0D1NQ11",
            "cancelBy": "orderId",
        },
    }
    book = encode_request(ping, EmitPublicOrderBook(market="ETH-USD"), "ETH-USD")
    assert body(book) == {
        "message": "emitPublicOrderBook",
        "content": {"clientRequestId": ping, "market": "ETH-USD"},
    }
    trades = encode_request(ping, EmitPublicTrades(market="ETH-USD"), "ETH-USD")
    assert body(trades)["message"] == "emitPublicCompletedOrders"


def test_the_older_revisions_request_names_are_a_switch() -> None:
    assert body(encode_request(CRID, EmitPublicOrderBook(), None, legacy=True))["message"] == (
        "emitOrderBook"
    )
    assert body(encode_request(CRID, EmitPublicTrades(), None, legacy=True))["message"] == (
        "emitCompletedOrders"
    )
    assert body(encode_request(CRID, Ping(), None, legacy=True))["message"] == "ping"


def test_market_is_required_on_all_and_must_match_a_one_market_connection() -> None:
    with pytest.raises(LocalProtocolError, match=r"market=ALL"):
        request_market(CreateOrder(side="buy", price="1", quantity="1"), "ALL")
    assert request_market(CreateOrder(side="buy", price="1", quantity="1", market="X-Y"), "ALL")
    assert request_market(CreateOrder(side="buy", price="1", quantity="1"), "BTC-USD") is None
    assert request_market(Ping(), "ALL") is None  # not market-scoped
    with pytest.raises(LocalProtocolError, match=r"'ETH-USD' on a connection opened for"):
        request_market(CancelOrder(order_id="a", market="ETH-USD"), "BTC-USD")
    generic = GenericRequest(name="getOrders", fields={"status": "open"}, scoped=True)
    with pytest.raises(LocalProtocolError, match="market"):
        request_market(generic, "ALL")


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: CreateOrder(side="long", price="1", quantity="1"), "side"),
        (lambda: CreateOrder(side="buy", price=2000.9, quantity="1"), "price"),  # a float
        (lambda: CreateOrder(side="buy", price="-1", quantity="1"), "price"),
        (lambda: CreateOrder(side="buy", price="NaN", quantity="1"), "price"),
        (lambda: CreateOrder(side="buy", price="1", quantity="1e"), "quantity"),
        (lambda: CreateOrder(side="buy", price="1", quantity="0"), "quantity"),
        (lambda: CreateOrder(side="buy", price="1", quantity=True), "quantity"),
        (lambda: CreateOrder(side="buy", price="1", quantity="1", trade_type="stop"), "trade_type"),
        (
            lambda: CreateOrder(
                side="buy", price="1", quantity="1", trade_type="market", post_only=True
            ),
            "post_only",
        ),
        (
            lambda: CreateOrder(side="buy", price="1", quantity="1", max_slippage="0.1"),
            "max_slippage",
        ),
        (
            lambda: CreateOrder(
                side="buy", price="1", quantity="1", trade_type="market", max_slippage="1.5"
            ),
            "max_slippage",
        ),
        (lambda: CreateOrder(side="buy", price="1", quantity="1", market="btc"), "market"),
        (lambda: CreateOrder(side="buy", price="1", quantity="1", market="ALL"), "market"),
        (lambda: CancelOrder(order_id=""), "order_id"),
        (lambda: ModifyOrder(order_id="a"), "price"),
        (lambda: Subscribe(subscriptions=("book",)), "subscriptions"),
        (lambda: Subscribe(subscriptions=()), "subscriptions"),
        (lambda: Unsubscribe(subscriptions=["orders", 1]), "subscriptions"),  # type: ignore[list-item]
        (lambda: GenericRequest(name="get orders"), "name"),
        (lambda: GenericRequest(name="x", fields={"clientRequestId": "1"}), "fields"),
        (lambda: UseToken(token=""), "token"),
        (lambda: UseToken(token="t", expires_in=0), "expires_in"),
    ],
)
def test_a_bad_command_is_refused_by_name(make: Any, argument: str) -> None:
    with pytest.raises(LocalProtocolError, match=f"invalid {argument}"):
        make()


def test_decimals_are_sent_as_exact_text() -> None:
    assert decimal_text(Decimal("0.1"), "price") == "0.1"
    assert decimal_text(Decimal("1E+3"), "price") == "1000"
    assert decimal_text(3, "price") == "3"
    assert decimal_text("2000.90", "price") == "2000.90"  # kept as written
    assert decimal_text("0", "max_slippage", positive=False) == "0"
    order = CreateOrder(side="sell", price=Decimal("92911.48605"), quantity=1)
    assert (order.price, order.quantity) == ("92911.48605", "1")


def test_use_token_holds_a_secret_that_never_shows() -> None:
    command = UseToken(token="eyJ.secret.jwt", expires_in=1800)
    assert "eyJ" not in repr(command)
    assert command.token.reveal() == "eyJ.secret.jwt"


# -- messages (spec 3-8) -----------------------------------------------------------------------

CREATE_202 = (
    b'{"resultType":"createOrder","market":"ETH-USD","data":{"statusCode":202,"body":"order '
    b'created, pending acceptance","order":{"market":"ETH-USD","orderId":"01HZ5J70FCBNJAS7TVPVB4'
    b'GAAG","orderType":"buy","tradeType":"limit","price":"3600","quantity":"1","filledQuantity":'
    b'"0","leverage":"1","createdAt":1746642892940,"updatedAt":1746642892940,"orderStatus":"pendi'
    b'ng","clientRequestId":"0835bf3e-4a20-41f0-908d-8213f2b7a285","postOnly":true},"clientReques'
    b'tId":"0835bf3e-4a20-41f0-908d-8213f2b7a285","apiQuotaUsed":1}}'
)
CANCEL_202 = (
    b'{"resultType":"cancelOrder","market":"ETH-USD","data":{"statusCode":202,"body":"cancelling '
    b'order","order":{"market":"ETH-USD","orderId":"01HZ5J70FCBNJAS7TVPVB4GAAG","orderType":"buy"'
    b',"tradeType":"limit","price":"3601","quantity":"1","filledQuantity":"0.5","leverage":"1","c'
    b'reatedAt":1717100052972,"updatedAt":1717100393492,"orderStatus":"cancelling","clientRequest'
    b'Id":"0835bf3e-4a20-41f0-908d-8213f2b7a285","postOnly":false,"avgFillPrice":"3601"},"clientR'
    b'equestId":"0835bf3e-4a20-41f0-908d-8213f2b7a285","apiQuotaUsed":1}}'
)
PRIVATE_TRADES = (
    b'{"resultType":"completedOrdersDelta","data":[{"market":"BTC-USDT","orderId":"01JSG88WSP6MWE'
    b'XBNXT0F43S59","matchId":"65284509-5284-4f64-9b80-ed6aa9819b9b","orderType":"buy","tradeType'
    b'":"market","executionType":"taker","fillType":"partial","price":"92911.48605","quantity":"23'
    b'.4","leverage":"1","fees":"2174.12877357","orderCreatedAt":1745436937022,"orderFilledAt":174'
    b'5376015255,"triggerType":"none","triggerPrice":"0","triggerCreatedAt":0}]}'
)
PUBLIC_TRADES = (
    b'{"resultType":"publicCompletedOrdersDelta","market":"ETH-USDT","data":{"orders":[{"executio'
    b'nType":"taker","matchId":"9eb783a6-7abc-4e94-9d9c-fd404e7580eb","orderType":"buy","price":"'
    b'3181.41","quantity":"0.01","updatedAt":1767762810250}],"statusCode":200}}'
)
BOOK_DELTA = (
    b'{"resultType":"publicOrderBookDelta","market":"ETH-USDT","data":{"orders":[{"orderType":"se'
    b'll","price":"3181.41","quantity":"38.92"},{"orderType":"buy","price":"3181.39","quantity":"'
    b'38.98"}],"statusCode":200,"ts":1772576154169}}'
)
BOOK = (
    b'{"resultType":"publicOrderBook","market":"ETH-USD","data":{"orders":[{"orderType":"buy","pri'
    b'ce":"3181.39","quantity":"38.98"},{"orderType":"sell","price":"3181.41","quantity":"38.92"}]'
    b',"statusCode":200}}'
)
SUBSCRIBED = (
    b'{"resultType":"subscribed","data":{"activeSubscriptions":["orders","trades","publicTrades",'
    b'"publicOrderBook"],"clientRequestId":"cfff0f58-8780-4cf2-b3d3-6439fed37304","requestedSubsc'
    b'riptions":["trades","publicTrades","publicOrderBook"]}}'
)
PONG = (
    b'{"resultType":"pong","data":{"clientRequestId":"4cc68b60-ed2d-42aa-a21e-cb5486f8fd1a",'
    b'"statusCode":200}}'
)


def test_every_doc_example_decodes_to_its_type_with_exact_decimals() -> None:
    created = decode_inbound(CREATE_202)
    assert isinstance(created, CreateOrderResult)
    assert created.data.status_code == 202
    assert created.data.order is not None
    assert created.data.order.order_status == "pending"
    assert created.data.api_quota_used == 1
    cancelling = decode_inbound(CANCEL_202)
    assert isinstance(cancelling, CancelOrderResult)
    assert cancelling.data.order is not None
    assert cancelling.data.order.avg_fill_price == "3601"
    assert cancelling.data.order.filled_quantity == "0.5"
    fills = decode_inbound(PRIVATE_TRADES)
    assert isinstance(fills, UserTrades)
    assert fills.market is None  # no top-level market on the account's trades
    assert fills.data[0].price == "92911.48605"
    assert fills.data[0].fees == "2174.12877357"  # exact: no float round trip
    tape = decode_inbound(PUBLIC_TRADES)
    assert isinstance(tape, PublicTrades)
    assert tape.data.orders[0].match_id == "9eb783a6-7abc-4e94-9d9c-fd404e7580eb"
    delta = decode_inbound(BOOK_DELTA)
    assert isinstance(delta, BookDelta)
    assert delta.data.ts == 1772576154169
    assert [(lv.order_type, lv.price, lv.quantity) for lv in delta.data.orders] == [
        ("sell", "3181.41", "38.92"),
        ("buy", "3181.39", "38.98"),
    ]
    book = decode_inbound(BOOK)
    assert isinstance(book, BookSnapshot)
    assert book.data.ts is None  # no revision shows ts on a snapshot
    subscribed = decode_inbound(SUBSCRIBED)
    assert isinstance(subscribed, Subscribed)
    assert subscribed.data.active_subscriptions == (
        "orders",
        "trades",
        "publicTrades",
        "publicOrderBook",
    )
    pong = decode_inbound(PONG)
    assert isinstance(pong, Pong)
    assert pong.market is None


def test_the_older_revisions_names_decode_to_the_same_classes() -> None:
    legacy_book = BOOK.replace(b'"publicOrderBook"', b'"orderBook"')
    assert type(decode_inbound(legacy_book)) is LegacyBookSnapshot
    v1_delta = (
        b'{"resultType":"orderBookDelta","data":{"statusCode":200,"orders":[{"quantity":"0",'
        b'"price":"2100","orderType":"sell"}]}}'
    )
    decoded = decode_inbound(v1_delta)
    assert type(decoded) is LegacyBookDelta
    assert isinstance(decoded, BookDelta)  # handled as a delta
    assert decoded.market is None
    assert decoded.data.ts is None
    snapshot = PUBLIC_TRADES.replace(b"publicCompletedOrdersDelta", b"completedOrders")
    assert type(decode_inbound(snapshot)) is LegacyPublicTradesSnapshot
    tape = decode_inbound(PUBLIC_TRADES.replace(b"publicCompletedOrdersDelta", b"completedOrders"))
    assert isinstance(tape, PublicTradesSnapshot)


def test_completed_orders_delta_is_told_apart_by_its_shape() -> None:
    # Same resultType (spec 6): data as an object is the older public tape, an array the
    # account's own fills.
    public = decode_inbound(
        PUBLIC_TRADES.replace(b"publicCompletedOrdersDelta", b"completedOrdersDelta")
    )
    assert type(public) is LegacyPublicTrades
    assert isinstance(decode_inbound(PRIVATE_TRADES), UserTrades)


def test_unknown_messages_are_events_and_unknown_order_messages_are_order_updates() -> None:
    fill = msgspec.json.encode(
        {
            "resultType": "orderFilledNotification",
            "market": "BTC-USD",
            "data": {"statusCode": 200, "order": {
                "market": "BTC-USD", "orderId": "X", "orderType": "sell", "price": "1",
                "quantity": "0", "orderStatus": "filled",
            }},
        }
    )  # fmt: skip
    update = decode_inbound(fill)
    assert isinstance(update, OrderUpdate)
    assert update.result_type == "orderFilledNotification"
    assert update.data.order is not None
    assert update.data.order.order_status == "filled"
    other = decode_inbound(b'{"resultType":"announcement","data":{"text":"hi"}}')
    assert other == UnknownMessage(result_type="announcement", market=None, data={"text": "hi"})
    no_type = decode_inbound(b'{"data":1}')
    assert isinstance(no_type, UnknownMessage)
    assert no_type.result_type is None
    error = decode_inbound(b'{"resultType":"error","data":{"statusCode":400,"body":"bad"}}')
    assert isinstance(error, ErrorMessage)


@pytest.mark.parametrize(
    "data",
    [
        b"not json",
        b"[1, 2]",
        b'"text"',
        b'{"resultType":"publicOrderBookDelta","data":{"orders":[{"orderType":"up"}]}}',
        b'{"resultType":"createOrder","data":{"body":"no status"}}',
        b'{"resultType":"pong","data":[]}',
        b"\xff\xfe",
    ],
)
def test_a_broken_message_is_a_remote_protocol_error(data: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        decode_inbound(data)


DOCS = [BOOK_DELTA, BOOK, PUBLIC_TRADES, PRIVATE_TRADES, CREATE_202, CANCEL_202, PONG, SUBSCRIBED]


def _with_extra_field(doc: bytes, name: str, value: Any) -> bytes:
    decoded = msgspec.json.decode(doc)
    decoded[name] = value
    if isinstance(decoded.get("data"), dict):
        decoded["data"][name] = value
    return msgspec.json.encode(decoded)


@settings(max_examples=300)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(
            _with_extra_field,
            st.sampled_from(DOCS),
            st.text("abcdefXYZ", min_size=1, max_size=6),
            st.none() | st.integers() | st.text(max_size=5),
        ),
        st.sampled_from(DOCS).flatmap(
            lambda doc: st.integers(0, len(doc)).map(lambda cut: doc[:cut])
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=12), inner, max_size=3)
            ),
        ).map(
            lambda value: msgspec.json.encode({"resultType": "publicOrderBookDelta", "data": value})
        ),
    )
)
def test_the_decoder_returns_a_value_or_raises_remote_protocol_error(data: bytes) -> None:
    try:
        value = decode_inbound(data)
    except RemoteProtocolError:
        event("rejected")
        return
    event(f"decoded {type(value).__name__}")
