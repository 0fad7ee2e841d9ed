"""The simulated market: one object a reference venue drives with ``now`` and requests.

Time: ``now`` is seconds on the caller's clock (the driving contract's ``now``).  The
``now`` given to the constructor is the market's birth, which is ``config.start_ms`` on
the epoch clock; every later ``now`` maps to ``start_ms + (now - birth) * 1000`` ms.
``now`` must never go backwards (:class:`LocalProtocolError`).

The market moves in ticks ``config.tick_interval`` apart.  :meth:`Market.advance` runs
every tick due by ``now`` (at most ``MAX_CATCHUP_TICKS``; a longer jump folds the rest
into one tick) and returns their events; :meth:`Market.next_deadline` says when the next
one is due.  Order entry does not advance the clock: call ``advance(now)`` first to
trade at current prices.  One tick, in order:

1. the index walks and perpetual premiums move; an :class:`IndexPrice` per index;
2. instruments past expiry close: their orders are cancelled (``cancel_reason``
   ``settlement``), positions are settled at the delivery price (the mark at expiry:
   the index for futures, the intrinsic value for options) with no fee;
   ``good_til_day`` orders past 08:00 UTC are cancelled the same way;
3. per active instrument in catalog order: makers requote, then maybe a taker trades;
4. the tick's trades, user trades, orders, positions, portfolios, book changes (one per
   touched instrument) and quotes; then changes held by a ``reorder`` fault;
5. a :class:`Ticker` per active instrument (``config.ticker_events``; only the ones in
   ``Market.tickers_for`` when a consumer sets it), and a :class:`Portfolio` for every
   currency in which an account holds a position.

A ticker is the costliest record of a tick (an option's greeks and implied
volatilities), and computing one changes nothing else, so a consumer that publishes
tickers of a few instruments (a venue with subscriptions) names them in
``tickers_for`` and the others are not computed; every other event is the same.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Container, Sequence
from typing import Any

from tradewire.protocol import LocalProtocolError

from ._catalog import Catalog, Contract
from ._changes import Fault
from ._config import MAX_CATCHUP_TICKS, MAX_TRADE_HISTORY, MarketConfig
from ._engine import Batch, Engine
from ._errors import MarketError
from ._history import History
from ._makers import Makers, Takers
from ._orders import LiveOrder
from ._pricing import Pricer
from ._records import (
    BookChange,
    BookSnapshot,
    Cancellation,
    Candles,
    Currency,
    Execution,
    FundingRate,
    Greeks,
    GroupedBook,
    IndexPrice,
    Instrument,
    MarketEvent,
    Order,
    Portfolio,
    Position,
    PriceLevel,
    PublicTrade,
    Quote,
    Settlement,
    Ticker,
    TickerStats,
    UserTrade,
)
from ._trading import cancel, cancel_many, edit, find_order, place, select_orders

__all__ = ["Market"]


class Market:
    """A deterministic simulated market; see the module docstring for the tick.

    ``catalog`` is what the venue lists (its instruments, currencies and index names, as
    data; the Deribit venue's comes from ``deribit_catalog(config)``).  Every price walk
    the catalog names needs a start price and a volatility in ``config`` (``ValueError``).
    """

    def __init__(
        self, config: MarketConfig | None = None, *, catalog: Catalog, now: float = 0.0
    ) -> None:
        self.config = config = config if config is not None else MarketConfig()
        for walk in catalog.walks():
            if walk not in config.start_prices or walk not in config.volatilities:
                raise ValueError(
                    f"start_prices[{walk!r}] and volatilities[{walk!r}] are needed by the catalog"
                )
        self._birth = now
        self._tick = 0
        self._last_ms = config.start_ms
        contracts = [Contract(item.instrument, item.underlying) for item in catalog.listings]
        self._contracts = contracts
        self._currencies = list(catalog.currencies)
        self._indexes = dict(catalog.indexes)
        self.pricer = Pricer(
            config, contracts, random.Random(f"{config.seed}/walk"), indexes=self._indexes
        )
        self.engine = Engine(config, contracts, self.pricer)
        self.history = History(config, self.pricer, contracts)
        self.history.seed(config, self.engine, contracts)
        self._settlements: dict[str, deque[Settlement]] = {}
        #: Instruments whose tick :class:`Ticker` events are wanted (``None``: all).
        self.tickers_for: Container[str] | None = None
        self._makers = Makers(config, random.Random(f"{config.seed}/makers"))
        self._takers = Takers(config, random.Random(f"{config.seed}/takers"))
        batch = Batch(config.start_ms)
        for c in contracts:
            self._makers.requote(self.engine, c, batch)
            self.engine.ladders[c.name].take_changes()  # the opening book is a snapshot
            self.engine.feed.start(c.name, config.start_ms)
            self.engine.quote_if_changed(c, config.start_ms)

    def __repr__(self) -> str:
        return f"Market(seed={self.config.seed}, time={self._last_ms})"

    # -- time ------------------------------------------------------------------------------

    @property
    def now_ms(self) -> int:
        """The latest time the market saw (epoch ms)."""
        return self._last_ms

    def timestamp(self, now: float) -> int:
        """``now`` (caller's seconds) as epoch milliseconds."""
        return self.config.start_ms + round((now - self._birth) * 1000)

    def _ms(self, now: float) -> int:
        if not math.isfinite(now):
            raise LocalProtocolError(f"invalid now: {now!r}")
        ms = self.timestamp(now)
        if ms < self._last_ms:
            raise LocalProtocolError(
                f"now went backwards: {now!r} is before the last time the market saw"
            )
        self._last_ms = ms
        return ms

    def next_deadline(self) -> float:
        """When the next tick is due, on the caller's clock."""
        return self._birth + (self._tick + 1) * self.config.tick_interval

    def advance(self, now: float) -> list[MarketEvent]:
        """Run every tick due by ``now``; return their events in order."""
        floor_ms = self._last_ms  # a tick is never stamped before an earlier operation
        self._ms(now)
        due = math.floor((now - self._birth) / self.config.tick_interval + 1e-9)
        events: list[MarketEvent] = []
        done = 0
        while self._tick < due:
            done += 1
            self._tick = due if done >= MAX_CATCHUP_TICKS else self._tick + 1
            at = self._birth + self._tick * self.config.tick_interval
            floor_ms = max(floor_ms, self.timestamp(at))
            events.extend(self._run_tick(floor_ms))
        return events

    def _run_tick(self, now_ms: int) -> list[MarketEvent]:
        engine, pricer = self.engine, self.pricer
        pricer.step(now_ms)
        self.history.record(now_ms)
        events: list[MarketEvent] = [self.index_price(name) for name in self._indexes]
        batch = Batch(now_ms)
        for c in self._contracts:
            if c.active and c.expiry_ms is not None and c.expiry_ms <= now_ms:
                self._expire(c, batch)
        for account in engine.accounts.values():
            for order in list(account.open_orders.values()):
                if order.expires_ms is not None and order.expires_ms <= now_ms:
                    engine.close(order, "cancelled", batch, "settlement")
        for c in self._contracts:
            if c.active:
                self._makers.requote(engine, c, batch)
                self._takers.maybe_trade(engine, c, batch)
        engine.clip_reduce_only(batch)
        events.extend(engine.finish(batch))
        events.extend(engine.feed.release())
        if self.config.ticker_events:
            wanted = self.tickers_for
            events.extend(
                self._ticker(c, now_ms)
                for c in self._contracts
                if c.active and (wanted is None or c.name in wanted)
            )
        for account in engine.accounts.values():
            held = sorted(
                {s.contract.settlement for s in account.positions.values() if s.lots != 0}
            )
            for currency in held:
                if (account.account_id, currency) not in batch.portfolios:
                    events.append(engine.portfolio(account, currency))
        return events

    def _expire(self, c: Contract, batch: Batch) -> None:
        engine = self.engine
        delivery = self.pricer.mark(c)
        ladder = engine.ladders[c.name]
        for resting in list(ladder.entries()):
            if resting.order is None:
                ladder.remove(resting)
                batch.books[c.name] = c
            else:
                engine.close(resting.order, "cancelled", batch, "settlement")
        for account in engine.accounts.values():
            state = account.positions.get(c.name)
            if state is not None and state.lots != 0:
                held = c.amount(state.lots)
                pnl = account.apply_fill(c, state.lots < 0, abs(state.lots), delivery, 0.0)
                batch.positions[(account.account_id, c.name)] = None
                batch.portfolios[(account.account_id, c.settlement)] = None
                settled = self._settlements.setdefault(
                    account.account_id, deque(maxlen=MAX_TRADE_HISTORY)
                )
                settled.append(
                    Settlement(
                        account=account.account_id,
                        type="delivery",
                        timestamp=batch.now_ms,
                        instrument_name=c.name,
                        position=held,
                        mark_price=delivery,
                        index_price=self.pricer.index_price(c.index),
                        profit_loss=round(pnl, 12) + 0.0,
                        session_profit_loss=round(pnl, 12) + 0.0,
                    )
                )
        engine.delivery[c.name] = delivery
        c.close()

    # -- facts -----------------------------------------------------------------------------

    def _contract(self, name: str) -> Contract:
        c = self.engine.contracts.get(name)
        if c is None:
            raise MarketError("invalid_or_unsupported_instrument")
        return c

    def instrument(self, name: str) -> Instrument:
        """One instrument (10020 when unknown)."""
        return self._contract(name).instrument

    def instruments(
        self, currency: str | None = None, kind: str | None = None, *, expired: bool = False
    ) -> list[Instrument]:
        """``get_instruments``: by filing ``currency`` (``None``/``any``: all) and ``kind``;
        active instruments, or only the expired ones with ``expired``."""
        return [
            c.instrument
            for c in self._contracts
            if currency in (None, "any", c.instrument.currency)
            and kind in (None, "any", c.kind)
            and c.active != expired
        ]

    def currencies(self) -> list[Currency]:
        return list(self._currencies)

    def index_names(self) -> list[str]:
        """The index names the catalog publishes, in its order."""
        return list(self._indexes)

    def index_price(self, index_name: str) -> IndexPrice:
        """One of :meth:`index_names` now (``KeyError`` for others)."""
        if index_name not in self._indexes:
            raise KeyError(index_name)
        price = self.pricer.index_price(index_name)
        return IndexPrice(
            index_name=index_name,
            price=price,
            timestamp=self.pricer.now_ms,
            estimated_delivery_price=price,
        )

    # -- market data -----------------------------------------------------------------------

    def book(self, name: str) -> BookSnapshot:
        """The whole book of ``name`` with the ``change_id`` it is at."""
        c = self._contract(name)
        ladder = self.engine.ladders[name]
        feed = self.engine.feed
        return BookSnapshot(
            instrument_name=name,
            change_id=feed.last[name],
            timestamp=feed.timestamps[name],
            bids=tuple((c.price(u), c.amount(lots)) for u, lots in ladder.levels("bid")),
            asks=tuple((c.price(u), c.amount(lots)) for u, lots in ladder.levels("ask")),
        )

    def grouped_book(self, name: str, group: float | None, depth: int) -> GroupedBook:
        """The best ``depth`` levels with prices grouped to multiples of ``group``.

        ``group`` is a price step (``None``: no grouping); bids round down and asks up,
        so a grouped level never looks better than the orders in it.
        """
        c = self._contract(name)
        if depth < 1 or (group is not None and not group > 0):
            raise LocalProtocolError("depth must be >= 1 and group > 0 (or None)")
        step = 1 if group is None else max(1, round(group / c.tick))
        ladder = self.engine.ladders[name]
        sides: list[tuple[PriceLevel, ...]] = []
        for side in ("bid", "ask"):
            merged: dict[int, int] = {}
            for units, lots in ladder.levels(side):
                key = units // step * step if side == "bid" else -(-units // step) * step
                if key not in merged and len(merged) == depth:
                    break
                merged[key] = merged.get(key, 0) + lots
            sides.append(
                tuple((round(k * c.tick, c.price_places), c.amount(v)) for k, v in merged.items())
            )
        feed = self.engine.feed
        return GroupedBook(
            instrument_name=name,
            change_id=feed.last[name],
            timestamp=feed.timestamps[name],
            bids=sides[0],
            asks=sides[1],
        )

    def quote(self, name: str) -> Quote:
        return self.engine.quote(self._contract(name), self._last_ms)

    def last_trades(self, name: str, count: int = 10) -> list[PublicTrade]:
        """Up to ``count`` most recent public trades of ``name``, oldest first."""
        trades = self.engine.trades[self._contract(name).name]
        return list(trades)[-count:] if count > 0 else []

    def change_log(self, name: str | None = None) -> list[BookChange]:
        """Published book changes, oldest first (bounded: ``MAX_CHANGE_LOG``)."""
        return [c for c in self.engine.feed.log if name in (None, c.instrument_name)]

    def ticker(self, name: str) -> Ticker:
        """The ticker of ``name`` now (spec 3.4)."""
        return self._ticker(self._contract(name), self._last_ms)

    def _ticker(self, c: Contract, now_ms: int) -> Ticker:
        name = c.name
        engine, pricer = self.engine, self.pricer
        quote = engine.quote(c, now_ms)
        stats = engine.stats[name]
        mark, index = pricer.mark(c), pricer.index_price(c.index)
        low, high = engine.band(c)
        interest = sum(
            c.amount(s.lots)
            for a in engine.accounts.values()
            if (s := a.positions.get(name)) is not None and s.lots > 0
        )
        change = (
            None
            if stats.first is None or stats.last is None
            else round((stats.last - stats.first) / stats.first * 100, 4)
        )
        extra: dict[str, Any] = {}
        if c.perpetual:
            premium = pricer.premium[name]
            extra.update(
                current_funding=premium, funding_8h=premium, interest_value=pricer.interest[name]
            )
        if c.kind == "option":
            value = pricer.option(c)
            extra.update(
                greeks=Greeks(
                    delta=round(value.delta, 5),
                    gamma=round(value.gamma, 8),
                    rho=round(value.rho, 5),
                    theta=round(value.theta, 5),
                    vega=round(value.vega, 5),
                ),
                mark_iv=round(pricer.vols[c.underlying] * 100, 2),
                bid_iv=pricer.implied(c, quote.best_bid_price) or 0.0,
                ask_iv=pricer.implied(c, quote.best_ask_price) or 0.0,
                underlying_price=index,
                underlying_index="index_price",
                interest_rate=0.0,
            )
        if not c.active:
            extra["delivery_price"] = engine.delivery.get(name)
        return Ticker(
            instrument_name=name,
            timestamp=now_ms,
            state="open" if c.active else "closed",
            best_bid_price=quote.best_bid_price,
            best_bid_amount=quote.best_bid_amount,
            best_ask_price=quote.best_ask_price,
            best_ask_amount=quote.best_ask_amount,
            last_price=stats.last,
            mark_price=mark,
            index_price=index,
            estimated_delivery_price=index,
            settlement_price=pricer.settlement.get(name),
            min_price=c.price(low),
            max_price=c.price(high),
            open_interest=interest,
            stats=TickerStats(
                high=stats.high,
                low=stats.low,
                price_change=change,
                volume=round(stats.volume, 8),
                volume_usd=round(stats.volume_usd, 2),
            ),
            **extra,
        )

    # -- history -------------------------------------------------------------------------

    def trades(self, currency: str | None = None, kind: str | None = None) -> list[PublicTrade]:
        """The public trades kept (``MAX_PUBLIC_TRADES`` per instrument) of the instruments
        filed under ``currency`` (``None``/``any``: all) and of ``kind``, oldest first."""
        found = [
            trade
            for c in self._contracts
            if currency in (None, "any", c.instrument.currency) and kind in (None, "any", c.kind)
            for trade in self.engine.trades[c.name]
        ]
        found.sort(key=lambda t: (t.timestamp, t.instrument_name, t.trade_seq))
        return found

    def _walk(self, index_name: str) -> str:
        walk = self._indexes.get(index_name)
        if walk is None:
            raise KeyError(index_name)
        return walk

    def index_history(self, index_name: str) -> list[tuple[int, float]]:
        """Hourly ``(timestamp, price)`` of a published index, oldest first (the seeded
        past, then every whole hour the market has run; ``KeyError`` for an unknown one)."""
        return self.history.index(self._walk(index_name))

    def volatility_history(self, index_name: str) -> list[tuple[int, float]]:
        """Hourly historical volatility (percent) of a published index (see ``_history``)."""
        return self.history.volatility(self._walk(index_name))

    def funding_history(self, name: str, start_ms: int, end_ms: int) -> list[FundingRate]:
        """Hourly funding of perpetual ``name`` with ``start_ms <= timestamp <= end_ms``;
        ``invalid_arguments`` for an instrument that is not a perpetual."""
        c = self._contract(name)
        if not c.perpetual:
            raise MarketError(
                "invalid_arguments", data={"reason": "not a perpetual", "param": "instrument_name"}
            )
        return [
            rate
            for rate in self.history.funding(name, c.underlying)
            if start_ms <= rate.timestamp <= end_ms
        ]

    def funding_value(self, name: str, start_ms: int, end_ms: int) -> float:
        """The funding accrued by perpetual ``name`` over ``(start_ms, end_ms]``: the sum
        of the hourly rates in it."""
        rates = self.funding_history(name, start_ms + 1, end_ms)
        return round(sum(rate.interest_1h for rate in rates), 12) + 0.0

    def candles(self, name: str, start_ms: int, end_ms: int, period_ms: int) -> Candles:
        """OHLC candles of ``name`` from the public trades kept, one per ``period_ms``
        from the period holding ``start_ms`` to the one holding ``end_ms``.

        A period without trades repeats the last close with zero volume; periods before
        the first trade kept are left out (``status`` ``"no_data"`` when nothing is left).
        At most 5000 candles, the latest.
        """
        c = self._contract(name)
        if period_ms < 1 or end_ms < start_ms:
            raise MarketError("invalid_arguments", data={"param": "resolution"})
        first = start_ms // period_ms
        last = end_ms // period_ms
        first = max(first, last - 4999)
        buckets: dict[int, list[PublicTrade]] = {}
        previous: PublicTrade | None = None
        for trade in self.engine.trades[c.name]:
            slot = trade.timestamp // period_ms
            if slot < first:
                previous = trade
            elif slot <= last:
                buckets.setdefault(slot, []).append(trade)
        rows: list[tuple[int, float, float, float, float, float, float]] = []
        close = None if previous is None else previous.price
        for slot in range(first, last + 1):
            trades = buckets.get(slot)
            if not trades:
                if close is not None:
                    rows.append((slot * period_ms, close, close, close, close, 0.0, 0.0))
                continue
            prices = [t.price for t in trades]
            close = prices[-1]
            if c.kind == "future" and c.inverse:  # amounts in USD
                volume = sum(t.amount / t.price for t in trades)
                cost = sum(t.amount for t in trades)
            else:
                volume = sum(t.amount for t in trades)
                cost = sum(t.amount * t.price for t in trades)
            rows.append(
                (
                    slot * period_ms, prices[0], max(prices), min(prices), close,
                    round(volume, 8), round(cost, 8),
                )
            )  # fmt: skip
        return Candles(
            status="ok" if rows else "no_data",
            ticks=tuple(r[0] for r in rows),
            open=tuple(r[1] for r in rows),
            high=tuple(r[2] for r in rows),
            low=tuple(r[3] for r in rows),
            close=tuple(r[4] for r in rows),
            volume=tuple(r[5] for r in rows),
            cost=tuple(r[6] for r in rows),
        )

    def settlements(self, account: str, currency: str | None = None) -> list[Settlement]:
        """The account's settled positions, oldest first (bounded: ``MAX_TRADE_HISTORY``),
        of instruments filed under ``currency`` (``None``: all)."""
        return [
            s
            for s in self._settlements.get(account, ())
            if currency is None or self._contract(s.instrument_name).instrument.currency == currency
        ]

    # -- trading ---------------------------------------------------------------------------

    def buy(self, account: str, instrument_name: str, now: float, **params: Any) -> Execution:
        """``private/buy``: see :meth:`place` for ``params``."""
        return self.place(account, instrument_name, "buy", now, **params)

    def sell(self, account: str, instrument_name: str, now: float, **params: Any) -> Execution:
        """``private/sell``: see :meth:`place` for ``params``."""
        return self.place(account, instrument_name, "sell", now, **params)

    def place(
        self,
        account: str,
        instrument_name: str,
        direction: str,
        now: float,
        *,
        amount: float | None = None,
        contracts: float | None = None,
        type: str = "limit",
        price: float | None = None,
        time_in_force: str = "good_til_cancelled",
        label: str = "",
        post_only: bool = False,
        reject_post_only: bool = False,
        reduce_only: bool = False,
    ) -> Execution:
        """Place an order; raises :class:`MarketError` (nothing changed) when refused."""
        return place(
            self.engine, account, instrument_name, direction, self._ms(now),
            amount=amount, contracts=contracts, order_type=type, price=price,
            time_in_force=time_in_force, label=label, post_only=post_only,
            reject_post_only=reject_post_only, reduce_only=reduce_only,
        )  # fmt: skip

    def edit(
        self,
        account: str,
        order_id: str,
        now: float,
        *,
        amount: float | None = None,
        contracts: float | None = None,
        price: float | None = None,
        post_only: bool | None = None,
        reject_post_only: bool | None = None,
        reduce_only: bool | None = None,
    ) -> Execution:
        """``private/edit``: change what is given (``None``: keep); 10004 unknown order,
        11044 no longer open, the placement checks for the rest."""
        return edit(
            self.engine, account, order_id, self._ms(now), amount=amount, contracts=contracts,
            price=price, post_only=post_only, reject_post_only=reject_post_only,
            reduce_only=reduce_only,
        )  # fmt: skip

    def edit_by_label(
        self, account: str, label: str, instrument_name: str, now: float, **params: Any
    ) -> Execution:
        """``private/edit_by_label``: the account's one open order with ``label``."""
        found = self._open(account, instrument_name=instrument_name, label=label)
        if len(found) != 1:
            raise MarketError("order_not_found")
        return self.edit(account, found[0].order_id, now, **params)

    def cancel(self, account: str, order_id: str, now: float) -> Cancellation:
        """``private/cancel``: 10004 unknown, 11044 no longer open."""
        return cancel(self.engine, account, order_id, self._ms(now))

    def cancel_all(
        self,
        account: str,
        now: float,
        *,
        currency: str | Sequence[str] | None = None,
        kind: str | None = None,
        instrument_name: str | None = None,
        label: str | None = None,
        type: str = "all",
    ) -> Cancellation:
        """The ``cancel_all*`` / ``cancel_by_label`` family: every matching open order."""
        return cancel_many(
            self.engine, account, self._ms(now), currency=currency, kind=kind,
            instrument_name=instrument_name, label=label, order_type=type,
        )  # fmt: skip

    # -- account queries -------------------------------------------------------------------

    def _open(self, account: str, **filters: Any) -> list[LiveOrder]:
        holder = self.engine.accounts.get(account)
        orders = [] if holder is None else list(holder.open_orders.values())
        return sorted(select_orders(orders, **filters), key=lambda o: o.created_ms)

    def open_orders(
        self,
        account: str,
        *,
        currency: str | Sequence[str] | None = None,
        kind: str | None = None,
        instrument_name: str | None = None,
        label: str | None = None,
        type: str = "all",
    ) -> list[Order]:
        """Open orders, oldest first (``get_open_orders*``)."""
        found = self._open(
            account, currency=currency, kind=kind, instrument_name=instrument_name,
            label=label, order_type=type,
        )  # fmt: skip
        return [o.record() for o in found]

    def order(self, account: str, order_id: str) -> Order:
        """``get_order_state``: open or remembered (10004 when unknown or forgotten)."""
        found = find_order(self.engine, account, order_id)
        return found.record() if isinstance(found, LiveOrder) else found

    def order_history(self, account: str, instrument_name: str | None = None) -> list[Order]:
        """Closed orders, oldest first (bounded: ``MAX_ORDER_HISTORY``)."""
        holder = self.engine.accounts.get(account)
        closed = [] if holder is None else list(holder.closed.values())
        return [o for o in closed if instrument_name in (None, o.instrument_name)]

    def user_trades(self, account: str, instrument_name: str | None = None) -> list[UserTrade]:
        """The account's trades, oldest first (bounded: ``MAX_TRADE_HISTORY``)."""
        holder = self.engine.accounts.get(account)
        trades = [] if holder is None else list(holder.trades)
        return [t for t in trades if instrument_name in (None, t.instrument_name)]

    def position(self, account: str, instrument_name: str) -> Position:
        """``get_position``: a zero position when the account never traded it."""
        c = self._contract(instrument_name)
        return self.engine.position(self.engine.account(account, self._last_ms), c)

    def positions(
        self, account: str, currency: str | None = None, kind: str | None = None
    ) -> list[Position]:
        """``get_positions``: every instrument the account has traded (zero sizes too)."""
        holder = self.engine.account(account, self._last_ms)
        return [
            self.engine.position(holder, s.contract)
            for s in holder.positions.values()
            if currency in (None, "any", s.contract.instrument.currency)
            and kind in (None, "any", s.contract.kind)
        ]

    def portfolio(self, account: str, currency: str) -> Portfolio:
        """``get_account_summary`` of ``currency`` (the account opens on first use)."""
        holder = self.engine.account(account, self._last_ms)
        return self.engine.portfolio(holder, currency)

    def accounts(self) -> list[str]:
        return list(self.engine.accounts)

    # -- fault hooks -----------------------------------------------------------------------

    def inject_fault(self, instrument_name: str, fault: Fault) -> None:
        """Break the next book change of ``instrument_name``: ``gap``, ``duplicate`` or
        ``reorder`` (see ``_changes``); the market's own book stays right."""
        self._contract(instrument_name)
        self.engine.feed.arm(instrument_name, fault)
