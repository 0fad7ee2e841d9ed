"""The Deriv client machine (spec 1-3, 6): requests, streams, reconnects, liveness, auth,
pacing, errors, and the token kept secret."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import msgspec
import pytest

from tradewire.protocol import (
    CloseRequest,
    ConnectionLost,
    LocalProtocolError,
    RedactingFilter,
    RequestFailed,
    RequestSucceeded,
    SubscriptionActive,
    SubscriptionEnded,
    SubscriptionRejected,
)
from tradewire.protocol import deriv as d
from tradewire.protocol.session import ErrorClass, PongTimeout

sys.path.append(str(Path(__file__).parent))
from support_deriv import (
    SUB_A,
    SUB_B,
    SUB_C,
    TOKEN,
    authorize_reply,
    client,
    error,
    of,
    reply,
    sent,
    tick,
)


def test_replies_are_matched_by_req_id_in_any_order() -> None:
    machine = client()
    machine.connection_made(0.0)
    first = machine.send(d.Time(), 0.0)
    second = machine.send(d.Ping(), 0.0)
    assert sent(machine) == [{"time": 1, "req_id": first}, {"ping": 1, "req_id": second}]
    machine.receive_message(reply(second, "ping", "pong"), 0.1)
    machine.receive_message(reply(first, "time", 1_700_000_000), 0.2)
    events = of(machine.events(), RequestSucceeded)
    assert [(e.request_id, e.result) for e in events] == [(second, "pong"), (first, 1_700_000_000)]


def test_typed_results_and_a_result_of_the_wrong_msg_type() -> None:
    machine = client()
    machine.connection_made(0.0)
    rid = machine.send(d.ActiveSymbols(), 0.0)
    machine.receive_message(
        reply(
            rid,
            "active_symbols",
            [{"symbol": "R_50", "display_name": "Volatility 50 Index", "pip": 0.0001}],
        ),
        0.1,
    )
    (done,) = of(machine.events(), RequestSucceeded)
    assert done.result == [
        d.ActiveSymbol(symbol="R_50", display_name="Volatility 50 Index", pip=0.0001)
    ]
    rid = machine.send(d.Time(), 0.0)
    machine.receive_message(reply(rid, "ping", "pong"), 0.1)
    (failed,) = of(machine.events(), RequestFailed)
    assert isinstance(failed.error, d.MalformedResult)
    rid = machine.send(d.Time(), 0.0)
    machine.receive_message(reply(rid, "time", "not a number"), 0.1)
    (failed,) = of(machine.events(), RequestFailed)
    assert isinstance(failed.error, d.MalformedResult)  # a known msg_type that does not fit


def test_a_stream_is_acked_by_its_first_reply_and_keyed_by_subscription_id() -> None:
    machine = client()
    machine.connection_made(0.0)
    rid = machine.send(d.Subscribe(streams=["ticks.R_50", d.Ticks(ticks="R_100")]), 0.0)
    a, b = sent(machine)
    assert a == {"ticks": "R_50", "subscribe": 1, "req_id": a["req_id"]}
    assert b["ticks"] == "R_100"
    machine.receive_message(tick(a["req_id"], SUB_A, "R_50", 1), 0.1)
    machine.receive_message(tick(b["req_id"], SUB_B, "R_100", 1), 0.1)
    machine.receive_message(tick(a["req_id"], SUB_A, "R_50", 2), 0.2)
    events = machine.events()
    assert [e.topic for e in of(events, SubscriptionActive)] == ["ticks.R_50", "ticks.R_100"]
    (done,) = of(events, RequestSucceeded)
    assert done.request_id == rid
    assert done.result == d.SubscribeResult(active=("ticks.R_50", "ticks.R_100"))
    ticks = of(events, d.TickMessage)
    assert [(t.topic, t.tick.epoch) for t in ticks] == [
        ("ticks.R_50", 1),
        ("ticks.R_100", 1),
        ("ticks.R_50", 2),
    ]
    assert machine.stream_id("ticks.R_50") == SUB_A


def test_after_a_reconnect_the_same_requests_go_out_and_new_ids_map_to_the_same_topics() -> None:
    machine = client()
    machine.connection_made(0.0)
    proposal = d.Proposal(
        contract_type="CALL",
        currency="USD",
        symbol="R_100",
        amount=10.5,
        basis="stake",
        duration=5,
        duration_unit="t",
    )
    machine.send(d.Subscribe(streams=["ticks.R_50", proposal]), 0.0)
    before = sent(machine)
    for request, sub in zip(before, (SUB_A, SUB_B), strict=True):
        if "ticks" in request:
            machine.receive_message(tick(request["req_id"], sub), 0.1)
        else:
            machine.receive_message(
                reply(
                    request["req_id"],
                    "proposal",
                    {
                        "id": sub,
                        "ask_price": 10.5,
                        "payout": 20.5,
                        "spot": 1,
                        "spot_time": 1,
                        "date_start": 1,
                        "longcode": "x",
                    },
                    sub=sub,
                ),
                0.1,
            )
    machine.events()
    machine.connection_lost(1.0)
    machine.connection_made(2.0)
    after = sent(machine)
    strip = lambda m: {k: v for k, v in m.items() if k != "req_id"}  # noqa: E731
    assert [strip(m) for m in after] == [strip(m) for m in before]  # exactly the same requests
    assert after[1]["amount"] == 10.5  # floats kept (python-deriv-api truncates, spec 7.3)
    machine.receive_message(tick(after[0]["req_id"], SUB_C, epoch=9), 2.1)
    (t,) = of(machine.events(), d.TickMessage)
    assert t.topic == "ticks.R_50"
    assert machine.stream_id("ticks.R_50") == SUB_C


def test_unsubscribe_is_forget_with_the_current_id() -> None:
    machine = client()
    machine.connection_made(0.0)
    machine.send(d.Subscribe(streams=["ticks.R_50"]), 0.0)
    (req,) = sent(machine)
    machine.receive_message(tick(req["req_id"], SUB_A), 0.1)
    machine.events()
    rid = machine.send(d.Unsubscribe(streams=["ticks.R_50"]), 1.0)
    (forget,) = sent(machine)
    assert forget == {"forget": SUB_A, "req_id": forget["req_id"]}
    machine.receive_message(reply(forget["req_id"], "forget", 1), 1.1)
    events = machine.events()
    assert [e.topic for e in of(events, SubscriptionEnded)] == ["ticks.R_50"]
    assert of(events, RequestSucceeded)[0].request_id == rid
    assert machine.ledger.desired() == []


def test_forget_all_ends_the_streams_it_stopped_and_leaves_the_others() -> None:
    machine = client()
    machine.connection_made(0.0)
    machine.send(d.Subscribe(streams=["ticks.R_50", "ticks.R_100", "candles.R_50.60"]), 0.0)
    a, b, c = sent(machine)
    machine.receive_message(tick(a["req_id"], SUB_A), 0.1)
    machine.receive_message(tick(b["req_id"], SUB_B, "R_100"), 0.1)
    machine.receive_message(reply(c["req_id"], "candles", [], sub=SUB_C, pip_size=4), 0.1)
    machine.events()
    rid = machine.send(d.ForgetAll(forget_all=["ticks"]), 1.0)
    (request,) = sent(machine)
    assert request == {"forget_all": ["ticks"], "req_id": rid}
    machine.receive_message(reply(rid, "forget_all", [SUB_A, SUB_B]), 1.1)
    events = machine.events()
    assert sorted(e.topic for e in of(events, SubscriptionEnded)) == ["ticks.R_100", "ticks.R_50"]
    assert of(events, RequestSucceeded)[0].result == [SUB_A, SUB_B]
    assert machine.ledger.desired() == ["candles.R_50.60"]
    machine.connection_lost(2.0)
    machine.connection_made(3.0)
    assert [m.get("ticks_history") for m in sent(machine)] == ["R_50"]  # not the forgotten ones


def test_a_reply_without_subscription_id_is_not_a_stream() -> None:
    machine = client(token=TOKEN)
    machine.connection_made(0.0)
    (auth,) = sent(machine)
    machine.receive_message(authorize_reply(auth["req_id"]), 0.1)
    machine.send(d.Subscribe(streams=["proposal_open_contract.123"]), 0.2)
    (req,) = sent(machine)
    machine.receive_message(
        reply(req["req_id"], "proposal_open_contract", {"contract_id": 123, "is_sold": 1}), 0.3
    )
    events = machine.events()
    (rejected,) = of(events, SubscriptionRejected)
    assert "not a stream" in rejected.reason
    assert machine.ledger.desired() == []


def test_pings_every_30s_and_a_missing_pong_is_a_zombie() -> None:
    machine = d.ClientProtocol(rate_limits=None)
    machine.connection_made(0.0)
    (ping,) = sent(machine)
    assert ping == {"ping": 1, "req_id": ping["req_id"]}
    machine.receive_message(reply(ping["req_id"], "ping", "pong"), 0.5)
    assert machine.next_deadline() == 30.0
    machine.handle_timer(30.0)
    (ping,) = sent(machine)
    assert machine.next_deadline() == 35.0
    machine.handle_timer(35.0)
    (dead,) = of(machine.events(), PongTimeout)
    assert dead.waited == 5.0
    assert machine.close_request == CloseRequest(abort=True)


def test_authorize_goes_first_and_private_streams_wait_for_it_after_a_reconnect() -> None:
    machine = client(token=TOKEN)
    machine.connection_made(0.0)
    (auth,) = sent(machine)
    assert auth == {"authorize": TOKEN, "req_id": auth["req_id"]}
    machine.send(d.Subscribe(streams=["balance", "ticks.R_50"]), 0.0)
    assert [next(iter(m)) for m in sent(machine)] == ["ticks"]  # balance waits
    machine.receive_message(authorize_reply(auth["req_id"]), 0.1)
    assert [next(iter(m)) for m in sent(machine)] == ["balance"]
    assert of(machine.events(), d.Authorized)[0].loginid == "VRTC1"
    machine.connection_lost(1.0)
    machine.connection_made(2.0)
    first = sent(machine)
    assert [next(iter(m)) for m in first] == ["authorize", "ticks"]
    machine.receive_message(authorize_reply(first[0]["req_id"]), 2.1)
    assert [next(iter(m)) for m in sent(machine)] == ["balance"]


def test_a_refused_token_fails_what_waited_and_rejects_private_streams() -> None:
    machine = client(token=TOKEN)
    machine.connection_made(0.0)
    (auth,) = sent(machine)
    rid = machine.send(d.Portfolio(), 0.0)
    machine.send(d.Subscribe(streams=["transaction"]), 0.0)
    machine.receive_message(
        error(auth["req_id"], "authorize", "InvalidToken", "The token is invalid."), 0.1
    )
    events = machine.events()
    (failed,) = [e for e in of(events, RequestFailed) if e.request_id == rid]
    assert isinstance(failed.error, d.InvalidToken)
    assert [e.topic for e in of(events, SubscriptionRejected)] == ["transaction"]


def test_a_dropped_authorization_makes_the_machine_authorize_again() -> None:
    machine = client(token=TOKEN)
    machine.connection_made(0.0)
    (auth,) = sent(machine)
    machine.receive_message(authorize_reply(auth["req_id"]), 0.1)
    machine.events()
    rid = machine.send(d.Statement(), 2.0)
    (_req,) = sent(machine)
    machine.receive_message(error(rid, "statement", "AuthorizationRequired", "Please log in."), 2.1)
    (again,) = sent(machine)
    assert again["authorize"] == TOKEN
    assert of(machine.events(), RequestFailed) == []  # refused, not executed: it waits
    machine.receive_message(authorize_reply(again["req_id"]), 2.2)
    (retried,) = sent(machine)  # the same call, the same req_id, after authorize
    assert (retried["req_id"], "statement" in retried) == (rid, True)


def test_calls_are_paced_within_the_published_budgets() -> None:
    machine = d.ClientProtocol(ping_interval=None, token=TOKEN)
    machine.connection_made(0.0)
    (auth,) = sent(machine)
    machine.receive_message(authorize_reply(auth["req_id"]), 0.0)
    for _ in range(60):
        machine.send(d.Portfolio(), 0.0)
    out = sent(machine)
    assert len(out) == 13  # 30 a minute: half, less 10%, at once ...
    sent_at = {0.0: len(out)}
    now = 0.0
    while now < 120:
        now += 1.0
        machine.handle_timer(now)
        sent_at[now] = len(sent(machine))
    in_first_minute = sum(n for t, n in sent_at.items() if t < 60)
    assert in_first_minute <= 30  # ... and never more than the budget in a minute
    assert sum(sent_at.values()) <= 30 * 2


def test_a_rate_limit_answer_is_retried_with_the_same_req_id() -> None:
    machine = d.ClientProtocol(ping_interval=None)
    machine.connection_made(0.0)
    rid = machine.send(d.Time(), 0.0)
    sent(machine)
    machine.receive_message(
        error(rid, "time", "RateLimit", "You have reached the rate limit for time."), 0.1
    )
    assert sent(machine) == []  # waits for the emptied buckets
    deadline = machine.next_deadline()
    assert deadline is not None
    machine.handle_timer(deadline)
    assert sent(machine) == [{"time": 1, "req_id": rid}]


@pytest.mark.parametrize("code", sorted(d.CODES))
def test_every_documented_code_is_a_typed_exception_and_classified(code: str) -> None:
    machine = client()
    machine.connection_made(0.0)
    rid = machine.send(d.Time(), 0.0, timeout=60.0)
    sent(machine)
    machine.receive_message(error(rid, "time", code, "text", {"field": "x"}), 0.1)
    events = machine.events()
    failures = of(events, RequestFailed)
    klass = d.classify(d.error_for(code))
    (failed,) = failures  # no pacing here: even RateLimit cannot wait for a refill
    assert type(failed.error) is d.CODES[code]
    assert isinstance(failed.error, d.DerivError)
    assert failed.error.code == code
    assert failed.error.details == {"field": "x"}
    expected = {
        "RateLimit": ErrorClass.RATE_LIMITED,
        "InvalidToken": ErrorClass.CREDENTIALS,
        "AuthorizationRequired": ErrorClass.CREDENTIALS,
        "Unauthorized": ErrorClass.CREDENTIALS,
        "WrongResponse": ErrorClass.TRANSIENT,
        "InternalError": ErrorClass.TRANSIENT,
    }.get(code, ErrorClass.FINAL)
    assert klass is expected


def test_an_unknown_code_is_a_plain_deriv_error() -> None:
    assert type(d.error_for("SomethingNew", "m")) is d.DerivError


def test_the_token_is_masked_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    machine = client(token=TOKEN)
    texts = [repr(machine), repr(machine.options), str(machine.options.token)]
    command = d.Authorize(authorize=machine.options.token)  # type: ignore[arg-type]
    texts += [repr(command), str(command)]
    machine.connection_made(0.0)
    (auth,) = sent(machine)
    assert auth["authorize"] == TOKEN  # revealed only on the wire
    machine.receive_message(authorize_reply(auth["req_id"]), 0.1)
    texts += [repr(e) for e in machine.events()]
    assert all(TOKEN not in text for text in texts), texts
    with pytest.raises(LocalProtocolError) as refused:
        d.ClientProtocol(token="bad token!")
    assert "bad token" not in str(refused.value)
    logger = logging.getLogger("test.deriv")
    logger.addFilter(RedactingFilter([TOKEN]))
    with caplog.at_level(logging.INFO, logger="test.deriv"):
        logger.info("sent %s", msgspec.json.encode(auth).decode())
    assert TOKEN not in caplog.text


def test_managed_calls_and_bad_arguments_are_refused_with_a_hint() -> None:
    machine = client(token=TOKEN)
    with pytest.raises(LocalProtocolError, match="token="):
        machine.send(d.Authorize(authorize=machine.options.token), 0.0)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="Subscribe"):
        machine.send(d.Ticks(ticks="R_50"), 0.0)
    with pytest.raises(LocalProtocolError, match="Unsubscribe"):
        machine.send(d.Forget(forget=SUB_A), 0.0)
    with pytest.raises(LocalProtocolError, match="contract_type"):
        d.Proposal(contract_type="NOPE", currency="USD", symbol="R_50")
    with pytest.raises(LocalProtocolError, match="granularity"):
        d.TicksHistory(ticks_history="R_50", style="candles", granularity=61)
    with pytest.raises(LocalProtocolError, match="need authorization"):
        client().send(d.Subscribe(streams=["balance"]), 0.0)
    with pytest.raises(LocalProtocolError, match="invalid stream"):
        client().send(d.Subscribe(streams=["nonsense"]), 0.0)


def test_new_api_renames_are_an_option_and_legacy_is_the_default() -> None:
    proposal = d.Proposal(
        contract_type="CALL", currency="USD", symbol="R_50", amount=1, duration=5, duration_unit="t"
    )
    legacy = msgspec.json.decode(d.encode_request(1, proposal))
    new = msgspec.json.decode(d.encode_request(1, proposal, new_api=True))
    assert legacy["symbol"] == "R_50"
    assert "underlying_symbol" not in legacy
    assert new["underlying_symbol"] == "R_50"
    assert "symbol" not in new
    machine = client(new_api=True)
    machine.connection_made(0.0)
    machine.send(d.Subscribe(streams=[proposal]), 0.0)
    assert sent(machine)[0]["underlying_symbol"] == "R_50"


def test_a_request_on_the_wire_fails_when_the_connection_drops() -> None:
    machine = client()
    machine.connection_made(0.0)
    rid = machine.send(d.Time(), 0.0)
    machine.connection_lost(0.5)
    (failed,) = of(machine.events(), RequestFailed)
    assert failed.request_id == rid
    assert isinstance(failed.error, ConnectionLost)


def test_the_handshake_carries_app_id_language_and_an_empty_brand() -> None:
    machine = d.ClientProtocol(app_id=1234)
    assert machine.handshake.path == "/websockets/v3"
    assert machine.handshake.query == (("app_id", "1234"), ("l", "EN"), ("brand", ""))
