"""ServerState and ServerConfig: settings, keys, tokens, nonces, pools, bounds."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tradewire.protocol import LocalProtocolError
from tradewire.protocol.deribit import (
    CREDIT_POOL,
    AuthClientCredentials,
    GetTicker,
    PublicSubscribe,
    RateClass,
    Test,
)
from tradewire.protocol.deribit.server import (
    CreditRule,
    ServerConfig,
    ServerState,
    SubscribeReceived,
    default_credit_rules,
    peer_ip,
)

from .support_server import CLIENT_ID, SECRET, START, Driver, make_state


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expires_in", 0),
        ("expires_in", True),
        ("auth_window", -1),
        ("idle_timeout", 0),
        ("max_connections_per_ip", 0),
        ("max_pending_requests", 0),
        ("max_tokens", 0),
        ("epoch_offset", float("inf")),
        ("mixed_raw_subscribe", "maybe"),
        ("http_error_status", 200),
        ("rate_limit_close_code", 999),
        ("extra_methods", frozenset({"get_book_summary"})),
        ("credits", {"non_matching": 1}),
    ],
)
def test_config_values_are_checked(field: str, value: Any) -> None:
    with pytest.raises(LocalProtocolError, match=f"invalid {field}"):
        ServerConfig(**{field: value})


def test_credit_rules_are_checked_and_default_to_the_published_limits() -> None:
    with pytest.raises(LocalProtocolError, match="invalid CreditRule"):
        CreditRule(cost=10, capacity=5, refill=1)
    rules = default_credit_rules()
    assert rules[RateClass.SUBSCRIBE] == CreditRule(cost=3000, capacity=30000, refill=10000)
    assert rules[RateClass.GET_INSTRUMENTS].capacity == CREDIT_POOL[RateClass.GET_INSTRUMENTS]
    assert rules[RateClass.MATCHING_ENGINE] == CreditRule(cost=1, capacity=20, refill=5)


def test_keys_accounts_and_repr() -> None:
    state = ServerState(rng=random.Random(1))
    first = state.add_client("a", "s1", subaccount_ids=(5, 6))
    second = state.add_client("b", "s2")
    assert (first.account_id, second.account_id) == (1, 7)
    assert state.client("a") is first
    assert state.client("zzz") is None
    assert "s1" not in repr(first)
    with pytest.raises(LocalProtocolError, match="already registered"):
        state.add_client("a", "x")
    with pytest.raises(LocalProtocolError, match="invalid client_id"):
        state.add_client("", "x")
    assert repr(state) == "ServerState(keys=2, tokens=0, connections=0)"


@pytest.mark.parametrize(
    ("peer", "ip"),
    [
        ("203.0.113.7:40001", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("127.0.0.1", "127.0.0.1"),
        ("unix-socket", "unix-socket"),
        (None, None),
        ("", None),
    ],
)
def test_peer_addresses(peer: str | None, ip: str | None) -> None:
    assert peer_ip(peer) == ip


def test_epoch_times_follow_the_offset() -> None:
    state = ServerState(ServerConfig(epoch_offset=1_700_000_000.0), rng=random.Random(1))
    assert state.epoch_ms(1.5) == 1_700_000_001_500
    assert state.epoch_us(0.000001) == 1_700_000_000_000_001


def test_token_strings_are_deterministic_for_a_seed() -> None:
    def first_token() -> str:
        driver = Driver(make_state(credits={}))
        token: str = driver.login()["access_token"]
        return token

    assert first_token() == first_token()


def test_the_oldest_tokens_are_forgotten_past_max_tokens() -> None:
    state = make_state(credits={}, max_tokens=3)
    driver = Driver(state)
    tokens = [
        driver.result(
            AuthClientCredentials(client_id=CLIENT_ID, client_secret=SECRET, scope="session:s")
        )["access_token"]
        for _ in range(5)
    ]
    assert len(state.tokens()) == 3
    other = Driver(state)
    other.call(GetTicker(instrument_name="X", access_token=tokens[0]))
    assert other.requests()[0].client_id is None  # forgotten
    other.call(GetTicker(instrument_name="X", access_token=tokens[-1]))
    assert other.requests()[0].client_id == CLIENT_ID


def test_dead_tokens_are_swept() -> None:
    state = make_state(credits={}, expires_in=10, refresh_expires_in=10)
    driver = Driver(state)
    for _ in range(1020):
        driver.login()
    assert len(state.tokens()) == 1020
    driver.now += 20
    for _ in range(10):  # issuing with 1024 pairs stored sweeps the dead ones first
        driver.login()
    assert [t.issued_at for t in state.tokens()] == [START + 20] * 10


def test_nonces_are_remembered_for_two_windows() -> None:
    state = make_state()
    assert state.use_nonce("a", "n1", 1, START)
    assert not state.use_nonce("a", "n1", 2, START + 119)
    assert state.use_nonce("b", "n1", 2, START + 119)  # per key
    assert state.use_nonce("a", "n1", 3, START + 121)


def test_credit_pools_are_pruned_full_first() -> None:
    state = make_state(max_pools=2)
    assert state.charge("ip:1", RateClass.NON_MATCHING, START)
    assert state.charge("ip:2", RateClass.NON_MATCHING, START)
    assert state.charge("ip:3", RateClass.NON_MATCHING, START + 10)  # 1 and 2 refilled
    assert state.credits("ip:3", RateClass.NON_MATCHING, START + 10) == 49_500
    assert state.credits("ip:4", RateClass.SUBSCRIBE, START + 10) == 30_000
    assert state.credits("ip:4", RateClass.MATCHING_ENGINE, START) == 20
    assert make_state(credits={}).credits("ip:1", RateClass.NON_MATCHING, START) is None


def test_channels_past_max_channels_are_not_candidates() -> None:
    driver = Driver(make_state(credits={}, max_channels=2))
    names = ["book.BTC-PERPETUAL.100ms", "trades.BTC-PERPETUAL.100ms", "quote.BTC-PERPETUAL"]
    driver.call(PublicSubscribe(channels=names))
    (event,) = driver.events()
    assert isinstance(event, SubscribeReceived)
    assert event.channels == tuple(names[:2])
    driver.machine.accept_subscription(event.request_id, event.channels, START)
    driver.call(PublicSubscribe(channels=names))
    (event,) = driver.events()
    assert isinstance(event, SubscribeReceived)
    assert event.channels == tuple(names[:2])  # active ones are still acknowledged


def test_undrained_queues_are_a_local_error_naming_the_bound() -> None:
    driver = Driver(make_state(credits={}, max_queued_messages=2))
    driver.call(Test())
    driver.call(Test())
    with pytest.raises(LocalProtocolError, match="outbound queue is full"):
        driver.call(Test())
    assert len(driver.sent()) == 2
    events = Driver(make_state(credits={}, max_events=1))
    events.call(GetTicker(instrument_name="BTC-PERPETUAL"))
    with pytest.raises(LocalProtocolError, match="event queue is full"):
        events.call(GetTicker(instrument_name="BTC-PERPETUAL"))
