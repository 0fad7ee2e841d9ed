"""Channel names of spec 3.2, valid ones for every family and near misses.

The near misses are one step away from a valid name, the way a peer gets a name
wrong; each one fails ``parse_channel``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from hypothesis import strategies as st

from tradewire.protocol.deribit import ANNOUNCEMENTS as _ANNOUNCEMENTS
from tradewire.protocol.deribit import (
    CHART_RESOLUTIONS,
    GROUPED_BOOK_DEPTHS,
    GROUPED_BOOK_GROUPS,
    GROUPED_BOOK_INTERVALS,
    INTERVALS,
    KINDS,
    USER_KINDS,
    ChannelFamily,
    book_channel,
    chart_channel,
    grouped_book_channel,
    incremental_ticker_channel,
    instrument_state_channel,
    is_valid_channel,
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
from tradewire.protocol.deribit import PLATFORM_STATE as _PLATFORM_STATE
from tradewire.protocol.deribit import PUBLIC_METHODS_STATE as _PUBLIC_METHODS_STATE
from tradewire.protocol.deribit import USER_ACCESS_LOG as _USER_ACCESS_LOG
from tradewire.protocol.deribit import USER_LOCK as _USER_LOCK

from ._names import currencies, index_names, instrument_names

__all__ = ["channel_names", "invalid_channel_names"]

_Intervals = tuple[str, ...]


def _intervals(raw: bool | None, allowed: _Intervals = INTERVALS) -> _Intervals:
    if raw is None:
        return allowed
    return tuple(i for i in allowed if (i == "raw") is raw)


@functools.cache
def _family_channels(family: ChannelFamily, auth: bool | None) -> st.SearchStrategy[str] | None:
    """Channels of ``family``; ``auth`` True/False keeps those that need auth / do not."""
    user = family.value.startswith("user.")
    if user and auth is False:
        return None
    raw: bool | None = None if user else auth
    intervals = _intervals(raw)
    instrument = instrument_names()
    F = ChannelFamily
    if family is F.BOOK:
        return st.builds(book_channel, instrument, st.sampled_from(intervals))
    if family in (F.TICKER, F.PERPETUAL):
        builder = ticker_channel if family is F.TICKER else perpetual_channel
        names = instrument if family is F.TICKER else instrument_names(kinds=("perpetual",))
        return st.builds(builder, names, st.sampled_from(intervals))
    if family is F.TRADES:
        return st.one_of(
            st.builds(trades_channel, instrument, interval=st.sampled_from(intervals)),
            st.builds(
                trades_channel,
                kind=st.sampled_from(KINDS),
                currency=currencies(allow_any=True),
                interval=st.sampled_from(intervals),
            ),
        )
    if auth is True and not user:
        return None  # the families below have no raw interval
    if family is F.GROUPED_BOOK:
        return st.builds(
            grouped_book_channel,
            instrument,
            st.sampled_from(GROUPED_BOOK_GROUPS),
            st.sampled_from(GROUPED_BOOK_DEPTHS),
            st.sampled_from(GROUPED_BOOK_INTERVALS),
        )
    simple: dict[ChannelFamily, st.SearchStrategy[str]] = {
        F.INCREMENTAL_TICKER: instrument.map(incremental_ticker_channel),
        F.QUOTE: instrument.map(quote_channel),
        F.CHART: st.builds(chart_channel, instrument, st.sampled_from(CHART_RESOLUTIONS)),
        F.PRICE_INDEX: index_names().map(price_index_channel),
        F.PLATFORM_STATE: st.just(_PLATFORM_STATE),
        F.PUBLIC_METHODS_STATE: st.just(_PUBLIC_METHODS_STATE),
        F.ANNOUNCEMENTS: st.just(_ANNOUNCEMENTS),
        F.INSTRUMENT_STATE: st.builds(
            instrument_state_channel, st.sampled_from(KINDS), currencies(allow_any=True)
        ),
        F.USER_PORTFOLIO: st.builds(
            lambda code, lower: user_portfolio_channel(code.lower() if lower else code),
            currencies(),
            st.booleans(),
        ),
        F.USER_ACCESS_LOG: st.just(_USER_ACCESS_LOG),
        F.USER_LOCK: st.just(_USER_LOCK),
        F.USER_MMP_TRIGGER: index_names().map(user_mmp_trigger_channel),
    }
    if family in simple:
        return simple[family]
    builders: dict[ChannelFamily, Callable[..., str]] = {
        F.USER_ORDERS: user_orders_channel,
        F.USER_TRADES: user_trades_channel,
        F.USER_CHANGES: user_changes_channel,
    }
    build = builders[family]
    return st.one_of(
        st.builds(build, instrument, interval=st.sampled_from(intervals)),
        st.builds(
            build,
            kind=st.sampled_from(USER_KINDS),
            currency=currencies(allow_any=True),
            interval=st.sampled_from(intervals),
        ),
    )


def channel_names(
    families: Iterable[ChannelFamily] | None = None, *, needs_auth: bool | None = None
) -> st.SearchStrategy[str]:
    """Valid channel names of spec 3.2, every family, interval, group, depth, resolution.

    ``families`` restricts the families (default: all of :class:`ChannelFamily`);
    ``needs_auth=True`` keeps names that need an authenticated connection (``user.*`` or
    a ``raw`` interval), ``False`` the others.  Every name parses with
    ``parse_channel``.
    """
    chosen = tuple(ChannelFamily) if families is None else tuple(families)
    return _channel_names(chosen, needs_auth)


@functools.cache
def _channel_names(
    families: tuple[ChannelFamily, ...], needs_auth: bool | None
) -> st.SearchStrategy[str]:
    branches = [s for f in families if (s := _family_channels(f, needs_auth)) is not None]
    if not branches:
        raise ValueError("no channel of these families matches needs_auth")
    return st.one_of(branches)


_BAD_INTERVALS = ("50ms", "10ms", "1s", "RAW", "100MS", "agg1", "agg", "")
_NEAR_MISSES: tuple[Callable[[str], str], ...] = (
    lambda name: name + ".",
    lambda name: "." + name,
    lambda name: name + " ",
    lambda name: name.upper(),
    lambda name: name.replace(".", "..", 1),
    lambda name: name + ".extra",
    lambda name: name.rsplit(".", 1)[0] if name.count(".") > 1 else name + ".x.y",
)


_MISS_TEMPLATES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("book.{instrument}.{bad}", _BAD_INTERVALS),
    ("ticker.{instrument}.{bad}", _BAD_INTERVALS),
    ("book.{instrument}.{bad}.1.100ms", ("3", "50", "all", "0.5")),
    ("book.{instrument}.none.{bad}.100ms", ("5", "50", "0", "100")),
    ("book.{instrument}.none.10.raw", ()),
    ("chart.trades.{instrument}.{bad}", ("2", "1d", "1H", "0", "1440")),
    ("trades.{bad}.BTC.100ms", ("futures", "options", "perpetual", "any")),
    ("trades.{kind}.{bad}.{interval}", ("btc", "B", "BTC-USD", "")),
    ("user.orders.{bad}.BTC.raw", ("combos", "all", "FUTURE")),
    ("book.{lower}.{interval}", ()),
    ("quote.{bad}", ("", "-BTC", "BTC PERP", "_X")),
    ("deribit_price_index.{bad}", ("BTC_USD", "btc-usd", "", "btc__usd")),
    ("{bad}.{instrument}.{interval}", ("books", "tickers", "trade", "quotes", "user.order")),
    ("{bad}", ("platform_state.foo", "announcement", "user.locks", "user", "")),
)
"""Near-miss patterns: ``{bad}`` takes one of the choices."""


@st.composite
def invalid_channel_names(draw: st.DrawFn) -> str:
    """Channel names one step away from valid ones, which the venue drops silently.

    A bad interval (``50ms``), grouped-book group, depth or interval (``5``, ``50``,
    ``raw``), chart resolution (``2``, ``1d``), kind (``futures``), currency (``btc``,
    ``B``), instrument (``btc-perpetual``), index (``BTC_USD``), prefix (``books``,
    ``user.order``), segment count, stray dots or spaces.  Every one fails
    ``parse_channel``.
    """
    instrument = draw(instrument_names())
    interval = draw(st.sampled_from(INTERVALS))
    template = draw(st.integers(0, len(_MISS_TEMPLATES)))
    if template == len(_MISS_TEMPLATES):
        name = draw(st.sampled_from(_NEAR_MISSES))(draw(channel_names()))
    else:
        pattern, choices = _MISS_TEMPLATES[template]
        name = pattern.format(
            instrument=instrument,
            lower=instrument.lower(),
            interval=interval,
            kind=draw(st.sampled_from(KINDS)),
            bad=draw(st.sampled_from(choices)) if choices else "",
        )
    if is_valid_channel(name):  # a perturbation that happened to stay valid
        name = f"book.{instrument}.50ms"
    return name
