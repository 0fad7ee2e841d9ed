"""The Deribit codec, client outbound: JSON-RPC requests for WebSocket and HTTP.

:func:`encode_request` writes the JSON-RPC 2.0 envelope of spec 1.2 (``jsonrpc``, ``id``,
``method``, ``params``, in that order) with the command's fields as ``params``; this is
the one place a :class:`~tradewire.protocol.Secret` is revealed.  :func:`http_get_target`
and :func:`http_post_body` are the HTTP forms of spec 1.3 (``GET /api/v2/{method}?...``,
which every doc example and ccxt use, and ``POST /api/v2/{method}`` with the envelope).
WebSocket-only methods refuse the HTTP forms with :class:`LocalProtocolError`, as the
venue would answer 10030.
"""

from __future__ import annotations

from typing import Any, TypeAlias
from urllib.parse import quote

import msgspec

from .._errors import LocalProtocolError
from .._events import Command
from .._secrets import Secret, enc_hook
from .._sources import RequestId
from ._commands import DeribitCommand, GenericRequest
from ._limits import MAX_MESSAGE_SIZE
from ._methods import method_info

__all__ = [
    "API_PREFIX",
    "encode_request",
    "http_get_target",
    "http_path",
    "http_post_body",
]

API_PREFIX = "/api/v2/"


class _Request(msgspec.Struct, kw_only=True, gc=False):
    jsonrpc: str
    id: RequestId
    method: str
    params: Any


_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook)

AnyCommand: TypeAlias = DeribitCommand | GenericRequest


def _check_command(command: Command) -> AnyCommand:
    if not isinstance(command, DeribitCommand | GenericRequest):
        raise LocalProtocolError(
            f"invalid command: expected a Deribit command or GenericRequest, "
            f"got {type(command).__name__}"
        )
    return command


def encode_request(request_id: RequestId, command: Command) -> bytes:
    """The JSON-RPC request for ``command`` (spec 1.2), as sent on a WebSocket.

    Raises :class:`LocalProtocolError` for a bad id or when the message would exceed
    :data:`MAX_MESSAGE_SIZE` (the venue answers -32600 to that).
    """
    cmd = _check_command(command)
    if isinstance(request_id, bool) or not isinstance(request_id, int | str):
        raise LocalProtocolError(f"invalid request_id: expected an int or str, got {request_id!r}")
    if isinstance(cmd, GenericRequest):
        message = _Request(jsonrpc="2.0", id=request_id, method=cmd.method, params=cmd.params)
    else:
        message = _Request(jsonrpc="2.0", id=request_id, method=cmd.method, params=cmd)
    try:
        data = _ENCODER.encode(message)
    except (TypeError, NotImplementedError, OverflowError, ValueError) as exc:
        raise LocalProtocolError(f"invalid params for {message.method}: {exc}") from exc
    if len(data) > MAX_MESSAGE_SIZE:
        raise LocalProtocolError(
            f"request too large: {len(data)} bytes; the limit is MAX_MESSAGE_SIZE="
            f"{MAX_MESSAGE_SIZE} (the venue answers -32600); split the request"
        )
    return data


def _http_check(cmd: AnyCommand) -> str:
    info = method_info(cmd)
    if info.ws_only:
        raise LocalProtocolError(
            f"{info.method} is WebSocket-only; over HTTP the venue answers 10030 "
            "must_be_websocket_request (spec 1.3)"
        )
    return info.method


def http_path(command: Command) -> str:
    """``/api/v2/{method}``: the POST path (and the GET path without a query)."""
    return API_PREFIX + _http_check(_check_command(command))


def _query_value(value: Any) -> str:
    if isinstance(value, Secret):
        return value.reveal()
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return _ENCODER.encode(value).decode()


def http_get_target(command: Command) -> str:
    """``/api/v2/{method}?k=v&...``, the GET form every doc example and ccxt use.

    Booleans are ``true``/``false``; lists and objects are compact JSON (the encoding
    Deribit's API console sends for array params such as ``currency`` of
    ``cancel_all_by_kind_or_type``); values are percent-encoded.  This target is also
    the ``URI`` signed by the ``deri-hmac-sha256`` header (spec 2.3).
    """
    cmd = _check_command(command)
    method = _http_check(cmd)
    params = (
        cmd.params
        if isinstance(cmd, GenericRequest)
        else msgspec.to_builtins(cmd, enc_hook=enc_hook)
    )
    pairs = [
        f"{quote(str(key), safe='')}={quote(_query_value(value), safe='')}"
        for key, value in params.items()
        if value is not None
    ]
    target = API_PREFIX + method
    return f"{target}?{'&'.join(pairs)}" if pairs else target


def http_post_body(request_id: RequestId, command: Command) -> bytes:
    """The JSON-RPC body for ``POST /api/v2/{method}`` (spec 1.3)."""
    _http_check(_check_command(command))
    return encode_request(request_id, command)
