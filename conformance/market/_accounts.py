"""Accounts: balances, positions, P&L, margins, and the records that show them.

Formulas (amounts ``q`` in the instrument's unit, prices ``p``, average entry ``a``,
``+`` for long; every P&L is in the settlement currency):

=================== =============================== ====================================
instrument          P&L of closing ``q`` at ``p``   average entry when adding ``q``
=================== =============================== ====================================
inverse future      ``q * (1/a - 1/p)`` (coin)      harmonic: ``sum q / sum(q / p)``
linear future       ``q * (p - a)`` (USDC)          ``sum(q * p) / sum q``
option (inverse)    ``q * (p - a)`` (coin)          ``sum(q * p) / sum q``
=================== =============================== ====================================

Shorts use the same formulas with the sign flipped.  Floating P&L is the same formula
at the mark price.  Cash flows, per fill:

* futures: the balance moves by the realised P&L minus the fee, at once (no daily
  settlement, no funding payments: ``realized_funding`` is always 0);
* options: the premium ``q * p`` moves at once (a buyer pays), and so does the fee;
  realised P&L is reported but already contained in the premiums;
* spot: the base balance moves by ``q``, the quote balance by ``q * p`` and the fee.

Fees: ``commission * q / p`` for inverse futures, ``commission * q * p`` for linear and
spot (in the quote currency), ``min(commission * q, 0.125 * q * p)`` for options; the
commission is the instrument's ``maker_commission`` or ``taker_commission``; rounded
to 8 decimals.

Margins (simple, in the settlement currency): futures need ``1 / max_leverage`` of the
position's coin value (``|q| / mark`` inverse, ``|q| * mark`` linear) initially and half
that to maintain; a short option ``|q| * (0.1 + mark)`` / ``|q| * (0.075 + mark)``; a
long option nothing (its premium is paid).  Open orders reserve: futures
``1 / max_leverage`` of their value at the limit price; option buys their premium,
option sells ``|q| * (0.1 + p)``; spot buys ``q * p * (1 + taker_commission)`` and spot
sells ``q`` of the base coin (``spot_reserve``); reduce-only orders nothing.

Summary (per currency): ``equity = balance + futures floating P&L + options value``
(``options_value = sum(size * mark)``), ``margin_balance = equity``,
``available_funds = margin_balance - initial_margin - spot_reserve``; "session" means
since the account was opened, so ``session_rpl`` is all realised P&L and
``total_pl = session_rpl + session_upl``.  Deltas are in the base coin and
``delta_total_map`` is keyed by price index.
"""

from __future__ import annotations

from collections import deque

from ._catalog import Contract
from ._config import MAX_ORDER_HISTORY, MAX_TRADE_HISTORY
from ._orders import LiveOrder
from ._pricing import Pricer
from ._records import Order, Portfolio, Position, UserTrade

__all__ = [
    "Account",
    "PositionState",
    "fee_for",
    "order_margin",
    "portfolio",
    "position_record",
    "profit",
]

OPTION_FEE_CAP = 0.125
SHORT_OPTION_IM = 0.1
SHORT_OPTION_MM = 0.075


def _r(value: float) -> float:
    """Round off float noise (12 decimals, well past any coin's precision); no -0.0."""
    return round(value, 12) + 0.0


class PositionState:
    """``lots`` signed (short < 0), ``average`` entry price, ``realized`` P&L so far."""

    __slots__ = ("average", "contract", "lots", "realized")

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.lots = 0
        self.average = 0.0
        self.realized = 0.0


class Account:
    """One client's balances, positions, live orders and bounded history."""

    def __init__(self, account_id: str, balances: dict[str, float], created_ms: int) -> None:
        self.account_id = account_id
        self.balances = dict(balances)
        self.created_ms = created_ms
        self.positions: dict[str, PositionState] = {}
        self.open_orders: dict[str, LiveOrder] = {}
        self.closed: dict[str, Order] = {}  # insertion order: oldest first
        self.trades: deque[UserTrade] = deque(maxlen=MAX_TRADE_HISTORY)

    def __repr__(self) -> str:
        return f"Account({self.account_id!r})"

    def position_lots(self, contract: Contract) -> int:
        state = self.positions.get(contract.name)
        return 0 if state is None else state.lots

    def remember(self, order: Order) -> None:
        """File a closed order in the history, forgetting the oldest past the bound."""
        self.closed.pop(order.order_id, None)
        self.closed[order.order_id] = order
        while len(self.closed) > MAX_ORDER_HISTORY:
            del self.closed[next(iter(self.closed))]

    def apply_fill(
        self, contract: Contract, is_buy: bool, lots: int, price: float, fee: float
    ) -> float:
        """Book one fill; return the P&L it realised (settlement currency)."""
        amount = contract.amount(lots)
        sign = 1 if is_buy else -1
        if contract.kind == "spot":
            base, quote = contract.instrument.base_currency, contract.instrument.quote_currency
            self.balances[base] = self.balances.get(base, 0.0) + sign * amount
            self.balances[quote] = self.balances.get(quote, 0.0) - sign * amount * price - fee
            return 0.0
        state = self.positions.get(contract.name)
        if state is None:
            state = self.positions[contract.name] = PositionState(contract)
        held, moved = state.lots, sign * lots
        realized = 0.0
        if held == 0 or (held > 0) == (moved > 0):
            state.average = _average(contract, abs(held), state.average, lots, price)
        else:
            closing = contract.amount(min(lots, abs(held)))
            realized = profit(contract, closing, state.average, price, long=held > 0)
            after = held + moved
            if after == 0:
                state.average = 0.0
            elif (after > 0) != (held > 0):
                state.average = price
        state.lots = held + moved
        state.realized += realized
        currency = contract.settlement
        cash = -sign * amount * price if contract.kind == "option" else realized
        self.balances[currency] = self.balances.get(currency, 0.0) + cash - fee
        return realized


def _average(contract: Contract, held: int, average: float, lots: int, price: float) -> float:
    if held == 0:
        return price
    if contract.inverse and contract.kind == "future":
        return (held + lots) / (held / average + lots / price)
    return (held * average + lots * price) / (held + lots)


def profit(contract: Contract, amount: float, average: float, price: float, *, long: bool) -> float:
    """P&L of closing ``amount`` entered at ``average`` at ``price`` (see the table)."""
    if amount == 0 or average == 0:
        return 0.0
    sign = 1.0 if long else -1.0
    if contract.inverse and contract.kind == "future":
        return sign * amount * (1.0 / average - 1.0 / price)
    return sign * amount * (price - average)


def fee_for(contract: Contract, lots: int, price: float, maker: bool) -> float:
    """The commission on one fill, in ``contract.fee_currency``."""
    instrument = contract.instrument
    rate = instrument.maker_commission if maker else instrument.taker_commission
    amount = contract.amount(lots)
    if contract.kind == "option":
        fee = min(rate * amount, OPTION_FEE_CAP * amount * price)
    elif contract.inverse:
        fee = rate * amount / price
    else:
        fee = rate * amount * price
    return round(fee, 8) + 0.0


def _im_rate(contract: Contract) -> float:
    leverage = contract.instrument.max_leverage
    return 1.0 / leverage if leverage else 0.0


def order_margin(order: LiveOrder) -> tuple[str, float, bool]:
    """``(currency, amount, is_spot_reserve)`` an open order ties up."""
    c = order.contract
    amount, price = c.amount(order.remaining), c.price(order.units)
    if c.kind == "spot":
        if order.is_buy:
            return c.settlement, amount * price * (1 + c.instrument.taker_commission), True
        return c.instrument.base_currency, amount, True
    if order.reduce_only or amount <= 0:
        return c.settlement, 0.0, False
    if c.kind == "option":
        need = amount * price if order.is_buy else amount * (SHORT_OPTION_IM + price)
    elif c.inverse:
        need = amount / price * _im_rate(c)
    else:
        need = amount * price * _im_rate(c)
    return c.settlement, need, False


def _margins(state: PositionState, mark: float) -> tuple[float, float]:
    c = state.contract
    size = c.amount(abs(state.lots))
    if c.kind == "option":
        if state.lots >= 0:
            return 0.0, 0.0
        return size * (SHORT_OPTION_IM + mark), size * (SHORT_OPTION_MM + mark)
    value = size / mark if c.inverse else size * mark
    im = value * _im_rate(c)
    return im, im / 2


def position_record(
    account: Account, state: PositionState, pricer: Pricer, orders_margin: float
) -> Position:
    """The :class:`Position` of ``state`` at the current marks."""
    c = state.contract
    mark, index = pricer.mark(c), pricer.index_price(c.index)
    size = c.amount(abs(state.lots)) * (1 if state.lots >= 0 else -1)
    floating = profit(c, abs(size), state.average, mark, long=size > 0)
    im, mm = _margins(state, mark)
    option = pricer.option(c) if c.kind == "option" else None
    if option is not None:
        delta = size * option.delta
    elif c.inverse:
        delta = size / mark
    else:
        delta = size
    return Position(
        account=account.account_id,
        instrument_name=c.name,
        kind=c.kind,
        direction="buy" if size > 0 else "sell" if size < 0 else "zero",
        size=size,
        size_currency=_r(size / mark if c.inverse and c.kind == "future" else size),
        average_price=_r(state.average),
        mark_price=mark,
        index_price=index,
        settlement_price=pricer.settlement.get(c.name),
        floating_profit_loss=_r(floating),
        realized_profit_loss=_r(state.realized),
        total_profit_loss=_r(floating + state.realized),
        realized_funding=0.0,
        initial_margin=_r(im),
        maintenance_margin=_r(mm),
        open_orders_margin=_r(orders_margin),
        delta=_r(delta),
        leverage=c.instrument.max_leverage,
        interest_value=pricer.interest.get(c.name),
        average_price_usd=None if option is None else _r(state.average * index),
        floating_profit_loss_usd=None if option is None else _r(floating * index),
        gamma=None if option is None else _r(size * option.gamma),
        vega=None if option is None else _r(size * option.vega),
        theta=None if option is None else _r(size * option.theta),
    )


def portfolio(account: Account, currency: str, pricer: Pricer) -> Portfolio:
    """The account summary of ``currency`` at the current marks (see the module doc)."""
    f_upl = f_rpl = o_upl = o_rpl = o_value = im = mm = 0.0
    deltas: dict[str, float] = {}
    greeks: dict[str, dict[str, float]] = {"delta": {}, "gamma": {}, "vega": {}, "theta": {}}
    for state in account.positions.values():
        c = state.contract
        if c.settlement != currency:
            continue
        record = position_record(account, state, pricer, 0.0)
        im += record.initial_margin
        mm += record.maintenance_margin
        deltas[c.index] = deltas.get(c.index, 0.0) + record.delta
        if c.kind == "option":
            o_upl += record.floating_profit_loss
            o_rpl += state.realized
            o_value += record.size * record.mark_price
            for name, value in (
                ("delta", record.delta),
                ("gamma", record.gamma),
                ("vega", record.vega),
                ("theta", record.theta),
            ):
                book = greeks[name]
                book[c.index] = book.get(c.index, 0.0) + (value or 0.0)
        else:
            f_upl += record.floating_profit_loss
            f_rpl += state.realized
    reserve = 0.0
    for order in account.open_orders.values():
        order_currency, need, spot = order_margin(order)
        if order_currency == currency:
            if spot:
                reserve += need
            else:
                im += need
    balance = account.balances.get(currency, 0.0)
    equity = balance + f_upl + o_value
    available = equity - im - reserve
    delta_total = sum(deltas.values())

    def total(name: str) -> float:
        return _r(sum(greeks[name].values()))

    def rounded(values: dict[str, float]) -> dict[str, float]:
        return {key: _r(value) for key, value in values.items()}

    return Portfolio(
        account=account.account_id,
        currency=currency,
        balance=_r(balance),
        equity=_r(equity),
        available_funds=_r(available),
        available_withdrawal_funds=_r(max(0.0, min(balance - reserve, available))),
        margin_balance=_r(equity),
        initial_margin=_r(im),
        maintenance_margin=_r(mm),
        projected_initial_margin=_r(im),
        projected_maintenance_margin=_r(mm),
        session_upl=_r(f_upl + o_upl),
        session_rpl=_r(f_rpl + o_rpl),
        total_pl=_r(f_upl + o_upl + f_rpl + o_rpl),
        futures_pl=_r(f_upl + f_rpl),
        futures_session_upl=_r(f_upl),
        futures_session_rpl=_r(f_rpl),
        options_pl=_r(o_upl + o_rpl),
        options_session_upl=_r(o_upl),
        options_session_rpl=_r(o_rpl),
        options_value=_r(o_value),
        delta_total=_r(delta_total),
        delta_total_map=rounded(deltas),
        projected_delta_total=_r(delta_total),
        options_delta=total("delta"),
        options_gamma=total("gamma"),
        options_vega=total("vega"),
        options_theta=total("theta"),
        options_gamma_map=rounded(greeks["gamma"]),
        options_vega_map=rounded(greeks["vega"]),
        options_theta_map=rounded(greeks["theta"]),
        estimated_liquidation_ratio=_r(mm / equity) if equity > 0 else 0.0,
        fee_balance=0.0,
        spot_reserve=_r(reserve),
        additional_reserve=0.0,
        margin_model="segregated_sm",
        portfolio_margining_enabled=False,
        cross_collateral_enabled=False,
        creation_timestamp=account.created_ms,
    )
