"""The reference Rails venue's markets, as a catalog for the neutral market engine.

Rails lists perpetual contracts by name ``BASE-QUOTE`` (``BTC-USD``, ``ETH-USD``,
``BTC-USDT``, spec 1), with margin in the quote currency, cross margin and one leverage
per account (spec 4).  The docs give no tick or step sizes we could rely on, so these
are ours:

=========== ====== ========= ======== ============ ==================
market      index  tick      step     min quantity fees maker / taker
=========== ====== ========= ======== ============ ==================
BTC-USD     btc    0.5       0.0001   0.0001       0.0002 / 0.0005
ETH-USD     eth    0.05      0.001    0.001        0.0002 / 0.0005
BTC-USDT    btc    0.5       0.0001   0.0001       0.0002 / 0.0005
ETH-USDT    eth    0.05      0.001    0.001        0.0002 / 0.0005
=========== ====== ========= ======== ============ ==================

Each is a linear perpetual in the engine (``kind`` future, ``settlement_period``
perpetual) settled in its quote currency; the USD and USDT markets of a coin follow
the same price walk (USDT taken at par).
"""

from __future__ import annotations

import msgspec

from tradewire.protocol.rails import Market as MarketListing
from tradewire.protocol.rails.server import decimal_string

from ..market import Catalog, Instrument, Listing, MarketConfig

__all__ = ["MARKETS", "MarketSpec", "market_list", "rails_catalog"]

FIRST_INSTRUMENT_ID = 700_001
PERPETUAL_EXPIRY_MS = 32_503_708_800_000


class MarketSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One market: name, coin, quote currency, walk, tick and quantity grid."""

    name: str
    base: str
    quote: str
    walk: str
    tick: float
    step: float


MARKETS = (
    MarketSpec(name="BTC-USD", base="BTC", quote="USD", walk="btc_usd", tick=0.5, step=0.0001),
    MarketSpec(name="ETH-USD", base="ETH", quote="USD", walk="eth_usd", tick=0.05, step=0.001),
    MarketSpec(name="BTC-USDT", base="BTC", quote="USDT", walk="btc_usd", tick=0.5, step=0.0001),
    MarketSpec(name="ETH-USDT", base="ETH", quote="USDT", walk="eth_usd", tick=0.05, step=0.001),
)
"""The markets of the reference venue (see the module docstring)."""


def _instrument(spec: MarketSpec, number: int, start_ms: int) -> Instrument:
    return Instrument(
        instrument_name=spec.name,
        instrument_id=FIRST_INSTRUMENT_ID + number,
        kind="future",
        instrument_type="linear",
        base_currency=spec.base,
        quote_currency=spec.quote,
        counter_currency=spec.quote,
        settlement_currency=spec.quote,
        settlement_period="perpetual",
        price_index=spec.walk,
        is_active=True,
        tick_size=spec.tick,
        tick_size_steps=(),
        min_trade_amount=spec.step,
        contract_size=spec.step,
        max_leverage=20,
        maker_commission=0.0002,
        taker_commission=0.0005,
        max_liquidation_commission=0.0075,
        block_trade_commission=0.0005,
        block_trade_min_trade_amount=1_000_000.0,
        block_trade_tick_size=spec.tick,
        creation_timestamp=start_ms,
        expiration_timestamp=PERPETUAL_EXPIRY_MS,
        future_type="linear",
        currency=spec.quote,
        amount_step=spec.step,
    )


def rails_catalog(config: MarketConfig) -> Catalog:
    """The catalog of :data:`MARKETS` for ``config`` (its start time)."""
    for walk in {spec.walk for spec in MARKETS}:
        if walk not in config.start_prices:
            raise ValueError(f"start_prices[{walk!r}] is needed by the Rails catalog")
    listings = tuple(
        Listing(instrument=_instrument(spec, i, config.start_ms), underlying=spec.walk)
        for i, spec in enumerate(MARKETS)
    )
    return Catalog(listings=listings, indexes={spec.walk: spec.walk for spec in MARKETS})


def places(step: float) -> int:
    """Decimal places of a grid step (0.0001 -> 4)."""
    text = decimal_string(step, 12)
    return len(text.split(".")[1]) if "." in text else 0


def market_list() -> tuple[MarketListing, ...]:
    """What ``GET /api/v1/markets`` answers (the shape is ours)."""
    return tuple(
        MarketListing(
            market=spec.name,
            base_asset=spec.base,
            quote_asset=spec.quote,
            tick_size=decimal_string(spec.tick, places(spec.tick)),
            step_size=decimal_string(spec.step, places(spec.step)),
            min_quantity=decimal_string(spec.step, places(spec.step)),
        )
        for spec in MARKETS
    )
