"""The client codec (spec 2, 5): commands to envelopes, signed at release; one message in
to one typed value.

Outbound: ``{"destination": D, "correlationId": N, "payload": {...}}`` with the request id
as a **number** (spec 2.1).  A private command's payload gets ``apiKey``, ``timestamp``
(epoch ms at the moment of release: ``round((now + epoch_offset) * 1000)``), an optional
``recvWindow`` and the ``signature`` (spec 5) in :meth:`ClientCodec.encode`, which the
machine calls when the request goes on the wire, a retry included.

Inbound (the hot path): every message is first decoded in one typed pass by the tagged
union of pushes (:mod:`._wire`); a depth event whose ``data`` came as a JSON string has
it decoded here.  A message that is no push (no push ``destination``) is decoded as an
answer, and anything else goes the slow way (unknown destinations, capitalised keys,
errors without a ``correlationId``); nothing raises but
:class:`~tradewire.protocol.RemoteProtocolError`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .._errors import LocalProtocolError, RemoteProtocolError
from .._events import Command
from .._secrets import Secret
from .._sources import RequestId
from ..session import Answer, CommandInfo, Handler
from ._commands import Ping, Request, VenueRequest
from ._errors import error_for
from ._signing import sign_payload
from ._topics import KINDS
from ._wire import (
    DEPTH_DATA_DECODER,
    ERROR_DECODER,
    PUSH_DECODER,
    RESPONSE_DECODER,
    DepthPayload,
    DepthUpdate,
    Envelope,
    Push,
    PushUpdate,
    Response,
    correlation,
)

__all__ = ["Credentials", "CurrencycomCodec", "SubscribeCall", "depth_handler"]

_SUBSCRIBE_DESTINATIONS = frozenset(KINDS.values())
_PUSH_TAGS = frozenset({"internal.quote", "marketdepth.event", "internal.trade", "ohlc.event"})
_ENCODE = msgspec.json.Encoder().encode


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    """An API key and its secret (the secret never appears in a repr or a message)."""

    api_key: str
    secret: Secret

    def __post_init__(self) -> None:
        if not isinstance(self.api_key, str) or not self.api_key:
            raise LocalProtocolError("invalid api_key: expected a non-empty str")
        if isinstance(self.secret, str):
            msgspec.structs.force_setattr(self, "secret", Secret(self.secret))
        if not isinstance(self.secret, Secret):
            raise LocalProtocolError("invalid secret: expected a str or a Secret")


class SubscribeCall(Command, frozen=True, kw_only=True):
    """One subscribe request the machine sends for a group of topics (spec 4.1)."""

    destination: str
    symbols: tuple[str, ...]
    intervals: tuple[str, ...] = ()
    type: str | None = None

    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"symbols": list(self.symbols)}
        if self.intervals:
            payload["intervals"] = list(self.intervals)
        if self.type is not None:
            payload["type"] = self.type
        return payload


def _decode_error(payload: msgspec.Raw | None) -> tuple[Any, str] | None:
    """``(code, msg)`` when ``payload`` is a ``{code, msg}`` object with a non-zero code."""
    if payload is None:
        return None
    raw = bytes(payload)
    if not raw.startswith(b"{") or b'"code"' not in raw:
        return None
    try:
        error = ERROR_DECODER.decode(raw)
    except msgspec.DecodeError:
        return None
    if error.code in (0, "0"):
        return None
    return error.code, error.msg


def _lower_keys(message: dict[str, Any]) -> dict[str, Any]:
    return {(k[:1].lower() + k[1:]) if isinstance(k, str) else k: v for k, v in message.items()}


class CurrencycomCodec:
    """The Currency.com :class:`~tradewire.protocol.session.ClientCodec`."""

    answer_types: tuple[type, ...] = (Response,)

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        epoch_offset: float = 0.0,
        recv_window: int | None = None,
    ) -> None:
        self.credentials = credentials
        self.epoch_offset = epoch_offset
        self.recv_window = recv_window

    # -- outbound -------------------------------------------------------------------------

    def describe(self, command: Command) -> CommandInfo:
        if isinstance(command, VenueRequest):
            return CommandInfo(
                name=command.destination, needs_auth=command.private, rate_key=command.rate_key
            )
        if isinstance(command, SubscribeCall):
            return CommandInfo(name=command.destination, rate_key="request")
        if isinstance(command, Ping):
            return CommandInfo(
                name="ping",
                rate_key="ping",
                managed="it pings every ping_interval seconds (ClientOptions.ping_interval)",
            )
        if isinstance(command, Request):
            name = command.destination
            if name == "ping":
                return self.describe(Ping())
            if name in _SUBSCRIBE_DESTINATIONS:
                return CommandInfo(
                    name=name,
                    managed="send Subscribe / Unsubscribe so the subscriptions are kept",
                )
            rate_key = "openOrders" if name.endswith("/openOrders") else "request"
            if name.endswith(("/order/create", "/order/cancel")):
                rate_key = "order"
            return CommandInfo(name=name, needs_auth=command.private, rate_key=rate_key)
        raise LocalProtocolError(
            f"invalid command: {type(command).__name__}; a Currency.com client takes "
            "Subscribe, Unsubscribe, Request and the typed requests (GetAccount, CreateOrder ...)"
        )

    def prepare(self, request_id: RequestId, command: Command) -> tuple[Any, ...]:
        private = False
        if isinstance(command, VenueRequest):
            destination, payload, private = command.destination, command.payload(), command.private
        elif isinstance(command, SubscribeCall):
            destination, payload = command.destination, command.payload()
        elif isinstance(command, Ping):
            destination, payload = "ping", {}
        elif isinstance(command, Request):
            destination, payload, private = (
                command.destination,
                dict(command.payload),
                command.private,
            )
        else:  # pragma: no cover - describe refused it
            raise LocalProtocolError(f"invalid command: {type(command).__name__}")
        if private and self.credentials is None:
            raise LocalProtocolError(f"{destination} is signed: pass credentials")
        if private:
            sign_payload(payload, api_key="k", secret="s", timestamp=0)  # checks the values
        return request_id, destination, payload, private

    def encode(self, prepared: tuple[Any, ...], now: float) -> bytes:
        request_id, destination, payload, private = prepared
        if private:
            credentials = self.credentials
            assert credentials is not None
            if self.recv_window is not None:
                payload = {**payload, "recvWindow": self.recv_window}
            payload = sign_payload(
                payload,
                api_key=credentials.api_key,
                secret=credentials.secret.reveal(),
                timestamp=round((now + self.epoch_offset) * 1000),
            )
        return _ENCODE(
            {"destination": destination, "correlationId": request_id, "payload": payload}
        )

    # -- inbound --------------------------------------------------------------------------

    def decode(self, data: bytes | str) -> Any:
        try:
            message = PUSH_DECODER.decode(data)
        except msgspec.ValidationError:
            return self._answer_or_slow(data)  # no push destination: an answer, or odd
        except msgspec.DecodeError as exc:
            raise RemoteProtocolError(f"not a JSON message: {exc}") from None
        if type(message) is DepthUpdate and type(message.payload.data) is str:
            return _depth_from_text(message)
        return message

    pure_decode = staticmethod(PUSH_DECODER.decode)
    """The push decoder alone: the machine may decode a read's pushes at once before
    handling them (``ClientCodec``); answers and odd messages raise there and go to
    ``decode``.  A depth event whose ``data`` is text comes out as text here: its
    handler converts it (:func:`depth_handler`), as ``decode`` does."""

    def _answer_or_slow(self, data: bytes | str) -> Any:
        try:
            response = RESPONSE_DECODER.decode(data)
        except msgspec.DecodeError:
            return self._slow(data)
        if response.correlationId is None:
            return self._slow(data)
        return response

    def _slow(self, data: bytes | str) -> Any:
        try:
            raw = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise RemoteProtocolError(f"not a JSON message: {exc}") from None
        if not isinstance(raw, dict):
            raise RemoteProtocolError(f"not an envelope: expected a JSON object, got {raw!r:.80}")
        message = _lower_keys(raw)
        try:
            envelope = msgspec.convert(message, Envelope)
        except msgspec.ValidationError as exc:
            raise RemoteProtocolError(f"bad envelope: {exc}") from None
        payload = (
            msgspec.Raw(msgspec.json.encode(envelope.payload)) if "payload" in message else None
        )
        if envelope.correlationId is not None or envelope.destination not in _PUSH_TAGS:
            status = envelope.status
            if (
                envelope.correlationId is not None
                or (status is not None and status != "OK")
                or (_decode_error(payload) is not None)
            ):
                cid = envelope.correlationId
                if not isinstance(cid, int | str) or isinstance(cid, bool):
                    cid = None
                return Response(
                    status=status,
                    destination=envelope.destination,
                    correlationId=cid,
                    payload=payload,
                )
            if envelope.destination is None:
                raise RemoteProtocolError(
                    f"a message with neither correlationId nor destination: {raw!r:.120}"
                )
            return Push(destination=envelope.destination, status=status, payload=envelope.payload)
        try:
            pushed = msgspec.convert(message, PushUpdate)
        except msgspec.ValidationError as exc:
            raise RemoteProtocolError(f"bad {envelope.destination} push: {exc}") from None
        if type(pushed) is DepthUpdate and type(pushed.payload.data) is str:
            return _depth_from_text(pushed)
        return pushed

    def answer(self, message: Response) -> Answer:
        request_id = correlation(message.correlationId)
        status = message.status
        if status is not None and status != "OK":
            found = _decode_error(message.payload)
            code, text = found if found is not None else (None, f"status {status}")
            return Answer(request_id=request_id, error=error_for(code, text, status=status))
        found = _decode_error(message.payload)
        if found is not None:
            return Answer(request_id=request_id, error=error_for(found[0], found[1], status=status))
        return Answer(request_id=request_id, result=message.payload)

    def result(self, command: Command, raw: Any) -> Any:
        if raw is None:
            return None
        try:
            if isinstance(command, VenueRequest) and command.result_type is not Any:
                return msgspec.json.decode(raw, type=command.result_type)
            return msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise RemoteProtocolError(
                f"unexpected answer to {type(command).__name__}: {exc}"
            ) from None


def _depth_from_text(message: DepthUpdate) -> DepthUpdate:
    """A depth event whose ``data`` is the book JSON-encoded as a string (spec 4.2)."""
    text = message.payload.data
    assert isinstance(text, str)
    try:
        data = DEPTH_DATA_DECODER.decode(text)
    except msgspec.DecodeError as exc:
        raise RemoteProtocolError(f"bad marketdepth.event data: {exc}") from None
    payload = DepthPayload(symbol=message.payload.symbol, data=data)
    return DepthUpdate(status=message.status, payload=payload)


def depth_handler(on_message: Handler) -> Handler:
    """The depth events' handler: the text form of ``data`` decoded first (as ``decode``
    does, for a depth event that came through ``pure_decode``), then ``on_message``."""

    def handle(message: DepthUpdate, now: float) -> None:
        if type(message.payload.data) is str:
            message = _depth_from_text(message)
        on_message(message, now)

    return handle
