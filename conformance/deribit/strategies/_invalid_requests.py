"""Client messages a venue must answer with one error, and the answer tradewire gives.

Each is built from a valid request with one fault, and says the code and id
``ServerProtocol`` answers with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from hypothesis import strategies as st

from tradewire.protocol import RequestId
from tradewire.protocol.deribit import (
    MAX_MESSAGE_SIZE,
    Auth,
    DeribitCommand,
    EnableCancelOnDisconnect,
    GetAccountSummary,
    GetInstruments,
    GetLastTradesByInstrument,
    GetOpenOrders,
    GetOrderBook,
    SetHeartbeat,
    encode_request,
)

from ._commands import command_types, commands, requests
from ._invalid_messages import _INVALID_UTF8, _MARK, _WRONG
from ._samples import InvalidRequest
from ._values import _text

__all__ = ["INVALID_REQUEST_KINDS", "invalid_requests"]

INVALID_REQUEST_KINDS = (
    "malformed_json",
    "not_an_object",
    "bad_id",
    "bad_jsonrpc",
    "bad_method",
    "positional_params",
    "unknown_method",
    "missing_param",
    "wrong_param_type",
    "invalid_param_value",
    "oversize",
    "invalid_utf8",
)
"""What :func:`invalid_requests` generates (see there)."""

_BAD_VALUES: dict[type[DeribitCommand], list[tuple[str, Any]]] = {
    SetHeartbeat: [("interval", 5), ("interval", 0), ("interval", -10)],
    GetLastTradesByInstrument: [("count", 0), ("count", 1001), ("sorting", "sideways")],
    GetOrderBook: [("depth", 7), ("depth", 0)],
    GetInstruments: [("kind", "perpetual"), ("currency", "btc")],
    GetOpenOrders: [("type", "everything")],
    EnableCancelOnDisconnect: [("scope", "global")],
    GetAccountSummary: [("currency", "btc"), ("subaccount_id", -1)],
}


def _invalid(
    kind: str, data: bytes, reason: str, code: int, request_id: RequestId | None
) -> InvalidRequest:
    return InvalidRequest(kind=kind, data=data, reason=reason, code=code, request_id=request_id)


def invalid_requests(kinds: Iterable[str] | None = None) -> st.SearchStrategy[InvalidRequest]:
    """Client messages a venue must answer with one error (and nothing else).

    ``kinds`` (default: all of :data:`INVALID_REQUEST_KINDS`), with tradewire's answers:

    * ``malformed_json`` (11050 ``bad_request``, data ``"invalid json"``, no id: what the
      live venue sends), ``not_an_object`` (11050, no id), ``bad_id`` (11050, no id);
    * ``bad_jsonrpc``, ``bad_method`` (missing, empty, not a string) and
      ``positional_params`` (params an array, a string, a number): 11050 with the id;
    * ``unknown_method``: -32601 ``Method not found``;
    * ``missing_param``: -32000 ``Missing params``; ``wrong_param_type`` and
      ``invalid_param_value`` (e.g. a heartbeat interval under 10): -32602;
    * ``oversize``: a frame over 32 kB: -32600, no id;
    * ``invalid_utf8``: in the method (11050, no id) or in params (-32602).
    """
    chosen = tuple(INVALID_REQUEST_KINDS) if kinds is None else tuple(kinds)
    for kind in chosen:
        if kind not in INVALID_REQUEST_KINDS:
            raise ValueError(f"invalid kind {kind!r}; accepted: {', '.join(INVALID_REQUEST_KINDS)}")
    return _invalid_requests(chosen)


@st.composite
def _invalid_requests(draw: st.DrawFn, chosen: tuple[str, ...]) -> InvalidRequest:
    kind = draw(st.sampled_from(chosen))
    sample = draw(requests())
    request_id = sample.request_id
    message: dict[str, Any] = msgspec.json.decode(sample.data)

    def encode(value: Any) -> bytes:
        return msgspec.json.encode(value)

    if kind == "malformed_json":
        how = draw(st.sampled_from(("cut", "junk", "text")))
        if how == "cut":
            size = draw(st.integers(0, len(sample.data) - 1))
            return _invalid(kind, sample.data[:size], f"cut after {size} bytes", 11050, None)
        if how == "junk":
            return _invalid(kind, sample.data + b"}", "junk after the request", 11050, None)
        return _invalid(kind, b"{'id': 1, method: 'public/test'}", "not JSON", 11050, None)
    if kind == "not_an_object":
        value = draw(
            st.one_of(st.just([message]), st.integers(), _text(0, 8), st.none(), st.booleans())
        )
        return _invalid(
            kind, encode(value), "not a JSON object (a batch array, a scalar)", 11050, None
        )
    if kind == "bad_id":
        message["id"] = draw(st.sampled_from((1.5, True, [1], {"n": 1})))
        return _invalid(kind, encode(message), "an id that is not an int or a string", 11050, None)
    if kind == "bad_jsonrpc":
        message["jsonrpc"] = draw(st.sampled_from(("1.0", "2", 2.0, None, "")))
        return _invalid(kind, encode(message), 'jsonrpc is not "2.0"', 11050, request_id)
    if kind == "bad_method":
        if draw(st.booleans()):
            del message["method"]
        else:
            message["method"] = draw(st.sampled_from(("", 5, None, ["public/test"])))
        return _invalid(
            kind, encode(message), "no method, or not a non-empty string", 11050, request_id
        )
    if kind == "positional_params":
        message["params"] = draw(st.sampled_from(([1, 2], "BTC-PERPETUAL", 5, True)))
        return _invalid(kind, encode(message), "params that are not an object", 11050, request_id)
    if kind == "unknown_method":
        message["method"] = draw(
            st.sampled_from(("public/nope", "private/get_everything", "public/Ticker", "get_time"))
        )
        return _invalid(
            kind, encode(message), "a method the venue does not have", -32601, request_id
        )
    if kind == "missing_param":
        command = draw(commands([t for t in command_types() if _required(t)]))
        message = msgspec.json.decode(encode_request(request_id, command))
        name = draw(st.sampled_from(_required(type(command))))
        del message["params"][name]
        return _invalid(
            kind, encode(message), f"the required param {name!r} left out", -32000, request_id
        )
    if kind == "wrong_param_type":
        command = draw(commands([t for t in command_types() if _typed_params(t)]))
        message = msgspec.json.decode(encode_request(request_id, command))
        name = draw(st.sampled_from(_typed_params(type(command))))
        message["params"][name] = _WRONG
        return _invalid(
            kind, encode(message), f"param {name!r} of the wrong type", -32602, request_id
        )
    if kind == "invalid_param_value":
        command_type = draw(st.sampled_from(tuple(_BAD_VALUES)))
        command = draw(commands([command_type]))
        message = msgspec.json.decode(encode_request(request_id, command))
        name, value = draw(st.sampled_from(_BAD_VALUES[command_type]))
        message["params"][name] = value
        return _invalid(
            kind, encode(message), f"param {name!r} = {value!r} is refused", -32602, request_id
        )
    if kind == "oversize":
        padding = MAX_MESSAGE_SIZE + draw(st.integers(1, 4096))
        message["params"] = {**message.get("params", {}), "x_padding": "x" * padding}
        return _invalid(kind, encode(message), "a frame over 32 kB", -32600, None)
    bad = draw(st.sampled_from(_INVALID_UTF8))
    if draw(st.booleans()):
        message["method"] = _MARK
        data = encode(message).replace(_MARK.encode(), bad)
        return _invalid(kind, data, f"invalid UTF-8 ({bad!r}) in the method", 11050, None)
    command = draw(commands([t for t in command_types() if _text_params(t)]))
    message = msgspec.json.decode(encode_request(request_id, command))
    name = draw(st.sampled_from(_text_params(type(command))))
    message["params"][name] = _MARK
    data = encode(message).replace(_MARK.encode(), bad)
    return _invalid(kind, data, f"invalid UTF-8 ({bad!r}) in param {name!r}", -32602, request_id)


def _fields_of(command_type: type[DeribitCommand]) -> tuple[msgspec.structs.FieldInfo, ...]:
    return tuple(f for f in msgspec.structs.fields(command_type) if f.name != "access_token")


def _required(command_type: type[DeribitCommand]) -> list[str]:
    if issubclass(command_type, Auth):
        return []  # grant_type picks the type; see the server's tagged decode
    return [f.name for f in _fields_of(command_type) if f.required]


def _typed_params(command_type: type[DeribitCommand]) -> list[str]:
    if issubclass(command_type, Auth):
        return []
    return [f.name for f in _fields_of(command_type) if f.required and f.type is not Any]


def _text_params(command_type: type[DeribitCommand]) -> list[str]:
    if issubclass(command_type, Auth):
        return []
    return [f.name for f in _fields_of(command_type) if f.required and f.type is str]
