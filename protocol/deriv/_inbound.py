"""The Deriv codec, client inbound: one WebSocket message in, one typed value out.

Every Deriv message is one JSON object with ``msg_type`` naming its payload key (spec
1.3).  :func:`decode_message` decodes it in one typed msgspec pass into the message
class of that ``msg_type`` (a tagged union on ``msg_type``: :class:`TickMessage`,
:class:`ProposalMessage`, ...), each of them an event.  Precedence when the pass fails:

* a message with ``error`` is an :class:`ErrorMessage` (its ``msg_type`` is the call's,
  or ``"error"`` for ``UnrecognisedRequest`` / ``InvalidAppID``: spec 1.4);
* a known ``msg_type`` whose payload does not fit its type is a :class:`Malformed`
  answer to its ``req_id`` (the request fails with ``MalformedResult``, the connection
  goes on);
* any other ``msg_type`` is an :class:`UnknownMessage` carrying the message as a dict;
* anything that is not a JSON object raises :class:`RemoteProtocolError`.

``echo_req`` is kept as :class:`msgspec.Raw` (the bytes, parsed only if you ask:
``msgspec.json.decode(message.echo_req)``; ``null`` when the venue left it out);
``passthrough`` is decoded as sent.

The hot path (a tick, a proposal update) is :func:`decode_message`'s first branch: the
``msg_type`` value is found with one ``bytes.find`` and its decoder is looked up in a
dict, so the message is decoded by a decoder told its type in advance, as a bare
``msgspec.json.Decoder(TickMessage)`` would.  The value found is a hint: a tagged decoder
checks the message's own ``msg_type`` against its tag, so a wrong hint (``"msg_type"``
inside ``echo_req``, escapes, whitespace) fails and the message goes through the general
path, which reads the real ``msg_type`` first.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeAlias

import msgspec

from .._errors import RemoteProtocolError
from .._events import Event
from ._models import (
    ActiveSymbol,
    ApiError,
    AuthorizeResult,
    BalanceResult,
    BuyResult,
    Candle,
    ContractsForResult,
    History,
    Ohlc,
    OpenContract,
    PortfolioResult,
    ProfitTableResult,
    ProposalResult,
    SellResult,
    SessionToken,
    StatementResult,
    Subscription,
    Tick,
    TransactionUpdate,
    WebsiteStatusResult,
    dec_hook,
)

__all__ = [
    "MESSAGE_TYPES",
    "STREAM_MESSAGES",
    "ActiveSymbolsMessage",
    "AuthorizeMessage",
    "BalanceMessage",
    "BuyMessage",
    "CandlesMessage",
    "ContractsForMessage",
    "DerivMessage",
    "ErrorMessage",
    "ForgetAllMessage",
    "ForgetMessage",
    "HistoryMessage",
    "LogoutMessage",
    "Malformed",
    "OhlcMessage",
    "OpenContractMessage",
    "PingMessage",
    "PortfolioMessage",
    "ProfitTableMessage",
    "ProposalMessage",
    "SellMessage",
    "SessionTokenMessage",
    "StatementMessage",
    "TickMessage",
    "TimeMessage",
    "TransactionMessage",
    "UnknownMessage",
    "WebsiteStatusMessage",
    "decode_message",
]


_NO_ECHO = msgspec.Raw(b"null")


class DerivMessage(Event, frozen=True, kw_only=True, tag_field="msg_type", gc=False):
    """The envelope every reply and stream message has (spec 1.3).

    ``topic`` is not on the wire: the client machine sets it to the user-facing stream
    (``"ticks.R_50"``) a stream message belongs to, the same across reconnects while
    ``subscription.id`` changes; ``None`` for a plain reply.
    """

    msg_type: ClassVar[str]
    req_id: int | None = None
    echo_req: msgspec.Raw = _NO_ECHO
    passthrough: Any = None
    subscription: Subscription | None = None
    topic: str | None = msgspec.field(default=None, name="tradewire:topic")


class TickMessage(DerivMessage, frozen=True, kw_only=True, tag="tick"):
    tick: Tick


class HistoryMessage(DerivMessage, frozen=True, kw_only=True, tag="history"):
    history: History
    pip_size: int | None = None


class CandlesMessage(DerivMessage, frozen=True, kw_only=True, tag="candles"):
    candles: list[Candle]
    pip_size: int | None = None


class OhlcMessage(DerivMessage, frozen=True, kw_only=True, tag="ohlc"):
    ohlc: Ohlc


class ProposalMessage(DerivMessage, frozen=True, kw_only=True, tag="proposal"):
    proposal: ProposalResult


class BuyMessage(DerivMessage, frozen=True, kw_only=True, tag="buy"):
    buy: BuyResult


class SellMessage(DerivMessage, frozen=True, kw_only=True, tag="sell"):
    sell: SellResult


class OpenContractMessage(DerivMessage, frozen=True, kw_only=True, tag="proposal_open_contract"):
    proposal_open_contract: OpenContract


class PortfolioMessage(DerivMessage, frozen=True, kw_only=True, tag="portfolio"):
    portfolio: PortfolioResult


class ProfitTableMessage(DerivMessage, frozen=True, kw_only=True, tag="profit_table"):
    profit_table: ProfitTableResult


class StatementMessage(DerivMessage, frozen=True, kw_only=True, tag="statement"):
    statement: StatementResult


class BalanceMessage(DerivMessage, frozen=True, kw_only=True, tag="balance"):
    balance: BalanceResult


class TransactionMessage(DerivMessage, frozen=True, kw_only=True, tag="transaction"):
    transaction: TransactionUpdate


class AuthorizeMessage(DerivMessage, frozen=True, kw_only=True, tag="authorize"):
    authorize: AuthorizeResult


class SessionTokenMessage(DerivMessage, frozen=True, kw_only=True, tag="get_session_token"):
    get_session_token: SessionToken


class LogoutMessage(DerivMessage, frozen=True, kw_only=True, tag="logout"):
    logout: int


class PingMessage(DerivMessage, frozen=True, kw_only=True, tag="ping"):
    ping: str


class TimeMessage(DerivMessage, frozen=True, kw_only=True, tag="time"):
    time: int


class WebsiteStatusMessage(DerivMessage, frozen=True, kw_only=True, tag="website_status"):
    website_status: WebsiteStatusResult


class ActiveSymbolsMessage(DerivMessage, frozen=True, kw_only=True, tag="active_symbols"):
    active_symbols: list[ActiveSymbol]


class ContractsForMessage(DerivMessage, frozen=True, kw_only=True, tag="contracts_for"):
    contracts_for: ContractsForResult


class ForgetMessage(DerivMessage, frozen=True, kw_only=True, tag="forget"):
    forget: int


class ForgetAllMessage(DerivMessage, frozen=True, kw_only=True, tag="forget_all"):
    forget_all: list[str]


class ErrorMessage(Event, frozen=True, kw_only=True):
    """A reply with ``error`` (spec 1.4): no payload key; ``msg_type`` is the call's, or
    ``"error"``."""

    msg_type: str | None = None
    error: ApiError
    req_id: int | None = None
    echo_req: msgspec.Raw = _NO_ECHO
    passthrough: Any = None
    subscription: Subscription | None = None


class UnknownMessage(Event, frozen=True, kw_only=True):
    """A message of a ``msg_type`` tradewire does not type; ``data`` is all of it."""

    msg_type: str | None = None
    req_id: int | None = None
    subscription: Subscription | None = None
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    topic: str | None = None


class Malformed(Event, frozen=True, kw_only=True):
    """A known ``msg_type`` whose payload does not fit its type: ``reason`` says how."""

    msg_type: str
    req_id: int | None = None
    reason: str


MESSAGE_TYPES: tuple[type[DerivMessage], ...] = (
    TickMessage,
    HistoryMessage,
    CandlesMessage,
    OhlcMessage,
    ProposalMessage,
    BuyMessage,
    SellMessage,
    OpenContractMessage,
    PortfolioMessage,
    ProfitTableMessage,
    StatementMessage,
    BalanceMessage,
    TransactionMessage,
    AuthorizeMessage,
    SessionTokenMessage,
    LogoutMessage,
    PingMessage,
    TimeMessage,
    WebsiteStatusMessage,
    ActiveSymbolsMessage,
    ContractsForMessage,
    ForgetMessage,
    ForgetAllMessage,
)
"""Every typed message class; its ``msg_type`` tag is ``cls.__struct_config__.tag``."""

STREAM_MESSAGES: tuple[type[DerivMessage], ...] = (
    TickMessage,
    HistoryMessage,
    CandlesMessage,
    OhlcMessage,
    ProposalMessage,
    BuyMessage,
    OpenContractMessage,
    BalanceMessage,
    TransactionMessage,
    WebsiteStatusMessage,
)
"""Message classes that may belong to a stream (carry ``subscription``)."""

AnyMessage: TypeAlias = DerivMessage | ErrorMessage | UnknownMessage | Malformed


def tag_of(cls: type[DerivMessage]) -> str:
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


for _cls in MESSAGE_TYPES:
    _cls.msg_type = tag_of(_cls)  # the wire tag, readable on every message

_BY_TAG: dict[str, type[DerivMessage]] = {tag_of(cls): cls for cls in MESSAGE_TYPES}
_DECODERS: dict[bytes, Any] = {
    tag.encode(): msgspec.json.Decoder(cls, dec_hook=dec_hook) for tag, cls in _BY_TAG.items()
}


class _Envelope(msgspec.Struct, kw_only=True):
    msg_type: Any = None
    req_id: Any = None
    error: Any = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_ERROR = msgspec.json.Decoder(ErrorMessage)
_DICT = msgspec.json.Decoder(dict[str, Any])
_KEY = b'"msg_type":"'
_KEY_LEN = len(_KEY)
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeError, RecursionError)


def _general(data: bytes | str) -> AnyMessage:
    """The slow path: the envelope first, then by ``msg_type`` (module docstring)."""
    try:
        envelope = _ENVELOPE.decode(data)
    except msgspec.ValidationError as exc:
        raise RemoteProtocolError(f"not a Deriv message: {exc}") from None
    except _DECODE_ERRORS as exc:
        raise RemoteProtocolError(f"not valid JSON: {exc}") from None
    msg_type = envelope.msg_type
    req_id = envelope.req_id if isinstance(envelope.req_id, int) else None
    if isinstance(req_id, bool):
        req_id = None
    if envelope.error is not None:
        try:
            return _ERROR.decode(data)
        except msgspec.ValidationError as exc:
            return Malformed(msg_type=str(msg_type), req_id=req_id, reason=f"bad error: {exc}")
    if not isinstance(msg_type, str):
        raise RemoteProtocolError("not a Deriv message: no msg_type")
    cls = _BY_TAG.get(msg_type)
    if cls is None:
        raw = _DICT.decode(data)
        sub = raw.get("subscription")
        subscription = None
        if isinstance(sub, dict) and isinstance(sub.get("id"), str):
            subscription = Subscription(id=sub["id"])
        return UnknownMessage(msg_type=msg_type, req_id=req_id, subscription=subscription, data=raw)
    try:
        message: DerivMessage = msgspec.json.decode(data, type=cls, dec_hook=dec_hook)
    except msgspec.ValidationError as exc:
        return Malformed(msg_type=msg_type, req_id=req_id, reason=str(exc))
    return message


def decode_message(data: bytes | str) -> AnyMessage:
    """One Deriv message as its typed class (see the module docstring)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    start = data.find(_KEY)
    if start >= 0:
        start += _KEY_LEN
        end = data.find(b'"', start)
        decoder = _DECODERS.get(data[start:end])
        if decoder is not None:
            try:
                message: DerivMessage = decoder.decode(data)
            except (msgspec.ValidationError, *_DECODE_ERRORS):
                return _general(data)
            return message  # the decoder checked the real msg_type against its tag
    return _general(data)
