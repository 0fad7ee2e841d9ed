"""Deribit's published limits as named constants (spec 1.2, 1.5, 3.1, 5.1, 7.2, 7.3).

Every bound the Deribit code enforces or paces against is here, so client and server
machines agree on one number and a test can point at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

__all__ = [
    "CREDIT_COST",
    "CREDIT_POOL",
    "CREDIT_REFILL_PER_SECOND",
    "MATCHING_ENGINE_TIERS",
    "MAX_CONNECTIONS_PER_IP",
    "MAX_LABEL_LENGTH",
    "MAX_MESSAGE_SIZE",
    "MAX_SUBSCRIBE_LABEL_LENGTH",
    "MIN_HEARTBEAT_INTERVAL",
    "RateClass",
]

MAX_MESSAGE_SIZE = 32 * 1024
"""Largest WebSocket frame or POST body the venue takes; larger gets -32600 (spec 1.2)."""

MIN_HEARTBEAT_INTERVAL = 10
"""Smallest ``public/set_heartbeat`` interval, in seconds (spec 1.5)."""

MAX_LABEL_LENGTH = 64
"""Longest order ``label`` (spec 5.1)."""

MAX_SUBSCRIBE_LABEL_LENGTH = 16
"""Longest ``private/subscribe`` ``label`` (spec 3.1)."""

MAX_CONNECTIONS_PER_IP = 32
"""Simultaneous HTTP requests plus WebSocket connections per IP; the 33rd gets 429 (7.2)."""


class RateClass(StrEnum):
    """Which pool a method draws on (spec 7.3).

    Every method not listed in the spec's table is ``NON_MATCHING`` (500 credits), including
    the unsubscribe methods and ``public/test`` (answering a ``test_request`` also costs
    credits).  ``MATCHING_ENGINE`` methods (``buy``, ``sell``, ``edit*``, ``cancel*``) have a
    per-sub-account request rate instead of credits, see :data:`MATCHING_ENGINE_TIERS`.
    """

    NON_MATCHING = "non_matching"
    GET_INSTRUMENTS = "get_instruments"
    SUBSCRIBE = "subscribe"
    MATCHING_ENGINE = "matching_engine"


CREDIT_COST: Mapping[RateClass, int] = {
    RateClass.NON_MATCHING: 500,
    RateClass.GET_INSTRUMENTS: 10_000,
    RateClass.SUBSCRIBE: 3_000,
}
"""Credits one request costs, per credit-based class."""

CREDIT_POOL: Mapping[RateClass, int] = {
    RateClass.NON_MATCHING: 50_000,
    RateClass.GET_INSTRUMENTS: 500_000,
    RateClass.SUBSCRIBE: 30_000,
}
"""Maximum credits (the burst) per class."""

CREDIT_REFILL_PER_SECOND = 10_000
"""Refill rate of every credit pool: 20 req/s default, 1/s get_instruments, ~3.3/s subscribe."""

MATCHING_ENGINE_TIERS: tuple[tuple[float, int], ...] = ((30, 100), (20, 50), (10, 30), (5, 20))
"""(sustained requests per second, burst) for tiers 1..4; tier 4 (<= $1M 7-day volume) is
the default for a new account.  The live values come back in ``get_account_summary``
``limits`` with ``extended: true``."""
