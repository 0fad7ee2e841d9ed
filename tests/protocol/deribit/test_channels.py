"""Channel names (spec 3.2): every table row parses, builds and round-trips."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradewire.protocol import LocalProtocolError
from tradewire.protocol.deribit import (
    ANNOUNCEMENTS,
    CHART_RESOLUTIONS,
    GROUPED_BOOK_DEPTHS,
    GROUPED_BOOK_GROUPS,
    GROUPED_BOOK_INTERVALS,
    INTERVALS,
    KINDS,
    PLATFORM_STATE,
    PUBLIC_METHODS_STATE,
    USER_ACCESS_LOG,
    USER_KINDS,
    USER_LOCK,
    Channel,
    ChannelFamily,
    book_channel,
    chart_channel,
    grouped_book_channel,
    incremental_ticker_channel,
    instrument_state_channel,
    is_valid_channel,
    parse_channel,
    perpetual_channel,
    price_index_channel,
    quote_channel,
    ticker_channel,
    trades_channel,
    user_changes_channel,
    user_mmp_trigger_channel,
    user_orders_channel,
    user_portfolio_channel,
    user_trades_channel,
)

F = ChannelFamily

# One example per row of the spec 3.2 table (and both variants of the two-form rows).
ROWS: list[tuple[str, Channel]] = [
    (
        "book.BTC-PERPETUAL.100ms",
        Channel(name="", family=F.BOOK, instrument="BTC-PERPETUAL", interval="100ms"),
    ),
    (
        "book.ETH-PERPETUAL.100.1.100ms",
        Channel(
            name="",
            family=F.GROUPED_BOOK,
            instrument="ETH-PERPETUAL",
            group="100",
            depth=1,
            interval="100ms",
        ),
    ),
    (
        "ticker.BTC-PERPETUAL.raw",
        Channel(name="", family=F.TICKER, instrument="BTC-PERPETUAL", interval="raw"),
    ),
    (
        "incremental_ticker.BTC-PERPETUAL",
        Channel(name="", family=F.INCREMENTAL_TICKER, instrument="BTC-PERPETUAL"),
    ),
    ("quote.BTC-PERPETUAL", Channel(name="", family=F.QUOTE, instrument="BTC-PERPETUAL")),
    (
        "trades.BTC-PERPETUAL.agg2",
        Channel(name="", family=F.TRADES, instrument="BTC-PERPETUAL", interval="agg2"),
    ),
    (
        "trades.option.BTC.100ms",
        Channel(name="", family=F.TRADES, kind="option", currency="BTC", interval="100ms"),
    ),
    (
        "chart.trades.BTC-PERPETUAL.1D",
        Channel(name="", family=F.CHART, instrument="BTC-PERPETUAL", resolution="1D"),
    ),
    ("deribit_price_index.btc_usd", Channel(name="", family=F.PRICE_INDEX, index_name="btc_usd")),
    (
        "perpetual.BTC-PERPETUAL.raw",
        Channel(name="", family=F.PERPETUAL, instrument="BTC-PERPETUAL", interval="raw"),
    ),
    ("platform_state", Channel(name="", family=F.PLATFORM_STATE)),
    ("platform_state.public_methods_state", Channel(name="", family=F.PUBLIC_METHODS_STATE)),
    ("announcements", Channel(name="", family=F.ANNOUNCEMENTS)),
    (
        "instrument.state.future.BTC",
        Channel(name="", family=F.INSTRUMENT_STATE, kind="future", currency="BTC"),
    ),
    (
        "user.orders.BTC-PERPETUAL.raw",
        Channel(name="", family=F.USER_ORDERS, instrument="BTC-PERPETUAL", interval="raw"),
    ),
    (
        "user.orders.BTC-PERPETUAL.100ms",
        Channel(name="", family=F.USER_ORDERS, instrument="BTC-PERPETUAL", interval="100ms"),
    ),
    (
        "user.orders.any.any.raw",
        Channel(name="", family=F.USER_ORDERS, kind="any", currency="any", interval="raw"),
    ),
    (
        "user.orders.future.BTC.agg2",
        Channel(name="", family=F.USER_ORDERS, kind="future", currency="BTC", interval="agg2"),
    ),
    (
        "user.trades.ETH-PERPETUAL.100ms",
        Channel(name="", family=F.USER_TRADES, instrument="ETH-PERPETUAL", interval="100ms"),
    ),
    (
        "user.trades.combo.ETH.raw",
        Channel(name="", family=F.USER_TRADES, kind="combo", currency="ETH", interval="raw"),
    ),
    (
        "user.changes.XRP_USDC-30JUN23-0d625-C.raw",
        Channel(
            name="", family=F.USER_CHANGES, instrument="XRP_USDC-30JUN23-0d625-C", interval="raw"
        ),
    ),
    (
        "user.changes.option.USDC.100ms",
        Channel(name="", family=F.USER_CHANGES, kind="option", currency="USDC", interval="100ms"),
    ),
    ("user.portfolio.btc", Channel(name="", family=F.USER_PORTFOLIO, currency="btc")),
    ("user.portfolio.BTC", Channel(name="", family=F.USER_PORTFOLIO, currency="BTC")),
    ("user.access_log", Channel(name="", family=F.USER_ACCESS_LOG)),
    ("user.lock", Channel(name="", family=F.USER_LOCK)),
    ("user.mmp_trigger.btc_usd", Channel(name="", family=F.USER_MMP_TRIGGER, index_name="btc_usd")),
]


@pytest.mark.parametrize(("name", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_every_table_row_parses(name: str, expected: Channel) -> None:
    parsed = parse_channel(name)
    assert parsed == msgspec.structs.replace(expected, name=name)
    assert is_valid_channel(name)


def test_every_family_has_a_row() -> None:
    assert {channel.family for _, channel in ROWS} == set(ChannelFamily)


@pytest.mark.parametrize(
    ("name", "needs_auth", "private_only"),
    [
        ("book.BTC-PERPETUAL.100ms", False, False),
        ("book.BTC-PERPETUAL.raw", True, False),
        ("ticker.BTC-PERPETUAL.raw", True, False),
        ("trades.future.BTC.raw", True, False),
        ("book.BTC-PERPETUAL.none.20.agg2", False, False),
        ("quote.BTC-PERPETUAL", False, False),
        ("platform_state", False, False),
        ("user.orders.any.any.raw", True, True),
        ("user.trades.BTC-PERPETUAL.100ms", True, True),
        ("user.portfolio.BTC", True, True),
        ("user.lock", True, True),
    ],
)
def test_auth_and_private_flags(name: str, needs_auth: bool, private_only: bool) -> None:
    channel = parse_channel(name)
    assert channel.needs_auth is needs_auth
    assert channel.private_only is private_only


def test_unknown_instruments_are_valid_grammar() -> None:
    # Only the venue knows its instruments; combo names pass too.
    assert parse_channel("ticker.BTC-PERP.100ms").instrument == "BTC-PERP"
    assert is_valid_channel("book.BTC-FS-29SEP23_PERP.100ms")


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("book.BTC-PERPETUAL.50ms", "interval"),
        ("book.BTC-PERPETUAL.none.50.100ms", "depth"),
        ("book.BTC-PERPETUAL.3.10.100ms", "group"),
        ("book.BTC-PERPETUAL.none.10.raw", "interval"),
        ("ticker.BTC-PERPETUAL.1s", "interval"),
        ("ticker.btc-perpetual.100ms", "instrument"),
        ("chart.trades.BTC-PERPETUAL.2", "resolution"),
        ("trades.perpetual.BTC.100ms", "kind"),
        ("trades.any.BTC.100ms", "kind"),  # 'any' only on user channels (spec 3.2)
        ("trades.future.btc.100ms", "currency"),
        ("user.orders.future.BTC.1s", "interval"),
        ("user.orders.swap.BTC.raw", "kind"),
        ("user.portfolio.any", "currency"),
        ("deribit_price_index.BTC_USD", "index_name"),
        ("instrument.state.combo.BTC", "kind"),
    ],
)
def test_invalid_parts_are_named(name: str, part: str) -> None:
    with pytest.raises(LocalProtocolError, match=f"invalid {part} in channel"):
        parse_channel(name)
    assert not is_valid_channel(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "book",
        "book.BTC-PERPETUAL",
        "book.BTC-PERPETUAL.none.10",
        "ticker.BTC-PERPETUAL",
        "quote.BTC-PERPETUAL.100ms",
        "chart.BTC-PERPETUAL.1",
        "trades.BTC-PERPETUAL",
        "user",
        "user.orders",
        "user.portfolio",
        "user.unknown.x",
        "platform_state.other",
        "nonsense.x",
        "instrument.state.future",
        "deribit_price_index",
        "user.mmp_trigger",
    ],
)
def test_wrong_shapes_are_rejected(name: str) -> None:
    with pytest.raises(LocalProtocolError, match="invalid channel"):
        parse_channel(name)


def test_non_string_is_rejected() -> None:
    with pytest.raises(LocalProtocolError, match="expected a str"):
        parse_channel(None)  # type: ignore[arg-type]


def test_builders_make_the_table_rows() -> None:
    built = [
        book_channel("BTC-PERPETUAL"),
        grouped_book_channel("ETH-PERPETUAL", 100, 1),
        ticker_channel("BTC-PERPETUAL", "raw"),
        incremental_ticker_channel("BTC-PERPETUAL"),
        quote_channel("BTC-PERPETUAL"),
        trades_channel("BTC-PERPETUAL", interval="agg2"),
        trades_channel(kind="option", currency="BTC"),
        chart_channel("BTC-PERPETUAL", "1D"),
        price_index_channel("btc_usd"),
        perpetual_channel("BTC-PERPETUAL", "raw"),
        instrument_state_channel("future", "BTC"),
        user_orders_channel("BTC-PERPETUAL"),
        user_orders_channel("BTC-PERPETUAL", interval="100ms"),
        user_orders_channel(kind="any", currency="any"),
        user_orders_channel(kind="future", currency="BTC", interval="agg2"),
        user_trades_channel("ETH-PERPETUAL", interval="100ms"),
        user_trades_channel(kind="combo", currency="ETH"),
        user_changes_channel("XRP_USDC-30JUN23-0d625-C"),
        user_changes_channel(kind="option", currency="USDC", interval="100ms"),
        user_portfolio_channel("btc"),
        user_portfolio_channel("BTC"),
        user_mmp_trigger_channel("btc_usd"),
    ]
    fixed = [PLATFORM_STATE, PUBLIC_METHODS_STATE, ANNOUNCEMENTS, USER_ACCESS_LOG, USER_LOCK]
    assert sorted(built + fixed) == sorted(name for name, _ in ROWS)
    assert chart_channel("BTC-PERPETUAL", 60) == "chart.trades.BTC-PERPETUAL.60"
    assert grouped_book_channel("BTC-PERPETUAL", "none", 20, "agg2") == (
        "book.BTC-PERPETUAL.none.20.agg2"
    )


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: book_channel("BTC-PERPETUAL", "50ms"), "invalid interval: '50ms'; accepted"),
        (lambda: grouped_book_channel("X", 3, 10), "invalid group: '3'; accepted values: 'none'"),
        (lambda: grouped_book_channel("X", 1, 50), "invalid depth: 50; accepted values: 1, 10"),
        (lambda: grouped_book_channel("X", 1, True), "invalid depth"),
        (lambda: grouped_book_channel("X", True, 1), "invalid group"),
        (lambda: grouped_book_channel("X", 1, 10, "raw"), "invalid interval: 'raw'"),
        (lambda: ticker_channel("BTC PERPETUAL"), "invalid instrument"),
        (lambda: ticker_channel("BTC.PERPETUAL"), "invalid instrument"),
        (lambda: chart_channel("X", 2), "invalid resolution: '2'"),
        (trades_channel, "pass either instrument or both kind and currency"),
        (lambda: trades_channel("X", kind="future"), "pass either instrument or kind"),
        (lambda: trades_channel(kind="any", currency="BTC"), "invalid kind: 'any'"),
        (lambda: user_trades_channel(kind="any", currency="btc"), "invalid currency: 'btc'"),
        (lambda: user_orders_channel("X", interval="1s"), "invalid interval"),
        (lambda: user_portfolio_channel("any"), "invalid currency"),
        (lambda: price_index_channel("BTC_USD"), "invalid index_name"),
        (lambda: instrument_state_channel("any", "BTC"), "invalid kind"),
        (lambda: user_mmp_trigger_channel(""), "invalid index_name"),
    ],
)
def test_builders_name_the_bad_part_and_the_accepted_values(
    build: Callable[[], str], message: str
) -> None:
    with pytest.raises(LocalProtocolError, match=message.replace("(", r"\(")):
        build()


instruments = st.from_regex(r"[A-Z0-9][A-Za-z0-9_\-]{0,24}", fullmatch=True)
currencies = st.one_of(st.just("any"), st.from_regex(r"[A-Z][A-Z0-9]{1,6}", fullmatch=True))
index_names = st.from_regex(r"[a-z0-9]{1,5}(_[a-z0-9]{1,5}){0,2}", fullmatch=True)
intervals = st.sampled_from(INTERVALS)


@st.composite
def built_channels(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    """A builder call and the parts :func:`parse_channel` must report for its result."""
    choice = draw(st.integers(0, 12))
    inst = draw(instruments)
    interval = draw(intervals)
    if choice == 0:
        return book_channel(inst, interval), {"instrument": inst, "interval": interval}
    if choice == 1:
        group = draw(st.sampled_from(GROUPED_BOOK_GROUPS))
        depth = draw(st.sampled_from(GROUPED_BOOK_DEPTHS))
        grouped_interval = draw(st.sampled_from(GROUPED_BOOK_INTERVALS))
        name = grouped_book_channel(inst, group, depth, grouped_interval)
        return name, {
            "instrument": inst,
            "group": group,
            "depth": depth,
            "interval": grouped_interval,
        }
    if choice == 2:
        return ticker_channel(inst, interval), {"instrument": inst, "interval": interval}
    if choice == 3:
        return perpetual_channel(inst, interval), {"instrument": inst, "interval": interval}
    if choice == 4:
        return quote_channel(inst), {"instrument": inst}
    if choice == 5:
        return incremental_ticker_channel(inst), {"instrument": inst}
    if choice == 6:
        resolution = draw(st.sampled_from(CHART_RESOLUTIONS))
        return chart_channel(inst, resolution), {"instrument": inst, "resolution": resolution}
    if choice == 7:
        index = draw(index_names)
        return price_index_channel(index), {"index_name": index}
    if choice == 8:
        kind, currency = draw(st.sampled_from(KINDS)), draw(currencies)
        name = trades_channel(kind=kind, currency=currency, interval=interval)
        return name, {"kind": kind, "currency": currency, "interval": interval}
    if choice == 9:
        kind, currency = draw(st.sampled_from(KINDS)), draw(currencies)
        return instrument_state_channel(kind, currency), {"kind": kind, "currency": currency}
    builder = draw(
        st.sampled_from([user_orders_channel, user_trades_channel, user_changes_channel])
    )
    if choice == 10:
        return builder(inst, interval=interval), {"instrument": inst, "interval": interval}
    if choice == 11:
        kind, currency = draw(st.sampled_from(USER_KINDS)), draw(currencies)
        name = builder(kind=kind, currency=currency, interval=interval)
        return name, {"kind": kind, "currency": currency, "interval": interval}
    currency = draw(currencies.filter(lambda c: c != "any"))
    return user_portfolio_channel(currency), {"currency": currency}


@given(built_channels())
def test_built_channels_parse_back_to_their_parts(case: tuple[str, dict[str, object]]) -> None:
    name, parts = case
    channel = parse_channel(name)
    assert channel.name == name
    for field in ("instrument", "kind", "currency", "interval", "group", "depth", "resolution"):
        assert getattr(channel, field) == parts.get(field), field
    assert channel.index_name == parts.get("index_name")


@given(st.text(max_size=60))
def test_parser_raises_only_local_protocol_error(name: str) -> None:
    try:
        channel = parse_channel(name)
    except LocalProtocolError:
        assert not is_valid_channel(name)
    else:
        assert channel.name == name
