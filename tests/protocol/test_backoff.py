"""Reconnect backoff: exponential ceilings, full jitter from the injected RNG."""

from __future__ import annotations

import random

import pytest

from tradewire.protocol import Backoff, LocalProtocolError


def test_delays_stay_under_growing_ceilings_and_above_the_floor() -> None:
    backoff = Backoff(random.Random(1), initial=0.5, maximum=10.0, minimum=0.2)
    delays = [backoff.next_delay() for _ in range(12)]
    for attempt, delay in enumerate(delays):
        assert 0.2 <= delay <= max(0.2, min(10.0, 0.5 * 2**attempt))
    assert max(delays[6:]) > 2.0  # the ceiling did grow (and jitter used it)
    assert backoff.attempt == 12


def test_same_seed_same_delays_and_reset_starts_over() -> None:
    a = Backoff(random.Random(42))
    b = Backoff(random.Random(42))
    first = [a.next_delay() for _ in range(5)]
    assert first == [b.next_delay() for _ in range(5)]
    a.reset()
    assert a.attempt == 0
    assert a.next_delay() <= a.ceiling(0)


def test_jitter_spreads_a_fleet() -> None:
    rng = random.Random(9)
    delays = [Backoff(rng, initial=8.0, maximum=8.0).next_delay() for _ in range(200)]
    assert min(delays) < 1.0
    assert max(delays) > 7.0


def test_huge_attempt_counts_do_not_overflow() -> None:
    backoff = Backoff(random.Random(0), maximum=30.0)
    for _ in range(2000):
        assert backoff.next_delay() <= 30.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"initial": 0}, "initial"),
        ({"maximum": float("inf")}, "maximum"),
        ({"factor": 0.5}, "factor"),
        ({"minimum": 100.0}, "minimum"),
    ],
)
def test_bad_settings_are_named(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(LocalProtocolError, match=name):
        Backoff(random.Random(), **kwargs)
