"""The Deribit codec, client inbound: one WebSocket message in, one typed value out.

:func:`decode_inbound` turns a message into exactly one of :class:`Response`,
:class:`ErrorResponse`, a channel event (``BookUpdate`` ...), :class:`Heartbeat`,
:class:`TestRequest` or :class:`UnknownMessage`, and raises nothing but
:class:`RemoteProtocolError`.  A response keeps ``result`` as :class:`msgspec.Raw`: only
the request table knows which command it answers, and :func:`decode_result` then decodes
it with that command's ``result_type`` (cached decoders, one per type).

Notifications are the hot path; each is decoded in one typed pass.  Every channel family
has a decoder for a whole-message envelope ``{method: Literal["subscription"], params:
<EventType>}``, so ``params`` *is* the finished event.  Which decoder to use comes from
the channel name, peeked at without parsing:

0. hint: Deribit writes ``{"jsonrpc":"2.0","method":"subscription","params":
   {"channel":"`` (62 bytes) before the channel, so ``data[62:63]`` is the channel's
   first byte.  While every documented-layout notification decoded so far that began
   with that byte belonged to one family, that family's decoder is tried at once; once
   two families shared it (``ticker`` and ``trades``), the channel's first 8 bytes
   decide the same way (``ticker.B``, ``trades.B``), and where even those are shared
   (a plain and a grouped book of one instrument) step 1 does.  A hinted result counts
   only if its *decoded* channel is one already verified to route to the decoder's
   type (a bounded dict of channel -> type); anything else goes on to step 1;
1. exact lookup: ``data[62:next quote]`` is looked up in a bounded dict of channels
   already verified in that layout;
2. otherwise the channel is found by ``startswith`` on the two compact layouts seen on
   the wire or by ``find('"channel":"')``, routed by :func:`channel_family` and cached;
3. the decoded ``params.channel`` must equal the peeked name, or the result is dropped.

Step 0 costs a one-byte slice (a cached object) and a dict lookup where step 1 costs a
``find``, a slice and hashing it, which was most of what the wire layer added to a bare
typed decode (measured in ``benchmarks/``).  Its check of the decoded channel, and
step 3, make the peeks hints and never a risk: any key order, a ``"channel"`` key
inside ``data``, escapes in the channel, whitespace or a wrong guess fall through to
the general path, which decodes the envelope with ``params`` as :class:`msgspec.Raw`,
routes on ``method`` and the channel, and decodes ``params`` with the same event type.
Precedence there: a message with ``method`` is a notification, else one with ``error``
is an :class:`ErrorResponse`, else one with ``result`` a :class:`Response`.  Heartbeat
frames are matched as whole byte strings before step 1 (Deribit writes them identically
every time).

A typed family whose data does not fit its type (a book level that is not
``[action, price, amount]``) raises :class:`RemoteProtocolError`: such a message is broken,
and a book must not silently skip it.  An unknown channel is never an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeAlias

import msgspec

from .._errors import LocalProtocolError, RemoteProtocolError
from .._events import Command
from .._sources import RequestId
from ._channels import ChannelFamily
from ._commands import DeribitCommand, GenericRequest
from ._errors import DeribitError, error_for
from ._methods import method_info
from ._models_session import RpcError, dec_hook
from ._notifications import (
    EVENT_TYPES,
    ChannelEvent,
    Heartbeat,
    Notification,
    TestRequest,
    UnknownMessage,
)

__all__ = [
    "ErrorResponse",
    "Inbound",
    "Response",
    "channel_family",
    "decode_inbound",
    "decode_result",
]


class Response(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A success response; ``result`` is raw JSON for :func:`decode_result`.

    ``us_in`` / ``us_out`` / ``us_diff`` are the venue's receive and send times and their
    difference, in microseconds (spec 1.2); Deribit prints them as numbers or, in some
    ccxt-recorded examples, strings; both read as ``int``, anything else as ``None``.
    ``id`` is ``None`` when the venue answered a request that had none.
    """

    id: RequestId | None
    result: msgspec.Raw
    testnet: bool | None = None
    us_in: int | None = None
    us_out: int | None = None
    us_diff: int | None = None


class ErrorResponse(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """An error response; ``id`` is ``None`` for errors about unparseable requests."""

    id: RequestId | None
    error: RpcError
    testnet: bool | None = None
    us_in: int | None = None
    us_out: int | None = None
    us_diff: int | None = None

    def exception(self) -> DeribitError:
        """The typed exception for this error (:func:`error_for`)."""
        return error_for(self.error.code, self.error.message, self.error.data)


Inbound: TypeAlias = (
    Response | ErrorResponse | ChannelEvent | Heartbeat | TestRequest | UnknownMessage
)

_DECODE_ERRORS = (msgspec.DecodeError, UnicodeError, RecursionError)
"""What a msgspec decode can raise on hostile input (nesting beyond the recursion limit
included)."""

# -- routing ---------------------------------------------------------------------------

_USER_FAMILIES = {
    "orders": ChannelFamily.USER_ORDERS,
    "trades": ChannelFamily.USER_TRADES,
    "changes": ChannelFamily.USER_CHANGES,
    "portfolio": ChannelFamily.USER_PORTFOLIO,
}
_BOOK_BY_SEGMENTS = {3: ChannelFamily.BOOK, 5: ChannelFamily.GROUPED_BOOK}
_SIMPLE_FAMILIES = {
    "ticker": ChannelFamily.TICKER,
    "incremental_ticker": ChannelFamily.INCREMENTAL_TICKER,
    "quote": ChannelFamily.QUOTE,
    "trades": ChannelFamily.TRADES,
    "deribit_price_index": ChannelFamily.PRICE_INDEX,
    "perpetual": ChannelFamily.PERPETUAL,
}


def channel_family(channel: str) -> ChannelFamily | None:
    """The family an *incoming* channel name routes to, or ``None`` (generic event).

    Lenient on purpose: only the prefix and segment count matter, so a notification the
    venue sends on a name our grammar would reject (a new interval) still decodes typed.
    """
    parts = channel.split(".")
    head = parts[0]
    simple = _SIMPLE_FAMILIES.get(head)
    if simple is not None and len(parts) > 1:
        return simple
    if head == "book":
        return _BOOK_BY_SEGMENTS.get(len(parts))
    if head == "user" and len(parts) > 2:
        return _USER_FAMILIES.get(parts[1])
    if head == "chart" and len(parts) == 4 and parts[1] == "trades":
        return ChannelFamily.CHART
    if channel == "platform_state":
        return ChannelFamily.PLATFORM_STATE
    if channel == "platform_state.public_methods_state":
        return ChannelFamily.PUBLIC_METHODS_STATE
    return None


def _event_type(channel: str) -> type[ChannelEvent]:
    family = channel_family(channel)
    return Notification if family is None else EVENT_TYPES[family]


def _envelope_decoder(event_type: type[ChannelEvent]) -> msgspec.json.Decoder[Any]:
    envelope = msgspec.defstruct(
        f"_{event_type.__name__}Envelope",
        [("method", Literal["subscription"]), ("params", event_type)],
        gc=False,
    )
    return msgspec.json.Decoder(envelope)


_EVENT_CLASSES: tuple[type[ChannelEvent], ...] = (*EVENT_TYPES.values(), Notification)
_FAST: dict[type[ChannelEvent], msgspec.json.Decoder[Any]] = {
    t: _envelope_decoder(t) for t in _EVENT_CLASSES
}
_PARAMS: dict[type[ChannelEvent], msgspec.json.Decoder[Any]] = {
    t: msgspec.json.Decoder(t) for t in _FAST
}

_ROUTE_CACHE_SIZE = 4096
"""Bound of the per-channel route cache; it is cleared when full."""

_Route: TypeAlias = tuple[Callable[[bytes | str], Any], str] | None
_routes: dict[bytes | str, _Route] = {}
_hot: dict[bytes, _Route] = {}
"""Channels verified at offset 62 of the documented layout (see :data:`_PREFIX`)."""
_Hint: TypeAlias = tuple[Callable[[bytes], Any], type[ChannelEvent]]


def _wider(data: bytes) -> Any:
    raise AssertionError("WIDER is a marker, never a decoder")  # pragma: no cover


WIDER: _Hint = (_wider, ChannelEvent)
"""The value of a byte in :data:`_hints` that two families share: see :data:`_wide_hints`."""
_hints: dict[bytes, _Hint] = {}
"""Step 0: the channel's first byte (offset 62) -> the decoder of the one family seen
with it, or :data:`WIDER` once two were; at most 256 keys."""
_wide_hints: dict[bytes, _Hint | None] = {}
"""For a :data:`WIDER` byte, the channel's first 8 bytes (``ticker.B`` / ``trades.B``,
``user.ord`` / ``user.tra``) -> the decoder of the one family seen with them, or
``None`` once two were (a plain and a grouped book of one instrument): then step 1."""
_types: dict[str, type[ChannelEvent]] = {}
"""Decoded channel names -> their event type: every channel in :data:`_hot`, and only
those (filled and cleared together), so a hinted decode is kept only on a verified name."""
_WIDE = 8


def _learn(data: bytes, channel: str, event_type: type[ChannelEvent]) -> None:
    """A documented-layout notification on ``channel`` decoded exactly as ``event_type``:
    remember the channel's type and what its first bytes say (see :data:`_hints`)."""
    _types[channel] = event_type
    key = data[62:63]
    hint = _hints.get(key)
    if hint is None:
        _hints[key] = (_FAST[event_type].decode, event_type)
    elif hint is WIDER:
        _learn_wide(data[62 : 62 + _WIDE], event_type)
    elif hint[1] is not event_type:
        # A second family on this byte: from now on the first 8 bytes decide, learned
        # at once for the channels already seen (they will not come through here again).
        _hints[key] = WIDER
        for seen, seen_type in list(_types.items()):
            raw = seen.encode("utf-8")
            if raw[:1] == key and len(raw) >= _WIDE:
                _learn_wide(raw[:_WIDE], seen_type)
        _learn_wide(data[62 : 62 + _WIDE], event_type)


def _learn_wide(key: bytes, event_type: type[ChannelEvent]) -> None:
    if key not in _wide_hints:
        _wide_hints[key] = (_FAST[event_type].decode, event_type)
        return
    hint = _wide_hints[key]
    if hint is not None and hint[1] is not event_type:
        _wide_hints[key] = None  # two families even here: the exact lookup decides


def _route(key: bytes | str) -> _Route:
    if isinstance(key, bytes):
        try:
            channel = key.decode("utf-8")
        except UnicodeDecodeError:
            return None
    else:
        channel = key
    if "\\" in channel:  # escaped: the decoded name differs from the bytes; general path
        return None
    route = (_FAST[_event_type(channel)].decode, channel)
    if len(_routes) >= _ROUTE_CACHE_SIZE:
        _routes.clear()
    _routes[key] = route
    return route


_PREFIX = b'{"jsonrpc":"2.0","method":"subscription","params":{"channel":"'
_PREFIX_REVERSED = b'{"params":{"channel":"'
"""Compact key orders that put the channel at a fixed offset (the documented order, and
the reversed one the probe saw on heartbeats); ``startswith`` beats a search."""
_PEEK = b'"channel":"'
_PEEK_STR = '"channel":"'
_FIXED_FRAMES: dict[bytes, Heartbeat | TestRequest] = {
    b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"heartbeat"}}': Heartbeat(),
    b'{"jsonrpc":"2.0","method":"heartbeat","params":{"type":"test_request"}}': TestRequest(),
    b'{"params":{"type":"heartbeat"},"method":"heartbeat","jsonrpc":"2.0"}': Heartbeat(),
    b'{"params":{"type":"test_request"},"method":"heartbeat","jsonrpc":"2.0"}': TestRequest(),
}
"""Heartbeat frames as Deribit writes them (spec 1.5, both key orders seen): a lookup."""
_MAX_FIXED_FRAME = max(map(len, _FIXED_FRAMES))


def _fast_str(data: str) -> ChannelEvent | None:
    start = data.find(_PEEK_STR)
    if start < 0:
        return None
    start += 11
    end = data.find('"', start)
    if end < 0:
        return None
    key = data[start:end]
    route = _routes.get(key) or _route(key)
    if route is None:
        return None
    try:
        event: ChannelEvent = route[0](data).params
    except _DECODE_ERRORS:
        return None
    return event if event.channel == route[1] else None


# -- the general path -------------------------------------------------------------------


class _Envelope(msgspec.Struct, gc=False):
    id: Any = None
    method: Any = None
    params: msgspec.Raw = msgspec.Raw()
    result: msgspec.Raw = msgspec.Raw()
    error: msgspec.Raw = msgspec.Raw()
    testnet: Any = None
    usIn: Any = None
    usOut: Any = None
    usDiff: Any = None


class _ChannelOnly(msgspec.Struct, gc=False):
    channel: str


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_CHANNEL_ONLY = msgspec.json.Decoder(_ChannelOnly)
_RPC_ERROR = msgspec.json.Decoder(RpcError)
_HEARTBEAT = msgspec.json.Decoder(Heartbeat | TestRequest)
_ANY = msgspec.json.Decoder()


def _remote(what: str, exc: Exception) -> RemoteProtocolError:
    return RemoteProtocolError(f"{what}: {exc}")


def _us(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 20:
        return int(value)
    return None


def _request_id(value: Any) -> RequestId | None:
    if value is None or (isinstance(value, int | str) and not isinstance(value, bool)):
        return value
    raise RemoteProtocolError(f"response id is not an int, str or null: {value!r:.40}")


def _notification(method: str, params: msgspec.Raw) -> Inbound:
    if method == "subscription":
        if not params:
            raise RemoteProtocolError("subscription notification without params")
        try:
            channel = _CHANNEL_ONLY.decode(params).channel
        except _DECODE_ERRORS as exc:
            raise _remote("subscription notification without a channel", exc) from exc
        event_type = _event_type(channel)
        try:
            event: ChannelEvent = _PARAMS[event_type].decode(params)
        except _DECODE_ERRORS as exc:
            raise _remote(f"malformed {event_type.__name__} on {channel!r:.80}", exc) from exc
        return event
    if method == "heartbeat" and params:
        try:
            beat: Heartbeat | TestRequest = _HEARTBEAT.decode(params)
        except _DECODE_ERRORS:
            pass
        else:
            return beat
    return UnknownMessage(method=method, params=_ANY.decode(params) if params else None)


def _general(data: bytes | str) -> Inbound:
    try:
        env = _ENVELOPE.decode(data)
    except msgspec.ValidationError as exc:
        raise _remote("message is not a JSON object", exc) from exc
    except _DECODE_ERRORS as exc:
        raise _remote("message is not valid JSON", exc) from exc
    if env.method is not None:
        if not isinstance(env.method, str):
            raise RemoteProtocolError(f"method is not a str: {env.method!r:.40}")
        try:
            return _notification(env.method, env.params)
        except _DECODE_ERRORS as exc:  # params of an unknown method, already valid JSON
            raise _remote("malformed params", exc) from exc
    request_id = _request_id(env.id)
    testnet = env.testnet if isinstance(env.testnet, bool) else None
    us_in, us_out, us_diff = _us(env.usIn), _us(env.usOut), _us(env.usDiff)
    if env.error and bytes(env.error) != b"null":
        try:
            error = _RPC_ERROR.decode(env.error)
        except _DECODE_ERRORS as exc:
            raise _remote("malformed error object", exc) from exc
        return ErrorResponse(
            id=request_id,
            error=error,
            testnet=testnet,
            us_in=us_in,
            us_out=us_out,
            us_diff=us_diff,
        )
    if env.result:
        return Response(
            id=request_id,
            result=env.result,
            testnet=testnet,
            us_in=us_in,
            us_out=us_out,
            us_diff=us_diff,
        )
    raise RemoteProtocolError("message has none of method, result and error")


def _decode_bytes(data: bytes) -> Inbound:
    """Everything :func:`decode_inbound` does not settle with its first-byte hint."""
    if len(data) <= _MAX_FIXED_FRAME:  # heartbeat frames first: none of them has a channel
        fixed = _FIXED_FRAMES.get(data)
        if fixed is not None:
            return fixed
    # Step 1: a channel already seen in the documented layout (see the module docstring).
    route = _hot.get(data[62 : data.find(b'"', 62, 400)])
    if route is not None:
        try:
            event: ChannelEvent = route[0](data).params
        except _DECODE_ERRORS:
            pass
        else:
            if event.channel == route[1]:
                return event  # nothing to learn: _learn ran when the channel entered _hot
    if data.startswith(_PREFIX):
        start = 62
    elif data.startswith(_PREFIX_REVERSED):
        start = 22
    else:
        start = data.find(_PEEK)
        start = start + 11 if start >= 0 else -1
    if start > 0:
        end = data.find(b'"', start)
        if end > 0:
            key = data[start:end]
            route = _routes.get(key) or _route(key)
            if route is not None:
                try:
                    event = route[0](data).params
                except _DECODE_ERRORS:
                    pass
                else:
                    if event.channel == route[1]:
                        if start == 62:  # the documented layout: serve it from _hot next time
                            if len(_hot) >= _ROUTE_CACHE_SIZE:
                                _hot.clear()
                                _types.clear()
                                _wide_hints.clear()
                            _hot[key] = route
                            _learn(data, route[1], type(event))
                        return event
    return _general(data)


def decode_inbound(data: bytes | bytearray | memoryview | str) -> Inbound:
    """Decode one message from the venue; raises only :class:`RemoteProtocolError`."""
    if type(data) is bytes:
        # The hot path: step 0 of the module docstring (ClientProtocol.receive_message has
        # its own copy of these lines); everything else goes through _decode_bytes.
        hint = _hints.get(data[62:63])
        if hint is WIDER:
            hint = _wide_hints.get(data[62 : 62 + _WIDE])
        if hint is not None:
            try:
                event: ChannelEvent = hint[0](data).params
            except _DECODE_ERRORS:
                pass
            else:
                if _types.get(event.channel) is hint[1]:
                    return event
        return _decode_bytes(data)
    if isinstance(data, str):
        found = _fast_str(data)
        if found is not None:
            return found
        return _general(data)
    if isinstance(data, bytearray | memoryview):
        return decode_inbound(bytes(data))
    raise LocalProtocolError(f"invalid data: expected bytes or str, got {type(data).__name__}")


_RESULT_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


def decode_result(command: Command, result: msgspec.Raw | bytes) -> Any:
    """Decode a response's ``result`` with ``command``'s ``result_type``.

    A :class:`GenericRequest` (and ``result_type`` ``Any``) gives plain JSON values.
    Raises :class:`RemoteProtocolError` when the result does not fit the type.
    """
    if not isinstance(command, DeribitCommand | GenericRequest):
        raise LocalProtocolError(f"invalid command: got {type(command).__name__}")
    info = method_info(command)
    result_type = info.result_type
    if result_type is None:
        result_type = Any
    decoder = _RESULT_DECODERS.get(result_type)
    if decoder is None:
        decoder = _RESULT_DECODERS[result_type] = msgspec.json.Decoder(
            result_type, dec_hook=dec_hook
        )
    try:
        return decoder.decode(result)
    except _DECODE_ERRORS as exc:
        raise _remote(f"malformed result for {info.method}", exc) from exc
