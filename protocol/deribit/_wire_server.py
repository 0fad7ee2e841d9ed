"""The Deribit codec, server side: decode requests, encode responses and notifications.

Inbound, :func:`decode_request` checks the JSON-RPC envelope and keeps ``params`` raw;
:func:`command_type_for` picks the params type from ``method`` and :func:`decode_params`
decodes into the same command classes a client sends.  Problems come out as
:class:`RejectedRequest` (a :class:`RemoteProtocolError`) carrying the Deribit error to
answer with and the request id to answer to (``None`` when there is none), so a server
has one ``except`` clause:

=============================================== =============================================
problem                                         answer (spec 1.2, 7.1)
=============================================== =============================================
frame over 32 kB                                -32600 ``request entity too large``, no id
not JSON                                        11050 ``bad_request``, data ``"invalid json"``,
                                                no id (what the live server does; the docs'
                                                -32700 is not what it sends)
JSON but not an object (a batch array ...)      11050 ``bad_request``, data ``"invalid request"``
bad ``id`` type, ``jsonrpc`` not ``"2.0"``,     11050 ``bad_request`` with a data string
``method`` missing or not a string, ``params``  saying which; the id when it was valid
not an object (positional params)
unknown method (:func:`command_type_for` None)  -32601 ``Method not found`` (the server's call)
a required param missing                        -32000 ``Missing params``,
                                                data ``{"reason": "missing", "param": name}``
a param of the wrong type or value              -32602 ``Invalid params``,
                                                data ``{"reason": ..., "param": name}``
=============================================== =============================================

Our choices where the spec is silent: envelope problems other than bad JSON use 11050
rather than JSON-RPC's -32600, because Deribit gives -32600 its own meaning (too large);
a missing ``jsonrpc`` member is accepted (only a wrong one is refused); a request with no
``id`` is decoded (id ``None``), since the venue was seen answering one without ``id``.
One leading ``/`` of ``method`` is dropped here, the one place every request passes (a
WebSocket message and an HTTP POST body alike), so ``/public/get_time`` is served as
``public/get_time``: Deribit's docs write methods as paths and real clients copy that
(spec 1.2, 10).

Outbound, :func:`encode_result` / :func:`encode_error` add ``testnet``, ``usIn``,
``usOut`` and ``usDiff`` (microseconds) to every response and leave ``id`` out when it is
``None``; :func:`encode_notification` and :func:`encode_heartbeat` add none of them
(spec 1.2, 1.4).  Results and data may be wire models or plain JSON values; secrets in
them (an :class:`AuthResult`'s tokens) are revealed only here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from .._errors import LocalProtocolError, RemoteProtocolError
from .._secrets import enc_hook
from .._sources import RequestId
from ._commands import Auth, DeribitCommand, InvalidArgument
from ._errors import (
    BadRequest,
    DeribitError,
    InvalidParams,
    MethodNotFound,
    MissingParams,
    RequestTooLarge,
)
from ._limits import MAX_MESSAGE_SIZE
from ._methods import command_type_for
from ._models_session import dec_hook

__all__ = [
    "RejectedRequest",
    "RpcRequest",
    "command_type_for",
    "decode_params",
    "decode_query_params",
    "decode_request",
    "encode_error",
    "encode_heartbeat",
    "encode_notification",
    "encode_result",
    "method_not_found",
]


class RpcRequest(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A well-formed JSON-RPC request; ``params`` is raw JSON (an object, or empty)."""

    id: RequestId | None
    method: str
    params: msgspec.Raw


class RejectedRequest(RemoteProtocolError):
    """The client's request is invalid; answer it with ``error`` to ``request_id``."""

    def __init__(self, error: DeribitError, request_id: RequestId | None = None) -> None:
        super().__init__(str(error) + (f" ({error.data})" if error.data is not None else ""))
        self.error = error
        self.request_id = request_id


# -- decode requests -------------------------------------------------------------------


class _LooseRequest(msgspec.Struct, gc=False):
    jsonrpc: Any = UNSET
    id: Any = None
    method: Any = None
    params: msgspec.Raw = msgspec.Raw()


_REQUEST = msgspec.json.Decoder(_LooseRequest)


def _bad_request(data: str, request_id: RequestId | None = None) -> RejectedRequest:
    return RejectedRequest(BadRequest(11050, "bad_request", data), request_id)


def decode_request(data: bytes | str, *, max_size: int = MAX_MESSAGE_SIZE) -> RpcRequest:
    """Check the envelope of one client request; :class:`RejectedRequest` if it is bad."""
    size = len(data)
    if isinstance(data, str) and size > max_size // 4:
        size = len(data.encode("utf-8", "surrogatepass"))
    if size > max_size:
        raise RejectedRequest(RequestTooLarge(-32600, "request entity too large"))
    try:
        loose = _REQUEST.decode(data)
    except msgspec.ValidationError as exc:
        raise _bad_request("invalid request") from exc
    except (msgspec.DecodeError, UnicodeError, RecursionError) as exc:
        raise _bad_request("invalid json") from exc
    request_id = loose.id
    if request_id is not None and (
        isinstance(request_id, bool) or not isinstance(request_id, int | str)
    ):
        raise _bad_request("invalid id: expected an int or str")
    if loose.jsonrpc is not UNSET and loose.jsonrpc != "2.0":
        raise _bad_request('invalid jsonrpc: expected "2.0"', request_id)
    method = loose.method
    if isinstance(method, str) and method.startswith("/"):
        method = method[1:]  # "/public/get_time" is "public/get_time" (spec 1.2)
    if not isinstance(method, str) or not method:
        raise _bad_request("invalid method: expected a non-empty str", request_id)
    params = loose.params
    if params and bytes(params) != b"null" and not bytes(params).startswith(b"{"):
        raise _bad_request("invalid params: expected an object (named params)", request_id)
    if bytes(params) == b"null":
        params = msgspec.Raw()
    return RpcRequest(id=request_id, method=method, params=params)


def method_not_found(request: RpcRequest) -> RejectedRequest:
    """The -32601 rejection for a request whose method has no command type."""
    return RejectedRequest(MethodNotFound(-32601, "Method not found"), request.id)


def _decode_type(command_type: type[DeribitCommand]) -> Any:
    if command_type is Auth:
        tagged = [c for c in Auth.__subclasses__() if c.__struct_config__.tag is not None]
        union: Any = tagged[0]
        for cls in tagged[1:]:
            union = union | cls
        return union
    return command_type


_PARAM_DECODERS: dict[type[DeribitCommand], msgspec.json.Decoder[Any]] = {}
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_PATH = re.compile(r"at `\$\.([A-Za-z0-9_]+)")


def _invalid(exc: Exception) -> DeribitError:
    text = str(exc)
    if isinstance(exc, InvalidArgument):
        return InvalidParams(-32602, "Invalid params", {"reason": text, "param": exc.argument})
    path = _PATH.search(text)
    missing = _MISSING_FIELD.search(text)
    if missing and path is None:
        return MissingParams(
            -32000, "Missing params", {"reason": "missing", "param": missing.group(1)}
        )
    param = path.group(1) if path else (missing.group(1) if missing else None)
    data: dict[str, str] = {"reason": "wrong format" if param else text}
    if param is not None:
        data["param"] = param
    return InvalidParams(-32602, "Invalid params", data)


def decode_params(
    command_type: type[DeribitCommand],
    params: msgspec.Raw | bytes,
    *,
    request_id: RequestId | None = None,
) -> DeribitCommand:
    """Decode request ``params`` into ``command_type``; :class:`RejectedRequest` if invalid.

    The rejection's error is :class:`MissingParams` (-32000) for a missing required
    param and :class:`InvalidParams` (-32602) otherwise, with ``data`` naming the param.
    """
    decoder = _PARAM_DECODERS.get(command_type)
    if decoder is None:
        decoder = _PARAM_DECODERS[command_type] = msgspec.json.Decoder(
            _decode_type(command_type), dec_hook=dec_hook
        )
    try:
        command: DeribitCommand = decoder.decode(params if params else b"{}")
    except (msgspec.DecodeError, LocalProtocolError, UnicodeError, RecursionError) as exc:
        raise RejectedRequest(_invalid(exc), request_id) from exc
    return command


def _json_or_text(value: str) -> Any:
    if value[:1] in ("[", "{"):
        try:
            return msgspec.json.decode(value)
        except (msgspec.DecodeError, RecursionError):
            return value
    return value


def decode_query_params(
    command_type: type[DeribitCommand],
    query: Iterable[tuple[str, str]],
    *,
    request_id: RequestId | None = None,
) -> DeribitCommand:
    """Decode the query string of ``GET /api/v2/{method}?...`` into ``command_type``.

    Values are strings on the wire: numbers and ``true``/``false`` are converted by the
    field types, a repeated key or a JSON array value gives a list (spec 1.3).
    """
    raw: dict[str, Any] = {}
    for key, value in query:
        if key in raw:
            previous = raw[key]
            raw[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            raw[key] = value
    target = _decode_type(command_type)
    try:
        command: DeribitCommand = msgspec.convert(raw, target, strict=False, dec_hook=dec_hook)
    except (msgspec.ValidationError, LocalProtocolError, RecursionError) as exc:
        first = exc
    else:
        return command
    # A list or object param arrives as JSON text (what http_get_target sends); retry
    # with such values parsed, and report the first error if that does not help either.
    parsed = {k: _json_or_text(v) if isinstance(v, str) else v for k, v in raw.items()}
    if parsed != raw:
        try:
            command = msgspec.convert(parsed, target, strict=False, dec_hook=dec_hook)
        except (msgspec.ValidationError, LocalProtocolError, RecursionError):
            pass
        else:
            return command
    raise RejectedRequest(_invalid(first), request_id) from first


# -- encode responses and notifications ------------------------------------------------


class _ErrorBody(msgspec.Struct, kw_only=True, gc=False):
    code: int
    message: str
    data: Any = UNSET


class _Result(msgspec.Struct, kw_only=True, gc=False):
    jsonrpc: str
    id: RequestId | UnsetType = UNSET
    result: Any
    testnet: bool
    usIn: int
    usOut: int
    usDiff: int


class _Error(msgspec.Struct, kw_only=True, gc=False):
    jsonrpc: str
    id: RequestId | UnsetType = UNSET
    error: _ErrorBody
    testnet: bool
    usIn: int
    usOut: int
    usDiff: int


class _Params(msgspec.Struct, kw_only=True, gc=False):
    channel: str
    data: Any
    label: str | UnsetType = UNSET


class _Notification(msgspec.Struct, kw_only=True, gc=False):
    jsonrpc: str
    method: str
    params: Any


class _HeartbeatParams(msgspec.Struct, kw_only=True, gc=False):
    type: str


_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook)


def _encode(message: msgspec.Struct) -> bytes:
    try:
        return _ENCODER.encode(message)
    except (TypeError, NotImplementedError, OverflowError, ValueError) as exc:
        raise LocalProtocolError(f"cannot encode the message as JSON: {exc}") from exc


def _id(request_id: RequestId | None) -> RequestId | UnsetType:
    return UNSET if request_id is None else request_id


def encode_result(
    request_id: RequestId | None, result: Any, *, us_in: int, us_out: int, testnet: bool = False
) -> bytes:
    """A success response with the envelope extras of spec 1.2 (times in microseconds)."""
    return _encode(
        _Result(
            jsonrpc="2.0",
            id=_id(request_id),
            result=result,
            testnet=testnet,
            usIn=us_in,
            usOut=us_out,
            usDiff=us_out - us_in,
        )
    )


def encode_error(
    request_id: RequestId | None,
    code: int,
    message: str,
    data: Any = None,
    *,
    us_in: int,
    us_out: int,
    testnet: bool = False,
) -> bytes:
    """An error response; ``data`` is left out when ``None``, ``id`` when ``None``."""
    body = _ErrorBody(code=code, message=message, data=UNSET if data is None else data)
    return _encode(
        _Error(
            jsonrpc="2.0",
            id=_id(request_id),
            error=body,
            testnet=testnet,
            usIn=us_in,
            usOut=us_out,
            usDiff=us_out - us_in,
        )
    )


def encode_notification(channel: str, data: Any, *, label: str | None = None) -> bytes:
    """``{"jsonrpc":"2.0","method":"subscription","params":{"channel","data"}}`` (spec 1.4)."""
    params = _Params(channel=channel, data=data, label=UNSET if label is None else label)
    return _encode(_Notification(jsonrpc="2.0", method="subscription", params=params))


def encode_heartbeat(kind: Literal["heartbeat", "test_request"] = "heartbeat") -> bytes:
    """A ``heartbeat`` or ``test_request`` frame (spec 1.5)."""
    if kind not in ("heartbeat", "test_request"):
        raise LocalProtocolError(
            f"invalid kind: {kind!r}; accepted values: 'heartbeat', 'test_request'"
        )
    return _encode(
        _Notification(jsonrpc="2.0", method="heartbeat", params=_HeartbeatParams(type=kind))
    )
