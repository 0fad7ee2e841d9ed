"""Typed Deribit commands for trading and the account (spec 5).

All need auth.  ``buy``, ``sell``, ``edit*`` and ``cancel*`` are matching-engine methods
with their own rate limit (spec 7.3).  The ``cancel_all*`` methods answer a count, or a
list of :class:`CancelReport` with ``detailed=True``; their ``result_type`` decodes both.

Validation is what the venue itself refuses (spec 5.1 and the method reference): enums,
positive sizes, label lengths, ``price`` for limit types, ``trigger``/``trigger_price``
for stop and take orders, ``trigger_offset`` for trailing stops, and
``reject_post_only`` only with ``post_only``.  Whether ``amount`` and ``contracts`` agree
when both are given depends on the instrument's contract size, which only the venue
knows, so that check is left to it.
"""

from __future__ import annotations

from typing import Any

from ._channels import KINDS, USER_KINDS
from ._commands import (
    DeribitCommand,
    require,
    require_bool,
    require_choice,
    require_currency,
    require_int,
    require_number,
    require_text,
)
from ._limits import MAX_LABEL_LENGTH, RateClass
from ._models_account import AccountSummary, CancelReport, Order, OrderResult, Position
from ._models_session import CancelOnDisconnectState

__all__ = [
    "ADVANCED",
    "CANCEL_TYPES",
    "COD_SCOPES",
    "LINKED_ORDER_TYPES",
    "OPEN_ORDER_TYPES",
    "ORDER_TYPES",
    "TIME_IN_FORCE",
    "TRIGGERS",
    "TRIGGER_FILL_CONDITIONS",
    "Buy",
    "Cancel",
    "CancelAll",
    "CancelAllByCurrency",
    "CancelAllByInstrument",
    "CancelAllByKindOrType",
    "CancelByLabel",
    "DisableCancelOnDisconnect",
    "Edit",
    "EditByLabel",
    "EnableCancelOnDisconnect",
    "GetAccountSummary",
    "GetCancelOnDisconnect",
    "GetOpenOrders",
    "GetOpenOrdersByCurrency",
    "GetOpenOrdersByInstrument",
    "GetOpenOrdersByLabel",
    "GetOrderState",
    "GetPosition",
    "GetPositions",
    "PlaceOrder",
    "Sell",
]

ORDER_TYPES = (
    "limit",
    "market",
    "stop_limit",
    "stop_market",
    "take_limit",
    "take_market",
    "market_limit",
    "trailing_stop",
)
TIME_IN_FORCE = ("good_til_cancelled", "good_til_day", "fill_or_kill", "immediate_or_cancel")
TRIGGERS = ("index_price", "mark_price", "last_price")
ADVANCED = ("usd", "implv")
LINKED_ORDER_TYPES = ("one_triggers_other", "one_cancels_other", "one_triggers_one_cancels_other")
TRIGGER_FILL_CONDITIONS = ("first_hit", "complete_fill", "incremental")
CANCEL_TYPES = ("all", "limit", "trigger_all", "stop", "take", "trailing_stop")
OPEN_ORDER_TYPES = (
    "all",
    "limit",
    "trigger_all",
    "stop_all",
    "stop_limit",
    "stop_market",
    "take_all",
    "take_limit",
    "take_market",
    "trailing_all",
    "trailing_stop",
)
COD_SCOPES = ("connection", "account")

_PRICED = ("limit", "stop_limit", "take_limit")
_TRIGGERED = ("stop_limit", "stop_market", "take_limit", "take_market", "trailing_stop")

CancelCount = int | list[CancelReport]


class _Private(DeribitCommand, frozen=True, kw_only=True):
    requires_auth = True


class _Matching(_Private, frozen=True, kw_only=True):
    rate_class = RateClass.MATCHING_ENGINE


def _size(amount: Any, contracts: Any) -> None:
    require(
        amount is not None or contracts is not None,
        "amount",
        "a size: amount or contracts (or both, agreeing)",
    )
    require_number(amount, "amount", positive=True)
    require_number(contracts, "contracts", positive=True)


# -- placing and editing (spec 5.1, 5.2) ----------------------------------------------


class PlaceOrder(_Matching, frozen=True, kw_only=True):
    """The params shared by :class:`Buy` and :class:`Sell` (spec 5.1)."""

    result_type = OrderResult

    instrument_name: str
    amount: float | None = None
    contracts: float | None = None
    type: str | None = None
    price: float | None = None
    label: str | None = None
    time_in_force: str | None = None
    max_show: float | None = None
    post_only: bool | None = None
    reject_post_only: bool | None = None
    reduce_only: bool | None = None
    mmp: bool | None = None
    display_amount: float | None = None
    trigger: str | None = None
    trigger_price: float | None = None
    trigger_offset: float | None = None
    advanced: str | None = None
    valid_until: int | None = None
    linked_order_type: str | None = None
    trigger_fill_condition: str | None = None
    otoco_config: list[dict[str, Any]] | None = None

    def validate(self) -> None:
        require(type(self) is not PlaceOrder, "method", "Buy or Sell")
        require_text(self.instrument_name, "instrument_name")
        _size(self.amount, self.contracts)
        require_choice(self.type, "type", ORDER_TYPES)
        order_type = self.type or "limit"
        require_number(self.price, "price")
        require(
            self.price is not None or order_type not in _PRICED,
            "price",
            f"a price for order type {order_type!r}",
        )
        require_text(self.label, "label", max_length=MAX_LABEL_LENGTH)
        require_choice(self.time_in_force, "time_in_force", TIME_IN_FORCE)
        require_number(self.max_show, "max_show")
        for flag in ("post_only", "reject_post_only", "reduce_only", "mmp"):
            require_bool(getattr(self, flag), flag)
        require(
            not self.post_only or self.time_in_force in (None, "good_til_cancelled"),
            "post_only",
            "time_in_force 'good_til_cancelled' with post_only",
        )
        require(
            not self.reject_post_only or bool(self.post_only),
            "reject_post_only",
            "post_only=True with reject_post_only",
        )
        require_number(self.display_amount, "display_amount", positive=True)
        require_choice(self.trigger, "trigger", TRIGGERS)
        require(
            self.trigger is not None or order_type not in _TRIGGERED,
            "trigger",
            f"a trigger for order type {order_type!r}; accepted values: "
            + ", ".join(map(repr, TRIGGERS)),
        )
        require_number(self.trigger_price, "trigger_price")
        require(
            self.trigger_price is not None
            or order_type not in _TRIGGERED
            or order_type == "trailing_stop",
            "trigger_price",
            f"a trigger_price for order type {order_type!r}",
        )
        require_number(self.trigger_offset, "trigger_offset")
        require(
            self.trigger_offset is not None or order_type != "trailing_stop",
            "trigger_offset",
            "a trigger_offset for order type 'trailing_stop'",
        )
        require_choice(self.advanced, "advanced", ADVANCED)
        require_int(self.valid_until, "valid_until", minimum=0)
        require_choice(self.linked_order_type, "linked_order_type", LINKED_ORDER_TYPES)
        require_choice(
            self.trigger_fill_condition, "trigger_fill_condition", TRIGGER_FILL_CONDITIONS
        )
        require(
            self.otoco_config is None
            or (
                isinstance(self.otoco_config, list)
                and all(isinstance(o, dict) for o in self.otoco_config)
            ),
            "otoco_config",
            "a list of order objects",
        )


class Buy(PlaceOrder, frozen=True, kw_only=True):
    """``private/buy``."""

    method = "private/buy"


class Sell(PlaceOrder, frozen=True, kw_only=True):
    """``private/sell``."""

    method = "private/sell"


class _EditFields(_Matching, frozen=True, kw_only=True):
    result_type = OrderResult

    amount: float | None = None
    contracts: float | None = None
    price: float | None = None
    post_only: bool | None = None
    reduce_only: bool | None = None
    reject_post_only: bool | None = None
    advanced: str | None = None
    trigger_price: float | None = None
    trigger_offset: float | None = None
    mmp: bool | None = None
    valid_until: int | None = None
    display_amount: float | None = None

    def validate(self) -> None:
        _size(self.amount, self.contracts)
        require_number(self.price, "price")
        for flag in ("post_only", "reduce_only", "reject_post_only", "mmp"):
            require_bool(getattr(self, flag), flag)
        require(
            not self.reject_post_only or bool(self.post_only),
            "reject_post_only",
            "post_only=True with reject_post_only",
        )
        require_choice(self.advanced, "advanced", ADVANCED)
        require_number(self.trigger_price, "trigger_price")
        require_number(self.trigger_offset, "trigger_offset")
        require_int(self.valid_until, "valid_until", minimum=0)
        require_number(self.display_amount, "display_amount", positive=True)


class Edit(_EditFields, frozen=True, kw_only=True):
    """``private/edit``: the result's ``order.replaced`` is true (spec 5.2)."""

    method = "private/edit"

    order_id: str

    def validate(self) -> None:
        require_text(self.order_id, "order_id")
        super().validate()


class EditByLabel(_EditFields, frozen=True, kw_only=True):
    """``private/edit_by_label``: the order is named by ``label`` and ``instrument_name``."""

    method = "private/edit_by_label"

    label: str
    instrument_name: str

    def validate(self) -> None:
        require_text(self.label, "label", max_length=MAX_LABEL_LENGTH)
        require_text(self.instrument_name, "instrument_name")
        super().validate()


# -- cancels (spec 5.3) ---------------------------------------------------------------


class Cancel(_Matching, frozen=True, kw_only=True):
    """``private/cancel``: the result is the cancelled order."""

    method = "private/cancel"
    result_type = Order

    order_id: str

    def validate(self) -> None:
        require_text(self.order_id, "order_id")


class _CancelMany(_Matching, frozen=True, kw_only=True):
    """The ``cancel_all*`` methods; each declares ``detailed`` and ``freeze_quotes`` last,
    so the params that say *what* to cancel come first on the wire."""

    result_type = CancelCount

    def validate(self) -> None:
        require_bool(getattr(self, "detailed", None), "detailed")
        require_bool(getattr(self, "freeze_quotes", None), "freeze_quotes")


class CancelAll(_CancelMany, frozen=True, kw_only=True):
    method = "private/cancel_all"

    detailed: bool | None = None
    freeze_quotes: bool | None = None


class CancelAllByCurrency(_CancelMany, frozen=True, kw_only=True):
    method = "private/cancel_all_by_currency"

    currency: str
    kind: str | None = None
    type: str | None = None
    detailed: bool | None = None
    freeze_quotes: bool | None = None

    def validate(self) -> None:
        require_currency(self.currency)
        require_choice(self.kind, "kind", USER_KINDS)
        require_choice(self.type, "type", CANCEL_TYPES)
        super().validate()


class CancelAllByInstrument(_CancelMany, frozen=True, kw_only=True):
    method = "private/cancel_all_by_instrument"

    instrument_name: str
    type: str | None = None
    include_combos: bool | None = None
    detailed: bool | None = None
    freeze_quotes: bool | None = None

    def validate(self) -> None:
        require_text(self.instrument_name, "instrument_name")
        require_choice(self.type, "type", CANCEL_TYPES)
        require_bool(self.include_combos, "include_combos")
        super().validate()


class CancelAllByKindOrType(_CancelMany, frozen=True, kw_only=True):
    """``private/cancel_all_by_kind_or_type``: ``currency`` is a code, a list, or ``any``."""

    method = "private/cancel_all_by_kind_or_type"

    currency: str | list[str]
    kind: str | None = None
    type: str | None = None
    detailed: bool | None = None
    freeze_quotes: bool | None = None

    def validate(self) -> None:
        if isinstance(self.currency, list):
            require(bool(self.currency), "currency", "a currency code or a non-empty list")
            for code in self.currency:
                require_currency(code)
        else:
            require_currency(self.currency, allow_any=True)
        require_choice(self.kind, "kind", USER_KINDS)
        require_choice(self.type, "type", CANCEL_TYPES)
        super().validate()


class CancelByLabel(_Matching, frozen=True, kw_only=True):
    method = "private/cancel_by_label"
    result_type = int

    label: str
    currency: str | None = None

    def validate(self) -> None:
        require_text(self.label, "label", max_length=MAX_LABEL_LENGTH)
        require_currency(self.currency)


# -- queries (spec 5.4) ---------------------------------------------------------------


class GetOpenOrders(_Private, frozen=True, kw_only=True):
    method = "private/get_open_orders"
    result_type = list[Order]

    kind: str | None = None
    type: str | None = None

    def validate(self) -> None:
        require_choice(self.kind, "kind", KINDS)
        require_choice(self.type, "type", OPEN_ORDER_TYPES)


class GetOpenOrdersByCurrency(_Private, frozen=True, kw_only=True):
    method = "private/get_open_orders_by_currency"
    result_type = list[Order]

    currency: str
    kind: str | None = None
    type: str | None = None

    def validate(self) -> None:
        require_currency(self.currency, allow_any=True)
        require_choice(self.kind, "kind", KINDS)
        require_choice(self.type, "type", OPEN_ORDER_TYPES)


class GetOpenOrdersByInstrument(_Private, frozen=True, kw_only=True):
    method = "private/get_open_orders_by_instrument"
    result_type = list[Order]

    instrument_name: str
    type: str | None = None

    def validate(self) -> None:
        require_text(self.instrument_name, "instrument_name")
        require_choice(self.type, "type", OPEN_ORDER_TYPES)


class GetOpenOrdersByLabel(_Private, frozen=True, kw_only=True):
    method = "private/get_open_orders_by_label"
    result_type = list[Order]

    currency: str
    label: str | None = None

    def validate(self) -> None:
        require_currency(self.currency)
        require_text(self.label, "label", max_length=MAX_LABEL_LENGTH)


class GetOrderState(_Private, frozen=True, kw_only=True):
    method = "private/get_order_state"
    result_type = Order

    order_id: str

    def validate(self) -> None:
        require_text(self.order_id, "order_id")


class GetPositions(_Private, frozen=True, kw_only=True):
    method = "private/get_positions"
    result_type = list[Position]

    currency: str | None = None
    kind: str | None = None
    subaccount_id: int | None = None

    def validate(self) -> None:
        require_currency(self.currency, allow_any=True)
        require_choice(self.kind, "kind", KINDS)
        require_int(self.subaccount_id, "subaccount_id", minimum=0)


class GetPosition(_Private, frozen=True, kw_only=True):
    method = "private/get_position"
    result_type = Position

    instrument_name: str

    def validate(self) -> None:
        require_text(self.instrument_name, "instrument_name")


class GetAccountSummary(_Private, frozen=True, kw_only=True):
    method = "private/get_account_summary"
    result_type = AccountSummary

    currency: str
    subaccount_id: int | None = None
    extended: bool | None = None

    def validate(self) -> None:
        require_currency(self.currency)
        require_int(self.subaccount_id, "subaccount_id", minimum=0)
        require_bool(self.extended, "extended")


# -- cancel on disconnect (spec 5.5) -------------------------------------------------


class _CodCommand(_Private, frozen=True, kw_only=True):
    scope: str | None = None

    def validate(self) -> None:
        require_choice(self.scope, "scope", COD_SCOPES)


class EnableCancelOnDisconnect(_CodCommand, frozen=True, kw_only=True):
    method = "private/enable_cancel_on_disconnect"
    result_type = str


class DisableCancelOnDisconnect(_CodCommand, frozen=True, kw_only=True):
    method = "private/disable_cancel_on_disconnect"
    result_type = str


class GetCancelOnDisconnect(_CodCommand, frozen=True, kw_only=True):
    method = "private/get_cancel_on_disconnect"
    result_type = CancelOnDisconnectState
