"""Live orders (mutable, the engine's) and the ids the venue hands out.

A :class:`LiveOrder` is the engine's working copy; :meth:`LiveOrder.record` freezes it
into the :class:`Order` record the outside sees.  Amounts are integer lots, limit prices
integer ticks of the order's :class:`Contract`.

Ids (spec 3.5, 5.1): order ids and trade ids count up per currency (the instrument's
``currency``), and are prefixed with it except for BTC: ``"31225467"``,
``"ETH-584849853"``, ``"USDC-2436803"``.  ``trade_seq`` counts up per instrument.
"""

from __future__ import annotations

from ._catalog import Contract
from ._ladder import Resting
from ._records import Order

__all__ = ["FIRST_ORDER_NUMBER", "FIRST_TRADE_NUMBER", "IdCounters", "LiveOrder"]

FIRST_ORDER_NUMBER = 584_849_853
FIRST_TRADE_NUMBER = 2_696_083


class IdCounters:
    """Order ids and trade ids per currency, ``trade_seq`` per instrument."""

    def __init__(self) -> None:
        self._orders: dict[str, int] = {}
        self._trades: dict[str, int] = {}
        self._seqs: dict[str, int] = {}

    @staticmethod
    def _format(currency: str, number: int) -> str:
        return str(number) if currency == "BTC" else f"{currency}-{number}"

    def order_id(self, currency: str) -> str:
        number = self._orders.get(currency, FIRST_ORDER_NUMBER)
        self._orders[currency] = number + 1
        return self._format(currency, number)

    def trade_id(self, currency: str) -> str:
        number = self._trades.get(currency, FIRST_TRADE_NUMBER)
        self._trades[currency] = number + 1
        return self._format(currency, number)

    def trade_seq(self, instrument: str) -> int:
        seq = self._seqs.get(instrument, 0) + 1
        self._seqs[instrument] = seq
        return seq


class LiveOrder:
    """An order the engine is working on.

    ``account`` is ``None`` for the simulated taker.  ``units`` is the limit price in
    ticks (for a market order: the band limit it may trade up to).  ``value`` is the sum
    of ``price * lots`` over fills, for ``average_price``.
    """

    __slots__ = (
        "account",
        "cancel_reason",
        "contract",
        "created_ms",
        "direction",
        "expires_ms",
        "filled",
        "label",
        "lots",
        "order_id",
        "order_type",
        "post_only",
        "reduce_only",
        "reject_post_only",
        "replaced",
        "resting",
        "state",
        "time_in_force",
        "units",
        "updated_ms",
        "value",
    )

    def __init__(
        self,
        *,
        order_id: str,
        account: str | None,
        contract: Contract,
        direction: str,
        order_type: str,
        units: int,
        lots: int,
        time_in_force: str,
        label: str,
        post_only: bool,
        reject_post_only: bool,
        reduce_only: bool,
        now_ms: int,
        expires_ms: int | None,
    ) -> None:
        self.order_id = order_id
        self.account = account
        self.contract = contract
        self.direction = direction
        self.order_type = order_type
        self.units = units
        self.lots = lots
        self.filled = 0
        self.value = 0.0
        self.time_in_force = time_in_force
        self.label = label
        self.post_only = post_only
        self.reject_post_only = reject_post_only
        self.reduce_only = reduce_only
        self.replaced = False
        self.state = "open"
        self.cancel_reason: str | None = None
        self.created_ms = now_ms
        self.updated_ms = now_ms
        self.expires_ms = expires_ms
        self.resting: Resting | None = None

    def __repr__(self) -> str:
        return f"LiveOrder({self.order_id!r}, {self.direction}, {self.filled}/{self.lots})"

    @property
    def remaining(self) -> int:
        return self.lots - self.filled

    @property
    def is_buy(self) -> bool:
        return self.direction == "buy"

    def fill(self, lots: int, price: float) -> None:
        self.filled += lots
        self.value += price * lots
        if self.filled >= self.lots:
            self.state = "filled"

    def record(self) -> Order:
        c = self.contract
        average = round(self.value / self.filled, c.price_places + 4) if self.filled else 0.0
        return Order(
            account=self.account or "",
            order_id=self.order_id,
            instrument_name=c.name,
            direction=self.direction,
            amount=c.amount(self.lots),
            filled_amount=c.amount(self.filled),
            average_price=average,
            price=c.price(self.units),
            order_type=self.order_type,
            order_state=self.state,
            time_in_force=self.time_in_force,
            label=self.label,
            post_only=self.post_only,
            reject_post_only=self.reject_post_only,
            reduce_only=self.reduce_only,
            replaced=self.replaced,
            api=True,
            web=False,
            creation_timestamp=self.created_ms,
            last_update_timestamp=self.updated_ms,
            max_show=c.amount(self.lots),
            contracts=c.contracts(self.lots),
            is_liquidation=False,
            is_rebalance=False,
            risk_reducing=False,
            mmp=False,
            cancel_reason=self.cancel_reason,
        )
