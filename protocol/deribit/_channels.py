"""Deribit subscription channel names (spec 3.2): parse, validate and build them.

Deribit drops a channel it does not like *silently*: it is just missing from the
subscribe result (spec 3.1).  :func:`parse_channel` checks a name against every row of
the 3.2 table (family, segment count, interval, group, depth, resolution, kind, currency)
so a client can tell "the venue will drop this" before sending it, and says what the
channel needs: :attr:`Channel.needs_auth` (a ``raw`` interval or a ``user.*`` channel)
and :attr:`Channel.private_only` (``user.*`` channels go through ``private/subscribe``).

What only the venue knows stays out: ``ticker.BTC-PERP.100ms`` is valid grammar even
though no such instrument exists.  Instrument tokens are therefore checked loosely
(upper-case letters, digits, ``_`` and ``-``, plus the ``d`` of linear strikes; combo names
such as ``BTC-FS-29SEP23_PERP`` pass), and currency tokens accept any upper-case code
(our design: the venue adds currencies over time; the spec lists
``BTC|ETH|USDC|USDT|EURR``, kept in :data:`CURRENCIES`).  ``user.portfolio.{currency}``
accepts either case, since the doc example is ``user.portfolio.btc`` and ccxt sends
``user.portfolio.BTC``.

The builders (``book_channel`` ...) raise :class:`LocalProtocolError` naming the bad part
and the accepted values; names they return always parse back to the same parts.
"""

from __future__ import annotations

import re
from enum import StrEnum

import msgspec

from .._errors import LocalProtocolError

__all__ = [
    "ANNOUNCEMENTS",
    "CHART_RESOLUTIONS",
    "CURRENCIES",
    "GROUPED_BOOK_DEPTHS",
    "GROUPED_BOOK_GROUPS",
    "GROUPED_BOOK_INTERVALS",
    "INTERVALS",
    "KINDS",
    "PLATFORM_STATE",
    "PUBLIC_METHODS_STATE",
    "USER_ACCESS_LOG",
    "USER_KINDS",
    "USER_LOCK",
    "Channel",
    "ChannelFamily",
    "book_channel",
    "chart_channel",
    "grouped_book_channel",
    "incremental_ticker_channel",
    "instrument_state_channel",
    "is_valid_channel",
    "parse_channel",
    "perpetual_channel",
    "price_index_channel",
    "quote_channel",
    "ticker_channel",
    "trades_channel",
    "user_changes_channel",
    "user_mmp_trigger_channel",
    "user_orders_channel",
    "user_portfolio_channel",
    "user_trades_channel",
]

INTERVALS = ("raw", "100ms", "agg2")
GROUPED_BOOK_INTERVALS = ("100ms", "agg2")
GROUPED_BOOK_GROUPS = ("none", "1", "2", "5", "10", "25", "100", "250")
GROUPED_BOOK_DEPTHS = (1, 10, 20)
CHART_RESOLUTIONS = ("1", "3", "5", "10", "15", "30", "60", "120", "180", "360", "720", "1D")
KINDS = ("future", "option", "spot", "future_combo", "option_combo")
USER_KINDS = (*KINDS, "combo", "any")
CURRENCIES = ("BTC", "ETH", "USDC", "USDT", "EURR")

PLATFORM_STATE = "platform_state"
PUBLIC_METHODS_STATE = "platform_state.public_methods_state"
ANNOUNCEMENTS = "announcements"
USER_ACCESS_LOG = "user.access_log"
USER_LOCK = "user.lock"

_INSTRUMENT_RE = re.compile(r"[A-Z0-9][A-Za-z0-9_\-]*")
_CURRENCY_RE = re.compile(r"[A-Z][A-Z0-9]{1,15}")
_INDEX_RE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)*")


class ChannelFamily(StrEnum):
    """A row (or pair of rows) of the spec 3.2 table.

    The value is the channel prefix, except ``book.grouped`` for the grouped book
    (``book.{instrument}.{group}.{depth}.{interval}``), which shares ``book`` with the
    plain book and differs in segment count.
    """

    BOOK = "book"
    GROUPED_BOOK = "book.grouped"
    TICKER = "ticker"
    INCREMENTAL_TICKER = "incremental_ticker"
    QUOTE = "quote"
    TRADES = "trades"
    CHART = "chart.trades"
    PRICE_INDEX = "deribit_price_index"
    PERPETUAL = "perpetual"
    PLATFORM_STATE = "platform_state"
    PUBLIC_METHODS_STATE = "platform_state.public_methods_state"
    ANNOUNCEMENTS = "announcements"
    INSTRUMENT_STATE = "instrument.state"
    USER_ORDERS = "user.orders"
    USER_TRADES = "user.trades"
    USER_CHANGES = "user.changes"
    USER_PORTFOLIO = "user.portfolio"
    USER_ACCESS_LOG = "user.access_log"
    USER_LOCK = "user.lock"
    USER_MMP_TRIGGER = "user.mmp_trigger"


class Channel(msgspec.Struct, frozen=True, kw_only=True):
    """A parsed channel name; the parts a family does not have are ``None``.

    ``instrument`` is set for per-instrument channels; ``kind`` and ``currency`` for the
    ``{kind}.{currency}`` variants (``trades``, ``user.orders`` ...) and
    ``instrument.state``; ``currency`` alone for ``user.portfolio``.
    """

    name: str
    family: ChannelFamily
    instrument: str | None = None
    kind: str | None = None
    currency: str | None = None
    interval: str | None = None
    group: str | None = None
    depth: int | None = None
    resolution: str | None = None
    index_name: str | None = None

    @property
    def private_only(self) -> bool:
        """``user.*`` channels: only ``private/subscribe`` accepts them."""
        return self.family.value.startswith("user.")

    @property
    def needs_auth(self) -> bool:
        """An authenticated connection is needed: ``user.*`` or a ``raw`` interval (13778)."""
        return self.interval == "raw" or self.private_only


def _bad(
    argument: str, value: object, accepted: str, name: str | None = None
) -> LocalProtocolError:
    where = f" in channel {name!r}" if name is not None else ""
    return LocalProtocolError(f"invalid {argument}{where}: {value!r}; {accepted}")


def _choices(values: tuple[object, ...]) -> str:
    return "accepted values: " + ", ".join(repr(v) for v in values)


def _check(argument: str, value: object, choices: tuple[object, ...], name: str | None) -> None:
    if value not in choices:
        raise _bad(argument, value, _choices(choices), name)


def _check_instrument(value: object, name: str | None) -> str:
    if not (isinstance(value, str) and _INSTRUMENT_RE.fullmatch(value)):
        raise _bad(
            "instrument",
            value,
            "expected an instrument name such as 'BTC-PERPETUAL' (spec 6.5)",
            name,
        )
    return value


def _check_currency(
    value: object, name: str | None, *, allow_any: bool = True, any_case: bool = False
) -> str:
    if isinstance(value, str):
        if value == "any" or (any_case and value.lower() == "any"):
            if allow_any and value == "any":
                return value
        elif _CURRENCY_RE.fullmatch(value.upper() if any_case else value):
            return value
    extra = ", or 'any'" if allow_any else ""
    hint = f"expected a currency code such as {', '.join(map(repr, CURRENCIES))}{extra}"
    raise _bad("currency", value, hint, name)


def _check_index(value: object, name: str | None) -> str:
    if not (isinstance(value, str) and _INDEX_RE.fullmatch(value)):
        raise _bad("index_name", value, "expected a lower-case index name such as 'btc_usd'", name)
    return value


def _with_target(
    family: ChannelFamily, parts: list[str], name: str, intervals: tuple[str, ...]
) -> Channel:
    """``{prefix}.{instrument}.{interval}`` or ``{prefix}.{kind}.{currency}.{interval}``."""
    user = family.value.startswith("user.")
    if len(parts) == 2:
        instrument = _check_instrument(parts[0], name)
        _check("interval", parts[1], intervals, name)
        return Channel(name=name, family=family, instrument=instrument, interval=parts[1])
    if len(parts) == 3:
        _check("kind", parts[0], USER_KINDS if user else KINDS, name)
        currency = _check_currency(parts[1], name)
        _check("interval", parts[2], intervals, name)
        return Channel(
            name=name, family=family, kind=parts[0], currency=currency, interval=parts[2]
        )
    raise _segments(name, f"{family.value}.{{instrument}}.{{interval}} or "
                    f"{family.value}.{{kind}}.{{currency}}.{{interval}}")  # fmt: skip


def _segments(name: str, template: str) -> LocalProtocolError:
    return LocalProtocolError(f"invalid channel {name!r}: expected {template}")


_FIXED = {
    PLATFORM_STATE: ChannelFamily.PLATFORM_STATE,
    PUBLIC_METHODS_STATE: ChannelFamily.PUBLIC_METHODS_STATE,
    ANNOUNCEMENTS: ChannelFamily.ANNOUNCEMENTS,
    USER_ACCESS_LOG: ChannelFamily.USER_ACCESS_LOG,
    USER_LOCK: ChannelFamily.USER_LOCK,
}


def parse_channel(name: str) -> Channel:
    """Parse and validate ``name`` against spec 3.2; :class:`LocalProtocolError` if invalid."""
    if not isinstance(name, str):
        raise LocalProtocolError(f"invalid channel: expected a str, got {name!r}")
    fixed = _FIXED.get(name)
    if fixed is not None:
        return Channel(name=name, family=fixed)
    parts = name.split(".")
    head, rest = parts[0], parts[1:]
    if head == "book":
        if len(rest) == 2:
            instrument = _check_instrument(rest[0], name)
            _check("interval", rest[1], INTERVALS, name)
            return Channel(
                name=name, family=ChannelFamily.BOOK, instrument=instrument, interval=rest[1]
            )
        if len(rest) == 4:
            instrument = _check_instrument(rest[0], name)
            _check("group", rest[1], GROUPED_BOOK_GROUPS, name)
            depth = int(rest[2]) if rest[2] in ("1", "10", "20") else rest[2]
            _check("depth", depth, GROUPED_BOOK_DEPTHS, name)
            _check("interval", rest[3], GROUPED_BOOK_INTERVALS, name)
            return Channel(
                name=name,
                family=ChannelFamily.GROUPED_BOOK,
                instrument=instrument,
                group=rest[1],
                depth=int(depth),
                interval=rest[3],
            )
        raise _segments(
            name, "book.{instrument}.{interval} or book.{instrument}.{group}.{depth}.{interval}"
        )
    if head in ("ticker", "perpetual"):
        family = ChannelFamily(head)
        if len(rest) != 2:
            raise _segments(name, f"{head}.{{instrument}}.{{interval}}")
        instrument = _check_instrument(rest[0], name)
        _check("interval", rest[1], INTERVALS, name)
        return Channel(name=name, family=family, instrument=instrument, interval=rest[1])
    if head in ("incremental_ticker", "quote"):
        if len(rest) != 1:
            raise _segments(name, f"{head}.{{instrument}}")
        instrument = _check_instrument(rest[0], name)
        return Channel(name=name, family=ChannelFamily(head), instrument=instrument)
    if head == "trades":
        return _with_target(ChannelFamily.TRADES, rest, name, INTERVALS)
    if head == "chart":
        if len(rest) != 3 or rest[0] != "trades":
            raise _segments(name, "chart.trades.{instrument}.{resolution}")
        instrument = _check_instrument(rest[1], name)
        _check("resolution", rest[2], CHART_RESOLUTIONS, name)
        return Channel(
            name=name, family=ChannelFamily.CHART, instrument=instrument, resolution=rest[2]
        )
    if head == "deribit_price_index":
        if len(rest) != 1:
            raise _segments(name, "deribit_price_index.{index_name}")
        index = _check_index(rest[0], name)
        return Channel(name=name, family=ChannelFamily.PRICE_INDEX, index_name=index)
    if head == "instrument":
        if len(rest) != 3 or rest[0] != "state":
            raise _segments(name, "instrument.state.{kind}.{currency}")
        _check("kind", rest[1], KINDS, name)
        currency = _check_currency(rest[2], name)
        return Channel(
            name=name, family=ChannelFamily.INSTRUMENT_STATE, kind=rest[1], currency=currency
        )
    if head == "user" and rest:
        sub, args = rest[0], rest[1:]
        if sub in ("orders", "trades", "changes"):
            return _with_target(ChannelFamily(f"user.{sub}"), args, name, INTERVALS)
        if sub == "portfolio":
            if len(args) != 1:
                raise _segments(name, "user.portfolio.{currency}")
            currency = _check_currency(args[0], name, allow_any=False, any_case=True)
            return Channel(name=name, family=ChannelFamily.USER_PORTFOLIO, currency=currency)
        if sub == "mmp_trigger":
            if len(args) != 1:
                raise _segments(name, "user.mmp_trigger.{index_name}")
            index = _check_index(args[0], name)
            return Channel(name=name, family=ChannelFamily.USER_MMP_TRIGGER, index_name=index)
    raise LocalProtocolError(
        f"invalid channel {name!r}: unknown family; accepted prefixes: "
        + ", ".join(repr(f.value) for f in ChannelFamily if f is not ChannelFamily.GROUPED_BOOK)
    )


def is_valid_channel(name: str) -> bool:
    """Whether ``name`` is valid spec 3.2 grammar (see :func:`parse_channel`)."""
    try:
        parse_channel(name)
    except LocalProtocolError:
        return False
    return True


# -- builders ----------------------------------------------------------------------


def _target(
    prefix: str,
    instrument: str | None,
    kind: str | None,
    currency: str | None,
    kinds: tuple[str, ...],
) -> str:
    if instrument is not None:
        if kind is not None or currency is not None:
            raise LocalProtocolError(
                f"invalid arguments for {prefix}: pass either instrument or kind and currency"
            )
        return f"{prefix}.{_check_instrument(instrument, None)}"
    if kind is None or currency is None:
        raise LocalProtocolError(
            f"invalid arguments for {prefix}: pass either instrument or both kind and currency"
        )
    _check("kind", kind, kinds, None)
    return f"{prefix}.{kind}.{_check_currency(currency, None)}"


def book_channel(instrument: str, interval: str = "100ms") -> str:
    """``book.{instrument}.{interval}``: snapshot then ``[action, price, amount]`` changes."""
    _check("interval", interval, INTERVALS, None)
    return f"book.{_check_instrument(instrument, None)}.{interval}"


def grouped_book_channel(
    instrument: str, group: str | int, depth: int, interval: str = "100ms"
) -> str:
    """``book.{instrument}.{group}.{depth}.{interval}``: a full ``[price, amount]`` window."""
    group_text = group if isinstance(group, str) else str(group)
    if isinstance(group, bool):
        group_text = repr(group)
    _check("group", group_text, GROUPED_BOOK_GROUPS, None)
    if isinstance(depth, bool):
        raise _bad("depth", depth, _choices(GROUPED_BOOK_DEPTHS))
    _check("depth", depth, GROUPED_BOOK_DEPTHS, None)
    _check("interval", interval, GROUPED_BOOK_INTERVALS, None)
    return f"book.{_check_instrument(instrument, None)}.{group_text}.{depth}.{interval}"


def ticker_channel(instrument: str, interval: str = "100ms") -> str:
    """``ticker.{instrument}.{interval}``."""
    _check("interval", interval, INTERVALS, None)
    return f"ticker.{_check_instrument(instrument, None)}.{interval}"


def incremental_ticker_channel(instrument: str) -> str:
    """``incremental_ticker.{instrument}``."""
    return f"incremental_ticker.{_check_instrument(instrument, None)}"


def quote_channel(instrument: str) -> str:
    """``quote.{instrument}``: best bid and ask."""
    return f"quote.{_check_instrument(instrument, None)}"


def trades_channel(
    instrument: str | None = None,
    *,
    kind: str | None = None,
    currency: str | None = None,
    interval: str = "100ms",
) -> str:
    """``trades.{instrument}.{interval}`` or ``trades.{kind}.{currency}.{interval}``."""
    _check("interval", interval, INTERVALS, None)
    return f"{_target('trades', instrument, kind, currency, KINDS)}.{interval}"


def chart_channel(instrument: str, resolution: str | int) -> str:
    """``chart.trades.{instrument}.{resolution}``: candles; resolution in minutes or ``1D``."""
    text = (
        str(resolution)
        if isinstance(resolution, int) and not isinstance(resolution, bool)
        else resolution
    )
    _check("resolution", text, CHART_RESOLUTIONS, None)
    return f"chart.trades.{_check_instrument(instrument, None)}.{text}"


def price_index_channel(index_name: str) -> str:
    """``deribit_price_index.{index_name}``, e.g. ``btc_usd``."""
    return f"deribit_price_index.{_check_index(index_name, None)}"


def perpetual_channel(instrument: str, interval: str = "100ms") -> str:
    """``perpetual.{instrument}.{interval}``: index price and interest."""
    _check("interval", interval, INTERVALS, None)
    return f"perpetual.{_check_instrument(instrument, None)}.{interval}"


def instrument_state_channel(kind: str, currency: str) -> str:
    """``instrument.state.{kind}.{currency}``: instrument lifecycle."""
    _check("kind", kind, KINDS, None)
    return f"instrument.state.{kind}.{_check_currency(currency, None)}"


def _user(
    sub: str, instrument: str | None, kind: str | None, currency: str | None, interval: str
) -> str:
    _check("interval", interval, INTERVALS, None)
    return f"{_target(f'user.{sub}', instrument, kind, currency, USER_KINDS)}.{interval}"


def user_orders_channel(
    instrument: str | None = None,
    *,
    kind: str | None = None,
    currency: str | None = None,
    interval: str = "raw",
) -> str:
    """``user.orders.{instrument|kind.currency}.{interval}``; ``raw`` sends single orders."""
    return _user("orders", instrument, kind, currency, interval)


def user_trades_channel(
    instrument: str | None = None,
    *,
    kind: str | None = None,
    currency: str | None = None,
    interval: str = "raw",
) -> str:
    """``user.trades.{instrument|kind.currency}.{interval}``."""
    return _user("trades", instrument, kind, currency, interval)


def user_changes_channel(
    instrument: str | None = None,
    *,
    kind: str | None = None,
    currency: str | None = None,
    interval: str = "raw",
) -> str:
    """``user.changes.{instrument|kind.currency}.{interval}``: orders, positions, trades."""
    return _user("changes", instrument, kind, currency, interval)


def user_portfolio_channel(currency: str) -> str:
    """``user.portfolio.{currency}``; the case is kept as given."""
    return f"user.portfolio.{_check_currency(currency, None, allow_any=False, any_case=True)}"


def user_mmp_trigger_channel(index_name: str) -> str:
    """``user.mmp_trigger.{index_name}``."""
    return f"user.mmp_trigger.{_check_index(index_name, None)}"
