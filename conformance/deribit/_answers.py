"""What a method handler returns or raises: :class:`Answer`, :class:`Refusal`, and the
parameter and scope checks the handlers share (spec 1.2, 2.4, 7.1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from tradewire.protocol.deribit._errors import ERROR_MESSAGES
from tradewire.protocol.deribit.server import (
    RequestReceived,
)

from .. import market as mk

__all__ = [
    "Answer",
    "Refusal",
    "bool_param",
    "int_param",
    "invalid",
    "optional_int_param",
    "require",
    "text_param",
]

_LEVELS = {"none": 0, "read": 1, "read_write": 2}


class Refusal(Exception):
    """The request is answered with Deribit error ``code``."""

    def __init__(self, code: int, data: Any = None, message: str | None = None) -> None:
        self.code = code
        self.message = message or ERROR_MESSAGES.get(code, "error")
        self.data = data
        super().__init__(f"{code}: {self.message}")


def invalid(param: str, reason: str) -> Refusal:
    return Refusal(-32602, {"reason": reason, "param": param})


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """What a request produced: its ``result``, the market ``events`` to fan out, and the
    id of an order it placed (for cancel-on-disconnect)."""

    result: Any
    events: Sequence[mk.MarketEvent] = ()
    placed: str | None = None


def _level(scope: str | None, area: str) -> int:
    for token in (scope or "").split():
        name, _, value = token.partition(":")
        if name == area:
            return _LEVELS.get(value, 0)
    return 0


def require(event: RequestReceived, area: str, level: int) -> None:
    if _level(event.scope, area) < level:
        wanted = "read_write" if level == 2 else "read"
        raise Refusal(13021, {"reason": f"scope {area}:{wanted} required"})


def int_param(params: Mapping[str, Any], name: str, default: int) -> int:
    value = params.get(name, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise invalid(name, "expected an integer") from None
    if number < 1:
        raise invalid(name, "expected an integer >= 1")
    return number


def text_param(params: Mapping[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise Refusal(-32000, {"reason": "missing", "param": name})
    return value


def optional_int_param(params: Mapping[str, Any], name: str) -> int | None:
    """An integer param that may be left out (HTTP GET sends it as a string)."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise invalid(name, "expected an integer")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(name, "expected an integer") from None


def bool_param(params: Mapping[str, Any], name: str, default: bool = False) -> bool:
    """A boolean param: ``true``/``false``, as JSON or (HTTP GET, deribit-py) as text."""
    value = params.get(name, default)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise invalid(name, "expected true or false")
