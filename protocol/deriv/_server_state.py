"""What a Deriv venue's connections share: :class:`ServerConfig` and :class:`ServerState`.

The state holds the API tokens the venue accepts (each for an :class:`Account`), the
one-time and session tokens of ``get_session_token`` (spec 3.3), the rate pools (spec
6.2: a per-minute and a per-hour bucket per budget, keyed by the account once
authorized, else by the connection, as the older server code did), connection ids and
the random source of subscription ids.  Pure: time comes in as ``now``, randomness from
the injected source.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from .._errors import LocalProtocolError
from .._sources import RandomSource
from ..session import ConnectionCounter, PoolRule, RatePools, TokenStore
from ._client_limits import BUDGETS
from ._commands import COMMANDS as _COMMANDS
from ._commands import (
    Balance,
    ProposalOpenContract,
    RateGroup,
    StreamCommand,
    Ticks,
    TicksHistory,
    Transaction,
    WebsiteStatus,
)

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "SCOPES",
    "Account",
    "ServerConfig",
    "ServerState",
    "StreamMeta",
    "stream_key",
]

DEFAULT_MAX_FRAME_SIZE = (1 << 20) - 4096
"""Bytes of one outgoing frame: under python-deriv-api's 1 MiB limit (spec 7.1 item 11)."""

SCOPES: dict[str, tuple[str, ...]] = {
    "buy": ("trade",),
    "sell": ("trade",),
    "balance": ("read", "trading_information"),
    "portfolio": ("read", "trading_information"),
    "profit_table": ("read", "trading_information"),
    "statement": ("read", "trading_information"),
    "transaction": ("read", "trading_information"),
    "proposal_open_contract": ("read", "trading_information"),
}
"""The scopes a call needs, any one of them (legacy ``auth_scopes``, spec 3.2)."""


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """An account a token authorizes (a demo account by default)."""

    loginid: str
    currency: str = "USD"
    is_virtual: bool = True
    scopes: tuple[str, ...] = ("read", "trade", "trading_information", "payments", "admin")
    email: str = "demo@tradewire.test"
    fullname: str = " Demo Trader"
    country: str = "id"
    user_id: int = 1

    def authorize_result(self) -> dict[str, Any]:
        """The ``authorize`` payload (spec 3.2); ``balance`` is filled by the venue."""
        return {
            "account_list": [
                {
                    "account_type": "binary",
                    "currency": self.currency,
                    "is_disabled": 0,
                    "is_virtual": int(self.is_virtual),
                    "landing_company_name": "virtual" if self.is_virtual else "svg",
                    "loginid": self.loginid,
                }
            ],
            "balance": 0,
            "country": self.country,
            "currency": self.currency,
            "email": self.email,
            "fullname": self.fullname,
            "is_virtual": int(self.is_virtual),
            "landing_company_name": "virtual" if self.is_virtual else "svg",
            "loginid": self.loginid,
            "scopes": list(self.scopes),
            "user_id": self.user_id,
        }


class StreamMeta(msgspec.Struct, kw_only=True):
    """One live stream of a connection: what its messages carry (spec 1.3)."""

    sub_id: str
    call: str
    msg_type: str
    echo: dict[str, Any]
    req_id: int | None
    passthrough: Any
    stream_type: str
    key: tuple[Any, ...] | None
    command: Any


def stream_key(command: Any) -> tuple[Any, ...] | None:
    """What makes two streams the same for ``AlreadySubscribed`` (spec 1.5): a symbol's
    ticks (``ticks`` and tick-style ``ticks_history`` alike), a symbol's candles of one
    granularity, ``balance`` / ``transaction`` / ``website_status``, the open contracts
    (all, or one), an identical ``proposal``.  ``None``: never a duplicate (``buy``)."""
    if isinstance(command, Ticks):
        return ("ticks", command.ticks)
    if isinstance(command, TicksHistory):
        if command.candles:
            return ("candles", command.ticks_history, command.granularity or 60)
        return ("ticks", command.ticks_history)
    if isinstance(command, Balance | Transaction | WebsiteStatus):
        return (command.call,)
    if isinstance(command, ProposalOpenContract):
        return (command.call, command.contract_id)
    if isinstance(command, StreamCommand):
        fields = msgspec.to_builtins(command)
        fields.pop("subscribe", None)
        fields.pop("passthrough", None)
        return (command.call, msgspec.json.encode(fields, order="sorted"))
    return None


def _budgets() -> dict[str, tuple[int, int]]:
    return dict(BUDGETS)


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The protocol settings of a Deriv server.

    * ``tokens``: API token -> account (the reference venue registers its demo token);
    * ``idle_timeout`` (seconds, ``None``: never; spec 2), ``pings_are_activity``;
    * ``budgets``: per rate group, calls per minute and per hour (spec 6.2; ``None``:
      no limits), ``ping_per_second``;
    * ``app_id_required``, ``blocked_app_ids`` (spec 3.1);
    * ``new_api``: accept the New API's renames in requests (spec 5.2);
    * ``extra_calls``: calls without a typed command that the venue answers;
    * ``epoch_offset``: epoch seconds minus the caller's clock (``time``);
    * bounds: ``max_message_size`` (a request), ``max_frame_size`` (a reply),
      ``max_streams``, ``max_pending_requests``, ``max_queued_messages``, ``max_events``.
    """

    tokens: dict[str, Account] = msgspec.field(default_factory=dict)
    idle_timeout: float | None = 120.0
    pings_are_activity: bool = True
    budgets: dict[str, tuple[int, int]] | None = msgspec.field(default_factory=_budgets)
    ping_per_second: int = 10
    app_id_required: bool = True
    blocked_app_ids: frozenset[int] = frozenset()
    new_api: bool = False
    extra_calls: frozenset[str] = frozenset()
    epoch_offset: float = 0.0
    max_message_size: int = 64 * 1024
    max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    max_streams: int = 1000
    max_pending_requests: int = 1024
    max_queued_messages: int = 10_000
    max_events: int = 10_000
    session_token_lifetime: float = 86_400.0

    def __post_init__(self) -> None:
        idle = self.idle_timeout
        if idle is not None and not (
            isinstance(idle, int | float) and idle > 0 and math.isfinite(idle)
        ):
            raise LocalProtocolError(
                f"invalid idle_timeout: expected seconds > 0 or None, got {idle!r}"
            )
        for name in ("max_message_size", "max_frame_size", "max_streams", "ping_per_second"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise LocalProtocolError(f"invalid {name}: expected a positive int, got {value!r}")

    def __repr__(self) -> str:
        return f"deriv.ServerConfig(tokens={len(self.tokens)}, idle_timeout={self.idle_timeout})"


class _Rule:
    __slots__ = ("capacity", "cost", "refill")

    def __init__(self, capacity: float, window: float) -> None:
        self.cost = 1.0
        self.capacity = float(capacity)
        self.refill = capacity / window


class ServerState:
    """State shared by a Deriv venue's connections (see the module docstring)."""

    def __init__(self, config: ServerConfig | None = None, *, rng: RandomSource) -> None:
        self.config = config = config if config is not None else ServerConfig()
        self.rng = rng
        self.connections = ConnectionCounter(None)
        self.tokens: dict[str, Account] = dict(config.tokens)
        self.one_time: dict[str, Account] = {}
        self.sessions: TokenStore[Account] = TokenStore(rng)
        rules: dict[Any, Any] = {}
        if config.budgets is not None:
            for group, (minute, hour) in config.budgets.items():
                rules[(group, "minute")] = _Rule(minute, 60.0)
                rules[(group, "hour")] = _Rule(hour, 3600.0)
            rules[(RateGroup.PING, "second")] = PoolRule(
                1.0, config.ping_per_second, config.ping_per_second
            )
        self.pools = RatePools(rules)
        self.ids_issued = 0

    def __repr__(self) -> str:
        return f"deriv.ServerState(tokens={len(self.tokens)}, pools={len(self.pools)})"

    def new_connection_id(self) -> int:
        return self.connections.new_id()

    def drop_connection(self, connection_id: int) -> None:
        """A connection ended (nothing is kept per connection here but its pools)."""

    def new_stream_id(self) -> str:
        """A UUID-shaped subscription id (36 characters, ``[0-9a-f-]``)."""
        self.ids_issued += 1
        bits = self.rng.getrandbits(128)
        text = f"{bits:032x}"
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"

    # -- accounts ---------------------------------------------------------------------------

    def add_token(self, token: str, account: Account) -> None:
        self.tokens[token] = account

    def revoke_token(self, token: str) -> bool:
        return self.tokens.pop(token, None) is not None

    def account_for(self, token: str, now: float) -> Account | None:
        """The account an API token or a session token authorizes."""
        found = self.tokens.get(token)
        return found if found is not None else self.sessions.find(token, now)

    def one_time_token(self, token: str, account: Account) -> None:
        """Register a one-time token for ``get_session_token``."""
        self.one_time[token] = account

    def exchange_one_time_token(self, token: str, now: float) -> dict[str, Any] | None:
        """``get_session_token``: a used or unknown one-time token is refused."""
        account = self.one_time.pop(token, None)
        if account is None:
            return None
        lifetime = self.config.session_token_lifetime
        issued = self.sessions.issue(account, lifetime, now)
        expires = now + self.config.epoch_offset + lifetime
        return {"expires": _rfc3339(expires), "token": issued}

    def website_status(self) -> dict[str, Any]:
        """``website_status`` (spec 6.2 history: ``api_call_limits``)."""
        limits: dict[str, Any] = {}
        for group, (minute, hour) in (self.config.budgets or {}).items():
            limits[f"max_requests_{group}"] = {
                "applies_to": ", ".join(
                    sorted(c for c, cls in _COMMANDS.items() if cls.rate_group == group)
                ),
                "hourly": hour,
                "minutely": minute,
            }
        return {
            "api_call_limits": limits,
            "currencies_config": {"USD": {"fractional_digits": 2, "type": "fiat"}},
            "site_status": "up",
            "supported_languages": ["EN"],
            "terms_conditions_version": "Version 1 2026-01-01",
        }

    # -- rate limits ------------------------------------------------------------------------

    def charge(self, connection: Any, call: str, now: float) -> bool:
        """Take one call of ``call`` from the budgets of the connection (its account's
        once authorized); ``False``: a budget is empty (nothing is taken)."""
        if self.config.budgets is None:
            return True
        cls = _COMMANDS.get(call)
        group = cls.rate_group if cls is not None else RateGroup.GENERAL
        account = getattr(connection, "account", None)
        pool = account.loginid if account is not None else f"connection {connection.connection_id}"
        keys = (
            ((group, "second"),)
            if group == RateGroup.PING
            else ((group, "minute"), (group, "hour"))
        )
        buckets = [self.pools.bucket(pool, key, now) for key in keys]
        if any(b is not None and b.level(now) < 1.0 for b in buckets):
            return False
        for key in keys:
            self.pools.charge(pool, key, now)
        return True

    def drain(self, connection: Any, call: str, now: float) -> None:
        """Fault hook: empty the budget ``call`` draws on for this connection."""
        if self.config.budgets is None:
            return
        cls = _COMMANDS.get(call)
        group = cls.rate_group if cls is not None else RateGroup.GENERAL
        account = getattr(connection, "account", None)
        pool = account.loginid if account is not None else f"connection {connection.connection_id}"
        keys = ((group, "second"),) if group == RateGroup.PING else ((group, "minute"),)
        for key in keys:
            self.pools.drain(pool, key, now)


def _rfc3339(epoch: float) -> str:
    import datetime

    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
