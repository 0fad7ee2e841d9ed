"""What a tick may skip changes nothing else: ``Market.tickers_for`` leaves out the tickers of
other instruments only, and the makers' requote shortcut (same target ladder, same book)
gives the events the full requote gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from support.markets import deribit_market

from tradewire.conformance.market import Market, MarketConfig, Ticker

PERP = "BTC-PERPETUAL"
BUSY = MarketConfig(
    seed=3, walk_scale=20.0, taker_rate=0.2, maker_levels=5, past_hours=0,
    weekly_expiries=1, quarterly_expiries=1, option_expiries=1, option_strikes=1,
)  # fmt: skip


def session(before_tick: Callable[[Market], None] = lambda m: None) -> list[Any]:
    """A busy market with two accounts trading, its events over 60 ticks of 100 ms."""
    m = deribit_market(BUSY, now=100.0)
    before_tick(m)
    events: list[Any] = []
    for i in range(1, 61):
        now = 100.0 + i * 0.1
        before_tick(m)
        events += m.advance(now)
        if i % 5 == 0:
            events += m.buy("alice", PERP, now, amount=100, type="market").events
            events += m.sell("bob", "BTC_USDC", now, amount=0.01, price=61_000).events
            events += m.buy("bob", PERP, now, amount=50, price=59_000.0).events
    return events


def test_tickers_for_leaves_out_the_other_instruments_tickers_and_nothing_else() -> None:
    everything = session()
    only_perp = session(lambda m: setattr(m, "tickers_for", {PERP}))
    kept = [e for e in everything if not isinstance(e, Ticker) or e.instrument_name == PERP]
    assert msgspec.json.encode(only_perp) == msgspec.json.encode(kept)
    assert len(kept) < len(everything)
    assert sum(isinstance(e, Ticker) for e in only_perp) == 60


def test_the_requote_shortcut_gives_the_full_requotes_events() -> None:
    shortcut = session()
    full = session(lambda m: m._makers._quoted.clear())  # every requote from scratch
    assert msgspec.json.encode(shortcut) == msgspec.json.encode(full)
