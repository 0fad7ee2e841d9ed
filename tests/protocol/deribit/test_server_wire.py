"""Server-side codec: request envelopes and params, responses, notifications, heartbeats."""

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
    MAX_MESSAGE_SIZE,
    Auth,
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
    AuthResult,
    BadRequest,
    BookData,
    BookUpdate,
    Buy,
    CancelAllByKindOrType,
    ErrorResponse,
    GetInstruments,
    GetOrderBook,
    GetTicker,
    Heartbeat,
    InvalidParams,
    MethodNotFound,
    MissingParams,
    PublicSubscribe,
    RequestTooLarge,
    Response,
    SetHeartbeat,
    TestRequest,
    command_type_for,
    decode_inbound,
    decode_result,
)
from tradewire.protocol.deribit.server import (
    RejectedRequest,
    RpcRequest,
    decode_params,
    decode_query_params,
    decode_request,
    encode_error,
    encode_heartbeat,
    encode_notification,
    encode_result,
    method_not_found,
)

# -- decode_request ----------------------------------------------------------------------


def test_a_well_formed_request() -> None:
    request = decode_request(
        b'{"jsonrpc":"2.0","id":8066,"method":"public/ticker",'
        b'"params":{"instrument_name":"BTC-PERPETUAL"}}'
    )
    assert (request.id, request.method) == (8066, "public/ticker")
    assert msgspec.json.decode(request.params) == {"instrument_name": "BTC-PERPETUAL"}
    assert decode_params(GetTicker, request.params) == GetTicker(instrument_name="BTC-PERPETUAL")


@pytest.mark.parametrize(
    "data",
    [
        b'{"method":"public/get_time"}',  # no id (answered without one), no jsonrpc, no params
        b'{"jsonrpc":"2.0","method":"public/get_time","params":null,"id":null}',
        '{"method":"public/get_time","params":{}}',
    ],
)
def test_lenient_envelopes(data: bytes | str) -> None:
    request = decode_request(data)
    assert (request.id, request.method) == (None, "public/get_time")
    command_type = command_type_for(request.method)
    assert command_type is not None
    assert decode_params(command_type, request.params) is not None


@pytest.mark.parametrize(
    ("data", "code", "data_text", "request_id"),
    [
        (b"{not json", 11050, "invalid json", None),
        (b"\xff\xfe", 11050, "invalid json", None),
        (b"", 11050, "invalid json", None),
        ('{"a":"\udc80"}', 11050, "invalid json", None),
        (b'{"id":1,"params":' + b"[" * 5000 + b"]" * 5000 + b"}", 11050, "invalid json", None),
        (b"[" * 5000 + b"]" * 5000, 11050, "invalid request", None),
        (b'[{"jsonrpc":"2.0","id":1,"method":"public/test"}]', 11050, "invalid request", None),
        (b"42", 11050, "invalid request", None),
        (b'{"id":1.5,"method":"public/test"}', 11050, "invalid id", None),
        (b'{"id":{},"method":"public/test"}', 11050, "invalid id", None),
        (b'{"id":true,"method":"public/test"}', 11050, "invalid id", None),
        (b'{"jsonrpc":"1.0","id":7,"method":"public/test"}', 11050, "invalid jsonrpc", 7),
        (b'{"jsonrpc":2,"id":"a","method":"public/test"}', 11050, "invalid jsonrpc", "a"),
        (b'{"id":7}', 11050, "invalid method", 7),
        (b'{"id":7,"method":""}', 11050, "invalid method", 7),
        (b'{"id":7,"method":["x"]}', 11050, "invalid method", 7),
        (b'{"id":7,"method":"public/test","params":[1]}', 11050, "invalid params", 7),
        (b'{"id":7,"method":"public/test","params":"x"}', 11050, "invalid params", 7),
    ],
)
def test_envelope_problems_are_typed_rejections(
    data: bytes | str, code: int, data_text: str, request_id: int | str | None
) -> None:
    with pytest.raises(RejectedRequest) as caught:
        decode_request(data)
    rejection = caught.value
    assert isinstance(rejection, RemoteProtocolError)
    assert isinstance(rejection.error, BadRequest)
    assert (rejection.error.code, rejection.error.message) == (code, "bad_request")
    assert str(rejection.error.data).startswith(data_text)
    assert rejection.request_id == request_id


def test_oversize_requests_get_minus_32600() -> None:
    data = b'{"id":1,"method":"public/test","params":{"x":"' + b"a" * MAX_MESSAGE_SIZE + b'"}}'
    with pytest.raises(RejectedRequest) as caught:
        decode_request(data)
    assert isinstance(caught.value.error, RequestTooLarge)
    assert (caught.value.error.code, caught.value.error.message) == (
        -32600,
        "request entity too large",
    )
    assert caught.value.request_id is None
    with pytest.raises(RejectedRequest):
        decode_request(data.decode())
    with pytest.raises(RejectedRequest):  # 4-byte characters counted as UTF-8 bytes
        decode_request("\U0001f600" * (MAX_MESSAGE_SIZE // 4 + 1))
    assert decode_request(b'{"method":"public/test"}', max_size=24).method == "public/test"


def test_unknown_methods() -> None:
    request = decode_request(b'{"id":5,"method":"public/nope"}')
    assert command_type_for(request.method) is None
    rejection = method_not_found(request)
    assert isinstance(rejection.error, MethodNotFound)
    assert (rejection.error.code, rejection.error.message, rejection.request_id) == (
        -32601,
        "Method not found",
        5,
    )


# -- decode_params ------------------------------------------------------------------------


def _rejection(command_type: Any, params: bytes) -> RejectedRequest:
    with pytest.raises(RejectedRequest) as caught:
        decode_params(command_type, msgspec.Raw(params), request_id=9)
    assert caught.value.request_id == 9
    return caught.value


@pytest.mark.parametrize(
    ("command_type", "params", "cls", "param", "reason"),
    [
        (GetTicker, b"{}", MissingParams, "instrument_name", "missing"),
        (GetTicker, b'{"instrument_name":5}', InvalidParams, "instrument_name", "wrong format"),
        (Buy, b'{"instrument_name":"X","amount":"ten"}', InvalidParams, "amount", "wrong format"),
        (
            Buy,
            b'{"instrument_name":"X","amount":1,"type":"iceberg"}',
            InvalidParams,
            "type",
            "invalid type: 'iceberg'; accepted values: 'limit'",
        ),
        (Buy, b'{"instrument_name":"X","amount":1}', InvalidParams, "price", "invalid price"),
        (SetHeartbeat, b'{"interval":5}', InvalidParams, "interval", "invalid interval"),
        (GetOrderBook, b'{"instrument_name":"X","depth":7}', InvalidParams, "depth", "invalid"),
        (PublicSubscribe, b'{"channels":"book.X.100ms"}', InvalidParams, "channels", "wrong"),
        (PublicSubscribe, b'{"channels":[]}', InvalidParams, "channels", "invalid channels"),
        (Auth, b'{"client_id":"x"}', MissingParams, "grant_type", "missing"),
        (Auth, b'{"grant_type":"password"}', InvalidParams, "grant_type", "wrong format"),
        (
            Auth,
            b'{"grant_type":"client_credentials","client_id":"x"}',
            MissingParams,
            "client_secret",
            "missing",
        ),
        (
            Auth,
            b'{"grant_type":"client_credentials","client_id":"x","client_secret":1}',
            InvalidParams,
            "client_secret",
            "wrong format",
        ),
        (
            Auth,
            b'{"grant_type":"client_signature","client_id":"x","timestamp":1,"signature":"nothex"}',
            InvalidParams,
            "signature",
            "invalid signature: expected 64",
        ),
    ],
)
def test_bad_params_name_the_param(
    command_type: Any, params: bytes, cls: type, param: str, reason: str
) -> None:
    error = _rejection(command_type, params).error
    assert type(error) is cls
    assert error.data["param"] == param
    assert error.data["reason"].startswith(reason)
    expected = (-32000, "Missing params") if cls is MissingParams else (-32602, "Invalid params")
    assert (error.code, error.message) == expected


def test_params_that_are_not_an_object() -> None:
    error = _rejection(GetTicker, b"[1]").error
    assert isinstance(error, InvalidParams)
    assert error.data == {"reason": "Expected `object`, got `array`"}


def test_auth_params_pick_the_grant_type() -> None:
    assert decode_params(
        Auth, msgspec.Raw(b'{"grant_type":"refresh_token","refresh_token":"RT"}')
    ) == AuthRefreshToken(refresh_token=Secret("RT"))
    decoded = decode_params(
        Auth,
        msgspec.Raw(
            b'{"grant_type":"client_signature","client_id":"AMANDA","timestamp":1576074319000,'
            b'"nonce":"1iqt2wls","data":"","signature":'
            b'"56590594f97921b09b18f166befe0d1319b198bbcdad7ca73382de2f88fe9aa1"}'
        ),
    )
    assert isinstance(decoded, AuthClientSignature)
    credentials = decode_params(
        Auth,
        msgspec.Raw(b'{"grant_type":"client_credentials","client_id":"k","client_secret":"S3"}'),
    )
    assert isinstance(credentials, AuthClientCredentials)
    assert "S3" not in repr(credentials)
    assert credentials.client_secret.reveal() == "S3"


def test_access_token_param_is_kept_secret() -> None:
    decoded = decode_params(
        GetTicker, msgspec.Raw(b'{"instrument_name":"X","access_token":"AT-secret"}')
    )
    assert decoded.access_token == Secret("AT-secret")
    assert "AT-secret" not in repr(decoded)


def test_unknown_params_are_ignored() -> None:
    assert decode_params(GetTicker, msgspec.Raw(b'{"instrument_name":"X","extra":[1]}')) == (
        GetTicker(instrument_name="X")
    )


def test_query_params() -> None:
    assert decode_query_params(GetInstruments, []) == GetInstruments()
    assert decode_query_params(
        Buy, [("instrument_name", "X"), ("amount", "10"), ("post_only", "true"), ("price", "1.5")]
    ) == Buy(instrument_name="X", amount=10, post_only=True, price=1.5)
    assert decode_query_params(
        CancelAllByKindOrType, [("currency", "BTC"), ("currency", "ETH")]
    ) == CancelAllByKindOrType(currency=["BTC", "ETH"])
    assert decode_query_params(
        Auth, [("grant_type", "client_credentials"), ("client_id", "k"), ("client_secret", "s")]
    ) == AuthClientCredentials(client_id="k", client_secret=Secret("s"))
    with pytest.raises(RejectedRequest) as caught:
        decode_query_params(Buy, [("instrument_name", "X"), ("amount", "ten")], request_id="r")
    assert isinstance(caught.value.error, InvalidParams)
    assert caught.value.error.data["param"] == "amount"
    assert caught.value.request_id == "r"
    with pytest.raises(RejectedRequest):
        decode_query_params(CancelAllByKindOrType, [("currency", "[1]")])


# -- encoding responses and notifications ------------------------------------------------


def test_result_envelope_has_the_spec_extras_in_order() -> None:
    data = encode_result(8066, {"a": 1}, us_in=1535043730126248, us_out=1535043730126250)
    assert data == (
        b'{"jsonrpc":"2.0","id":8066,"result":{"a":1},"testnet":false,'
        b'"usIn":1535043730126248,"usOut":1535043730126250,"usDiff":2}'
    )
    assert encode_result(None, None, us_in=1, us_out=1, testnet=True) == (
        b'{"jsonrpc":"2.0","result":null,"testnet":true,"usIn":1,"usOut":1,"usDiff":0}'
    )


def test_error_envelopes() -> None:
    assert encode_error(None, 11050, "bad_request", "invalid json", us_in=1, us_out=3) == (
        b'{"jsonrpc":"2.0","error":{"code":11050,"message":"bad_request","data":"invalid json"},'
        b'"testnet":false,"usIn":1,"usOut":3,"usDiff":2}'
    )
    assert encode_error("x", 13009, "unauthorized", us_in=1, us_out=1) == (
        b'{"jsonrpc":"2.0","id":"x","error":{"code":13009,"message":"unauthorized"},'
        b'"testnet":false,"usIn":1,"usOut":1,"usDiff":0}'
    )


def test_rejections_encode_and_decode_back() -> None:
    with pytest.raises(RejectedRequest) as caught:
        decode_request(b'{"id":3,"method":"public/test","params":[]}')
    rejection = caught.value
    data = encode_error(
        rejection.request_id,
        rejection.error.code,
        rejection.error.message,
        rejection.error.data,
        us_in=10,
        us_out=12,
    )
    decoded = decode_inbound(data)
    assert isinstance(decoded, ErrorResponse)
    assert decoded.id == 3
    assert isinstance(decoded.exception(), BadRequest)


def test_auth_result_is_revealed_only_on_the_wire() -> None:
    result = AuthResult(
        access_token=Secret("AT-secret"),
        refresh_token=Secret("RT-secret"),
        expires_in=900,
        scope="connection",
        enabled_features=[],
    )
    data = encode_result(1, result, us_in=1, us_out=2)
    assert b'"access_token":"AT-secret"' in data
    assert b'"enabled_features":[]' in data
    assert b"sid" not in data  # absent optionals stay off the wire
    decoded = decode_inbound(data)
    assert isinstance(decoded, Response)
    auth = AuthClientCredentials(client_id="k", client_secret=Secret("s"))
    assert decode_result(auth, decoded.result) == result


def test_notifications_and_heartbeats_have_no_envelope_extras() -> None:
    snapshot = BookData(
        type="snapshot",
        instrument_name="BTC-PERPETUAL",
        timestamp=1,
        change_id=5,
        bids=[("new", 100.0, 1.0)],
        asks=[],
    )
    data = encode_notification("book.BTC-PERPETUAL.raw", snapshot)
    assert data.startswith(
        b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":"book.BTC-PERPETUAL.raw",'
    )
    assert b"prev_change_id" not in data  # absent on a snapshot (spec 3.3)
    assert b"usIn" not in data
    event = decode_inbound(data)
    assert event == BookUpdate(channel="book.BTC-PERPETUAL.raw", data=snapshot)
    labelled = encode_notification("user.lock", {"locked": True}, label="mine")
    assert json.loads(labelled)["params"] == {
        "channel": "user.lock",
        "data": {"locked": True},
        "label": "mine",
    }
    assert encode_heartbeat() == (
        b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}'
    )
    assert decode_inbound(encode_heartbeat()) == Heartbeat()
    assert decode_inbound(encode_heartbeat("test_request")) == TestRequest()
    with pytest.raises(LocalProtocolError, match="invalid kind"):
        encode_heartbeat("ping")  # type: ignore[arg-type]


def test_unencodable_values_are_local_errors() -> None:
    with pytest.raises(LocalProtocolError, match="cannot encode"):
        encode_result(1, object(), us_in=1, us_out=1)


def test_rpc_request_is_a_plain_struct() -> None:
    request = RpcRequest(id=1, method="public/test", params=msgspec.Raw(b"{}"))
    assert request.method == "public/test"


# -- fuzz ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["jsonrpc", "id", "method", "params"]) | st.text(max_size=4),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def _serve(data: bytes | str) -> None:
    """What a server does with one message: raises nothing but RejectedRequest."""
    try:
        request = decode_request(data)
        command_type = command_type_for(request.method)
        if command_type is None:
            raise method_not_found(request)
        decode_params(command_type, request.params, request_id=request.id)
    except RejectedRequest as rejection:
        code = rejection.error.code
    else:
        return
    assert code in (-32600, -32601, -32602, -32000, 11050)


@given(st.binary(max_size=200))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    _serve(data)


@given(json_values)
def test_fuzz_arbitrary_json(value: Any) -> None:
    _serve(json.dumps(value).encode())


@given(
    st.sampled_from(
        sorted(m for m in __import__("tradewire.protocol.deribit").protocol.deribit.COMMANDS)
    ),
    json_values,
)
def test_fuzz_params_of_every_method(method: str, params: Any) -> None:
    _serve(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
    if isinstance(params, dict):
        command_type = command_type_for(method)
        assert command_type is not None
        with contextlib.suppress(RejectedRequest):
            decode_query_params(command_type, [(str(k), json.dumps(v)) for k, v in params.items()])
