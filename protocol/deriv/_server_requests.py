"""The Deriv server's view of one request: which call it is, whether it is valid, and the
envelope of its answer (spec 1.2-1.4, 6.1).

* :func:`find_call`: the endpoint key, found among the request's keys (the server scans
  them; key order does not matter); ``None`` is ``UnrecognisedRequest``.
* :func:`validate`: the request against its call's schema (the typed command of
  ``_commands``): unknown properties, missing or mistyped fields, bad values.  A failure
  is ``InputValidationFailed`` with ``details`` naming each field and a message listing
  them, as the venue writes it.
* :func:`echo_of`: ``echo_req``, the request as sent with sensitive fields (the token of
  ``authorize``, ``get_session_token``, ``tokens``) shown as ``"<not shown>"``.
* :data:`MSG_TYPES`: the ``msg_type`` a call answers with when it is not the call's name.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from .._errors import LocalProtocolError
from ._commands import COMMANDS, DerivCommand, ForgetAll, StreamCommand, TicksHistory
from ._models import dec_hook

__all__ = [
    "ENVELOPE_KEYS",
    "MSG_TYPES",
    "NOT_SHOWN",
    "SENSITIVE",
    "SUBSCRIBE_ZERO_OK",
    "Invalid",
    "echo_of",
    "find_call",
    "first_msg_type",
    "validate",
]

NOT_SHOWN = "<not shown>"
SENSITIVE = frozenset({"authorize", "get_session_token", "tokens"})
ENVELOPE_KEYS = frozenset({"req_id", "passthrough", "subscribe", "loginid"})
SUBSCRIBE_ZERO_OK = frozenset({"balance", "website_status"})
"""Calls whose legacy schema also accepts ``subscribe: 0`` (spec 1.2)."""

MSG_TYPES = {"ticks": "tick"}
"""``msg_type`` of a call's answers where it is not the call (``ticks_history`` is
``history`` or ``candles``: :func:`first_msg_type`)."""

_MAX_PASSTHROUGH = 3500


class Invalid(Exception):
    """``InputValidationFailed``: ``details`` maps each field to what is wrong."""

    def __init__(self, details: dict[str, str]) -> None:
        super().__init__(f"Input validation failed: {', '.join(details)}")
        self.details = details

    @property
    def message(self) -> str:
        return str(self)


def find_call(request: dict[str, Any], extra: frozenset[str] = frozenset()) -> str | None:
    """The endpoint key of ``request``: a typed call, else one of ``extra``."""
    for key in request:
        if key in COMMANDS or key in extra:
            return key
    return None


def first_msg_type(call: str, command: Any) -> str:
    """The ``msg_type`` of the first answer to ``call``."""
    if isinstance(command, TicksHistory):
        return "candles" if command.candles else "history"
    return MSG_TYPES.get(call, call)


def echo_of(request: dict[str, Any]) -> dict[str, Any]:
    """``echo_req``: the request as sent, sensitive fields not shown."""
    return {k: (NOT_SHOWN if k in SENSITIVE else v) for k, v in request.items()}


_TYPE_WORDS = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "integer",
    "array": "array",
    "object": "object",
    "null": "null",
}
_PATH = re.compile(r"at `\$\.?([^`\[]*)")


def _word(text: str) -> str:
    words = [_TYPE_WORDS.get(part, part) for part in text.split(" | ") if part != "null"]
    return " or ".join(words) or "null"


def _detail(exc: msgspec.ValidationError) -> dict[str, str]:
    text = str(exc)
    missing = re.match(r"Object missing required field `([^`]+)`", text)
    if missing:
        return {missing.group(1): "Missing required property."}
    found = _PATH.search(text)
    field = found.group(1).split(".")[0] if found else "input"
    typed = re.match(r"Expected `([^`]+)`, got `([^`]+)`", text)
    if typed:
        return {
            field or "input": f"Expected {_word(typed.group(1))} - got {_word(typed.group(2))}."
        }
    return {field or "input": text.split(" - at ", maxsplit=1)[0]}


def _flags(request: dict[str, Any], cls: type[DerivCommand]) -> dict[str, Any]:
    """Wire ``0``/``1`` for the command's bool fields, so the typed convert accepts them."""
    hints = cls.__annotations__
    out = {}
    for key, value in request.items():
        annotation = str(hints.get(key, ""))
        flag = annotation.startswith("bool") and value in (0, 1) and not isinstance(value, bool)
        out[key] = bool(value) if flag else value
    return out


def validate(
    call: str, request: dict[str, Any], *, new_api: bool = False
) -> tuple[DerivCommand, bool]:
    """The typed command of a request and whether it asks for a stream; raises
    :class:`Invalid` with the venue's details."""
    cls = COMMANDS[call]
    errors: dict[str, str] = {}
    req_id = request.get("req_id")
    if "req_id" in request and (
        isinstance(req_id, bool) or not isinstance(req_id, int) or req_id < 0
    ):
        errors["req_id"] = "Expected integer - got " + type(req_id).__name__ + "."
    passthrough = request.get("passthrough")
    if passthrough is not None and (
        not isinstance(passthrough, dict)
        or len(msgspec.json.encode(passthrough)) > _MAX_PASSTHROUGH
    ):
        errors["passthrough"] = "Expected an object of at most 3500 bytes."
    subscribe = request.get("subscribe")
    streaming = False
    if "subscribe" in request:
        allowed = (0, 1) if call in SUBSCRIBE_ZERO_OK or new_api else (1,)
        streams = issubclass(cls, StreamCommand) or call == "buy"
        if not streams or isinstance(subscribe, bool) or (subscribe not in allowed):
            errors["subscribe"] = f"Not in enum list: {', '.join(map(str, allowed))}."
        else:
            streaming = subscribe == 1
    renames = {v: k for k, v in cls.renames.items()} if new_api else {}
    fields: dict[str, Any] = {}
    allowed_keys = set(cls.__struct_fields__) | ENVELOPE_KEYS | {call}
    for key, value in request.items():
        name = renames.get(key, key)
        if name not in allowed_keys or (key in cls.renames and new_api):
            errors[key] = f"Properties not allowed: {key}."
        elif key not in ENVELOPE_KEYS or key == "passthrough":
            fields[name] = value
    if call not in cls.__struct_fields__:  # an endpoint key whose value is always 1
        value = fields.pop(call, None)
        if isinstance(value, bool) or value != 1:
            errors[call] = "Not in enum list: 1."
    if issubclass(cls, ForgetAll) and isinstance(fields.get("forget_all"), str):
        fields["forget_all"] = [fields["forget_all"]]
    if errors:
        raise Invalid(errors)
    try:
        command = msgspec.convert(_flags(fields, cls), cls, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        raise Invalid(_detail(exc)) from None
    except LocalProtocolError as exc:
        text = str(exc)
        found = re.match(r"invalid (\w+)", text)
        raise Invalid({found.group(1) if found else call: text}) from None
    return command, streaming
