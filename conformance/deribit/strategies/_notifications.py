"""Venue pushes: subscription notifications per channel family, heartbeats.

The data fits the channel (its instrument, its shape), so a client's routing is
exercised as well as its decoding.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import msgspec
from hypothesis import strategies as st

from tradewire.protocol.deribit import ANNOUNCEMENTS as _ANNOUNCEMENTS
from tradewire.protocol.deribit import (
    EVENT_TYPES,
    MAX_SUBSCRIBE_LABEL_LENGTH,
    USER_KINDS,
    BookData,
    Candle,
    ChannelEvent,
    ChannelFamily,
    GroupedBookData,
    Heartbeat,
    IncrementalTicker,
    Notification,
    PerpetualInterest,
    PlatformState,
    PriceIndex,
    Quote,
    TestRequest,
    UserChanges,
    channel_family,
)
from tradewire.protocol.deribit import PUBLIC_METHODS_STATE as _PUBLIC_METHODS_STATE
from tradewire.protocol.deribit import USER_ACCESS_LOG as _USER_ACCESS_LOG
from tradewire.protocol.deribit import USER_LOCK as _USER_LOCK
from tradewire.protocol.deribit.server import (
    encode_heartbeat,
    encode_notification,
)

from ._channels import channel_names
from ._models import account_summaries, orders, positions, public_trades, tickers, user_trades
from ._names import currencies, index_names, instrument_names
from ._responses import responses
from ._samples import PushSample, ResponseSample
from ._values import _amounts, _floats, _labels, _maybe, _prices, _text, _timestamps

__all__ = ["heartbeats", "notifications", "server_messages", "_TYPED_FAMILIES"]

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
