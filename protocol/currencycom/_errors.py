"""Currency.com errors (spec 2.4): one exception type per documented code, and what each
means for the client machine (:func:`classify`).

Errors come as ``{"code": -1121, "msg": "Invalid symbol."}`` (REST bodies, and the
payload of a WebSocket answer whose ``status`` is not ``"OK"``); the code may arrive as a
string (``"-1128"``, spec 2.4), so :func:`error_for` takes both and keeps an int when the
text is one.  Codes follow Binance's numbering; the table names the ones the venue's
documents and the third-party clients record.
"""

from __future__ import annotations

from typing import Any

from .._errors import RequestFailure, VenueError
from ..session import ErrorClass

__all__ = [
    "BadAPIKeyFormat",
    "CancelRejected",
    "CurrencycomError",
    "FilterFailure",
    "IllegalCharacters",
    "InvalidAPIKey",
    "InvalidParameters",
    "InvalidSignature",
    "InvalidSymbol",
    "MandatoryParameterMissing",
    "NewOrderRejected",
    "NoSuchOrder",
    "TimestampOutsideRecvWindow",
    "TooManyRequests",
    "UnknownError",
    "classify",
    "code_number",
    "error_for",
]


class CurrencycomError(VenueError):
    """A venue error: ``code`` (an int when the venue's code is a number, even one sent
    as a string), ``message`` (its ``msg``) and ``status`` (the envelope's ``status``,
    ``None`` for REST)."""

    def __init__(self, code: int | str, message: str, data: Any = None) -> None:
        super().__init__(code, message, data)
        self.status: str | None = None


class UnknownError(CurrencycomError):
    """-1000: an unknown error while processing the request (retried like no answer)."""


class TooManyRequests(CurrencycomError):
    """-1003: the rate limit was broken."""


class FilterFailure(CurrencycomError):
    """-1013: an order failed a filter (LOT_SIZE, MIN_NOTIONAL ...)."""


class TimestampOutsideRecvWindow(CurrencycomError):
    """-1021: the request's ``timestamp`` is outside ``recvWindow`` of the venue's clock."""


class InvalidSignature(CurrencycomError):
    """-1022: the signature does not match the payload."""


class IllegalCharacters(CurrencycomError):
    """-1100: a parameter has illegal characters."""


class MandatoryParameterMissing(CurrencycomError):
    """-1102: a mandatory parameter was not sent, was empty or malformed."""


class InvalidSymbol(CurrencycomError):
    """-1121: the symbol is not listed."""


class InvalidParameters(CurrencycomError):
    """-1128: a combination of parameters is invalid (bad limit price, not a leverage
    symbol, no such account ...)."""


class NewOrderRejected(CurrencycomError):
    """-2010: the order was rejected (insufficient balance, market closed ...)."""


class CancelRejected(CurrencycomError):
    """-2011: the cancel was rejected."""


class NoSuchOrder(CurrencycomError):
    """-2013: the order does not exist."""


class BadAPIKeyFormat(CurrencycomError):
    """-2014: the API key format is invalid."""


class InvalidAPIKey(CurrencycomError):
    """-2015: invalid API key, IP or permissions for the action."""


ERRORS: dict[int, type[CurrencycomError]] = {
    -1000: UnknownError,
    -1003: TooManyRequests,
    -1013: FilterFailure,
    -1021: TimestampOutsideRecvWindow,
    -1022: InvalidSignature,
    -1100: IllegalCharacters,
    -1102: MandatoryParameterMissing,
    -1121: InvalidSymbol,
    -1128: InvalidParameters,
    -2010: NewOrderRejected,
    -2011: CancelRejected,
    -2013: NoSuchOrder,
    -2014: BadAPIKeyFormat,
    -2015: InvalidAPIKey,
}
"""Code -> exception type; any other code is a plain :class:`CurrencycomError`."""


def code_number(code: int | str | None) -> int | str | None:
    """``code`` as an int when it is one, even sent as a string (``"-1128"``)."""
    if isinstance(code, str):
        text = code.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if digits.isascii() and digits.isdigit():
            return int(text)
    return code


def error_for(
    code: int | str | None, message: str, *, status: str | None = None
) -> CurrencycomError:
    """The typed error of ``code`` (int or string); ``status`` is the envelope's."""
    number = code_number(code)
    if number is None:
        number = status or "ERROR"
    kind = ERRORS.get(number, CurrencycomError) if isinstance(number, int) else CurrencycomError
    error = kind(number, message)
    error.status = status
    return error


def classify(error: RequestFailure) -> ErrorClass:
    """What a venue error means for the client machine (our choice, from the codes'
    meanings): -1003 is :attr:`ErrorClass.RATE_LIMITED` (the buckets empty, the request
    goes again once they refill, if before its deadline); -1000 and -1021 are
    :attr:`ErrorClass.TRANSIENT` (an internal error, or a timestamp the venue saw as
    stale: a machine's own request goes again and is signed afresh); everything else is
    :attr:`ErrorClass.FINAL`, signature and key refusals included (requests are signed
    one by one: there is no token to renew, so retrying would be refused the same way)."""
    if isinstance(error, TooManyRequests):
        return ErrorClass.RATE_LIMITED
    if isinstance(error, UnknownError | TimestampOutsideRecvWindow):
        return ErrorClass.TRANSIENT
    return ErrorClass.FINAL
