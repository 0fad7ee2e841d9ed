"""The method table: JSON-RPC method name -> typed command class, and per-command facts.

:func:`command_type_for` is what a server uses to pick the params type of an incoming
request; :func:`method_info` is what a client uses to send any command, typed or
:class:`GenericRequest`, with one code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from . import _commands_market, _commands_trading  # noqa: F401 - register the classes
from ._commands import DeribitCommand, GenericRequest
from ._limits import RateClass

__all__ = ["COMMANDS", "MethodInfo", "command_type_for", "method_info"]


class MethodInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What the machines need to send a command (see :class:`DeribitCommand`)."""

    method: str
    requires_auth: bool
    ws_only: bool
    rate_class: RateClass
    result_type: Any
    has_response: bool


def _collect() -> dict[str, type[DeribitCommand]]:
    table: dict[str, type[DeribitCommand]] = {}
    stack: list[type[DeribitCommand]] = [DeribitCommand]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if "method" in vars(cls):
            if cls.method in table:  # pragma: no cover - caught by the test suite
                raise RuntimeError(f"{cls.method} is claimed by {table[cls.method]} and {cls}")
            table[cls.method] = cls
    return dict(sorted(table.items()))


COMMANDS: Mapping[str, type[DeribitCommand]] = _collect()
"""Every typed method.  ``public/auth`` maps to :class:`Auth`, whose decode picks the
subclass by ``grant_type``."""


def _info(cls: type[DeribitCommand]) -> MethodInfo:
    return MethodInfo(
        method=cls.method,
        requires_auth=cls.requires_auth,
        ws_only=cls.ws_only,
        rate_class=cls.rate_class,
        result_type=cls.result_type,
        has_response=cls.has_response,
    )


_INFO: dict[type[DeribitCommand], MethodInfo] = {}
for _cls in COMMANDS.values():
    _INFO[_cls] = _info(_cls)


def command_type_for(method: str) -> type[DeribitCommand] | None:
    """The command class for ``method``, or ``None`` if it has no typed class."""
    return COMMANDS.get(method)


def method_info(command: DeribitCommand | GenericRequest) -> MethodInfo:
    """The method facts of ``command``.

    A :class:`GenericRequest` for a method with a typed class gets that class's facts
    (but a plain-JSON result); any other method needs auth when it is ``private/*`` and
    is paced as the default class.
    """
    if isinstance(command, GenericRequest):
        known = COMMANDS.get(command.method)
        if known is not None:
            info = _INFO[known]
            return MethodInfo(
                method=info.method,
                requires_auth=info.requires_auth,
                ws_only=info.ws_only,
                rate_class=info.rate_class,
                result_type=Any,
                has_response=info.has_response,
            )
        return MethodInfo(
            method=command.method,
            requires_auth=command.method.startswith("private/"),
            ws_only=False,
            rate_class=RateClass.NON_MATCHING,
            result_type=Any,
            has_response=True,
        )
    cls = type(command)
    found = _INFO.get(cls)
    if found is None:  # a subclass (the Auth grant types): the ClassVars are inherited
        found = _INFO[cls] = _info(cls)
    return found
