"""The Deriv codec, client outbound: one request object per frame (spec 1.2).

:func:`encode_request` writes ``{<call>: <value>, <fields>..., "req_id": N}``: the
endpoint key first (a convention, not a rule: the server scans keys), fields left out
when ``None``, ``True``/``False`` as ``1``/``0``, and with ``new_api`` the New API's
renames (``symbol`` -> ``underlying_symbol`` in ``proposal``).  This is the one place a
:class:`~tradewire.protocol.Secret` (the token) is revealed.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._errors import LocalProtocolError
from .._events import Command
from .._secrets import enc_hook
from ._commands import DerivCommand, GenericCommand

__all__ = ["MAX_REQUEST_SIZE", "encode_request", "request_fields"]

MAX_REQUEST_SIZE = 64 * 1024
"""Bytes of one request: our bound (requests are small; ``passthrough`` is at most about
3500 bytes, spec 1.2)."""

_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook)


def _ints(value: Any) -> Any:
    if value is True:
        return 1
    if value is False:
        return 0
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def request_fields(command: Command, *, new_api: bool = False) -> dict[str, Any]:
    """The request object of ``command`` without ``req_id``, as builtins."""
    if isinstance(command, GenericCommand):
        return {command.call: _ints(command.value), **_ints(command.params)}
    if not isinstance(command, DerivCommand):
        raise LocalProtocolError(
            f"invalid command: expected a Deriv command or GenericCommand, "
            f"got {type(command).__name__}"
        )
    fields: dict[str, Any] = msgspec.to_builtins(command, enc_hook=enc_hook)
    body: dict[str, Any] = {
        command.call: _ints(msgspec.to_builtins(command.endpoint_value(), enc_hook=enc_hook))
    }
    renames = command.renames if new_api else {}
    for key, value in fields.items():
        if key == command.call or value is None:
            continue
        body[renames.get(key, key)] = _ints(value)
    return body


def encode_request(request_id: int, command: Command, *, new_api: bool = False) -> bytes:
    """The frame for ``command`` with ``req_id`` ``request_id`` (see the module docstring)."""
    if isinstance(request_id, bool) or not isinstance(request_id, int) or request_id < 0:
        raise LocalProtocolError(
            f"invalid request_id: Deriv's req_id is a non-negative int, got {request_id!r}"
        )
    body = request_fields(command, new_api=new_api)
    body["req_id"] = request_id
    try:
        data = _ENCODER.encode(body)
    except (TypeError, NotImplementedError, OverflowError, ValueError) as exc:
        raise LocalProtocolError(f"invalid fields for {next(iter(body))}: {exc}") from None
    if len(data) > MAX_REQUEST_SIZE:
        raise LocalProtocolError(
            f"request too large: {len(data)} bytes; the limit is MAX_REQUEST_SIZE="
            f"{MAX_REQUEST_SIZE}"
        )
    return data
