"""The name strategies: instruments, channels (valid and near misses), ids, currencies."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.conformance.deribit import strategies as ds
from tradewire.protocol import LocalProtocolError
from tradewire.protocol.deribit import (
    CHART_RESOLUTIONS,
    GROUPED_BOOK_DEPTHS,
    GROUPED_BOOK_GROUPS,
    INTERVALS,
    ChannelFamily,
    is_valid_channel,
    parse_channel,
    parse_instrument,
)

ALL_KINDS = ("perpetual", "future", "option", "spot")


@given(ds.instrument_names())
def test_instrument_names_parse_and_rebuild_to_themselves(name: str) -> None:
    parsed = parse_instrument(name)
    assert parsed.name == name
    assert is_valid_channel(f"book.{name}.100ms")


@pytest.mark.parametrize("kind", ALL_KINDS)
@given(data=st.data())
def test_each_kind_gives_names_of_that_kind(kind: str, data: st.DataObject) -> None:
    name = data.draw(ds.instrument_names(kinds=[kind]))
    assert parse_instrument(name).kind == kind


@given(ds.instrument_names(kinds=["option"], linear=True))
def test_linear_options_have_an_underlying_pair_and_may_have_a_d_strike(name: str) -> None:
    parsed = parse_instrument(name)
    assert parsed.linear
    assert parsed.strike is not None
    assert ("d" in name.split("-")[2]) == (parsed.strike != parsed.strike.to_integral_value())


@given(ds.instrument_names(linear=False))
def test_inverse_names_are_btc_or_eth_and_never_spot(name: str) -> None:
    parsed = parse_instrument(name)
    assert parsed.underlying in ("BTC", "ETH")
    assert parsed.kind != "spot"


def test_the_names_cover_fractional_strikes_and_unpadded_days() -> None:
    seen: dict[str, bool] = {"d-strike": False, "one-digit-day": False}

    @settings(max_examples=300)
    @given(ds.instrument_names(kinds=["option", "future"]))
    def look(name: str) -> None:
        parsed = parse_instrument(name)
        if parsed.strike is not None and parsed.strike % 1:
            seen["d-strike"] = True
            assert parsed.strike == Decimal(name.split("-")[2].replace("d", "."))
        assert parsed.expiry is not None
        if parsed.expiry.day < 10:
            seen["one-digit-day"] = True
            assert f"-{parsed.expiry.day}{name.split('-')[1][-5:]}" in name
        assert datetime.date(2020, 1, 1) <= parsed.expiry <= datetime.date(2035, 12, 31)

    look()
    assert seen == {"d-strike": True, "one-digit-day": True}


def test_instrument_names_refuse_impossible_requests() -> None:
    with pytest.raises(ValueError, match="invalid kind 'swap'"):
        ds.instrument_names(kinds=["swap"])
    with pytest.raises(ValueError, match="no instrument"):
        ds.instrument_names(kinds=["spot"], linear=False)


@given(ds.channel_names())
def test_channel_names_are_valid_grammar(name: str) -> None:
    assert parse_channel(name).name == name


@pytest.mark.parametrize("family", list(ChannelFamily))
@given(data=st.data())
def test_every_family_gives_channels_of_that_family(
    family: ChannelFamily, data: st.DataObject
) -> None:
    name = data.draw(ds.channel_names([family]))
    assert parse_channel(name).family is family


@pytest.mark.parametrize("needs_auth", [True, False])
@given(data=st.data())
def test_needs_auth_selects_channels_by_what_they_need(
    needs_auth: bool, data: st.DataObject
) -> None:
    name = data.draw(ds.channel_names(needs_auth=needs_auth))
    assert parse_channel(name).needs_auth is needs_auth


def test_needs_auth_with_families_that_cannot_have_it_is_refused() -> None:
    with pytest.raises(ValueError, match="no channel"):
        ds.channel_names([ChannelFamily.QUOTE], needs_auth=True)
    with pytest.raises(ValueError, match="no channel"):
        ds.channel_names([ChannelFamily.USER_ORDERS], needs_auth=False)


def test_channels_cover_every_interval_group_depth_and_resolution() -> None:
    seen: dict[str, set[object]] = {"interval": set(), "group": set(), "depth": set(), "res": set()}

    @settings(max_examples=600)
    @given(ds.channel_names([ChannelFamily.BOOK, ChannelFamily.GROUPED_BOOK, ChannelFamily.CHART]))
    def look(name: str) -> None:
        channel = parse_channel(name)
        if channel.interval is not None:
            seen["interval"].add(channel.interval)
        if channel.group is not None:
            seen["group"].add(channel.group)
            seen["depth"].add(channel.depth)
        if channel.resolution is not None:
            seen["res"].add(channel.resolution)

    look()
    assert seen["interval"] == set(INTERVALS)
    assert seen["group"] == set(GROUPED_BOOK_GROUPS)
    assert seen["depth"] == set(GROUPED_BOOK_DEPTHS)
    assert seen["res"] == set(CHART_RESOLUTIONS)


@given(ds.invalid_channel_names())
def test_invalid_channel_names_fail_the_grammar(name: str) -> None:
    assert not is_valid_channel(name)
    with pytest.raises(LocalProtocolError):
        parse_channel(name)


@given(ds.invalid_channel_names())
def test_invalid_channel_names_are_refused_by_subscribe(name: str) -> None:
    from tradewire.protocol.deribit import Subscribe

    with pytest.raises(LocalProtocolError):
        Subscribe(channels=[name])


@given(ds.request_ids())
def test_request_ids_are_ints_or_strings(request_id: int | str) -> None:
    assert isinstance(request_id, int | str)
    assert not isinstance(request_id, bool)


@given(ds.currencies(allow_any=True), ds.index_names(), ds.underlyings())
def test_currencies_index_names_and_underlyings_fit_their_grammars(
    currency: str, index: str, underlying: str
) -> None:
    assert currency == "any" or (currency.isupper() and currency.isalpha())
    assert is_valid_channel(f"deribit_price_index.{index}")
    assert is_valid_channel(f"trades.future.{currency}.100ms")
    assert parse_instrument(f"{underlying}-PERPETUAL").underlying == underlying
