"""HTTP/1.1 messages shared by the client and server stacks.

The HTTP stacks (:mod:`._http_client`, :mod:`._http_server`) run h11 underneath and
speak in the types defined here:

* :class:`HTTPRequest`: a command.  Validated when built (method, path, header syntax),
  so nothing h11 would refuse reaches a connection.  Its :attr:`~HTTPRequest.target` is
  the exact request-target put on the wire, which is what Deribit's
  ``deri-hmac-sha256`` signature covers (path plus query string).
* :class:`HTTPResponse`: the client's event for an answered request.  Any status is an
  answer: a 4xx or 5xx carries the venue's error body, which the venue layer decodes.
* :class:`HTTPRequestReceived`: the server's event for one complete request.

Header names on events are lower-case (as h11 delivers them); values are decoded as
ISO-8859-1, which cannot fail.  ``repr`` never shows credentials: the values of
``Authorization``, ``Proxy-Authorization``, ``Cookie``, ``Set-Cookie`` and of headers
whose name looks like a credential (``X-Api-Secret``, ``X-Api-Key``), query
values whose name looks like a credential (``client_secret``, ``refresh_token`` ...)
and bodies (a ``public/auth`` body carries a secret, its answer a token) are hidden.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlencode

import msgspec

from .._errors import ConnectionLost, LocalProtocolError, RemoteProtocolError
from .._events import Command, Event, require, require_choice
from .._secrets import MASK, Secret, enc_hook, is_secret_name
from .._sources import RequestId

__all__ = [
    "HTTP_METHODS",
    "HTTPRequest",
    "HTTPRequestReceived",
    "HTTPResponse",
    "Headers",
    "InvalidResponse",
]

Headers = tuple[tuple[str, str], ...]

#: Methods :class:`HTTPRequest` accepts (CONNECT and TRACE are not API calls).
HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

#: Headers the stacks own: framing and ``Host`` are written by the stack, never the caller.
STACK_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})

_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9a-zA-Z]+")
_FIELD_VALUE = re.compile(r"(?:[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*)?")
_PATH = re.compile(r"/[\x21-\x7e]*")

_json_encoder = msgspec.json.Encoder(enc_hook=enc_hook)
_json_decoder = msgspec.json.Decoder()


class InvalidResponse(ConnectionLost):
    """The server's answer was unusable (malformed, or over ``max_body_size``).

    The stack closed the connection, so, as with :class:`ConnectionLost`, whether the
    server acted on the request is unknown; code that retries on ``ConnectionLost``
    covers this case too.
    """


def check_headers(headers: Any, argument: str = "headers") -> Headers:
    """Validate caller-supplied headers; returns them as a tuple of pairs.

    Names must be RFC 9110 tokens, values visible ASCII with inner spaces only (no CR,
    LF or NUL: no header injection), and the stack's own headers are refused.
    """
    if isinstance(headers, str | bytes) or not isinstance(headers, Iterable):
        raise LocalProtocolError(f"invalid {argument}: expected (name, value) pairs")
    pairs: list[tuple[str, str]] = []
    for pair in headers:
        if not (isinstance(pair, tuple) and len(pair) == 2):
            raise LocalProtocolError(f"invalid {argument}: {pair!r} is not a (name, value) pair")
        name, value = pair
        if not (isinstance(name, str) and _TOKEN.fullmatch(name)):
            raise LocalProtocolError(
                f"invalid {argument}: header name {name!r} is not an HTTP token"
            )
        if not (isinstance(value, str) and _FIELD_VALUE.fullmatch(value)):
            shown = MASK if secret_header(name) else repr(value)
            raise LocalProtocolError(
                f"invalid {argument}: value of {name!r} ({shown}) must be visible ASCII "
                "with no CR, LF, control characters or leading/trailing whitespace"
            )
        if name.lower() in STACK_HEADERS:
            raise LocalProtocolError(
                f"invalid {argument}: {name!r} is written by the stack; leave it out"
            )
        pairs.append((name, value))
    return tuple(pairs)


def _query_pairs(query: Any) -> tuple[tuple[str, str], ...]:
    """Normalise a query given as pairs or a mapping; JSON spelling for bools."""
    items = query.items() if isinstance(query, Mapping) else query
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise LocalProtocolError("invalid query: expected a mapping or (name, value) pairs")
    pairs: list[tuple[str, str]] = []
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise LocalProtocolError(f"invalid query: {item!r} is not a (name, value) pair")
        name, value = item
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, Secret):
            value = value.reveal()
        elif isinstance(value, int | float):
            value = str(value)
        elif not isinstance(value, str):
            raise LocalProtocolError(
                f"invalid query: value of {name!r} must be str, int, float or bool"
            )
        pairs.append((name, value))
    return tuple(pairs)


def encode_target(path: str, query: tuple[tuple[str, str], ...]) -> str:
    """``path`` plus the query string, every reserved character percent-encoded."""
    if not query:
        return path
    return f"{path}?{urlencode(query, quote_via=quote, safe='')}"


def secret_header(name: str) -> bool:
    """The header may hold a credential: ``Authorization``, ``Cookie`` and the like, or a
    name that says so (``X-Api-Secret``, ``X-Api-Key``, ``X-Auth-Token``)."""
    return name.lower() in SECRET_HEADERS or is_secret_name(name)


def redact_headers(headers: Headers) -> Headers:
    return tuple((n, MASK if secret_header(n) else v) for n, v in headers)


def redact_query(query: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple((n, MASK if is_secret_name(n) else v) for n, v in query)


def find_header(headers: Headers, name: str) -> str | None:
    """The first value of header ``name`` (case-insensitive), or ``None``."""
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def encode_json(obj: Any, argument: str) -> bytes:
    """JSON bytes of ``obj`` (a :class:`Secret` encodes as its value)."""
    try:
        return _json_encoder.encode(obj)
    except (TypeError, ValueError, NotImplementedError) as exc:
        raise LocalProtocolError(f"invalid {argument}: cannot encode as JSON ({exc})") from None


def decode_json(body: bytes, what: str) -> Any:
    try:
        return _json_decoder.decode(body)
    except msgspec.DecodeError as exc:
        raise RemoteProtocolError(f"{what} is not valid JSON: {exc}") from None


def reason_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


class HTTPRequest(Command, frozen=True, kw_only=True):
    """One HTTP request, as a command for :meth:`HTTPClientStack.request`.

    ``path`` is sent as given (percent-encode it yourself); ``query`` pairs are
    percent-encoded by the stack (see :attr:`target`); their values may be given as
    int, float or bool (written ``true``/``false``, as JSON-RPC venues expect) and are
    stored as str.  ``Host``, ``Content-Length``
    and ``Transfer-Encoding`` belong to the stack and are refused in ``headers``.
    """

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Headers = ()
    body: bytes = b""

    def __post_init__(self) -> None:
        require_choice(self.method, "method", HTTP_METHODS)
        require(
            isinstance(self.path, str) and _PATH.fullmatch(self.path) is not None,
            "path",
            f"a str starting with '/' of visible ASCII (percent-encoded), got {self.path!r}",
        )
        require(
            "?" not in self.path and "#" not in self.path,
            "path",
            "no '?' or '#' (pass the query string as query=...)",
        )
        query = _query_pairs(self.query)
        headers = check_headers(self.headers)
        require(
            find_header(headers, "upgrade") is None,
            "headers",
            "no Upgrade header (the WebSocket stack does upgrades)",
        )
        require(isinstance(self.body, bytes), "body", "bytes")
        # Normalise lists to tuples, so requests hash and compare like values.
        msgspec.structs.force_setattr(self, "query", query)
        msgspec.structs.force_setattr(self, "headers", headers)

    @classmethod
    def get(
        cls,
        path: str,
        query: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
        headers: Iterable[tuple[str, str]] = (),
    ) -> HTTPRequest:
        """A GET; ``query`` values may be str, int, float or bool (``true``/``false``)."""
        return cls(method="GET", path=path, query=_query_pairs(query), headers=tuple(headers))

    @classmethod
    def post_json(
        cls,
        path: str,
        obj: Any,
        headers: Iterable[tuple[str, str]] = (),
        query: Mapping[str, Any] | Iterable[tuple[str, Any]] = (),
    ) -> HTTPRequest:
        """A POST of ``obj`` encoded by msgspec, with ``Content-Type: application/json``."""
        headers = tuple(headers)
        if find_header(headers, "content-type") is None:
            headers = (("Content-Type", "application/json"), *headers)
        return cls(
            method="POST",
            path=path,
            query=_query_pairs(query),
            headers=headers,
            body=encode_json(obj, "obj"),
        )

    @property
    def target(self) -> str:
        """The request-target on the wire: path and percent-encoded query string."""
        return encode_target(self.path, self.query)

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)

    def __repr__(self) -> str:
        return (
            f"HTTPRequest(method={self.method!r}, path={self.path!r}, "
            f"query={redact_query(self.query)!r}, headers={redact_headers(self.headers)!r}, "
            f"body=<{len(self.body)} bytes>)"
        )


class HTTPResponse(Event, frozen=True, kw_only=True):
    """The complete answer to request ``request_id`` (any status: 4xx/5xx too)."""

    request_id: RequestId
    request: HTTPRequest
    status: int
    reason: str
    headers: Headers
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON; :class:`RemoteProtocolError` if it is not JSON."""
        return decode_json(self.body, f"response body of request {self.request_id!r}")

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)

    def __repr__(self) -> str:
        return (
            f"HTTPResponse(request_id={self.request_id!r}, status={self.status!r}, "
            f"reason={self.reason!r}, headers={redact_headers(self.headers)!r}, "
            f"body=<{len(self.body)} bytes>)"
        )


class HTTPRequestReceived(Event, frozen=True, kw_only=True):
    """One complete request received by :class:`HTTPServerStack`.

    ``target`` is the raw request-target exactly as sent (verify a
    ``deri-hmac-sha256`` signature over it); ``path`` is its part before ``?``, not
    decoded; ``query`` is parsed and percent-decoded (``+`` reads as a space), blank
    values kept.  The body is de-chunked.
    """

    method: str
    target: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: Headers
    body: bytes
    http_version: str
    peer: str | None = None

    def json(self) -> Any:
        """The body decoded as JSON; :class:`RemoteProtocolError` if it is not JSON."""
        return decode_json(self.body, "request body")

    def header(self, name: str) -> str | None:
        return find_header(self.headers, name)

    def query_param(self, name: str) -> str | None:
        """The first value of query parameter ``name``, or ``None``."""
        for key, value in self.query:
            if key == name:
                return value
        return None

    def __repr__(self) -> str:
        return (
            f"HTTPRequestReceived(method={self.method!r}, path={self.path!r}, "
            f"query={redact_query(self.query)!r}, headers={redact_headers(self.headers)!r}, "
            f"body=<{len(self.body)} bytes>, peer={self.peer!r})"
        )
