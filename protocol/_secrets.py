"""Secrets that do not leak: credentials and tokens never appear in repr, str or logs.

:class:`Secret` wraps a credential.  ``repr`` and ``str`` show a fixed mask, so a
command or event holding one can be printed, logged or put in an assertion message
safely; the value comes out only through :meth:`Secret.reveal`, which the machine calls
at the single place it encodes the wire message.  Equality compares values in constant
time, and ``msgspec`` encodes a Secret only through :func:`enc_hook` on purpose.

:class:`RedactingFilter` is a :mod:`logging` filter for the other way secrets leak:
a caller logging a raw outbound message.  It replaces every registered secret value
in a record's message and arguments with the mask.

:func:`redact` is for what the peer sent and nobody registered: the bytes a stack keeps
of a rejected message, an error body, a malformed request line quoted in an error.  It
masks, in text, the values of names that look like credentials (:func:`is_secret_name`:
``access_token``, ``refresh_token``, ``client_secret``, ``signature``, ``password``,
``apiKey``, ``Authorization`` ...) in the three shapes they come in: JSON members
(``"access_token": "..."``, also a string cut off before its closing quote, so a
truncated message is covered), query and form parameters (``client_secret=...``) and
header lines (``Authorization: ...``).  It works on text rather than parsed JSON
because what it gets is often not parseable: cut at a size limit, or malformed.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterable
from typing import Any, TypeVar

__all__ = ["MASK", "RedactingFilter", "Secret", "enc_hook", "is_secret_name", "redact", "reveal"]

MASK = "<redacted>"

#: What a credential's name contains (case-insensitive; ``_`` or ``-`` optional inside;
#: ``token_type`` excepted).
SECRET_NAME_PARTS = (
    "token",
    "secret",
    "password",
    "passphrase",
    "signature",
    "api_key",
    "private_key",
    "authorization",
    "cookie",
    "credential",
)


class Secret:
    """A credential (API secret, access token, refresh token, JWT, password)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError(f"Secret expects a str, got {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The plain value: call it only where the value goes on the wire."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Secret):
            return hmac.compare_digest(self._value.encode(), other._value.encode())
        return NotImplemented

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("Secret values are not picklable")


def reveal(value: str | Secret) -> str:
    """The plain value of a ``str`` or :class:`Secret`."""
    return value.reveal() if isinstance(value, Secret) else value


# "token_type" (OAuth's "bearer") names no credential
_PARTS = "|".join(re.escape(p).replace("_", "[_-]?") for p in SECRET_NAME_PARTS).replace(
    "token", "token(?![_-]?type)"
)
_SECRET_NAME = re.compile(f"(?:{_PARTS})", re.IGNORECASE)
_NAME = rf"[\w.\-]*(?:{_PARTS})[\w.\-]*"

# Each pattern: group 1 is kept (the name and what joins it to the value), group 2 is
# the value that is masked.
_PATTERNS = (
    # a JSON member whose value is a string, possibly cut before its closing quote; the
    # quotes may be escaped (JSON quoted inside a JSON string)
    rf'(\\?"{_NAME}\\?"\s*:\s*\\?")((?:[^"\\\r\n]|\\[^"\r\n])*)',
    # a JSON member whose value is a bare scalar (a number, true ...)
    rf'(\\?"{_NAME}\\?"\s*:\s*)([^\s,}}\]"\\][^\s,}}\]]*)',
    # a query or form parameter
    rf"(?<![\w.\-])({_NAME}=)([^&\s\"'#;\\]*)",
    # a header line (or "name: value" in prose): the rest of the line
    rf"(?<![\w.\-\"\\])({_NAME}[ \t]*:[ \t]*)([^\r\n'\"\\]*)",
)
_TEXT = [re.compile(p, re.IGNORECASE) for p in _PATTERNS]
_BYTES = [re.compile(p.encode(), re.IGNORECASE) for p in _PATTERNS]
_MASK_BYTES = MASK.encode()

T = TypeVar("T", str, bytes)


def is_secret_name(name: str) -> bool:
    """``name`` (a JSON key, a query parameter, a header) looks like a credential's."""
    return _SECRET_NAME.search(name) is not None


def _mask_text(match: re.Match[str]) -> str:
    return match.group(1) + MASK if match.group(2) else match.group(0)


def _mask_bytes(match: re.Match[bytes]) -> bytes:
    return match.group(1) + _MASK_BYTES if match.group(2) else match.group(0)


def redact(data: T) -> T:
    """``data`` (text or bytes) with the values of credential-like names masked.

    See the module docstring for the shapes recognised.  Anything else is returned as
    it is; bytes that are not UTF-8 are handled as bytes.
    """
    if isinstance(data, bytes):
        out: bytes = data
        for pattern in _BYTES:
            out = pattern.sub(_mask_bytes, out)
        return out
    text: str = data
    for pattern in _TEXT:
        text = pattern.sub(_mask_text, text)
    return text


def enc_hook(obj: Any) -> Any:
    """A msgspec ``enc_hook`` that encodes :class:`Secret` as its value."""
    if isinstance(obj, Secret):
        return obj.reveal()
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


class RedactingFilter(logging.Filter):
    """Replace registered secret values in log records with :data:`MASK`.

    Attach it to the handlers (or loggers) that may see raw protocol traffic::

        redactor = RedactingFilter([client_secret, access_token])
        handler.addFilter(redactor)
        redactor.add(new_token)  # after a refresh
    """

    def __init__(self, secrets: Iterable[str | Secret] = ()) -> None:
        super().__init__()
        self._values: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | Secret) -> None:
        value = reveal(secret)
        if len(value) >= 4:  # masking tiny strings would shred ordinary text
            self._values.add(value)

    def discard(self, secret: str | Secret) -> None:
        self._values.discard(reveal(secret))

    def _scrub(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._values:
            return True
        message = record.getMessage()
        record.msg = self._scrub(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
        return True
