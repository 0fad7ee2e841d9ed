"""Token/credit buckets and the pacer: requests wait instead of tripping a limit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.protocol import CreditBucket, LocalProtocolError, Pacer, TokenBucket


def test_bucket_starts_full_refills_and_caps() -> None:
    bucket = TokenBucket(10, 2.0)
    assert bucket.level(0.0) == 10
    assert bucket.try_take(10, 0.0)
    assert not bucket.try_take(1, 0.0)
    assert bucket.ready_at(1) == pytest.approx(0.5)
    assert bucket.level(100.0) == 10  # capped
    bucket.empty(100.0)
    assert bucket.level(101.0) == pytest.approx(2.0)


def test_time_going_backwards_adds_nothing() -> None:
    bucket = TokenBucket(5, 1.0)
    bucket.try_take(5, 10.0)
    assert bucket.level(5.0) == 0


def test_pacer_never_exceeds_a_deribit_credit_pool() -> None:
    # Deribit's non-matching default: cost 500, pool 50 000, refill 10 000/s.
    pool = CreditBucket(50_000, 10_000, name="non_matching")
    pacer: Pacer[int] = Pacer(max_queued=1000)
    for i in range(300):
        pacer.submit(i, [(pool, 500)])
    sent: list[tuple[float, int]] = []
    now = 0.0
    while len(pacer):
        sent += [(now, item) for item in pacer.release(now)]
        deadline = pacer.next_deadline()
        assert deadline is not None or not len(pacer)
        if deadline is not None:
            now = max(now, deadline)
    assert [item for _, item in sent] == list(range(300))  # order kept
    assert sum(1 for t, _ in sent if t == 0.0) == 100  # the burst: 50 000 / 500
    # In any window of w seconds, at most capacity + rate * w credits are spent.
    times = [t for t, _ in sent]
    for i, start in enumerate(times):
        spent = 500 * sum(1 for t in times[i:] if t - start <= 1.0)
        assert spent <= 50_000 + 10_000 * 1.0 + 1e-6


def test_items_on_other_buckets_overtake_a_blocked_one() -> None:
    subscribe = TokenBucket(30_000, 10_000, name="subscribe")
    default = TokenBucket(50_000, 10_000, name="default")
    pacer: Pacer[str] = Pacer()
    subscribe.try_take(30_000, 0.0)
    pacer.submit("subscribe-1", [(subscribe, 3000)])
    pacer.submit("ticker", [(default, 500)])
    pacer.submit("subscribe-2", [(subscribe, 3000)])
    pacer.submit("free", [])
    assert pacer.release(0.0) == ["ticker", "free"]
    assert pacer.next_deadline() == pytest.approx(0.3)
    assert pacer.release(0.3) == ["subscribe-1"]
    assert pacer.release(0.6) == ["subscribe-2"]


def test_item_on_two_buckets_waits_for_both() -> None:
    per_second = TokenBucket(5, 5.0)
    per_minute = TokenBucket(6, 0.1)
    pacer: Pacer[int] = Pacer()
    for i in range(8):
        pacer.submit(i, [(per_second, 1), (per_minute, 1)])
    assert pacer.release(0.0) == [0, 1, 2, 3, 4]
    assert pacer.release(0.2) == [5]
    assert pacer.release(1.0) == []
    assert pacer.next_deadline() == pytest.approx(10.0)


def test_remove_and_bounds() -> None:
    bucket = TokenBucket(1, 1.0)
    pacer: Pacer[int] = Pacer(max_queued=3)
    bucket.try_take(1, 0.0)
    for i in range(3):
        pacer.submit(i, [(bucket, 1)])
    with pytest.raises(LocalProtocolError, match="max_queued=3"):
        pacer.submit(3, [(bucket, 1)])
    assert pacer.remove(lambda i: i == 1) == [1]
    assert pacer.clear() == [0, 2]
    with pytest.raises(LocalProtocolError, match="cost"):
        pacer.submit(9, [(bucket, 2)])
    with pytest.raises(LocalProtocolError, match="capacity"):
        TokenBucket(0, 1.0)
    with pytest.raises(LocalProtocolError, match="rate"):
        TokenBucket(1, float("inf"))


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(1, 50),
    rate=st.floats(0.5, 50.0),
    arrivals=st.lists(st.tuples(st.floats(0.0, 5.0), st.integers(1, 5)), min_size=1, max_size=60),
)
def test_paced_traffic_always_fits_the_bucket(
    capacity: int, rate: float, arrivals: list[tuple[float, int]]
) -> None:
    """Replaying what the pacer released through a fresh bucket never finds it empty."""
    bucket = TokenBucket(capacity, rate)
    pacer: Pacer[int] = Pacer(max_queued=1000)
    now = 0.0
    released: list[tuple[float, int]] = []
    costs: dict[int, int] = {}
    for index, (gap, asked) in enumerate(arrivals):
        cost = min(asked, capacity)
        costs[index] = cost
        target = now + gap
        while True:
            deadline = pacer.next_deadline()
            if deadline is None or deadline > target:
                break
            now = max(now, deadline)
            released += [(now, i) for i in pacer.release(now)]
        now = target
        pacer.submit(index, [(bucket, cost)])
        released += [(now, i) for i in pacer.release(now)]
    while len(pacer):
        deadline = pacer.next_deadline()
        assert deadline is not None
        now = max(now, deadline)
        released += [(now, i) for i in pacer.release(now)]
    assert [i for _, i in released] == list(range(len(arrivals)))
    venue = TokenBucket(capacity, rate)
    for at, index in released:
        assert venue.try_take(costs[index], at), f"overdraft at t={at}"
