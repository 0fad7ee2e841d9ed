"""Currency.com's catalog for the simulated market (docs/venues/currencycom.md, spec 4).

What the reference venue lists (our selection; names as the venue writes them, spec 4):

=================== ============ ========= ====== ======== ========== ==================
symbol              market type  walk      tick   min qty  fee        what
=================== ============ ========= ====== ======== ========== ==================
``BTC/USD``         SPOT         btc_usd   0.01   0.0001   0.2 %      crypto pair
``ETH/USD``         SPOT         eth_usd   0.01   0.001    0.2 %      crypto pair
``AAPL``            SPOT         aapl_usd  0.01   0.01     0.2 %      tokenised share
``TSLA``            SPOT         tsla_usd  0.01   0.01     0.2 %      tokenised share
``BTC/USD_LEVERAGE`` LEVERAGE    btc_usd   0.05   0.001    0.075 %    leverage (x2..x20)
``ETH/USD_LEVERAGE`` LEVERAGE    eth_usd   0.01   0.01     0.075 %    leverage
``Oil - Brent.``    LEVERAGE     brent_usd 0.01   1        0.075 %    asset-only leverage
=================== ============ ========= ====== ======== ========== ==================

SPOT symbols trade in the exchange mode (balances move), LEVERAGE ones in the leverage
mode (positions with P&L settled in USD: a linear perpetual for the engine).  Balances
start at ``STARTING_BALANCES``.
"""

from __future__ import annotations

import msgspec

from ..market import Catalog, Currency, Instrument, Listing, MarketConfig

__all__ = [
    "LEVERAGE_VALUES",
    "LISTINGS",
    "STARTING_BALANCES",
    "currencycom_catalog",
    "market_config",
]

PERPETUAL_EXPIRY_MS = 32_503_708_800_000
LEVERAGE_VALUES = (2, 5, 10, 20)
"""``leverageSettings`` values of every LEVERAGE symbol (spec 4.3 example)."""

STARTING_BALANCES = {"USD": 100_000.0, "BTC": 1.0, "ETH": 10.0, "AAPL": 50.0, "TSLA": 50.0}

PRICES = {
    "btc_usd": 60_000.0,
    "eth_usd": 3_000.0,
    "aapl_usd": 190.0,
    "tsla_usd": 250.0,
    "brent_usd": 80.0,
}
VOLATILITIES = {
    "btc_usd": 0.6,
    "eth_usd": 0.75,
    "aapl_usd": 0.25,
    "tsla_usd": 0.5,
    "brent_usd": 0.35,
}

# symbol, base, quote, walk, tick, min qty, leverage?, asset type
LISTINGS: tuple[tuple[str, str, str, str, float, float, bool, str], ...] = (
    ("BTC/USD", "BTC", "USD", "btc_usd", 0.01, 0.0001, False, "CRYPTOCURRENCY"),
    ("ETH/USD", "ETH", "USD", "eth_usd", 0.01, 0.001, False, "CRYPTOCURRENCY"),
    ("AAPL", "AAPL", "USD", "aapl_usd", 0.01, 0.01, False, "EQUITY"),
    ("TSLA", "TSLA", "USD", "tsla_usd", 0.01, 0.01, False, "EQUITY"),
    ("BTC/USD_LEVERAGE", "BTC", "USD", "btc_usd", 0.05, 0.001, True, "CRYPTOCURRENCY"),
    ("ETH/USD_LEVERAGE", "ETH", "USD", "eth_usd", 0.01, 0.01, True, "CRYPTOCURRENCY"),
    ("Oil - Brent.", "Oil - Brent.", "USD", "brent_usd", 0.01, 1.0, True, "COMMODITY"),
)


def market_config(**fields: object) -> MarketConfig:
    """A :class:`MarketConfig` with this catalog's walks and balances (``fields`` override)."""
    base: dict[str, object] = {
        "start_prices": dict(PRICES),
        "volatilities": dict(VOLATILITIES),
        "starting_balances": dict(STARTING_BALANCES),
        "maker_half_spread": 0.0001,
        "maker_level_gap": 0.0001,
        "past_hours": 24,
        "past_trades": 20,
    }
    base.update(fields)
    return msgspec.convert(base, MarketConfig)


def _instrument(
    n: int, start_ms: int, listing: tuple[str, str, str, str, float, float, bool, str]
) -> Instrument:
    symbol, base, quote, walk, tick, minimum, leverage, _ = listing
    facts: dict[str, object] = {
        "instrument_name": symbol,
        "instrument_id": 100_001 + n,
        "kind": "future" if leverage else "spot",
        "instrument_type": "linear",
        "future_type": "linear" if leverage else None,
        "base_currency": base,
        "quote_currency": quote,
        "counter_currency": quote,
        "settlement_currency": quote if leverage else None,
        "settlement_period": "perpetual" if leverage else None,
        "price_index": walk,
        "is_active": True,
        "tick_size": tick,
        "tick_size_steps": (),
        "min_trade_amount": minimum,
        "contract_size": minimum,
        "amount_step": minimum,
        "max_leverage": max(LEVERAGE_VALUES) if leverage else None,
        "maker_commission": 0.00075 if leverage else 0.002,
        "taker_commission": 0.00075 if leverage else 0.002,
        "max_liquidation_commission": None,
        "block_trade_commission": 0.0,
        "block_trade_min_trade_amount": minimum,
        "block_trade_tick_size": tick,
        "creation_timestamp": start_ms,
        "expiration_timestamp": PERPETUAL_EXPIRY_MS,
        "currency": quote if leverage else base,
    }
    return msgspec.convert(facts, Instrument)


def currencycom_catalog(config: MarketConfig) -> Catalog:
    """The listings above, in order, with their currencies and walks."""
    for walk in PRICES:
        if walk not in config.start_prices:
            raise ValueError(f"start_prices[{walk!r}] is needed by Currency.com's catalog")
    listings = tuple(
        Listing(instrument=_instrument(n, config.start_ms, item), underlying=item[3])
        for n, item in enumerate(LISTINGS)
    )
    codes = ["USD", "BTC", "ETH", "AAPL", "TSLA"]
    currencies = tuple(
        Currency(
            currency=code,
            currency_long=code,
            coin_type=code,
            fee_precision=2,
            min_confirmations=1,
            min_withdrawal_fee=0.0,
            withdrawal_fee=0.0,
            withdrawal_priorities=(),
            in_cross_collateral_pool=False,
        )
        for code in codes
    )
    return Catalog(listings=listings, currencies=currencies, indexes={w: w for w in PRICES})
