"""Rails errors as types: one class per ``statusCode`` family (spec 2, 8, 1.1).

A Rails answer with ``data.statusCode >= 400`` is an error, whatever its ``resultType``
(spec 8): :func:`error_for` turns it into the class of its code, with ``code`` the
status, ``message`` the venue's ``body`` and ``data`` the ``resultType``.  The upgrade's
refusals (spec 1, 1.1) have their own subclasses: :class:`TokenRejected` (401: a bad or
expired token) and :class:`ReadOnlyKey` (403: a read-only key asked for a private stream;
refusing it at the upgrade is our reading, the docs do not say where the 403 comes).
:func:`upgrade_error` gives the one for a refused upgrade's status.
"""

from __future__ import annotations

from .._errors import VenueError

__all__ = [
    "BadRequest",
    "Forbidden",
    "InvalidCredentials",
    "NotFound",
    "OrderRefused",
    "RailsError",
    "ReadOnlyKey",
    "ServerError",
    "TokenRejected",
    "TooManyRequests",
    "Unauthorized",
    "error_for",
    "upgrade_error",
]


class RailsError(VenueError):
    """A Rails error answer: ``code`` is the ``statusCode``, ``message`` the ``body``,
    ``data`` the ``resultType`` it came in (or the HTTP path for the REST endpoints)."""

    code: int


class BadRequest(RailsError):
    """400: the request was refused (validation, business rule)."""


class OrderRefused(BadRequest):
    """400 in a ``rejectOrder`` message: the order was refused (a post-only order that
    would have crossed, spec 4.2)."""


class Unauthorized(RailsError):
    """401: the credentials were not accepted."""


class TokenRejected(Unauthorized):
    """401 at the WebSocket upgrade: the JWT is missing, malformed, expired or revoked."""


class InvalidCredentials(Unauthorized):
    """401 from ``POST /api/v1/token``: the API key or secret is wrong (spec 1.1)."""


class Forbidden(RailsError):
    """403: the key may not do this."""


class ReadOnlyKey(Forbidden):
    """403 at the WebSocket upgrade: a read-only key asked for a private stream
    (``orders``, ``trades``)."""


class NotFound(RailsError):
    """404: no such order (or market)."""


class TooManyRequests(RailsError):
    """429: a rate limit (6000 order requests a minute, spec 4; 20 token requests a
    minute per key, spec 1.1)."""


class ServerError(RailsError):
    """5xx: the venue failed; worth trying again."""


_BY_CODE: dict[int, type[RailsError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    429: TooManyRequests,
}


def error_for(status: int, body: str, result_type: str | None = None) -> RailsError:
    """The error for an answer with ``statusCode`` ``status`` (>= 400)."""
    if result_type == "rejectOrder" and status == 400:
        return OrderRefused(status, body, result_type)
    kind = _BY_CODE.get(status)
    if kind is None:
        kind = ServerError if status >= 500 else RailsError
    return kind(status, body, result_type)


def upgrade_error(status: int, body: bytes = b"") -> RailsError:
    """The error of a refused WebSocket upgrade (``UpgradeRejected.status``)."""
    text = body[:200].decode("utf-8", "replace").strip()
    if status == 401:
        return TokenRejected(401, text or "the token was not accepted", "upgrade")
    if status == 403:
        return ReadOnlyKey(403, text or "this key may not open private streams", "upgrade")
    return error_for(status, text, "upgrade")
