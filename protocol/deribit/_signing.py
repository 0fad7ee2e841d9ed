"""Deribit request signatures: WebSocket ``client_signature`` and the HTTP header.

WebSocket ``public/auth`` with ``grant_type=client_signature`` (spec 2.2, [doc][verified])::

    StringToSign = str(timestamp) + "\\n" + nonce + "\\n" + data     # data defaults to ""
    signature    = lowercase_hex(HMAC_SHA256(client_secret, StringToSign))

HTTP ``Authorization: deri-hmac-sha256 id=..,ts=..,sig=..,nonce=..`` (spec 2.3)::

    RequestData  = UPPER(method) + "\\n" + URI + "\\n" + body + "\\n"
    StringToSign = str(timestamp) + "\\n" + nonce + "\\n" + RequestData

``URI`` is the path plus query string (no scheme or host), ``body`` is empty for GET.
Keys and messages are UTF-8.  The header is built in ccxt's order ``id,ts,sig,nonce``;
the parser accepts any order, spaces after commas and a case-insensitive scheme, because
the docs themselves show three variants.  Verification compares in constant time.

Timestamps are passed in (milliseconds); this module never reads a clock.  Freshness
(60 s) and nonce reuse are the server machine's job, since they need state and time.
"""

from __future__ import annotations

import hashlib
import hmac

import msgspec

from .._errors import RemoteProtocolError
from .._secrets import Secret, reveal

__all__ = [
    "HMAC_SCHEME",
    "HmacAuthorization",
    "build_http_authorization",
    "http_signature",
    "http_string_to_sign",
    "parse_http_authorization",
    "signature",
    "string_to_sign",
    "verify_http_authorization",
    "verify_signature",
]

HMAC_SCHEME = "deri-hmac-sha256"


def _hmac_hex(secret: Secret | str, message: str | bytes) -> str:
    key = reveal(secret).encode("utf-8")
    raw = message.encode("utf-8") if isinstance(message, str) else message
    return hmac.new(key, raw, hashlib.sha256).hexdigest()


def string_to_sign(timestamp_ms: int, nonce: str, data: str = "") -> str:
    """The WebSocket ``client_signature`` string: ``ts\\nnonce\\ndata``."""
    return f"{int(timestamp_ms)}\n{nonce}\n{data}"


def signature(secret: Secret | str, timestamp_ms: int, nonce: str, data: str = "") -> str:
    """The lower-case hex ``signature`` for ``public/auth`` ``client_signature`` (spec 2.2)."""
    return _hmac_hex(secret, string_to_sign(timestamp_ms, nonce, data))


def verify_signature(
    secret: Secret | str, timestamp_ms: int, nonce: str, data: str, candidate: str
) -> bool:
    """Whether ``candidate`` is the right signature; compares in constant time."""
    expected = signature(secret, timestamp_ms, nonce, data)
    return hmac.compare_digest(expected.encode(), candidate.lower().encode("utf-8", "replace"))


def http_string_to_sign(
    timestamp_ms: int, nonce: str, method: str, uri: str, body: str | bytes = ""
) -> str:
    """The HTTP string to sign (spec 2.3); all five newlines are always present."""
    text = body.decode("utf-8", "surrogateescape") if isinstance(body, bytes) else body
    return f"{int(timestamp_ms)}\n{nonce}\n{method.upper()}\n{uri}\n{text}\n"


def http_signature(
    secret: Secret | str,
    timestamp_ms: int,
    nonce: str,
    *,
    method: str,
    uri: str,
    body: str | bytes = "",
) -> str:
    """The lower-case hex ``sig`` of the ``deri-hmac-sha256`` header (spec 2.3).

    A ``bytes`` body is signed as sent, so a server can verify a body that is not UTF-8.
    """
    head = f"{int(timestamp_ms)}\n{nonce}\n{method.upper()}\n{uri}\n".encode()
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    return _hmac_hex(secret, head + raw + b"\n")


class HmacAuthorization(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of a ``deri-hmac-sha256`` ``Authorization`` header."""

    client_id: str
    timestamp: int
    signature: str
    nonce: str

    def header_value(self) -> str:
        """The header value, in ccxt's field order ``id,ts,sig,nonce``."""
        return (
            f"{HMAC_SCHEME} id={self.client_id},ts={self.timestamp},"
            f"sig={self.signature},nonce={self.nonce}"
        )


def build_http_authorization(
    client_id: str,
    secret: Secret | str,
    *,
    timestamp_ms: int,
    nonce: str,
    method: str,
    uri: str,
    body: str | bytes = "",
) -> str:
    """The ``Authorization`` header value for one HTTP request (spec 2.3)."""
    sig = http_signature(secret, timestamp_ms, nonce, method=method, uri=uri, body=body)
    return HmacAuthorization(
        client_id=client_id, timestamp=int(timestamp_ms), signature=sig, nonce=nonce
    ).header_value()


_FIELDS = {"id": "client_id", "ts": "timestamp", "sig": "signature", "nonce": "nonce"}


def parse_http_authorization(value: str) -> HmacAuthorization:
    """Parse a ``deri-hmac-sha256`` header value sent by a client.

    Fields may come in any order, with optional spaces around commas and ``=``; unknown
    fields are ignored.  Raises :class:`RemoteProtocolError` when the scheme is not
    ``deri-hmac-sha256``, a field is missing or repeated, or ``ts`` is not an integer.
    """
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != HMAC_SCHEME:
        raise RemoteProtocolError(f"authorization scheme is not {HMAC_SCHEME}: {scheme[:32]!r}")
    found: dict[str, str] = {}
    for item in rest.split(","):
        key, sep, field_value = item.partition("=")
        key = key.strip().lower()
        if not key and not sep:
            continue
        if not sep:
            raise RemoteProtocolError(f"{HMAC_SCHEME} field without '=': {item.strip()[:32]!r}")
        name = _FIELDS.get(key)
        if name is None:
            continue
        if name in found:
            raise RemoteProtocolError(f"{HMAC_SCHEME} field {key!r} given twice")
        found[name] = field_value.strip()
    missing = [key for key, name in _FIELDS.items() if name not in found]
    if missing:
        raise RemoteProtocolError(f"{HMAC_SCHEME} header misses {', '.join(missing)}")
    ts = found["timestamp"]
    if not (ts.isascii() and ts.isdigit()) or len(ts) > 20:
        raise RemoteProtocolError(f"{HMAC_SCHEME} ts is not an integer: {ts[:32]!r}")
    return HmacAuthorization(
        client_id=found["client_id"],
        timestamp=int(ts),
        signature=found["signature"],
        nonce=found["nonce"],
    )


def verify_http_authorization(
    authorization: HmacAuthorization,
    secret: Secret | str,
    method: str,
    uri: str,
    body: str | bytes = "",
) -> bool:
    """Whether the header's ``sig`` matches the request; compares in constant time.

    Freshness of ``timestamp`` and single use of ``nonce`` are left to the caller.
    """
    expected = http_signature(
        secret, authorization.timestamp, authorization.nonce, method=method, uri=uri, body=body
    )
    candidate = authorization.signature.lower().encode("utf-8", "replace")
    return hmac.compare_digest(expected.encode(), candidate)
