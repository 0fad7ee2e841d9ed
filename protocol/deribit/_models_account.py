"""Wire models for trading and account data: orders, user trades, positions (spec 5).

Conventions are in ``_models_session``.  The required fields of :class:`Order` are the
"core ones" of spec 5.1; everything the spec lists as optional defaults to ``None``.
"""

from __future__ import annotations

from typing import Any

from ._models_market import PublicTrade
from ._models_session import RpcError, WireModel

__all__ = [
    "AccountSummary",
    "CancelReport",
    "Order",
    "OrderResult",
    "Position",
    "UserChanges",
    "UserTrade",
]


class Order(WireModel, frozen=True, kw_only=True):
    """An order object (spec 5.1).

    ``price`` is a number, or the string ``"market_price"`` for an untriggered
    trigger-market order.  ``average_price`` is ``0`` while nothing is filled.
    """

    order_id: str
    instrument_name: str
    direction: str
    amount: float
    filled_amount: float
    average_price: float
    price: float | str
    order_type: str
    order_state: str
    time_in_force: str
    label: str
    post_only: bool
    reduce_only: bool
    replaced: bool
    api: bool
    web: bool
    creation_timestamp: int
    last_update_timestamp: int
    max_show: float | None = None
    is_liquidation: bool | None = None
    is_rebalance: bool | None = None
    contracts: float | None = None
    original_order_type: str | None = None
    triggered: bool | None = None
    trigger: str | None = None
    trigger_price: float | None = None
    trigger_offset: float | None = None
    trigger_order_id: str | None = None
    trigger_reference_price: float | None = None
    cancel_reason: str | None = None
    implv: float | None = None
    usd: float | None = None
    advanced: str | None = None
    display_amount: float | None = None
    refresh_amount: float | None = None
    mmp: bool | None = None
    mmp_cancelled: bool | None = None
    risk_reducing: bool | None = None
    reject_post_only: bool | None = None
    oto_order_ids: list[str] | None = None
    oco_ref: str | None = None
    is_secondary_oto: bool | None = None
    app_name: str | None = None
    profit_loss: float | None = None


class UserTrade(PublicTrade, frozen=True, kw_only=True):
    """A trade of the account (``user.trades.*``, ``trades`` of ``private/buy``; spec 3.5).

    ``liquidity`` is ``"M"`` (maker) or ``"T"`` (taker).
    """

    order_id: str
    order_type: str
    state: str
    fee: float
    fee_currency: str
    liquidity: str
    post_only: bool | None = None
    reduce_only: bool | None = None
    label: str | None = None
    profit_loss: float | None = None
    matching_id: str | None = None
    advanced: str | None = None
    api: bool | None = None
    mmp: bool | None = None
    risk_reducing: bool | None = None


class OrderResult(WireModel, frozen=True, kw_only=True):
    """Result of ``private/buy``, ``sell``, ``edit`` and ``edit_by_label`` (spec 5.1)."""

    order: Order
    trades: list[UserTrade]


class CancelReport(WireModel, frozen=True, kw_only=True):
    """One execution report of a ``detailed`` cancel (spec 5.3).

    A positive report has ``result`` (the cancelled orders); a failed one has ``error``.
    ``instrument_name`` is set only when the report is tied to one instrument.
    """

    currency: str
    type: str
    instrument_name: str | None = None
    result: list[Order] | None = None
    error: RpcError | None = None


class Position(WireModel, frozen=True, kw_only=True):
    """A position (``private/get_positions``, ``private/get_position``; spec 5.4).

    ``direction`` is ``buy``, ``sell`` or ``zero``.
    """

    instrument_name: str
    kind: str
    direction: str
    size: float
    average_price: float
    mark_price: float
    index_price: float
    floating_profit_loss: float
    total_profit_loss: float
    initial_margin: float
    maintenance_margin: float
    delta: float
    size_currency: float | None = None
    settlement_price: float | None = None
    realized_profit_loss: float | None = None
    realized_funding: float | None = None
    open_orders_margin: float | None = None
    leverage: float | None = None
    estimated_liquidation_price: float | None = None
    interest_value: float | None = None
    average_price_usd: float | None = None
    floating_profit_loss_usd: float | None = None
    gamma: float | None = None
    vega: float | None = None
    theta: float | None = None


class AccountSummary(WireModel, frozen=True, kw_only=True):
    """Result of ``private/get_account_summary`` and ``user.portfolio.*`` data (spec 5.4).

    The ``*_map`` fields map index names to values; ``limits`` and ``fees`` come only
    with ``extended: true`` and stay plain JSON (their shape is venue-defined, 7.3).
    """

    currency: str
    balance: float
    equity: float
    available_funds: float
    margin_balance: float
    initial_margin: float
    maintenance_margin: float
    available_withdrawal_funds: float | None = None
    projected_initial_margin: float | None = None
    projected_maintenance_margin: float | None = None
    session_upl: float | None = None
    session_rpl: float | None = None
    total_pl: float | None = None
    futures_pl: float | None = None
    futures_session_upl: float | None = None
    futures_session_rpl: float | None = None
    options_pl: float | None = None
    options_session_upl: float | None = None
    options_session_rpl: float | None = None
    options_value: float | None = None
    delta_total: float | None = None
    delta_total_map: dict[str, float] | None = None
    projected_delta_total: float | None = None
    options_delta: float | None = None
    options_gamma: float | None = None
    options_vega: float | None = None
    options_theta: float | None = None
    options_gamma_map: dict[str, float] | None = None
    options_vega_map: dict[str, float] | None = None
    options_theta_map: dict[str, float] | None = None
    estimated_liquidation_ratio: float | None = None
    estimated_liquidation_ratio_map: dict[str, float] | None = None
    margin_model: str | None = None
    portfolio_margining_enabled: bool | None = None
    cross_collateral_enabled: bool | None = None
    fee_balance: float | None = None
    spot_reserve: float | None = None
    additional_reserve: float | None = None
    total_equity_usd: float | None = None
    total_margin_balance_usd: float | None = None
    total_initial_margin_usd: float | None = None
    total_maintenance_margin_usd: float | None = None
    total_delta_total_usd: float | None = None
    id: int | None = None
    username: str | None = None
    email: str | None = None
    system_name: str | None = None
    type: str | None = None
    creation_timestamp: int | None = None
    limits: dict[str, Any] | None = None
    fees: list[dict[str, Any]] | None = None


class UserChanges(WireModel, frozen=True, kw_only=True):
    """``user.changes.*`` data: what one event changed for the account (spec 3.2)."""

    instrument_name: str
    orders: list[Order]
    positions: list[Position]
    trades: list[UserTrade]
