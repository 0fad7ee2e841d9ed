"""The matching engine's state and primitives: match, rest, close, clip, publish.

Venue-neutral: no JSON-RPC, no wire structs, only the market's records.  Order entry
(validation, ``place`` / ``edit`` / ``cancel``) is in ``_trading``, the simulated
participants in ``_makers``, the clock and tickers in ``_market``.  Everything one
operation does is collected in a :class:`Batch` and published by :meth:`Engine.finish`
in a fixed order: public trades, user trades, orders, positions, portfolios, book
changes, quotes.

Matching rules:

* price-time priority: best price first, then the order that has rested longest;
  trades happen at the resting order's price;
* self-trades are allowed (an account's order may fill against its own resting order:
  both sides are booked, the position nets out, both fees are charged), which keeps the
  engine simple and lets one client trade against itself in tests;
* a resting reduce-only order never fills past the owner's position: within one sweep
  the engine tracks how much each owner can still reduce and skips what is left; after
  every operation, reduce-only orders are clipped so that, in priority order, their
  total never exceeds the position, and cancelled (``cancel_reason`` ``reduce_only``,
  our choice) when nothing is left to reduce, as Deribit describes for its reduce-only
  orders.
"""

from __future__ import annotations

from collections import deque

from ._accounts import (
    Account,
    PositionState,
    fee_for,
    order_margin,
    portfolio,
    position_record,
)
from ._catalog import Contract
from ._changes import ChangeFeed
from ._config import MAX_PUBLIC_TRADES, MarketConfig
from ._ladder import BookSide, Ladder, LevelTriple, Resting
from ._orders import IdCounters, LiveOrder
from ._pricing import Pricer
from ._records import (
    LevelAction,
    MarketEvent,
    Portfolio,
    Position,
    PublicTrade,
    Quote,
    UserTrade,
)

__all__ = ["FIRST_CHANGE_ID", "Batch", "Engine", "Stats"]

FIRST_CHANGE_ID = 297_217
OPTION_BAND_FLOOR = 0.05


class Stats:
    """Per instrument: last trade, tick direction and statistics since the start."""

    __slots__ = ("first", "high", "last", "low", "tick_direction", "volume", "volume_usd")

    def __init__(self) -> None:
        self.first: float | None = None
        self.last: float | None = None
        self.high: float | None = None
        self.low: float | None = None
        self.tick_direction = 0
        self.volume = 0.0
        self.volume_usd = 0.0

    def trade(self, price: float) -> int:
        """Record a trade price; return its tick direction (0 +, 1 0+, 2 -, 3 0-)."""
        if self.last is None or price > self.last:
            direction = 0
        elif price < self.last:
            direction = 2
        else:
            direction = 1 if self.tick_direction in (0, 1) else 3
        self.first = price if self.first is None else self.first
        self.high = price if self.high is None else max(self.high, price)
        self.low = price if self.low is None else min(self.low, price)
        self.last, self.tick_direction = price, direction
        return direction


class Batch:
    """What one operation touched, published together by :meth:`Engine.finish`."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.public: list[PublicTrade] = []
        self.user_trades: list[UserTrade] = []
        self.orders: dict[str, LiveOrder] = {}
        self.positions: dict[tuple[str, str], None] = {}
        self.portfolios: dict[tuple[str, str], None] = {}
        self.books: dict[str, Contract] = {}

    def touch_order(self, order: LiveOrder) -> None:
        if order.account is not None:
            self.orders[order.order_id] = order
            self.portfolios[(order.account, _margin_currency(order))] = None


def _margin_currency(order: LiveOrder) -> str:
    c = order.contract
    if c.kind == "spot" and not order.is_buy:
        return c.instrument.base_currency
    return c.settlement


class Engine:
    """Books, accounts, ids and statistics of every instrument."""

    def __init__(self, config: MarketConfig, contracts: list[Contract], pricer: Pricer):
        self.config = config
        self.pricer = pricer
        self.contracts = {c.name: c for c in contracts}
        self.ladders = {c.name: Ladder() for c in contracts}
        self.stats = {c.name: Stats() for c in contracts}
        self.trades: dict[str, deque[PublicTrade]] = {
            c.name: deque(maxlen=MAX_PUBLIC_TRADES) for c in contracts
        }
        self.feed = ChangeFeed(FIRST_CHANGE_ID)
        self.ids = IdCounters()
        self.accounts: dict[str, Account] = {}
        self.delivery: dict[str, float] = {}
        self._quotes: dict[str, tuple[int, int, int, int]] = {}

    # -- accounts and bands --------------------------------------------------------------

    def account(self, account_id: str, now_ms: int) -> Account:
        """The account ``account_id``, opened with the starting balances on first use."""
        account = self.accounts.get(account_id)
        if account is None:
            balances = self.config.starting_balances
            account = self.accounts[account_id] = Account(account_id, balances, now_ms)
        return account

    def band(self, c: Contract) -> tuple[int, int]:
        """``(min_price, max_price)`` in ticks: limit prices outside are refused."""
        mark = self.pricer.mark(c)
        if c.kind == "option":
            return 1, max(1, c.floor_units(mark + max(mark, OPTION_BAND_FLOOR)))
        band = self.config.price_band
        return c.ceil_units(mark * (1 - band)), max(1, c.floor_units(mark * (1 + band)))

    def reducible(self, account: Account, c: Contract, is_buy: bool) -> int:
        """Lots a ``buy`` (``sell``) order of ``account`` can reduce: the short (long)."""
        held = account.position_lots(c)
        return max(0, -held) if is_buy else max(0, held)

    # -- the book --------------------------------------------------------------------------

    def rest(self, order: LiveOrder, batch: Batch) -> None:
        """Put ``order``'s remainder in the book, behind everything at its price."""
        side: BookSide = "bid" if order.is_buy else "ask"
        order.resting = Resting(side, order.units, order.remaining, order)
        self.ladders[order.contract.name].add(order.resting)
        if order.account is not None:
            self.accounts[order.account].open_orders[order.order_id] = order
        batch.books[order.contract.name] = order.contract
        batch.touch_order(order)

    def close(self, order: LiveOrder, state: str, batch: Batch, reason: str | None) -> None:
        """End ``order`` (``filled`` or ``cancelled``) and file it in the history."""
        if order.resting is not None:
            self.ladders[order.contract.name].remove(order.resting)
            order.resting = None
            batch.books[order.contract.name] = order.contract
        order.state = state
        order.cancel_reason = reason
        order.updated_ms = batch.now_ms
        batch.touch_order(order)
        if order.account is not None:
            account = self.accounts[order.account]
            account.open_orders.pop(order.order_id, None)
            account.remember(order.record())

    # -- matching -------------------------------------------------------------------------

    def execute(self, order: LiveOrder, batch: Batch) -> None:
        """Match ``order`` against the book up to its limit; ``fill_or_kill`` all or nothing."""
        c = order.contract
        ladder = self.ladders[c.name]
        buy = order.is_buy
        need = order.remaining
        plan: list[tuple[Resting, int]] = []
        left: dict[str, int] = {}
        for resting in ladder.walk("ask" if buy else "bid"):
            if need == 0 or (resting.units > order.units if buy else resting.units < order.units):
                break
            lots = resting.lots
            owner = resting.order
            if owner is not None and owner.reduce_only and owner.account is not None:
                if owner.account not in left:
                    account = self.accounts[owner.account]
                    left[owner.account] = self.reducible(account, c, owner.is_buy)
                lots = min(lots, left[owner.account])
                left[owner.account] -= lots
            take = min(lots, need)
            if take > 0:
                plan.append((resting, take))
                need -= take
        if order.time_in_force == "fill_or_kill" and need > 0:
            return
        for resting, lots in plan:
            self._fill(order, resting, lots, batch)

    def _fill(self, taker: LiveOrder, resting: Resting, lots: int, batch: Batch) -> None:
        c = taker.contract
        price = c.price(resting.units)
        amount = c.amount(lots)
        stats = self.stats[c.name]
        tick_direction = stats.trade(price)
        mark, index = self.pricer.mark(c), self.pricer.index_price(c.index)
        if c.kind == "future" and c.inverse:
            stats.volume += amount / price
            stats.volume_usd += amount
        else:
            stats.volume += amount
            stats.volume_usd += amount * (index if c.kind == "option" else price)
        public = PublicTrade(
            trade_id=self.ids.trade_id(c.instrument.currency),
            trade_seq=self.ids.trade_seq(c.name),
            timestamp=batch.now_ms,
            instrument_name=c.name,
            price=price,
            amount=amount,
            direction=taker.direction,
            tick_direction=tick_direction,
            mark_price=mark,
            index_price=index,
            contracts=c.contracts(lots),
            iv=self.pricer.implied(c, price),
        )
        self.trades[c.name].append(public)
        batch.public.append(public)
        batch.books[c.name] = c
        maker = resting.order
        self.ladders[c.name].resize(resting, resting.lots - lots)
        for order, liquidity in ((taker, "T"), (maker, "M")):
            if order is None:
                continue
            order.fill(lots, price)
            order.updated_ms = batch.now_ms
            if order.account is None:
                continue
            account = self.accounts[order.account]
            fee = fee_for(c, lots, price, maker=liquidity == "M")
            pnl = account.apply_fill(c, order.is_buy, lots, price, fee)
            trade = UserTrade(
                account=account.account_id,
                trade_id=public.trade_id,
                trade_seq=public.trade_seq,
                timestamp=batch.now_ms,
                instrument_name=c.name,
                price=price,
                amount=amount,
                direction=order.direction,
                tick_direction=tick_direction,
                mark_price=mark,
                index_price=index,
                contracts=public.contracts,
                order_id=order.order_id,
                order_type=order.order_type,
                state=order.state,
                fee=fee,
                fee_currency=c.fee_currency,
                liquidity=liquidity,
                post_only=order.post_only,
                reduce_only=order.reduce_only,
                label=order.label,
                profit_loss=round(pnl, 12) + 0.0,
                iv=public.iv,
            )
            account.trades.append(trade)
            batch.user_trades.append(trade)
            batch.touch_order(order)
            if c.kind == "spot":
                for currency in (c.instrument.base_currency, c.instrument.quote_currency):
                    batch.portfolios[(account.account_id, currency)] = None
            else:
                batch.positions[(account.account_id, c.name)] = None
                batch.portfolios[(account.account_id, c.settlement)] = None
        if maker is not None and maker.state == "filled":
            maker.resting = None
            self.close(maker, "filled", batch, None)

    def clip_reduce_only(self, batch: Batch) -> None:
        """Shrink or cancel reduce-only orders of every position the batch touched.

        In execution priority, each order keeps what the position still allows after the
        orders ahead of it; an order left with nothing is cancelled.
        """
        for account_id, name in list(batch.positions):
            account, c = self.accounts[account_id], self.contracts[name]
            ladder = self.ladders[name]
            for is_buy in (True, False):
                side: BookSide = "bid" if is_buy else "ask"
                rank = {id(r): i for i, r in enumerate(ladder.walk(side))}
                orders = sorted(
                    (
                        o
                        for o in account.open_orders.values()
                        if o.contract is c and o.reduce_only and o.is_buy == is_buy
                    ),
                    key=lambda o: rank.get(id(o.resting), len(rank)),
                )
                left = self.reducible(account, c, is_buy)
                for order in orders:
                    keep = min(order.remaining, left)
                    left -= keep
                    if keep == 0:
                        self.close(order, "cancelled", batch, "reduce_only")
                    elif keep < order.remaining and order.resting is not None:
                        order.lots = order.filled + keep
                        order.updated_ms = batch.now_ms
                        ladder.resize(order.resting, keep)
                        batch.books[name] = c
                        batch.touch_order(order)

    # -- account views --------------------------------------------------------------------

    def position(self, account: Account, c: Contract) -> Position:
        """``account``'s position in ``c`` now (a zero position if it never traded it)."""
        state = account.positions.get(c.name) or PositionState(c)
        margin = sum(order_margin(o)[1] for o in account.open_orders.values() if o.contract is c)
        return position_record(account, state, self.pricer, margin)

    def portfolio(self, account: Account, currency: str) -> Portfolio:
        return portfolio(account, currency, self.pricer)

    # -- publishing -----------------------------------------------------------------------

    def _levels(self, c: Contract, triples: list[LevelTriple]) -> list[LevelAction]:
        return [(action, c.price(units), c.amount(lots)) for action, units, lots in triples]

    def finish(self, batch: Batch) -> list[MarketEvent]:
        """Publish what ``batch`` touched, in the module's fixed order."""
        events: list[MarketEvent] = [*batch.public, *batch.user_trades]
        events.extend(order.record() for order in batch.orders.values())
        for account_id, name in batch.positions:
            events.append(self.position(self.accounts[account_id], self.contracts[name]))
        for account_id, currency in batch.portfolios:
            events.append(self.portfolio(self.accounts[account_id], currency))
        quotes: list[MarketEvent] = []
        for name, c in batch.books.items():
            bids, asks = self.ladders[name].take_changes()
            if bids or asks:
                events.extend(
                    self.feed.publish(
                        name, batch.now_ms, self._levels(c, bids), self._levels(c, asks)
                    )
                )
            quote = self.quote_if_changed(c, batch.now_ms)
            if quote is not None:
                quotes.append(quote)
        events.extend(quotes)
        return events

    def quote(self, c: Contract, now_ms: int) -> Quote:
        ladder = self.ladders[c.name]
        bid, ask = ladder.best("bid"), ladder.best("ask")
        return Quote(
            instrument_name=c.name,
            timestamp=now_ms,
            best_bid_price=None if bid is None else c.price(bid[0]),
            best_bid_amount=0.0 if bid is None else c.amount(bid[1]),
            best_ask_price=None if ask is None else c.price(ask[0]),
            best_ask_amount=0.0 if ask is None else c.amount(ask[1]),
        )

    def quote_if_changed(self, c: Contract, now_ms: int) -> Quote | None:
        """A :class:`Quote` when the best bid or ask moved since the last one, else ``None``."""
        ladder = self.ladders[c.name]
        bid, ask = ladder.best("bid") or (0, 0), ladder.best("ask") or (0, 0)
        key = (*bid, *ask)
        if self._quotes.get(c.name) == key:
            return None
        self._quotes[c.name] = key
        return self.quote(c, now_ms)
