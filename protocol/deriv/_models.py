"""Deriv wire models: the payloads of the calls tradewire types (spec 3-5), as msgspec Structs.

Legacy v3 field names throughout (spec 7.1 item 12); the New API's renames are read as
optional fields where a payload may carry either (``underlying_symbol``, ``pip_size`` in
``active_symbols``).  Unknown fields are ignored, every field a payload may leave out
has a default, and numbers Deriv prints as strings (``ohlc`` prices, ``spot_time`` in
``active_symbols full``) are typed ``str | float``.  A session token decodes as a
:class:`~tradewire.protocol.Secret` (:func:`dec_hook`), so it never shows in a ``repr``.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._secrets import Secret

__all__ = [
    "Account",
    "ActiveSymbol",
    "ApiError",
    "AuthorizeResult",
    "BalanceResult",
    "BuyResult",
    "Candle",
    "ContractOffer",
    "ContractsForResult",
    "History",
    "Ohlc",
    "OpenContract",
    "PortfolioContract",
    "PortfolioResult",
    "ProfitTableEntry",
    "ProfitTableResult",
    "ProposalResult",
    "SellResult",
    "SessionToken",
    "StatementEntry",
    "StatementResult",
    "Subscription",
    "Tick",
    "TransactionUpdate",
    "WebsiteStatusResult",
    "WireModel",
    "dec_hook",
]

Number = float


def dec_hook(type_: type, obj: Any) -> Any:
    """A msgspec ``dec_hook`` that decodes :class:`Secret` fields from JSON strings."""
    if type_ is Secret:
        return Secret(obj)
    raise NotImplementedError(f"cannot decode {type_!r}")


class WireModel(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, gc=False):
    """Base of the payload structs (frozen, keyword-only, defaults left out when encoded)."""


class Subscription(WireModel, frozen=True, kw_only=True):
    """``subscription``: the venue's id of the stream a message belongs to (spec 1.3)."""

    id: str


class ApiError(WireModel, frozen=True, kw_only=True):
    """``error``: ``code``, ``message`` and, when not empty, ``details`` (spec 1.4)."""

    code: str
    message: str = ""
    details: Any = None


class Tick(WireModel, frozen=True, kw_only=True):
    """One tick of ``ticks`` or of a tick-style ``ticks_history`` stream (spec 4.2)."""

    epoch: int
    quote: Number
    symbol: str
    ask: Number | None = None
    bid: Number | None = None
    id: str | None = None
    pip_size: int | None = None


class History(WireModel, frozen=True, kw_only=True):
    """``history`` of a tick-style ``ticks_history`` (spec 4.3)."""

    prices: list[Number] = msgspec.field(default_factory=list)
    times: list[int] = msgspec.field(default_factory=list)


class Candle(WireModel, frozen=True, kw_only=True):
    """One element of ``candles`` (numbers, spec 4.3)."""

    epoch: int
    open: Number
    high: Number
    low: Number
    close: Number


class Ohlc(WireModel, frozen=True, kw_only=True):
    """The open candle of a candle stream; prices are strings on the real server."""

    epoch: int
    open_time: int
    granularity: int
    symbol: str
    open: str | Number
    high: str | Number
    low: str | Number
    close: str | Number
    id: str | None = None
    pip_size: int | None = None


class ProposalResult(WireModel, frozen=True, kw_only=True):
    """``proposal`` (spec 5.2); ``id`` is the proposal id to buy (the stream id too)."""

    id: str
    ask_price: Number
    payout: Number
    spot: Number
    spot_time: int
    date_start: int
    longcode: str
    display_value: str = ""
    date_expiry: int | None = None
    multiplier: Number | None = None
    commission: Number | None = None
    limit_order: Any = None
    contract_details: Any = None
    validation_params: Any = None
    cancellation: Any = None


class BuyResult(WireModel, frozen=True, kw_only=True):
    """``buy`` (spec 5.3)."""

    balance_after: Number
    buy_price: Number
    contract_id: int
    longcode: str
    payout: Number
    purchase_time: int
    shortcode: str
    start_time: int
    transaction_id: int


class SellResult(WireModel, frozen=True, kw_only=True):
    """``sell`` (spec 5.4)."""

    balance_after: Number
    contract_id: int
    reference_id: int
    sold_for: Number
    transaction_id: int


class OpenContract(WireModel, frozen=True, kw_only=True):
    """``proposal_open_contract`` (spec 5.5); empty (every field ``None``) when an
    all-contracts stream starts with no open contract."""

    contract_id: int | None = None
    contract_type: str | None = None
    underlying: str | None = None
    display_name: str | None = None
    currency: str | None = None
    buy_price: Number | None = None
    bid_price: Number | None = None
    payout: Number | None = None
    profit: Number | None = None
    profit_percentage: Number | None = None
    is_sold: int | None = None
    is_expired: int | None = None
    is_settleable: int | None = None
    is_valid_to_sell: int | None = None
    status: str | None = None
    current_spot: Number | None = None
    current_spot_time: int | None = None
    entry_spot: Number | None = None
    entry_tick: Number | None = None
    entry_tick_time: int | None = None
    exit_tick: Number | None = None
    exit_tick_time: int | None = None
    sell_price: Number | None = None
    sell_time: int | None = None
    date_start: int | None = None
    date_expiry: int | None = None
    purchase_time: int | None = None
    barrier: str | Number | None = None
    longcode: str | None = None
    shortcode: str | None = None
    multiplier: Number | None = None
    limit_order: Any = None
    transaction_ids: dict[str, int] | None = None
    tick_count: int | None = None
    validation_error: str | None = None
    validation_error_code: str | None = None
    id: str | None = None


class PortfolioContract(WireModel, frozen=True, kw_only=True):
    """One open contract of ``portfolio`` (spec 5.7)."""

    contract_id: int
    transaction_id: int
    contract_type: str
    buy_price: Number
    payout: Number
    purchase_time: int
    symbol: str | None = None
    underlying_symbol: str | None = None
    currency: str | None = None
    date_start: int | None = None
    expiry_time: int | None = None
    longcode: str | None = None
    shortcode: str | None = None
    app_id: int | None = None


class PortfolioResult(WireModel, frozen=True, kw_only=True):
    contracts: list[PortfolioContract] = msgspec.field(default_factory=list)


class ProfitTableEntry(WireModel, frozen=True, kw_only=True):
    transaction_id: int
    contract_id: int
    buy_price: Number
    sell_price: Number
    payout: Number
    purchase_time: int
    sell_time: int
    app_id: int | None = None
    longcode: str | None = None
    shortcode: str | None = None
    contract_type: str | None = None


class ProfitTableResult(WireModel, frozen=True, kw_only=True):
    count: int = 0
    transactions: list[ProfitTableEntry] = msgspec.field(default_factory=list)


class StatementEntry(WireModel, frozen=True, kw_only=True):
    transaction_id: int
    transaction_time: int
    action_type: str
    amount: Number
    balance_after: Number
    contract_id: int | None = None
    reference_id: int | None = None
    payout: Number | None = None
    purchase_time: int | None = None
    longcode: str | None = None
    shortcode: str | None = None


class StatementResult(WireModel, frozen=True, kw_only=True):
    count: int = 0
    transactions: list[StatementEntry] = msgspec.field(default_factory=list)


class BalanceResult(WireModel, frozen=True, kw_only=True):
    """``balance`` (spec 5.7): pushed again on every change while subscribed."""

    balance: Number
    currency: str
    loginid: str | None = None
    id: str | None = None


class TransactionUpdate(WireModel, frozen=True, kw_only=True):
    """One ``transaction`` message; the first one of a stream may hold only ``id``."""

    action: str | None = None
    amount: Number | None = None
    balance: Number | None = None
    contract_id: int | None = None
    currency: str | None = None
    date_expiry: int | None = None
    display_name: str | None = None
    longcode: str | None = None
    purchase_time: int | None = None
    symbol: str | None = None
    transaction_id: int | None = None
    transaction_time: int | None = None
    id: str | None = None


class Account(WireModel, frozen=True, kw_only=True):
    loginid: str
    currency: str = ""
    is_virtual: int = 0
    is_disabled: int = 0
    landing_company_name: str | None = None
    account_type: str | None = None


class AuthorizeResult(WireModel, frozen=True, kw_only=True):
    """``authorize`` (spec 3.2)."""

    loginid: str
    balance: Number
    currency: str
    is_virtual: int = 0
    email: str | None = None
    fullname: str | None = None
    country: str | None = None
    landing_company_name: str | None = None
    scopes: list[str] = msgspec.field(default_factory=list)
    user_id: int | None = None
    account_list: list[Account] = msgspec.field(default_factory=list)


class SessionToken(WireModel, frozen=True, kw_only=True):
    """``get_session_token`` (spec 3.3): ``expires`` is an RFC 3339 string."""

    token: Secret
    expires: str


class WebsiteStatusResult(WireModel, frozen=True, kw_only=True):
    site_status: str = "up"
    api_call_limits: Any = None
    currencies_config: Any = None
    supported_languages: list[str] | None = None
    terms_conditions_version: str | None = None
    id: str | None = None


class ActiveSymbol(WireModel, frozen=True, kw_only=True):
    """One ``active_symbols`` item; legacy names, New-API ones when the venue uses them."""

    symbol: str | None = None
    underlying_symbol: str | None = None
    display_name: str | None = None
    market: str | None = None
    submarket: str | None = None
    symbol_type: str | None = None
    pip: Number | None = None
    pip_size: Number | None = None
    exchange_is_open: int | None = None
    is_trading_suspended: int | None = None
    spot: Number | None = None
    spot_time: str | int | None = None

    @property
    def name(self) -> str | None:
        """The symbol under either name."""
        return self.symbol if self.symbol is not None else self.underlying_symbol


class ContractOffer(WireModel, frozen=True, kw_only=True):
    contract_type: str
    contract_category: str | None = None
    contract_display: str | None = None
    expiry_type: str | None = None
    min_contract_duration: str | None = None
    max_contract_duration: str | None = None
    barriers: int | None = None
    market: str | None = None
    submarket: str | None = None
    sentiment: str | None = None
    underlying_symbol: str | None = None
    multiplier_range: list[Number] | None = None


class ContractsForResult(WireModel, frozen=True, kw_only=True):
    available: list[ContractOffer] = msgspec.field(default_factory=list)
    hit_count: int = 0
    open: int | None = None
    close: int | None = None
    spot: Number | None = None
