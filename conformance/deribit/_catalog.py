"""Deribit's catalog for the simulated market: instruments, currencies and index names.

The market (``tradewire.conformance.market``) is venue-neutral and takes its instruments
as data; :func:`deribit_catalog` builds the Deribit ones from a ``MarketConfig`` (its
``start_ms``, expiry counts, strikes and start prices).

What is listed (spec 6.1, 6.5; sizes and fees as Deribit publishes them):

================================ ========= ======== ====== ======== ================
instrument                       type      tick     amount min      fees maker/taker
================================ ========= ======== ====== ======== ================
``BTC-PERPETUAL``, ``BTC-{exp}`` reversed  0.5      USD    10       0 / 0.0005
``ETH-PERPETUAL``, ``ETH-{exp}`` reversed  0.05     USD    1        0 / 0.0005
``BTC_USDC-PERPETUAL``           linear    1        BTC    0.001    0 / 0.0005
``BTC-{exp}-{K}-{C|P}``          reversed  0.0001*  BTC    0.1      0.0003 / 0.0003
``ETH-{exp}-{K}-{C|P}``          reversed  0.0001*  ETH    1        0.0003 / 0.0003
``BTC_USDC`` (spot)              linear    1        BTC    0.0001   0 / 0.0005
================================ ========= ======== ====== ======== ================

\\* option prices move in 0.0005 steps above 0.005 (``tick_size_steps``).

Expiries are computed from ``start_ms``: the next ``weekly_expiries`` Fridays and the next
``quarterly_expiries`` quarter ends (last Friday of March, June, September, December),
at 08:00 UTC, at least a day after the start; a last Friday of a month settles
``month``, any other ``week``.  Options list the first ``option_expiries`` of those, with
strikes on a grid around the start price (1000 for BTC, 50 for ETH).  Names come from
the protocol's builders (``perpetual_name``, ``future_name``, ``option_name``,
``spot_name``).

Index names (spec 3.2): ``btc_usd`` and ``eth_usd`` follow their own walks,
``btc_usdc`` follows ``btc_usd`` (USDC taken at par).
"""

from __future__ import annotations

import datetime

import msgspec

from tradewire.protocol.deribit._instruments import (
    future_name,
    option_name,
    perpetual_name,
    spot_name,
)

from ..market import (
    Catalog,
    Currency,
    Instrument,
    Listing,
    MarketConfig,
    TickSizeStep,
    WithdrawalPriority,
)

__all__ = [
    "INDEX_NAMES",
    "PERPETUAL_EXPIRY_MS",
    "build_currencies",
    "deribit_catalog",
    "expiries",
]

INDEX_NAMES = ("btc_usd", "eth_usd", "btc_usdc")
"""The price indexes the venue publishes (``deribit_price_index.*``, ``get_index_price``)."""

PERPETUAL_EXPIRY_MS = 32_503_708_800_000
"""Perpetuals and spot "expire" in the year 3000 (spec 6.1)."""

FIRST_INSTRUMENT_ID = 210_001
_EXPIRY_HOUR = 8
_UTC = datetime.UTC


# -- expiries ----------------------------------------------------------------------------


def _last_friday(year: int, month: int) -> datetime.date:
    first_next = datetime.date(year + month // 12, month % 12 + 1, 1)
    day = first_next - datetime.timedelta(days=1)
    return day - datetime.timedelta(days=(day.weekday() - 4) % 7)


def _at_expiry_hour(day: datetime.date) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, _EXPIRY_HOUR, tzinfo=_UTC)


def expiries(start_ms: int, weeklies: int, quarterlies: int) -> list[tuple[datetime.date, str]]:
    """``(date, settlement_period)`` of the dated futures, soonest first."""
    earliest = datetime.datetime.fromtimestamp(start_ms / 1000, tz=_UTC) + datetime.timedelta(
        days=1
    )
    friday = earliest.date() + datetime.timedelta(days=(4 - earliest.weekday()) % 7)
    if _at_expiry_hour(friday) <= earliest:
        friday += datetime.timedelta(days=7)
    days = {friday + datetime.timedelta(weeks=i) for i in range(weeklies)}
    year, month, found = earliest.year, earliest.month, 0
    while found < quarterlies:
        if month % 3 == 0:
            day = _last_friday(year, month)
            if _at_expiry_hour(day) > earliest:
                days.add(day)
                found += 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [
        (day, "month" if day == _last_friday(day.year, day.month) else "week")
        for day in sorted(days)
    ]


# -- the catalog ------------------------------------------------------------------------

_INVERSE = {  # currency: (tick, contract size, block min)
    "BTC": (0.5, 10.0, 200_000.0),
    "ETH": (0.05, 1.0, 100_000.0),
}
_OPTIONS = {"BTC": (0.1, 1_000, 25.0), "ETH": (1.0, 50, 250.0)}  # (min, strike step, block min)
_OPTION_STEPS = (TickSizeStep(above_price=0.005, tick_size=0.0005),)


def _base(name: str, number: int, start_ms: int, **fields: object) -> Instrument:
    facts: dict[str, object] = {
        "instrument_name": name,
        "instrument_id": FIRST_INSTRUMENT_ID + number,
        "is_active": True,
        "creation_timestamp": start_ms,
        "tick_size_steps": (),
        "max_leverage": None,
        "max_liquidation_commission": None,
        "rfq": False,
    }
    facts.update(fields)
    return msgspec.convert(facts, Instrument)


def _inverse_future(
    cur: str, name: str, *, n: int, start: int, exp: int, period: str
) -> Instrument:
    tick, size, block_min = _INVERSE[cur]
    return _base(
        name, n, start,
        kind="future", instrument_type="reversed", future_type="reversed",
        base_currency=cur, quote_currency="USD", counter_currency="USD",
        settlement_currency=cur, settlement_period=period, price_index=f"{cur.lower()}_usd",
        tick_size=tick, min_trade_amount=size, contract_size=size, amount_step=size,
        max_leverage=50, maker_commission=0.0, taker_commission=0.0005,
        max_liquidation_commission=0.0075, block_trade_commission=0.00025,
        block_trade_min_trade_amount=block_min, block_trade_tick_size=0.01,
        expiration_timestamp=exp, currency=cur,
    )  # fmt: skip


def _option(
    cur: str, day: datetime.date, *, period: str, strike: int, kind: str, n: int, start: int
) -> Instrument:
    minimum, _, block_min = _OPTIONS[cur]
    return _base(
        option_name(cur, day, strike, "call" if kind == "call" else "put"), n, start,
        kind="option", instrument_type="reversed", option_type=kind, strike=float(strike),
        base_currency=cur, quote_currency=cur, counter_currency="USD",
        settlement_currency=cur, settlement_period=period, price_index=f"{cur.lower()}_usd",
        tick_size=0.0001, tick_size_steps=_OPTION_STEPS, min_trade_amount=minimum,
        contract_size=1.0, amount_step=minimum, maker_commission=0.0003,
        taker_commission=0.0003, block_trade_commission=0.0003,
        block_trade_min_trade_amount=block_min, block_trade_tick_size=0.0001,
        expiration_timestamp=int(_at_expiry_hour(day).timestamp() * 1000), currency=cur,
    )  # fmt: skip


def _linear(name: str, n: int, start: int, *, spot: bool) -> Instrument:
    return _base(
        name, n, start,
        kind="spot" if spot else "future", instrument_type="linear",
        future_type=None if spot else "linear",
        base_currency="BTC", quote_currency="USDC", counter_currency="USDC",
        settlement_currency=None if spot else "USDC",
        settlement_period=None if spot else "perpetual", price_index="btc_usdc",
        tick_size=1.0, min_trade_amount=0.0001 if spot else 0.001,
        contract_size=0.0001 if spot else 0.001, amount_step=0.0001 if spot else 0.001,
        max_leverage=None if spot else 50, maker_commission=0.0, taker_commission=0.0005,
        max_liquidation_commission=None if spot else 0.0075,
        block_trade_commission=0.0001, block_trade_min_trade_amount=200_000.0 if not spot else 1.0,
        block_trade_tick_size=1.0, expiration_timestamp=PERPETUAL_EXPIRY_MS,
        currency="BTC" if spot else "USDC",
    )  # fmt: skip


def deribit_catalog(config: MarketConfig) -> Catalog:
    """Every instrument of the market, in a fixed order (perpetuals, futures, options,
    spot), with the currencies and the index names."""
    for walk in ("btc_usd", "eth_usd"):
        if walk not in config.start_prices:
            raise ValueError(f"start_prices[{walk!r}] is needed by Deribit's catalog")
    start = config.start_ms
    dated = expiries(start, config.weekly_expiries, config.quarterly_expiries)
    specs: list[tuple[Instrument, str]] = []

    def add(instrument: Instrument, underlying: str) -> None:
        specs.append((instrument, underlying))

    for cur in ("BTC", "ETH"):
        perpetual = _inverse_future(
            cur, perpetual_name(cur), n=len(specs), start=start,
            exp=PERPETUAL_EXPIRY_MS, period="perpetual",
        )  # fmt: skip
        add(perpetual, f"{cur.lower()}_usd")
    add(_linear(perpetual_name("BTC_USDC"), len(specs), start, spot=False), "btc_usd")
    for cur in ("BTC", "ETH"):
        for day, period in dated:
            future = _inverse_future(
                cur, future_name(cur, day), n=len(specs), start=start,
                exp=int(_at_expiry_hour(day).timestamp() * 1000), period=period,
            )  # fmt: skip
            add(future, f"{cur.lower()}_usd")
    for cur in ("BTC", "ETH"):
        index = f"{cur.lower()}_usd"
        _, step, _ = _OPTIONS[cur]
        atm = round(config.start_prices[index] / step) * step
        strikes = [
            atm + i * step
            for i in range(-config.option_strikes, config.option_strikes + 1)
            if atm + i * step > 0
        ]
        for day, period in dated[: config.option_expiries]:
            for strike in strikes:
                for kind in ("call", "put"):
                    option = _option(
                        cur, day, period=period, strike=strike, kind=kind,
                        n=len(specs), start=start,
                    )  # fmt: skip
                    add(option, index)
    add(_linear(spot_name("BTC", "USDC"), len(specs), start, spot=True), "btc_usd")
    return Catalog(
        listings=tuple(Listing(instrument=i, underlying=u) for i, u in specs),
        currencies=tuple(build_currencies()),
        indexes={"btc_usd": "btc_usd", "eth_usd": "eth_usd", "btc_usdc": "btc_usd"},
    )


def build_currencies() -> list[Currency]:
    """``get_currencies`` facts of BTC, ETH and USDC."""

    def currency(
        code: str, long: str, *, coin: str, precision: int, fee: float, minimum: float
    ) -> Currency:
        return Currency(
            currency=code,
            currency_long=long,
            coin_type=coin,
            fee_precision=precision,
            min_confirmations=1,
            min_withdrawal_fee=minimum,
            withdrawal_fee=fee,
            withdrawal_priorities=(
                WithdrawalPriority(name="very_low", value=0.15),
                WithdrawalPriority(name="low", value=0.5),
                WithdrawalPriority(name="mid", value=1.5),
                WithdrawalPriority(name="high", value=5.0),
                WithdrawalPriority(name="very_high", value=15.0),
            ),
            in_cross_collateral_pool=code != "USDC",
        )

    return [
        currency("BTC", "Bitcoin", coin="BITCOIN", precision=4, fee=0.0001, minimum=0.0001),
        currency("ETH", "Ethereum", coin="ETHER", precision=4, fee=0.0006, minimum=0.0001),
        currency("USDC", "USD Coin", coin="USDC", precision=2, fee=1.0, minimum=1.0),
    ]
