"""The Rails codec, client side: requests out, messages in (spec 2).

:func:`encode_request` writes ``{"message": ..., "content": {"clientRequestId": ...,
"market"?: ..., ...}}`` (spec 2); the request id *is* the ``clientRequestId`` (a UUID
string from the machine's ``ids``).  ``market`` goes on a market-scoped request when the
connection is ``market=ALL`` (required there) or when the command names it; on a
one-market connection a command may not name another market.  ``legacy=True`` writes
the older revision's snapshot request names (``emitOrderBook``,
``emitCompletedOrders``, spec 6, 7).

:func:`decode_inbound` turns one message into one value and raises nothing but
:class:`~tradewire.protocol.RemoteProtocolError`:

1. one typed pass, a tagged union on ``resultType`` over every known message
   (``_models.KNOWN``): the struct it returns is the event;
2. if that fails, the envelope is read with ``data`` left raw: ``completedOrdersDelta``
   whose ``data`` is an object is the older revision's public tape
   (:class:`LegacyPublicTrades`, told apart by shape, spec 6); another known
   ``resultType`` whose body does not fit is a :class:`RemoteProtocolError` (a broken
   message must not be taken for something else); an unknown ``resultType`` is an
   :class:`OrderUpdate` when ``data.order`` reads as an order, else an
   :class:`UnknownMessage` (never an error).
"""

from __future__ import annotations

from typing import Any, Union

import msgspec

from .._errors import LocalProtocolError, RemoteProtocolError
from .._secrets import enc_hook
from .._sources import RequestId
from ._commands import MARKET_ALL, GenericRequest, RailsCommand
from ._models import KNOWN, LegacyPublicTrades, OrderData, OrderUpdate, UnknownMessage

__all__ = ["LEGACY_NAMES", "decode_inbound", "encode_request", "request_market"]

LEGACY_NAMES = {
    "emitPublicOrderBook": "emitOrderBook",
    "emitPublicCompletedOrders": "emitCompletedOrders",
}
"""Request names of the older doc revision (spec 6, 7), written with ``legacy=True``."""

MAX_REQUEST_SIZE = 64 * 1024
"""Bytes one request may take (our bound: the docs give none)."""


class _Request(msgspec.Struct, gc=False):
    message: str
    content: dict[str, Any]


_ENCODER = msgspec.json.Encoder(enc_hook=enc_hook)


def request_market(command: RailsCommand, connection_market: str) -> str | None:
    """The ``market`` to send with ``command`` on a ``connection_market`` connection
    (see the module docstring); raises LocalProtocolError when it cannot be sent."""
    scoped = command.market_scoped or (isinstance(command, GenericRequest) and command.scoped)
    market = command.market
    if connection_market == MARKET_ALL:
        if scoped and market is None:
            raise LocalProtocolError(
                f"invalid market: {command.message or 'this request'} needs market= on a "
                "market=ALL connection (the venue cannot tell which market is meant)"
            )
        return market
    if market is not None and market != connection_market:
        raise LocalProtocolError(
            f"invalid market: {market!r} on a connection opened for {connection_market!r}; "
            f"accepted values: {connection_market!r} or None"
        )
    return market


def encode_request(
    request_id: RequestId, command: RailsCommand, market: str | None, *, legacy: bool = False
) -> bytes:
    """The wire form of ``command`` with ``clientRequestId`` ``request_id``."""
    if not isinstance(command, RailsCommand):
        raise LocalProtocolError(
            f"invalid command: expected a Rails command, got {type(command).__name__}"
        )
    name = command.name if isinstance(command, GenericRequest) else command.message
    if legacy:
        name = LEGACY_NAMES.get(name, name)
    content: dict[str, Any] = {"clientRequestId": request_id}
    if market is not None:
        content["market"] = market
    content.update(command.content())
    try:
        data = _ENCODER.encode(_Request(message=name, content=content))
    except (TypeError, ValueError, NotImplementedError, OverflowError) as exc:
        raise LocalProtocolError(f"invalid fields for {name}: {exc}") from None
    if len(data) > MAX_REQUEST_SIZE:
        raise LocalProtocolError(
            f"request too large: {len(data)} bytes (limit MAX_REQUEST_SIZE={MAX_REQUEST_SIZE})"
        )
    return data


# -- inbound ------------------------------------------------------------------------------


class _Envelope(msgspec.Struct, gc=False):
    resultType: Any = None
    market: Any = None
    data: msgspec.Raw = msgspec.field(default_factory=lambda: msgspec.Raw(b"null"))


_UNION_TYPE: Any = Union[KNOWN]  # noqa: UP007 - a union built from a tuple of types
_UNION = msgspec.json.Decoder(_UNION_TYPE)
_ENVELOPE = msgspec.json.Decoder(_Envelope)
_LEGACY_PUBLIC = msgspec.json.Decoder(LegacyPublicTrades)
_ANY = msgspec.json.Decoder()
TAGS = frozenset(str(cls.__struct_config__.tag) for cls in KNOWN)
"""Every ``resultType`` decoded in the typed pass."""


def decode_inbound(data: bytes | str) -> Any:
    """One message as one value (see the module docstring)."""
    try:
        return _UNION.decode(data)
    except msgspec.ValidationError as exc:
        return _fallback(data, exc)
    except msgspec.DecodeError as exc:
        raise RemoteProtocolError(f"not a JSON message: {exc}") from None


def _fallback(data: bytes | str, error: msgspec.ValidationError) -> Any:
    try:
        envelope = _ENVELOPE.decode(data)
    except msgspec.DecodeError:
        raise RemoteProtocolError(f"not a Rails message (a JSON object): {error}") from None
    result_type = envelope.resultType
    market = envelope.market if isinstance(envelope.market, str) else None
    if result_type == "completedOrdersDelta":
        try:
            return _LEGACY_PUBLIC.decode(data)
        except msgspec.DecodeError:
            pass
    if isinstance(result_type, str) and result_type in TAGS:
        raise RemoteProtocolError(f"malformed {result_type} message: {error}")
    body = _ANY.decode(envelope.data)
    if not isinstance(result_type, str):
        return UnknownMessage(result_type=None, market=market, data=body)
    if isinstance(body, dict) and isinstance(body.get("order"), dict):
        try:
            order = msgspec.convert(body, OrderData)
        except msgspec.ValidationError:
            pass
        else:
            return OrderUpdate(result_type=result_type, market=market, data=order)
    return UnknownMessage(result_type=result_type, market=market, data=body)
