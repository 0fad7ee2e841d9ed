"""ServerProtocol: upgrade, phases, heartbeats, cancel-on-disconnect, credits, idle timeout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tradewire.protocol import (
    AcceptUpgrade,
    CloseRequest,
    LocalProtocolError,
    RejectUpgrade,
    ServerMachine,
)
from tradewire.protocol.deribit import (
    Buy,
    DisableCancelOnDisconnect,
    DisableHeartbeat,
    EnableCancelOnDisconnect,
    GetCancelOnDisconnect,
    GetInstruments,
    GetTicker,
    GetTime,
    Logout,
    PublicSubscribe,
    RateClass,
    SetHeartbeat,
    Test,
    encode_request,
)
from tradewire.protocol.deribit.server import (
    CancelOnDisconnect,
    CreditRule,
    Disconnect,
    ServerProtocol,
    ServerState,
    SessionClosed,
)

from .support_server import PEER, START, Driver, make_state, upgrade

HEARTBEAT = {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "heartbeat"}}
TEST_REQUEST = {"jsonrpc": "2.0", "method": "heartbeat", "params": {"type": "test_request"}}


@pytest.fixture
def state() -> ServerState:
    return make_state(credits={})


# -- upgrade and connection counting ------------------------------------------------------


def test_the_machine_has_the_server_shape(state: ServerState) -> None:
    assert isinstance(ServerProtocol(state), ServerMachine)


@pytest.mark.parametrize("path", ["/ws/api/v2", "/ws/api/v2/"])
def test_upgrade_paths_are_accepted_without_subprotocol(state: ServerState, path: str) -> None:
    assert ServerProtocol(state).decide_upgrade(upgrade(path), START) == AcceptUpgrade()


@pytest.mark.parametrize("path", ["/", "/ws", "/ws/api/v1", "/api/v2", "/ws/api/v2/x"])
def test_other_paths_get_404(state: ServerState, path: str) -> None:
    decision = ServerProtocol(state).decide_upgrade(upgrade(path), START)
    assert isinstance(decision, RejectUpgrade)
    assert decision.status == 404
    assert state.connection_count("203.0.113.7") == 0


def test_the_33rd_connection_from_one_address_gets_429(state: ServerState) -> None:
    machines = [ServerProtocol(state) for _ in range(33)]
    decisions = [
        m.decide_upgrade(upgrade(peer=f"203.0.113.7:{5000 + i}"), START)
        for i, m in enumerate(machines)
    ]
    assert all(isinstance(d, AcceptUpgrade) for d in decisions[:32])
    refused = decisions[32]
    assert isinstance(refused, RejectUpgrade)
    assert refused.status == 429
    assert state.connection_count("203.0.113.7") == 32
    # Another address is not affected; a closed connection frees a slot.
    assert isinstance(
        ServerProtocol(state).decide_upgrade(upgrade(peer="198.51.100.2:1"), START), AcceptUpgrade
    )
    machines[0].connection_made(START)
    machines[0].connection_lost(START)
    assert state.connection_count("203.0.113.7") == 31
    assert isinstance(ServerProtocol(state).decide_upgrade(upgrade(), START), AcceptUpgrade)


def test_the_limit_is_configurable_and_unknown_peers_are_not_counted() -> None:
    state = make_state(credits={}, max_connections_per_ip=1)
    assert isinstance(ServerProtocol(state).decide_upgrade(upgrade(), START), AcceptUpgrade)
    assert isinstance(ServerProtocol(state).decide_upgrade(upgrade(), START), RejectUpgrade)
    assert isinstance(
        ServerProtocol(state).decide_upgrade(upgrade(peer=None), START), AcceptUpgrade
    )
    assert isinstance(
        ServerProtocol(state).decide_upgrade(upgrade(peer="[2001:db8::1]:443"), START),
        AcceptUpgrade,
    )
    assert state.connection_count("2001:db8::1") == 1


# -- phases ---------------------------------------------------------------------------------


def _machine_in(state: ServerState, phase: str) -> ServerProtocol:
    machine = ServerProtocol(state, peer=PEER)
    if phase == "new":
        return machine
    machine.connection_made(START)
    if phase == "closing":
        machine.send(Disconnect(code=1001, reason="maintenance"), START)
    elif phase == "closed":
        machine.connection_lost(START)
    machine.events()
    return machine


CALLS: dict[str, Callable[[ServerProtocol], Any]] = {
    "connection_made": lambda m: m.connection_made(START),
    "receive_message": lambda m: m.receive_message(encode_request(1, Test()), START),
    "handle_timer": lambda m: m.handle_timer(START + 100),
    "reply": lambda m: m.reply(1, None, START),
    "notify": lambda m: m.notify("book.BTC-PERPETUAL.100ms", {}, START),
    "connection_lost": lambda m: m.connection_lost(START),
}

# (phase, call) -> "error" (LocalProtocolError), or what the call leaves behind.
TABLE = {
    ("new", "connection_made"): "open",
    ("new", "receive_message"): "error",
    ("new", "handle_timer"): "new",
    ("new", "reply"): "error",
    ("new", "notify"): "new",
    ("new", "connection_lost"): "closed",
    ("open", "connection_made"): "error",
    ("open", "receive_message"): "open+answer",
    ("open", "handle_timer"): "open",
    ("open", "reply"): "error",
    ("open", "notify"): "open",
    ("open", "connection_lost"): "closed",
    ("closing", "connection_made"): "error",
    ("closing", "receive_message"): "closing",
    ("closing", "handle_timer"): "closing",
    ("closing", "reply"): "error",
    ("closing", "notify"): "closing",
    ("closing", "connection_lost"): "closed",
    ("closed", "connection_made"): "error",
    ("closed", "receive_message"): "error",
    ("closed", "handle_timer"): "closed",
    ("closed", "reply"): "error",
    ("closed", "notify"): "closed",
    ("closed", "connection_lost"): "closed",
}


@pytest.mark.parametrize(("phase", "call"), sorted(TABLE))
def test_every_phase_and_driving_call(state: ServerState, phase: str, call: str) -> None:
    machine = _machine_in(state, phase)
    expected = TABLE[(phase, call)]
    if expected == "error":
        with pytest.raises(LocalProtocolError):
            CALLS[call](machine)
        return
    CALLS[call](machine)
    answered = bool(machine.messages_to_send())
    after = expected.removesuffix("+answer")
    assert machine.phase == after
    assert answered == expected.endswith("+answer")
    assert (machine.next_deadline() is None) or after == "open"


def test_connection_lost_reports_once(state: ServerState) -> None:
    driver = Driver(state)
    driver.machine.connection_lost(START)
    driver.machine.connection_lost(START + 1)
    assert driver.events() == [
        SessionClosed(connection_id=driver.machine.connection_id, reason="connection lost")
    ]


@pytest.mark.parametrize("phase", ["closing", "closed"])
def test_late_answers_after_the_close_are_dropped(state: ServerState, phase: str) -> None:
    driver = Driver(state)
    driver.call(GetTicker(instrument_name="BTC-PERPETUAL"))
    driver.call(PublicSubscribe(channels=["book.BTC-PERPETUAL.100ms"]))
    ticker, book = driver.requests()
    if phase == "closing":
        driver.machine.disconnect(START, code=1001)
    else:
        driver.machine.connection_lost(START)
    assert driver.machine.phase == phase
    driver.machine.reply(ticker.request_id, {}, START)
    assert (
        driver.machine.accept_subscription(book.request_id, ["book.BTC-PERPETUAL.100ms"], START)
        == []
    )
    assert driver.sent() == []
    assert driver.machine.channels == frozenset()
    with pytest.raises(LocalProtocolError):
        driver.machine.reply(ticker.request_id, {}, START)


# -- heartbeats (spec 1.5) ------------------------------------------------------------------


def test_set_heartbeat_below_10_is_invalid_params(state: ServerState) -> None:
    driver = Driver(state)
    driver.raw(b'{"id":5,"method":"public/set_heartbeat","params":{"interval":9}}')
    assert driver.sent()[0]["error"]["code"] == -32602
    assert driver.machine.next_deadline() is None


def test_test_requests_come_every_interval_and_answers_keep_the_socket(state: ServerState) -> None:
    driver = Driver(state)
    assert driver.result(SetHeartbeat(interval=10)) == "ok"
    assert driver.machine.next_deadline() == START + 10
    driver.advance(10)
    assert driver.sent() == [HEARTBEAT, TEST_REQUEST]  # an idle socket gets both
    for _ in range(5):
        driver.advance(4)
        assert driver.result(Test()) == {"version": "1.2.26"}
        driver.advance(6)
        assert driver.sent() == [HEARTBEAT, TEST_REQUEST]
    assert driver.machine.close_request is None


def test_a_busy_socket_gets_only_test_requests(state: ServerState) -> None:
    driver = Driver(state)
    driver.result(SetHeartbeat(interval=10))
    driver.advance(5)
    driver.call(GetTicker(instrument_name="BTC-PERPETUAL"))
    driver.requests()
    driver.advance(5)
    assert driver.sent() == [TEST_REQUEST]


def test_an_unanswered_test_request_closes_with_4000_and_cancels_on_disconnect(
    state: ServerState,
) -> None:
    driver = Driver(state)
    driver.login()
    driver.result(EnableCancelOnDisconnect())
    driver.result(SetHeartbeat(interval=10))
    driver.advance(10)
    assert driver.sent() == [HEARTBEAT, TEST_REQUEST]
    driver.advance(9.9)
    assert driver.machine.close_request is None
    driver.advance(0.1)
    assert driver.machine.close_request == CloseRequest(code=4000, reason="heartbeat close")
    assert driver.sent() == []
    connection = driver.machine.connection_id
    assert driver.events() == [
        CancelOnDisconnect(
            connection_id=connection, client_id="AMANDA", account_id=1, reason="heartbeat"
        )
    ]
    driver.machine.connection_lost(driver.now)
    assert driver.events() == [SessionClosed(connection_id=connection, reason="heartbeat")]


def test_disable_heartbeat_stops_the_probes(state: ServerState) -> None:
    driver = Driver(state)
    driver.result(SetHeartbeat(interval=10))
    driver.advance(10)
    driver.sent()
    assert driver.result(DisableHeartbeat()) == "ok"
    assert driver.machine.next_deadline() is None
    driver.advance(100)
    assert driver.sent() == []
    assert driver.machine.close_request is None


# -- cancel on disconnect (spec 5.5) ------------------------------------------------------


def test_cod_settings_per_connection(state: ServerState) -> None:
    driver = Driver(state)
    assert driver.answer(EnableCancelOnDisconnect())["error"]["code"] == 13009
    driver.login()
    assert driver.result(GetCancelOnDisconnect()) == {"scope": "connection", "enabled": False}
    assert driver.result(EnableCancelOnDisconnect(scope="connection")) == "ok"
    assert driver.result(GetCancelOnDisconnect()) == {"scope": "connection", "enabled": True}
    assert driver.result(GetCancelOnDisconnect(scope="account")) == {
        "scope": "account",
        "enabled": False,
    }
    assert driver.machine.cancel_on_disconnect
    driver.machine.connection_lost(driver.now + 3)
    assert driver.events() == [
        CancelOnDisconnect(
            connection_id=driver.machine.connection_id,
            client_id="AMANDA",
            account_id=1,
            reason="connection lost",
        ),
        SessionClosed(connection_id=driver.machine.connection_id, reason="connection lost"),
    ]


def test_cod_disabled_or_after_logout_emits_nothing(state: ServerState) -> None:
    off = Driver(state)
    off.login()
    off.result(EnableCancelOnDisconnect())
    off.result(DisableCancelOnDisconnect())
    off.machine.connection_lost(START)
    assert not any(isinstance(e, CancelOnDisconnect) for e in off.events())
    out = Driver(state)
    out.login()
    out.result(EnableCancelOnDisconnect())
    out.call(Logout())
    out.machine.connection_lost(START)
    assert [type(e) for e in out.events()] == [SessionClosed]


def test_account_scope_is_the_default_for_later_connections(state: ServerState) -> None:
    first = Driver(state)
    first.login()
    assert first.result(EnableCancelOnDisconnect(scope="account")) == "ok"
    assert first.machine.cancel_on_disconnect
    second = Driver(state)
    assert not second.machine.cancel_on_disconnect
    second.login()
    assert second.result(GetCancelOnDisconnect()) == {"scope": "connection", "enabled": True}
    second.result(DisableCancelOnDisconnect(scope="account"))
    third = Driver(state)
    third.login()
    assert third.result(GetCancelOnDisconnect(scope="account")) == {
        "scope": "account",
        "enabled": False,
    }


def test_a_venue_disconnect_is_a_disconnect_for_cod(state: ServerState) -> None:
    driver = Driver(state)
    driver.login()
    driver.result(EnableCancelOnDisconnect())
    driver.machine.send(Disconnect(code=1012, reason="restart"), START)
    assert driver.machine.close_request == CloseRequest(code=1012, reason="restart")
    (event,) = driver.events()
    assert isinstance(event, CancelOnDisconnect)
    assert event.reason == "closed by venue"
    with pytest.raises(LocalProtocolError, match="invalid code"):
        Disconnect(code=1005)


# -- credits (spec 7.3) -----------------------------------------------------------------------


def tight(**rules: CreditRule) -> ServerState:
    credits = {RateClass(name): rule for name, rule in rules.items()}
    return make_state(credits=credits)


def test_an_empty_pool_answers_10028_then_closes() -> None:
    state = tight(non_matching=CreditRule(cost=500, capacity=1500, refill=500))
    driver = Driver(state)
    driver.login()
    driver.result(EnableCancelOnDisconnect())  # the account's pool: 1500 - 500
    driver.result(Test())
    driver.result(Test())
    driver.call(Test(), request_id=77)
    message = driver.sent()[0]
    assert message["error"] == {"code": 10028, "message": "too_many_requests"}
    assert message["id"] == 77
    assert driver.machine.close_request == CloseRequest(code=1013, reason="too_many_requests")
    assert [type(e) for e in driver.events()] == [CancelOnDisconnect]
    driver.call(Test())
    assert driver.sent() == []


def test_credits_refill_over_time() -> None:
    state = tight(non_matching=CreditRule(cost=500, capacity=1000, refill=500))
    first = Driver(state)
    first.result(Test())
    first.result(Test())
    assert first.answer(Test())["error"]["code"] == 10028
    later = Driver(state, now=START + 1)  # the same address: the same pool, one refilled
    assert "result" in later.answer(Test())
    assert later.answer(Test())["error"]["code"] == 10028
    assert state.credits("ip:203.0.113.7", RateClass.NON_MATCHING, START + 3) == 1000


def test_pools_are_per_address_then_per_account_and_per_class() -> None:
    state = tight(
        non_matching=CreditRule(cost=1, capacity=2, refill=1),
        subscribe=CreditRule(cost=1, capacity=1, refill=1),
        get_instruments=CreditRule(cost=1, capacity=1, refill=1),
    )
    driver = Driver(state)
    driver.result(Test())
    other_ip = Driver(state, peer="198.51.100.9:1")
    other_ip.result(Test())
    other_ip.result(Test())  # its own pool
    driver.call(GetInstruments())
    driver.call(PublicSubscribe(channels=["book.BTC-PERPETUAL.100ms"]))
    assert len(driver.events()) == 2  # other classes have their own pools
    driver.login()  # the last non-matching credit of the address
    assert driver.result(Test())  # now charged to the account
    assert state.credits("account:1", RateClass.NON_MATCHING, START) == 1


def test_matching_engine_methods_use_their_own_rate() -> None:
    state = make_state()  # the published defaults: 5/s, burst 20 for the matching engine
    driver = Driver(state)
    driver.login()
    for _ in range(20):
        driver.call(Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"))
    held = driver.requests()
    assert len(held) == 20
    driver.call(Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"))
    for event in held:  # the 20 accepted before the limit are still answered first
        driver.machine.reply(event.request_id, {"ok": event.wire_id}, driver.now)
    assert driver.sent()[-1]["error"]["code"] == 10028


def test_requests_accepted_before_a_rate_limit_close_are_answered_in_order_first() -> None:
    state = make_state()
    driver = Driver(state)
    driver.login()
    for _ in range(20):
        driver.call(Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"))
    held = driver.requests()
    breaking = driver.call(Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"))
    assert driver.sent() == []  # the 10028 waits for the answers owed
    assert driver.machine.close_request is None
    driver.call(GetTime())  # after the refusal: not taken
    for event in reversed(held):  # the venue answers in its own order
        driver.machine.reply(event.request_id, {"ok": event.wire_id}, driver.now)
    out = driver.sent()
    assert [m.get("id") for m in out] == [e.wire_id for e in reversed(held)] + [breaking]
    assert "result" in out[0]
    assert out[-1]["error"]["code"] == 10028
    assert driver.machine.close_request is not None
    assert driver.machine.close_request.code == state.config.rate_limit_close_code


def test_a_rate_limit_close_waits_for_answers_only_so_long() -> None:
    state = make_state()
    driver = Driver(state)
    driver.login()
    for _ in range(21):
        driver.call(Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"))
    held = driver.requests()
    driver.machine.reply(held[0].request_id, "first", driver.now)
    assert [m.get("result") for m in driver.sent()] == ["first"]
    driver.advance(10.0)  # the venue never answers the rest
    out = driver.sent()
    assert [m["error"]["code"] for m in out] == [10028]
    assert driver.machine.close_request is not None
    driver.machine.reply(held[1].request_id, "late", driver.now)  # dropped, no error
    assert driver.sent() == []


def test_the_default_pool_allows_a_burst_of_100() -> None:
    driver = Driver(make_state())
    for _ in range(100):
        driver.result(Test())
    assert driver.answer(Test())["error"]["code"] == 10028


def test_garbage_costs_credits_too() -> None:
    state = tight(non_matching=CreditRule(cost=1, capacity=2, refill=1))
    driver = Driver(state)
    driver.raw(b"nope")
    driver.raw(b"nope")
    assert driver.sent()[0]["error"]["code"] == 11050
    driver.raw(b"nope")
    assert driver.sent() == [
        {
            "jsonrpc": "2.0",
            "error": {"code": 10028, "message": "too_many_requests"},
            "testnet": False,
            "usIn": 1576074319000000,
            "usOut": 1576074319000000,
            "usDiff": 0,
        }
    ]
    state.drain_credits("ip:203.0.113.7", RateClass.NON_MATCHING, START)


# -- idle timeout ------------------------------------------------------------------------


def test_idle_timeout_is_off_by_default_and_drops_silent_sockets_when_set() -> None:
    assert Driver(make_state(credits={})).machine.next_deadline() is None
    driver = Driver(make_state(credits={}, idle_timeout=60))
    driver.advance(30)
    driver.result(Test())
    driver.advance(59)
    assert driver.machine.close_request is None
    driver.advance(1)
    close = driver.machine.close_request
    assert close is not None
    assert close.abort


def test_a_subscription_keeps_an_idle_socket() -> None:
    driver = Driver(make_state(credits={}, idle_timeout=60))
    driver.call(PublicSubscribe(channels=["book.BTC-PERPETUAL.100ms"]))
    (event,) = driver.events()
    driver.machine.accept_subscription(event.request_id, ["book.BTC-PERPETUAL.100ms"], START)
    driver.advance(600)
    assert driver.machine.close_request is None
