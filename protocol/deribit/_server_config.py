"""The settings and records of a Deribit venue: ServerConfig, ApiKey, IssuedToken.

Plain values shared by :class:`ServerState` and the machines; see ``_server_state.py``
for how they are used.
"""

from __future__ import annotations

import math
from typing import Literal

import msgspec

from .._errors import LocalProtocolError
from .._secrets import Secret
from ._limits import (
    CREDIT_COST,
    CREDIT_POOL,
    CREDIT_REFILL_PER_SECOND,
    MATCHING_ENGINE_TIERS,
    MAX_CONNECTIONS_PER_IP,
    MAX_MESSAGE_SIZE,
    RateClass,
)

__all__ = [
    "DEFAULT_KEY_SCOPE",
    "ApiKey",
    "CreditRule",
    "IssuedToken",
    "Lineage",
    "ServerConfig",
    "default_credit_rules",
    "peer_ip",
]

DEFAULT_KEY_SCOPE = (
    "account:read_write block_rfq:read_write block_trade:read_write "
    "trade:read_write wallet:read_write"
)
"""The permissions an API key gets unless :meth:`ServerState.add_client` says otherwise."""


class CreditRule(msgspec.Struct, frozen=True, kw_only=True):
    """One rate class: each request costs ``cost`` from a pool of ``capacity`` that
    refills at ``refill`` per second (spec 7.3)."""

    cost: float
    capacity: float
    refill: float

    def __post_init__(self) -> None:
        ok = all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in (self.cost, self.capacity, self.refill)
        )
        if not (ok and 0 <= self.cost <= self.capacity and self.capacity > 0 and self.refill > 0):
            raise LocalProtocolError(
                "invalid CreditRule: expected finite numbers with 0 <= cost <= capacity, "
                f"capacity > 0 and refill > 0, got {self!r}"
            )


def default_credit_rules() -> dict[RateClass, CreditRule]:
    """The published limits: credits for the non-matching classes and, for the
    matching engine, one credit per request at tier 4 (5/s sustained, burst 20)."""
    rules = {
        rate_class: CreditRule(
            cost=CREDIT_COST[rate_class],
            capacity=CREDIT_POOL[rate_class],
            refill=CREDIT_REFILL_PER_SECOND,
        )
        for rate_class in CREDIT_COST
    }
    sustained, burst = MATCHING_ENGINE_TIERS[-1]
    rules[RateClass.MATCHING_ENGINE] = CreditRule(cost=1, capacity=burst, refill=sustained)
    return rules


def _positive(name: str, value: object, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise LocalProtocolError(f"invalid {name}: expected a number > 0, got {value!r}")


class ServerConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The venue's settings, shared by every connection (see the module docstring).

    ``credits`` maps a rate class to its rule; a class left out is not charged, so
    ``credits={}`` turns rate limiting off.  ``idle_timeout`` (seconds, default off)
    drops a WebSocket that has sent nothing for that long and has no subscription, as
    the live venue was seen to (spec 1.5).  ``mixed_raw_subscribe`` says what an
    unauthenticated ``public/subscribe`` mixing ``raw`` and other channels gets:
    ``"reject"`` (13778 for the whole call) or ``"drop"`` (the raw ones are left out
    of the result, silently).  ``extra_methods`` are methods without a typed command
    that the venue answers: they arrive as :class:`GenericRequest` instead of -32601.

    Bounds: ``max_message_size`` (a request; -32600 above), ``max_pending_requests``
    (unanswered by the venue per connection; 10066 above), ``max_channels`` (active per
    connection; new channels past it are dropped from subscribe candidates, silently,
    as the venue drops what it does not take), ``max_events`` / ``max_queued_messages``
    (undrained, per machine: :class:`LocalProtocolError` at the next driving call),
    ``max_tokens`` (stored token pairs; the oldest are forgotten), ``max_pools``
    (credit buckets; full ones, which equal fresh ones, are forgotten first).
    """

    testnet: bool = False
    epoch_offset: float = 0.0
    version: str = "1.2.26"
    expires_in: int = 31_536_000
    refresh_expires_in: int = 31_536_000
    auth_window: float = 60.0
    max_connections_per_ip: int | None = MAX_CONNECTIONS_PER_IP
    credits: dict[RateClass, CreditRule] = msgspec.field(default_factory=default_credit_rules)
    rate_limit_close_code: int = 1013
    rate_limit_close_reason: str = "too_many_requests"
    idle_timeout: float | None = None
    mixed_raw_subscribe: Literal["reject", "drop"] = "reject"
    http_error_status: int = 400
    extra_methods: frozenset[str] = frozenset()
    max_message_size: int = MAX_MESSAGE_SIZE
    max_pending_requests: int = 1000
    max_channels: int = 16_384
    max_events: int = 10_000
    max_queued_messages: int = 10_000
    max_tokens: int = 100_000
    max_pools: int = 100_000

    def __post_init__(self) -> None:
        for name in ("expires_in", "refresh_expires_in", "max_message_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise LocalProtocolError(f"invalid {name}: expected an int > 0, got {value!r}")
        _positive("auth_window", self.auth_window)
        _positive("idle_timeout", self.idle_timeout, allow_none=True)
        _positive("max_connections_per_ip", self.max_connections_per_ip, allow_none=True)
        for name in (
            "max_pending_requests",
            "max_channels",
            "max_events",
            "max_queued_messages",
            "max_tokens",
            "max_pools",
        ):
            _positive(name, getattr(self, name))
        if not (isinstance(self.epoch_offset, int | float) and math.isfinite(self.epoch_offset)):
            raise LocalProtocolError(
                f"invalid epoch_offset: expected a finite number, got {self.epoch_offset!r}"
            )
        if self.mixed_raw_subscribe not in ("reject", "drop"):
            raise LocalProtocolError(
                "invalid mixed_raw_subscribe: accepted values: 'reject', 'drop'"
            )
        if not 400 <= self.http_error_status <= 599:
            raise LocalProtocolError(
                f"invalid http_error_status: expected 400..599, got {self.http_error_status!r}"
            )
        if not 1000 <= self.rate_limit_close_code <= 4999:
            raise LocalProtocolError(
                "invalid rate_limit_close_code: expected a WebSocket close code 1000..4999"
            )
        for key, rule in self.credits.items():
            if not isinstance(key, RateClass) or not isinstance(rule, CreditRule):
                raise LocalProtocolError("invalid credits: expected {RateClass: CreditRule}")
        extra = frozenset(self.extra_methods)
        if not all(isinstance(m, str) and m.startswith(("public/", "private/")) for m in extra):
            raise LocalProtocolError(
                "invalid extra_methods: expected names starting with 'public/' or 'private/'"
            )
        msgspec.structs.force_setattr(self, "extra_methods", extra)


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A registered API key: its secret, the account it acts for, its maximum scope.

    ``subaccount_ids`` are the accounts ``public/exchange_token`` may switch to;
    ``main_account`` adds ``mainaccount`` to granted scopes; ``name`` adds ``name:...``
    (as in ccxt's recorded scope, spec 2.4).
    """

    client_id: str
    client_secret: Secret
    account_id: int
    subaccount_ids: frozenset[int] = frozenset()
    main_account: bool = True
    scope: str = DEFAULT_KEY_SCOPE
    name: str | None = None


Lineage = tuple[str, int | str, str]


class IssuedToken(msgspec.Struct, kw_only=True):
    """An access/refresh token pair and what it grants.

    ``connection_id`` binds a ``connection``-scoped token to the WebSocket that got it
    (``None``: usable anywhere: session scope, or issued over HTTP); ``ip`` binds it to
    a peer address (scope ``ip:ADDR``).  ``lineage`` groups the tokens ``private/logout``
    invalidates together: one connection's, or one named session's.  ``lifetime`` is the
    granted ``expires_in``.  Times are in the caller's clock.  ``repr`` hides the token
    strings.
    """

    serial: int
    access_token: str
    refresh_token: str
    client_id: str
    account_id: int
    scope: str
    session: str | None
    connection_id: int | None
    ip: str | None
    lifetime: int
    issued_at: float
    expires_at: float
    refresh_expires_at: float
    lineage: Lineage
    revoked: bool = False

    def usable(self, now: float, connection_id: int | None, ip: str | None) -> bool:
        """Whether the access token is valid at ``now`` for this connection and peer."""
        return (
            not self.revoked
            and now < self.expires_at
            and (self.connection_id is None or self.connection_id == connection_id)
            and (self.ip is None or self.ip == ip)
        )

    def __repr__(self) -> str:
        return (
            f"IssuedToken(client_id={self.client_id!r}, account_id={self.account_id!r}, "
            f"scope={self.scope!r}, connection_id={self.connection_id!r}, "
            f"expires_at={self.expires_at!r}, revoked={self.revoked!r})"
        )


def peer_ip(peer: str | None) -> str | None:
    """The address part of a ``host:port`` / ``[v6]:port`` peer string (or the string)."""
    if not peer:
        return None
    if peer.startswith("["):
        end = peer.find("]")
        return peer[1:end] if end > 0 else peer
    if peer.count(":") == 1:
        return peer.rsplit(":", 1)[0]
    return peer
