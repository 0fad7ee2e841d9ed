"""Order entry: validate, then place, edit or cancel (spec 5.1-5.3).

Checks run in this order and the first failure raises :class:`MarketError` before
anything changes: instrument (10020, 13019 when expired), direction / type / time in
force / label (11029; trigger order types 10033), amount (10021 missing, mismatched
with ``contracts`` or not positive; 10002 below the minimum; 10027 / 10021 off the
grid), price (10023 missing or not positive; 10043 off the tick grid; 10005 / 10007
outside ``[min_price, max_price]``), ``post_only`` (11055 with market, IOC or FOK
orders; 11054 when it would take and ``reject_post_only``), ``reduce_only`` (11030),
``MAX_OPEN_ORDERS`` for an order that may rest (11030), funds (10009).

Behaviour:

* ``post_only`` that would take, with ``reject_post_only`` false (the default), is
  repriced one tick inside the spread (a buy just below the best ask, a sell just above
  the best bid), as Deribit documents; if that price is not positive, 11054.
* ``reduce_only``: the amount is cut to what the position allows after the account's
  other reduce-only orders on that side; nothing allowed is 11030.
* time in force: ``good_til_cancelled`` rests the remainder; ``good_til_day`` rests it
  until the next 08:00 UTC (then it is cancelled, ``cancel_reason`` ``settlement``);
  ``immediate_or_cancel`` cancels the remainder; ``fill_or_kill`` fills completely or
  not at all (then ``cancelled`` with nothing filled).  Market orders sweep the book up
  to the price band and cancel the remainder.  An order that ends with its remainder
  cancelled is ``cancelled`` (``filled`` when nothing remains).
* ``edit`` keeps the order id and sets ``replaced``; the order keeps its place in the
  queue when the price is unchanged and the amount does not grow, else it goes to the
  back of its (new) level, and a new price that crosses trades at once (unless
  ``post_only``, which reprices or rejects as above).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from . import _config
from ._accounts import Account, order_margin
from ._catalog import Contract
from ._engine import Batch, Engine
from ._errors import MarketError
from ._orders import LiveOrder
from ._records import Cancellation, Execution, Order

__all__ = [
    "KINDS",
    "ORDER_TYPES",
    "TIMES_IN_FORCE",
    "cancel",
    "cancel_many",
    "edit",
    "find_order",
    "place",
    "select_orders",
]

MAX_LABEL = 64
TIMES_IN_FORCE = ("good_til_cancelled", "good_til_day", "fill_or_kill", "immediate_or_cancel")
ORDER_TYPES = ("limit", "market")
TRIGGER_TYPES = (
    "stop_limit", "stop_market", "take_limit", "take_market", "market_limit", "trailing_stop",
)  # fmt: skip
KINDS = ("future", "option", "spot", "any")
COMBO_KINDS = ("future_combo", "option_combo", "combo")
CANCEL_TYPES = ("all", "limit")
TRIGGER_CANCEL_TYPES = (
    "trigger_all", "stop", "take", "trailing_stop", "stop_all", "stop_limit", "stop_market",
    "take_all", "take_limit", "take_market", "trailing_all",
)  # fmt: skip
_EPSILON = 1e-9
_DAY_MS = 24 * 3600 * 1000
_SETTLEMENT_MS = 8 * 3600 * 1000


def _contract(engine: Engine, name: str) -> Contract:
    c = engine.contracts.get(name)
    if c is None:
        raise MarketError("invalid_or_unsupported_instrument")
    if not c.active:
        raise MarketError("orderbook_closed")
    return c


def _lots(c: Contract, amount: float | None, contracts: float | None) -> int:
    if contracts is not None:
        if not math.isfinite(contracts):
            raise MarketError("invalid_amount")
        from_contracts = contracts * c.instrument.contract_size
        if amount is not None and abs(amount - from_contracts) > _EPSILON * max(1.0, amount):
            raise MarketError("invalid_amount", data={"reason": "amount and contracts differ"})
        amount = from_contracts
    if amount is None or not math.isfinite(amount) or amount <= 0:
        raise MarketError("invalid_amount")
    if amount < c.instrument.min_trade_amount * (1 - _EPSILON):
        raise MarketError("qty_too_low")
    lots = c.lots_of(amount)
    if lots is None:
        raise MarketError("non_integer_contract_amount" if c.kind == "future" else "invalid_amount")
    return lots


def _units(engine: Engine, c: Contract, price: float | None) -> int:
    if price is None or not math.isfinite(price) or price <= 0:
        raise MarketError("invalid_price")
    units = c.units_of(price)
    if units is None:
        raise MarketError("price_wrong_tick")
    low, high = engine.band(c)
    if units < low:
        raise MarketError("price_too_low", str(c.price(low)))
    if units > high:
        raise MarketError("price_too_high", str(c.price(high)))
    return units


def _post_only(engine: Engine, c: Contract, is_buy: bool, units: int, reject: bool) -> int:
    """The price a post-only order may rest at (see the module doc)."""
    best = engine.ladders[c.name].best("ask" if is_buy else "bid")
    if best is None or (units < best[0] if is_buy else units > best[0]):
        return units
    if reject:
        raise MarketError("post_only_reject")
    moved = c.below(best[0]) if is_buy else c.above(best[0])
    if moved <= 0:
        raise MarketError("post_only_reject")
    return moved


def _reduce_cap(engine: Engine, account: Account, order: LiveOrder) -> int:
    others = sum(
        o.remaining
        for o in account.open_orders.values()
        if o is not order
        and o.contract is order.contract
        and o.reduce_only
        and o.is_buy == order.is_buy
    )
    left = engine.reducible(account, order.contract, order.is_buy) - others
    if left <= 0:
        raise MarketError("other_reject", "reduce_only", data={"reason": "reduce_only"})
    return left


def _check_funds(engine: Engine, account: Account, order: LiveOrder, held: float = 0.0) -> None:
    currency, need, _ = order_margin(order)
    available = engine.portfolio(account, currency).available_funds
    if need - held > 0 and available + held - need < -_EPSILON:
        raise MarketError("not_enough_funds")


def _next_settlement(now_ms: int) -> int:
    day = now_ms - now_ms % _DAY_MS + _SETTLEMENT_MS
    return day if day > now_ms else day + _DAY_MS


def _complete(engine: Engine, order: LiveOrder, batch: Batch) -> Execution:
    """Rest or cancel what is left of ``order``, then publish the batch."""
    if order.state == "open":
        if order.order_type == "limit" and order.time_in_force in TIMES_IN_FORCE[:2]:
            if order.resting is None:
                engine.rest(order, batch)
        else:
            engine.close(order, "cancelled", batch, None)
    elif order.state == "filled" and order.account is not None:
        engine.close(order, "filled", batch, None)
    batch.touch_order(order)
    engine.clip_reduce_only(batch)
    events = engine.finish(batch)
    trades = tuple(t for t in batch.user_trades if t.order_id == order.order_id)
    return Execution(order=order.record(), trades=trades, events=tuple(events))


def place(
    engine: Engine,
    account_id: str,
    instrument_name: str,
    direction: str,
    now_ms: int,
    *,
    amount: float | None = None,
    contracts: float | None = None,
    order_type: str = "limit",
    price: float | None = None,
    time_in_force: str = "good_til_cancelled",
    label: str = "",
    post_only: bool = False,
    reject_post_only: bool = False,
    reduce_only: bool = False,
) -> Execution:
    """Place an order for ``account_id`` (``private/buy`` / ``private/sell``)."""
    c = _contract(engine, instrument_name)
    if direction not in ("buy", "sell"):
        raise MarketError("invalid_arguments", data={"param": "direction"})
    if order_type in TRIGGER_TYPES:
        raise MarketError("not_implemented", data={"param": "type"})
    if order_type not in ORDER_TYPES:
        raise MarketError("invalid_arguments", data={"param": "type"})
    if time_in_force not in TIMES_IN_FORCE:
        raise MarketError("invalid_arguments", data={"param": "time_in_force"})
    if not isinstance(label, str) or len(label) > MAX_LABEL:
        raise MarketError("invalid_arguments", data={"param": "label"})
    lots = _lots(c, amount, contracts)
    is_buy = direction == "buy"
    if order_type == "limit":
        units = _units(engine, c, price)
    else:
        low, high = engine.band(c)
        units = high if is_buy else low
    if post_only and (order_type == "market" or time_in_force in TIMES_IN_FORCE[2:]):
        raise MarketError("post_only_not_allowed")
    if post_only:
        units = _post_only(engine, c, is_buy, units, reject_post_only)
    account = engine.account(account_id, now_ms)
    order = LiveOrder(
        order_id="",
        account=account_id,
        contract=c,
        direction=direction,
        order_type=order_type,
        units=units,
        lots=lots,
        time_in_force=time_in_force,
        label=label,
        post_only=post_only,
        reject_post_only=reject_post_only,
        reduce_only=reduce_only,
        now_ms=now_ms,
        expires_ms=_next_settlement(now_ms) if time_in_force == "good_til_day" else None,
    )
    if reduce_only:
        order.lots = min(lots, _reduce_cap(engine, account, order))
    rests = order_type == "limit" and time_in_force in TIMES_IN_FORCE[:2]
    if rests and len(account.open_orders) >= _config.MAX_OPEN_ORDERS:
        raise MarketError("other_reject", "max_open_orders", data={"reason": "max_open_orders"})
    _check_funds(engine, account, order)
    order.order_id = engine.ids.order_id(c.instrument.currency)
    batch = Batch(now_ms)
    engine.execute(order, batch)
    return _complete(engine, order, batch)


def find_order(engine: Engine, account_id: str, order_id: str) -> LiveOrder | Order:
    """The open (live) or closed (record) order ``order_id`` of the account, or 10004."""
    account = engine.accounts.get(account_id)
    if account is not None:
        live = account.open_orders.get(order_id)
        if live is not None:
            return live
        closed = account.closed.get(order_id)
        if closed is not None:
            return closed
    raise MarketError("order_not_found")


def _open(engine: Engine, account_id: str, order_id: str) -> LiveOrder:
    found = find_order(engine, account_id, order_id)
    if not isinstance(found, LiveOrder):
        raise MarketError("not_open_order")
    return found


def edit(
    engine: Engine,
    account_id: str,
    order_id: str,
    now_ms: int,
    *,
    amount: float | None = None,
    contracts: float | None = None,
    price: float | None = None,
    post_only: bool | None = None,
    reject_post_only: bool | None = None,
    reduce_only: bool | None = None,
) -> Execution:
    """Change an open order's amount and/or price (``private/edit``); the id stays."""
    order = _open(engine, account_id, order_id)
    c = order.contract
    if not c.active:
        raise MarketError("orderbook_closed")
    lots = order.lots if amount is None and contracts is None else _lots(c, amount, contracts)
    if lots <= order.filled:
        raise MarketError("invalid_amount", data={"reason": "not above the filled amount"})
    units = order.units if price is None else _units(engine, c, price)
    post = order.post_only if post_only is None else post_only
    reject = order.reject_post_only if reject_post_only is None else reject_post_only
    reduce = order.reduce_only if reduce_only is None else reduce_only
    if post:
        units = _post_only(engine, c, order.is_buy, units, reject)
    account = engine.accounts[account_id]
    trial = LiveOrder(
        order_id=order.order_id, account=account_id, contract=c, direction=order.direction,
        order_type=order.order_type, units=units, lots=lots, time_in_force=order.time_in_force,
        label=order.label, post_only=post, reject_post_only=reject, reduce_only=reduce,
        now_ms=now_ms, expires_ms=order.expires_ms,
    )  # fmt: skip
    trial.filled = order.filled
    if reduce:
        trial.lots = order.filled + min(lots - order.filled, _reduce_cap(engine, account, order))
    _check_funds(engine, account, trial, held=order_margin(order)[1])
    batch = Batch(now_ms)
    keeps_place = units == order.units and trial.lots <= order.lots
    order.post_only, order.reject_post_only, order.reduce_only = post, reject, reduce
    order.replaced = True
    order.updated_ms = now_ms
    resting = order.resting
    if keeps_place and resting is not None:
        order.lots = trial.lots
        engine.ladders[c.name].resize(resting, order.remaining)
        batch.books[c.name] = c
    else:
        if resting is not None:
            engine.ladders[c.name].remove(resting)
            order.resting = None
            batch.books[c.name] = c
        order.units, order.lots = units, trial.lots
        engine.execute(order, batch)
    return _complete(engine, order, batch)


def cancel(engine: Engine, account_id: str, order_id: str, now_ms: int) -> Cancellation:
    """Cancel one open order (``private/cancel``)."""
    order = _open(engine, account_id, order_id)
    batch = Batch(now_ms)
    engine.close(order, "cancelled", batch, "user_request")
    return Cancellation(orders=(order.record(),), events=tuple(engine.finish(batch)))


def _as_set(value: str | Sequence[str] | None) -> set[str] | None:
    if value is None or value == "any":
        return None
    names = {value} if isinstance(value, str) else set(value)
    return None if "any" in names else names


def select_orders(
    orders: Iterable[LiveOrder],
    *,
    currency: str | Sequence[str] | None = None,
    kind: str | None = None,
    instrument_name: str | None = None,
    label: str | None = None,
    order_type: str = "all",
) -> list[LiveOrder]:
    """The orders matching every given filter, oldest first (spec 5.3, 5.4 semantics).

    ``kind`` ``any`` or ``None`` matches all; combo kinds match nothing (no combos here);
    ``order_type`` ``all`` or ``limit`` matches the resting orders, trigger types match
    nothing (no trigger orders here).
    """
    if kind is not None and kind not in KINDS and kind not in COMBO_KINDS:
        raise MarketError("invalid_arguments", data={"param": "kind"})
    if order_type not in CANCEL_TYPES and order_type not in TRIGGER_CANCEL_TYPES:
        raise MarketError("invalid_arguments", data={"param": "type"})
    if kind in COMBO_KINDS or order_type in TRIGGER_CANCEL_TYPES:
        return []
    currencies = _as_set(currency)
    return [
        o
        for o in orders
        if (currencies is None or o.contract.instrument.currency in currencies)
        and (kind in (None, "any") or o.contract.kind == kind)
        and (instrument_name is None or o.contract.name == instrument_name)
        and (label is None or o.label == label)
    ]


def cancel_many(
    engine: Engine,
    account_id: str,
    now_ms: int,
    *,
    currency: str | Sequence[str] | None = None,
    kind: str | None = None,
    instrument_name: str | None = None,
    label: str | None = None,
    order_type: str = "all",
    reason: str = "user_request",
) -> Cancellation:
    """Cancel every open order that matches (the ``cancel_all*`` / ``cancel_by_label`` family)."""
    account = engine.accounts.get(account_id)
    chosen = select_orders(
        [] if account is None else list(account.open_orders.values()),
        currency=currency,
        kind=kind,
        instrument_name=instrument_name,
        label=label,
        order_type=order_type,
    )
    batch = Batch(now_ms)
    for order in chosen:
        engine.close(order, "cancelled", batch, reason)
    records = tuple(order.record() for order in chosen)
    return Cancellation(orders=records, events=tuple(engine.finish(batch)))
