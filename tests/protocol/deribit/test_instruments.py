"""Instrument names (spec 6.5): every template parses, builds and round-trips."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.protocol import LocalProtocolError
from tradewire.protocol.deribit import (
    InstrumentName,
    future_name,
    option_name,
    parse_instrument,
    perpetual_name,
    spot_name,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "BTC-25MAR23",
            InstrumentName(
                name="BTC-25MAR23",
                kind="future",
                underlying="BTC",
                base="BTC",
                expiry=datetime.date(2023, 3, 25),
            ),
        ),
        (
            "BTC-5AUG23",
            InstrumentName(
                name="BTC-5AUG23",
                kind="future",
                underlying="BTC",
                base="BTC",
                expiry=datetime.date(2023, 8, 5),
            ),
        ),
        (
            "BTC-PERPETUAL",
            InstrumentName(name="BTC-PERPETUAL", kind="perpetual", underlying="BTC", base="BTC"),
        ),
        (
            "BTC_USDC-PERPETUAL",
            InstrumentName(
                name="BTC_USDC-PERPETUAL",
                kind="perpetual",
                underlying="BTC_USDC",
                base="BTC",
                quote="USDC",
            ),
        ),
        (
            "BTC-25MAR23-420-C",
            InstrumentName(
                name="BTC-25MAR23-420-C",
                kind="option",
                underlying="BTC",
                base="BTC",
                expiry=datetime.date(2023, 3, 25),
                strike=Decimal(420),
                option_type="call",
            ),
        ),
        (
            "BTC-5AUG23-580-P",
            InstrumentName(
                name="BTC-5AUG23-580-P",
                kind="option",
                underlying="BTC",
                base="BTC",
                expiry=datetime.date(2023, 8, 5),
                strike=Decimal(580),
                option_type="put",
            ),
        ),
        (
            "XRP_USDC-30JUN23-0d625-C",
            InstrumentName(
                name="XRP_USDC-30JUN23-0d625-C",
                kind="option",
                underlying="XRP_USDC",
                base="XRP",
                quote="USDC",
                expiry=datetime.date(2023, 6, 30),
                strike=Decimal("0.625"),
                option_type="call",
            ),
        ),
        (
            "BTC_USDC",
            InstrumentName(
                name="BTC_USDC", kind="spot", underlying="BTC_USDC", base="BTC", quote="USDC"
            ),
        ),
    ],
)
def test_spec_examples_parse(name: str, expected: InstrumentName) -> None:
    parsed = parse_instrument(name)
    assert parsed == expected
    assert parsed.linear is (expected.quote is not None)


def test_builders_reproduce_the_spec_examples() -> None:
    assert future_name("BTC", datetime.date(2023, 3, 25)) == "BTC-25MAR23"
    assert future_name("BTC", datetime.date(2023, 8, 5)) == "BTC-5AUG23"
    assert perpetual_name("BTC_USDC") == "BTC_USDC-PERPETUAL"
    assert option_name("BTC", datetime.date(2023, 3, 25), 420, "C") == "BTC-25MAR23-420-C"
    assert option_name("BTC", datetime.date(2023, 8, 5), "580", "put") == "BTC-5AUG23-580-P"
    assert (
        option_name("XRP_USDC", datetime.date(2023, 6, 30), Decimal("0.6250"), "call")
        == "XRP_USDC-30JUN23-0d625-C"
    )
    assert (
        option_name("ETH", datetime.date(2024, 1, 1), Decimal("1E+3"), "P") == "ETH-1JAN24-1000-P"
    )
    assert spot_name("ETH", "USDC") == "ETH_USDC"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "BTC",
        "btc-PERPETUAL",
        "BTC-PERP",
        "BTC-05AUG23",  # no zero padding (spec 6.5)
        "BTC-32JAN23",
        "BTC-30FEB23",  # not a calendar date
        "BTC-5Aug23",
        "BTC-5AUG2023",
        "BTC-25MAR23-420",
        "BTC-25MAR23-420-X",
        "BTC-25MAR23-0.5-C",
        "BTC-FS-29SEP23_PERP",  # combos are outside the grammar
        "BTC_USDC_X",
    ],
)
def test_invalid_names_are_rejected(name: str) -> None:
    with pytest.raises(LocalProtocolError, match="invalid instrument name"):
        parse_instrument(name)


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda: perpetual_name("btc"), "underlying"),
        (lambda: future_name("BTC", datetime.date(1999, 1, 1)), "expiry"),
        (lambda: option_name("BTC", datetime.date(2024, 1, 1), -1, "C"), "strike"),
        (lambda: option_name("BTC", datetime.date(2024, 1, 1), "abc", "C"), "strike"),
        (lambda: option_name("BTC", datetime.date(2024, 1, 1), 1, "X"), "option_type"),  # type: ignore[arg-type]
        (lambda: spot_name("BTC", "usdc"), "quote"),
    ],
)
def test_builders_name_the_bad_argument(call: object, argument: str) -> None:
    with pytest.raises(LocalProtocolError, match=f"invalid {argument}"):
        call()  # type: ignore[operator]


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(LocalProtocolError, match="expected a str"):
        parse_instrument(42)  # type: ignore[arg-type]


currencies = st.from_regex(r"[A-Z][A-Z0-9]{1,5}", fullmatch=True)
underlyings = st.one_of(currencies, st.builds(lambda b, q: f"{b}_{q}", currencies, currencies))
expiries = st.dates(datetime.date(2000, 1, 1), datetime.date(2099, 12, 31))
strikes = st.decimals(min_value=0, max_value=10**7, places=4, allow_nan=False)


@given(underlyings, expiries, strikes, st.sampled_from(["call", "put"]))
def test_option_names_round_trip(
    und: str, expiry: datetime.date, strike: Decimal, cp: Literal["call", "put"]
) -> None:
    name = option_name(und, expiry, strike, cp)
    parsed = parse_instrument(name)
    assert (parsed.kind, parsed.underlying, parsed.expiry) == ("option", und, expiry)
    assert parsed.strike == strike
    assert parsed.option_type == cp
    assert parsed.strike is not None
    assert option_name(und, expiry, parsed.strike, cp) == name


@given(underlyings, expiries)
def test_future_and_perpetual_names_round_trip(und: str, expiry: datetime.date) -> None:
    future = parse_instrument(future_name(und, expiry))
    assert (future.kind, future.underlying, future.expiry) == ("future", und, expiry)
    perpetual = parse_instrument(perpetual_name(und))
    assert (perpetual.kind, perpetual.underlying, perpetual.expiry) == ("perpetual", und, None)


@given(currencies, currencies)
def test_spot_names_round_trip(base: str, quote: str) -> None:
    parsed = parse_instrument(spot_name(base, quote))
    assert (parsed.kind, parsed.base, parsed.quote) == ("spot", base, quote)
