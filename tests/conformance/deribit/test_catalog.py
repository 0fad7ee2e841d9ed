"""Deribit's catalog for the simulated market: names valid in the protocol's grammar,
facts as spec 6.1 lists them, expiries computed from the start time, and the Deribit error
of every market refusal."""

from __future__ import annotations

import datetime

import msgspec
import pytest
from support.markets import deribit_market

from tradewire.conformance.deribit import (
    PERPETUAL_EXPIRY_MS,
    REASON_CODES,
    deribit_catalog,
    expiries,
    refusal,
)
from tradewire.conformance.market import REASONS, Market, MarketConfig, MarketError
from tradewire.protocol import deribit
from tradewire.protocol.deribit import parse_instrument

UTC = datetime.UTC


def ms(year: int, month: int, day: int, hour: int = 0) -> int:
    return int(datetime.datetime(year, month, day, hour, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def full() -> Market:
    return deribit_market(MarketConfig())


def test_every_name_parses_and_agrees_with_its_facts(full: Market) -> None:
    for info in full.instruments():
        parsed = parse_instrument(info.instrument_name)
        if info.kind == "spot":
            assert parsed.kind == "spot"
            assert info.settlement_period is None
            assert (parsed.base, parsed.quote) == (info.base_currency, info.quote_currency)
            continue
        assert parsed.base == info.base_currency
        if info.settlement_period == "perpetual":
            assert (parsed.kind, info.kind) == ("perpetual", "future")
            assert info.expiration_timestamp == PERPETUAL_EXPIRY_MS
            continue
        assert parsed.kind == info.kind
        expiry = datetime.datetime.fromtimestamp(info.expiration_timestamp / 1000, tz=UTC)
        assert (expiry.date(), expiry.time()) == (parsed.expiry, datetime.time(8))
        assert expiry.weekday() == 4  # Friday
        if info.kind == "option":
            assert float(parsed.strike or 0) == info.strike
            assert parsed.option_type == info.option_type


def test_the_catalog_lists_each_family(full: Market) -> None:
    names = [i.instrument_name for i in full.instruments()]
    assert names[:3] == ["BTC-PERPETUAL", "ETH-PERPETUAL", "BTC_USDC-PERPETUAL"]
    assert names[-1] == "BTC_USDC"
    dated = [n for n in names if parse_instrument(n).kind == "future"]
    assert dated == ["BTC-6DEC24", "BTC-13DEC24", "BTC-27DEC24", "ETH-6DEC24",
                     "ETH-13DEC24", "ETH-27DEC24"]  # fmt: skip
    options = full.instruments("BTC", "option")
    assert {o.strike for o in options} == {float(k) for k in range(57_000, 63_001, 1_000)}
    assert {o.option_type for o in options} == {"call", "put"}
    assert len(options) == 2 * 7 * 2  # expiries x strikes x call/put
    eth = {o.strike for o in full.instruments("ETH", "option")}
    assert eth == {float(k) for k in range(2_850, 3_151, 50)}
    ids = [i.instrument_id for i in full.instruments()]
    assert len(set(ids)) == len(ids)


def test_btc_perpetual_has_the_spec_example_facts(full: Market) -> None:
    spec = {  # spec 6.1's example, less the id and creation time
        "instrument_name": "BTC-PERPETUAL", "kind": "future", "instrument_type": "reversed",
        "base_currency": "BTC", "quote_currency": "USD", "counter_currency": "USD",
        "settlement_currency": "BTC", "settlement_period": "perpetual",
        "price_index": "btc_usd", "is_active": True, "tick_size": 0.5, "tick_size_steps": [],
        "min_trade_amount": 10, "contract_size": 10, "max_leverage": 50,
        "maker_commission": 0, "taker_commission": 0.0005, "max_liquidation_commission": 0.0075,
        "block_trade_commission": 0.00025, "block_trade_min_trade_amount": 200000,
        "block_trade_tick_size": 0.01, "expiration_timestamp": 32503708800000,
    }  # fmt: skip
    facts = msgspec.json.decode(msgspec.json.encode(full.instrument("BTC-PERPETUAL")))
    assert {key: facts[key] for key in spec} == spec
    assert facts["creation_timestamp"] == full.config.start_ms


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ETH-PERPETUAL", {"tick_size": 0.05, "contract_size": 1.0, "min_trade_amount": 1.0}),
        ("BTC_USDC-PERPETUAL", {
            "instrument_type": "linear", "settlement_currency": "USDC", "quote_currency": "USDC",
            "price_index": "btc_usdc", "tick_size": 1.0, "contract_size": 0.001,
            "min_trade_amount": 0.001, "currency": "USDC"}),
        ("BTC-6DEC24-60000-C", {
            "kind": "option", "option_type": "call", "strike": 60000.0, "quote_currency": "BTC",
            "counter_currency": "USD", "tick_size": 0.0001, "min_trade_amount": 0.1,
            "tick_size_steps": ({"above_price": 0.005, "tick_size": 0.0005},),
            "maker_commission": 0.0003, "settlement_period": "week", "max_leverage": None}),
        ("BTC-27DEC24", {"settlement_period": "month", "future_type": "reversed"}),
        ("BTC_USDC", {
            "kind": "spot", "settlement_period": None, "settlement_currency": None,
            "base_currency": "BTC", "quote_currency": "USDC", "currency": "BTC"}),
    ],
)  # fmt: skip
def test_instrument_facts(full: Market, name: str, expected: dict[str, object]) -> None:
    facts = msgspec.structs.asdict(full.instrument(name))
    steps = facts.pop("tick_size_steps")
    facts["tick_size_steps"] = tuple(msgspec.structs.asdict(s) for s in steps)
    assert {key: facts[key] for key in expected} == expected


def test_expiries_are_fridays_at_least_a_day_ahead() -> None:
    monday = ms(2024, 12, 2)
    assert expiries(monday, 2, 1) == [
        (datetime.date(2024, 12, 6), "week"),
        (datetime.date(2024, 12, 13), "week"),
        (datetime.date(2024, 12, 27), "month"),
    ]
    thursday_noon = ms(2024, 12, 5, 12)
    assert expiries(thursday_noon, 1, 0) == [(datetime.date(2024, 12, 13), "week")]
    late = ms(2024, 12, 28)  # past the December quarter end
    assert expiries(late, 0, 2) == [
        (datetime.date(2025, 3, 28), "month"),
        (datetime.date(2025, 6, 27), "month"),
    ]
    friday = ms(2025, 3, 14, 9)  # the quarter end also is the 2nd weekly: listed once
    assert [d for d, _ in expiries(friday, 3, 1)] == [
        datetime.date(2025, 3, 21),
        datetime.date(2025, 3, 28),
        datetime.date(2025, 4, 4),
    ]


def test_names_follow_the_injected_start_time() -> None:
    m = deribit_market(MarketConfig(start_ms=ms(2023, 7, 31), option_expiries=1, option_strikes=0))
    names = {i.instrument_name for i in m.instruments()}
    assert {"BTC-4AUG23", "BTC-11AUG23", "BTC-29SEP23", "BTC-4AUG23-60000-P"} <= names


def test_filters_and_lookups(full: Market) -> None:
    usdc = [i.instrument_name for i in full.instruments("USDC")]
    assert usdc == ["BTC_USDC-PERPETUAL"]
    assert [i.kind for i in full.instruments("BTC", "spot")] == ["spot"]
    assert len(full.instruments("any")) == len(full.instruments())
    assert full.instruments(expired=True) == []
    with pytest.raises(MarketError) as info:
        full.instrument("BTC-1JAN30")
    assert refusal(info.value)[:2] == (10020, "invalid_or_unsupported_instrument")


def test_currencies(full: Market) -> None:
    currencies = {c.currency: c for c in full.currencies()}
    assert list(currencies) == ["BTC", "ETH", "USDC"]
    assert currencies["BTC"].currency_long == "Bitcoin"
    assert currencies["USDC"].fee_precision == 2
    assert all(len(c.withdrawal_priorities) == 5 for c in currencies.values())


def test_facts_map_onto_the_deribit_models(full: Market) -> None:
    for info in full.instruments():
        wire = msgspec.convert(msgspec.to_builtins(info), deribit.Instrument)
        assert wire.instrument_name == info.instrument_name
        assert wire.strike == info.strike
        assert wire.settlement_period == info.settlement_period
    for currency in full.currencies():
        wire_currency = msgspec.convert(msgspec.to_builtins(currency), deribit.Currency)
        assert wire_currency.currency_long == currency.currency_long


def test_config_is_checked() -> None:
    with pytest.raises(ValueError, match="tick_interval"):
        MarketConfig(tick_interval=0)
    with pytest.raises(ValueError, match="start_prices"):
        MarketConfig(start_prices={"btc_usd": -1.0})
    lacking = MarketConfig(start_prices={"btc_usd": 1.0})  # the catalog walks eth_usd too
    with pytest.raises(ValueError, match="start_prices\\['eth_usd'\\]"):
        Market(lacking, catalog=deribit_catalog(lacking))
    with pytest.raises(ValueError, match="probabilities"):
        MarketConfig(taker_rate=2)


def test_every_market_reason_has_a_deribit_code_and_message() -> None:
    assert set(REASON_CODES) == REASONS
    for reason in sorted(REASONS):
        code, message, data = refusal(MarketError(reason, "7", data={"x": 1}))
        assert code == REASON_CODES[reason]
        assert message.endswith(" 7")
        assert data == {"x": 1}


def test_the_catalog_names_its_indexes_and_their_walks() -> None:
    catalog = deribit_catalog(MarketConfig())
    assert list(catalog.indexes) == ["btc_usd", "eth_usd", "btc_usdc"]
    assert catalog.walks() == ["btc_usd", "eth_usd"]
    market = deribit_market(MarketConfig())
    assert market.index_names() == ["btc_usd", "eth_usd", "btc_usdc"]
    assert market.index_price("btc_usdc").price == market.index_price("btc_usd").price
