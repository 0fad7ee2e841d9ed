"""Deriv error codes as exception types, and what each means to the client machine.

Every code of spec 6.1 (legacy and New API) is a subclass of :class:`DerivError` (a
:class:`~tradewire.protocol.VenueError`) named after the code, so callers write
``except deriv.InvalidToken``; :func:`error_for` builds one from a reply's ``error``
object (an unknown code gives a plain :class:`DerivError`).  Families group them:
:class:`AuthError`, :class:`ContractError`, :class:`MarketError`,
:class:`RequestRejected`, :class:`ServerError`.

:func:`classify` is the machine's view (:class:`~tradewire.protocol.session.ErrorClass`):

* ``RateLimit``: rate-limited (the machine waits for its buckets, then retries);
* ``InvalidToken``, ``AuthorizationRequired``, ``Unauthorized``: a credentials refusal
  (on an authorized connection: the venue dropped our authorization; the machine
  authorizes again, at most once a second, and retries subscription changes after it);
* ``WrongResponse``, ``InternalError``: transient (clients retry, spec 6.1);
* everything else is final.
"""

from __future__ import annotations

from typing import Any

from .._errors import RequestFailure, VenueError
from ..session import ErrorClass

__all__ = [
    "CODES",
    "ERROR_MESSAGES",
    "AccessRestricted",
    "AccountDisabled",
    "AlreadySubscribed",
    "AuthError",
    "AuthorizationRequired",
    "BadRequest",
    "ContractBuyValidationError",
    "ContractCreationFailure",
    "ContractError",
    "ContractNotFound",
    "DerivError",
    "InputValidationFailed",
    "InsufficientBalance",
    "InternalError",
    "InvalidAppID",
    "InvalidContractProposal",
    "InvalidGranularity",
    "InvalidParameters",
    "InvalidSellContractProposal",
    "InvalidSymbol",
    "InvalidToken",
    "InvalidtoBuy",
    "InvalidtoSell",
    "MarketError",
    "MarketIsClosed",
    "NoOpenPosition",
    "NoRealtimeQuotes",
    "NotFound",
    "OfferingsValidationError",
    "OutputValidationFailed",
    "PermissionDenied",
    "PriceMoved",
    "RateLimit",
    "RequestRejected",
    "SelfExclusion",
    "ServerError",
    "Unauthorized",
    "UnrecognisedRequest",
    "ValidationError",
    "WrongResponse",
    "classify",
    "error_for",
]


class DerivError(VenueError):
    """A Deriv error reply: ``code`` (str), ``message``, ``data`` (the ``details``)."""

    code: str

    @property
    def details(self) -> Any:
        return self.data


class AuthError(DerivError):
    """Authentication and permission refusals."""


class RequestRejected(DerivError):
    """The request itself was refused (shape, endpoint, rate, duplicate stream)."""


class MarketError(DerivError):
    """The symbol or market refused it."""


class ContractError(DerivError):
    """A contract could not be priced, bought or sold as asked."""


class ServerError(DerivError):
    """The venue failed on its side."""


class UnrecognisedRequest(RequestRejected):
    """No known endpoint key in the request; ``msg_type`` ``"error"``."""


class InputValidationFailed(RequestRejected):
    """Schema validation failed; ``details`` maps each field to what was wrong."""


class ValidationError(RequestRejected):
    """New API: a request failed validation."""


class InvalidAppID(RequestRejected):
    """The connection's ``app_id`` is not valid; the venue closes the connection."""


class AccessRestricted(RequestRejected):
    """A blocked app id (HTTP 403 at the handshake on the real venue)."""


class RateLimit(RequestRejected):
    """A call budget is used up (spec 6.2); the connection stays open."""


class AlreadySubscribed(RequestRejected):
    """This stream already runs on the connection."""


class BadRequest(RequestRejected):
    """Very old server: not JSON, or disallowed characters."""


class InvalidParameters(RequestRejected):
    """Very old server: invalid parameters."""


class NotFound(RequestRejected):
    """New API: what was asked for does not exist."""


class AuthorizationRequired(AuthError):
    """An authenticated call before ``authorize``: "Please log in."."""


class InvalidToken(AuthError):
    """The token is unknown, expired or revoked."""


class PermissionDenied(AuthError):
    """The token lacks the scope the call needs."""


class Unauthorized(AuthError):
    """New API: not authorized."""


class AccountDisabled(AuthError):
    """The account is disabled."""


class SelfExclusion(AuthError):
    """The account excluded itself from trading."""


class InvalidSymbol(MarketError):
    """Unknown symbol, or no offering on it."""


class MarketIsClosed(MarketError):
    """The market is closed (and its variants ``MarketNotOpen``, ``NoOpenPeriod`` ...)."""


class NoRealtimeQuotes(MarketError):
    """The feed licence is delayed: no real-time stream."""


class InvalidGranularity(MarketError):
    """Old server: a candle granularity that is not offered."""


class InvalidContractProposal(ContractError):
    """``buy`` with an unknown, used or expired proposal id; re-price and retry."""


class ContractBuyValidationError(ContractError):
    """Contract parameters refused; ``details.field`` names the field."""


class OfferingsValidationError(ContractError):
    """The contract type is not offered on this symbol."""


class ContractCreationFailure(ContractError):
    """The contract could not be created (a stake above the maximum ...)."""


class PriceMoved(ContractError):
    """The price moved beyond the ``price`` limit of ``buy``."""


class InsufficientBalance(ContractError):
    """Not enough balance."""


class InvalidtoBuy(ContractError):
    """The contract cannot be bought now."""


class InvalidSellContractProposal(ContractError):
    """The contract cannot be sold at this price now."""


class NoOpenPosition(ContractError):
    """No open contract with that id."""


class InvalidtoSell(ContractError):
    """The contract cannot be sold now."""


class ContractNotFound(ContractError):
    """New API: no such contract."""


class WrongResponse(ServerError):
    """A generic backend failure; clients retry."""


class OutputValidationFailed(ServerError):
    """The venue's own reply failed its schema."""


class InternalError(ServerError):
    """New API: the venue failed."""


_CLASSES: tuple[type[DerivError], ...] = (
    UnrecognisedRequest,
    InputValidationFailed,
    ValidationError,
    InvalidAppID,
    AccessRestricted,
    RateLimit,
    AlreadySubscribed,
    BadRequest,
    InvalidParameters,
    NotFound,
    AuthorizationRequired,
    InvalidToken,
    PermissionDenied,
    Unauthorized,
    AccountDisabled,
    SelfExclusion,
    InvalidSymbol,
    MarketIsClosed,
    NoRealtimeQuotes,
    InvalidGranularity,
    InvalidContractProposal,
    ContractBuyValidationError,
    OfferingsValidationError,
    ContractCreationFailure,
    PriceMoved,
    InsufficientBalance,
    InvalidtoBuy,
    InvalidSellContractProposal,
    NoOpenPosition,
    InvalidtoSell,
    ContractNotFound,
    WrongResponse,
    OutputValidationFailed,
    InternalError,
)

CODES: dict[str, type[DerivError]] = {cls.__name__: cls for cls in _CLASSES}
"""Every documented code -> its exception type."""
for _variant in (
    "MarketIsClosedTryVolatility",
    "MarketNotOpen",
    "MarketNotOpenTryVolatility",
    "NoOpenPeriod",
):
    CODES[_variant] = MarketIsClosed

ERROR_MESSAGES: dict[str, str] = {
    "UnrecognisedRequest": "Unrecognised request.",
    "InputValidationFailed": "Input validation failed",
    "InvalidAppID": "Your app_id is invalid.",
    "AuthorizationRequired": "Please log in.",
    "InvalidToken": "The token is invalid.",
    "PermissionDenied": "Permission denied.",
    "RateLimit": "You have reached the rate limit.",
    "AlreadySubscribed": "You are already subscribed.",
    "InvalidSymbol": "The symbol is invalid.",
    "MarketIsClosed": "This market is presently closed.",
    "InvalidContractProposal": "Unknown contract proposal",
    "ContractBuyValidationError": "Contract parameters are not valid.",
    "OfferingsValidationError": "Trading is not offered for this asset.",
    "ContractCreationFailure": "Cannot create contract",
    "PriceMoved": "The underlying market has moved too much since you priced the contract.",
    "InsufficientBalance": "Your account balance is insufficient for this transaction.",
    "InvalidSellContractProposal": "Sell price is not valid.",
    "NoOpenPosition": "This contract was not found among your open positions.",
    "InvalidtoSell": "This contract cannot be sold now.",
    "WrongResponse": "Sorry, an error occurred while processing your request.",
}
"""The venue's text for the codes the reference venue answers (our wording where the
notes give none; marked unverified there)."""


def error_for(code: str, message: str = "", details: Any = None) -> DerivError:
    """The typed exception for an ``error`` object."""
    cls = CODES.get(code, DerivError)
    return cls(code, message, details)


_CREDENTIALS = (InvalidToken, AuthorizationRequired, Unauthorized)
_TRANSIENT = (WrongResponse, InternalError)


def classify(error: RequestFailure) -> ErrorClass:
    """What a Deriv error means for the machine (see the module docstring)."""
    if isinstance(error, RateLimit):
        return ErrorClass.RATE_LIMITED
    if isinstance(error, _CREDENTIALS):
        return ErrorClass.CREDENTIALS
    if isinstance(error, _TRANSIENT):
        return ErrorClass.TRANSIENT
    return ErrorClass.FINAL
