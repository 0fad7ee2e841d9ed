"""``deribit.HTTPClientProtocol``: Deribit JSON-RPC over HTTP, client side (spec 1.3, 2.3).

A small sans-IO translator between Deribit commands and the core HTTP types; it sends
nothing itself.  :meth:`HTTPClientProtocol.request` turns a command into an
:class:`~tradewire.protocol.HTTPRequest` for an
:class:`~tradewire.protocol.HTTPClientStack`, and :meth:`HTTPClientProtocol.response`
turns the stack's :class:`~tradewire.protocol.HTTPResponse` into the outcome, the same
``RequestSucceeded`` / ``RequestFailed`` events a WebSocket request resolves with::

    http = HTTPClientProtocol(credentials=Credentials(client_id=..., client_secret=...))
    command = GetAccountSummary(currency="BTC")
    request_id = stack.request(http.request(command, now), now)
    ...
    for event in stack.events():            # HTTPResponse, or the stack's RequestFailed
        if isinstance(event, HTTPResponse) and event.request_id == request_id:
            outcome = http.response(command, event)   # RequestSucceeded | RequestFailed

Forms (spec 1.3).  ``GET /api/v2/{method}?k=v`` by default, the form of every doc
example and of ccxt (params as :func:`http_get_target` writes them); ``post=True`` (per
machine or per request) sends ``POST /api/v2/{method}`` with the JSON-RPC envelope as
the body, its ``id`` from ``ids``.  WebSocket-only methods (subscriptions, heartbeats,
``public/hello``, ``private/logout`` ...) are refused with :class:`LocalProtocolError`
naming the method: the venue would answer 10030 ``must_be_websocket_request``.

Authentication (spec 2.1, 2.3), for methods that need it (``private/*``), or for every
method with ``authenticate_public=True`` (the per-account credit pool instead of the
per-IP one, spec 9.2):

* a bearer token, once :meth:`HTTPClientProtocol.use_token` was given one (usually the
  :class:`AuthResult` of a ``public/auth`` sent through this machine):
  ``Authorization: Bearer <access_token>``.  Tokens expire: send
  :class:`AuthRefreshToken` and pass its result to ``use_token`` again;
* else, with ``credentials``, the ``deri-hmac-sha256`` header, signed over the method,
  the exact request target (path and query string, as put on the wire) and the body;
  the secret never leaves the process whatever the credentials' ``grant_type``;
* else a private method is refused with :class:`LocalProtocolError`.  A command that
  carries its own ``access_token`` param needs no header.

Outcomes.  The status is not looked at (the venue's error status is unverified, spec
1.3): the body is a JSON-RPC envelope.  A ``result`` is decoded with the command's
``result_type`` (``RequestSucceeded``); an ``error`` becomes the typed
:class:`DeribitError` subclass of its code (``RequestFailed``); a body that is not a
JSON-RPC response for this request (a proxy's HTML page, the venue's plain-text 429
for too many connections, a result of the wrong shape, a POST answer with another
``id``) is ``RequestFailed`` with :class:`MalformedResult`, naming the status.  The
stack itself reports timeouts and lost connections.

Time and randomness, as in :class:`ClientProtocol`: no clock is read.  Signatures carry
the epoch milliseconds ``round((now + epoch_offset) * 1000)`` (the venue allows 60 s of
skew) and a nonce from ``nonces``; the default nonce is that timestamp plus a counter
(``"1576074319000-1"``): every signed request needs a nonce of its own, and two may
share a millisecond.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from urllib.parse import parse_qsl

import msgspec

from .._errors import LocalProtocolError, RemoteProtocolError
from .._events import Command, RequestFailed, RequestSucceeded
from .._secrets import Secret
from .._sources import CounterIds, IdSource, RequestId
from ..transport._http import HTTPRequest, HTTPResponse
from ._client_auth import Credentials
from ._client_events import MalformedResult
from ._commands import DeribitCommand, GenericRequest
from ._inbound import ErrorResponse, Response, decode_inbound, decode_result
from ._methods import method_info
from ._models_session import AuthResult
from ._signing import build_http_authorization
from ._wire import API_PREFIX, http_get_target, http_path, http_post_body

__all__ = ["HTTPClientProtocol"]

AnyCommand = DeribitCommand | GenericRequest

_HEADER_SAFE = re.compile(r"[!#-+\--~]+")
"""Visible ASCII without space, ``,`` and ``"``: safe inside the ``deri-hmac-sha256``
header, whose fields are split on commas (``=`` is fine: the value is what follows the
first one)."""


class _Id(msgspec.Struct):
    id: RequestId | None = None


_REQUEST_ID = msgspec.json.Decoder(_Id)


def _check_header_value(name: str, value: str, what: str) -> str:
    if not (isinstance(value, str) and _HEADER_SAFE.fullmatch(value)):
        raise LocalProtocolError(
            f"invalid {name}: {what} {value!r:.40} cannot go into the deri-hmac-sha256 "
            "header; expected visible ASCII without spaces, commas or quotes"
        )
    return value


class HTTPClientProtocol:
    """Deribit commands to HTTP requests and HTTP responses to outcomes (module docstring).

    ``credentials`` sign private requests; ``ids`` numbers POST bodies (default
    :class:`CounterIds`); ``nonces`` and ``epoch_offset`` as for :class:`ClientProtocol`;
    ``post`` picks the default form; ``authenticate_public`` authenticates public
    methods too.
    """

    def __init__(
        self,
        *,
        credentials: Credentials | None = None,
        ids: IdSource | None = None,
        nonces: Callable[[], str] | None = None,
        epoch_offset: float = 0.0,
        post: bool = False,
        authenticate_public: bool = False,
    ) -> None:
        if credentials is not None:
            if not isinstance(credentials, Credentials):
                raise LocalProtocolError(
                    f"invalid credentials: expected None or Credentials, "
                    f"got {type(credentials).__name__}"
                )
            _check_header_value("credentials", credentials.client_id, "client_id")
        if ids is not None and not callable(ids):
            raise LocalProtocolError(f"invalid ids: expected an IdSource (a callable), got {ids!r}")
        if nonces is not None and not callable(nonces):
            raise LocalProtocolError(
                f"invalid nonces: expected a callable returning str, got {nonces!r}"
            )
        if not (
            isinstance(epoch_offset, int | float)
            and not isinstance(epoch_offset, bool)
            and math.isfinite(epoch_offset)
        ):
            raise LocalProtocolError(
                f"invalid epoch_offset: expected seconds (a finite number), got {epoch_offset!r}"
            )
        for name, flag in (("post", post), ("authenticate_public", authenticate_public)):
            if not isinstance(flag, bool):
                raise LocalProtocolError(f"invalid {name}: expected a bool, got {flag!r}")
        self.credentials = credentials
        self.ids: IdSource = ids if ids is not None else CounterIds()
        self.nonces = nonces
        self.epoch_offset = float(epoch_offset)
        self.post = post
        self.authenticate_public = authenticate_public
        self._token: Secret | None = None
        self._signed = 0

    def __repr__(self) -> str:
        client_id = self.credentials.client_id if self.credentials is not None else None
        return (
            f"HTTPClientProtocol(client_id={client_id!r}, token={self.has_token!r}, "
            f"post={self.post!r})"
        )

    # -- authentication -------------------------------------------------------------------

    @property
    def has_token(self) -> bool:
        """A bearer token is set (see :meth:`use_token`)."""
        return self._token is not None

    def use_token(self, token: AuthResult | Secret | str | None) -> None:
        """Authenticate later requests with ``Authorization: Bearer``.

        ``token`` is the result of ``public/auth`` (or ``exchange_token`` /
        ``fork_token``), an access token, or ``None`` to go back to signing (or to no
        authentication, without credentials).  The machine does not track the token's
        lifetime: refresh it with :class:`AuthRefreshToken` before ``expires_in`` ends.
        """
        if isinstance(token, AuthResult):
            token = token.access_token
        if isinstance(token, str):
            token = Secret(token)
        if token is not None and not isinstance(token, Secret):
            raise LocalProtocolError(
                "invalid token: expected an AuthResult, an access token (str or Secret) or None"
            )
        if token is not None and not _HEADER_SAFE.fullmatch(token.reveal()):
            raise LocalProtocolError(
                "invalid token: expected visible ASCII without spaces, commas or quotes"
            )
        self._token = token

    def _timestamp_and_nonce(self, now: float) -> tuple[int, str]:
        timestamp = round((now + self.epoch_offset) * 1000)
        if self.nonces is not None:
            nonce = self.nonces()
        else:
            self._signed += 1
            nonce = f"{timestamp}-{self._signed}"
        return timestamp, _check_header_value("nonces", nonce, "nonce")

    def _authorization(
        self, command: AnyCommand, method: str, target: str, body: bytes, now: float
    ) -> tuple[tuple[str, str], ...]:
        """The ``Authorization`` header the request needs, if any."""
        info = method_info(command)
        has_own_token = (
            "access_token" in command.params
            if isinstance(command, GenericRequest)
            else command.access_token is not None
        )
        if has_own_token or not (info.requires_auth or self.authenticate_public):
            return ()
        if self._token is not None:
            return (("Authorization", f"Bearer {self._token.reveal()}"),)
        credentials = self.credentials
        if credentials is None:
            if not info.requires_auth:
                return ()  # authenticate_public, but nothing to authenticate with
            raise LocalProtocolError(
                f"{info.method} needs authentication: pass credentials= to "
                "HTTPClientProtocol, call use_token(), or give the command access_token="
            )
        timestamp, nonce = self._timestamp_and_nonce(now)
        value = build_http_authorization(
            credentials.client_id,
            credentials.client_secret,
            timestamp_ms=timestamp,
            nonce=nonce,
            method=method,
            uri=target,
            body=body,
        )
        return (("Authorization", value),)

    # -- commands to requests -------------------------------------------------------------

    def request(self, command: Command, now: float, *, post: bool | None = None) -> HTTPRequest:
        """The HTTP request for ``command`` at ``now`` (``post`` overrides the default form).

        Raises :class:`LocalProtocolError` for a WebSocket-only method (naming it), a
        private method with nothing to authenticate it, or a command that is not a
        Deribit command.
        """
        if not isinstance(command, DeribitCommand | GenericRequest):
            raise LocalProtocolError(
                f"invalid command: expected a Deribit command or GenericRequest, "
                f"got {type(command).__name__}"
            )
        use_post = self.post if post is None else post
        if not isinstance(use_post, bool):
            raise LocalProtocolError(f"invalid post: expected a bool or None, got {post!r}")
        if use_post:
            path = http_path(command)  # refuses WebSocket-only methods
            body = http_post_body(self.ids(), command)
            auth = self._authorization(command, "POST", path, body, now)
            return HTTPRequest(
                method="POST",
                path=path,
                headers=(("Content-Type", "application/json"), *auth),
                body=body,
            )
        try:
            target = http_get_target(command)  # refuses WebSocket-only methods
        except UnicodeError as exc:
            raise LocalProtocolError(f"invalid params for {command.method}: {exc}") from None
        path, _, query = target.partition("?")
        pairs = tuple(parse_qsl(query, keep_blank_values=True))
        auth = self._authorization(command, "GET", target, b"", now)
        request = HTTPRequest(method="GET", path=path, query=pairs, headers=auth)
        if request.target != target:  # pragma: no cover - both encode the same way
            raise LocalProtocolError(f"cannot send {target!r:.80} as it was signed")
        return request

    # -- responses to outcomes ------------------------------------------------------------

    def response(
        self, command: Command, response: HTTPResponse
    ) -> RequestSucceeded | RequestFailed:
        """The outcome of ``command`` from its ``response`` (see the module docstring).

        ``request_id`` of the outcome is the stack's (``response.request_id``).  Raises
        :class:`LocalProtocolError` only when ``response`` answers another method.
        """
        if not isinstance(command, DeribitCommand | GenericRequest):
            raise LocalProtocolError(
                f"invalid command: expected a Deribit command or GenericRequest, "
                f"got {type(command).__name__}"
            )
        if not isinstance(response, HTTPResponse):
            raise LocalProtocolError(
                f"invalid response: expected an HTTPResponse, got {type(response).__name__}"
            )
        method = method_info(command).method
        sent = response.request
        if sent.path != API_PREFIX + method:
            raise LocalProtocolError(
                f"invalid response: it answers {sent.method} {sent.path!r:.80}, "
                f"not {method} (pass the command the request was built from)"
            )
        request_id = response.request_id

        def malformed(reason: str) -> RequestFailed:
            error = MalformedResult(f"HTTP {response.status} for {method}: {reason}")
            return RequestFailed(request_id=request_id, command=command, error=error)

        try:
            message = decode_inbound(response.body)
        except RemoteProtocolError as exc:
            return malformed(f"the body is not a JSON-RPC response ({exc})")
        if not isinstance(message, Response | ErrorResponse):
            return malformed(f"the body is a {type(message).__name__}, not a response")
        if sent.method == "POST" and message.id is not None:
            try:
                sent_id = _REQUEST_ID.decode(sent.body).id
            except msgspec.DecodeError:  # pragma: no cover - we encoded it
                sent_id = None
            if message.id != sent_id:
                return malformed(f"the answer's id {message.id!r:.40} is not {sent_id!r:.40}")
        if isinstance(message, ErrorResponse):
            return RequestFailed(request_id=request_id, command=command, error=message.exception())
        try:
            result = decode_result(command, message.result)
        except RemoteProtocolError as exc:
            return malformed(str(exc))
        return RequestSucceeded(request_id=request_id, command=command, result=result)
