"""Hypothesis strategies for Deribit messages, valid and invalid, for your own tests.

Needs ``hypothesis`` (``pip install 'tradewire[test]'``); nothing else in the package
imports this module.  Every strategy is pure and composable: pass strategies in, get
strategies out, filter and map them like any other.  What they generate follows
``specs/deribit.md``: names from the grammars of 3.2 and 6.5, requests for every typed
command, results of each command's type, notifications for every channel family with
payloads that look like the venue's (consistent instrument names, tick-aligned prices,
bids below asks, ``change_id`` chains), and messages that are wrong in the ways a
peer gets them wrong.

Names::

    instrument_names(kinds=("option",), linear=True)  # "XRP_USDC-30JUN23-0d625-C"
    channel_names([ChannelFamily.BOOK])               # "book.BTC-5AUG23.raw"
    invalid_channel_names()                           # "book.BTC-PERPETUAL.50ms"

Client to venue (:class:`RequestSample`: the command, its id, the encoded bytes)::

    @given(requests())
    def test_my_server_decodes(sample):
        assert my_server.decode(sample.data) == sample.command

Venue to client (:class:`ResponseSample`, :class:`PushSample`: the bytes and what
``decode_inbound`` must give for them)::

    @given(server_messages())
    def test_my_client_decodes(sample):
        assert decode_inbound(sample.data) == sample.expected

    @given(book_chains(faults=["gap", "duplicate"]))
    def test_gaps(chain):
        for data in chain.messages:
            client.receive_message(data, now)
        assert gaps_seen(client) == list(chain.gaps)

Invalid input (:class:`InvalidMessage` for a client, :class:`InvalidRequest` for a
server, each saying what is wrong and, for a server, what tradewire's
``ServerProtocol`` answers)::

    @given(invalid_server_messages())
    def test_rejected(sample):
        with pytest.raises(RemoteProtocolError):
            decode_inbound(sample.data)

:func:`with_unknown_fields` adds fields the venue might add one day to any valid sample
(a conforming peer ignores them, so the expected value does not change)::

    @given(with_unknown_fields(notifications([ChannelFamily.TICKER])))
    def test_new_fields_are_ignored(sample):
        assert decode_inbound(sample.data) == sample.expected

What is here:

* names: :func:`currencies`, :func:`underlyings`, :func:`instrument_names`,
  :func:`index_names`, :func:`channel_names`, :func:`invalid_channel_names`,
  :func:`request_ids`;
* requests: :func:`command_types`, :func:`commands`, :func:`requests`;
* wire models: :func:`tickers`, :func:`orders`, :func:`public_trades`,
  :func:`user_trades`, :func:`positions`, :func:`account_summaries`,
  :func:`auth_results`, :func:`instruments`, and :func:`results` per command;
* venue messages: :func:`responses`, :func:`error_codes`, :func:`notifications`,
  :func:`heartbeats`, :func:`server_messages`, :func:`book_chains`,
  :func:`with_unknown_fields`;
* invalid input: :func:`invalid_server_messages`, :func:`invalid_requests`.
"""

from __future__ import annotations

import datetime
import functools
import string
import typing
from collections.abc import Callable, Collection, Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeVar

import msgspec
from hypothesis import strategies as st

from tradewire.protocol import RequestId
from tradewire.protocol._secrets import Secret, enc_hook
from tradewire.protocol.deribit import (
    ADVANCED,
    CANCEL_TYPES,
    CHART_RESOLUTIONS,
    COD_SCOPES,
    ERROR_MESSAGES,
    EVENT_TYPES,
    GROUPED_BOOK_DEPTHS,
    GROUPED_BOOK_GROUPS,
    GROUPED_BOOK_INTERVALS,
    INTERVALS,
    KINDS,
    LINKED_ORDER_TYPES,
    MAX_LABEL_LENGTH,
    MAX_MESSAGE_SIZE,
    MAX_SUBSCRIBE_LABEL_LENGTH,
    MIN_HEARTBEAT_INTERVAL,
    OPEN_ORDER_TYPES,
    ORDER_BOOK_DEPTHS,
    ORDER_TYPES,
    SORTINGS,
    TIME_IN_FORCE,
    TRIGGER_FILL_CONDITIONS,
    TRIGGERS,
    USER_KINDS,
    AccountSummary,
    Auth,
    AuthClientCredentials,
    AuthClientSignature,
    AuthRefreshToken,
    AuthResult,
    BookData,
    BookGap,
    BookResynced,
    BookUpdate,
    Buy,
    Cancel,
    CancelAll,
    CancelAllByCurrency,
    CancelAllByInstrument,
    CancelAllByKindOrType,
    CancelByLabel,
    CancelOnDisconnectState,
    CancelReport,
    Candle,
    ChannelEvent,
    ChannelFamily,
    Currency,
    DeribitCommand,
    DeribitError,
    DisableCancelOnDisconnect,
    DisableHeartbeat,
    Edit,
    EditByLabel,
    EnableCancelOnDisconnect,
    ErrorResponse,
    ExchangeToken,
    ForkToken,
    GetAccountSummary,
    GetCancelOnDisconnect,
    GetCurrencies,
    GetIndexPrice,
    GetInstruments,
    GetLastTradesByInstrument,
    GetOpenOrders,
    GetOpenOrdersByCurrency,
    GetOpenOrdersByInstrument,
    GetOpenOrdersByLabel,
    GetOrderBook,
    GetOrderBookByInstrumentId,
    GetOrderState,
    GetPosition,
    GetPositions,
    GetTicker,
    GetTime,
    Greeks,
    GroupedBookData,
    Heartbeat,
    Hello,
    IncrementalTicker,
    IndexPrice,
    Instrument,
    Logout,
    Notification,
    Order,
    OrderBookSnapshot,
    OrderResult,
    PerpetualInterest,
    PlatformState,
    PlatformStatus,
    Position,
    PriceIndex,
    PrivateSubscribe,
    PrivateUnsubscribe,
    PrivateUnsubscribeAll,
    PublicSubscribe,
    PublicTrade,
    PublicUnsubscribe,
    PublicUnsubscribeAll,
    Quote,
    Response,
    RpcError,
    Sell,
    SetHeartbeat,
    Status,
    Test,
    TestRequest,
    Ticker,
    TickerStats,
    TradesPage,
    UserChanges,
    UserTrade,
    VersionResult,
    WithdrawalPriority,
    book_channel,
    channel_family,
    chart_channel,
    encode_heartbeat,
    encode_notification,
    encode_request,
    error_for,
    future_name,
    grouped_book_channel,
    incremental_ticker_channel,
    instrument_state_channel,
    is_valid_channel,
    option_name,
    perpetual_channel,
    perpetual_name,
    price_index_channel,
    quote_channel,
    spot_name,
    ticker_channel,
    trades_channel,
    user_changes_channel,
    user_mmp_trigger_channel,
    user_orders_channel,
    user_portfolio_channel,
    user_trades_channel,
)
from tradewire.protocol.deribit import (
    ANNOUNCEMENTS as _ANNOUNCEMENTS,
)
from tradewire.protocol.deribit import (
    PLATFORM_STATE as _PLATFORM_STATE,
)
from tradewire.protocol.deribit import (
    PUBLIC_METHODS_STATE as _PUBLIC_METHODS_STATE,
)
from tradewire.protocol.deribit import (
    USER_ACCESS_LOG as _USER_ACCESS_LOG,
)
from tradewire.protocol.deribit import (
    USER_LOCK as _USER_LOCK,
)

__all__ = [
    "FAULT_KINDS",
    "INVALID_MESSAGE_KINDS",
    "INVALID_REQUEST_KINDS",
    "BookChain",
    "ChainFault",
    "InvalidMessage",
    "InvalidRequest",
    "PushSample",
    "RequestSample",
    "ResponseSample",
    "account_summaries",
    "auth_results",
    "book_chains",
    "channel_names",
    "command_types",
    "commands",
    "currencies",
    "error_codes",
    "heartbeats",
    "index_names",
    "instrument_names",
    "instruments",
    "invalid_channel_names",
    "invalid_requests",
    "invalid_server_messages",
    "notifications",
    "orders",
    "positions",
    "public_trades",
    "request_ids",
    "requests",
    "responses",
    "results",
    "server_messages",
    "tickers",
    "underlyings",
    "user_trades",
    "with_unknown_fields",
]

T = TypeVar("T")
S = TypeVar("S", "PushSample", "ResponseSample", "RequestSample")

# -- what the strategies generate -------------------------------------------------------


class RequestSample(msgspec.Struct, frozen=True, kw_only=True):
    """A client request: ``data`` is ``encode_request(request_id, command)``."""

    command: DeribitCommand
    request_id: RequestId
    data: bytes


class ResponseSample(msgspec.Struct, frozen=True, kw_only=True):
    """A venue answer to ``command`` sent as ``request_id``.

    ``expected`` is what ``decode_inbound(data)`` gives.  For a success, ``result`` is
    what ``decode_result(command, expected.result)`` gives (the typed result); for an
    error, ``error`` is the exception ``expected.exception()`` gives.
    """

    command: DeribitCommand
    request_id: RequestId | None
    data: bytes
    expected: Response | ErrorResponse
    result: Any = None
    error: DeribitError | None = None


class PushSample(msgspec.Struct, frozen=True, kw_only=True):
    """A notification or heartbeat frame and the event ``decode_inbound`` gives for it."""

    data: bytes
    expected: ChannelEvent | Heartbeat | TestRequest


class InvalidMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A venue message a client must refuse (``decode_inbound`` raises
    ``RemoteProtocolError``); ``kind`` is one of :data:`INVALID_MESSAGE_KINDS`."""

    kind: str
    data: bytes
    reason: str


class InvalidRequest(msgspec.Struct, frozen=True, kw_only=True):
    """A client message a venue must refuse with exactly one error answer.

    ``code`` and ``request_id`` are what tradewire's ``ServerProtocol`` answers with
    (the table in ``_wire_server``: Deribit's own codes where known, documented choices
    elsewhere); ``kind`` is one of :data:`INVALID_REQUEST_KINDS`.
    """

    kind: str
    data: bytes
    reason: str
    code: int
    request_id: RequestId | None


FaultKind = Literal["gap", "duplicate", "reorder"]
FAULT_KINDS: tuple[FaultKind, ...] = ("gap", "duplicate", "reorder")
"""What :func:`book_chains` can inject: a change lost, a change delivered twice, two
changes swapped."""


class ChainFault(msgspec.Struct, frozen=True, kw_only=True):
    """An injected fault; ``position`` is the index in ``BookChain.messages`` of the
    message that reveals it (the first one that does not continue the chain)."""

    kind: FaultKind
    position: int


class BookChain(msgspec.Struct, frozen=True, kw_only=True):
    """``book.{instrument}.{interval}`` notifications on one channel, as delivered.

    ``updates`` are the events the ``messages`` decode to.  ``gaps`` and ``resyncs``
    are exactly what a client following spec 4 reports (``BookGap`` per injected fault,
    ``BookResynced`` per snapshot that ends a stale period), computed by a small
    reference model of the rule, independent of ``ClientProtocol``.  ``bids`` and
    ``asks`` are the venue's book after the last message, which a client holds too
    when ``in_sync`` (the last fault, if any, was followed by a snapshot).
    """

    channel: str
    messages: tuple[bytes, ...]
    updates: tuple[BookUpdate, ...]
    faults: tuple[ChainFault, ...]
    gaps: tuple[BookGap, ...]
    resyncs: tuple[BookResynced, ...]
    bids: dict[float, float]
    asks: dict[float, float]
    in_sync: bool


# -- plain values -----------------------------------------------------------------------

_COINS = ("BTC", "ETH", "SOL", "XRP", "MATIC", "PAXG", "BNB", "ADA", "DOGE", "AVAX", "LTC")
_QUOTES = ("USDC", "USDT", "EURR")
_FIRST_MS = 1_577_836_800_000  # 2020-01-01
_LAST_MS = 2_082_758_400_000  # 2036-01-01


@functools.cache
def _timestamps() -> st.SearchStrategy[int]:
    """Epoch milliseconds, 2020 to 2035."""
    return st.integers(_FIRST_MS, _LAST_MS)


@functools.cache
def _amounts() -> st.SearchStrategy[float]:
    """Positive sizes: whole contracts (USD, multiples of 10) or coin fractions."""
    return st.one_of(
        st.integers(1, 100_000).map(lambda n: n * 10.0),
        st.integers(1, 10_000_000).map(lambda n: n / 1000),
        st.floats(min_value=1e-6, max_value=1e9, allow_nan=False, allow_infinity=False),
    )


@functools.cache
def _prices() -> st.SearchStrategy[float]:
    """Positive prices on common tick grids, and some arbitrary ones."""
    return st.one_of(
        st.integers(1, 400_000).map(lambda n: n * 0.5),
        st.integers(1, 1_000_000).map(lambda n: n / 10_000),
        st.floats(min_value=1e-8, max_value=1e7, allow_nan=False, allow_infinity=False),
    )


@functools.cache
def _floats(low: float = -1e9, high: float = 1e9) -> st.SearchStrategy[float]:
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


@functools.cache
def _text(min_size: int = 1, max_size: int = 32) -> st.SearchStrategy[str]:
    """Text, including non-ASCII, never a lone surrogate (not encodable as UTF-8)."""
    return st.text(st.characters(codec="utf-8"), min_size=min_size, max_size=max_size)


@functools.cache
def _token() -> st.SearchStrategy[str]:
    """An opaque token shaped like Deribit's ``<ms>.<8 chars>.<base64url>``."""
    alphabet = string.ascii_letters + string.digits + "-_"
    return st.builds(
        lambda ms, a, b: f"{ms}.{a}.{b}",
        _timestamps(),
        st.text(alphabet, min_size=8, max_size=8),
        st.text(alphabet, min_size=16, max_size=43),
    )


@functools.cache
def currencies(*, allow_any: bool = False) -> st.SearchStrategy[str]:
    """Upper-case currency codes: the spec's (``BTC``, ``ETH``, ``USDC``, ``USDT``,
    ``EURR``), other listed coins, and made-up ones (the venue adds coins over time);
    ``allow_any`` adds ``"any"`` where a method or channel takes it."""
    codes = st.one_of(
        st.sampled_from(("BTC", "ETH", "USDC", "USDT", "EURR")),
        st.sampled_from(_COINS),
        st.text(string.ascii_uppercase, min_size=2, max_size=6),
    )
    return st.one_of(codes, st.just("any")) if allow_any else codes


@functools.cache
def underlyings(*, linear: bool | None = None) -> st.SearchStrategy[str]:
    """``BTC`` / ``ETH`` (inverse) or ``{BASE}_{QUOTE}`` such as ``SOL_USDC`` (linear)."""
    inverse = st.sampled_from(("BTC", "ETH"))
    pairs = st.builds(
        lambda base, quote: f"{base}_{quote}",
        st.one_of(st.sampled_from(_COINS), st.text(string.ascii_uppercase, min_size=2, max_size=5)),
        st.sampled_from(_QUOTES),
    )
    if linear is None:
        return st.one_of(inverse, pairs)
    return pairs if linear else inverse


@functools.cache
def _expiries() -> st.SearchStrategy[datetime.date]:
    return st.dates(datetime.date(2020, 1, 1), datetime.date(2035, 12, 31))


@functools.cache
def _strikes(linear: bool) -> st.SearchStrategy[Decimal]:
    whole = st.integers(1, 250_000).map(Decimal)
    if not linear:
        return whole
    fractional = st.builds(
        lambda n, places: Decimal(n).scaleb(-places), st.integers(1, 99_999), st.integers(1, 4)
    )
    return st.one_of(whole, fractional)


def instrument_names(
    *,
    kinds: Collection[str] = (
        "perpetual",
        "future",
        "option",
        "spot",
    ),
    linear: bool | None = None,
) -> st.SearchStrategy[str]:
    """Instrument names of spec 6.5, built with the package's own builders.

    Perpetuals (``BTC-PERPETUAL``, ``SOL_USDC-PERPETUAL``), futures (``BTC-5AUG23``: no
    zero padding), options (``BTC-25MAR23-420-C``; linear ones with a ``d`` decimal
    point, ``XRP_USDC-30JUN23-0d625-C``) and spot pairs (``BTC_USDC``).  ``linear``
    restricts the underlying (spot is always linear).
    """
    return _instrument_names(tuple(kinds), linear)


@functools.cache
def _instrument_names(kinds: tuple[str, ...], linear: bool | None) -> st.SearchStrategy[str]:
    branches: list[st.SearchStrategy[str]] = []
    for kind in kinds:
        if kind == "perpetual":
            branches.append(underlyings(linear=linear).map(perpetual_name))
        elif kind == "future":
            branches.append(st.builds(future_name, underlyings(linear=linear), _expiries()))
        elif kind == "option":
            for is_linear in (False, True):
                if linear is None or linear is is_linear:
                    branches.append(
                        st.builds(
                            option_name,
                            underlyings(linear=is_linear),
                            _expiries(),
                            _strikes(is_linear),
                            st.sampled_from(("call", "put")),
                        )
                    )
        elif kind == "spot" and linear is not False:
            branches.append(st.builds(spot_name, st.sampled_from(_COINS), st.sampled_from(_QUOTES)))
        elif kind != "spot":
            raise ValueError(f"invalid kind {kind!r}; accepted: perpetual, future, option, spot")
    if not branches:
        raise ValueError("no instrument can have these kinds and linearity")
    return st.one_of(branches)


@functools.cache
def index_names() -> st.SearchStrategy[str]:
    """Lower-case index names: ``btc_usd``, ``eth_usdc``, ``sol_usdc`` ..."""
    return st.one_of(
        st.sampled_from(("btc_usd", "eth_usd", "btc_usdc", "eth_usdc", "sol_usdc", "eth_btc")),
        st.builds(
            lambda base, quote: f"{base.lower()}_{quote}",
            st.sampled_from(_COINS),
            st.sampled_from(("usd", "usdc", "usdt", "eurr")),
        ),
    )


# -- channels ---------------------------------------------------------------------------

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


# -- commands ---------------------------------------------------------------------------


@functools.cache
def request_ids() -> st.SearchStrategy[RequestId]:
    """JSON-RPC ids as clients send them: counters from 1, large ints, ``"101"``,
    ``"auth_<hex>"`` and other strings."""
    return st.one_of(
        st.integers(1, 10_000),
        st.integers(0, 2**53),
        st.integers(1, 10**6).map(str),
        st.text(string.hexdigits.lower(), min_size=8, max_size=32).map(lambda h: f"auth_{h}"),
        _text(1, 24),
    )


@functools.cache
def _labels(max_size: int = MAX_LABEL_LENGTH) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=max_size),
        _text(1, max_size),
    )


@functools.cache
def _scopes() -> st.SearchStrategy[str]:
    session = st.text(string.ascii_lowercase + string.digits + "_-", min_size=1, max_size=16)
    parts = st.sampled_from(
        (
            "connection",
            "mainaccount",
            "account:read",
            "trade:read_write",
            "wallet:none",
            "block_trade:read",
            "expires:600",
        )
    )
    return st.one_of(
        session.map(lambda s: f"session:{s}"),
        st.lists(parts, min_size=1, max_size=4, unique=True).map(" ".join),
    )


@functools.cache
def _channel_lists() -> st.SearchStrategy[list[str]]:
    return st.lists(channel_names(), min_size=1, max_size=8, unique=True)


@functools.cache
def _maybe(strategy: st.SearchStrategy[T]) -> st.SearchStrategy[T | None]:
    return st.one_of(st.none(), strategy)


def _build(
    command_type: type[DeribitCommand],
    required: dict[str, st.SearchStrategy[Any]] | None = None,
    optional: dict[str, st.SearchStrategy[Any]] | None = None,
) -> st.SearchStrategy[DeribitCommand]:
    fields = st.fixed_dictionaries(required or {}, optional=optional or {})
    return fields.map(lambda kw: command_type(**kw))


@functools.cache
def _choice(values: Sequence[Any]) -> st.SearchStrategy[Any]:
    return st.sampled_from(tuple(values))


@st.composite
def _place_order(draw: st.DrawFn, command_type: type[Buy | Sell]) -> DeribitCommand:
    order_type = draw(_maybe(_choice(ORDER_TYPES)))
    effective = order_type or "limit"
    fields: dict[str, Any] = {"instrument_name": draw(instrument_names())}
    size = draw(st.sampled_from(("amount", "contracts", "both")))
    if size in ("amount", "both"):
        fields["amount"] = draw(_amounts())
    if size in ("contracts", "both"):
        fields["contracts"] = draw(_amounts())
    if order_type is not None:
        fields["type"] = order_type
    if effective in ("limit", "stop_limit", "take_limit") or draw(st.booleans()):
        fields["price"] = draw(_prices())
    triggered = effective in ("stop_limit", "stop_market", "take_limit", "take_market")
    if triggered or effective == "trailing_stop":
        fields["trigger"] = draw(_choice(TRIGGERS))
    if triggered:
        fields["trigger_price"] = draw(_prices())
    if effective == "trailing_stop":
        fields["trigger_offset"] = draw(_prices())
    post_only = draw(_maybe(st.booleans()))
    if post_only is not None:
        fields["post_only"] = post_only
        if post_only and draw(st.booleans()):
            fields["reject_post_only"] = True
    if post_only:
        tif = draw(_maybe(st.just("good_til_cancelled")))
    else:
        tif = draw(_maybe(_choice(TIME_IN_FORCE)))
    if tif is not None:
        fields["time_in_force"] = tif
    optional = {
        "label": _labels(),
        "max_show": _amounts(),
        "reduce_only": st.booleans(),
        "mmp": st.booleans(),
        "display_amount": _amounts(),
        "advanced": _choice(ADVANCED),
        "valid_until": _timestamps(),
        "linked_order_type": _choice(LINKED_ORDER_TYPES),
        "trigger_fill_condition": _choice(TRIGGER_FILL_CONDITIONS),
    }
    fields.update(draw(st.fixed_dictionaries({}, optional=optional)))
    return command_type(**fields)


def _edit_fields() -> dict[str, st.SearchStrategy[Any]]:
    return {
        "price": _prices(),
        "reduce_only": st.booleans(),
        "advanced": _choice(ADVANCED),
        "trigger_price": _prices(),
        "trigger_offset": _prices(),
        "mmp": st.booleans(),
        "valid_until": _timestamps(),
        "display_amount": _amounts(),
    }


@st.composite
def _edit(draw: st.DrawFn, command_type: type[Edit | EditByLabel]) -> DeribitCommand:
    fields: dict[str, Any] = draw(st.fixed_dictionaries({}, optional=_edit_fields()))
    size = draw(st.sampled_from(("amount", "contracts", "both")))
    if size in ("amount", "both"):
        fields["amount"] = draw(_amounts())
    if size in ("contracts", "both"):
        fields["contracts"] = draw(_amounts())
    post_only = draw(_maybe(st.booleans()))
    if post_only is not None:
        fields["post_only"] = post_only
        if post_only and draw(st.booleans()):
            fields["reject_post_only"] = True
    if command_type is Edit:
        fields["order_id"] = draw(_order_ids())
    else:
        fields["label"] = draw(_labels())
        fields["instrument_name"] = draw(instrument_names())
    return command_type(**fields)


@functools.cache
def _order_ids() -> st.SearchStrategy[str]:
    return st.one_of(
        st.integers(1, 10**10).map(str),
        st.builds(
            lambda p, n: f"{p}-{n}", st.sampled_from(("USR", "ETH", "USDC")), st.integers(1, 10**9)
        ),
    )


@st.composite
def _signed_auth(draw: st.DrawFn) -> DeribitCommand:
    return AuthClientSignature.signed(
        client_id=draw(_client_ids()),
        client_secret=draw(_text(8, 40)),
        timestamp=draw(_timestamps()),
        nonce=draw(
            st.one_of(st.text(string.ascii_lowercase + string.digits, max_size=16), _text(0, 16))
        ),
        data=draw(st.one_of(st.just(""), _text(0, 32))),
        scope=draw(_maybe(_scopes())),
        state=draw(_maybe(_text(1, 16))),
    )


@functools.cache
def _client_ids() -> st.SearchStrategy[str]:
    return st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=16)


@functools.cache
def _command_table() -> dict[type[DeribitCommand], st.SearchStrategy[DeribitCommand]]:
    instrument = instrument_names()
    currency = currencies()
    any_currency = currencies(allow_any=True)
    cod = {"scope": _choice(COD_SCOPES)}
    cancel_flags = {"detailed": st.booleans(), "freeze_quotes": st.booleans()}
    auth_extra = {"scope": _scopes(), "state": _text(1, 16)}
    table: dict[type[DeribitCommand], st.SearchStrategy[DeribitCommand]] = {
        SetHeartbeat: _build(SetHeartbeat, {"interval": st.integers(MIN_HEARTBEAT_INTERVAL, 3600)}),
        DisableHeartbeat: _build(DisableHeartbeat),
        Test: _build(Test, optional={"expected_result": st.just("exception")}),
        Hello: _build(Hello, {"client_name": _text(1, 24), "client_version": _text(1, 12)}),
        GetTime: _build(GetTime),
        Status: _build(Status),
        AuthClientCredentials: _build(
            AuthClientCredentials,
            {"client_id": _client_ids(), "client_secret": _text(8, 40)},
            auth_extra,
        ),
        AuthClientSignature: _signed_auth(),
        AuthRefreshToken: _build(AuthRefreshToken, {"refresh_token": _token()}, auth_extra),
        ExchangeToken: _build(
            ExchangeToken,
            {"refresh_token": _token(), "subject_id": st.integers(0, 10**7)},
            {"scope": _scopes()},
        ),
        ForkToken: _build(ForkToken, {"refresh_token": _token(), "session_name": _text(1, 16)}),
        Logout: _build(Logout, optional={"invalidate_token": st.booleans()}),
        PublicSubscribe: _build(PublicSubscribe, {"channels": _channel_lists()}),
        PrivateSubscribe: _build(
            PrivateSubscribe,
            {"channels": _channel_lists()},
            {"label": _labels(MAX_SUBSCRIBE_LABEL_LENGTH)},
        ),
        PublicUnsubscribe: _build(PublicUnsubscribe, {"channels": _channel_lists()}),
        PrivateUnsubscribe: _build(PrivateUnsubscribe, {"channels": _channel_lists()}),
        PublicUnsubscribeAll: _build(PublicUnsubscribeAll),
        PrivateUnsubscribeAll: _build(PrivateUnsubscribeAll),
        GetInstruments: _build(
            GetInstruments,
            optional={"currency": any_currency, "kind": _choice(KINDS), "expired": st.booleans()},
        ),
        GetCurrencies: _build(GetCurrencies),
        GetOrderBook: _build(
            GetOrderBook, {"instrument_name": instrument}, {"depth": _choice(ORDER_BOOK_DEPTHS)}
        ),
        GetOrderBookByInstrumentId: _build(
            GetOrderBookByInstrumentId,
            {"instrument_id": st.integers(0, 10**7)},
            {"depth": _choice(ORDER_BOOK_DEPTHS)},
        ),
        GetTicker: _build(GetTicker, {"instrument_name": instrument}),
        GetIndexPrice: _build(GetIndexPrice, {"index_name": index_names()}),
        GetLastTradesByInstrument: _build(
            GetLastTradesByInstrument,
            {"instrument_name": instrument},
            {
                "start_seq": st.integers(0, 10**9),
                "end_seq": st.integers(0, 10**9),
                "start_timestamp": _timestamps(),
                "end_timestamp": _timestamps(),
                "count": st.integers(1, 1000),
                "sorting": _choice(SORTINGS),
            },
        ),
        Buy: _place_order(Buy),
        Sell: _place_order(Sell),
        Edit: _edit(Edit),
        EditByLabel: _edit(EditByLabel),
        Cancel: _build(Cancel, {"order_id": _order_ids()}),
        CancelAll: _build(CancelAll, optional=cancel_flags),
        CancelAllByCurrency: _build(
            CancelAllByCurrency,
            {"currency": currency},
            {"kind": _choice(USER_KINDS), "type": _choice(CANCEL_TYPES), **cancel_flags},
        ),
        CancelAllByInstrument: _build(
            CancelAllByInstrument,
            {"instrument_name": instrument},
            {"type": _choice(CANCEL_TYPES), "include_combos": st.booleans(), **cancel_flags},
        ),
        CancelAllByKindOrType: _build(
            CancelAllByKindOrType,
            {"currency": st.one_of(any_currency, st.lists(currency, min_size=1, max_size=4))},
            {"kind": _choice(USER_KINDS), "type": _choice(CANCEL_TYPES), **cancel_flags},
        ),
        CancelByLabel: _build(CancelByLabel, {"label": _labels()}, {"currency": currency}),
        GetOpenOrders: _build(
            GetOpenOrders, optional={"kind": _choice(KINDS), "type": _choice(OPEN_ORDER_TYPES)}
        ),
        GetOpenOrdersByCurrency: _build(
            GetOpenOrdersByCurrency,
            {"currency": any_currency},
            {"kind": _choice(KINDS), "type": _choice(OPEN_ORDER_TYPES)},
        ),
        GetOpenOrdersByInstrument: _build(
            GetOpenOrdersByInstrument,
            {"instrument_name": instrument},
            {"type": _choice(OPEN_ORDER_TYPES)},
        ),
        GetOpenOrdersByLabel: _build(
            GetOpenOrdersByLabel, {"currency": currency}, {"label": _labels()}
        ),
        GetOrderState: _build(GetOrderState, {"order_id": _order_ids()}),
        GetPositions: _build(
            GetPositions,
            optional={
                "currency": any_currency,
                "kind": _choice(KINDS),
                "subaccount_id": st.integers(0, 10**7),
            },
        ),
        GetPosition: _build(GetPosition, {"instrument_name": instrument}),
        GetAccountSummary: _build(
            GetAccountSummary,
            {"currency": currency},
            {"subaccount_id": st.integers(0, 10**7), "extended": st.booleans()},
        ),
        EnableCancelOnDisconnect: _build(EnableCancelOnDisconnect, optional=cod),
        DisableCancelOnDisconnect: _build(DisableCancelOnDisconnect, optional=cod),
        GetCancelOnDisconnect: _build(GetCancelOnDisconnect, optional=cod),
    }
    return table


def command_types() -> tuple[type[DeribitCommand], ...]:
    """Every concrete typed command :func:`commands` generates: one class per method of
    ``COMMANDS``, with ``public/auth`` as its three grant types."""
    return tuple(_command_table())


def commands(
    types: Iterable[type[DeribitCommand]] | None = None, *, access_token: bool | None = None
) -> st.SearchStrategy[DeribitCommand]:
    """Typed commands with valid params (each passes its own ``validate``).

    ``types`` restricts the classes (default: :func:`command_types`); ``access_token``
    ``True`` always adds the documented ``access_token`` param, ``False`` never,
    ``None`` sometimes.  Orders respect the venue's rules: a price for limit types, a
    trigger and trigger price for stop and take orders, a trigger offset for trailing
    stops, ``reject_post_only`` only with ``post_only``.
    """
    table = _command_table()
    chosen = list(table) if types is None else list(types)
    unknown = [t.__name__ for t in chosen if t not in table]
    if unknown:
        raise ValueError(f"no strategy for {unknown}; known: {[t.__name__ for t in table]}")
    base = st.one_of([table[t] for t in chosen])
    if access_token is False:
        return base
    token = _token() if access_token else _maybe(_token())

    def add(command: DeribitCommand, value: str | None) -> DeribitCommand:
        if value is None:
            return command
        return msgspec.structs.replace(command, access_token=Secret(value))

    return st.builds(add, base, token)


def requests(
    commands_: st.SearchStrategy[DeribitCommand] | None = None,
    ids: st.SearchStrategy[RequestId] | None = None,
) -> st.SearchStrategy[RequestSample]:
    """:class:`RequestSample` values: a command, an id, the bytes a client sends.

    A server decoding ``data`` must get ``command`` back (``decode_request`` then
    ``decode_params`` with ``command_type_for(method)``).
    """

    def sample(command: DeribitCommand, request_id: RequestId) -> RequestSample:
        return RequestSample(
            command=command, request_id=request_id, data=encode_request(request_id, command)
        )

    return st.builds(
        sample,
        commands_ if commands_ is not None else commands(),
        ids if ids is not None else request_ids(),
    )


# -- wire models ------------------------------------------------------------------------


@functools.cache
def _stats() -> st.SearchStrategy[TickerStats]:
    return st.builds(
        TickerStats,
        high=_maybe(_prices()),
        low=_maybe(_prices()),
        price_change=_maybe(_floats(-100, 100)),
        volume=_maybe(_amounts()),
        volume_usd=_maybe(_amounts()),
    )


@functools.cache
def _greeks() -> st.SearchStrategy[Greeks]:
    return st.builds(
        Greeks,
        delta=_floats(-1, 1),
        gamma=_floats(0, 1),
        rho=_floats(-1000, 1000),
        theta=_floats(-1e5, 0),
        vega=_floats(0, 1e5),
    )


@st.composite
def tickers(draw: st.DrawFn, instrument: st.SearchStrategy[str] | None = None) -> Ticker:
    """``Ticker`` models (``ticker.*`` data, ``public/ticker`` results): options get
    greeks and implied volatilities, futures funding fields; an empty side has a
    ``None`` best price."""
    name = draw(instrument if instrument is not None else instrument_names())
    mark = draw(_prices())
    option = name.endswith(("-C", "-P"))
    ticker = Ticker(
        instrument_name=name,
        timestamp=draw(_timestamps()),
        state=draw(st.sampled_from(("open", "open", "closed"))),
        best_bid_price=draw(_maybe(_prices())),
        best_bid_amount=draw(_amounts()),
        best_ask_price=draw(_maybe(_prices())),
        best_ask_amount=draw(_amounts()),
        last_price=draw(_maybe(_prices())),
        mark_price=mark,
        index_price=draw(_prices()),
        min_price=mark * 0.95,
        max_price=mark * 1.05,
        stats=draw(_stats()),
        estimated_delivery_price=draw(_maybe(_prices())),
        settlement_price=draw(_maybe(_prices())),
        open_interest=draw(_maybe(_amounts())),
    )
    if option:
        ticker = msgspec.structs.replace(
            ticker,
            greeks=draw(_greeks()),
            mark_iv=draw(_floats(0, 500)),
            bid_iv=draw(_floats(0, 500)),
            ask_iv=draw(_floats(0, 500)),
            underlying_price=draw(_prices()),
            underlying_index=draw(st.sampled_from(("index_price", "SYN.BTC-5AUG23"))),
            interest_rate=0.0,
        )
    elif name.endswith("PERPETUAL"):
        ticker = msgspec.structs.replace(
            ticker,
            current_funding=draw(_floats(-0.01, 0.01)),
            funding_8h=draw(_floats(-0.01, 0.01)),
            interest_value=draw(_floats(-10, 10)),
        )
    return ticker


@st.composite
def orders(draw: st.DrawFn, instrument: st.SearchStrategy[str] | None = None) -> Order:
    """``Order`` models in any state: filled amounts never exceed the amount, an
    untriggered market stop prices at ``"market_price"``."""
    amount = draw(_amounts())
    filled = draw(st.sampled_from((0.0, amount, amount / 2)))
    order_type = draw(_choice(ORDER_TYPES))
    state = draw(st.sampled_from(("open", "filled", "cancelled", "rejected", "untriggered")))
    price: float | str = draw(_prices())
    if order_type in ("stop_market", "take_market") and state == "untriggered":
        price = "market_price"
    created = draw(_timestamps())
    order = Order(
        order_id=draw(_order_ids()),
        instrument_name=draw(instrument if instrument is not None else instrument_names()),
        direction=draw(st.sampled_from(("buy", "sell"))),
        amount=amount,
        filled_amount=filled,
        average_price=0.0 if filled == 0 else draw(_prices()),
        price=price,
        order_type=order_type,
        order_state=state,
        time_in_force=draw(_choice(TIME_IN_FORCE)),
        label=draw(st.one_of(st.just(""), _labels())),
        post_only=draw(st.booleans()),
        reduce_only=draw(st.booleans()),
        replaced=draw(st.booleans()),
        api=draw(st.booleans()),
        web=draw(st.booleans()),
        creation_timestamp=created,
        last_update_timestamp=created + draw(st.integers(0, 10**7)),
    )
    extra = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "max_show": _amounts(),
                "is_liquidation": st.booleans(),
                "contracts": _amounts(),
                "trigger": _choice(TRIGGERS),
                "trigger_price": _prices(),
                "cancel_reason": st.sampled_from(("user_request", "cancel_on_disconnect")),
                "mmp": st.booleans(),
                "risk_reducing": st.booleans(),
                "app_name": _text(1, 16),
            },
        )
    )
    return msgspec.structs.replace(order, **extra) if extra else order


@st.composite
def public_trades(draw: st.DrawFn, instrument: st.SearchStrategy[str] | None = None) -> PublicTrade:
    """``PublicTrade`` models (``trades.*``); options carry ``iv``, some are liquidations."""
    name = draw(instrument if instrument is not None else instrument_names())
    prefix = "" if name.startswith("BTC-") else name.split("-")[0].split("_")[-1] + "-"
    return PublicTrade(
        trade_id=f"{prefix}{draw(st.integers(1, 10**9))}",
        trade_seq=draw(st.integers(1, 10**9)),
        timestamp=draw(_timestamps()),
        instrument_name=name,
        price=draw(_prices()),
        amount=draw(_amounts()),
        direction=draw(st.sampled_from(("buy", "sell"))),
        tick_direction=draw(st.integers(0, 3)),
        mark_price=draw(_prices()),
        index_price=draw(_prices()),
        iv=draw(_floats(0, 500)) if name.endswith(("-C", "-P")) else None,
        liquidation=draw(_maybe(st.sampled_from(("M", "T", "MT")))),
    )


@st.composite
def user_trades(draw: st.DrawFn, instrument: st.SearchStrategy[str] | None = None) -> UserTrade:
    """``UserTrade`` models (``user.trades.*``, ``trades`` of order results)."""
    trade = draw(public_trades(instrument))
    fields = msgspec.structs.asdict(trade)
    return UserTrade(
        **fields,
        order_id=draw(_order_ids()),
        order_type=draw(st.sampled_from(("limit", "market", "liquidation"))),
        state=draw(st.sampled_from(("filled", "open"))),
        fee=draw(_floats(-1, 1)),
        fee_currency=draw(currencies()),
        liquidity=draw(st.sampled_from(("M", "T"))),
        post_only=draw(_maybe(st.booleans())),
        reduce_only=draw(_maybe(st.booleans())),
        label=draw(_maybe(_labels())),
        profit_loss=draw(_maybe(_floats())),
    )


@st.composite
def positions(draw: st.DrawFn, instrument: st.SearchStrategy[str] | None = None) -> Position:
    """``Position`` models (``user.changes.*``, ``private/get_position*``)."""
    size = draw(_floats(-1e7, 1e7))
    return Position(
        instrument_name=draw(instrument if instrument is not None else instrument_names()),
        kind=draw(_choice(KINDS)),
        direction="zero" if size == 0 else ("buy" if size > 0 else "sell"),
        size=size,
        average_price=draw(_prices()),
        mark_price=draw(_prices()),
        index_price=draw(_prices()),
        floating_profit_loss=draw(_floats()),
        total_profit_loss=draw(_floats()),
        initial_margin=draw(_floats(0)),
        maintenance_margin=draw(_floats(0)),
        delta=draw(_floats()),
        leverage=draw(_maybe(st.integers(1, 100).map(float))),
        estimated_liquidation_price=draw(_maybe(_prices())),
    )


@st.composite
def account_summaries(
    draw: st.DrawFn, currency: st.SearchStrategy[str] | None = None
) -> AccountSummary:
    """``AccountSummary`` models (``user.portfolio.*``, ``private/get_account_summary``)."""
    balance = draw(_floats(0, 1e7))
    return AccountSummary(
        currency=draw(currency if currency is not None else currencies()),
        balance=balance,
        equity=balance + draw(_floats(-1e3, 1e3)),
        available_funds=draw(_floats(0, 1e7)),
        margin_balance=draw(_floats(0, 1e7)),
        initial_margin=draw(_floats(0, 1e6)),
        maintenance_margin=draw(_floats(0, 1e6)),
        delta_total=draw(_maybe(_floats())),
        delta_total_map=draw(_maybe(st.dictionaries(index_names(), _floats(), max_size=3))),
        margin_model=draw(_maybe(st.sampled_from(("segregated_sm", "cross_pm", "cross_sm")))),
        portfolio_margining_enabled=draw(_maybe(st.booleans())),
        limits=draw(_maybe(st.just({"non_matching_engine": {"burst": 1500, "rate": 1000}}))),
    )


@st.composite
def auth_results(draw: st.DrawFn) -> AuthResult:
    """``AuthResult`` models: tokens as ``Secret``, the granted scope, the lifetime."""
    return AuthResult(
        access_token=Secret(draw(_token())),
        refresh_token=Secret(draw(_token())),
        expires_in=draw(st.integers(1, 31_536_000)),
        scope=draw(_scopes()),
        token_type="bearer",
        enabled_features=draw(
            st.lists(
                st.sampled_from(("restricted_block_trades", "block_trade_approval")), unique=True
            )
        ),
        sid=draw(_maybe(st.text(string.ascii_letters + string.digits, min_size=4, max_size=12))),
        state=draw(_maybe(_text(1, 16))),
    )


@st.composite
def instruments(draw: st.DrawFn) -> Instrument:
    """``Instrument`` models whose fields agree with the name (kind, option type,
    strike, settlement period, linearity)."""
    name = draw(instrument_names())
    linear = "_" in name.split("-")[0]
    spot = "-" not in name
    option = name.endswith(("-C", "-P"))
    perpetual = name.endswith("PERPETUAL")
    base = name.split("-")[0].split("_")[0]
    created = draw(_timestamps())
    instrument = Instrument(
        instrument_name=name,
        kind="spot" if spot else ("option" if option else "future"),
        base_currency=base,
        quote_currency=name.split("-")[0].split("_")[1] if linear else "USD",
        tick_size=draw(st.sampled_from((0.5, 0.05, 0.0001, 2.5))),
        min_trade_amount=draw(st.sampled_from((10.0, 1.0, 0.1, 0.001))),
        contract_size=draw(st.sampled_from((10.0, 1.0, 0.001))),
        is_active=draw(st.booleans()),
        creation_timestamp=created,
        expiration_timestamp=32_503_708_800_000 if perpetual or spot else created + 10**9,
        instrument_id=draw(st.integers(1, 10**6)),
        instrument_type="linear" if linear else "reversed",
        settlement_currency=None if spot else ("USDC" if linear else base),
        settlement_period=None if spot else ("perpetual" if perpetual else "month"),
        price_index=f"{base.lower()}_usd",
        taker_commission=0.0005,
        maker_commission=0.0,
    )
    if option:
        strike = name.split("-")[2].replace("d", ".")
        instrument = msgspec.structs.replace(
            instrument,
            option_type="call" if name.endswith("-C") else "put",
            strike=float(strike),
        )
    return instrument


@functools.cache
def _currency_details() -> st.SearchStrategy[Currency]:
    return st.builds(
        Currency,
        currency=currencies(),
        currency_long=_text(1, 24),
        coin_type=_maybe(st.sampled_from(("BITCOIN", "ETHER", "USDC"))),
        fee_precision=_maybe(st.integers(0, 12)),
        withdrawal_fee=_maybe(_floats(0, 1)),
        withdrawal_priorities=_maybe(
            st.lists(
                st.builds(WithdrawalPriority, name=_text(1, 12), value=_floats(0, 10)), max_size=3
            )
        ),
    )


@st.composite
def _book_snapshot(draw: st.DrawFn) -> OrderBookSnapshot:
    ticker = draw(tickers())
    bids = draw(st.lists(st.tuples(_prices(), _amounts()), max_size=5))
    asks = draw(st.lists(st.tuples(_prices(), _amounts()), max_size=5))
    return OrderBookSnapshot(
        **msgspec.structs.asdict(ticker),
        change_id=draw(st.integers(1, 10**10)),
        bids=bids,
        asks=asks,
    )


@functools.cache
def _cancel_counts() -> st.SearchStrategy[Any]:
    report = st.builds(
        CancelReport,
        currency=currencies(),
        type=st.sampled_from(("currency", "instrument", "kind")),
        instrument_name=_maybe(instrument_names()),
        result=_maybe(st.lists(orders(), max_size=2)),
        error=_maybe(st.builds(RpcError, code=st.just(10004), message=st.just("order_not_found"))),
    )
    return st.one_of(st.integers(0, 10_000), st.lists(report, max_size=3))


def results(command: DeribitCommand) -> st.SearchStrategy[Any]:
    """Results of ``command``'s ``result_type`` as the venue would send them (wire
    models, or ``"ok"``, counts, channel lists); what ``decode_result`` must give back.

    Subscribe answers list some of the requested channels in a new order (the venue
    drops bad ones silently and reorders, spec 3.1).
    """
    if isinstance(
        command, PublicSubscribe | PrivateSubscribe | PublicUnsubscribe | PrivateUnsubscribe
    ):
        channels = list(command.channels)
        return st.lists(st.sampled_from(channels), unique=True, max_size=len(channels))
    kind = type(command)
    simple: dict[type[DeribitCommand], st.SearchStrategy[Any]] = {
        Test: st.builds(VersionResult, version=st.sampled_from(("1.2.26", "1.2.31"))),
        Hello: st.builds(VersionResult, version=st.just("1.2.26")),
        GetTime: _timestamps(),
        Status: st.builds(
            PlatformStatus,
            locked=st.one_of(st.booleans(), st.sampled_from(("true", "partial", "false"))),
            locked_indices=_maybe(st.lists(index_names(), max_size=3)),
        ),
        GetInstruments: st.lists(instruments(), max_size=3),
        GetCurrencies: st.lists(_currency_details(), max_size=3),
        GetOrderBook: _book_snapshot(),
        GetOrderBookByInstrumentId: _book_snapshot(),
        GetTicker: tickers(),
        GetIndexPrice: st.builds(
            IndexPrice, index_price=_prices(), estimated_delivery_price=_prices()
        ),
        GetLastTradesByInstrument: st.builds(
            TradesPage, trades=st.lists(public_trades(), max_size=3), has_more=st.booleans()
        ),
        Cancel: orders(),
        GetOrderState: orders(),
        CancelByLabel: st.integers(0, 1000),
        GetOpenOrders: st.lists(orders(), max_size=3),
        GetOpenOrdersByCurrency: st.lists(orders(), max_size=3),
        GetOpenOrdersByInstrument: st.lists(orders(), max_size=3),
        GetOpenOrdersByLabel: st.lists(orders(), max_size=3),
        GetPositions: st.lists(positions(), max_size=3),
        GetPosition: positions(),
        GetAccountSummary: account_summaries(),
        GetCancelOnDisconnect: st.builds(
            CancelOnDisconnectState, scope=_choice(COD_SCOPES), enabled=st.booleans()
        ),
    }
    if kind in simple:
        return simple[kind]
    if isinstance(command, Auth | ExchangeToken | ForkToken):
        return auth_results()
    if isinstance(command, Buy | Sell | Edit | EditByLabel):
        name = getattr(command, "instrument_name", None)
        instrument = st.just(name) if name is not None else None
        return st.builds(
            OrderResult,
            order=orders(instrument),
            trades=st.lists(user_trades(instrument), max_size=3),
        )
    if isinstance(
        command, CancelAll | CancelAllByCurrency | CancelAllByInstrument | CancelAllByKindOrType
    ):
        return _cancel_counts()
    return st.just("ok")  # heartbeat, unsubscribe_all and cancel-on-disconnect switches


# -- responses ------------------------------------------------------------------------

_COMMON_ERRORS = (10028, 13009, 13004, 10004, 11044, 10009, 11050, -32602, -32601, 13778, 10010)


@functools.cache
def error_codes() -> st.SearchStrategy[int]:
    """Documented Deribit error codes (spec 7.1), the ones clients meet most often
    weighted up."""
    return st.one_of(st.sampled_from(_COMMON_ERRORS), st.sampled_from(tuple(ERROR_MESSAGES)))


def _error_data(code: int) -> st.SearchStrategy[Any]:
    if code in (-32602, -32000):
        return st.builds(
            lambda reason, param: {"reason": reason, "param": param},
            st.sampled_from(("must be present", "wrong format", "missing")),
            st.sampled_from(("instrument_name", "amount", "nonce", "price")),
        )
    if code == 11050:
        return st.sampled_from(("invalid json", "invalid request", None))
    if code == 13009:
        return st.one_of(st.none(), st.just({"reason": "invalid_token"}))
    return st.one_of(st.none(), st.just({"reason": "x"}), _floats(0, 1e6), _text(0, 16))


def _envelope(fields: list[tuple[str, Any]]) -> bytes:
    """A response's bytes; ``result`` is kept as the exact encoded bytes (``Raw``)."""
    return msgspec.json.encode(dict(fields))


@st.composite
def _envelope_times(draw: st.DrawFn) -> tuple[list[tuple[str, Any]], int, int, int, bool]:
    us_in = draw(st.integers(_FIRST_MS * 1000, _LAST_MS * 1000))
    us_out = us_in + draw(st.integers(0, 10**7))
    testnet = draw(st.booleans())
    as_text = draw(st.booleans())
    diff = us_out - us_in

    def show(value: int) -> int | str:
        return str(value) if as_text else value

    extras = [
        ("testnet", testnet),
        ("usIn", show(us_in)),
        ("usOut", show(us_out)),
        ("usDiff", show(diff)),
    ]
    return extras, us_in, us_out, diff, testnet


@st.composite
def responses(
    draw: st.DrawFn,
    commands_: st.SearchStrategy[DeribitCommand] | None = None,
    *,
    errors: bool | None = None,
) -> ResponseSample:
    """:class:`ResponseSample` values: a command's result, or an error with a real code.

    Envelopes as the venue writes them (``testnet``, ``usIn``, ``usOut``, ``usDiff``,
    the times as JSON numbers or, as in some ccxt recordings, strings), keys in the
    documented order or shuffled.  ``errors`` ``True`` / ``False`` gives only errors /
    only results; an error about a request the venue could not parse may have no id.
    ``private/logout`` is never answered, so it gets only errors.
    """
    command = draw(commands_ if commands_ is not None else commands())
    want_error = draw(st.booleans()) if errors is None else errors
    if not command.has_response:
        want_error = True
    extras, us_in, us_out, diff, testnet = draw(_envelope_times())
    if want_error:
        # The two codes for requests the venue could not parse (the only errors that
        # may come without an id) are drawn often, so that case is not a rarity.
        code = draw(st.one_of(st.sampled_from([11050, -32600]), error_codes()))
        message = ERROR_MESSAGES.get(code, "error")
        data = draw(_error_data(code))
        request_id: RequestId | None = draw(request_ids())
        if code in (11050, -32600) and draw(st.booleans()):
            request_id = None
        body: dict[str, Any] = {"code": code, "message": message}
        if data is not None:
            body["data"] = data
        head: list[tuple[str, Any]] = [("jsonrpc", "2.0")]
        if request_id is not None:
            head.append(("id", request_id))
        fields = [*head, ("error", body), *extras]
        fields = draw(st.one_of(st.just(fields), st.permutations(fields)))
        expected: Response | ErrorResponse = ErrorResponse(
            id=request_id,
            error=RpcError(code=code, message=message, data=data),
            testnet=testnet,
            us_in=us_in,
            us_out=us_out,
            us_diff=diff,
        )
        return ResponseSample(
            command=command,
            request_id=request_id,
            data=_envelope(fields),
            expected=expected,
            error=error_for(code, message, data),
        )
    result = draw(results(command))
    raw = msgspec.Raw(msgspec.json.encode(result, enc_hook=enc_hook))
    request_id = draw(request_ids())
    fields = [("jsonrpc", "2.0"), ("id", request_id), ("result", raw), *extras]
    fields = draw(st.one_of(st.just(fields), st.permutations(fields)))
    expected = Response(
        id=request_id, result=raw, testnet=testnet, us_in=us_in, us_out=us_out, us_diff=diff
    )
    return ResponseSample(
        command=command,
        request_id=request_id,
        data=_envelope(fields),
        expected=expected,
        result=result,
    )


# -- notifications ----------------------------------------------------------------------

_TYPED_FAMILIES = tuple(EVENT_TYPES)
_GENERIC_FAMILIES = (
    ChannelFamily.ANNOUNCEMENTS,
    ChannelFamily.INSTRUMENT_STATE,
    ChannelFamily.USER_ACCESS_LOG,
    ChannelFamily.USER_LOCK,
    ChannelFamily.USER_MMP_TRIGGER,
)


def _instrument_of(channel: str) -> str | None:
    parts = channel.split(".")
    if parts[0] in ("book", "ticker", "incremental_ticker", "quote", "perpetual"):
        return parts[1]
    if parts[0] == "chart":
        return parts[2]
    if parts[0] in ("trades", "user") and len(parts) in (3, 4) and parts[-2] not in ("any",):
        candidate = parts[-2]
        if candidate not in USER_KINDS and len(parts) == (4 if parts[0] == "user" else 3):
            return candidate
    return None


def _book_levels(
    draw: st.DrawFn, mid: float, tick: float, side: Literal["bid", "ask"], actions: bool
) -> list[Any]:
    count = draw(st.integers(0, 5))
    steps = draw(st.lists(st.integers(1, 400), min_size=count, max_size=count, unique=True))
    steps.sort()
    sign = -1 if side == "bid" else 1
    levels: list[Any] = []
    for step in steps:
        price = mid + sign * step * tick
        amount = draw(st.integers(1, 5000)) * 10.0
        if actions:
            action = draw(st.sampled_from(("new", "change", "delete")))
            levels.append((action, price, 0.0 if action == "delete" else amount))
        else:
            levels.append((price, amount))
    return levels


@st.composite
def _book_data(draw: st.DrawFn, instrument: str) -> BookData:
    mid = draw(st.integers(10, 200_000)) * 1.0
    tick = draw(st.sampled_from((0.5, 0.05, 2.5, 0.0005)))
    change_id = draw(st.integers(1, 10**11))
    snapshot = draw(st.booleans())
    bids = _book_levels(draw, mid, tick, "bid", True)
    asks = _book_levels(draw, mid, tick, "ask", True)
    if snapshot:
        bids = [("new", p, a if a else 10.0) for _, p, a in bids]
        asks = [("new", p, a if a else 10.0) for _, p, a in asks]
    return BookData(
        type="snapshot" if snapshot else "change",
        instrument_name=instrument,
        timestamp=draw(_timestamps()),
        change_id=change_id,
        bids=bids,
        asks=asks,
        prev_change_id=None if snapshot else change_id - draw(st.integers(1, 50)),
    )


@st.composite
def _grouped_data(draw: st.DrawFn, instrument: str) -> GroupedBookData:
    mid = draw(st.integers(10, 200_000)) * 1.0
    tick = draw(st.sampled_from((1.0, 5.0, 0.05)))
    return GroupedBookData(
        instrument_name=instrument,
        timestamp=draw(_timestamps()),
        change_id=draw(st.integers(1, 10**11)),
        bids=_book_levels(draw, mid, tick, "bid", False),
        asks=_book_levels(draw, mid, tick, "ask", False),
    )


@st.composite
def _incremental(draw: st.DrawFn, instrument: str) -> IncrementalTicker:
    full = draw(tickers(st.just(instrument)))
    snapshot = draw(st.booleans())
    names = [
        f
        for f in IncrementalTicker.__struct_fields__
        if f not in ("type", "instrument_name", "timestamp") and getattr(full, f, None) is not None
    ]
    keep = names if snapshot else draw(st.lists(st.sampled_from(names), unique=True))
    values = {name: getattr(full, name) for name in keep}
    return IncrementalTicker(
        type="snapshot" if snapshot else "change",
        instrument_name=instrument,
        timestamp=full.timestamp,
        **values,
    )


def _platform_state(channel: str) -> st.SearchStrategy[PlatformState]:
    if channel == _PUBLIC_METHODS_STATE:
        return st.builds(PlatformState, allow_unauthenticated_public_requests=st.booleans())
    return st.one_of(
        st.builds(PlatformState, price_index=index_names(), locked=st.booleans()),
        st.just(PlatformState(maintenance=True)),
    )


def _generic_data(channel: str) -> st.SearchStrategy[Any]:
    if channel == _ANNOUNCEMENTS:
        return st.fixed_dictionaries(
            {
                "action": st.just("new"),
                "id": st.integers(1, 10**13),
                "title": _text(1, 40),
                "body": _text(0, 80),
                "important": st.booleans(),
                "publication_timestamp": _timestamps(),
            }
        )
    if channel.startswith("instrument.state."):
        return st.fixed_dictionaries(
            {
                "timestamp": _timestamps(),
                "state": st.sampled_from(("created", "started", "settled", "closed", "terminated")),
                "instrument_name": instrument_names(),
            }
        )
    if channel == _USER_ACCESS_LOG:
        return st.fixed_dictionaries(
            {
                "timestamp": _timestamps(),
                "log": st.sampled_from(("success", "failure")),
                "ip": st.just("192.0.2.1"),
                "id": st.integers(1, 10**9),
                "country": st.sampled_from(("Netherlands", "Japan")),
                "city": _text(1, 16),
            }
        )
    if channel == _USER_LOCK:
        return st.fixed_dictionaries(
            {"locked": st.booleans(), "currency": currencies(allow_any=True)}
        )
    return st.fixed_dictionaries(
        {"frozen_until": _timestamps(), "index_name": st.just(channel.rsplit(".", 1)[-1])}
    )


@st.composite
def _event_for(draw: st.DrawFn, channel: str, label: str | None) -> ChannelEvent:
    F = ChannelFamily
    family = channel_family(channel)
    instrument = _instrument_of(channel) or draw(instrument_names())
    name = st.just(instrument)
    if family is None or family in _GENERIC_FAMILIES:
        return Notification(channel=channel, data=draw(_generic_data(channel)), label=label)
    event_type = EVENT_TYPES[family]
    data: Any
    if family is F.BOOK:
        data = draw(_book_data(instrument))
    elif family is F.GROUPED_BOOK:
        data = draw(_grouped_data(instrument))
    elif family is F.TICKER:
        data = draw(tickers(name))
    elif family is F.INCREMENTAL_TICKER:
        data = draw(_incremental(instrument))
    elif family is F.QUOTE:
        data = Quote(
            instrument_name=instrument,
            timestamp=draw(_timestamps()),
            best_bid_price=draw(_maybe(_prices())),
            best_bid_amount=draw(_amounts()),
            best_ask_price=draw(_maybe(_prices())),
            best_ask_amount=draw(_amounts()),
        )
    elif family is F.TRADES:
        data = draw(st.lists(public_trades(name), min_size=1, max_size=4))
    elif family is F.CHART:
        low, high = sorted(draw(st.tuples(_prices(), _prices())))
        data = Candle(
            tick=draw(_timestamps()),
            open=low,
            high=high,
            low=low,
            close=high,
            volume=draw(_floats(0, 1e6)),
            cost=draw(_floats(0, 1e9)),
        )
    elif family is F.PRICE_INDEX:
        data = PriceIndex(
            index_name=channel.split(".", 1)[1],
            price=draw(_prices()),
            timestamp=draw(_timestamps()),
        )
    elif family is F.PERPETUAL:
        data = PerpetualInterest(
            index_price=draw(_prices()),
            interest=draw(_floats(-0.01, 0.01)),
            timestamp=draw(_timestamps()),
        )
    elif family in (F.PLATFORM_STATE, F.PUBLIC_METHODS_STATE):
        data = draw(_platform_state(channel))
    elif family is F.USER_ORDERS:
        if channel.endswith(".raw"):
            data = draw(orders(name))
        else:
            data = draw(st.lists(orders(name), min_size=1, max_size=3))
    elif family is F.USER_TRADES:
        data = draw(st.lists(user_trades(name), min_size=1, max_size=3))
    elif family is F.USER_CHANGES:
        data = UserChanges(
            instrument_name=instrument,
            orders=draw(st.lists(orders(name), max_size=2)),
            positions=draw(st.lists(positions(name), max_size=1)),
            trades=draw(st.lists(user_trades(name), max_size=2)),
        )
    else:  # USER_PORTFOLIO
        code = channel.rsplit(".", 1)[1].upper()
        data = draw(account_summaries(st.just(code)))
    return event_type(channel=channel, data=data, label=label)  # type: ignore[call-arg]


@st.composite
def notifications(
    draw: st.DrawFn,
    families: Iterable[ChannelFamily] | None = None,
    *,
    labels: bool | None = None,
) -> PushSample:
    """:class:`PushSample` values: a subscription notification on a channel of
    ``families`` (default: all) with data that fits the channel (its instrument, its
    shape: ``raw`` user orders are one object, other intervals arrays).

    Channels without a typed event (``announcements``, ``instrument.state.*``,
    ``user.access_log`` ...) give a generic ``Notification``.  ``labels`` ``True`` /
    ``None`` adds (always / sometimes) the ``params.label`` a labelled
    ``private/subscribe`` gets on ``user.*`` channels.
    """
    channel = draw(channel_names(families))
    label = None
    if channel.startswith("user.") and labels is not False and (labels or draw(st.booleans())):
        label = draw(_labels(MAX_SUBSCRIBE_LABEL_LENGTH))
    event = draw(_event_for(channel, label))
    data = encode_notification(channel, event.data, label=label)  # type: ignore[attr-defined]
    return PushSample(data=data, expected=event)


@st.composite
def heartbeats(draw: st.DrawFn) -> PushSample:
    """``heartbeat`` and ``test_request`` frames: as Deribit writes them (both key orders
    seen on the wire) and re-spaced or reordered, which must decode the same."""
    kind = draw(st.sampled_from(("heartbeat", "test_request")))
    expected: Heartbeat | TestRequest = Heartbeat() if kind == "heartbeat" else TestRequest()
    documented = encode_heartbeat(kind)  # type: ignore[arg-type]
    fields = [("jsonrpc", "2.0"), ("method", "heartbeat"), ("params", {"type": kind})]
    order = draw(st.permutations(fields))
    reordered = msgspec.json.encode(dict(order))
    spaced = msgspec.json.format(reordered, indent=draw(st.sampled_from((0, 1, 2))))
    data = draw(st.sampled_from((documented, reordered, spaced)))
    return PushSample(data=data, expected=expected)


def server_messages() -> st.SearchStrategy[PushSample | ResponseSample]:
    """Everything a venue sends a client: responses, notifications and heartbeats."""
    return st.one_of(responses(), notifications(), heartbeats())


# -- unknown fields -----------------------------------------------------------------------


@functools.cache
def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-(2**53), 2**53), _floats(), _text(0, 12)
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(
                st.sampled_from(("channel", "method", "id", "a", "x")), inner, max_size=3
            ),
        ),
        max_leaves=6,
    )


@functools.cache
def _unknown_keys() -> st.SearchStrategy[str]:
    return st.one_of(
        st.from_regex(r"x_[a-z][a-z0-9_]{0,10}", fullmatch=True),
        st.sampled_from(("x_trace", "x_new_field", "x_server_time")),
    )


def _inject(draw: st.DrawFn, target: dict[str, Any]) -> dict[str, Any]:
    extra = draw(st.dictionaries(_unknown_keys(), _json_values(), min_size=1, max_size=3))
    extra = {k: v for k, v in extra.items() if k not in target}
    if draw(st.booleans()):
        return {**extra, **target}
    return {**target, **extra}


def _typed_data(sample: PushSample) -> bool:
    expected = sample.expected
    return isinstance(expected, ChannelEvent) and not isinstance(expected, Notification)


@st.composite
def with_unknown_fields(draw: st.DrawFn, samples: st.SearchStrategy[S]) -> S:
    """``samples`` with fields nobody knows yet added to their JSON objects.

    Keys are added to the envelope, ``params``, typed ``data`` (or its elements), the
    ``error`` object and struct ``result`` values, at the front or the back (where a
    nested ``"channel"`` can mislead a decoder that peeks), with any JSON values.  A
    conforming peer ignores them, so ``expected`` (and ``command``) stay as they were;
    for a response, ``expected.result`` is the new raw result, which still decodes to
    ``result``.
    """
    sample = draw(samples)
    message: dict[str, Any] = msgspec.json.decode(sample.data)
    if isinstance(sample, RequestSample):
        params = message.get("params")
        if isinstance(params, dict) and draw(st.booleans()):
            message["params"] = _inject(draw, params)
        message = _inject(draw, message)
        return msgspec.structs.replace(sample, data=msgspec.json.encode(message))
    if isinstance(sample, PushSample):
        params = message["params"]
        if "channel" in params and _typed_data(sample) and draw(st.booleans()):
            data = params["data"]
            if isinstance(data, dict):
                params["data"] = _inject(draw, data)
            elif isinstance(data, list) and data:
                index = draw(st.integers(0, len(data) - 1))
                data[index] = _inject(draw, data[index])
        if draw(st.booleans()):
            message["params"] = _inject(draw, params)
        message = _inject(draw, message)
        return msgspec.structs.replace(sample, data=msgspec.json.encode(message))
    assert isinstance(sample, ResponseSample)
    expected = sample.expected
    if isinstance(expected, ErrorResponse):
        message["error"] = _inject(draw, message["error"])
        message = _inject(draw, message)
        return msgspec.structs.replace(sample, data=msgspec.json.encode(message))
    result = message["result"]
    if isinstance(sample.result, msgspec.Struct) and isinstance(result, dict):
        result = _inject(draw, result)
    elif (
        isinstance(result, list)
        and result
        and all(isinstance(r, msgspec.Struct) for r in sample.result)
    ):
        index = draw(st.integers(0, len(result) - 1))
        result[index] = _inject(draw, result[index])
    raw = msgspec.Raw(msgspec.json.encode(result))
    message["result"] = raw
    message = _inject(draw, message)
    new_expected = msgspec.structs.replace(expected, result=raw)
    return msgspec.structs.replace(sample, data=msgspec.json.encode(message), expected=new_expected)


# -- book chains ----------------------------------------------------------------------


def book_chains(
    channel: str | st.SearchStrategy[str] | None = None,
    *,
    faults: Collection[FaultKind] = (),
    max_faults: int = 3,
    min_changes: int = 2,
    max_changes: int = 8,
) -> st.SearchStrategy[BookChain]:
    """A :class:`BookChain`: snapshots and changes on one ``book.{instrument}.{interval}``
    channel, chained by ``change_id`` / ``prev_change_id``.

    Ids come from a counter shared with other books, so they jump (never assume +1).
    Levels are consistent: ``new`` for a price not in the book, ``change`` and
    ``delete`` (amount 0) for one that is; bids stay below asks, bids are sent best
    first (descending), asks ascending.  ``faults`` (some of :data:`FAULT_KINDS`) may be
    injected, up to ``max_faults``, each in its own stretch that the venue follows with
    a new snapshot (as after a resubscription), so each fault is one ``BookGap``; the
    chain says where each fault shows, and what a client following spec 4 reports.
    """
    for kind in faults:
        if kind not in FAULT_KINDS:
            raise ValueError(f"invalid fault {kind!r}; accepted: {', '.join(FAULT_KINDS)}")
    if min_changes < 2 or max_changes < min_changes:
        raise ValueError("expected 2 <= min_changes <= max_changes")
    if max_faults < 0:
        raise ValueError("expected max_faults >= 0")
    return _book_chains(channel, tuple(faults), max_faults, (min_changes, max_changes))


@st.composite
def _book_chains(
    draw: st.DrawFn,
    channel: str | st.SearchStrategy[str] | None,
    faults: tuple[FaultKind, ...],
    max_faults: int,
    changes_per_stretch: tuple[int, int],
) -> BookChain:
    min_changes, max_changes = changes_per_stretch
    if isinstance(channel, str):
        name = channel
    else:
        name = draw(channel if channel is not None else channel_names([ChannelFamily.BOOK]))
    instrument = name.split(".")[1]
    kinds = list(faults)
    injected: list[FaultKind] = []
    if kinds:
        count = draw(st.integers(0, max_faults))
        injected = [draw(st.sampled_from(kinds)) for _ in range(count)]
    stretches: list[FaultKind | None] = [*injected, None] if draw(st.booleans()) else list(injected)
    if not stretches:
        stretches = [None]
    counter = draw(st.integers(1, 10**10))
    stamp = draw(_timestamps())
    tick = draw(st.sampled_from((0.5, 0.05, 2.5)))
    mid = draw(st.integers(1_000, 100_000)) * tick
    bids: dict[float, float] = {}
    asks: dict[float, float] = {}
    delivered: list[BookData] = []
    fault_marks: list[tuple[FaultKind, int]] = []

    def next_id() -> int:
        nonlocal counter
        counter += draw(st.integers(1, 7))
        return counter

    def tick_time() -> int:
        nonlocal stamp
        stamp += draw(st.integers(0, 500))
        return stamp

    for fault in stretches:
        bids.clear()
        asks.clear()
        for book, sign in ((bids, -1), (asks, 1)):
            for step in draw(st.lists(st.integers(1, 50), min_size=1, max_size=6, unique=True)):
                book[mid + sign * step * tick] = draw(st.integers(1, 500)) * 10.0
        snapshot = BookData(
            type="snapshot",
            instrument_name=instrument,
            timestamp=tick_time(),
            change_id=next_id(),
            bids=[("new", p, a) for p, a in sorted(bids.items(), reverse=True)],
            asks=[("new", p, a) for p, a in sorted(asks.items())],
        )
        delivered.append(snapshot)
        changes: list[BookData] = []
        last = snapshot.change_id
        for _ in range(draw(st.integers(min_changes, max_changes))):
            change_id = next_id()
            changes.append(
                BookData(
                    type="change",
                    instrument_name=instrument,
                    timestamp=tick_time(),
                    change_id=change_id,
                    prev_change_id=last,
                    bids=_mutate(draw, bids, -1, mid, tick),
                    asks=_mutate(draw, asks, 1, mid, tick),
                )
            )
            last = change_id
        start = len(delivered)
        if fault == "gap":
            at = draw(st.integers(0, len(changes) - 2))
            lost = draw(st.integers(1, len(changes) - 1 - at))
            changes = changes[:at] + changes[at + lost :]
            fault_marks.append((fault, start + at))
        elif fault == "duplicate":
            at = draw(st.integers(0, len(changes) - 1))
            changes = [*changes[: at + 1], changes[at], *changes[at + 1 :]]
            fault_marks.append((fault, start + at + 1))
        elif fault == "reorder":
            at = draw(st.integers(0, len(changes) - 2))
            changes[at], changes[at + 1] = changes[at + 1], changes[at]
            fault_marks.append((fault, start + at))
        delivered.extend(changes)
    gaps, resyncs = _spec4(name, delivered)
    updates = tuple(BookUpdate(channel=name, data=d) for d in delivered)
    return BookChain(
        channel=name,
        messages=tuple(encode_notification(name, d) for d in delivered),
        updates=updates,
        faults=tuple(ChainFault(kind=k, position=p) for k, p in fault_marks),
        gaps=gaps,
        resyncs=resyncs,
        bids=dict(bids),
        asks=dict(asks),
        in_sync=stretches[-1] is None,
    )


def _mutate(
    draw: st.DrawFn, book: dict[float, float], sign: int, mid: float, tick: float
) -> list[Any]:
    """One side's actions of a change, applied to ``book``; best first on the wire."""
    actions: dict[float, tuple[str, float, float]] = {}
    for _ in range(draw(st.integers(0, 3))):
        verb = draw(st.sampled_from(("new", "change", "delete")))
        present = sorted(p for p in book if p not in actions)
        if verb == "new" or not present:
            price = mid + sign * draw(st.integers(1, 60)) * tick
            if price in book or price in actions:
                continue
            amount = draw(st.integers(1, 500)) * 10.0
            book[price] = amount
            actions[price] = ("new", price, amount)
        elif verb == "change":
            price = draw(st.sampled_from(present))
            amount = draw(st.integers(1, 500)) * 10.0
            book[price] = amount
            actions[price] = ("change", price, amount)
        elif len(book) > 1:
            price = draw(st.sampled_from(present))
            del book[price]
            actions[price] = ("delete", price, 0.0)
    return [actions[p] for p in sorted(actions, reverse=sign < 0)]


def _spec4(
    channel: str, delivered: Sequence[BookData]
) -> tuple[tuple[BookGap, ...], tuple[BookResynced, ...]]:
    """The reference model of spec 4 (one channel, no resubscription acknowledged)."""
    gaps: list[BookGap] = []
    resyncs: list[BookResynced] = []
    last: int | None = None
    stale = False
    dropped = 0
    for data in delivered:
        if data.prev_change_id is None:
            if stale:
                resyncs.append(
                    BookResynced(channel=channel, change_id=data.change_id, dropped=dropped)
                )
            last, stale, dropped = data.change_id, False, 0
        elif stale:
            dropped += 1
        elif data.prev_change_id == last:
            last = data.change_id
        else:
            gaps.append(BookGap(channel=channel, expected=last, got=data.prev_change_id))
            last, stale, dropped = None, True, 1
    return tuple(gaps), tuple(resyncs)


# -- invalid venue messages -------------------------------------------------------------

INVALID_MESSAGE_KINDS = (
    "malformed_json",
    "not_an_object",
    "wrong_type",
    "missing_field",
    "invalid_utf8",
    "bad_envelope",
)
"""What :func:`invalid_server_messages` generates (see there)."""

_INVALID_UTF8 = (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\x80", b"\xf4\x90\x80\x80")
_MARK = "\u2063MARK\u2063"
_WRONG: list[list[list[Any]]] = [[[]]]
"""A JSON value no typed field accepts (only ``Any`` fields, which are left alone)."""


def _struct_of(tp: Any) -> type[msgspec.Struct] | None:
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return tp
    for arg in typing.get_args(tp):
        found = _struct_of(arg)
        if found is not None:
            return found
    return None


def _typed_fields(struct: type[msgspec.Struct]) -> list[msgspec.structs.FieldInfo]:
    return [f for f in msgspec.structs.fields(struct) if f.type is not Any]


@st.composite
def _broken_data(draw: st.DrawFn, missing: bool) -> tuple[bytes, str]:
    families = [f for f in _TYPED_FAMILIES if f not in (ChannelFamily.PLATFORM_STATE,)]
    if missing:
        families = [f for f in families if f is not ChannelFamily.PUBLIC_METHODS_STATE]
    sample = draw(notifications(families))
    message = msgspec.json.decode(sample.data)
    event = sample.expected
    assert isinstance(event, ChannelEvent)
    data_field = next(f for f in msgspec.structs.fields(type(event)) if f.name == "data")
    struct = _struct_of(data_field.type)
    assert struct is not None
    data = message["params"]["data"]
    target = data[draw(st.integers(0, len(data) - 1))] if isinstance(data, list) else data
    if missing:
        required = [
            f.name for f in msgspec.structs.fields(struct) if f.required and f.name in target
        ]
        name = draw(st.sampled_from(required))
        del target[name]
        reason = f"{struct.__name__} without its required field {name!r}"
    else:
        present = [f.name for f in _typed_fields(struct) if f.name in target]
        name = draw(st.sampled_from(present))
        target[name] = _WRONG
        reason = f"{struct.__name__}.{name} of a type no field of it accepts"
    return msgspec.json.encode(message), reason


@st.composite
def _bad_envelope(draw: st.DrawFn) -> tuple[bytes, str]:
    response = draw(responses())
    push = draw(st.one_of(notifications(), heartbeats()))
    choices: list[tuple[dict[str, Any], str]] = []
    answer = msgspec.json.decode(response.data)
    answer.pop("method", None)
    wrong_id = draw(st.sampled_from((1.5, True, [1], {"id": 1})))
    choices.append(({**answer, "id": wrong_id}, "a response id that is not an int, str or null"))
    if "error" in answer:
        bad_error = draw(st.sampled_from(("bad_request", 11050, [11050], True)))
        choices.append(({**answer, "error": bad_error}, "an error member that is not an object"))
        body = dict(answer["error"])
        if draw(st.booleans()):
            del body["code"]
            why = "an error object without a code"
        else:
            body["code"] = draw(st.sampled_from(("11050", 1.5, None, [1])))
            why = "an error code that is not an int"
        choices.append(({**answer, "error": body}, why))
    stripped = {k: v for k, v in answer.items() if k not in ("result", "error")}
    choices.append((stripped, "none of method, result and error"))
    note = msgspec.json.decode(push.data)
    wrong_method = draw(st.sampled_from((1, ["subscription"], {"m": 1}, True)))
    choices.append(({**note, "method": wrong_method}, "a method that is not a string"))
    if note.get("method") == "subscription":
        choices.append(
            ({k: v for k, v in note.items() if k != "params"}, "a notification without params")
        )
        bad_params = draw(st.sampled_from(([note["params"]], "params", 5, None)))
        choices.append(({**note, "params": bad_params}, "params that are not an object"))
        params = {k: v for k, v in note["params"].items() if k != "channel"}
        choices.append(({**note, "params": params}, "a notification without a channel"))
        wrong_channel = draw(st.sampled_from((5, None, ["book"], {"c": 1})))
        channel_params = {**note["params"], "channel": wrong_channel}
        choices.append(({**note, "params": channel_params}, "a channel that is not a string"))
    message, reason = draw(st.sampled_from(choices))
    return msgspec.json.encode(message), reason


@st.composite
def _invalid_utf8(draw: st.DrawFn) -> tuple[bytes, str]:
    bad = draw(st.sampled_from(_INVALID_UTF8))
    where = draw(st.sampled_from(("method", "channel", "error message", "usIn", "id")))
    if where in ("method", "channel"):
        push = draw(notifications())
        message = msgspec.json.decode(push.data)
        if where == "method":
            message["method"] = _MARK
        else:
            message["params"]["channel"] = _MARK
    else:
        response = draw(responses(errors=where == "error message"))
        message = msgspec.json.decode(response.data)
        if where == "error message":
            message["error"]["message"] = _MARK
        elif where == "usIn":
            message["usIn"] = _MARK
        else:
            message["id"] = _MARK
    data = msgspec.json.encode(message).replace(_MARK.encode(), bad)
    return data, f"invalid UTF-8 ({bad!r}) in the {where}"


def invalid_server_messages(
    kinds: Iterable[str] | None = None,
) -> st.SearchStrategy[InvalidMessage]:
    """Venue messages a client must refuse with ``RemoteProtocolError`` and nothing else.

    ``kinds`` (default: all of :data:`INVALID_MESSAGE_KINDS`):

    * ``malformed_json``: a valid message cut short, with junk after it, or not JSON;
    * ``not_an_object``: JSON arrays (a batch), numbers, strings, ``null``, booleans;
    * ``wrong_type``: a typed notification whose data has a field of the wrong type;
    * ``missing_field``: a typed notification whose data lacks a required field;
    * ``invalid_utf8``: bad UTF-8 in a string the decoder must read (method, channel,
      error message, ``usIn``, id);
    * ``bad_envelope``: ids, methods, params, channels or error members of the wrong
      type, or missing (a response with neither ``result`` nor ``error``).

    A venue message may also carry fields nobody knows: those are valid and ignored
    (see :func:`with_unknown_fields`), so none are generated here.
    """
    chosen = tuple(INVALID_MESSAGE_KINDS) if kinds is None else tuple(kinds)
    for kind in chosen:
        if kind not in INVALID_MESSAGE_KINDS:
            raise ValueError(f"invalid kind {kind!r}; accepted: {', '.join(INVALID_MESSAGE_KINDS)}")
    return _invalid_server_messages(chosen)


@st.composite
def _invalid_server_messages(draw: st.DrawFn, chosen: tuple[str, ...]) -> InvalidMessage:
    kind = draw(st.sampled_from(chosen))
    if kind == "malformed_json":
        valid = draw(server_messages()).data
        how = draw(st.sampled_from(("cut", "junk", "text")))
        if how == "cut":
            size = draw(st.integers(0, len(valid) - 1))
            return InvalidMessage(kind=kind, data=valid[:size], reason=f"cut after {size} bytes")
        if how == "junk":
            junk = draw(st.sampled_from((b"}", b"]", b",", b"x", b"{", b'"', b"\x00")))
            return InvalidMessage(
                kind=kind, data=valid + junk, reason=f"{junk!r} after the message"
            )
        text = draw(
            st.sampled_from(
                (b"", b"hello", b"{'id': 1}", b'{"id":}', b"NaN", b"{,}", b'{"a" 1}', b"[1,]")
            )
        )
        return InvalidMessage(kind=kind, data=text, reason="not JSON")
    if kind == "not_an_object":
        value = draw(
            st.one_of(
                st.lists(
                    st.just({"jsonrpc": "2.0", "id": 1, "result": "ok"}), min_size=1, max_size=2
                ),
                st.integers(),
                _text(0, 10),
                st.none(),
                st.booleans(),
                _floats(),
            )
        )
        return InvalidMessage(
            kind=kind, data=msgspec.json.encode(value), reason="not a JSON object"
        )
    if kind in ("wrong_type", "missing_field"):
        data, reason = draw(_broken_data(kind == "missing_field"))
        return InvalidMessage(kind=kind, data=data, reason=reason)
    if kind == "invalid_utf8":
        data, reason = draw(_invalid_utf8())
        return InvalidMessage(kind=kind, data=data, reason=reason)
    data, reason = draw(_bad_envelope())
    return InvalidMessage(kind=kind, data=data, reason=reason)


# -- invalid client requests --------------------------------------------------------------

INVALID_REQUEST_KINDS = (
    "malformed_json",
    "not_an_object",
    "bad_id",
    "bad_jsonrpc",
    "bad_method",
    "positional_params",
    "unknown_method",
    "missing_param",
    "wrong_param_type",
    "invalid_param_value",
    "oversize",
    "invalid_utf8",
)
"""What :func:`invalid_requests` generates (see there)."""

_BAD_VALUES: dict[type[DeribitCommand], list[tuple[str, Any]]] = {
    SetHeartbeat: [("interval", 5), ("interval", 0), ("interval", -10)],
    GetLastTradesByInstrument: [("count", 0), ("count", 1001), ("sorting", "sideways")],
    GetOrderBook: [("depth", 7), ("depth", 0)],
    GetInstruments: [("kind", "perpetual"), ("currency", "btc")],
    GetOpenOrders: [("type", "everything")],
    EnableCancelOnDisconnect: [("scope", "global")],
    GetAccountSummary: [("currency", "btc"), ("subaccount_id", -1)],
}


def _invalid(
    kind: str, data: bytes, reason: str, code: int, request_id: RequestId | None
) -> InvalidRequest:
    return InvalidRequest(kind=kind, data=data, reason=reason, code=code, request_id=request_id)


def invalid_requests(kinds: Iterable[str] | None = None) -> st.SearchStrategy[InvalidRequest]:
    """Client messages a venue must answer with one error (and nothing else).

    ``kinds`` (default: all of :data:`INVALID_REQUEST_KINDS`), with tradewire's answers:

    * ``malformed_json`` (11050 ``bad_request``, data ``"invalid json"``, no id: what the
      live venue sends), ``not_an_object`` (11050, no id), ``bad_id`` (11050, no id);
    * ``bad_jsonrpc``, ``bad_method`` (missing, empty, not a string) and
      ``positional_params`` (params an array, a string, a number): 11050 with the id;
    * ``unknown_method``: -32601 ``Method not found``;
    * ``missing_param``: -32000 ``Missing params``; ``wrong_param_type`` and
      ``invalid_param_value`` (e.g. a heartbeat interval under 10): -32602;
    * ``oversize``: a frame over 32 kB: -32600, no id;
    * ``invalid_utf8``: in the method (11050, no id) or in params (-32602).
    """
    chosen = tuple(INVALID_REQUEST_KINDS) if kinds is None else tuple(kinds)
    for kind in chosen:
        if kind not in INVALID_REQUEST_KINDS:
            raise ValueError(f"invalid kind {kind!r}; accepted: {', '.join(INVALID_REQUEST_KINDS)}")
    return _invalid_requests(chosen)


@st.composite
def _invalid_requests(draw: st.DrawFn, chosen: tuple[str, ...]) -> InvalidRequest:
    kind = draw(st.sampled_from(chosen))
    sample = draw(requests())
    request_id = sample.request_id
    message: dict[str, Any] = msgspec.json.decode(sample.data)

    def encode(value: Any) -> bytes:
        return msgspec.json.encode(value)

    if kind == "malformed_json":
        how = draw(st.sampled_from(("cut", "junk", "text")))
        if how == "cut":
            size = draw(st.integers(0, len(sample.data) - 1))
            return _invalid(kind, sample.data[:size], f"cut after {size} bytes", 11050, None)
        if how == "junk":
            return _invalid(kind, sample.data + b"}", "junk after the request", 11050, None)
        return _invalid(kind, b"{'id': 1, method: 'public/test'}", "not JSON", 11050, None)
    if kind == "not_an_object":
        value = draw(
            st.one_of(st.just([message]), st.integers(), _text(0, 8), st.none(), st.booleans())
        )
        return _invalid(
            kind, encode(value), "not a JSON object (a batch array, a scalar)", 11050, None
        )
    if kind == "bad_id":
        message["id"] = draw(st.sampled_from((1.5, True, [1], {"n": 1})))
        return _invalid(kind, encode(message), "an id that is not an int or a string", 11050, None)
    if kind == "bad_jsonrpc":
        message["jsonrpc"] = draw(st.sampled_from(("1.0", "2", 2.0, None, "")))
        return _invalid(kind, encode(message), 'jsonrpc is not "2.0"', 11050, request_id)
    if kind == "bad_method":
        if draw(st.booleans()):
            del message["method"]
        else:
            message["method"] = draw(st.sampled_from(("", 5, None, ["public/test"])))
        return _invalid(
            kind, encode(message), "no method, or not a non-empty string", 11050, request_id
        )
    if kind == "positional_params":
        message["params"] = draw(st.sampled_from(([1, 2], "BTC-PERPETUAL", 5, True)))
        return _invalid(kind, encode(message), "params that are not an object", 11050, request_id)
    if kind == "unknown_method":
        message["method"] = draw(
            st.sampled_from(("public/nope", "private/get_everything", "public/Ticker", "get_time"))
        )
        return _invalid(
            kind, encode(message), "a method the venue does not have", -32601, request_id
        )
    if kind == "missing_param":
        command = draw(commands([t for t in command_types() if _required(t)]))
        message = msgspec.json.decode(encode_request(request_id, command))
        name = draw(st.sampled_from(_required(type(command))))
        del message["params"][name]
        return _invalid(
            kind, encode(message), f"the required param {name!r} left out", -32000, request_id
        )
    if kind == "wrong_param_type":
        command = draw(commands([t for t in command_types() if _typed_params(t)]))
        message = msgspec.json.decode(encode_request(request_id, command))
        name = draw(st.sampled_from(_typed_params(type(command))))
        message["params"][name] = _WRONG
        return _invalid(
            kind, encode(message), f"param {name!r} of the wrong type", -32602, request_id
        )
    if kind == "invalid_param_value":
        command_type = draw(st.sampled_from(tuple(_BAD_VALUES)))
        command = draw(commands([command_type]))
        message = msgspec.json.decode(encode_request(request_id, command))
        name, value = draw(st.sampled_from(_BAD_VALUES[command_type]))
        message["params"][name] = value
        return _invalid(
            kind, encode(message), f"param {name!r} = {value!r} is refused", -32602, request_id
        )
    if kind == "oversize":
        padding = MAX_MESSAGE_SIZE + draw(st.integers(1, 4096))
        message["params"] = {**message.get("params", {}), "x_padding": "x" * padding}
        return _invalid(kind, encode(message), "a frame over 32 kB", -32600, None)
    bad = draw(st.sampled_from(_INVALID_UTF8))
    if draw(st.booleans()):
        message["method"] = _MARK
        data = encode(message).replace(_MARK.encode(), bad)
        return _invalid(kind, data, f"invalid UTF-8 ({bad!r}) in the method", 11050, None)
    command = draw(commands([t for t in command_types() if _text_params(t)]))
    message = msgspec.json.decode(encode_request(request_id, command))
    name = draw(st.sampled_from(_text_params(type(command))))
    message["params"][name] = _MARK
    data = encode(message).replace(_MARK.encode(), bad)
    return _invalid(kind, data, f"invalid UTF-8 ({bad!r}) in param {name!r}", -32602, request_id)


def _fields_of(command_type: type[DeribitCommand]) -> tuple[msgspec.structs.FieldInfo, ...]:
    return tuple(f for f in msgspec.structs.fields(command_type) if f.name != "access_token")


def _required(command_type: type[DeribitCommand]) -> list[str]:
    if issubclass(command_type, Auth):
        return []  # grant_type picks the type; see the server's tagged decode
    return [f.name for f in _fields_of(command_type) if f.required]


def _typed_params(command_type: type[DeribitCommand]) -> list[str]:
    if issubclass(command_type, Auth):
        return []
    return [f.name for f in _fields_of(command_type) if f.required and f.type is not Any]


def _text_params(command_type: type[DeribitCommand]) -> list[str]:
    if issubclass(command_type, Auth):
        return []
    return [f.name for f in _fields_of(command_type) if f.required and f.type is str]
