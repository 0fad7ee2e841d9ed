"""Secrets that do not leak: credentials and tokens never appear in repr, str or logs.

:class:`Secret` wraps a credential.  ``repr`` and ``str`` show a fixed mask, so a
command or event holding one can be printed, logged or put in an assertion message
safely; the value comes out only through :meth:`Secret.reveal`, which the machine calls
at the single place it encodes the wire message.  Equality compares values in constant
time, and ``msgspec`` encodes a Secret only through :func:`enc_hook` on purpose.

:class:`RedactingFilter` is a :mod:`logging` filter for the other way secrets leak:
a caller logging a raw outbound message.  It replaces every registered secret value
in a record's message and arguments with the mask.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from typing import Any

__all__ = ["MASK", "RedactingFilter", "Secret", "enc_hook", "reveal"]

MASK = "<redacted>"


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
