"""JSON values compared as the replay runner compares them, and events as JSON.

Shared by the recorder (which writes events as ``expect`` lines) and the replay runner
(which compares messages and events with what the transcript holds).
"""

from __future__ import annotations

from typing import Any

import msgspec

from tradewire.protocol import MASK, CloseRequest, Command, Event, Secret, VenueError

from ._transcript_format import _encode_json

__all__ = ["describe_event", "json_difference", "_close_fields", "_pseudo", "_short"]


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{key!r}]"


def json_difference(
    expected: Any, got: Any, *, wildcard: bool = False, subset: bool = False, path: str = "$"
) -> str | None:
    """Where two JSON values first differ (a ``$.a[2].b`` path and both values), or ``None``.

    Numbers keep their JSON type (``1`` is not ``1.0``, ``true`` is not ``1``); object
    key order is ignored.  ``subset``: an expected object matches any object that has
    its keys with matching values.  ``wildcard``: an expected ``"<redacted>"`` matches
    anything.
    """
    if wildcard and expected == MASK and isinstance(expected, str):
        return None
    kind_e, kind_g = _kind(expected), _kind(got)
    if kind_e != kind_g:
        return f"at {path}: expected {_short(expected)} ({kind_e}), got {_short(got)} ({kind_g})"
    if kind_e == "object":
        for key, value in expected.items():
            if key not in got:
                return f"at {path}: missing key {key!r} (expected {_short(value)})"
            found = json_difference(
                value, got[key], wildcard=wildcard, subset=subset, path=_key_path(path, key)
            )
            if found is not None:
                return found
        if not subset:
            extra = [key for key in got if key not in expected]
            if extra:
                return f"at {path}: unexpected key {extra[0]!r} = {_short(got[extra[0]])}"
        return None
    if kind_e == "list":
        if len(expected) != len(got):
            return f"at {path}: expected {len(expected)} items, got {len(got)}"
        for index, (a, b) in enumerate(zip(expected, got, strict=True)):
            found = json_difference(a, b, wildcard=wildcard, subset=subset, path=f"{path}[{index}]")
            if found is not None:
                return found
        return None
    if expected != got:
        return f"at {path}: expected {_short(expected)}, got {_short(got)}"
    return None


def _short(value: Any, limit: int = 120) -> str:
    try:
        text = _encode_json(value).decode("utf-8", "replace")
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- events as JSON ---------------------------------------------------------------------


def _builtin_hook(obj: Any) -> Any:
    if isinstance(obj, Secret):
        return MASK
    if isinstance(obj, BaseException):
        return _describe_exception(obj)
    if isinstance(obj, Command):
        return type(obj).__name__
    if isinstance(obj, msgspec.Raw):  # JSON kept undecoded in an event (Deriv's echo_req)
        return msgspec.json.decode(obj)
    raise NotImplementedError(f"cannot describe {type(obj).__name__}")


def _describe_exception(exc: BaseException) -> dict[str, Any]:
    out: dict[str, Any] = {"type": type(exc).__name__}
    if isinstance(exc, VenueError):
        out["code"] = exc.code
        out["message"] = exc.message
        if exc.data is not None:
            out["data"] = _to_json(exc.data)
    else:
        out["message"] = str(exc)
    return out


def _to_json(value: Any) -> Any:
    if isinstance(value, Command):
        return type(value).__name__
    if isinstance(value, BaseException):
        return _describe_exception(value)
    return msgspec.to_builtins(value, enc_hook=_builtin_hook, str_keys=True)


def describe_event(event: Event) -> tuple[str, dict[str, Any]]:
    """An event as ``(type name, fields as JSON)``: what an ``expect`` line holds.

    Commands inside events are written as their type name, request failures as
    ``{"type", "code", "message", "data"}`` (venue errors) or ``{"type", "message"}``,
    secrets as ``"<redacted>"``.
    """
    fields: dict[str, Any] = {}
    for name in event.__struct_fields__:
        value = getattr(event, name)
        if value is msgspec.UNSET:
            continue
        fields[name] = _to_json(value)
    return type(event).__name__, fields


def _pseudo(name: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    return name, fields


def _close_fields(request: CloseRequest) -> dict[str, Any]:
    return {"code": request.code, "reason": request.reason, "abort": request.abort}
