"""A simulated market with Deribit's catalog, for tests of the venue-neutral engine.

The engine takes its instruments as data (``Market(config, catalog=...)``); its tests
use the reference venue's, the one whose order semantics the engine follows.
"""

from __future__ import annotations

from tradewire.conformance.deribit import deribit_catalog
from tradewire.conformance.market import Market, MarketConfig


def deribit_market(config: MarketConfig | None = None, *, now: float = 0.0) -> Market:
    """``Market(config)`` listing Deribit's instruments."""
    config = config if config is not None else MarketConfig()
    return Market(config, catalog=deribit_catalog(config), now=now)
