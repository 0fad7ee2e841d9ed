"""Deribit error codes (spec 7.1) as exception types, and the table the server side sends.

A Deribit error response carries ``{"code": int, "message": str, "data"?: any}``.  Callers
want to catch *kinds* of failure (rate limited, not authenticated, order gone) rather than
numbers, so each documented code that a client reacts to has a class, grouped under a few
family bases:

* :class:`AuthError`: the request lacks or has bad credentials (10000, 13004, 13009, ...);
* :class:`RateLimited`: slow down (10028, 10047, 10066);
* :class:`ServiceUnavailable`: transient venue state, retry later (10040, 10041, 11051,
  13028, ...);
* :class:`InvalidRequest`: the request itself is wrong (-32700, -32600, -32601, -32602,
  11050, 10030, ...); retrying the same bytes will fail again;
* :class:`OrderError`: the order was refused or is not in a state that allows the call
  (10009, 11054, 10004, 11044, ...).

:func:`error_for` picks the class for a code; a code without a class (documented or not)
gives the base :class:`DeribitError`, never an exception of its own.  The ``code``,
``message`` and ``data`` attributes come from :class:`~tradewire.protocol.VenueError`.

Choices where the spec is open:

* 10010 ``already_closed`` is a :class:`NotOpenOrder` (as are 11044 and 11008), not an
  :class:`OrderNotFound` as ccxt maps it: the order exists, it is just no longer open, and
  the spec says which of 10010 / 11044 a cancel of a filled order returns is unverified, so
  one ``except NotOpenOrder`` covers both.
* -32000 ``Missing params`` is a subclass of :class:`InvalidParams`.

:data:`ERROR_MESSAGES` maps every code in spec 7.1 with a fixed message to that message,
for the server side.  Messages with a ``<limit>`` placeholder in the spec are listed by
their fixed prefix; the sender appends the detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any, ClassVar

from .._errors import VenueError

__all__ = [
    "ERROR_MESSAGES",
    "AlreadyClosed",
    "AlreadyFilled",
    "AuthError",
    "AuthorizationRequired",
    "BadRequest",
    "CancelOnDisconnectFailed",
    "CodNotEnabled",
    "DeribitError",
    "ErrorCode",
    "Forbidden",
    "InsufficientFunds",
    "InvalidAmount",
    "InvalidCredentials",
    "InvalidInstrument",
    "InvalidParams",
    "InvalidRequest",
    "MatchingEngineQueueFull",
    "MethodNotFound",
    "MethodNotImplemented",
    "MissingParams",
    "MmpTriggered",
    "MustBeWebsocketRequest",
    "NotOpenOrder",
    "NotFound",
    "OrderError",
    "OrderNotFound",
    "ParseError",
    "PostOnlyReject",
    "PriceOutOfRange",
    "PriceWrongTick",
    "QuantityTooLow",
    "RateLimited",
    "RawSubscriptionsNeedAuth",
    "Replaced",
    "RequestTooLarge",
    "Retry",
    "ScopeExceeded",
    "ServiceUnavailable",
    "SettlementInProgress",
    "SubscribeError",
    "SystemMaintenance",
    "TemporarilyUnavailable",
    "TimedOut",
    "TooManyConcurrentRequests",
    "TooManyRequests",
    "Unauthorized",
    "error_for",
]


class ErrorCode(IntEnum):
    """The codes of spec 7.1 that the library itself sends or reacts to."""

    PARSE_ERROR = -32700
    REQUEST_TOO_LARGE = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    MISSING_PARAMS = -32000
    AUTHORIZATION_REQUIRED = 10000
    ERROR = 10001
    QTY_TOO_LOW = 10002
    ORDER_NOT_FOUND = 10004
    NOT_ENOUGH_FUNDS = 10009
    ALREADY_CLOSED = 10010
    INVALID_INSTRUMENT = 10020
    INVALID_AMOUNT = 10021
    TOO_MANY_REQUESTS = 10028
    MUST_BE_WEBSOCKET_REQUEST = 10030
    NOT_IMPLEMENTED = 10033
    RETRY = 10040
    SETTLEMENT_IN_PROGRESS = 10041
    PRICE_WRONG_TICK = 10043
    MATCHING_ENGINE_QUEUE_FULL = 10047
    CANCEL_ON_DISCONNECT_FAILED = 10049
    TOO_MANY_CONCURRENT_REQUESTS = 10066
    ALREADY_FILLED = 11008
    NOT_OPEN_ORDER = 11044
    BAD_REQUEST = 11050
    SYSTEM_MAINTENANCE = 11051
    SUBSCRIBE_ERROR_UNSUBSCRIBED = 11052
    POST_ONLY_REJECT = 11054
    INVALID_CREDENTIALS = 13004
    UNAUTHORIZED = 13009
    NOT_FOUND = 13020
    FORBIDDEN = 13021
    TEMPORARILY_UNAVAILABLE = 13028
    MMP_TRIGGER = 13030
    COD_NOT_ENABLED = 13042
    SCOPE_EXCEEDED = 13403
    REPLACED = 13777
    RAW_SUBSCRIPTIONS_NEED_AUTH = 13778
    TIMED_OUT = 13888


ERROR_MESSAGES: Mapping[int, str] = {
    -32700: "Parse error",
    -32600: "request entity too large",
    -32601: "Method not found",
    -32602: "Invalid params",
    -32000: "Missing params",
    10000: "authorization_required",
    10001: "error",
    10002: "qty_too_low",
    10003: "order_overlap",
    10004: "order_not_found",
    10005: "price_too_low",
    10006: "price_too_low4idx",
    10007: "price_too_high",
    10009: "not_enough_funds",
    10010: "already_closed",
    10011: "price_not_allowed",
    10012: "book_closed",
    10018: "non_pme_max_future_position_size",
    10019: "locked_by_admin",
    10020: "invalid_or_unsupported_instrument",
    10021: "invalid_amount",
    10022: "invalid_quantity",
    10023: "invalid_price",
    10024: "invalid_max_show",
    10025: "invalid_order_id",
    10026: "price_precision_exceeded",
    10027: "non_integer_contract_amount",
    10028: "too_many_requests",
    10029: "not_owner_of_order",
    10030: "must_be_websocket_request",
    10031: "invalid_args_for_instrument",
    10032: "whole_cost_too_low",
    10033: "not_implemented",
    10034: "trigger_price_too_high",
    10035: "trigger_price_too_low",
    10036: "invalid_max_show_amount",
    10037: "non_pme_total_short_options_positions_size",
    10038: "pme_max_risk_reducing_orders",
    10039: "not_enough_funds_in_currency",
    10040: "retry",
    10041: "settlement_in_progress",
    10043: "price_wrong_tick",
    10044: "trigger_price_wrong_tick",
    10045: "can_not_cancel_liquidation_order",
    10046: "can_not_edit_liquidation_order",
    10047: "matching_engine_queue_full",
    10048: "not_on_this_server",
    10049: "cancel_on_disconnect_failed",
    10066: "too_many_concurrent_requests",
    10072: "disabled_while_position_lock",
    11008: "already_filled",
    11013: "max_spot_open_orders",
    11021: "post_only_price_modification_not_possible",
    11022: "max_spot_order_quantity",
    11029: "invalid_arguments",
    11030: "other_reject",
    11031: "other_error",
    11035: "no_more_triggers",
    11036: "invalid_trigger_price",
    11037: "outdated_instrument_for_IV_order",
    11038: "no_adv_for_futures",
    11039: "no_adv_postonly",
    11041: "not_adv_order",
    11042: "permission_denied",
    11043: "bad_argument",
    11044: "not_open_order",
    11045: "invalid_event",
    11046: "outdated_instrument",
    11047: "unsupported_arg_combination",
    11048: "wrong_max_show_for_option",
    11049: "bad_arguments",
    11050: "bad_request",
    11051: "system_maintenance",
    11052: "subscribe_error_unsubscribed",
    11053: "transfer_not_found",
    11054: "post_only_reject",
    11055: "post_only_not_allowed",
    11056: "unauthenticated_public_requests_temporarily_disabled",
    11094: "internal_server_error",
    11098: "account_locked",
    12100: "transfer_not_allowed",
    13004: "invalid_credentials",
    13005: "pwd_match_error",
    13006: "security_error",
    13007: "user_not_found",
    13008: "request_failed",
    13009: "unauthorized",
    13018: "invalid_content_type",
    13019: "orderbook_closed",
    13020: "not_found",
    13021: "forbidden",
    13025: "method_switched_off_by_admin",
    13028: "temporarily_unavailable",
    13030: "mmp_trigger",
    13031: "verification_required",
    13032: "non_unique_order_label",
    13042: "cod_not_enabled",
    13043: "quotes_frozen",
    13403: "scope_exceeded",
    13503: "unavailable",
    13666: "request_cancelled_by_user",
    13668: "security_key_authorization_error",
    13777: "replaced",
    13778: "raw_subscriptions_not_available_for_unauthorized",
    13780: "move_positions_over_limit",
    13888: "timed_out",
}


class DeribitError(VenueError):
    """A Deribit error response; the base of every Deribit error class.

    ``codes`` lists the codes a subclass stands for (empty on the bases, which
    :func:`error_for` returns only for codes without a class of their own).
    """

    codes: ClassVar[tuple[int, ...]] = ()
    code: int

    def __init__(self, code: int, message: str = "", data: Any = None) -> None:
        super().__init__(code, message, data)


# -- families -----------------------------------------------------------------------


class AuthError(DeribitError):
    """Authentication or authorisation failed: re-authenticate or fix the credentials."""


class RateLimited(DeribitError):
    """The venue asks the client to slow down (spec 7.3: 10028 also ends the session)."""


class ServiceUnavailable(DeribitError):
    """A transient venue condition; the same request may succeed later."""


class InvalidRequest(DeribitError):
    """The request is malformed or not allowed as sent; resending it will fail again."""


class OrderError(DeribitError):
    """An order was refused, or is not in a state that allows the call."""


# -- auth (spec 2.1, 3.1) -----------------------------------------------------------


class AuthorizationRequired(AuthError):
    codes = (10000,)


class InvalidCredentials(AuthError):
    codes = (13004,)


class Unauthorized(AuthError):
    """Bad, expired or wrong-connection token, or a bad signature (13009)."""

    codes = (13009,)


class Forbidden(AuthError):
    """The token's scope does not allow the method (13021)."""

    codes = (13021,)


class ScopeExceeded(AuthError):
    codes = (13403,)


class RawSubscriptionsNeedAuth(AuthError):
    """A ``raw`` public channel was subscribed on an unauthenticated connection (13778)."""

    codes = (13778,)


# -- rate limits (spec 7.3) -----------------------------------------------------------


class TooManyRequests(RateLimited):
    """Credits exhausted (10028); the venue also terminates the session."""

    codes = (10028,)


class MatchingEngineQueueFull(RateLimited):
    codes = (10047,)


class TooManyConcurrentRequests(RateLimited):
    codes = (10066,)


# -- transient -----------------------------------------------------------------------


class Retry(ServiceUnavailable):
    codes = (10040,)


class SettlementInProgress(ServiceUnavailable):
    codes = (10041,)


class SystemMaintenance(ServiceUnavailable):
    codes = (11051, 11056)


class TemporarilyUnavailable(ServiceUnavailable):
    codes = (13028, 13503)


class TimedOut(ServiceUnavailable):
    """``valid_until`` passed before the venue processed the request (13888)."""

    codes = (13888,)


# -- request errors (spec 1.2, 7.1) ---------------------------------------------------


class BadRequest(InvalidRequest):
    """The request could not be parsed (11050; data ``"invalid json"`` for bad JSON)."""

    codes = (11050, 11029, 11043, 11047, 11049)


class ParseError(InvalidRequest):
    codes = (-32700,)


class RequestTooLarge(InvalidRequest):
    """A frame or POST body over 32 kB (-32600, Deribit's meaning of that code)."""

    codes = (-32600,)


class MethodNotFound(InvalidRequest):
    codes = (-32601,)


class InvalidParams(InvalidRequest):
    """A bad parameter (-32602); ``data`` is ``{"reason": ..., "param": ...}``."""

    codes = (-32602,)

    @property
    def param(self) -> str | None:
        """The parameter Deribit named in ``data``, if any."""
        data = self.data
        if isinstance(data, dict):
            param = data.get("param")
            if isinstance(param, str):
                return param
        return None


class MissingParams(InvalidParams):
    codes = (-32000,)


class MustBeWebsocketRequest(InvalidRequest):
    """A WebSocket-only method was called over HTTP (10030)."""

    codes = (10030,)


class MethodNotImplemented(InvalidRequest):
    codes = (10033,)


class SubscribeError(InvalidRequest):
    codes = (11052,)


class NotFound(InvalidRequest):
    """An instrument (or other named object) was not found (13020)."""

    codes = (13020,)


# -- orders (spec 5) -------------------------------------------------------------------


class InsufficientFunds(OrderError):
    codes = (10009, 10039)


class QuantityTooLow(OrderError):
    codes = (10002,)


class InvalidAmount(OrderError):
    codes = (10021, 10022, 10027)


class InvalidInstrument(OrderError):
    codes = (10020, 10012, 13019)


class PriceOutOfRange(OrderError):
    codes = (10005, 10006, 10007, 10011, 10023)


class PriceWrongTick(OrderError):
    codes = (10043, 10044, 10026)


class PostOnlyReject(OrderError):
    codes = (11054,)


class OrderNotFound(OrderError):
    codes = (10004,)


class NotOpenOrder(OrderError):
    """The order exists but is no longer open (11044)."""

    codes = (11044,)


class AlreadyClosed(NotOpenOrder):
    codes = (10010,)


class AlreadyFilled(NotOpenOrder):
    codes = (11008,)


class Replaced(OrderError):
    """An edit was superseded by another edit (13777)."""

    codes = (13777,)


class MmpTriggered(OrderError):
    codes = (13030,)


class CancelOnDisconnectFailed(DeribitError):
    codes = (10049,)


class CodNotEnabled(DeribitError):
    codes = (13042,)


def _registry() -> dict[int, type[DeribitError]]:
    table: dict[int, type[DeribitError]] = {}
    stack: list[type[DeribitError]] = [DeribitError]
    while stack:
        cls = stack.pop()
        for code in cls.codes:
            if code in table:  # pragma: no cover - a programming error caught by tests
                raise RuntimeError(f"code {code} claimed by {table[code]} and {cls}")
            table[code] = cls
        stack.extend(cls.__subclasses__())
    return table


_BY_CODE = _registry()


def error_for(code: int, message: str = "", data: Any = None) -> DeribitError:
    """The exception for a Deribit error response; :class:`DeribitError` for unknown codes."""
    return _BY_CODE.get(code, DeribitError)(code, message, data)
