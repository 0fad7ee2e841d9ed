"""Subscriptions and fan-out: which market events feed which channels, and when.

:class:`Feeds` keeps every connection's active channels, decides which channel names the
venue serves (the rest are dropped silently, spec 3.1), sends the first notification of a
new subscription, and turns the market's events into notifications.

When a channel's notifications go out:

* ``raw`` and channels without an interval (``quote``, ``deribit_price_index``,
  ``user.portfolio``): as the market reports the events, one notification per operation
  or market tick (a ``raw`` trades array holds the trades of one operation);
* ``100ms``: collected and sent at every 0.1 s boundary of the venue's clock (the market
  ticks on the same boundaries by default); a book window is folded with
  :func:`merge_changes`, so its chain stays exact;
* ``agg2``: the same every ``agg2_interval`` seconds;
* ``incremental_ticker`` (changed fields only) and ``chart.trades``: every second.

First notifications of a new subscription (none on a duplicate, spec 3.1): a snapshot for
``book.*`` (its ``change_id`` is where the subscriber's chain starts: changes up to it are
not sent to it), the window for grouped books, the current ``quote``, the
``incremental_ticker`` snapshot, the open candle of ``chart.trades``, the account's
portfolio for ``user.portfolio``, and the state of each index for ``platform_state``.
``ticker``, ``perpetual`` and ``deribit_price_index`` follow within one market tick.

Choices where the spec is open:

* grouped books accept ``none`` everywhere, groups ``1, 2, 5, 10`` (price steps in USD) for
  BTC futures and ``BTC_USDC`` instruments, and ``5, 10, 25, 100, 250`` (hundredths of a
  USD) for ETH futures (spec 3.3); options take ``none`` only; a window is sent when the
  book changed;
* a windowed ``user.orders`` channel sends the last state of each order in the window;
* ``perpetual.*`` data is ``{index_price, interest, timestamp}`` with ``interest`` the
  perpetual's current funding rate;
* quiet families are accepted and never pushed: ``announcements``,
  ``instrument.state.*``, ``user.access_log``, ``user.lock``, ``user.mmp_trigger.*``;
  ``platform_state.public_methods_state`` sends its state once;
* channels on instruments, currencies or indexes the market does not list are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from tradewire.protocol.deribit import (
    KINDS,
    USER_KINDS,
    Candle,
    Channel,
    ChannelFamily,
    Order,
    PerpetualInterest,
    PlatformState,
    Position,
    PublicTrade,
    Quote,
    Ticker,
    UserChanges,
    UserTrade,
)
from tradewire.protocol.deribit.server import Broadcast

from .. import market as mk
from ._wire import (
    book_change,
    book_snapshot,
    convert,
    grouped_book,
    index_price,
    shared,
    summary,
)

__all__ = ["Feeds", "Notify", "Subscriber"]

Notify = Callable[[int, str, Any, float], None]
"""``notify(connection_id, channel, data, now)``: send one notification."""

WINDOW_100MS = 0.1
SLOW_WINDOW = 1.0  # incremental_ticker and chart.trades
_EPSILON = 1e-9

_USD_GROUPS = {"1": 1.0, "2": 2.0, "5": 5.0, "10": 10.0}
_ETH_GROUPS = {"5": 0.05, "10": 0.1, "25": 0.25, "100": 1.0, "250": 2.5}
_TICKERED = frozenset(  # fed by the market's tick tickers
    {ChannelFamily.TICKER, ChannelFamily.PERPETUAL, ChannelFamily.INCREMENTAL_TICKER}
)
_ALWAYS = frozenset(  # families without parameters: always served
    {
        ChannelFamily.ANNOUNCEMENTS,
        ChannelFamily.USER_ACCESS_LOG,
        ChannelFamily.USER_LOCK,
        ChannelFamily.PLATFORM_STATE,
        ChannelFamily.PUBLIC_METHODS_STATE,
    }
)


class Subscriber:
    """One active channel on one connection."""

    __slots__ = ("account", "channel", "connection_id", "last", "since")

    def __init__(self, connection_id: int, channel: Channel, account: str | None) -> None:
        self.connection_id = connection_id
        self.channel = channel
        self.account = account  # the market account of user.* channels
        self.since: int | None = None  # book channels: the snapshot's change_id
        self.last: dict[str, Any] = {}  # incremental_ticker: the fields last sent


class _Window:
    """What an aggregation period collects until its boundary."""

    __slots__ = (
        "books", "changes", "due", "interval", "last", "latest", "lists", "name", "touched",
    )  # fmt: skip

    def __init__(self, name: str, interval: float) -> None:
        self.name = name
        self.interval = interval
        self.due: float | None = None  # the boundary that sends what is collected
        self.last = -math.inf  # the last boundary sent
        self.books: dict[str, list[mk.BookChange]] = {}
        self.touched: set[str] = set()  # instruments: grouped books, or (1 s) charts
        self.lists: dict[tuple[str, str | None], list[Any]] = {}
        self.changes: dict[tuple[str, str, str], list[list[Any]]] = {}
        self.latest: dict[str, mk.Ticker] = {}

    def clear(self) -> None:
        self.due = None
        self.books.clear()
        self.touched.clear()
        self.lists.clear()
        self.changes.clear()
        self.latest.clear()


def _group_step(instrument: mk.Instrument, group: str) -> float | bool | None:
    """The price step of ``group`` on ``instrument``; ``None``: no grouping; ``False``: the
    group is not offered there."""
    if group == "none":
        return None
    if instrument.kind == "option":
        return False
    if instrument.base_currency == "ETH":
        return _ETH_GROUPS.get(group, False)
    return _USD_GROUPS.get(group, False)


def _candle_ms(resolution: str) -> int:
    return 86_400_000 if resolution == "1D" else int(resolution) * 60_000


class Feeds:
    """The venue's subscriptions and their fan-out (see the module docstring)."""

    def __init__(self, market: mk.Market, *, birth: float, agg2: float, notify: Notify) -> None:
        self.market = market
        self.birth = birth
        self.notify = notify
        self.subs: dict[str, dict[int, Subscriber]] = {}
        self.by_instrument: dict[str, set[str]] = {}  # grouped, chart, incremental names
        self.of_connection: dict[int, set[str]] = {}
        #: Instruments with a ticker, perpetual or incremental_ticker subscription: the
        #: market computes the tick tickers of these only (subscribers per instrument).
        self.tickered: dict[str, int] = {}
        market.tickers_for = self.tickered
        self._currencies = frozenset(c.currency for c in market.currencies())
        self._facts: dict[str, tuple[str, str]] = {}
        self.windows = {
            "100ms": _Window("100ms", WINDOW_100MS),
            "agg2": _Window("agg2", agg2),
            "1s": _Window("1s", SLOW_WINDOW),
        }

    # -- which channels ----------------------------------------------------------------------

    def _instrument(self, name: str | None) -> mk.Instrument | None:
        if name is None:
            return None
        try:
            instrument = self.market.instrument(name)
        except mk.MarketError:
            return None
        return instrument if instrument.is_active else None

    def _currency(self, currency: str | None, *, allow_any: bool = True) -> bool:
        return currency in self._currencies or (allow_any and currency == "any")

    def accepts(self, channel: Channel) -> bool:
        """Whether the venue serves ``channel`` (a name that passed ``parse_channel``)."""
        family = channel.family
        F = ChannelFamily
        if family in _ALWAYS:
            return True
        if family is F.PRICE_INDEX or family is F.USER_MMP_TRIGGER:
            return channel.index_name in self.market.index_names()
        if family is F.USER_PORTFOLIO:
            return (channel.currency or "").upper() in self._currencies
        if family is F.INSTRUMENT_STATE:
            return self._currency(channel.currency)
        if channel.instrument is None:  # trades / user.* by kind and currency
            kinds = USER_KINDS if family.value.startswith("user.") else KINDS
            return channel.kind in kinds and self._currency(channel.currency)
        instrument = self._instrument(channel.instrument)
        if instrument is None:
            return False
        if family is F.PERPETUAL:
            return instrument.settlement_period == "perpetual"
        if family is F.GROUPED_BOOK:
            return _group_step(instrument, channel.group or "") is not False
        return True

    def _kind_currency(self, name: str) -> tuple[str, str]:
        facts = self._facts.get(name)
        if facts is None:
            instrument = self.market.instrument(name)
            facts = self._facts[name] = (instrument.kind, instrument.currency)
        return facts

    # -- subscriptions -----------------------------------------------------------------------

    def add(self, connection_id: int, channel: Channel, account: str | None, now: float) -> None:
        """``channel`` became active on the connection: register it, send its first data."""
        sub = Subscriber(connection_id, channel, account)
        name = channel.name
        subs = self.subs.setdefault(name, {})
        again = connection_id in subs
        subs[connection_id] = sub
        self.of_connection.setdefault(connection_id, set()).add(name)
        family = channel.family
        F = ChannelFamily
        if family in (F.GROUPED_BOOK, F.CHART, F.INCREMENTAL_TICKER):
            assert channel.instrument is not None
            self.by_instrument.setdefault(channel.instrument, set()).add(name)
        if family in _TICKERED and channel.instrument is not None and not again:
            self.tickered[channel.instrument] = self.tickered.get(channel.instrument, 0) + 1
        market = self.market
        data: Any = None
        if family is F.BOOK:
            assert channel.instrument is not None
            book = market.book(channel.instrument)
            sub.since = book.change_id
            data = book_snapshot(book)
        elif family is F.GROUPED_BOOK:
            data = self._grouped(channel)
        elif family is F.QUOTE:
            assert channel.instrument is not None
            data = convert(market.quote(channel.instrument), Quote)
        elif family is F.INCREMENTAL_TICKER:
            assert channel.instrument is not None
            sub.last = msgspec.to_builtins(convert(market.ticker(channel.instrument), Ticker))
            data = {"type": "snapshot", **sub.last}
        elif family is F.CHART:
            data = self._candle(channel, now)
        elif family is F.USER_PORTFOLIO:
            assert account is not None
            currency = (channel.currency or "").upper()
            data = summary(market.portfolio(account, currency))
        elif family is F.PUBLIC_METHODS_STATE:
            data = PlatformState(allow_unauthenticated_public_requests=True)
        elif family is F.PLATFORM_STATE:
            for index in self.market.index_names():
                self.notify(
                    connection_id, name, PlatformState(price_index=index, locked=False), now
                )
        if data is not None:
            self.notify(connection_id, name, data, now)

    def remove(self, connection_id: int, names: Iterable[str]) -> None:
        """``names`` stopped being active on the connection."""
        mine = self.of_connection.get(connection_id)
        for name in list(names):
            if mine is not None:
                mine.discard(name)
            subs = self.subs.get(name)
            sub = subs.pop(connection_id, None) if subs is not None else None
            if sub is not None and sub.channel.family in _TICKERED:
                self._untick(sub.channel.instrument)
            if subs is None or sub is None or subs:
                continue
            del self.subs[name]
            instrument = sub.channel.instrument
            names_of = self.by_instrument.get(instrument or "")
            if names_of is not None:
                names_of.discard(name)
                if not names_of:
                    del self.by_instrument[instrument or ""]

    def _untick(self, instrument: str | None) -> None:
        left = self.tickered.get(instrument or "", 0) - 1
        if left > 0:
            self.tickered[instrument or ""] = left
        else:
            self.tickered.pop(instrument or "", None)

    def drop(self, connection_id: int) -> None:
        """The connection is gone: forget its channels."""
        self.remove(connection_id, self.of_connection.pop(connection_id, ()))

    # -- sending ------------------------------------------------------------------------------

    def _send(self, name: str, data: Any, now: float, account: str | None = None) -> None:
        subs = self.subs.get(name)
        if not subs:
            return
        payload: Broadcast | None = None
        for sub in list(subs.values()):
            if account is not None and sub.account != account:
                continue
            if payload is None:
                payload = shared(data)
            self.notify(sub.connection_id, name, payload, now)

    def _subscribed(self, name: str) -> bool:
        return name in self.subs

    # -- market events ------------------------------------------------------------------------

    def publish(self, events: Iterable[mk.MarketEvent], now: float) -> None:
        """Fan out the events of one operation or tick (see the module docstring)."""
        arrays: dict[tuple[str, str | None], list[Any]] = {}
        changes: dict[tuple[str, str, str], list[list[Any]]] = {}
        for event in events:
            if isinstance(event, mk.BookChange):
                self._on_book(event, now)
            elif isinstance(event, mk.Ticker):
                self._on_ticker(event, now)
            elif isinstance(event, mk.Quote):
                self._send(f"quote.{event.instrument_name}", convert(event, Quote), now)
            elif isinstance(event, mk.IndexPrice):
                self._send(f"deribit_price_index.{event.index_name}", index_price(event), now)
            elif isinstance(event, mk.PublicTrade):
                self._on_trade(event, arrays, now)
            elif isinstance(event, mk.Order | mk.UserTrade | mk.Position):
                self._on_user(event, arrays, changes, now)
            elif isinstance(event, mk.Portfolio):
                data = summary(event)
                for case in {event.currency, event.currency.lower()}:
                    self._send(f"user.portfolio.{case}", data, now, account=event.account)
        for (name, account), records in arrays.items():
            self._send(name, records, now, account=account)
        for (name, account, instrument), parts in changes.items():
            self._send(name, _user_changes(instrument, parts), now, account=account)

    def _buffer(self, window: _Window, now: float) -> _Window:
        """``window``, due at the first boundary at or after ``now`` that was not sent yet
        (a market tick's events go out at the boundary of the tick; a request's made at a
        boundary already sent, at the next one)."""
        if window.due is None:
            interval = window.interval
            steps = max(math.ceil((now - self.birth) / interval - _EPSILON), 0)
            due = self.birth + steps * interval
            if due <= window.last + _EPSILON:
                due = self.birth + (steps + 1) * interval
            window.due = due
        return window

    def _on_book(self, change: mk.BookChange, now: float) -> None:
        instrument = change.instrument_name
        raw = self.subs.get(f"book.{instrument}.raw")
        if raw:
            payload: Broadcast | None = None
            for sub in list(raw.values()):
                if sub.since is not None and change.change_id <= sub.since:
                    continue
                if payload is None:
                    payload = shared(book_change(change))
                self.notify(sub.connection_id, f"book.{instrument}.raw", payload, now)
        for key in ("100ms", "agg2"):
            if self._subscribed(f"book.{instrument}.{key}"):
                window = self._buffer(self.windows[key], now)
                window.books.setdefault(instrument, []).append(change)
        grouped = self.by_instrument.get(instrument)
        if grouped:
            for key in ("100ms", "agg2"):
                if any(n.endswith(f".{key}") and n.count(".") == 4 for n in grouped):
                    self._buffer(self.windows[key], now).touched.add(instrument)

    def _on_ticker(self, ticker: mk.Ticker, now: float) -> None:
        instrument = ticker.instrument_name
        for family in ("ticker", "perpetual"):
            name = f"{family}.{instrument}.raw"
            if self._subscribed(name):
                self._send(name, self._ticker_data(family, ticker), now)
            for key in ("100ms", "agg2"):
                name = f"{family}.{instrument}.{key}"
                if self._subscribed(name):
                    self._buffer(self.windows[key], now).latest[name] = ticker
        if f"incremental_ticker.{instrument}" in self.by_instrument.get(instrument, ()):
            self._buffer(self.windows["1s"], now).latest[instrument] = ticker

    @staticmethod
    def _ticker_data(family: str, ticker: mk.Ticker) -> Any:
        if family == "perpetual":
            return PerpetualInterest(
                index_price=ticker.index_price,
                interest=ticker.current_funding or 0.0,
                timestamp=ticker.timestamp,
            )
        return convert(ticker, Ticker)

    def _on_trade(
        self,
        trade: mk.PublicTrade,
        arrays: dict[tuple[str, str | None], list[Any]],
        now: float,
    ) -> None:
        instrument = trade.instrument_name
        kind, currency = self._kind_currency(instrument)
        wire = convert(trade, PublicTrade)
        targets = (instrument, f"{kind}.{currency}", f"{kind}.any")
        for target in targets:
            name = f"trades.{target}.raw"
            if self._subscribed(name):
                arrays.setdefault((name, None), []).append(wire)
            for key in ("100ms", "agg2"):
                name = f"trades.{target}.{key}"
                if self._subscribed(name):
                    window = self._buffer(self.windows[key], now)
                    window.lists.setdefault((name, None), []).append(wire)
        if any(n.startswith("chart.") for n in self.by_instrument.get(instrument, ())):
            self._buffer(self.windows["1s"], now).touched.add(instrument)

    def _on_user(
        self,
        record: mk.Order | mk.UserTrade | mk.Position,
        arrays: dict[tuple[str, str | None], list[Any]],
        changes: dict[tuple[str, str, str], list[list[Any]]],
        now: float,
    ) -> None:
        instrument = record.instrument_name
        kind, currency = self._kind_currency(instrument)
        account = record.account
        targets = [instrument] + [f"{k}.{c}" for k in (kind, "any") for c in (currency, "any")]
        wire: Any
        if isinstance(record, mk.Order):
            family, wire, slot = "orders", convert(record, Order), 0
        elif isinstance(record, mk.UserTrade):
            family, wire, slot = "trades", convert(record, UserTrade), 2
        else:
            family, wire, slot = "", convert(record, Position), 1
        for target in targets:
            for key in ("raw", "100ms", "agg2"):
                if family:
                    name = f"user.{family}.{target}.{key}"
                    if self._subscribed(name):
                        if key == "raw" and family == "orders":
                            self._send(name, wire, now, account=account)
                        elif key == "raw":
                            arrays.setdefault((name, account), []).append(wire)
                        else:
                            window = self._buffer(self.windows[key], now)
                            window.lists.setdefault((name, account), []).append(wire)
                name = f"user.changes.{target}.{key}"
                if self._subscribed(name):
                    if key == "raw":
                        parts = changes.setdefault((name, account, instrument), [[], [], []])
                    else:
                        window = self._buffer(self.windows[key], now)
                        parts = window.changes.setdefault((name, account, instrument), [[], [], []])
                    parts[slot].append(wire)

    # -- windows ------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        dues = [w.due for w in self.windows.values() if w.due is not None]
        return min(dues) if dues else None

    def flush(self, now: float) -> None:
        """Send every window whose boundary has come."""
        for window in self.windows.values():
            if window.due is not None and window.due <= now + _EPSILON:
                self._flush(window, now)
                window.last = window.due
                window.clear()

    def _flush(self, window: _Window, now: float) -> None:
        key = window.name
        if key == "1s":
            self._flush_slow(window, now)
            return
        for instrument, pending in window.books.items():
            name = f"book.{instrument}.{key}"
            cache: dict[int | None, list[Broadcast]] = {}
            for sub in list(self.subs.get(name, {}).values()):
                since = sub.since
                payloads = cache.get(since)
                if payloads is None:
                    kept = [c for c in pending if since is None or c.change_id > since]
                    merged = mk.merge_changes(kept)
                    payloads = cache[since] = [shared(book_change(c)) for c in merged]
                for payload in payloads:
                    self.notify(sub.connection_id, name, payload, now)
        for instrument in window.touched:
            for name in sorted(self.by_instrument.get(instrument, ())):
                if name.count(".") == 4 and name.endswith(f".{key}") and name in self.subs:
                    subs = self.subs[name]
                    channel = next(iter(subs.values())).channel
                    self._send(name, self._grouped(channel), now)
        for name, ticker in window.latest.items():
            self._send(name, self._ticker_data(name.split(".", 1)[0], ticker), now)
        for (name, account), records in window.lists.items():
            if name.startswith("user.orders."):  # the last state of each order
                self._send(name, list({r.order_id: r for r in records}.values()), now, account)
            else:
                self._send(name, records, now, account=account)
        for (name, account, instrument), parts in window.changes.items():
            self._send(name, _user_changes(instrument, parts), now, account=account)

    def _flush_slow(self, window: _Window, now: float) -> None:
        for instrument, ticker in window.latest.items():
            name = f"incremental_ticker.{instrument}"
            fields = msgspec.to_builtins(convert(ticker, Ticker))
            for sub in list(self.subs.get(name, {}).values()):
                changed = {k: v for k, v in fields.items() if sub.last.get(k) != v}
                changed.pop("timestamp", None)
                changed.pop("instrument_name", None)
                sub.last = fields
                if changed:
                    data = {
                        "type": "change",
                        "instrument_name": instrument,
                        "timestamp": ticker.timestamp,
                        **changed,
                    }
                    self.notify(sub.connection_id, name, data, now)
        for instrument in window.touched:
            for name in sorted(self.by_instrument.get(instrument, ())):
                if name.startswith("chart.") and name in self.subs:
                    channel = next(iter(self.subs[name].values())).channel
                    self._send(name, self._candle(channel, now), now)

    # -- derived data -------------------------------------------------------------------------

    def _grouped(self, channel: Channel) -> Any:
        assert channel.instrument is not None
        instrument = self.market.instrument(channel.instrument)
        step = _group_step(instrument, channel.group or "none")
        assert step is not False
        depth = channel.depth or 1
        return grouped_book(self.market.grouped_book(channel.instrument, step or None, depth))

    def _candle(self, channel: Channel, now: float) -> Candle:
        """The open candle of ``chart.trades.{instrument}.{resolution}`` from recent trades."""
        assert channel.instrument is not None
        assert channel.resolution is not None
        market = self.market
        span = _candle_ms(channel.resolution)
        now_ms = market.timestamp(now)
        start = now_ms - now_ms % span
        trades = [t for t in market.last_trades(channel.instrument, 1000) if t.timestamp >= start]
        inverse = market.instrument(channel.instrument).instrument_type == "reversed"
        if not trades:
            recent = market.last_trades(channel.instrument, 1)
            price = recent[-1].price if recent else market.ticker(channel.instrument).mark_price
            return Candle(
                tick=start, open=price, high=price, low=price, close=price, volume=0.0, cost=0.0
            )
        prices = [t.price for t in trades]
        volume = sum(t.amount / t.price if inverse else t.amount for t in trades)
        cost = sum(t.amount if inverse else t.amount * t.price for t in trades)
        return Candle(
            tick=start,
            open=prices[0],
            high=max(prices),
            low=min(prices),
            close=prices[-1],
            volume=round(volume, 8),
            cost=round(cost, 8),
        )


def _user_changes(instrument: str, parts: list[list[Any]]) -> UserChanges:
    orders, positions, trades = parts
    latest = list({o.order_id: o for o in orders}.values())
    return UserChanges(
        instrument_name=instrument, orders=latest, positions=positions, trades=trades
    )
