"""How ``tradewire stream`` prints events: JSON lines and status lines.

The readable stream lines (``book TOPIC bid PxQ ask PxQ`` ...) are the venue registry's:
each venue's entry maps its events to the common format (see
:mod:`tradewire.bindings._venue_spec`); :func:`data_json` is the JSON its catch-all line
carries.

Every line is one line (newlines escaped, long ones cut at :data:`MAX_LINE`), and no
encoder here can print a secret: :class:`~tradewire.protocol.Secret` values become the
mask, exceptions their type and message.
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradewire.protocol import MASK, Event, Secret

from ._common import describe

__all__ = [
    "MAX_LINE",
    "PROG",
    "data_json",
    "json_line",
    "one_line",
    "status_line",
]

PROG = "tradewire stream"
MAX_LINE = 2000  # characters of one readable line


def _enc_hook(value: Any) -> Any:
    if isinstance(value, Secret):
        return MASK
    if isinstance(value, BaseException):
        return describe(value)
    if isinstance(value, type):
        return value.__name__
    return repr(value)


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook)


def _fields(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__struct_fields__}


def json_line(event: Event) -> str:
    """One JSON object: ``{"event": <type name>, <the event's fields>...}``."""
    return _ENCODER.encode({"event": type(event).__name__, **_fields(event)}).decode()


def one_line(text: str) -> str:
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 3] + "..."


def data_json(event: Event) -> str:
    """The event's data as JSON (its ``data`` alone when that is its only field besides
    the topic and an empty label), secrets masked."""
    fields = _fields(event)
    fields.pop("channel", None)
    if fields.get("label") is None:
        fields.pop("label", None)
    data = fields.pop("data", None) if list(fields) == ["data"] else fields
    return _ENCODER.encode(data).decode()


def status_line(event: Event) -> str:
    """A one-line summary of a session event (for stderr)."""
    parts = [type(event).__name__]
    for name, value in _fields(event).items():
        shown = describe(value) if isinstance(value, BaseException) else repr(value)
        parts.append(f"{name}={shown}")
    return one_line(f"{PROG}: " + " ".join(parts))
