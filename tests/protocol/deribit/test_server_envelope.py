"""ServerProtocol: envelope errors, params errors, replies and their envelope extras, fuzz."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.protocol import LocalProtocolError
from tradewire.protocol.deribit import (
    MAX_MESSAGE_SIZE,
    GenericRequest,
    GetInstruments,
    GetTicker,
    GetTime,
    Hello,
    Test,
    error_for,
)
from tradewire.protocol.deribit.server import (
    Notify,
    Reply,
    ReplyError,
    RequestReceived,
)

from .support_server import START, VECTOR_A_TIME, Driver, make_state

US = round(VECTOR_A_TIME * 1_000_000)  # usIn of anything received at START


def extras(us_in: int = US, us_out: int = US, *, testnet: bool = False) -> dict[str, Any]:
    return {"testnet": testnet, "usIn": us_in, "usOut": us_out, "usDiff": us_out - us_in}


def error_message(code: int, message: str, data: Any = None, **ident: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return {"jsonrpc": "2.0", **ident, "error": error, **extras()}


@pytest.fixture
def driver() -> Driver:
    return Driver(make_state(credits={}))


# -- envelope errors (spec 1.2, 7.1) ------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"{not json", error_message(11050, "bad_request", "invalid json")),
        (b"\xff\xfe", error_message(11050, "bad_request", "invalid json")),
        (b"", error_message(11050, "bad_request", "invalid json")),
        (
            b'[{"jsonrpc":"2.0","id":1,"method":"public/test"}]',
            error_message(11050, "bad_request", "invalid request"),
        ),
        (b"42", error_message(11050, "bad_request", "invalid request")),
        (
            b'{"id":1.5,"method":"public/test"}',
            error_message(11050, "bad_request", "invalid id: expected an int or str"),
        ),
        (
            b'{"jsonrpc":"1.0","id":7,"method":"public/test"}',
            error_message(11050, "bad_request", 'invalid jsonrpc: expected "2.0"', id=7),
        ),
        (
            b'{"id":"s7","method":""}',
            error_message(
                11050, "bad_request", "invalid method: expected a non-empty str", id="s7"
            ),
        ),
        (
            b'{"id":7,"method":"public/test","params":[1]}',
            error_message(
                11050,
                "bad_request",
                "invalid params: expected an object (named params)",
                id=7,
            ),
        ),
        (
            b'{"jsonrpc":"2.0","id":8,"method":"public/nope","params":{}}',
            error_message(-32601, "Method not found", id=8),
        ),
        (
            b'{"jsonrpc":"2.0","id":9,"method":"public/ticker","params":{}}',
            error_message(
                -32000, "Missing params", {"reason": "missing", "param": "instrument_name"}, id=9
            ),
        ),
        (
            b'{"jsonrpc":"2.0","id":10,"method":"public/ticker","params":{"instrument_name":5}}',
            error_message(
                -32602,
                "Invalid params",
                {"reason": "wrong format", "param": "instrument_name"},
                id=10,
            ),
        ),
        (
            b'{"jsonrpc":"2.0","id":11,"method":"public/set_heartbeat","params":{"interval":5}}',
            error_message(
                -32602,
                "Invalid params",
                {"reason": "invalid interval: expected an int >= 10", "param": "interval"},
                id=11,
            ),
        ),
    ],
)
def test_envelope_and_params_errors_have_the_exact_shape(
    driver: Driver, data: bytes, expected: dict[str, Any]
) -> None:
    driver.raw(data)
    assert driver.sent() == [expected]
    assert driver.events() == []
    assert driver.machine.close_request is None  # the socket stays open
    assert driver.result(Test()) == {"version": "1.2.26"}


def test_bad_json_answer_has_no_id_on_the_wire(driver: Driver) -> None:
    driver.raw(b"{not json")
    (message,) = driver.machine.messages_to_send()
    assert message == (
        b'{"jsonrpc":"2.0","error":{"code":11050,"message":"bad_request","data":"invalid json"},'
        b'"testnet":false,"usIn":1576074319000000,"usOut":1576074319000000,"usDiff":0}'
    )


def test_frames_over_32_kb_get_minus_32600_and_the_socket_stays_open(driver: Driver) -> None:
    big = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "public/test",
            "params": {"x": "a" * MAX_MESSAGE_SIZE},
        }
    )
    driver.raw(big)
    assert driver.sent() == [error_message(-32600, "request entity too large")]
    assert driver.machine.close_request is None
    # Just under the limit is fine.
    padding = "a" * (MAX_MESSAGE_SIZE - 200)
    driver.raw(json.dumps({"id": 2, "method": "public/test", "params": {"pad": padding}}))
    assert driver.sent()[0]["result"] == {"version": "1.2.26"}


def test_a_request_without_id_is_answered_without_id(driver: Driver) -> None:
    driver.raw(b'{"jsonrpc":"2.0","method":"public/get_time"}')
    assert driver.sent() == [{"jsonrpc": "2.0", "result": 1576074319000, **extras()}]


def test_string_and_int_ids_are_echoed(driver: Driver) -> None:
    driver.call(Test(), request_id="auth_6c1f")
    driver.call(Test(), request_id=0)
    assert [m["id"] for m in driver.sent()] == ["auth_6c1f", 0]


def test_public_test_exception_and_hello_and_get_time(driver: Driver) -> None:
    failed = driver.answer(Test(expected_result="exception"))
    assert failed["error"] == {"code": 11094, "message": "internal_server_error"}
    hello = driver.result(Hello(client_name="tradewire", client_version="0.1"))
    assert hello == {"version": "1.2.26"}
    driver.now += 1.5
    assert driver.result(GetTime()) == 1576074320500


# -- replies ----------------------------------------------------------------------------


def test_a_venue_request_becomes_an_event_and_the_reply_carries_the_envelope_extras() -> None:
    driver = Driver(make_state(credits={}, testnet=True))
    driver.call(GetTicker(instrument_name="BTC-PERPETUAL"), request_id=8066)
    (event,) = driver.requests()
    assert event == RequestReceived(
        request_id=event.request_id,
        wire_id=8066,
        command=GetTicker(instrument_name="BTC-PERPETUAL"),
        connection_id=driver.machine.connection_id,
        transport="websocket",
        received_at=START,
    )
    assert event.method == "public/ticker"
    assert driver.sent() == []
    driver.machine.reply(event.request_id, {"instrument_name": "BTC-PERPETUAL"}, START + 0.002)
    assert driver.sent() == [
        {
            "jsonrpc": "2.0",
            "id": 8066,
            "result": {"instrument_name": "BTC-PERPETUAL"},
            **extras(US, US + 2000, testnet=True),
        }
    ]


def test_reply_error_takes_a_code_or_a_deribit_error() -> None:
    driver = Driver(make_state(credits={}))
    driver.call(GetTicker(instrument_name="BTC-NOPE"))
    driver.call(GetTicker(instrument_name="BTC-NOPE"))
    first, second = driver.requests()
    driver.machine.reply_error(first.request_id, 10020, START)
    driver.machine.send(
        ReplyError(request_id=second.request_id, code=11030, message="other_reject", data="x"),
        START,
    )
    assert [m["error"] for m in driver.sent()] == [
        {"code": 10020, "message": "invalid_or_unsupported_instrument"},
        {"code": 11030, "message": "other_reject", "data": "x"},
    ]
    driver.call(GetInstruments())
    (third,) = driver.requests()
    driver.machine.reply_error(third.request_id, error_for(10041, "settlement_in_progress"), START)
    assert driver.sent()[0]["error"] == {"code": 10041, "message": "settlement_in_progress"}


class Payload(msgspec.Struct):
    a: int


def test_results_may_be_structs(driver: Driver) -> None:
    driver.call(GetTicker(instrument_name="BTC-PERPETUAL"))
    (event,) = driver.requests()
    driver.machine.send(Reply(request_id=event.request_id, result=Payload(a=1)), START)
    assert driver.sent()[0]["result"] == {"a": 1}


def test_replying_twice_or_to_an_unknown_id_is_a_local_error(driver: Driver) -> None:
    driver.call(GetTicker(instrument_name="BTC-PERPETUAL"))
    (event,) = driver.requests()
    driver.machine.reply(event.request_id, {}, START)
    with pytest.raises(LocalProtocolError, match="already answered"):
        driver.machine.reply(event.request_id, {}, START)
    with pytest.raises(LocalProtocolError, match="unknown request_id 999"):
        driver.machine.reply_error(999, 10001, START)
    with pytest.raises(LocalProtocolError, match="expected a DeribitError or an int"):
        driver.machine.reply_error(event.request_id, "boom", START)  # type: ignore[arg-type]
    assert len(driver.sent()) == 1


def test_an_unencodable_result_is_a_local_error_and_the_request_stays_pending(
    driver: Driver,
) -> None:
    driver.call(GetTicker(instrument_name="BTC-PERPETUAL"))
    (event,) = driver.requests()
    with pytest.raises(LocalProtocolError, match="cannot encode"):
        driver.machine.reply(event.request_id, object(), START)
    assert driver.machine.pending_requests == 1
    driver.machine.reply(event.request_id, "fine", START)
    assert driver.sent()[0]["result"] == "fine"


def test_send_refuses_other_commands(driver: Driver) -> None:
    with pytest.raises(LocalProtocolError, match="invalid command: Test"):
        driver.machine.send(Test(), START)
    with pytest.raises(LocalProtocolError, match="invalid request_id"):
        Reply(request_id="7", result=1)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="invalid channel"):
        Notify(channel="", data=1)


def test_too_many_unanswered_requests_get_10066() -> None:
    driver = Driver(make_state(credits={}, max_pending_requests=2))
    for _ in range(3):
        driver.call(GetTicker(instrument_name="BTC-PERPETUAL"))
    assert len(driver.requests()) == 2
    assert driver.sent()[0]["error"] == {"code": 10066, "message": "too_many_concurrent_requests"}


def test_extra_methods_arrive_as_generic_requests() -> None:
    driver = Driver(make_state(credits={}, extra_methods=frozenset({"public/get_book_summary"})))
    driver.raw(b'{"id":1,"method":"public/get_book_summary","params":{"currency":"BTC"}}')
    (event,) = driver.requests()
    assert event.command == GenericRequest(
        method="public/get_book_summary", params={"currency": "BTC"}
    )
    driver.raw(b'{"id":2,"method":"private/get_subaccounts"}')
    assert driver.sent()[0]["error"]["code"] == -32601


def test_private_extra_methods_need_auth() -> None:
    driver = Driver(make_state(credits={}, extra_methods=frozenset({"private/get_subaccounts"})))
    driver.raw(b'{"id":1,"method":"private/get_subaccounts","params":{}}')
    assert driver.sent()[0]["error"]["code"] == 13009
    token = driver.login()["access_token"]
    driver.raw(
        json.dumps(
            {"id": 2, "method": "private/get_subaccounts", "params": {"access_token": token}}
        )
    )
    (event,) = driver.requests()
    assert event.client_id == "AMANDA"


# -- fuzz ---------------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
methods = st.sampled_from(
    [
        "public/test",
        "public/auth",
        "public/subscribe",
        "private/subscribe",
        "public/unsubscribe",
        "public/set_heartbeat",
        "private/buy",
        "private/logout",
        "private/enable_cancel_on_disconnect",
        "public/get_instruments",
        "public/ticker",
        "public/nope",
    ]
)
requests = st.fixed_dictionaries(
    {"jsonrpc": st.just("2.0"), "id": st.integers(0, 10**6), "method": methods},
    optional={
        "params": st.dictionaries(
            st.sampled_from(
                [
                    "channels",
                    "interval",
                    "grant_type",
                    "instrument_name",
                    "amount",
                    "scope",
                    "label",
                ]
            ),
            json_values,
            max_size=3,
        )
    },
)


def _check_one_answer_and_still_usable(driver: Driver, request_id: Any) -> None:
    out = driver.sent()
    events = driver.requests()
    if driver.machine.close_request is not None:  # logout (authenticated) ends the session
        return
    answered = [m for m in out if m.get("id") == request_id]
    assert len(answered) + len(events) == 1, (out, events)
    if events:
        driver.machine.reply_error(events[0].request_id, 10001, driver.now)
        driver.sent()
    driver.call(Test(), request_id="after")
    assert driver.sent()[-1] == {
        "jsonrpc": "2.0",
        "id": "after",
        "result": {"version": "1.2.26"},
        **extras(),
    }


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=64) | st.text(max_size=64).map(str.encode))
def test_fuzz_any_bytes_are_answered_never_raised(data: bytes) -> None:
    driver = Driver(make_state(credits={}))
    driver.raw(data)
    assert len(driver.sent()) + len(driver.requests()) == 1
    driver.call(Test(), request_id="after")
    assert driver.sent()[-1]["result"] == {"version": "1.2.26"}


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_fuzz_any_json_value_is_answered_never_raised(value: Any) -> None:
    driver = Driver(make_state(credits={}))
    driver.raw(json.dumps(value))
    assert len(driver.sent()) + len(driver.requests()) == 1
    driver.call(Test(), request_id="after")
    assert driver.sent()[-1]["result"] == {"version": "1.2.26"}


@settings(max_examples=500, deadline=None)
@given(request=requests, authenticated=st.booleans())
def test_fuzz_well_formed_requests_get_exactly_one_answer(
    request: dict[str, Any], authenticated: bool
) -> None:
    driver = Driver(make_state(credits={}))
    if authenticated:
        driver.login()
    driver.raw(json.dumps(request))
    _check_one_answer_and_still_usable(driver, request["id"])


def test_invalid_params_errors_name_the_param(driver: Driver) -> None:
    driver.raw(b'{"id":1,"method":"public/subscribe","params":{"channels":"book"}}')
    error = driver.sent()[0]["error"]
    assert error["code"] == -32602
    assert error["data"]["param"] == "channels"
