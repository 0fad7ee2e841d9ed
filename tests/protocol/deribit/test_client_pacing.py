"""ClientProtocol rate limits (spec 7.3): credit pools paced with the core Pacer, the
headroom, 10028 retries within the deadline, and control requests ahead of user traffic."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.protocol import (
    CreditBucket,
    LocalProtocolError,
    RequestFailed,
    RequestSucceeded,
)
from tradewire.protocol.deribit import (
    Buy,
    CreditPool,
    GetInstruments,
    GetTime,
    RateClass,
    RateLimits,
    Subscribe,
    TooManyRequests,
    command_type_for,
)

sys.path.append(str(Path(__file__).parent))
from support_client import (
    START,
    TEST_REQUEST,
    Harness,
    auth_result,
    credentials,
    error,
)


def outcome(h: Harness, request_id: Any) -> list[Any]:
    return [
        e
        for e in h.events
        if isinstance(e, RequestSucceeded | RequestFailed) and e.request_id == request_id
    ]


def test_default_pools_are_the_published_ones_less_ten_percent() -> None:
    limits = RateLimits()
    assert limits.non_matching == CreditPool(cost=500, pool=50_000, refill=10_000)
    assert limits.get_instruments == CreditPool(cost=10_000, pool=500_000, refill=10_000)
    assert limits.subscribe == CreditPool(cost=3_000, pool=30_000, refill=10_000)
    assert limits.matching_engine == CreditPool(cost=1, pool=20, refill=5)  # tier 4
    assert limits.headroom == 0.1
    buckets = limits.buckets()
    [(bucket, cost)] = buckets[RateClass.NON_MATCHING]
    assert (bucket.capacity, bucket.rate, cost) == (45_000, 9_000, 500)
    [(bucket, cost)] = buckets[RateClass.MATCHING_ENGINE]
    assert (bucket.capacity, bucket.rate, cost) == (18, 4.5, 1)
    assert RateLimits.tier(1).matching_engine == CreditPool(cost=1, pool=100, refill=30)


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: RateLimits(headroom=1.0), "headroom"),
        (lambda: RateLimits(headroom=-0.1), "headroom"),
        (lambda: RateLimits.tier(5), "tier"),
        (lambda: CreditPool(cost=5, pool=4, refill=1), "pool"),
        (lambda: CreditPool(cost=0, pool=4, refill=1), "cost"),
        (lambda: CreditPool(cost=1, pool=4, refill=float("inf")), "refill"),
        (lambda: RateLimits(matching_engine=CreditPool(cost=1, pool=1, refill=1)), "headroom"),
    ],
)
def test_rate_limit_misuse_names_the_argument(build: Any, argument: str) -> None:
    with pytest.raises(LocalProtocolError, match=f"invalid {argument}"):
        build()


def test_a_burst_goes_out_up_to_the_pool_then_at_the_refill_rate() -> None:
    h = Harness(heartbeat_interval=None, max_pending=500, request_timeout=60.0)
    h.connect()
    for _ in range(110):
        h.send(GetTime())
    assert len(h.sent) == 90  # 45 000 credits of 500 each
    assert h.client.next_deadline() == pytest.approx(START + 500 / 9_000)
    h.advance(2.0)
    # Then 9 000 credits a second: one request every 1/18 s.
    later = [s.at - START for s in h.sent[90:]]
    assert later == pytest.approx([k * 500 / 9_000 for k in range(1, 21)])


def test_matching_engine_requests_use_their_own_tier_bucket() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None, request_timeout=60.0)
    h.login()
    for _ in range(25):
        h.send(Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"))
    h.send(GetTime())  # another bucket: not held up behind the orders
    assert h.methods().count("private/buy") == 18
    assert "public/get_time" in h.methods()
    h.advance(1.0)
    assert h.methods().count("private/buy") == 22  # 4.5 a second


def test_get_instruments_and_subscribe_have_their_own_pools() -> None:
    h = Harness(heartbeat_interval=None, max_pending=200, request_timeout=60.0)
    h.connect()
    for _ in range(50):
        h.send(GetInstruments(currency="BTC"))
    for n in range(12):
        h.send(Subscribe(channels=[f"ticker.BTC-{n + 1}MAR30.100ms"]))
    assert h.methods().count("public/get_instruments") == 45
    assert h.methods().count("public/subscribe") == 9  # 27 000 of 3 000


@settings(max_examples=150, deadline=None)
@given(
    bursts=st.lists(
        st.tuples(
            st.floats(0, 3),
            st.lists(
                st.sampled_from(["time", "instruments", "subscribe", "buy", "test"]), max_size=40
            ),
        ),
        max_size=12,
    ),
    headroom=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_paced_traffic_never_overdraws_the_configured_buckets(
    bursts: list[tuple[float, list[str]]], headroom: float
) -> None:
    limits = RateLimits(headroom=headroom)
    h = Harness(
        credentials=credentials(),
        rate_limits=limits,
        max_pending=2_000,
        request_timeout=30.0,
        heartbeat_interval=10,
    )
    h.login()
    channel = 0
    for delay, commands in bursts:
        h.advance(delay)
        for name in commands:
            if name == "test":
                h.feed(TEST_REQUEST)
                continue
            if name == "subscribe":
                channel += 1
                command: Any = Subscribe(channels=[f"ticker.BTC-{channel}MAR30.100ms"])
            else:
                command = {
                    "time": GetTime(),
                    "instruments": GetInstruments(currency="ETH"),
                    "buy": Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"),
                }[name]
            h.send(command)
    h.advance(40.0)
    # Replay what went out, at the times it went out, through fresh buckets.
    configured = limits.buckets()
    published = RateLimits(headroom=0.0).buckets()
    for sent in sorted(h.log, key=lambda s: s.at):
        command_type = command_type_for(sent.method)
        assert command_type is not None
        for table in (configured, published):
            [(bucket, cost)] = table[command_type.rate_class]
            assert bucket.try_take(cost, sent.at), (sent, bucket)


# -- 10028 ------------------------------------------------------------------------------------


def test_10028_empties_the_bucket_and_the_request_goes_again_after_the_refill() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    rid = h.send(GetTime())
    first = h.find("public/get_time")
    h.fail(first, 10028, "too_many_requests")
    assert outcome(h, rid) == []
    assert h.sent == []
    other = h.send(GetTime())  # the emptied bucket holds everything on it
    assert h.sent == []
    h.advance(500 / 9_000 - 0.001)
    assert h.sent == []
    h.advance(0.002)
    [again] = h.sent
    assert (again.id, again.method) == (rid, "public/get_time")
    h.reply(again, 5)
    assert outcome(h, rid)[0].result == 5
    h.advance(500 / 9_000)
    assert [s.id for s in h.sent] == [other]


def test_10028_fails_the_request_when_its_deadline_comes_before_the_refill() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    rid = h.send(GetTime(), timeout=0.05)
    h.fail(h.find("public/get_time"), 10028, "too_many_requests")
    [done] = outcome(h, rid)
    assert isinstance(done.error, TooManyRequests)
    assert done.error.code == 10028


def test_a_request_parked_after_10028_survives_the_reconnect_that_follows() -> None:
    h = Harness(credentials=credentials(), heartbeat_interval=None)
    h.login()
    rid = h.send(Buy(instrument_name="BTC-PERPETUAL", amount=10, type="market"))
    in_flight = h.send(GetTime())
    h.fail(h.find("private/buy"), 10028, "too_many_requests")
    h.lose()  # the venue ends the session after 10028 (spec 7.3)
    assert outcome(h, rid) == []  # not executed: it waits, unlike the request in flight
    assert isinstance(outcome(h, in_flight)[0], RequestFailed)
    h.take_sent()
    h.advance(0.5)
    h.connect()
    h.answer("public/auth", auth_result())
    assert h.find("private/buy").id == rid
    h.answer("private/buy", {"order": _order(), "trades": []})
    assert isinstance(outcome(h, rid)[0], RequestSucceeded)


def _order() -> dict[str, Any]:
    return {
        "order_id": "1",
        "instrument_name": "BTC-PERPETUAL",
        "direction": "buy",
        "amount": 10,
        "filled_amount": 10,
        "average_price": 1.0,
        "price": 1.0,
        "order_type": "market",
        "order_state": "filled",
        "time_in_force": "good_til_cancelled",
        "label": "",
        "post_only": False,
        "reduce_only": False,
        "replaced": False,
        "api": True,
        "web": False,
        "creation_timestamp": 1,
        "last_update_timestamp": 1,
    }


def test_10028_on_a_subscribe_retries_the_channels() -> None:
    h = Harness(heartbeat_interval=None)
    h.connect()
    h.send(Subscribe(channels=["ticker.BTC-PERPETUAL.100ms"]))
    request = h.find("public/subscribe")
    h.fail(request, 10028, "too_many_requests")
    h.advance(0.5)
    assert h.find("public/subscribe").id == request.id


def test_without_rate_limits_nothing_is_paced_and_10028_fails_at_once() -> None:
    h = Harness(heartbeat_interval=None, rate_limits=None, max_pending=500)
    h.connect()
    ids = [h.send(GetTime()) for _ in range(300)]
    assert len(h.sent) == 300
    h.feed(error(ids[0], 10028, "too_many_requests"))
    assert isinstance(outcome(h, ids[0])[0].error, TooManyRequests)


def test_control_requests_go_ahead_of_queued_user_requests() -> None:
    h = Harness(heartbeat_interval=None, max_pending=500, request_timeout=60.0)
    h.connect()
    for _ in range(120):
        h.send(GetTime())
    h.take_sent()
    h.feed(TEST_REQUEST)
    assert h.sent == []  # the bucket is empty; the answer waits, but first in line
    h.advance(500 / 9_000 + 1e-6)
    assert h.methods() == ["public/test"]


def test_a_custom_pool_replaces_the_default() -> None:
    slow = RateLimits(non_matching=CreditPool(cost=1, pool=2, refill=1), headroom=0.0)
    h = Harness(heartbeat_interval=None, rate_limits=slow)
    h.connect()
    for _ in range(4):
        h.send(GetTime())
    assert len(h.sent) == 2
    h.advance(1.0)
    assert len(h.sent) == 3
    bucket = CreditBucket(2, 1)
    assert all(bucket.try_take(1, s.at) for s in h.log)
