"""Signing (docs/venues/currencycom.md section 5): the notes' vectors, JavaScript number
formatting, and the REST form with its own vector."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from tradewire.protocol import LocalProtocolError
from tradewire.protocol.currencycom import (
    ClientProtocol,
    CreateOrder,
    Credentials,
    GetLeverageSettings,
    js_number,
    js_string,
    rest_query,
    rest_signature,
    sign_payload,
    signature,
    signing_text,
)

SECRET = "testSecret"

VECTORS = [
    (
        {"symbol": "ETH/USD", "timestamp": 1600000000000, "apiKey": "testKey"},
        "apiKey=testKey&symbol=ETH/USD&timestamp=1600000000000",
        "99041c862f762b59a2d4c92d77e42ad38a4d63efe01dd9c13142529de2d6eb62",
    ),
    (
        {"timestamp": 1600000000000, "apiKey": "testKey"},
        "apiKey=testKey&timestamp=1600000000000",
        "a17887bfb273b0d096fbb4e6812f7084f1b99803427819a99b91877368da7f5f",
    ),
    (
        {
            "symbol": "BTC/USD_LEVERAGE",
            "side": "BUY",
            "type": "MARKET",
            "timeInForce": "GTC",
            "quantity": 0.01,
            "leverage": 2,
            "accountId": 1992598545323204,
            "takeProfit": "7400.1",
            "stopLoss": "7000.6",
            "timestamp": 1600000000000,
            "apiKey": "testKey",
        },
        "accountId=1992598545323204&apiKey=testKey&leverage=2&quantity=0.01&side=BUY"
        "&stopLoss=7000.6&symbol=BTC/USD_LEVERAGE&takeProfit=7400.1&timeInForce=GTC"
        "&timestamp=1600000000000&type=MARKET",
        "e14ae6c9b92dd7d7a0552b583e43dc3187068c4c26e15f92cef123a440d87067",
    ),
    (
        {
            "symbol": "Oil - Brent.",
            "timestamp": 1600000000000,
            "apiKey": "testKey",
            "showZeroBalance": True,
        },
        "apiKey=testKey&showZeroBalance=true&symbol=Oil - Brent.&timestamp=1600000000000",
        "9a72a9b51a4c9e24afc7a44354976866b98a8ad0af2c46612f8b1b7eeb2136b9",
    ),
]


@pytest.mark.parametrize(("payload", "text", "expected"), VECTORS)
def test_the_notes_vectors(payload: dict[str, object], text: str, expected: str) -> None:
    assert signing_text(payload) == text
    assert signature(SECRET, text) == expected
    rest = {k: v for k, v in payload.items() if k not in ("apiKey", "timestamp")}
    signed = sign_payload(rest, api_key="testKey", secret=SECRET, timestamp=1600000000000)
    assert signed["signature"] == expected


def test_the_rest_vector_signs_the_query_as_sent() -> None:
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    query = rest_query(
        [
            ("symbol", "LTC/BTC"),
            ("side", "BUY"),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", 1),
            ("price", 0.1),
            ("recvWindow", 5000),
            ("timestamp", 1499827319559),
        ]
    )
    assert query == (
        "symbol=LTC%2FBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert rest_signature(secret, query) == (
        "ebec6528b2beb508b2417fa33453a4ad28c1aae8097bb243caa60d0524036f50"
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (140.0, "140"),
        (0.01, "0.01"),
        (1e21, "1e+21"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (123456789012345680000.0, "123456789012345680000"),
        (1.5e-10, "1.5e-10"),
        (-0.5, "-0.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e16, "10000000000000000"),
        (2**60, "1152921504606846976"),
        (True, "true"),
        (["BTC/USD", 1.0, False], "BTC/USD,1,false"),
    ],
)
def test_values_are_written_as_javascript_writes_them(value: object, text: str) -> None:
    assert js_string(value) == text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_js_numbers_read_back_as_the_same_float(value: float) -> None:
    text = js_number(value)
    event("exponent form" if "e" in text else "plain form")
    assert float(text) == value
    assert not text.endswith(".0")
    if value == int(value) and abs(value) < 1e21:
        assert "." not in text
        assert "e" not in text


def test_objects_cannot_be_signed() -> None:
    with pytest.raises(LocalProtocolError, match="object Object"):
        signing_text({"nested": {"a": 1}})


def test_the_client_signs_when_the_request_is_released() -> None:
    client = ClientProtocol(
        credentials=Credentials(api_key="testKey", secret=SECRET),
        epoch_offset=1_600_000_000.0 - 100.0,
        requests_per_second=1.0,
    )
    client.connection_made(100.0)
    client.messages_to_send()  # the ping
    first = client.send(GetLeverageSettings(symbol="ETH/USD"), 100.0)
    second = client.send(GetLeverageSettings(symbol="ETH/USD"), 100.0)
    (sent,) = [msgspec.json.decode(m) for m in client.messages_to_send()]
    assert sent == {
        "destination": "/api/v1/leverageSettings",
        "correlationId": first,
        "payload": {
            "symbol": "ETH/USD",
            "apiKey": "testKey",
            "timestamp": 1600000000000,
            "signature": "99041c862f762b59a2d4c92d77e42ad38a4d63efe01dd9c13142529de2d6eb62",
        },
    }
    client.handle_timer(101.5)  # paced: released a second later, signed then
    (later,) = [msgspec.json.decode(m) for m in client.messages_to_send()]
    assert later["correlationId"] == second
    assert later["payload"]["timestamp"] == 1600000001500  # the time of release
    payload = dict(later["payload"])
    assert payload.pop("signature") == signature(SECRET, signing_text(payload))


def test_a_leverage_order_signs_its_numbers_javascript_style() -> None:
    client = ClientProtocol(
        credentials=Credentials(api_key="testKey", secret=SECRET),
        epoch_offset=1_600_000_000.0,
        recv_window=5000,
    )
    client.connection_made(0.0)
    client.messages_to_send()
    order = CreateOrder(
        symbol="BTC/USD_LEVERAGE",
        side="BUY",
        type="MARKET",
        quantity=0.01,
        time_in_force="GTC",
        leverage=2,
        take_profit=7400.0,
    )
    client.send(order, 0.0)
    (sent,) = [msgspec.json.decode(m) for m in client.messages_to_send()]
    payload = sent["payload"]
    assert payload["recvWindow"] == 5000
    text = signing_text(payload)
    assert "takeProfit=7400&" in text
    assert "quantity=0.01&" in text
    assert payload["signature"] == signature(SECRET, text)
    assert SECRET not in repr(client.options)
