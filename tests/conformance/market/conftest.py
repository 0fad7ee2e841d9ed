"""Fixtures for the simulated market's tests: a quiet market (no makers, no takers, so
every order in the book is a test's own) and a small busy one, both without a seeded
past (``past_hours=0``: every trade is a test's own; the past has its own tests)."""

from __future__ import annotations

import msgspec
import pytest
from support.markets import deribit_market

from tradewire.conformance.market import Market, MarketConfig

SMALL = MarketConfig(
    weekly_expiries=1, quarterly_expiries=1, option_expiries=1, option_strikes=1, past_hours=0
)
QUIET = msgspec.structs.replace(SMALL, maker_levels=0, taker_rate=0.0)
BUSY = msgspec.structs.replace(SMALL, seed=3, walk_scale=20.0, taker_rate=0.2, maker_levels=5)


@pytest.fixture
def quiet() -> Market:
    """Prices stay at the start values until ``advance`` is called; books start empty."""
    return deribit_market(QUIET)


@pytest.fixture
def busy() -> Market:
    return deribit_market(BUSY)
