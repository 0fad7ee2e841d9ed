"""The Deriv server machine (spec 1, 2, 3.1, 6, 7.1): what every reply carries, errors,
app_id, subscription ids, the idle close, rate limits, streams and frames."""

from __future__ import annotations

import random
import re
from typing import Any

import msgspec
import pytest

from tradewire.protocol import CloseRequest, RejectUpgrade, UpgradeRequest
from tradewire.protocol.deriv.server import (
    Account,
    RequestReceived,
    ServerConfig,
    ServerProtocol,
    ServerState,
    SessionClosed,
    StreamsStopped,
)

TOKEN = "good-token"


def server(app_id: str | None = "1089", **config: Any) -> ServerProtocol:
    config.setdefault("tokens", {TOKEN: Account(loginid="VRTC1")})
    state = ServerState(ServerConfig(**config), rng=random.Random(5))
    machine = ServerProtocol(state)
    query = (("app_id", app_id), ("l", "EN"), ("brand", "")) if app_id is not None else ()
    machine.decide_upgrade(
        UpgradeRequest(path="/websockets/v3", query=query, subprotocols=(), headers=()), 0.0
    )
    machine.connection_made(0.0)
    return machine


def call(machine: ServerProtocol, request: Any, now: float = 1.0) -> list[dict[str, Any]]:
    machine.receive_message(msgspec.json.encode(request), now)
    return [msgspec.json.decode(m) for m in machine.messages_to_send()]


def test_every_reply_has_msg_type_echo_req_and_req_id_and_the_token_is_not_shown() -> None:
    machine = server()
    (answer,) = call(machine, {"authorize": TOKEN, "req_id": 7, "passthrough": {"tag": 1}})
    assert answer["echo_req"] == {
        "authorize": "<not shown>",
        "req_id": 7,
        "passthrough": {"tag": 1},
    }
    assert answer["msg_type"] == "authorize"
    assert answer["req_id"] == 7
    assert answer["passthrough"] == {"tag": 1}
    assert answer["authorize"]["loginid"] == "VRTC1"
    (bad,) = call(machine, {"authorize": "nope", "req_id": 8})
    assert bad["error"]["code"] == "InvalidToken"
    assert bad["echo_req"]["authorize"] == "<not shown>"
    (pong,) = call(machine, {"ping": 1, "req_id": 9})
    assert pong == {
        "echo_req": {"ping": 1, "req_id": 9},
        "msg_type": "ping",
        "req_id": 9,
        "ping": "pong",
    }


def test_unrecognised_requests_and_bad_app_ids_are_msg_type_error() -> None:
    machine = server()
    (answer,) = call(machine, {"no_such_call": 1, "req_id": 3})
    assert answer["msg_type"] == "error"
    assert answer["error"]["code"] == "UnrecognisedRequest"
    assert answer["req_id"] == 3
    for app_id in (None, "abc", "0"):
        refused = server(app_id=app_id)
        (message,) = [msgspec.json.decode(m) for m in refused.messages_to_send()]
        assert message["msg_type"] == "error"
        assert message["error"]["code"] == "InvalidAppID"
        assert refused.close_request == CloseRequest(code=1008, reason="InvalidAppID")
    assert server(app_id=None, app_id_required=False).close_request is None


def test_blocked_app_ids_and_other_paths_are_refused_at_the_upgrade() -> None:
    state = ServerState(ServerConfig(blocked_app_ids=frozenset({666})), rng=random.Random(1))
    blocked = ServerProtocol(state).decide_upgrade(
        UpgradeRequest(
            path="/websockets/v3", query=(("app_id", "666"),), subprotocols=(), headers=()
        ),
        0,
    )
    assert isinstance(blocked, RejectUpgrade)
    assert blocked.status == 403
    other = ServerProtocol(state).decide_upgrade(
        UpgradeRequest(path="/other", query=(), subprotocols=(), headers=()), 0
    )
    assert isinstance(other, RejectUpgrade)
    assert other.status == 404
    prefixed = ServerProtocol(state).decide_upgrade(
        UpgradeRequest(
            path="/apiwebsockets/v3", query=(("app_id", "1"),), subprotocols=(), headers=()
        ),
        0,
    )
    assert not isinstance(prefixed, RejectUpgrade)  # the JS client's lost slash (spec 1.1)


def test_schema_violations_are_input_validation_failed_with_details() -> None:
    machine = server()
    (answer,) = call(
        machine,
        {
            "proposal": 1,
            "amount": "ten",
            "basis": "stake",
            "contract_type": "CALL",
            "currency": "USD",
            "symbol": "R_50",
            "duration": 5,
            "duration_unit": "t",
            "req_id": 4,
        },
    )
    assert answer["msg_type"] == "proposal"
    error = answer["error"]
    assert error["code"] == "InputValidationFailed"
    assert error["message"] == "Input validation failed: amount"
    assert error["details"] == {"amount": "Expected number - got string."}
    (answer,) = call(machine, {"ticks": "R_50", "subscribe": 1, "bogus": 2, "req_id": 5})
    assert answer["error"]["details"] == {"bogus": "Properties not allowed: bogus."}
    (answer,) = call(
        machine, {"ticks_history": "R_50", "req_id": 6, "end": "latest", "granularity": 61}
    )
    assert "granularity" in answer["error"]["details"]
    (answer,) = call(machine, {"time": 1, "req_id": "x"})
    assert "req_id" not in answer  # a req_id that fails validation is not echoed back
    assert answer["error"]["details"]["req_id"]


def test_auth_and_scopes() -> None:
    machine = server(
        tokens={TOKEN: Account(loginid="VRTC1"), "ro": Account(loginid="VRTC2", scopes=("read",))}
    )
    (answer,) = call(machine, {"portfolio": 1, "req_id": 1})
    assert answer["error"]["code"] == "AuthorizationRequired"
    call(machine, {"authorize": "ro", "req_id": 2})
    (answer,) = call(machine, {"buy": "1", "price": 10, "parameters": {}, "req_id": 3})
    assert answer["error"]["code"] == "PermissionDenied"
    assert call(machine, {"portfolio": 1, "req_id": 4}) == []  # handed to the venue
    (event,) = [e for e in machine.events() if isinstance(e, RequestReceived)]
    assert event.call == "portfolio"
    assert event.account is not None
    assert event.account.loginid == "VRTC2"
    (logout,) = call(machine, {"logout": 1, "req_id": 5})
    assert logout["logout"] == 1
    (answer,) = call(machine, {"balance": 1, "req_id": 6})
    assert answer["error"]["code"] == "AuthorizationRequired"


def test_streams_get_ids_of_32_chars_and_msg_types_as_the_spec_lists() -> None:
    machine = server()
    assert (
        call(
            machine,
            {
                "ticks_history": "R_50",
                "end": "latest",
                "count": 2,
                "style": "ticks",
                "subscribe": 1,
                "req_id": 1,
            },
        )
        == []
    )
    assert (
        call(
            machine,
            {
                "ticks_history": "R_50",
                "end": "latest",
                "style": "candles",
                "granularity": 60,
                "subscribe": 1,
                "req_id": 2,
            },
        )
        == []
    )
    first, second = [e for e in machine.events() if isinstance(e, RequestReceived)]
    ids = [machine.open_stream(first.request_id), machine.open_stream(second.request_id)]
    for sub_id in ids:
        assert re.fullmatch(r"[\w-]{32,128}", sub_id)
    machine.push(ids[0], {"prices": [1.0], "times": [1]}, 1.0, msg_type="history", pip_size=4)
    machine.push(ids[0], {"epoch": 2, "quote": 1.5, "symbol": "R_50"}, 1.0, msg_type="tick")
    machine.push(ids[1], [], 1.0, msg_type="candles", pip_size=4)
    machine.push(ids[1], {"epoch": 2, "open": "1.0"}, 1.0, msg_type="ohlc")
    out = [msgspec.json.decode(m) for m in machine.messages_to_send()]
    assert [m["msg_type"] for m in out] == ["history", "tick", "candles", "ohlc"]
    assert [m["req_id"] for m in out] == [1, 1, 2, 2]
    assert [m["subscription"]["id"] for m in out] == [ids[0], ids[0], ids[1], ids[1]]
    assert out[0]["pip_size"] == 4
    assert out[0]["echo_req"]["style"] == "ticks"
    (dup,) = call(machine, {"ticks": "R_50", "subscribe": 1, "req_id": 3})
    assert dup["error"]["code"] == "AlreadySubscribed"
    assert dup["msg_type"] == "ticks"  # an error carries the call's name (spec 1.4)


def test_forget_and_forget_all_stop_streams_and_tell_the_venue() -> None:
    machine = server()
    for n, symbol in enumerate(("R_50", "R_100"), 1):
        call(machine, {"ticks": symbol, "subscribe": 1, "req_id": n})
    received = [e for e in machine.events() if isinstance(e, RequestReceived)]
    a, b = (machine.open_stream(e.request_id) for e in received)
    (answer,) = call(machine, {"forget": a, "req_id": 3})
    assert answer["forget"] == 1
    (answer,) = call(machine, {"forget": a, "req_id": 4})
    assert answer["forget"] == 0  # not an error
    (answer,) = call(machine, {"forget_all": "ticks", "req_id": 5})
    assert answer["forget_all"] == [b]
    stopped = [e for e in machine.events() if isinstance(e, StreamsStopped)]
    assert [e.ids for e in stopped] == [(a,), (b,)]
    assert machine.streams == frozenset()


def test_every_stream_is_dropped_with_the_connection() -> None:
    machine = server()
    call(machine, {"ticks": "R_50", "subscribe": 1, "req_id": 1})
    (event,) = machine.events()
    sub_id = machine.open_stream(event.request_id)  # type: ignore[attr-defined]
    machine.connection_lost(2.0)
    assert not machine.push(sub_id, {}, 2.0)
    assert [type(e) for e in machine.events()] == [SessionClosed]


@pytest.mark.parametrize("pings", [True, False])
def test_idle_connections_close_after_two_minutes_unless_pings_count(pings: bool) -> None:
    machine = server(pings_are_activity=pings)
    call(machine, {"time": 1, "req_id": 1}, now=10.0)
    assert machine.next_deadline() == 130.0
    machine.ping_received(100.0)
    machine.handle_timer(130.0)
    if pings:
        assert machine.close_request is None
        assert machine.next_deadline() == 220.0
    else:
        assert machine.close_request == CloseRequest(code=1000, reason="inactivity timeout")
    assert server(idle_timeout=None).next_deadline() is None


def test_rate_limits_answer_rate_limit_and_keep_the_connection() -> None:
    machine = server(budgets={"general": (3, 100)}, ping_per_second=2)
    answers = [call(machine, {"time": 1, "req_id": n})[0] for n in range(5)]
    assert ["error" in a for a in answers] == [False, False, False, True, True]
    assert answers[3]["error"] == {
        "code": "RateLimit",
        "message": "You have reached the rate limit for time.",
    }
    pings = [call(machine, {"ping": 1, "req_id": n})[0] for n in range(3)]
    assert ["error" in a for a in pings] == [False, False, True]  # ping has its own budget
    assert machine.close_request is None


def test_frames_are_kept_under_the_limit() -> None:
    machine = server(max_frame_size=2000)
    call(machine, {"portfolio": 1, "req_id": 1})
    call(machine, {"authorize": TOKEN, "req_id": 2})
    call(machine, {"portfolio": 1, "req_id": 3})
    (event,) = [e for e in machine.events() if isinstance(e, RequestReceived)]
    machine.reply(event.request_id, {"contracts": [{"longcode": "x" * 100}] * 100}, 1.0)
    (answer,) = [msgspec.json.decode(m) for m in machine.messages_to_send()]
    assert answer["error"]["code"] == "OutputValidationFailed"
    assert answer["req_id"] == 3


def test_invalid_json_closes_and_a_json_non_object_is_unrecognised() -> None:
    machine = server()
    (answer,) = call(machine, [1, 2])
    assert answer["error"]["code"] == "UnrecognisedRequest"
    machine.receive_message(b"{not json", 1.0)
    assert machine.close_request == CloseRequest(code=1007, reason="invalid JSON")


def test_website_status_and_session_tokens() -> None:
    machine = server()
    (status,) = call(machine, {"website_status": 1, "subscribe": 1, "req_id": 1})
    assert status["website_status"]["site_status"] == "up"
    assert re.fullmatch(r"[\w-]{32,128}", status["subscription"]["id"])
    assert status["website_status"]["api_call_limits"]["max_requests_pricing"]["minutely"] == 360
    machine.state.one_time_token("one-time", Account(loginid="VRTC9"))
    (issued,) = call(machine, {"get_session_token": "one-time", "req_id": 2})
    assert issued["echo_req"]["get_session_token"] == "<not shown>"
    token = issued["get_session_token"]["token"]
    assert issued["get_session_token"]["expires"].endswith("Z")
    (again,) = call(machine, {"get_session_token": "one-time", "req_id": 3})
    assert again["error"]["code"] == "InvalidToken"  # single use
    (auth,) = call(machine, {"authorize": token, "req_id": 4})
    assert auth["authorize"]["loginid"] == "VRTC9"
