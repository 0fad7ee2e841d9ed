"""Signing (spec 5): the WebSocket payload signature and the REST query signature.

WebSocket (spec 5, steps 1-5): every payload key but ``signature``, sorted the way
JavaScript's ``Array.prototype.sort()`` sorts strings (UTF-16 code units), joined as
``key=value`` with ``&``, no URL-encoding, each value written the way JavaScript turns
it into a string (:func:`js_string`: ``140`` never ``140.0``, ``0.01``, ``true``,
arrays joined with commas); keys whose value is ``None`` are dropped first.  The
signature is the lower-case hex HMAC-SHA256 of that text keyed with the API secret.

REST (spec 4.4, 5): Binance's form, a different algorithm: the URL-encoded query string
*in the order sent*, not sorted (``timestamp=...&recvWindow=5000``), HMAC-SHA256 hex,
appended as ``signature``; the key goes in the ``X-MBX-APIKEY`` header.

The server side (the reference venue) rebuilds the same text from the parsed JSON with
the same :func:`js_string` and compares with :func:`hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from .._errors import LocalProtocolError

__all__ = [
    "js_number",
    "js_string",
    "rest_query",
    "rest_signature",
    "sign_payload",
    "signature",
    "signing_text",
]

# RFC 3986 unreserved characters stay as they are (what ``URLSearchParams`` and
# ``urllib.parse.urlencode(quote_via=quote)`` leave alone).
_SAFE = "-_.~"


def js_number(value: float) -> str:
    """``value`` as JavaScript's ``Number.prototype.toString()`` writes it (ECMA-262
    Number::toString): the shortest round-trip digits, an integral value without a
    decimal point, exponents only below ``1e-6`` and from ``1e21`` on."""
    if isinstance(value, bool):
        raise LocalProtocolError(f"invalid number: expected a number, got {value!r}")
    if isinstance(value, int):
        if abs(value) >= 10**21:
            return js_number(float(value))
        return str(value)
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    text = repr(abs(value))  # the shortest round-trip digits
    mantissa, _, exp_text = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # value = 0.digits * 10**point, i.e. point = n in ECMA-262's notation
    point = len(whole) + (int(exp_text) if exp_text else 0)
    if whole == "0":
        point = -(len(fraction) - len(fraction.lstrip("0"))) + (int(exp_text) if exp_text else 0)
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= point <= 21:
        return sign + digits + "0" * (point - k)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * (-point) + digits
    exponent = point - 1
    exp_sign = "+" if exponent >= 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{head}e{exp_sign}{abs(exponent)}"


def js_string(value: Any) -> str:
    """``value`` as JavaScript's ``String(value)`` writes it (spec 5, step 3)."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return js_number(value)
    if isinstance(value, list | tuple):
        return ",".join("" if v is None else js_string(v) for v in value)
    raise LocalProtocolError(
        f"invalid payload value {value!r:.80}: expected a str, number, bool or list "
        "(an object would be signed as '[object Object]')"
    )


def _js_order(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def signing_text(payload: Mapping[str, Any]) -> str:
    """The text signed for ``payload`` (spec 5): sorted ``k=v`` pairs joined by ``&``,
    ``signature`` and ``None`` values left out."""
    keys = sorted(
        (k for k, v in payload.items() if k != "signature" and v is not None), key=_js_order
    )
    return "&".join(f"{key}={js_string(payload[key])}" for key in keys)


def signature(secret: str, text: str) -> str:
    """Lower-case hex HMAC-SHA256 of ``text`` keyed with ``secret`` (both UTF-8)."""
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def sign_payload(
    payload: Mapping[str, Any], *, api_key: str, secret: str, timestamp: int
) -> dict[str, Any]:
    """``payload`` with ``apiKey``, ``timestamp`` and its ``signature`` (spec 5); ``None``
    values are dropped (they would not be signed)."""
    signed = {k: v for k, v in payload.items() if v is not None and k != "signature"}
    signed["apiKey"] = api_key
    signed["timestamp"] = timestamp
    signed["signature"] = signature(secret, signing_text(signed))
    return signed


def rest_query(params: Iterable[tuple[str, Any]]) -> str:
    """The URL-encoded query of ``params`` in the order given (values written as
    JavaScript writes them, so a float ``0.1`` is ``0.1`` and ``1.0`` is ``1``)."""
    return "&".join(
        f"{quote(key, safe=_SAFE)}={quote(js_string(value), safe=_SAFE)}"
        for key, value in params
        if value is not None
    )


def rest_signature(secret: str, query: str) -> str:
    """The REST signature of ``query`` as sent (spec 4.4, 5): no sorting."""
    return signature(secret, query)
