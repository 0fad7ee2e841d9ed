"""The real client and server machines paired (``support_pair``): credits (spec 7.3).

With the venue's credit rules equal to the client's pools, a burst of hundreds of
requests is paced and never meets 10028; with a stricter venue, the 10028 arrives, the
venue closes the connection, and the client retries on the next one within the
request's deadline, or fails it with ``TooManyRequests`` when the deadline is too short."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tradewire.protocol import RequestFailed, RequestSucceeded
from tradewire.protocol.deribit import (
    Buy,
    CreditPool,
    GetTime,
    RateClass,
    RateLimits,
    Subscribe,
    TooManyRequests,
)
from tradewire.protocol.deribit.server import (
    CreditRule,
    SessionClosed,
    default_credit_rules,
)
from tradewire.protocol.transport._websocket import Connected, WebSocketClosed

sys.path.append(str(Path(__file__).parent))
from support_pair import Pair, PairVenue, credentials, make_pair, make_state

BTC = "BTC-PERPETUAL"


def burst(pair: Pair) -> list[Any]:
    """300 non-matching requests, 60 orders and 12 subscribe calls, all at once."""
    pair.pump()  # connected and logged in
    ids = [pair.client.send(GetTime(), pair.now) for _ in range(300)]
    ids += [
        pair.client.send(Buy(instrument_name=BTC, amount=10, type="market"), pair.now)
        for _ in range(60)
    ]
    channels = [
        name
        for instrument in (BTC, "ETH-PERPETUAL")
        for name in (
            f"ticker.{instrument}.100ms",
            f"ticker.{instrument}.agg2",
            f"trades.{instrument}.100ms",
            f"trades.{instrument}.agg2",
            f"quote.{instrument}",
            f"incremental_ticker.{instrument}",
        )
    ]
    ids += [pair.client.send(Subscribe(channels=[name]), pair.now) for name in channels]
    pair.advance(60.0)
    return ids


def test_with_the_venues_own_limits_a_paced_burst_never_meets_10028() -> None:
    rules = default_credit_rules()
    limits = RateLimits()  # the same published pools, less the 10% headroom
    assert rules[RateClass.NON_MATCHING] == CreditRule(cost=500, capacity=50_000, refill=10_000)
    assert limits.non_matching == CreditPool(cost=500, pool=50_000, refill=10_000)
    venue = PairVenue(make_state(credits=rules))
    pair = make_pair(venue, credentials=credentials(), rate_limits=limits, request_timeout=120.0)
    ids = burst(pair)
    outcomes = [pair.outcomes(i) for i in ids]
    assert all(len(o) == 1 and isinstance(o[0], RequestSucceeded) for o in outcomes)
    assert not any(isinstance(e, RequestFailed) for e in pair.history)
    assert pair.of(WebSocketClosed) == []
    assert len(venue.machines) == 1
    # The burst really was paced: 300 calls of 500 credits against 45 000 + 9 000/s.
    times = [r.at for r in venue.log if r.method == "public/get_time"]
    assert max(times) - min(times) > 10.0
    orders = [r.at for r in venue.log if r.method == "private/buy"]
    assert max(orders) - min(orders) > 8.0  # 60 orders at tier 4: 18 at once, then 4.5/s
    subscribes = [r.at for r in venue.log if r.method == "public/subscribe"]
    assert len(subscribes) == 12
    assert max(subscribes) - min(subscribes) > 0.5  # 9 calls at once, then 2.7/s


def test_the_same_burst_unpaced_meets_10028_and_a_closed_connection() -> None:
    """The control for the test above: without pacing, the venue's limit is hit."""
    venue = PairVenue(make_state(credits=default_credit_rules()))
    pair = make_pair(venue, credentials=credentials(), rate_limits=None, request_timeout=120.0)
    pair.advance(0.1)
    ids = [pair.client.send(GetTime(), pair.now) for _ in range(300)]
    pair.pump()
    errors = [o.error for i in ids for o in pair.outcomes(i) if isinstance(o, RequestFailed)]
    assert any(isinstance(e, TooManyRequests) for e in errors)
    [closed, *_] = pair.of(WebSocketClosed)
    assert (closed.code, closed.reason, closed.by) == (1013, "too_many_requests", "remote")


def strict_venue() -> PairVenue:
    """Three requests at once, then one a second: far below the client's pools."""
    rules = default_credit_rules()
    rules[RateClass.NON_MATCHING] = CreditRule(cost=500, capacity=1_500, refill=500)
    return PairVenue(make_state(credits=rules))


def test_a_stricter_venue_closes_after_10028_and_the_request_succeeds_on_reconnect() -> None:
    venue = strict_venue()
    pair = make_pair(venue, heartbeat_interval=None)
    first = [pair.client.send(GetTime(), pair.now) for _ in range(3)]
    late = pair.send(GetTime(), timeout=30.0)
    assert all(isinstance(pair.result(i), int) for i in first)
    assert pair.outcomes(late) == []  # refused with 10028, waiting for the next connection
    [closed] = pair.of(WebSocketClosed)
    assert (closed.code, closed.reason, closed.by) == (1013, "too_many_requests", "remote")
    assert [e.reason for e in venue.seen if isinstance(e, SessionClosed)] == ["too_many_requests"]
    pair.advance(30.0)
    assert isinstance(pair.result(late), int)
    answered_on = {r.connection_id for r in venue.log if r.method == "public/get_time"}
    assert len(answered_on) >= 2
    assert len(pair.of(Connected)) >= 2


def test_a_deadline_too_short_for_the_refill_fails_with_too_many_requests() -> None:
    venue = strict_venue()
    slow = RateLimits(
        non_matching=CreditPool(cost=500, pool=5_000, refill=500), headroom=0.0
    )  # a refill after 10028 takes the client 1 s
    pair = make_pair(venue, heartbeat_interval=None, rate_limits=slow)
    first = [pair.client.send(GetTime(), pair.now) for _ in range(3)]
    late = pair.send(GetTime(), timeout=0.5)
    assert all(isinstance(pair.result(i), int) for i in first)
    error = pair.error(late)
    assert isinstance(error, TooManyRequests)
    assert error.code == 10028
    pair.advance(10.0)  # the client reconnects and goes on
    assert len(pair.outcomes(late)) == 1
    assert isinstance(pair.result(pair.send(GetTime())), int)
