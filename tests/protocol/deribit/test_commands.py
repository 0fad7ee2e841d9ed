"""Typed commands: every method, validation messages, secrets, and the wire round trip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
import pytest

from tradewire.protocol import LocalProtocolError, Secret
from tradewire.protocol.deribit import (
    COMMANDS,
    MAX_MESSAGE_SIZE,
    Auth,
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
    AuthResult,
    Buy,
    Cancel,
    CancelAll,
    CancelAllByCurrency,
    CancelAllByInstrument,
    CancelAllByKindOrType,
    CancelByLabel,
    CancelReport,
    DeribitCommand,
    DisableCancelOnDisconnect,
    DisableHeartbeat,
    Edit,
    EditByLabel,
    EnableCancelOnDisconnect,
    ExchangeToken,
    ForkToken,
    GenericRequest,
    GetAccountSummary,
    GetCancelOnDisconnect,
    GetCurrencies,
    GetIndexPrice,
    GetInstruments,
    GetLastTradesByInstrument,
    GetOpenOrders,
    GetOpenOrdersByCurrency,
    GetOpenOrdersByInstrument,
    GetOpenOrdersByLabel,
    GetOrderBook,
    GetOrderBookByInstrumentId,
    GetOrderState,
    GetPosition,
    GetPositions,
    GetTicker,
    GetTime,
    Hello,
    InvalidArgument,
    Logout,
    Order,
    OrderResult,
    PrivateSubscribe,
    PrivateUnsubscribe,
    PrivateUnsubscribeAll,
    PublicSubscribe,
    PublicUnsubscribe,
    PublicUnsubscribeAll,
    RateClass,
    Sell,
    SetHeartbeat,
    Status,
    Test,
    command_type_for,
    encode_request,
    http_get_target,
    http_path,
    http_post_body,
    method_info,
)
from tradewire.protocol.deribit.server import (
    decode_params,
    decode_query_params,
    decode_request,
)

SECRET = "W0H6FJW4-very-secret"
TOKEN = "1582628593469.1GP4rQd0.A9Wa-refresh"

# At least one instance of every typed method, with optional params set where they exist.
EXAMPLES: list[DeribitCommand] = [
    SetHeartbeat(interval=10),
    DisableHeartbeat(),
    Test(),
    Test(expected_result="exception"),
    Hello(client_name="tradewire", client_version="0.1.0"),
    GetTime(),
    Status(),
    AuthClientCredentials(client_id="fo7WAPRm4P", client_secret=Secret(SECRET)),
    AuthClientCredentials(
        client_id="fo7WAPRm4P", client_secret=Secret(SECRET), scope="session:a", state="s"
    ),
    AuthClientSignature.signed(
        client_id="AMANDA", client_secret=SECRET, timestamp=1576074319000, nonce="1iqt2wls"
    ),
    AuthClientSignature.signed(
        client_id="AMANDA",
        client_secret=SECRET,
        timestamp=1576074319000,
        nonce="n",
        data="some-data",
        scope="session:x trade:read",
    ),
    AuthRefreshToken(refresh_token=Secret(TOKEN)),
    ExchangeToken(refresh_token=Secret(TOKEN), subject_id=10, scope="session:sub"),
    ForkToken(refresh_token=Secret(TOKEN), session_name="named_session"),
    Logout(invalidate_token=True),
    Logout(),
    PublicSubscribe(channels=["book.BTC-PERPETUAL.100ms", "trades.BTC-PERPETUAL.100ms"]),
    PrivateSubscribe(channels=["user.orders.any.any.raw"], label="sixteen-chars-ok"),
    PublicUnsubscribe(channels=["book.BTC-PERPETUAL.100ms"]),
    PrivateUnsubscribe(channels=["user.orders.any.any.raw"]),
    PublicUnsubscribeAll(),
    PrivateUnsubscribeAll(),
    Buy(instrument_name="ETH-PERPETUAL", amount=40, type="market", label="market0000234"),
    Buy(
        instrument_name="BTC-PERPETUAL",
        contracts=3,
        price=50000.5,
        time_in_force="good_til_cancelled",
        post_only=True,
        reject_post_only=True,
        reduce_only=False,
        mmp=False,
        display_amount=10,
        max_show=10,
        valid_until=1700000000000,
        linked_order_type="one_triggers_other",
        trigger_fill_condition="first_hit",
        otoco_config=[{"amount": 10, "direction": "sell", "type": "limit", "price": 60000}],
    ),
    Sell(
        instrument_name="BTC-PERPETUAL",
        amount=10,
        type="stop_limit",
        price=1.5,
        trigger="mark_price",
        trigger_price=2,
    ),
    Sell(
        instrument_name="BTC-PERPETUAL",
        amount=10,
        type="trailing_stop",
        trigger="index_price",
        trigger_offset=-50,
    ),
    Sell(instrument_name="BTC-25MAR23-420-C", amount=1, price=55, advanced="implv"),
    Edit(order_id="ETH-584849853", amount=50, price=210.5, post_only=True),
    EditByLabel(label="market0000234", instrument_name="ETH-PERPETUAL", contracts=5, price=1),
    Cancel(order_id="ETH-584849853"),
    CancelAll(),
    CancelAll(detailed=True, freeze_quotes=False),
    CancelAllByCurrency(currency="BTC", kind="option", type="trigger_all", detailed=True),
    CancelAllByInstrument(instrument_name="BTC-PERPETUAL", type="limit", include_combos=True),
    CancelAllByKindOrType(currency=["BTC", "ETH"], kind="future", detailed=True),
    CancelAllByKindOrType(currency="any"),
    CancelByLabel(label="market0000234", currency="ETH"),
    GetOpenOrders(),
    GetOpenOrders(kind="option", type="stop_all"),
    GetOpenOrdersByCurrency(currency="BTC", kind="future", type="limit"),
    GetOpenOrdersByInstrument(instrument_name="BTC-PERPETUAL", type="all"),
    GetOpenOrdersByLabel(currency="ETH", label="market0000234"),
    GetOrderState(order_id="ETH-584849853"),
    GetPositions(),
    GetPositions(currency="any", kind="future", subaccount_id=7),
    GetPosition(instrument_name="BTC-PERPETUAL"),
    GetAccountSummary(currency="BTC", extended=True, subaccount_id=2),
    EnableCancelOnDisconnect(),
    EnableCancelOnDisconnect(scope="account"),
    DisableCancelOnDisconnect(scope="connection"),
    GetCancelOnDisconnect(),
    GetInstruments(),
    GetInstruments(currency="USDC", kind="spot", expired=False),
    GetCurrencies(),
    GetOrderBook(instrument_name="BTC-PERPETUAL", depth=20),
    GetOrderBookByInstrumentId(instrument_id=124972),
    GetTicker(instrument_name="BTC-PERPETUAL"),
    GetIndexPrice(index_name="btc_usd"),
    GetLastTradesByInstrument(
        instrument_name="BTC-PERPETUAL",
        start_seq=1,
        end_seq=99,
        start_timestamp=1,
        end_timestamp=2,
        count=1000,
        sorting="desc",
    ),
    GetTicker(instrument_name="BTC-PERPETUAL", access_token=Secret(TOKEN)),
]

ALL_METHODS = {
    # spec 1.5
    "public/set_heartbeat",
    "public/disable_heartbeat",
    "public/test",
    "public/hello",
    "public/get_time",
    "public/status",
    # spec 2
    "public/auth",
    "public/exchange_token",
    "public/fork_token",
    "private/logout",
    # spec 3
    "public/subscribe",
    "private/subscribe",
    "public/unsubscribe",
    "private/unsubscribe",
    "public/unsubscribe_all",
    "private/unsubscribe_all",
    # spec 5
    "private/buy",
    "private/sell",
    "private/edit",
    "private/edit_by_label",
    "private/cancel",
    "private/cancel_all",
    "private/cancel_all_by_currency",
    "private/cancel_all_by_instrument",
    "private/cancel_all_by_kind_or_type",
    "private/cancel_by_label",
    "private/get_open_orders",
    "private/get_open_orders_by_currency",
    "private/get_open_orders_by_instrument",
    "private/get_open_orders_by_label",
    "private/get_order_state",
    "private/get_positions",
    "private/get_position",
    "private/get_account_summary",
    "private/enable_cancel_on_disconnect",
    "private/disable_cancel_on_disconnect",
    "private/get_cancel_on_disconnect",
    # spec 6
    "public/get_instruments",
    "public/get_currencies",
    "public/get_order_book",
    "public/get_order_book_by_instrument_id",
    "public/ticker",
    "public/get_index_price",
    "public/get_last_trades_by_instrument",
}


def test_every_documented_method_has_a_typed_command_and_an_example() -> None:
    assert set(COMMANDS) == ALL_METHODS
    assert {type(c).method for c in EXAMPLES} == ALL_METHODS
    assert command_type_for("public/auth") is Auth
    assert command_type_for("public/nope") is None


@pytest.mark.parametrize("command", EXAMPLES, ids=lambda c: type(c).__name__)
def test_websocket_round_trip(command: DeribitCommand) -> None:
    data = encode_request(8066, command)
    request = decode_request(data)
    assert (request.id, request.method) == (8066, type(command).method)
    command_type = command_type_for(request.method)
    assert command_type is not None
    decoded = decode_params(command_type, request.params)
    assert decoded == command
    assert type(decoded) is type(command)
    again = decode_request(encode_request(8066, decoded))
    assert decode_params(command_type, again.params) == command


@pytest.mark.parametrize(
    "command", [c for c in EXAMPLES if not type(c).ws_only], ids=lambda c: type(c).__name__
)
def test_http_round_trip(command: DeribitCommand) -> None:
    target = http_get_target(command)
    parts = urlsplit(target)
    assert parts.path == http_path(command) == "/api/v2/" + type(command).method
    command_type = command_type_for(type(command).method)
    assert command_type is not None
    assert decode_query_params(command_type, parse_qsl(parts.query)) == command
    body = http_post_body("7", command)
    assert decode_request(body).id == "7"


@pytest.mark.parametrize(
    "command", [c for c in EXAMPLES if type(c).ws_only], ids=lambda c: type(c).__name__
)
def test_websocket_only_methods_refuse_http(command: DeribitCommand) -> None:
    for form in (http_get_target, http_path, lambda c: http_post_body(1, c)):
        with pytest.raises(LocalProtocolError, match="10030"):
            form(command)


def test_request_envelope_is_the_documented_shape() -> None:
    data = encode_request(8066, GetTicker(instrument_name="BTC-PERPETUAL"))
    assert data == (
        b'{"jsonrpc":"2.0","id":8066,"method":"public/ticker",'
        b'"params":{"instrument_name":"BTC-PERPETUAL"}}'
    )
    assert encode_request("auth_1", GetTime()).startswith(b'{"jsonrpc":"2.0","id":"auth_1",')
    assert b'"params":{}' in encode_request(1, GetTime())


def test_http_query_encoding() -> None:
    assert http_get_target(GetAccountSummary(currency="BTC")) == (
        "/api/v2/private/get_account_summary?currency=BTC"
    )
    assert http_get_target(GetInstruments(kind="future", expired=True)) == (
        "/api/v2/public/get_instruments?currency=any&kind=future&expired=true"
    )
    assert http_get_target(GetCurrencies()) == "/api/v2/public/get_currencies"
    assert http_get_target(CancelAllByKindOrType(currency=["BTC", "ETH"], detailed=False)) == (
        "/api/v2/private/cancel_all_by_kind_or_type?currency=%5B%22BTC%22%2C%22ETH%22%5D"
        "&detailed=false"
    )
    auth = http_get_target(AuthClientCredentials(client_id="k", client_secret=Secret("s e")))
    assert (
        auth == "/api/v2/public/auth?grant_type=client_credentials&client_id=k&client_secret=s%20e"
    )


def test_get_instruments_sends_currency_any_and_reads_its_absence_as_any() -> None:
    assert b'"params":{"currency":"any"}' in encode_request(1, GetInstruments())
    assert decode_params(GetInstruments, msgspec.Raw(b"{}")) == GetInstruments()


def test_secrets_are_wrapped_and_never_shown() -> None:
    commands: list[Any] = [
        AuthClientCredentials(client_id="id", client_secret=SECRET),  # type: ignore[arg-type]
        AuthRefreshToken(refresh_token=TOKEN),  # type: ignore[arg-type]
        ExchangeToken(refresh_token=TOKEN, subject_id=1),  # type: ignore[arg-type]
        ForkToken(refresh_token=TOKEN, session_name="x"),  # type: ignore[arg-type]
        GetTime(access_token=TOKEN),  # type: ignore[arg-type]
    ]
    for command in commands:
        for text in (repr(command), str(command), f"{command}"):
            assert SECRET not in text
            assert TOKEN not in text
        data = encode_request(1, command)
        assert SECRET.encode() in data or TOKEN.encode() in data
    assert isinstance(commands[0].client_secret, Secret)
    result = msgspec.json.decode(
        b'{"access_token":"AT-secret","refresh_token":"RT-secret","expires_in":1,'
        b'"scope":"connection","token_type":"bearer"}',
        type=AuthResult,
        dec_hook=lambda t, o: Secret(o),
    )
    assert "secret" not in repr(result)
    assert result.access_token.reveal() == "AT-secret"


def test_class_facts() -> None:
    assert Buy.rate_class is RateClass.MATCHING_ENGINE
    assert CancelAllByCurrency.rate_class is RateClass.MATCHING_ENGINE
    assert GetInstruments.rate_class is RateClass.GET_INSTRUMENTS
    assert PublicSubscribe.rate_class is PrivateSubscribe.rate_class is RateClass.SUBSCRIBE
    assert PublicUnsubscribe.rate_class is RateClass.NON_MATCHING
    assert GetTicker.rate_class is Test.rate_class is RateClass.NON_MATCHING
    assert PrivateSubscribe.requires_auth
    assert not PublicSubscribe.requires_auth
    assert all(cls.requires_auth == m.startswith("private/") for m, cls in COMMANDS.items())
    ws_only = {m for m, cls in COMMANDS.items() if cls.ws_only}
    assert ws_only == {
        "public/set_heartbeat",
        "public/disable_heartbeat",
        "public/hello",
        "private/logout",
        "public/subscribe",
        "private/subscribe",
        "public/unsubscribe",
        "private/unsubscribe",
        "public/unsubscribe_all",
        "private/unsubscribe_all",
    }
    assert not Logout.has_response
    assert all(cls.has_response for cls in COMMANDS.values() if cls is not Logout)
    assert Buy.result_type is OrderResult
    assert Cancel.result_type is Order
    assert CancelAll.result_type == int | list[CancelReport]


def test_method_info_covers_generic_requests() -> None:
    info = method_info(
        AuthClientSignature.signed(client_id="a", client_secret="s", timestamp=1, nonce="n")
    )
    assert (info.method, info.requires_auth) == ("public/auth", False)
    known = method_info(GenericRequest(method="private/buy", params={"amount": 1}))
    assert (known.rate_class, known.requires_auth, known.result_type) == (
        RateClass.MATCHING_ENGINE,
        True,
        Any,
    )
    other = method_info(GenericRequest(method="private/get_transaction_log"))
    assert (other.requires_auth, other.ws_only, other.rate_class) == (
        True,
        False,
        RateClass.NON_MATCHING,
    )
    assert not method_info(
        GenericRequest(method="public/get_book_summary_by_currency")
    ).requires_auth


def test_generic_request_encodes_its_params() -> None:
    command = GenericRequest(
        method="public/get_book_summary_by_currency", params={"currency": "BTC"}
    )
    assert encode_request(3, command) == (
        b'{"jsonrpc":"2.0","id":3,"method":"public/get_book_summary_by_currency",'
        b'"params":{"currency":"BTC"}}'
    )
    assert http_get_target(command) == "/api/v2/public/get_book_summary_by_currency?currency=BTC"
    secret = GenericRequest(method="private/x", params={"access_token": Secret("t k"), "n": [1]})
    assert http_get_target(secret) == "/api/v2/private/x?access_token=t%20k&n=%5B1%5D"
    with pytest.raises(LocalProtocolError, match="invalid method"):
        GenericRequest(method="get_time")
    with pytest.raises(LocalProtocolError, match="invalid params"):
        GenericRequest(method="public/x", params=[1])  # type: ignore[arg-type]


def test_encode_request_checks_its_inputs() -> None:
    with pytest.raises(LocalProtocolError, match="invalid request_id"):
        encode_request(True, GetTime())
    with pytest.raises(LocalProtocolError, match="invalid command"):
        encode_request(1, object())  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="MAX_MESSAGE_SIZE"):
        encode_request(1, PublicSubscribe(channels=["x" * MAX_MESSAGE_SIZE]))
    with pytest.raises(LocalProtocolError, match="invalid params for public/x"):
        encode_request(1, GenericRequest(method="public/x", params={"a": object()}))


# -- validation -------------------------------------------------------------------------

INVALID: list[tuple[Callable[[], object], str, str]] = [
    (lambda: SetHeartbeat(interval=9), "interval", "an int >= 10"),
    (lambda: SetHeartbeat(interval=10.5), "interval", "an int >= 10"),  # type: ignore[arg-type]
    (lambda: SetHeartbeat(interval=True), "interval", "an int >= 10"),
    (lambda: Hello(client_name="", client_version="1"), "client_name", "a non-empty str"),
    (lambda: Test(expected_result=1), "expected_result", "a str"),  # type: ignore[arg-type]
    (lambda: AuthClientCredentials(client_id="", client_secret="s"), "client_id", "non-empty"),  # type: ignore[arg-type]
    (lambda: AuthClientCredentials(client_id="i", client_secret=3), "client_secret", "Secret"),  # type: ignore[arg-type]
    (
        lambda: AuthClientSignature(client_id="i", timestamp=1, signature="XYZ"),
        "signature",
        "64 lower-case hex",
    ),
    (
        lambda: AuthClientSignature(client_id="i", timestamp=-1, signature="0" * 64),
        "timestamp",
        "an int >= 0",
    ),
    (Auth, "grant_type", "'client_credentials', 'client_signature', 'refresh_token'"),
    (lambda: ExchangeToken(refresh_token=Secret("t"), subject_id=-1), "subject_id", ">= 0"),
    (lambda: ForkToken(refresh_token=Secret("t"), session_name=""), "session_name", "non-empty"),
    (lambda: Logout(invalidate_token="yes"), "invalidate_token", "a bool"),  # type: ignore[arg-type]
    (lambda: PublicSubscribe(channels=[]), "channels", "a non-empty list"),
    (lambda: PublicSubscribe(channels="book.X.raw"), "channels", "a non-empty list"),
    (lambda: PublicSubscribe(channels=["ok", ""]), "channels", "non-empty channel names"),
    (lambda: PrivateSubscribe(channels=["a"], label="x" * 17), "label", "at most 16"),
    (lambda: Buy(instrument_name="X", type="market"), "amount", "amount or contracts"),
    (lambda: Buy(instrument_name="X", amount=0, type="market"), "amount", "a finite number > 0"),
    (lambda: Buy(instrument_name="X", amount=float("nan"), type="market"), "amount", "> 0"),
    (lambda: Buy(instrument_name="X", contracts=-1, type="market"), "contracts", "> 0"),
    (
        lambda: Buy(instrument_name="X", amount=1, type="iceberg"),
        "type",
        "accepted values: 'limit', 'market', 'stop_limit', 'stop_market', 'take_limit'",
    ),
    (lambda: Buy(instrument_name="X", amount=1), "price", "a price for order type 'limit'"),
    (lambda: Buy(instrument_name="X", amount=1, price=1, label="x" * 65), "label", "at most 64"),
    (
        lambda: Buy(instrument_name="X", amount=1, price=1, time_in_force="gtc"),
        "time_in_force",
        "accepted values: 'good_til_cancelled', 'good_til_day', 'fill_or_kill'",
    ),
    (
        lambda: Buy(
            instrument_name="X",
            amount=1,
            price=1,
            post_only=True,
            time_in_force="immediate_or_cancel",
        ),
        "post_only",
        "good_til_cancelled",
    ),
    (
        lambda: Buy(instrument_name="X", amount=1, price=1, reject_post_only=True),
        "reject_post_only",
        "post_only=True",
    ),
    (
        lambda: Buy(instrument_name="X", amount=1, type="stop_market", trigger_price=1),
        "trigger",
        "accepted values: 'index_price', 'mark_price', 'last_price'",
    ),
    (
        lambda: Buy(instrument_name="X", amount=1, type="stop_market", trigger="last"),
        "trigger",
        "accepted values: 'index_price'",
    ),
    (
        lambda: Buy(instrument_name="X", amount=1, type="take_market", trigger="mark_price"),
        "trigger_price",
        "a trigger_price for order type 'take_market'",
    ),
    (
        lambda: Buy(instrument_name="X", amount=1, type="trailing_stop", trigger="mark_price"),
        "trigger_offset",
        "trailing_stop",
    ),
    (
        lambda: Buy(instrument_name="X", amount=1, price=1, advanced="btc"),
        "advanced",
        "'usd', 'implv'",
    ),
    (lambda: Buy(instrument_name="X", amount=1, price=1, post_only=1), "post_only", "a bool"),  # type: ignore[arg-type]
    (
        lambda: Buy(instrument_name="X", amount=1, price=1, linked_order_type="oco"),
        "linked_order_type",
        "'one_triggers_other'",
    ),
    (
        lambda: Buy(instrument_name="X", amount=1, price=1, otoco_config=[1]),  # type: ignore[list-item]
        "otoco_config",
        "a list of order objects",
    ),
    (lambda: Buy(instrument_name="", amount=1, price=1), "instrument_name", "non-empty"),
    (lambda: Edit(order_id="1"), "amount", "amount or contracts"),
    (lambda: Edit(order_id="", amount=1), "order_id", "non-empty"),
    (
        lambda: EditByLabel(label="l", instrument_name="X", amount=1, reject_post_only=True),
        "reject_post_only",
        "post_only=True",
    ),
    (lambda: Cancel(order_id=""), "order_id", "non-empty"),
    (lambda: CancelAll(detailed="yes"), "detailed", "a bool"),  # type: ignore[arg-type]
    (lambda: CancelAllByCurrency(currency="btc"), "currency", "an upper-case currency code"),
    (lambda: CancelAllByCurrency(currency="any"), "currency", "an upper-case currency code"),
    (
        lambda: CancelAllByCurrency(currency="BTC", kind="perp"),
        "kind",
        "'future', 'option', 'spot', 'future_combo', 'option_combo', 'combo', 'any'",
    ),
    (
        lambda: CancelAllByCurrency(currency="BTC", type="stop_all"),
        "type",
        "'all', 'limit', 'trigger_all', 'stop', 'take', 'trailing_stop'",
    ),
    (lambda: CancelAllByKindOrType(currency=[]), "currency", "a non-empty list"),
    (lambda: CancelAllByKindOrType(currency=["BTC", "x"]), "currency", "upper-case"),
    (lambda: CancelByLabel(label=""), "label", "non-empty"),
    (lambda: GetOpenOrders(type="stop"), "type", "'stop_all'"),
    (lambda: GetOpenOrders(kind="any"), "kind", "'future', 'option', 'spot'"),
    (lambda: GetPositions(subaccount_id=-2), "subaccount_id", ">= 0"),
    (lambda: GetAccountSummary(currency="any"), "currency", "upper-case"),
    (lambda: EnableCancelOnDisconnect(scope="global"), "scope", "'connection', 'account'"),
    (lambda: GetInstruments(currency="BTC", kind="combo"), "kind", "'future', 'option'"),
    (lambda: GetInstruments(expired="no"), "expired", "a bool"),  # type: ignore[arg-type]
    (lambda: GetOrderBook(instrument_name="X", depth=50.0), "depth", "an int"),  # type: ignore[arg-type]
    (
        lambda: GetOrderBook(instrument_name="X", depth=15),
        "depth",
        "accepted values: 1, 5, 10, 20, 50, 100, 1000, 10000",
    ),
    (lambda: GetOrderBookByInstrumentId(instrument_id="1"), "instrument_id", "an int"),  # type: ignore[arg-type]
    (lambda: GetLastTradesByInstrument(instrument_name="X", count=1001), "count", "1 to 1000"),
    (lambda: GetLastTradesByInstrument(instrument_name="X", count=0), "count", ">= 1"),
    (
        lambda: GetLastTradesByInstrument(instrument_name="X", sorting="up"),
        "sorting",
        "'asc', 'desc', 'default'",
    ),
    (lambda: GetTicker(instrument_name="X", access_token=5), "access_token", "Secret"),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("make", "argument", "accepted"), INVALID)
def test_validation_names_the_argument_and_the_accepted_values(
    make: Callable[[], object], argument: str, accepted: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        make()
    assert caught.value.argument == argument
    message = str(caught.value)
    assert message.startswith(f"invalid {argument}")
    assert accepted in message
    assert isinstance(caught.value, LocalProtocolError)


def test_commands_are_immutable_and_hashable_where_their_fields_are() -> None:
    subscribe = PublicSubscribe(channels=["a", "b"])
    assert subscribe.channels == ("a", "b")
    assert hash(subscribe) == hash(PublicSubscribe(channels=("a", "b")))
    with pytest.raises(AttributeError):
        subscribe.channels = ()  # type: ignore[misc]
