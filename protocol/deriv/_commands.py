"""Typed Deriv commands (spec 3-5): one class per call, validated when constructed.

A command's fields are the call's request fields under their legacy names; the endpoint
key (``ping``, ``ticks``, ``proposal`` ...) is the class's :attr:`DerivCommand.call`,
sent with the value of the field of that name or ``1`` (spec 1.2).  ``True``/``False``
go out as ``1``/``0``.  A bad argument raises :class:`LocalProtocolError` naming it and
the accepted values.  :class:`GenericCommand` sends any other call as given.

Streams: :class:`Ticks`, :class:`TicksHistory`, :class:`Proposal`,
:class:`ProposalOpenContract`, :class:`Balance`, :class:`Transaction` and
:class:`WebsiteStatus` can be streams; send them inside
:class:`~tradewire.protocol.deriv.Subscribe` so the machine keeps them across
reconnects (their ``subscribe`` field is the machine's to set).  Without it they are
one-shot requests (``Ticks`` and ``Transaction`` exist only as streams on the legacy
API).

Each class says what answers it (``answer``: the message class; ``payload``: the
attribute of the message that is the typed result, ``None`` for the whole message),
whether it needs an authorized connection, and which published budget it draws on
(spec 6.2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

import msgspec

from .._events import Command, require, require_choice
from .._secrets import Secret
from ._inbound import (
    ActiveSymbolsMessage,
    AuthorizeMessage,
    BalanceMessage,
    BuyMessage,
    CandlesMessage,
    ContractsForMessage,
    DerivMessage,
    ForgetAllMessage,
    ForgetMessage,
    HistoryMessage,
    LogoutMessage,
    OpenContractMessage,
    PingMessage,
    PortfolioMessage,
    ProfitTableMessage,
    ProposalMessage,
    SellMessage,
    SessionTokenMessage,
    StatementMessage,
    TickMessage,
    TimeMessage,
    TransactionMessage,
    WebsiteStatusMessage,
)

__all__ = [
    "COMMANDS",
    "CONTRACT_TYPES",
    "FORGET_ALL_TYPES",
    "GRANULARITIES",
    "STREAM_COMMANDS",
    "ActiveSymbols",
    "Authorize",
    "Balance",
    "Buy",
    "ContractsFor",
    "DerivCommand",
    "Forget",
    "ForgetAll",
    "GenericCommand",
    "GetSessionToken",
    "Logout",
    "Ping",
    "Portfolio",
    "ProfitTable",
    "Proposal",
    "ProposalOpenContract",
    "RateGroup",
    "Sell",
    "Statement",
    "StreamCommand",
    "Ticks",
    "TicksHistory",
    "Time",
    "Transaction",
    "WebsiteStatus",
]


class RateGroup:
    """The published budgets (spec 6.2) a call draws on."""

    PRICING = "pricing"  # proposal, proposal_open_contract, buy, sell
    ACCOUNT = "account"  # balance, statement
    REPORTS = "reports"  # portfolio, profit_table
    GENERAL = "general"  # every other call
    PING = "ping"  # outside the budgets: 10 per second


CONTRACT_TYPES = [
    "ACCU",
    "ASIAND",
    "ASIANU",
    "CALL",
    "CALLE",
    "CALLSPREAD",
    "DIGITDIFF",
    "DIGITEVEN",
    "DIGITMATCH",
    "DIGITODD",
    "DIGITOVER",
    "DIGITUNDER",
    "EXPIRYMISS",
    "EXPIRYMISSE",
    "EXPIRYRANGE",
    "EXPIRYRANGEE",
    "LBFLOATCALL",
    "LBFLOATPUT",
    "LBHIGHLOW",
    "MULTDOWN",
    "MULTUP",
    "NOTOUCH",
    "ONETOUCH",
    "PUT",
    "PUTE",
    "PUTSPREAD",
    "RANGE",
    "RESETCALL",
    "RESETPUT",
    "RUNHIGH",
    "RUNLOW",
    "SNOWDOWN",
    "SNOWUP",
    "TICKHIGH",
    "TICKLOW",
    "TURBOSLONG",
    "TURBOSSHORT",
    "UPORDOWN",
    "VANILLALONGCALL",
    "VANILLALONGPUT",
    "HIGHER",
    "LOWER",
]
"""The legacy ``contract_type`` enum (spec 5.2), with the New API's ``HIGHER``/``LOWER``."""

GRANULARITIES = (60, 120, 180, 300, 600, 900, 1800, 3600, 7200, 14400, 28800, 86400)
"""Candle granularities of the legacy schema (spec 4.3)."""

FORGET_ALL_TYPES = (
    "balance",
    "candles",
    "cashier_payments",
    "p2p_advert",
    "p2p_advertiser",
    "p2p_order",
    "proposal",
    "proposal_open_contract",
    "ticks",
    "transaction",
    "trading_platform_asset_listing",
    "website_status",
    "p2p_settings",
    "crypto_estimations",
)
"""The stream types ``forget_all`` takes (spec 1.5)."""

_SYMBOL = re.compile(r"^\w{2,30}$")
_STREAM_ID = re.compile(r"^[\w-]{32,128}$")
_TOKEN = re.compile(r"^[\w\-]{1,128}$")
_END = re.compile(r"^(latest|[0-9]{1,10})$")
_DURATION_UNITS = ("t", "s", "m", "h", "d")


def _symbol(value: Any, argument: str) -> None:
    require(
        isinstance(value, str) and _SYMBOL.match(value) is not None,
        argument,
        r"a symbol matching ^\w{2,30}$",
    )


def _number(value: Any, argument: str, *, allow_none: bool = True, minimum: float = 0) -> None:
    if value is None and allow_none:
        return
    require(
        isinstance(value, int | float) and not isinstance(value, bool) and value >= minimum,
        argument,
        f"a number >= {minimum:g}",
    )


def _int(value: Any, argument: str, *, minimum: int = 0) -> None:
    if value is None:
        return
    require(
        isinstance(value, int) and not isinstance(value, bool) and value >= minimum,
        argument,
        f"an int >= {minimum}",
    )


def _floats(command: Any, *names: str) -> None:
    """Numbers of float fields as floats: one canonical form, so a command encodes the
    same whether it was built from ints or decoded (a topic, a transcript line)."""
    for name in names:
        value = getattr(command, name)
        if isinstance(value, int) and not isinstance(value, bool):
            msgspec.structs.force_setattr(command, name, float(value))


class DerivCommand(Command, frozen=True, kw_only=True, omit_defaults=True):
    """Base of the typed commands (see the module docstring)."""

    call: ClassVar[str]
    answer: ClassVar[type[DerivMessage]]
    payload: ClassVar[str | None]
    needs_auth: ClassVar[bool] = False
    rate_group: ClassVar[str] = RateGroup.GENERAL
    stream_type: ClassVar[str | None] = None
    renames: ClassVar[dict[str, str]] = {}
    passthrough: dict[str, Any] | None = None

    def endpoint_value(self) -> Any:
        """The value sent under the endpoint key."""
        return getattr(self, self.call, 1)


class StreamCommand(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    """A call that can be a stream; ``subscribe`` is set by the machine."""

    subscribe: bool = False


class Ping(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    call: ClassVar[str] = "ping"
    answer: ClassVar[type[DerivMessage]] = PingMessage
    payload: ClassVar[str | None] = "ping"
    rate_group: ClassVar[str] = RateGroup.PING


class Time(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    call: ClassVar[str] = "time"
    answer: ClassVar[type[DerivMessage]] = TimeMessage
    payload: ClassVar[str | None] = "time"


class Authorize(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    """``authorize`` (spec 3.2); the machine sends it with its ``token``."""

    call: ClassVar[str] = "authorize"
    answer: ClassVar[type[DerivMessage]] = AuthorizeMessage
    payload: ClassVar[str | None] = "authorize"
    authorize: Secret
    add_to_login_history: bool | None = None

    def __post_init__(self) -> None:
        require(isinstance(self.authorize, Secret), "authorize", "a Secret (the API token)")
        require(
            _TOKEN.match(self.authorize.reveal()) is not None,
            "authorize",
            r"a token matching ^[\w\-]{1,128}$",
        )


class GetSessionToken(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    """``get_session_token`` (spec 3.3): a one-time token for a session token."""

    call: ClassVar[str] = "get_session_token"
    answer: ClassVar[type[DerivMessage]] = SessionTokenMessage
    payload: ClassVar[str | None] = "get_session_token"
    get_session_token: Secret

    def __post_init__(self) -> None:
        require(isinstance(self.get_session_token, Secret), "get_session_token", "a Secret")


class Logout(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    call: ClassVar[str] = "logout"
    answer: ClassVar[type[DerivMessage]] = LogoutMessage
    payload: ClassVar[str | None] = "logout"
    needs_auth: ClassVar[bool] = True


class WebsiteStatus(StreamCommand, frozen=True, kw_only=True, omit_defaults=True):
    call: ClassVar[str] = "website_status"
    answer: ClassVar[type[DerivMessage]] = WebsiteStatusMessage
    payload: ClassVar[str | None] = "website_status"
    stream_type: ClassVar[str | None] = "website_status"


class ActiveSymbols(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    call: ClassVar[str] = "active_symbols"
    answer: ClassVar[type[DerivMessage]] = ActiveSymbolsMessage
    payload: ClassVar[str | None] = "active_symbols"
    active_symbols: str = "brief"
    contract_type: tuple[str, ...] | None = None
    product_type: str | None = None
    landing_company_short: str | None = None

    def __post_init__(self) -> None:
        require_choice(self.active_symbols, "active_symbols", ("brief", "full"))

    def endpoint_value(self) -> Any:
        return self.active_symbols


class ContractsFor(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    call: ClassVar[str] = "contracts_for"
    answer: ClassVar[type[DerivMessage]] = ContractsForMessage
    payload: ClassVar[str | None] = "contracts_for"
    contracts_for: str
    currency: str | None = None
    landing_company_short: str | None = None
    product_type: str | None = None

    def __post_init__(self) -> None:
        _symbol(self.contracts_for, "contracts_for")


class Ticks(StreamCommand, frozen=True, kw_only=True, omit_defaults=True):
    """``ticks`` of one symbol (spec 4.2)."""

    call: ClassVar[str] = "ticks"
    answer: ClassVar[type[DerivMessage]] = TickMessage
    payload: ClassVar[str | None] = "tick"
    stream_type: ClassVar[str | None] = "ticks"
    ticks: str

    def __post_init__(self) -> None:
        _symbol(self.ticks, "ticks")


class TicksHistory(StreamCommand, frozen=True, kw_only=True, omit_defaults=True):
    """``ticks_history`` (spec 4.3): the result is the whole :class:`HistoryMessage` or
    :class:`CandlesMessage` (``pip_size`` sits beside the payload)."""

    call: ClassVar[str] = "ticks_history"
    answer: ClassVar[type[DerivMessage]] = HistoryMessage
    payload: ClassVar[str | None] = None
    ticks_history: str
    end: str = "latest"
    start: int | None = None
    count: int | None = None
    style: str | None = None
    granularity: int | None = None
    adjust_start_time: bool | None = None

    def __post_init__(self) -> None:
        _symbol(self.ticks_history, "ticks_history")
        require(
            isinstance(self.end, str) and _END.match(self.end) is not None,
            "end",
            "'latest' or an epoch as a string",
        )
        _int(self.start, "start")
        _int(self.count, "count", minimum=1)
        if self.style is not None:
            require_choice(self.style, "style", ("ticks", "candles"))
        if self.granularity is not None:
            require_choice(self.granularity, "granularity", GRANULARITIES)

    @property
    def candles(self) -> bool:
        return self.style == "candles"

    @property
    def stream_kind(self) -> str:
        return "candles" if self.candles else "ticks"


class Proposal(StreamCommand, frozen=True, kw_only=True, omit_defaults=True):
    """``proposal`` (spec 5.2).  With ``new_api=True`` on the client, ``symbol`` goes
    out as ``underlying_symbol``."""

    call: ClassVar[str] = "proposal"
    answer: ClassVar[type[DerivMessage]] = ProposalMessage
    payload: ClassVar[str | None] = "proposal"
    rate_group: ClassVar[str] = RateGroup.PRICING
    stream_type: ClassVar[str | None] = "proposal"
    renames: ClassVar[dict[str, str]] = {"symbol": "underlying_symbol"}
    contract_type: str
    currency: str
    symbol: str
    amount: float | None = None
    basis: str | None = None
    duration: int | None = None
    duration_unit: str | None = None
    date_expiry: int | None = None
    date_start: int | None = None
    barrier: str | None = None
    barrier2: str | None = None
    multiplier: float | None = None
    limit_order: dict[str, float | None] | None = None
    cancellation: str | None = None
    growth_rate: float | None = None
    product_type: str | None = None

    def __post_init__(self) -> None:
        _floats(self, "amount", "multiplier", "growth_rate")
        require_choice(self.contract_type, "contract_type", CONTRACT_TYPES)
        require(
            isinstance(self.currency, str) and 2 <= len(self.currency) <= 10,
            "currency",
            "a currency code such as 'USD'",
        )
        _symbol(self.symbol, "symbol")
        _number(self.amount, "amount")
        if self.basis is not None:
            require_choice(self.basis, "basis", ("stake", "payout"))
        _int(self.duration, "duration", minimum=1)
        if self.duration_unit is not None:
            require_choice(self.duration_unit, "duration_unit", _DURATION_UNITS)
        _int(self.date_expiry, "date_expiry")
        _number(self.multiplier, "multiplier", minimum=1)
        _number(self.growth_rate, "growth_rate")


class Buy(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    """``buy`` a proposal id at most at ``price`` (spec 5.3)."""

    call: ClassVar[str] = "buy"
    answer: ClassVar[type[DerivMessage]] = BuyMessage
    payload: ClassVar[str | None] = "buy"
    needs_auth: ClassVar[bool] = True
    rate_group: ClassVar[str] = RateGroup.PRICING
    buy: str
    price: float
    parameters: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        require(
            isinstance(self.buy, str) and (self.buy == "1" or bool(_STREAM_ID.match(self.buy))),
            "buy",
            r"a proposal id (^[\w-]{32,128}$) or '1' with parameters",
        )
        _number(self.price, "price", allow_none=False)
        _floats(self, "price")
        require(
            (self.buy == "1") == (self.parameters is not None),
            "parameters",
            "parameters exactly when buy is '1'",
        )


class Sell(DerivCommand, frozen=True, kw_only=True, omit_defaults=False):
    """``sell`` contract ``sell`` at no less than ``price`` (``0``: at market; spec 5.4)."""

    call: ClassVar[str] = "sell"
    answer: ClassVar[type[DerivMessage]] = SellMessage
    payload: ClassVar[str | None] = "sell"
    needs_auth: ClassVar[bool] = True
    rate_group: ClassVar[str] = RateGroup.PRICING
    sell: int
    price: float = 0
    passthrough: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        _int(self.sell, "sell", minimum=1)
        _number(self.price, "price", allow_none=False)
        _floats(self, "price")


class ProposalOpenContract(StreamCommand, frozen=True, kw_only=True, omit_defaults=True):
    """``proposal_open_contract`` of one contract, or of all open ones (spec 5.5)."""

    call: ClassVar[str] = "proposal_open_contract"
    answer: ClassVar[type[DerivMessage]] = OpenContractMessage
    payload: ClassVar[str | None] = "proposal_open_contract"
    needs_auth: ClassVar[bool] = True
    rate_group: ClassVar[str] = RateGroup.PRICING
    stream_type: ClassVar[str | None] = "proposal_open_contract"
    contract_id: int | None = None

    def __post_init__(self) -> None:
        _int(self.contract_id, "contract_id", minimum=1)


class Portfolio(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    call: ClassVar[str] = "portfolio"
    answer: ClassVar[type[DerivMessage]] = PortfolioMessage
    payload: ClassVar[str | None] = "portfolio"
    needs_auth: ClassVar[bool] = True
    rate_group: ClassVar[str] = RateGroup.REPORTS
    contract_type: tuple[str, ...] | None = None


class ProfitTable(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    call: ClassVar[str] = "profit_table"
    answer: ClassVar[type[DerivMessage]] = ProfitTableMessage
    payload: ClassVar[str | None] = "profit_table"
    needs_auth: ClassVar[bool] = True
    rate_group: ClassVar[str] = RateGroup.REPORTS
    description: bool | None = None
    limit: int | None = None
    offset: int | None = None
    sort: str | None = None
    date_from: int | None = None
    date_to: int | None = None
    contract_type: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.limit is not None:
            require(isinstance(self.limit, int) and 1 <= self.limit <= 500, "limit", "1 to 500")
        _int(self.offset, "offset")
        if self.sort is not None:
            require_choice(self.sort, "sort", ("ASC", "DESC"))


class Statement(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    call: ClassVar[str] = "statement"
    answer: ClassVar[type[DerivMessage]] = StatementMessage
    payload: ClassVar[str | None] = "statement"
    needs_auth: ClassVar[bool] = True
    rate_group: ClassVar[str] = RateGroup.ACCOUNT
    description: bool | None = None
    limit: int | None = None
    offset: int | None = None
    date_from: int | None = None
    date_to: int | None = None
    action_type: str | None = None

    def __post_init__(self) -> None:
        if self.limit is not None:
            require(isinstance(self.limit, int) and 1 <= self.limit <= 999, "limit", "1 to 999")
        _int(self.offset, "offset")
        if self.action_type is not None:
            require_choice(
                self.action_type,
                "action_type",
                (
                    "buy",
                    "sell",
                    "deposit",
                    "withdrawal",
                    "escrow",
                    "adjustment",
                    "virtual_credit",
                    "transfer",
                ),
            )


class Balance(StreamCommand, frozen=True, kw_only=True, omit_defaults=True):
    call: ClassVar[str] = "balance"
    answer: ClassVar[type[DerivMessage]] = BalanceMessage
    payload: ClassVar[str | None] = "balance"
    needs_auth: ClassVar[bool] = True
    rate_group: ClassVar[str] = RateGroup.ACCOUNT
    stream_type: ClassVar[str | None] = "balance"
    account: str | None = None


class Transaction(StreamCommand, frozen=True, kw_only=True, omit_defaults=True):
    """``transaction``: a stream only (``subscribe`` is required, spec 1.5)."""

    call: ClassVar[str] = "transaction"
    answer: ClassVar[type[DerivMessage]] = TransactionMessage
    payload: ClassVar[str | None] = "transaction"
    needs_auth: ClassVar[bool] = True
    stream_type: ClassVar[str | None] = "transaction"


class Forget(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    """``forget`` one stream by its venue id (the machine's; users send ``Unsubscribe``)."""

    call: ClassVar[str] = "forget"
    answer: ClassVar[type[DerivMessage]] = ForgetMessage
    payload: ClassVar[str | None] = "forget"
    forget: str

    def __post_init__(self) -> None:
        require(
            isinstance(self.forget, str) and _STREAM_ID.match(self.forget) is not None,
            "forget",
            r"a stream id matching ^[\w-]{32,128}$",
        )


class ForgetAll(DerivCommand, frozen=True, kw_only=True, omit_defaults=True):
    """``forget_all`` streams of the given types (always sent as an array, spec 1.6).

    The result is the list of venue ids it stopped; the machine ends the user-facing
    streams they belonged to (``SubscriptionEnded``) and stops wanting every stream of
    those types, so none comes back after a reconnect.
    """

    call: ClassVar[str] = "forget_all"
    answer: ClassVar[type[DerivMessage]] = ForgetAllMessage
    payload: ClassVar[str | None] = "forget_all"
    forget_all: Sequence[str]

    def __post_init__(self) -> None:
        types = self.forget_all
        require(
            isinstance(types, Sequence) and not isinstance(types, str) and len(types) > 0,
            "forget_all",
            "a non-empty sequence of stream types",
        )
        for name in types:
            require_choice(name, "forget_all", FORGET_ALL_TYPES)
        msgspec.structs.force_setattr(self, "forget_all", tuple(types))


class GenericCommand(Command, frozen=True, kw_only=True):
    """Any call: ``{call: value, **params}``.  The result is the reply message itself
    (typed when tradewire knows its ``msg_type``, else an ``UnknownMessage``)."""

    call: str
    value: Any = 1
    params: dict[str, Any] = msgspec.field(default_factory=dict)
    needs_auth: bool = False

    def __post_init__(self) -> None:
        require(
            isinstance(self.call, str) and bool(re.match(r"^[a-z][a-z0-9_]{0,63}$", self.call)),
            "call",
            "a call name such as 'trading_times'",
        )
        require(isinstance(self.params, dict), "params", "a dict of request fields")
        for reserved in ("req_id", self.call):
            require(
                reserved not in self.params,
                "params",
                f"no {reserved!r} key (the machine sets req_id; the value is value=)",
            )


COMMANDS: dict[str, type[DerivCommand]] = {
    cls.call: cls
    for cls in (
        Ping,
        Time,
        Authorize,
        GetSessionToken,
        Logout,
        WebsiteStatus,
        ActiveSymbols,
        ContractsFor,
        Ticks,
        TicksHistory,
        Proposal,
        Buy,
        Sell,
        ProposalOpenContract,
        Portfolio,
        ProfitTable,
        Statement,
        Balance,
        Transaction,
        Forget,
        ForgetAll,
    )
}
"""Every typed command by its call name."""

STREAM_COMMANDS: dict[str, type[StreamCommand]] = {
    name: cls for name, cls in COMMANDS.items() if issubclass(cls, StreamCommand)
}

# The candle style of ticks_history answers with CandlesMessage first.
CANDLE_ANSWER = CandlesMessage
