"""Client inbound decoding: every spec example, every channel family, any key order."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.protocol import LocalProtocolError, RemoteProtocolError, Secret
from tradewire.protocol.deribit import (
    AccountSummary,
    AuthClientSignature,
    AuthResult,
    BookUpdate,
    Buy,
    CancelAll,
    CancelOnDisconnectState,
    CancelReport,
    ChannelFamily,
    ChartUpdate,
    Currency,
    ErrorResponse,
    GenericRequest,
    GetAccountSummary,
    GetCancelOnDisconnect,
    GetCurrencies,
    GetIndexPrice,
    GetInstruments,
    GetLastTradesByInstrument,
    GetOrderBook,
    GetPositions,
    GetTicker,
    GetTime,
    GroupedBookUpdate,
    Heartbeat,
    Hello,
    IncrementalTickerUpdate,
    IndexPrice,
    Instrument,
    InsufficientFunds,
    InvalidParams,
    Logout,
    Notification,
    Order,
    OrderBookSnapshot,
    OrderResult,
    PerpetualUpdate,
    PlatformStateUpdate,
    PlatformStatus,
    PortfolioUpdate,
    Position,
    PriceIndexUpdate,
    PublicSubscribe,
    QuoteUpdate,
    Response,
    Status,
    TestRequest,
    Ticker,
    TickerUpdate,
    TradesPage,
    TradesUpdate,
    UnknownMessage,
    UserChangesUpdate,
    UserOrdersUpdate,
    UserTrade,
    UserTradesUpdate,
    VersionResult,
    _inbound,
    channel_family,
    decode_inbound,
    decode_result,
)


def notification(channel: str, data: Any, **params: Any) -> bytes:
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "method": "subscription",
            "params": {"channel": channel, "data": data, **params},
        },
        separators=(",", ":"),
    ).encode()


def response(result: Any, request_id: int | str = 1) -> Response:
    message = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": request_id,
            "result": result,
            "testnet": False,
            "usIn": 1535043730126248,
            "usOut": 1535043730126250,
            "usDiff": 2,
        }
    )
    decoded = decode_inbound(message.encode())
    assert isinstance(decoded, Response)
    return decoded


def result_of(command: Any, result: Any) -> Any:
    return decode_result(command, response(result).result)


# -- spec 1.2 envelopes ---------------------------------------------------------------


def test_success_response_keeps_the_result_raw() -> None:
    decoded = response({"anything": [1, 2]}, request_id=8066)
    assert decoded.id == 8066
    assert (decoded.testnet, decoded.us_in, decoded.us_out, decoded.us_diff) == (
        False,
        1535043730126248,
        1535043730126250,
        2,
    )
    assert msgspec.json.decode(decoded.result) == {"anything": [1, 2]}
    assert decode_result(GenericRequest(method="public/x"), decoded.result) == {"anything": [1, 2]}


def test_string_ids_and_string_microseconds() -> None:
    decoded = decode_inbound(
        b'{"jsonrpc":"2.0","id":"auth_1","result":7,"usIn":"1535043730126248",'
        b'"usOut":"1535043730126250","usDiff":"2","testnet":true}'
    )
    assert isinstance(decoded, Response)
    assert (decoded.id, decoded.us_in, decoded.us_out, decoded.us_diff, decoded.testnet) == (
        "auth_1",
        1535043730126248,
        1535043730126250,
        2,
        True,
    )
    odd = decode_inbound(b'{"id":1,"result":null,"usIn":"soon","usOut":1.5,"testnet":"no"}')
    assert isinstance(odd, Response)
    assert (odd.us_in, odd.us_out, odd.testnet) == (None, None, None)
    assert decode_result(Logout(), odd.result) is None


def test_error_response() -> None:
    decoded = decode_inbound(
        b'{"jsonrpc": "2.0", "id": 8163, "error": {"code": 11050, "message": "bad_request"},'
        b' "testnet": false, "usIn": 1535037392434763, "usOut": 1535037392448119, "usDiff": 13356}'
    )
    assert isinstance(decoded, ErrorResponse)
    assert (decoded.id, decoded.error.code, decoded.error.message, decoded.error.data) == (
        8163,
        11050,
        "bad_request",
        None,
    )
    assert decoded.us_diff == 13356


def test_bad_json_error_without_id() -> None:
    decoded = decode_inbound(
        b'{"jsonrpc":"2.0","error":{"code":11050,"message":"bad_request","data":"invalid json"},'
        b'"testnet":false,"usIn":1,"usOut":2,"usDiff":1}'
    )
    assert isinstance(decoded, ErrorResponse)
    assert decoded.id is None
    assert decoded.error.data == "invalid json"


def test_error_data_and_typed_exception() -> None:
    decoded = decode_inbound(
        b'{"jsonrpc":"2.0","id":3,"error":{"message":"Invalid params",'
        b'"data":{"reason":"wrong format","param":"instrument_name"},"code":-32602}}'
    )
    assert isinstance(decoded, ErrorResponse)
    error = decoded.exception()
    assert isinstance(error, InvalidParams)
    assert error.param == "instrument_name"
    funds = decode_inbound(b'{"id":4,"error":{"code":10009,"message":"not_enough_funds"}}')
    assert isinstance(funds, ErrorResponse)
    assert isinstance(funds.exception(), InsufficientFunds)


def test_error_null_with_result_is_a_success() -> None:
    assert isinstance(decode_inbound(b'{"id":1,"result":"ok","error":null}'), Response)


# -- spec 1.5 heartbeats and session results ------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b'{"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "heartbeat"}}', Heartbeat),
        (b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}', Heartbeat),
        (b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}', TestRequest),
        (b'{"params":{"type":"test_request"},"method":"heartbeat","jsonrpc":"2.0"}', TestRequest),
        (b'{"params":{"type":"heartbeat"},"method":"heartbeat","jsonrpc":"2.0"}', Heartbeat),
        (b'{"method":"heartbeat","params":{"type":"test_request","x":1}}', TestRequest),
        ('{"method":"heartbeat","params":{"type":"test_request"}}', TestRequest),
    ],
)
def test_heartbeat_versus_test_request(data: bytes | str, kind: type) -> None:
    assert type(decode_inbound(data)) is kind


def test_unknown_heartbeat_types_and_methods_are_passed_through() -> None:
    assert decode_inbound(b'{"method":"heartbeat","params":{"type":"other"}}') == UnknownMessage(
        method="heartbeat", params={"type": "other"}
    )
    assert decode_inbound(b'{"method":"heartbeat"}') == UnknownMessage(method="heartbeat")
    assert decode_inbound(b'{"method":"announce","params":[1,{"a":null}]}') == UnknownMessage(
        method="announce", params=[1, {"a": None}]
    )


def test_session_results() -> None:
    assert result_of(Hello(client_name="a", client_version="1"), {"version": "1.2.26"}) == (
        VersionResult(version="1.2.26")
    )
    assert result_of(GetTime(), 1550147385946) == 1550147385946
    assert result_of(Status(), {"locked": "partial", "locked_indices": ["btc_usd"]}) == (
        PlatformStatus(locked="partial", locked_indices=["btc_usd"])
    )
    assert result_of(Status(), {"locked": False, "locked_currencies": []}) == PlatformStatus(
        locked=False, locked_currencies=[]
    )
    assert result_of(GetCancelOnDisconnect(), {"scope": "account", "enabled": False}) == (
        CancelOnDisconnectState(scope="account", enabled=False)
    )


# -- spec 2.1 auth --------------------------------------------------------------------

AUTH_RESULT: dict[str, Any] = {
    "access_token": "1582628593469.1MbQ-J_4.CBP-secret-access",
    "refresh_token": "1582628593469.1GP4rQd0.A9Wa-secret-refresh",
    "expires_in": 31536000,
    "scope": "connection mainaccount",
    "token_type": "bearer",
    "enabled_features": [],
}


def test_auth_result_hides_its_tokens() -> None:
    auth = AuthClientSignature.signed(client_id="A", client_secret="s", timestamp=1, nonce="n")
    result = result_of(auth, {**AUTH_RESULT, "sid": "ws-1", "state": "x", "unknown": 1})
    assert isinstance(result, AuthResult)
    assert result.access_token == Secret(AUTH_RESULT["access_token"])
    assert result.refresh_token.reveal() == AUTH_RESULT["refresh_token"]
    assert (result.expires_in, result.scope, result.token_type) == (
        31536000,
        "connection mainaccount",
        "bearer",
    )
    assert (result.enabled_features, result.sid, result.state) == ([], "ws-1", "x")
    for text in (repr(result), str(result)):
        assert "secret" not in text


def test_auth_result_with_a_non_string_token_is_a_remote_error() -> None:
    auth = AuthClientSignature.signed(client_id="A", client_secret="s", timestamp=1, nonce="n")
    with pytest.raises(RemoteProtocolError, match="malformed result for public/auth"):
        result_of(auth, {**AUTH_RESULT, "access_token": 5})


# -- spec 3 subscriptions ------------------------------------------------------------


def test_subscribe_result_may_be_reordered() -> None:
    command = PublicSubscribe(channels=["book.BTC-PERPETUAL.100ms", "trades.BTC-PERPETUAL.100ms"])
    assert result_of(command, ["trades.BTC-PERPETUAL.100ms", "book.BTC-PERPETUAL.100ms"]) == [
        "trades.BTC-PERPETUAL.100ms",
        "book.BTC-PERPETUAL.100ms",
    ]
    assert result_of(command, []) == []


def test_price_index_notification() -> None:
    event = decode_inbound(
        b'{"jsonrpc": "2.0", "method": "subscription",\n'
        b' "params": {"channel": "deribit_price_index.btc_usd",\n'
        b'            "data": {"timestamp": 1535098298227, "price": 6521.17,'
        b' "index_name": "btc_usd"}}}'
    )
    assert isinstance(event, PriceIndexUpdate)
    assert event.channel == "deribit_price_index.btc_usd"
    assert (event.data.price, event.data.index_name, event.data.timestamp) == (
        6521.17,
        "btc_usd",
        1535098298227,
    )


SNAPSHOT = (
    b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":{'
    b'"type":"snapshot","instrument_name":"BTC-PERPETUAL","timestamp":1554373962454,"change_id":297217,'
    b'"bids":[["new",5042.34,30],["new",5041.94,20]],'
    b'"asks":[["new",5042.64,40],["new",5043.3,40]]}}}'
)
CHANGE = (
    b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.100ms","data":{'
    b'"type":"change","instrument_name":"BTC-PERPETUAL","timestamp":1554373911330,'
    b'"change_id":297218,"prev_change_id":297217,'
    b'"bids":[["delete",5041.94,0.0],["change",5042.34,25]],"asks":[]}}}'
)


def test_book_snapshot_and_change() -> None:
    snapshot = decode_inbound(SNAPSHOT)
    assert isinstance(snapshot, BookUpdate)
    assert snapshot.channel == "book.BTC-PERPETUAL.100ms"
    assert snapshot.data.type == "snapshot"
    assert snapshot.data.is_snapshot
    assert snapshot.data.prev_change_id is None
    assert snapshot.data.change_id == 297217
    assert snapshot.data.bids == [("new", 5042.34, 30.0), ("new", 5041.94, 20.0)]
    assert snapshot.data.asks == [("new", 5042.64, 40.0), ("new", 5043.3, 40.0)]
    change = decode_inbound(CHANGE)
    assert isinstance(change, BookUpdate)
    assert not change.data.is_snapshot
    assert (change.data.change_id, change.data.prev_change_id) == (297218, 297217)
    assert change.data.bids == [("delete", 5041.94, 0.0), ("change", 5042.34, 25.0)]
    assert change.data.asks == []


def test_grouped_book_has_no_type_and_pairs() -> None:
    event = decode_inbound(
        b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.ETH-PERPETUAL.100.1.100ms",'
        b'"data":{"instrument_name":"ETH-PERPETUAL","timestamp":1554375447971,"change_id":109615,'
        b'"asks":[[161,20]],"bids":[[160,40]]}}}'
    )
    assert isinstance(event, GroupedBookUpdate)
    assert (event.data.bids, event.data.asks, event.data.change_id) == (
        [(160.0, 40.0)],
        [(161.0, 20.0)],
        109615,
    )


TICKER_DATA: dict[str, Any] = {
    "instrument_name": "BTC-PERPETUAL",
    "timestamp": 1623060194301,
    "state": "open",
    "best_bid_price": 36442.5,
    "best_bid_amount": 5000,
    "best_ask_price": 36443,
    "best_ask_amount": 100,
    "last_price": 36457.5,
    "mark_price": 36446.51,
    "index_price": 36441.64,
    "estimated_delivery_price": 36441.64,
    "settlement_price": 36169.49,
    "min_price": 35898.37,
    "max_price": 36991.72,
    "open_interest": 502097590,
    "current_funding": 0,
    "funding_8h": 2.11e-5,
    "interest_value": 1.7362511643080387,
    "stats": {
        "high": 36824.5,
        "low": 35213.5,
        "price_change": 0.7229,
        "volume": 7871.02139035,
        "volume_usd": 284061480,
    },
}


def test_ticker_notification_and_result() -> None:
    raw = notification("ticker.BTC-PERPETUAL.100ms", TICKER_DATA).replace(b"2.11e-05", b"2.11e-5")
    assert b"2.11e-5" in raw
    event = decode_inbound(raw)
    assert isinstance(event, TickerUpdate)
    ticker = event.data
    assert ticker.funding_8h == 2.11e-5
    assert (ticker.best_bid_amount, ticker.open_interest) == (5000.0, 502097590.0)
    assert ticker.stats.volume_usd == 284061480
    assert ticker.greeks is None
    assert result_of(GetTicker(instrument_name="BTC-PERPETUAL"), TICKER_DATA) == ticker


def test_ticker_with_an_empty_side_and_option_fields() -> None:
    data = {
        **TICKER_DATA,
        "best_bid_price": None,
        "best_bid_amount": 0,
        "last_price": None,
        "mark_price": 1054.0,
        "greeks": {"delta": 0.5, "gamma": 0.0, "rho": 1.1, "theta": -2, "vega": 3},
        "mark_iv": 55.5,
        "underlying_index": "SYN.BTC-25MAR23",
        "state": "closed",
        "delivery_price": 36000,
    }
    event = decode_inbound(notification("ticker.BTC-25MAR23-420-C.raw", data))
    assert isinstance(event, TickerUpdate)
    assert (event.data.best_bid_price, event.data.last_price) == (None, None)
    assert event.data.greeks is not None
    assert event.data.greeks.theta == -2.0
    assert (event.data.delivery_price, event.data.underlying_index) == (36000.0, "SYN.BTC-25MAR23")


def test_incremental_ticker_tells_null_from_absent() -> None:
    change = decode_inbound(
        notification(
            "incremental_ticker.BTC-PERPETUAL",
            {
                "type": "change",
                "instrument_name": "BTC-PERPETUAL",
                "timestamp": 1,
                "best_bid_price": None,
                "mark_price": 2,
            },
        )
    )
    assert isinstance(change, IncrementalTickerUpdate)
    assert change.data.best_bid_price is None
    assert change.data.best_ask_price is msgspec.UNSET
    assert change.data.mark_price == 2.0


TRADE = {
    "trade_id": "48079269",
    "trade_seq": 30289442,
    "timestamp": 1590484512188,
    "instrument_name": "BTC-PERPETUAL",
    "price": 8950,
    "amount": 10,
    "direction": "sell",
    "tick_direction": 2,
    "mark_price": 8948.9,
    "index_price": 8955.88,
}


def test_trades_notification_with_optional_fields() -> None:
    option_trade = {
        **TRADE,
        "trade_id": "USDC-2436803",
        "iv": 55.1,
        "liquidation": "MT",
        "block_trade_id": "154",
        "contracts": 1.5,
        "future_field": {"x": 1},
    }
    event = decode_inbound(notification("trades.BTC-PERPETUAL.raw", [TRADE, option_trade]))
    assert isinstance(event, TradesUpdate)
    first, second = event.data
    assert (first.trade_id, first.trade_seq, first.price, first.direction) == (
        "48079269",
        30289442,
        8950.0,
        "sell",
    )
    assert (first.iv, first.liquidation) == (None, None)
    assert (second.iv, second.liquidation, second.block_trade_id, second.contracts) == (
        55.1,
        "MT",
        "154",
        1.5,
    )
    kind = decode_inbound(notification("trades.future.BTC.100ms", []))
    assert isinstance(kind, TradesUpdate)
    assert kind.data == []


def test_small_public_channels() -> None:
    quote = decode_inbound(
        notification(
            "quote.BTC-PERPETUAL",
            {
                "timestamp": 1,
                "instrument_name": "BTC-PERPETUAL",
                "best_bid_price": 1,
                "best_bid_amount": 2,
                "best_ask_price": None,
                "best_ask_amount": 0,
            },
        )
    )
    assert isinstance(quote, QuoteUpdate)
    assert quote.data.best_ask_price is None
    chart = decode_inbound(
        notification(
            "chart.trades.BTC-PERPETUAL.1",
            {"tick": 1, "open": 1, "high": 2, "low": 0.5, "close": 1.5, "volume": 3, "cost": 4},
        )
    )
    assert isinstance(chart, ChartUpdate)
    assert chart.data.close == 1.5
    perpetual = decode_inbound(
        notification(
            "perpetual.BTC-PERPETUAL.raw", {"index_price": 1, "interest": 0.001, "timestamp": 3}
        )
    )
    assert isinstance(perpetual, PerpetualUpdate)
    assert perpetual.data.interest == 0.001
    for data in ({"price_index": "btc_usd", "locked": True}, {"maintenance": True}):
        state = decode_inbound(notification("platform_state", data))
        assert isinstance(state, PlatformStateUpdate)
    methods = decode_inbound(
        notification(
            "platform_state.public_methods_state", {"allow_unauthenticated_public_requests": True}
        )
    )
    assert isinstance(methods, PlatformStateUpdate)
    assert methods.data.allow_unauthenticated_public_requests is True


def test_unknown_channels_are_generic_notifications() -> None:
    data = {"action": "new", "id": 1, "title": "t", "body": "b", "important": False}
    event = decode_inbound(notification("announcements", data))
    assert event == Notification(channel="announcements", data=data)
    state = decode_inbound(notification("instrument.state.any.any", {"state": "created"}))
    assert state == Notification(channel="instrument.state.any.any", data={"state": "created"})
    brand_new = decode_inbound(notification("futurefamily.X.1s", [1, 2]))
    assert brand_new == Notification(channel="futurefamily.X.1s", data=[1, 2])
    assert decode_inbound(notification("ticker", None)) == Notification(channel="ticker")


# -- spec 5 trading ----------------------------------------------------------------------

ORDER = {
    "order_id": "ETH-584849853",
    "instrument_name": "ETH-PERPETUAL",
    "direction": "buy",
    "amount": 40,
    "filled_amount": 40,
    "average_price": 203.3,
    "price": 207.3,
    "order_type": "market",
    "order_state": "filled",
    "time_in_force": "good_til_cancelled",
    "label": "market0000234",
    "post_only": False,
    "reduce_only": False,
    "replaced": False,
    "is_liquidation": False,
    "is_rebalance": False,
    "max_show": 40,
    "api": True,
    "web": False,
    "creation_timestamp": 1590483938456,
    "last_update_timestamp": 1590483938456,
}
USER_TRADE = {
    "trade_id": "ETH-2696083",
    "trade_seq": 1966056,
    "order_id": "ETH-584849853",
    "instrument_name": "ETH-PERPETUAL",
    "direction": "buy",
    "amount": 40,
    "price": 203.3,
    "state": "filled",
    "order_type": "market",
    "liquidity": "T",
    "fee": 0.00014757,
    "fee_currency": "ETH",
    "mark_price": 203.28,
    "index_price": 203.33,
    "tick_direction": 0,
    "timestamp": 1590483938456,
    "label": "market0000234",
    "post_only": False,
    "reduce_only": False,
    "matching_id": None,
}


def test_buy_result() -> None:
    command = Buy(instrument_name="ETH-PERPETUAL", amount=40, type="market", label="market0000234")
    result = result_of(command, {"order": ORDER, "trades": [USER_TRADE]})
    assert isinstance(result, OrderResult)
    assert result.order.order_state == "filled"
    assert result.order.max_show == 40.0
    assert result.order.price == 207.3
    (trade,) = result.trades
    assert isinstance(trade, UserTrade)
    assert (trade.liquidity, trade.fee, trade.fee_currency, trade.matching_id) == (
        "T",
        0.00014757,
        "ETH",
        None,
    )


def test_trigger_order_price_may_be_market_price() -> None:
    order = msgspec.convert(
        {
            **ORDER,
            "price": "market_price",
            "order_state": "untriggered",
            "trigger": "mark_price",
            "trigger_price": 5,
        },
        Order,
    )
    assert (order.price, order.trigger_price) == ("market_price", 5.0)


def test_cancel_detailed_reports_and_counts() -> None:
    # The spec's example abbreviates the order objects ("...": "..."); full ones here.
    untriggered = {
        **ORDER,
        "order_id": "ETH-SLTS-250756",
        "order_state": "untriggered",
        "price": "market_price",
    }
    reports = [
        {
            "currency": "BTC",
            "type": "trigger",
            "instrument_name": "ETH-PERPETUAL",
            "result": [untriggered],
        },
        {
            "currency": "ETH",
            "type": "limit",
            "error": {"code": 10047, "message": "matching_engine_queue_full"},
        },
    ]
    decoded = result_of(CancelAll(detailed=True), reports)
    assert isinstance(decoded, list)
    first, second = decoded
    assert isinstance(first, CancelReport)
    assert first.result is not None
    assert first.result[0].order_id == "ETH-SLTS-250756"
    assert (second.instrument_name, second.result) == (None, None)
    assert second.error is not None
    assert (second.error.code, second.error.message) == (10047, "matching_engine_queue_full")
    assert result_of(CancelAll(), 4) == 4


POSITION = {
    "instrument_name": "BTC-PERPETUAL",
    "kind": "future",
    "direction": "buy",
    "size": 50,
    "size_currency": 0.006687487,
    "average_price": 7440.18,
    "mark_price": 7476.65,
    "index_price": 7466.79,
    "settlement_price": 7476.65,
    "floating_profit_loss": 0,
    "realized_profit_loss": -9e-9,
    "total_profit_loss": 0.000032781,
    "realized_funding": -1e-8,
    "initial_margin": 0.000197283,
    "maintenance_margin": 0.000143783,
    "open_orders_margin": 0.000197288,
    "delta": 0.006687487,
    "leverage": 34,
    "estimated_liquidation_price": 1.74,
    "interest_value": 1.736,
}


def test_get_positions() -> None:
    (position,) = result_of(GetPositions(currency="BTC"), [POSITION])
    assert isinstance(position, Position)
    assert (position.size, position.realized_profit_loss, position.leverage) == (50.0, -9e-9, 34.0)


SUMMARY = {
    "currency": "BTC",
    "balance": 1.5,
    "equity": 1.6,
    "available_funds": 1.2,
    "available_withdrawal_funds": 1.1,
    "margin_balance": 1.6,
    "initial_margin": 0.2,
    "maintenance_margin": 0.1,
    "delta_total_map": {"btc_usd": 0.5},
    "limits": {
        "limits_per_currency": False,
        "non_matching_engine": {"burst": 1500, "rate": 1000},
        "matching_engine": {"trading": {"total": {"burst": 20, "rate": 5}}},
    },
}


def test_account_summary_and_portfolio() -> None:
    summary = result_of(GetAccountSummary(currency="BTC", extended=True), SUMMARY)
    assert isinstance(summary, AccountSummary)
    assert summary.delta_total_map == {"btc_usd": 0.5}
    assert summary.limits is not None
    assert summary.limits["non_matching_engine"] == {"burst": 1500, "rate": 1000}
    event = decode_inbound(notification("user.portfolio.btc", SUMMARY))
    assert isinstance(event, PortfolioUpdate)
    assert event.data == summary


def test_user_orders_single_object_on_raw_and_array_otherwise() -> None:
    single = decode_inbound(notification("user.orders.any.any.raw", ORDER))
    assert isinstance(single, UserOrdersUpdate)
    assert isinstance(single.data, Order)
    assert single.orders == [single.data]
    many = decode_inbound(notification("user.orders.BTC-PERPETUAL.100ms", [ORDER, ORDER]))
    assert isinstance(many, UserOrdersUpdate)
    assert isinstance(many.data, list)
    assert many.orders == [single.data, single.data]


def test_user_trades_and_changes_with_a_label() -> None:
    trades = decode_inbound(notification("user.trades.any.any.raw", [USER_TRADE], label="mine"))
    assert isinstance(trades, UserTradesUpdate)
    assert trades.label == "mine"
    assert trades.data[0].order_id == "ETH-584849853"
    changes = decode_inbound(
        notification(
            "user.changes.BTC-PERPETUAL.raw",
            {
                "instrument_name": "BTC-PERPETUAL",
                "orders": [ORDER],
                "positions": [POSITION],
                "trades": [USER_TRADE],
            },
        )
    )
    assert isinstance(changes, UserChangesUpdate)
    assert changes.label is None
    assert [len(changes.data.orders), len(changes.data.positions), len(changes.data.trades)] == [
        1,
        1,
        1,
    ]


# -- spec 6 market data --------------------------------------------------------------

INSTRUMENT = {
    "instrument_name": "BTC-PERPETUAL",
    "instrument_id": 124972,
    "kind": "future",
    "instrument_type": "reversed",
    "base_currency": "BTC",
    "quote_currency": "USD",
    "counter_currency": "USD",
    "settlement_currency": "BTC",
    "settlement_period": "perpetual",
    "price_index": "btc_usd",
    "is_active": True,
    "tick_size": 0.5,
    "tick_size_steps": [{"above_price": 100000, "tick_size": 1}],
    "min_trade_amount": 10,
    "contract_size": 10,
    "max_leverage": 50,
    "maker_commission": 0,
    "taker_commission": 0.0005,
    "max_liquidation_commission": 0.0075,
    "block_trade_commission": 0.00025,
    "block_trade_min_trade_amount": 200000,
    "block_trade_tick_size": 0.01,
    "creation_timestamp": 1534167754000,
    "expiration_timestamp": 32503708800000,
}


def test_instruments_and_currencies() -> None:
    spot = {**INSTRUMENT, "instrument_name": "BTC_USDC", "kind": "spot"}
    del spot["settlement_period"]
    option = {
        **INSTRUMENT,
        "instrument_name": "BTC-25MAR23-420-C",
        "kind": "option",
        "option_type": "call",
        "strike": 420,
    }
    perpetual, spot_instrument, option_instrument = result_of(
        GetInstruments(), [INSTRUMENT, spot, option]
    )
    assert isinstance(perpetual, Instrument)
    assert perpetual.expiration_timestamp == 32503708800000
    assert perpetual.tick_size_steps is not None
    assert perpetual.tick_size_steps[0].above_price == 100000
    assert spot_instrument.settlement_period is None
    assert (option_instrument.option_type, option_instrument.strike) == ("call", 420.0)
    (currency,) = result_of(
        GetCurrencies(),
        [
            {
                "currency": "BTC",
                "currency_long": "Bitcoin",
                "coin_type": "BITCOIN",
                "fee_precision": 4,
                "min_confirmations": 1,
                "min_withdrawal_fee": 0.0001,
                "withdrawal_fee": 0.0001,
                "withdrawal_priorities": [{"name": "high", "value": 1.5}],
            }
        ],
    )
    assert isinstance(currency, Currency)
    assert currency.withdrawal_priorities is not None
    assert currency.withdrawal_priorities[0].value == 1.5


def test_get_order_book() -> None:
    book = result_of(
        GetOrderBook(instrument_name="BTC-PERPETUAL"),
        {
            "instrument_name": "BTC-PERPETUAL",
            "timestamp": 1550757626706,
            "change_id": 474988,
            "state": "open",
            "bids": [[3955.75, 30.0], [3940.75, 102020.0]],
            "asks": [],
            "best_bid_price": 3955.75,
            "best_bid_amount": 30.0,
            "best_ask_price": 0.0,
            "best_ask_amount": 0.0,
            "last_price": 3955.75,
            "mark_price": 3931.97,
            "index_price": 3910.46,
            "settlement_price": 3925.85,
            "open_interest": 45.276,
            "min_price": 3932.22,
            "max_price": 3971.74,
            "funding_8h": 0.00455263,
            "current_funding": 0.00500063,
            "stats": {
                "volume": 93.35589552,
                "price_change": 0.6913,
                "low": 3940.75,
                "high": 3976.25,
            },
        },
    )
    assert isinstance(book, OrderBookSnapshot)
    assert isinstance(book, Ticker)
    assert book.bids == [(3955.75, 30.0), (3940.75, 102020.0)]
    assert (book.asks, book.best_ask_price, book.change_id) == ([], 0.0, 474988)


def test_index_price_and_last_trades() -> None:
    assert result_of(
        GetIndexPrice(index_name="btc_usd"),
        {"index_price": 11628.81, "estimated_delivery_price": 11628.81},
    ) == IndexPrice(index_price=11628.81, estimated_delivery_price=11628.81)
    page = result_of(
        GetLastTradesByInstrument(instrument_name="BTC-PERPETUAL"),
        {"trades": [TRADE], "has_more": True},
    )
    assert isinstance(page, TradesPage)
    assert page.has_more
    assert page.trades[0].trade_id == "48079269"


def test_results_that_do_not_fit_are_remote_errors() -> None:
    with pytest.raises(RemoteProtocolError, match="malformed result for public/get_index_price"):
        result_of(GetIndexPrice(index_name="btc_usd"), {"index_price": "high"})
    with pytest.raises(LocalProtocolError):
        decode_result(object(), msgspec.Raw(b"1"))  # type: ignore[arg-type]


# -- any key order, whitespace, escapes: the fast path agrees with the general one -----


@pytest.mark.parametrize(
    "data",
    [
        SNAPSHOT,
        SNAPSHOT.decode(),
        bytearray(SNAPSHOT),
        memoryview(SNAPSHOT),
        # reversed key orders
        b'{"params":{"channel":"book.BTC-PERPETUAL.100ms","data":'
        + SNAPSHOT.split(b'"data":', 1)[1][:-2]
        + b'},"method":"subscription","jsonrpc":"2.0"}',
        b'{"params":{"data":'
        + SNAPSHOT.split(b'"data":', 1)[1][:-2]
        + b',"channel":"book.BTC-PERPETUAL.100ms"},"method":"subscription"}',
        # whitespace and an escaped character in the channel
        SNAPSHOT.replace(b'"channel":"', b'"channel" : "'),
        SNAPSHOT.replace(b"book.BTC", b"book\\u002eBTC"),
        SNAPSHOT.replace(b"book.BTC", b"book.\\u0042TC").decode(),
    ],
)
def test_layouts_decode_the_same(data: bytes | bytearray | memoryview | str) -> None:
    assert decode_inbound(data) == decode_inbound(SNAPSHOT)


def test_the_documented_layout_is_served_from_the_hot_cache() -> None:
    # Guards the hot path's design (the fallbacks would keep results right, only slower).
    decode_inbound(SNAPSHOT)
    assert b"book.BTC-PERPETUAL.100ms" in _inbound._hot
    reversed_layout = b'{"params":{"channel":"quote.HOT","data":{}},"method":"subscription"}'
    with pytest.raises(RemoteProtocolError):
        decode_inbound(reversed_layout)
    assert b"quote.HOT" not in _inbound._hot


def test_a_channel_key_inside_data_does_not_mislead() -> None:
    trick = (
        b'{"method":"subscription","params":{"data":{"channel":"book.X.100ms","type":"snapshot",'
        b'"instrument_name":"X","timestamp":1,"change_id":1,"bids":[],"asks":[]},'
        b'"channel":"announcements"}}'
    )
    event = decode_inbound(trick)
    assert isinstance(event, Notification)
    assert event.channel == "announcements"
    assert event.data["channel"] == "book.X.100ms"


def test_a_result_is_not_taken_for_a_notification() -> None:
    for data in (
        b'{"jsonrpc":"2.0","id":1,"result":{"channel":"book.X.100ms","data":1}}',
        b'{"jsonrpc":"2.0","method":"subscriptionX","params":{"channel":"ticker.X.raw","data":{}}}',
    ):
        first = decode_inbound(data)
        assert decode_inbound(data) == first  # and again, through the warm cache
        assert not isinstance(first, TickerUpdate | BookUpdate)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "not valid JSON"),
        (b"{", "not valid JSON"),
        (b"\xff", "not valid JSON"),
        ('{"a":"\udc80"}', "not valid JSON"),
        (b"[1,2]", "not a JSON object"),
        (b'"text"', "not a JSON object"),
        (b"{}", "none of method, result and error"),
        (b'{"id":1}', "none of method, result and error"),
        (b'{"id":1.5,"result":1}', "response id"),
        (b'{"id":true,"result":1}', "response id"),
        (b'{"id":1,"error":"boom"}', "malformed error object"),
        (b'{"id":1,"error":{"message":"x"}}', "malformed error object"),
        (b'{"method":7}', "method is not a str"),
        (b'{"method":"subscription"}', "without params"),
        (b'{"method":"subscription","params":{"data":1}}', "without a channel"),
        (b'{"method":"subscription","params":[]}', "without a channel"),
        (CHANGE.replace(b'"change_id":297218', b'"change_id":"x"'), "malformed BookUpdate"),
        (CHANGE.replace(b'["delete",5041.94,0.0]', b'["remove",5041.94,0.0]'), "BookUpdate"),
        (SNAPSHOT.replace(b'"type":"snapshot",', b""), "malformed BookUpdate"),
        (b'{"method":"x","params":' + b"[" * 5000 + b"]" * 5000 + b"}", "recursion depth"),
        (notification("announcements", 1)[:-3] + b"[" * 3000 + b"]" * 3000 + b"}}", "recursion"),
    ],
)
def test_malformed_messages_are_remote_protocol_errors(data: bytes | str, problem: str) -> None:
    with pytest.raises(RemoteProtocolError, match=problem):
        decode_inbound(data)


def test_decode_inbound_refuses_non_text() -> None:
    with pytest.raises(LocalProtocolError, match="expected bytes or str"):
        decode_inbound(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("channel", "family"),
    [
        ("book.X.100ms", ChannelFamily.BOOK),
        ("book.X.none.10.100ms", ChannelFamily.GROUPED_BOOK),
        ("book.X.weird", ChannelFamily.BOOK),  # lenient: the venue named it, decode it typed
        ("book.X", None),
        ("ticker.X.100ms", ChannelFamily.TICKER),
        ("ticker", None),
        ("trades.future.BTC.raw", ChannelFamily.TRADES),
        ("chart.trades.X.1", ChannelFamily.CHART),
        ("chart.X.1", None),
        ("user.orders.X.raw", ChannelFamily.USER_ORDERS),
        ("user.portfolio.btc", ChannelFamily.USER_PORTFOLIO),
        ("user.lock", None),
        ("user.mmp_trigger.btc_usd", None),
        ("platform_state", ChannelFamily.PLATFORM_STATE),
        ("platform_state.public_methods_state", ChannelFamily.PUBLIC_METHODS_STATE),
        ("announcements", None),
    ],
)
def test_channel_family_routing(channel: str, family: ChannelFamily | None) -> None:
    assert channel_family(channel) is family


def test_many_channels_stay_correct_past_the_cache_bound() -> None:
    for i in range(5000):
        channel = f"quote.I{i}"
        event = decode_inbound(
            notification(
                channel,
                {
                    "timestamp": i,
                    "instrument_name": f"I{i}",
                    "best_bid_price": 1,
                    "best_bid_amount": 1,
                    "best_ask_price": 2,
                    "best_ask_amount": 1,
                },
            )
        )
        assert isinstance(event, QuoteUpdate)
        assert event.channel == channel
        assert event.data.timestamp == i


# -- fuzz ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "method",
                    "params",
                    "result",
                    "error",
                    "channel",
                    "data",
                    "type",
                    "code",
                    "message",
                    "usIn",
                    "bids",
                    "x",
                ]
            )
            | st.text(max_size=4),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)
channels = st.sampled_from(
    [
        "book.X.100ms",
        "book.X.none.10.100ms",
        "ticker.X.raw",
        "trades.X.raw",
        "quote.X",
        "user.orders.X.raw",
        "user.orders.X.100ms",
        "user.changes.X.raw",
        "user.portfolio.btc",
        "chart.trades.X.1",
        "platform_state",
        "deribit_price_index.btc_usd",
        "announcements",
        "incremental_ticker.X",
        "perpetual.X.raw",
        "user.trades.X.raw",
    ]
)


def _check(data: bytes | str) -> None:
    with contextlib.suppress(RemoteProtocolError):
        decode_inbound(data)


@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _check(data)


@given(json_values)
def test_fuzz_arbitrary_json(value: Any) -> None:
    _check(json.dumps(value).encode())
    _check(json.dumps(value))


@given(channels, json_values, st.booleans())
def test_fuzz_notifications_with_any_data(channel: str, data: Any, compact: bool) -> None:
    message = {
        "jsonrpc": "2.0",
        "method": "subscription",
        "params": {"channel": channel, "data": data},
    }
    separators = (",", ":") if compact else (", ", ": ")
    _check(json.dumps(message, separators=separators).encode())


@given(st.sampled_from([SNAPSHOT, CHANGE]), st.integers(0, len(CHANGE) - 1), st.binary(max_size=3))
def test_fuzz_corrupted_book_messages(base: bytes, at: int, junk: bytes) -> None:
    _check(base[:at] + junk + base[at + len(junk) :])


# -- the first-byte hints agree with the general path ------------------------------------

_BOOK_DATA = json.loads(CHANGE)["params"]["data"]
_SNAPSHOT_DATA = json.loads(SNAPSHOT)["params"]["data"]
_GROUPED_DATA = {
    "instrument_name": "BTC-PERPETUAL",
    "timestamp": 1554375447971,
    "change_id": 109615,
    "asks": [[161, 20]],
    "bids": [[160, 40]],
}
_PAYLOADS = [_BOOK_DATA, _SNAPSHOT_DATA, _GROUPED_DATA, TICKER_DATA, [TRADE], [ORDER], ORDER]
_PAYLOADS += [[USER_TRADE], {"x": 1}, None]
# Families that share a first byte (ticker / trades, user.orders / user.trades) or even
# the first 8 bytes (a plain and a grouped book of one instrument), and names that route
# to no family, so every hint is learned, widened and tried on a wrong message.
_HINT_CHANNELS = [
    "book.BTC-PERPETUAL.100ms",
    "book.BTC-PERPETUAL.raw",
    "book.BTC-PERPETUAL.none.10.100ms",
    "book.BTC-PERPETUAL",
    "ticker.BTC-PERPETUAL.100ms",
    "trades.BTC-PERPETUAL.100ms",
    "tradesX",
    "user.orders.BTC-PERPETUAL.raw",
    "user.trades.BTC-PERPETUAL.raw",
    "user.orders.BTC-PERPETUAL.100ms",
    "quote.BTC-PERPETUAL",
    "b",
]


def _layout(channel: str, data: Any, style: int) -> bytes:
    if style == 0:  # the documented layout: the hints are learned from it
        return notification(channel, data)
    if style == 1:  # keys reordered: the hint decodes it, the exact lookup cannot
        params = {"data": data, "channel": channel}
        return json.dumps({"params": params, "method": "subscription", "jsonrpc": "2.0"}).encode()
    # a result that carries a channel: never a notification
    return json.dumps({"jsonrpc": "2.0", "id": 3, "result": {"channel": channel}}).encode()


def _outcome(decode: Any, data: bytes) -> Any:
    try:
        return decode(data)
    except RemoteProtocolError:
        return RemoteProtocolError


@given(
    st.lists(
        st.tuples(
            st.sampled_from(_HINT_CHANNELS),
            st.sampled_from(range(len(_PAYLOADS))),
            st.sampled_from([0, 0, 0, 1, 2]),
        ),
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
)
def test_hinted_decodes_equal_the_general_path(
    messages: list[tuple[str, int, int]], cold: bool
) -> None:
    # Whatever the caches have learned (from this sequence and from every test before),
    # each message decodes to exactly what the general path makes of it.
    if cold:
        for cache in (_inbound._hot, _inbound._types, _inbound._hints, _inbound._wide_hints):
            cache.clear()
    for channel, payload, style in messages:
        data = _layout(channel, _PAYLOADS[payload], style)
        assert _outcome(decode_inbound, data) == _outcome(_inbound._general, data)


def test_shared_first_bytes_widen_the_hint() -> None:
    for cache in (_inbound._hot, _inbound._types, _inbound._hints, _inbound._wide_hints):
        cache.clear()
    ticker = notification("ticker.BTC-PERPETUAL.100ms", TICKER_DATA)
    trades = notification("trades.BTC-PERPETUAL.100ms", [TRADE])
    assert isinstance(decode_inbound(ticker), TickerUpdate)
    assert _inbound._hints[b"t"][1] is TickerUpdate
    assert isinstance(decode_inbound(trades), TradesUpdate)
    assert _inbound._hints[b"t"] is _inbound.WIDER
    assert _inbound._wide_hints[b"ticker.B"][1] is TickerUpdate  # learned for the seen one
    assert _inbound._wide_hints[b"trades.B"][1] is TradesUpdate
    plain = notification("book.BTC-PERPETUAL.100ms", _BOOK_DATA)
    grouped = notification("book.BTC-PERPETUAL.none.10.100ms", _GROUPED_DATA)
    decode_inbound(plain)
    assert isinstance(decode_inbound(grouped), GroupedBookUpdate)
    # one letter, and even the first 8 bytes, shared by two families: the exact lookup
    assert _inbound._hints[b"b"] is _inbound.WIDER
    assert _inbound._wide_hints[b"book.BTC"] is None
    assert isinstance(decode_inbound(plain), BookUpdate)
    assert isinstance(decode_inbound(grouped), GroupedBookUpdate)
