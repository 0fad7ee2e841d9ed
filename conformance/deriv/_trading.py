"""Contracts of the reference Deriv venue: proposal pricing, buy, sell, settlement (spec 5).

Our model, deliberately simple so a test can recompute any number:

* **Rise/fall** (``CALL``, ``PUT``): ``duration`` in ticks (``t``, 1-10) or time (``s``
  15 s and up, ``m``, ``h``, ``d``).  ``ask_price`` is the stake; ``payout`` is
  ``stake / 0.5115`` rounded to cents (10 -> 19.55, spec 5.2's example), or the other way
  with ``basis: "payout"``.  The entry spot is the latest tick at purchase; the contract
  settles at the first tick at or after expiry: won when the exit is strictly above
  (``CALL``) or below (``PUT``) the entry, paying ``payout``.  Its ``bid_price`` is
  ``payout * P(win) * 0.98`` with ``P`` the normal probability of the move needed over
  the time left.
* **Multipliers** (``MULTUP``, ``MULTDOWN``): ``multiplier`` in 10, 20, 30, 50, 100;
  commission ``0.0005 * multiplier * stake``; profit ``stake * multiplier * move -
  commission`` where ``move`` is the relative spot change (up for ``MULTUP``, down for
  ``MULTDOWN``); ``bid_price`` is ``stake + profit`` (at least 0).  It closes by itself
  at ``limit_order`` ``take_profit`` / ``stop_loss`` and is stopped out when the profit
  reaches ``-stake``.
* Other contract types are ``OfferingsValidationError``; stakes outside 0.35-50,000 are
  ``ContractBuyValidationError`` with ``details.field``.

Accounts start with 10,000 USD.  Every buy, sell and settlement is a statement line and a
``transaction``; closed contracts go to the profit table.  Bounded: ``MAX_PROPOSALS``
proposals remembered, ``MAX_STATEMENT`` lines and ``MAX_CLOSED`` contracts per account.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import msgspec

from tradewire.protocol.deriv import Proposal

from ._catalog import BY_SYMBOL, SyntheticIndex

__all__ = [
    "MAX_CLOSED",
    "MAX_PROPOSALS",
    "MAX_STATEMENT",
    "MULTIPLIERS",
    "Book",
    "Contract",
    "Priced",
    "Refusal",
    "StartingBalance",
]

MAX_PROPOSALS = 10_000
MAX_STATEMENT = 999
MAX_CLOSED = 1_000
MULTIPLIERS = (10, 20, 30, 50, 100)
StartingBalance = 10_000.0
_WIN_PRICE = 0.5115
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class Refusal(Exception):
    """A venue error: ``code``, ``message``, ``details``."""

    def __init__(self, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.details = details


class Priced(msgspec.Struct, kw_only=True):
    """A priced proposal, buyable by ``id`` until bought or forgotten."""

    id: str
    params: Proposal
    ask_price: float
    payout: float
    spot: float
    spot_time: int
    multiplier: float | None = None
    commission: float | None = None
    connection_id: int | None = None
    stream: bool = False

    def payload(self, index: SyntheticIndex, now_epoch: int) -> dict[str, Any]:
        p = self.params
        body: dict[str, Any] = {
            "ask_price": self.ask_price,
            "date_start": now_epoch,
            "display_value": f"{self.ask_price:.2f}",
            "id": self.id,
            "longcode": _longcode(p, index),
            "payout": self.payout,
            "spot": self.spot,
            "spot_time": self.spot_time,
        }
        if self.multiplier is not None:
            body["multiplier"] = self.multiplier
            body["commission"] = self.commission
            if p.limit_order:
                body["limit_order"] = {
                    k: {"display_name": k.replace("_", " ").capitalize(), "order_amount": v}
                    for k, v in p.limit_order.items()
                    if v is not None
                }
        elif p.duration_unit == "t":
            body["date_expiry"] = now_epoch + (p.duration or 0) * index.period
        else:
            body["date_expiry"] = now_epoch + (p.duration or 0) * _SECONDS.get(
                p.duration_unit or "s", 1
            )
        return body


def _longcode(p: Proposal, index: SyntheticIndex) -> str:
    if p.contract_type in ("MULTUP", "MULTDOWN"):
        way = "rises" if p.contract_type == "MULTUP" else "falls"
        return (
            f"If you select 'Up', your total profit/loss will be the percentage {way} in "
            f"{index.display_name}, multiplied by {p.multiplier:g}, minus commissions."
        )
    way = "strictly higher" if p.contract_type == "CALL" else "strictly lower"
    unit = {"t": "ticks", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
    return (
        f"Win payout if {index.display_name} after {p.duration} "
        f"{unit.get(p.duration_unit or 's', 'seconds')} is {way} than entry spot."
    )


class Contract(msgspec.Struct, kw_only=True):
    """One bought contract and its state (the ``proposal_open_contract`` fields)."""

    contract_id: int
    account: str
    params: Proposal
    buy_price: float
    payout: float
    purchase_time: int
    entry: float
    entry_time: int
    buy_transaction: int
    expiry_epoch: int | None
    ticks_left: int | None
    multiplier: float | None
    commission: float
    spot: float = 0.0
    spot_time: int = 0
    tick_count: int = 0
    status: str = "open"
    sell_price: float | None = None
    sell_time: int | None = None
    exit: float | None = None
    sell_transaction: int | None = None

    @property
    def symbol(self) -> str:
        return self.params.symbol

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def profit_now(self) -> float:
        return round(self.bid() - self.buy_price, 2)

    def bid(self) -> float:
        if not self.is_open:
            return self.sell_price or 0.0
        if self.multiplier is not None:
            move = self.spot / self.entry - 1.0
            if self.params.contract_type == "MULTDOWN":
                move = -move
            return max(
                0.0,
                round(
                    self.buy_price + self.buy_price * self.multiplier * move - self.commission, 2
                ),
            )
        index = BY_SYMBOL[self.symbol]
        left = (
            (self.ticks_left or 0) * index.period
            if self.ticks_left is not None
            else max(1, (self.expiry_epoch or 0) - self.spot_time)
        )
        sigma = index.volatility * math.sqrt(max(left, 1) / (365 * 24 * 3600))
        z = math.log(self.spot / self.entry) / sigma if sigma > 0 else 0.0
        chance = (
            0.5 * math.erfc(-z / math.sqrt(2))
            if self.params.contract_type == "CALL"
            else 0.5 * math.erfc(z / math.sqrt(2))
        )
        return round(self.payout * chance * 0.98, 2)

    def payload(self, sub_id: str | None) -> dict[str, Any]:
        index = BY_SYMBOL[self.symbol]
        bid = self.bid()
        body: dict[str, Any] = {
            "bid_price": bid,
            "buy_price": self.buy_price,
            "contract_id": self.contract_id,
            "contract_type": self.params.contract_type,
            "currency": self.params.currency,
            "current_spot": self.spot,
            "current_spot_time": self.spot_time,
            "date_start": self.purchase_time,
            "display_name": index.display_name,
            "entry_spot": self.entry,
            "entry_tick": self.entry,
            "entry_tick_time": self.entry_time,
            "is_expired": int(not self.is_open),
            "is_settleable": int(not self.is_open),
            "is_sold": int(not self.is_open),
            "is_valid_to_sell": int(self.is_open),
            "longcode": _longcode(self.params, index),
            "payout": self.payout,
            "profit": round(bid - self.buy_price, 2),
            "profit_percentage": round(100 * (bid - self.buy_price) / self.buy_price, 2),
            "purchase_time": self.purchase_time,
            "shortcode": self.shortcode(),
            "status": self.status,
            "tick_count": self.tick_count,
            "transaction_ids": {"buy": self.buy_transaction},
            "underlying": self.symbol,
        }
        if self.expiry_epoch is not None:
            body["date_expiry"] = self.expiry_epoch
        if self.multiplier is not None:
            body["multiplier"] = self.multiplier
            body["commission"] = self.commission
        if not self.is_open:
            body["sell_price"] = self.sell_price
            body["sell_time"] = self.sell_time
            body["exit_tick"] = self.exit
            body["exit_tick_time"] = self.sell_time
            if self.sell_transaction is not None:
                body["transaction_ids"]["sell"] = self.sell_transaction
        if sub_id is not None:
            body["id"] = sub_id
        return body

    def shortcode(self) -> str:
        p = self.params
        duration = f"{p.duration or 0}{(p.duration_unit or 's').upper()}"
        return f"{p.contract_type}_{p.symbol}_{self.payout:g}_{self.purchase_time}_{duration}_S0P_0"


class _Account:
    def __init__(self, loginid: str, currency: str) -> None:
        self.loginid = loginid
        self.currency = currency
        self.balance = StartingBalance
        self.open: dict[int, Contract] = {}
        self.closed: deque[Contract] = deque(maxlen=MAX_CLOSED)
        self.statement: deque[dict[str, Any]] = deque(maxlen=MAX_STATEMENT)


class Book:
    """Proposals, accounts and contracts (see the module docstring).

    Every change returns what happened as ``("balance" | "transaction" | "contract",
    account, payload)`` tuples for the venue to fan out.
    """

    def __init__(self, seed: int) -> None:
        self.accounts: dict[str, _Account] = {}
        self.proposals: dict[str, Priced] = {}
        self._next_contract = 200_000_000_000 + (seed % 1000) * 1_000_000
        self._next_transaction = 400_000_000_000 + (seed % 1000) * 1_000_000

    def account(self, loginid: str, currency: str = "USD") -> _Account:
        found = self.accounts.get(loginid)
        if found is None:
            found = self.accounts[loginid] = _Account(loginid, currency)
        return found

    # -- pricing --------------------------------------------------------------------------

    def price(self, proposal_id: str, p: Proposal, spot: float, spot_time: int) -> Priced:
        index = BY_SYMBOL.get(p.symbol)
        if index is None:
            raise Refusal("InvalidSymbol", f"Symbol {p.symbol} invalid.")
        if p.currency != "USD":
            raise Refusal("ContractBuyValidationError", "Invalid currency.", {"field": "currency"})
        amount = p.amount if p.amount is not None else 10.0
        if not 0.35 <= amount <= 50_000:
            raise Refusal(
                "ContractBuyValidationError",
                "Please enter a stake amount between 0.35 and 50000.",
                {"field": "amount"},
            )
        kind = p.contract_type
        if kind in ("CALL", "PUT"):
            if p.duration is None or p.duration_unit is None:
                raise Refusal(
                    "ContractBuyValidationError",
                    "Please specify the duration.",
                    {"field": "duration"},
                )
            if p.duration_unit == "t" and not 1 <= p.duration <= 10:
                raise Refusal(
                    "ContractBuyValidationError",
                    "Number of ticks must be between 1 and 10.",
                    {"field": "duration"},
                )
            if p.duration_unit == "s" and p.duration < 15:
                raise Refusal(
                    "ContractBuyValidationError",
                    "Trading is not offered for this duration.",
                    {"field": "duration"},
                )
            if p.basis == "payout":
                payout, ask = round(amount, 2), round(amount * _WIN_PRICE, 2)
            else:
                ask, payout = round(amount, 2), round(amount / _WIN_PRICE, 2)
            return Priced(
                id=proposal_id,
                params=p,
                ask_price=ask,
                payout=payout,
                spot=spot,
                spot_time=spot_time,
            )
        if kind in ("MULTUP", "MULTDOWN"):
            if p.multiplier not in MULTIPLIERS:
                raise Refusal(
                    "ContractBuyValidationError",
                    "Multiplier is not in acceptable range. Accepts 10,20,30,50,100.",
                    {"field": "multiplier", "choices": list(MULTIPLIERS)},
                )
            if p.basis not in (None, "stake"):
                raise Refusal(
                    "ContractBuyValidationError", "Basis must be stake.", {"field": "basis"}
                )
            commission = round(0.0005 * p.multiplier * amount, 2)
            return Priced(
                id=proposal_id,
                params=p,
                ask_price=round(amount, 2),
                payout=0.0,
                spot=spot,
                spot_time=spot_time,
                multiplier=p.multiplier,
                commission=commission,
            )
        raise Refusal("OfferingsValidationError", "Trading is not offered for this asset.")

    def remember(self, priced: Priced) -> None:
        while len(self.proposals) >= MAX_PROPOSALS:
            del self.proposals[next(iter(self.proposals))]
        self.proposals[priced.id] = priced

    # -- buy and sell -----------------------------------------------------------------------

    def buy(
        self, loginid: str, priced: Priced, price: float, spot: float, epoch: int
    ) -> tuple[Contract, dict[str, Any]]:
        """Buy ``priced`` at most at ``price``; the proposal is consumed."""
        account = self.account(loginid)
        if priced.ask_price > price + 1e-9:
            raise Refusal(
                "PriceMoved",
                "The underlying market has moved too much since you priced the contract. "
                f"The contract price has changed from {price:.2f} USD to "
                f"{priced.ask_price:.2f} USD.",
            )
        if account.balance < priced.ask_price:
            raise Refusal(
                "InsufficientBalance", "Your account balance is insufficient for this transaction."
            )
        self.proposals.pop(priced.id, None)
        p = priced.params
        index = BY_SYMBOL[p.symbol]
        self._next_contract += 1
        self._next_transaction += 1
        account.balance = round(account.balance - priced.ask_price, 2)
        ticks_left = p.duration if p.duration_unit == "t" and priced.multiplier is None else None
        expiry = None
        if priced.multiplier is None and p.duration_unit != "t":
            expiry = epoch + (p.duration or 0) * _SECONDS.get(p.duration_unit or "s", 1)
        contract = Contract(
            contract_id=self._next_contract,
            account=loginid,
            params=p,
            buy_price=priced.ask_price,
            payout=priced.payout,
            purchase_time=epoch,
            entry=spot,
            entry_time=epoch,
            buy_transaction=self._next_transaction,
            expiry_epoch=expiry,
            ticks_left=ticks_left,
            multiplier=priced.multiplier,
            commission=priced.commission or 0.0,
            spot=spot,
            spot_time=epoch,
        )
        account.open[contract.contract_id] = contract
        self._line(
            account,
            "buy",
            -priced.ask_price,
            contract,
            epoch,
            transaction_id=self._next_transaction,
        )
        result = {
            "balance_after": account.balance,
            "buy_price": priced.ask_price,
            "contract_id": contract.contract_id,
            "longcode": _longcode(p, index),
            "payout": priced.payout,
            "purchase_time": epoch,
            "shortcode": contract.shortcode(),
            "start_time": epoch,
            "transaction_id": contract.buy_transaction,
        }
        return contract, result

    def sell(self, loginid: str, contract_id: int, price: float, epoch: int) -> dict[str, Any]:
        account = self.account(loginid)
        contract = account.open.get(contract_id)
        if contract is None:
            raise Refusal(
                "InvalidSellContractProposal",
                "This contract was not found among your open positions.",
            )
        bid = contract.bid()
        if price > 0 and bid + 1e-9 < price:
            raise Refusal(
                "InvalidSellContractProposal",
                f"The contract price has changed to {bid:.2f} USD, "
                f"below your minimum of {price:.2f} USD.",
            )
        self._close(account, contract, "sold", bid, epoch)
        assert contract.sell_transaction is not None
        return {
            "balance_after": account.balance,
            "contract_id": contract_id,
            "reference_id": contract.buy_transaction,
            "sold_for": bid,
            "transaction_id": contract.sell_transaction,
        }

    def _close(
        self, account: _Account, contract: Contract, status: str, amount: float, epoch: int
    ) -> None:
        contract.status = status
        contract.sell_price = amount
        contract.sell_time = epoch
        contract.exit = contract.spot
        self._next_transaction += 1
        contract.sell_transaction = self._next_transaction
        account.balance = round(account.balance + amount, 2)
        account.open.pop(contract.contract_id, None)
        account.closed.append(contract)
        self._line(account, "sell", amount, contract, epoch, transaction_id=self._next_transaction)

    def _line(
        self,
        account: _Account,
        action: str,
        amount: float,
        contract: Contract,
        epoch: int,
        *,
        transaction_id: int,
    ) -> None:
        account.statement.append(
            {
                "action_type": action,
                "amount": round(amount, 2),
                "balance_after": account.balance,
                "contract_id": contract.contract_id,
                "longcode": _longcode(contract.params, BY_SYMBOL[contract.symbol]),
                "payout": contract.payout,
                "purchase_time": contract.purchase_time,
                "reference_id": contract.buy_transaction,
                "shortcode": contract.shortcode(),
                "transaction_id": transaction_id,
                "transaction_time": epoch,
            }
        )

    # -- ticks ------------------------------------------------------------------------------

    def on_tick(self, symbol: str, quote: float, epoch: int) -> list[Contract]:
        """A tick of ``symbol``: open contracts on it move (and may settle); returns the
        contracts that changed, settled ones included."""
        changed: list[Contract] = []
        for account in self.accounts.values():
            for contract in list(account.open.values()):
                if contract.symbol != symbol or epoch <= contract.entry_time:
                    continue
                contract.spot, contract.spot_time = quote, epoch
                contract.tick_count += 1
                changed.append(contract)
                if contract.multiplier is not None:
                    profit = contract.bid() - contract.buy_price
                    limits = contract.params.limit_order or {}
                    take, stop = limits.get("take_profit"), limits.get("stop_loss")
                    if contract.bid() <= 0:
                        self._close(account, contract, "lost", 0.0, epoch)
                    elif take is not None and profit >= take:
                        self._close(account, contract, "won", contract.bid(), epoch)
                    elif stop is not None and profit <= -stop:
                        self._close(account, contract, "lost", contract.bid(), epoch)
                    continue
                if contract.ticks_left is not None:
                    contract.ticks_left -= 1
                    due = contract.ticks_left <= 0
                else:
                    due = contract.expiry_epoch is not None and epoch >= contract.expiry_epoch
                if due:
                    up = quote > contract.entry
                    down = quote < contract.entry
                    won = up if contract.params.contract_type == "CALL" else down
                    self._close(
                        account,
                        contract,
                        "won" if won else "lost",
                        contract.payout if won else 0.0,
                        epoch,
                    )
        return changed

    # -- reports ----------------------------------------------------------------------------

    def portfolio(self, loginid: str) -> dict[str, Any]:
        account = self.account(loginid)
        contracts = [
            {
                "app_id": 1089,
                "buy_price": c.buy_price,
                "contract_id": c.contract_id,
                "contract_type": c.params.contract_type,
                "currency": c.params.currency,
                "date_start": c.purchase_time,
                "expiry_time": c.expiry_epoch or c.purchase_time,
                "longcode": _longcode(c.params, BY_SYMBOL[c.symbol]),
                "payout": c.payout,
                "purchase_time": c.purchase_time,
                "shortcode": c.shortcode(),
                "symbol": c.symbol,
                "transaction_id": c.buy_transaction,
            }
            for c in account.open.values()
        ]
        return {"contracts": contracts}

    def statement(self, loginid: str, limit: int, offset: int) -> dict[str, Any]:
        lines = list(reversed(self.account(loginid).statement))[offset : offset + limit]
        return {"count": len(lines), "transactions": lines}

    def profit_table(
        self, loginid: str, limit: int, offset: int, ascending: bool
    ) -> dict[str, Any]:
        closed = list(self.account(loginid).closed)
        if not ascending:
            closed.reverse()
        rows = [
            {
                "app_id": 1089,
                "buy_price": c.buy_price,
                "contract_id": c.contract_id,
                "contract_type": c.params.contract_type,
                "longcode": _longcode(c.params, BY_SYMBOL[c.symbol]),
                "payout": c.payout,
                "purchase_time": c.purchase_time,
                "sell_price": c.sell_price or 0.0,
                "sell_time": c.sell_time or c.purchase_time,
                "shortcode": c.shortcode(),
                "transaction_id": c.buy_transaction,
            }
            for c in closed[offset : offset + limit]
        ]
        return {"count": len(rows), "transactions": rows}

    def contract(self, loginid: str, contract_id: int) -> Contract | None:
        account = self.account(loginid)
        found = account.open.get(contract_id)
        if found is not None:
            return found
        for closed in account.closed:
            if closed.contract_id == contract_id:
                return closed
        return None
