"""Venue messages a client must refuse with ``RemoteProtocolError``.

Broken JSON, wrong types, missing fields, bad UTF-8 and bad envelopes, each built from
a valid message so that only the one fault is wrong.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable
from typing import Any

import msgspec
from hypothesis import strategies as st

from tradewire.protocol.deribit import ChannelEvent, ChannelFamily

from ._notifications import _TYPED_FAMILIES, heartbeats, notifications, server_messages
from ._responses import responses
from ._samples import InvalidMessage
from ._values import _floats, _text

__all__ = ["INVALID_MESSAGE_KINDS", "invalid_server_messages", "_INVALID_UTF8", "_MARK", "_WRONG"]

INVALID_MESSAGE_KINDS = (
    "malformed_json",
    "not_an_object",
    "wrong_type",
    "missing_field",
    "invalid_utf8",
    "bad_envelope",
)
"""What :func:`invalid_server_messages` generates (see there)."""

_INVALID_UTF8 = (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\x80", b"\xf4\x90\x80\x80")
_MARK = "\u2063MARK\u2063"
_WRONG: list[list[list[Any]]] = [[[]]]
"""A JSON value no typed field accepts (only ``Any`` fields, which are left alone)."""


def _struct_of(tp: Any) -> type[msgspec.Struct] | None:
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return tp
    for arg in typing.get_args(tp):
        found = _struct_of(arg)
        if found is not None:
            return found
    return None


def _typed_fields(struct: type[msgspec.Struct]) -> list[msgspec.structs.FieldInfo]:
    return [f for f in msgspec.structs.fields(struct) if f.type is not Any]


@st.composite
def _broken_data(draw: st.DrawFn, missing: bool) -> tuple[bytes, str]:
    families = [f for f in _TYPED_FAMILIES if f not in (ChannelFamily.PLATFORM_STATE,)]
    if missing:
        families = [f for f in families if f is not ChannelFamily.PUBLIC_METHODS_STATE]
    sample = draw(notifications(families))
    message = msgspec.json.decode(sample.data)
    event = sample.expected
    assert isinstance(event, ChannelEvent)
    data_field = next(f for f in msgspec.structs.fields(type(event)) if f.name == "data")
    struct = _struct_of(data_field.type)
    assert struct is not None
    data = message["params"]["data"]
    target = data[draw(st.integers(0, len(data) - 1))] if isinstance(data, list) else data
    if missing:
        required = [
            f.name for f in msgspec.structs.fields(struct) if f.required and f.name in target
        ]
        name = draw(st.sampled_from(required))
        del target[name]
        reason = f"{struct.__name__} without its required field {name!r}"
    else:
        present = [f.name for f in _typed_fields(struct) if f.name in target]
        name = draw(st.sampled_from(present))
        target[name] = _WRONG
        reason = f"{struct.__name__}.{name} of a type no field of it accepts"
    return msgspec.json.encode(message), reason


@st.composite
def _bad_envelope(draw: st.DrawFn) -> tuple[bytes, str]:
    response = draw(responses())
    push = draw(st.one_of(notifications(), heartbeats()))
    choices: list[tuple[dict[str, Any], str]] = []
    answer = msgspec.json.decode(response.data)
    answer.pop("method", None)
    wrong_id = draw(st.sampled_from((1.5, True, [1], {"id": 1})))
    choices.append(({**answer, "id": wrong_id}, "a response id that is not an int, str or null"))
    if "error" in answer:
        bad_error = draw(st.sampled_from(("bad_request", 11050, [11050], True)))
        choices.append(({**answer, "error": bad_error}, "an error member that is not an object"))
        body = dict(answer["error"])
        if draw(st.booleans()):
            del body["code"]
            why = "an error object without a code"
        else:
            body["code"] = draw(st.sampled_from(("11050", 1.5, None, [1])))
            why = "an error code that is not an int"
        choices.append(({**answer, "error": body}, why))
    stripped = {k: v for k, v in answer.items() if k not in ("result", "error")}
    choices.append((stripped, "none of method, result and error"))
    note = msgspec.json.decode(push.data)
    wrong_method = draw(st.sampled_from((1, ["subscription"], {"m": 1}, True)))
    choices.append(({**note, "method": wrong_method}, "a method that is not a string"))
    if note.get("method") == "subscription":
        choices.append(
            ({k: v for k, v in note.items() if k != "params"}, "a notification without params")
        )
        bad_params = draw(st.sampled_from(([note["params"]], "params", 5, None)))
        choices.append(({**note, "params": bad_params}, "params that are not an object"))
        params = {k: v for k, v in note["params"].items() if k != "channel"}
        choices.append(({**note, "params": params}, "a notification without a channel"))
        wrong_channel = draw(st.sampled_from((5, None, ["book"], {"c": 1})))
        channel_params = {**note["params"], "channel": wrong_channel}
        choices.append(({**note, "params": channel_params}, "a channel that is not a string"))
    message, reason = draw(st.sampled_from(choices))
    return msgspec.json.encode(message), reason


@st.composite
def _invalid_utf8(draw: st.DrawFn) -> tuple[bytes, str]:
    bad = draw(st.sampled_from(_INVALID_UTF8))
    where = draw(st.sampled_from(("method", "channel", "error message", "usIn", "id")))
    if where in ("method", "channel"):
        push = draw(notifications())
        message = msgspec.json.decode(push.data)
        if where == "method":
            message["method"] = _MARK
        else:
            message["params"]["channel"] = _MARK
    else:
        response = draw(responses(errors=where == "error message"))
        message = msgspec.json.decode(response.data)
        if where == "error message":
            message["error"]["message"] = _MARK
        elif where == "usIn":
            message["usIn"] = _MARK
        else:
            message["id"] = _MARK
    data = msgspec.json.encode(message).replace(_MARK.encode(), bad)
    return data, f"invalid UTF-8 ({bad!r}) in the {where}"


def invalid_server_messages(
    kinds: Iterable[str] | None = None,
) -> st.SearchStrategy[InvalidMessage]:
    """Venue messages a client must refuse with ``RemoteProtocolError`` and nothing else.

    ``kinds`` (default: all of :data:`INVALID_MESSAGE_KINDS`):

    * ``malformed_json``: a valid message cut short, with junk after it, or not JSON;
    * ``not_an_object``: JSON arrays (a batch), numbers, strings, ``null``, booleans;
    * ``wrong_type``: a typed notification whose data has a field of the wrong type;
    * ``missing_field``: a typed notification whose data lacks a required field;
    * ``invalid_utf8``: bad UTF-8 in a string the decoder must read (method, channel,
      error message, ``usIn``, id);
    * ``bad_envelope``: ids, methods, params, channels or error members of the wrong
      type, or missing (a response with neither ``result`` nor ``error``).

    A venue message may also carry fields nobody knows: those are valid and ignored
    (see :func:`with_unknown_fields`), so none are generated here.
    """
    chosen = tuple(INVALID_MESSAGE_KINDS) if kinds is None else tuple(kinds)
    for kind in chosen:
        if kind not in INVALID_MESSAGE_KINDS:
            raise ValueError(f"invalid kind {kind!r}; accepted: {', '.join(INVALID_MESSAGE_KINDS)}")
    return _invalid_server_messages(chosen)


@st.composite
def _invalid_server_messages(draw: st.DrawFn, chosen: tuple[str, ...]) -> InvalidMessage:
    kind = draw(st.sampled_from(chosen))
    if kind == "malformed_json":
        valid = draw(server_messages()).data
        how = draw(st.sampled_from(("cut", "junk", "text")))
        if how == "cut":
            size = draw(st.integers(0, len(valid) - 1))
            return InvalidMessage(kind=kind, data=valid[:size], reason=f"cut after {size} bytes")
        if how == "junk":
            junk = draw(st.sampled_from((b"}", b"]", b",", b"x", b"{", b'"', b"\x00")))
            return InvalidMessage(
                kind=kind, data=valid + junk, reason=f"{junk!r} after the message"
            )
        text = draw(
            st.sampled_from(
                (b"", b"hello", b"{'id': 1}", b'{"id":}', b"NaN", b"{,}", b'{"a" 1}', b"[1,]")
            )
        )
        return InvalidMessage(kind=kind, data=text, reason="not JSON")
    if kind == "not_an_object":
        value = draw(
            st.one_of(
                st.lists(
                    st.just({"jsonrpc": "2.0", "id": 1, "result": "ok"}), min_size=1, max_size=2
                ),
                st.integers(),
                _text(0, 10),
                st.none(),
                st.booleans(),
                _floats(),
            )
        )
        return InvalidMessage(
            kind=kind, data=msgspec.json.encode(value), reason="not a JSON object"
        )
    if kind in ("wrong_type", "missing_field"):
        data, reason = draw(_broken_data(kind == "missing_field"))
        return InvalidMessage(kind=kind, data=data, reason=reason)
    if kind == "invalid_utf8":
        data, reason = draw(_invalid_utf8())
        return InvalidMessage(kind=kind, data=data, reason=reason)
    data, reason = draw(_bad_envelope())
    return InvalidMessage(kind=kind, data=data, reason=reason)
