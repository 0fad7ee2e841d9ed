"""Rails REST, client side: the token endpoint and the market list, sans-IO (spec 1.1).

:class:`TokenClient` is the small machine between a Rails API key and an
:class:`~tradewire.protocol.HTTPClientStack`: :meth:`TokenClient.request` builds ``POST
/api/v1/token`` with ``X-Api-Key`` / ``X-Api-Secret`` (the secret leaves the
:class:`~tradewire.protocol.Secret` only in that header, whose value no ``repr`` shows),
and :meth:`TokenClient.token` reads the stack's :class:`~tradewire.protocol.HTTPResponse`
into an :class:`AccessToken` or raises the typed error: :class:`InvalidCredentials`
(401), :class:`TooManyRequests` (429: 20 requests a minute per key), another
:class:`RailsError`, or :class:`~tradewire.protocol.RemoteProtocolError` for a body that
is not the documented JSON::

    tokens = TokenClient("my-key", Secret("my-secret"))
    request_id = stack.request(tokens.request(), now)
    ...
    for event in stack.events():                       # HTTPResponse or RequestFailed
        if isinstance(event, HTTPResponse) and event.request_id == request_id:
            machine.send(tokens.token(event).use(), now)   # UseToken: renews the session

:func:`markets_request` / :func:`markets` do the same for ``GET /api/v1/markets``, whose
body the docs do not show (the reference venue's shape, :class:`Market`, is ours).
Error bodies are not documented either; the body's ``body`` or ``message`` text, if
any, becomes the error's message.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._errors import RemoteProtocolError
from .._events import require
from .._secrets import Secret
from ..transport._http import HTTPRequest, HTTPResponse
from ._commands import UseToken
from ._errors import InvalidCredentials, RailsError, error_for

__all__ = [
    "MARKETS_PATH",
    "TOKEN_PATH",
    "AccessToken",
    "Market",
    "TokenClient",
    "markets",
    "markets_request",
]

TOKEN_PATH = "/api/v1/token"
MARKETS_PATH = "/api/v1/markets"


class AccessToken(msgspec.Struct, frozen=True, kw_only=True):
    """A token from the token endpoint: ``expires_in`` seconds of life (1800, spec 1.1)."""

    access_token: Secret
    token_type: str = "Bearer"
    expires_in: float | None = None

    def use(self) -> UseToken:
        """The command giving this token to a ``ClientProtocol``."""
        return UseToken(token=self.access_token, expires_in=self.expires_in)


class _TokenBody(msgspec.Struct, gc=False):
    access_token: str
    token_type: str = "Bearer"
    expires_in: float | None = None


class _ErrorBody(msgspec.Struct, gc=False):
    body: Any = None
    message: Any = None
    error: Any = None


_TOKEN = msgspec.json.Decoder(_TokenBody)
_ERROR = msgspec.json.Decoder(_ErrorBody)


def _error(response: HTTPResponse, what: str) -> RailsError:
    text = ""
    try:
        body = _ERROR.decode(response.body)
    except msgspec.DecodeError:
        pass
    else:
        for value in (body.body, body.message, body.error):
            if isinstance(value, str):
                text = value
                break
    text = text or response.reason
    if response.status == 401 and what == TOKEN_PATH:
        return InvalidCredentials(401, text, what)
    return error_for(response.status, text, what)


class TokenClient:
    """``POST /api/v1/token`` for one API key (see the module docstring)."""

    def __init__(self, api_key: str, api_secret: Secret | str, *, path: str = TOKEN_PATH) -> None:
        require(
            isinstance(api_key, str) and api_key.isprintable() and bool(api_key),
            "api_key",
            "a non-empty str",
        )
        secret = api_secret if isinstance(api_secret, Secret) else Secret(api_secret)
        require(bool(secret), "api_secret", "a non-empty str or Secret")
        self.api_key = api_key
        self.api_secret = secret
        self.path = path

    def __repr__(self) -> str:
        return f"TokenClient(api_key={self.api_key!r}, api_secret=<redacted>)"

    def request(self) -> HTTPRequest:
        """The token request (an empty POST; the key and secret are headers)."""
        return HTTPRequest(
            method="POST",
            path=self.path,
            headers=(("X-Api-Key", self.api_key), ("X-Api-Secret", self.api_secret.reveal())),
        )

    def token(self, response: HTTPResponse) -> AccessToken:
        """The token of a 200 answer; raises the typed error of any other."""
        if response.status != 200:
            raise _error(response, self.path)
        try:
            body = _TOKEN.decode(response.body)
        except msgspec.DecodeError as exc:
            raise RemoteProtocolError(
                f"the token endpoint's answer is not a token: {exc}"
            ) from None
        if not body.access_token:
            raise RemoteProtocolError("the token endpoint answered an empty access_token")
        return AccessToken(
            access_token=Secret(body.access_token),
            token_type=body.token_type,
            expires_in=body.expires_in,
        )


class Market(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One market of ``GET /api/v1/markets`` (the shape is the reference venue's: ours).

    Decimals are exact strings, as everywhere on Rails."""

    market: str
    base_asset: str
    quote_asset: str
    tick_size: str
    step_size: str
    min_quantity: str
    status: str = "active"


class _Markets(msgspec.Struct, rename="camel"):
    data: list[Market]
    status_code: int = 200


_MARKETS = msgspec.json.Decoder(_Markets)


def markets_request(path: str = MARKETS_PATH) -> HTTPRequest:
    """``GET /api/v1/markets``."""
    return HTTPRequest.get(path)


def markets(response: HTTPResponse) -> list[Market]:
    """The markets of a 200 answer; the typed error of any other."""
    if response.status != 200:
        raise _error(response, MARKETS_PATH)
    try:
        return _MARKETS.decode(response.body).data
    except msgspec.DecodeError as exc:
        raise RemoteProtocolError(f"the markets answer is not a market list: {exc}") from None
