"""Rails' part of the client machine: its codec and policies, as data.

:class:`~tradewire.protocol.rails.ClientProtocol` is the session layer's
:class:`~tradewire.protocol.session.ClientSession` with what this module builds:

* :class:`RailsClientCodec`: requests encoded once when opened (nothing in a Rails
  request depends on when it is sent), messages decoded by ``decode_inbound`` in one
  typed pass; its shortcut queues a book delta of a trusted, unkept book as it decodes
  it (``HANDLED``, see ``_client_books``);
* :class:`RailsReplies`, the router for every answer: a message whose
  ``data.clientRequestId`` names a request on the wire answers it (``statusCode`` 202:
  interim, reported as ``RequestAccepted``; 200: the result, the message itself;
  >= 400: the error of :func:`error_for`); any other is an event as it is (a
  ``rejectOrder`` after the confirmation, the ``createOrder`` 200 of a modify's new
  order, fills, a late answer).  A snapshot answer without an id answers the oldest
  open snapshot request of its market;
* :class:`RailsSubscriptions`: the four streams are the topics, in the upgrade's query
  string and changed later by ``subscribe`` / ``unsubscribe`` requests (one request for
  all of them; an ack's ``activeSubscriptions`` says which are active);
* :func:`classify`: 429 is rate limited (the order requests are paced, and retried with
  the same ``clientRequestId`` once the bucket has refilled), 5xx transient, 401 a
  refused token (a new one is wanted), everything else final;
* :func:`heartbeat`: ``ping`` every ``ping_interval`` s, a ``pong`` within
  ``pong_timeout`` s or the connection is a zombie (spec 3.1; the interval is ours);
* :func:`pacing`: createOrder, cancelOrder and modifyOrder share one bucket (spec 4:
  6000 a minute across markets; the default is 90 a second, 10% under it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._errors import LocalProtocolError, RemoteProtocolError, RequestFailure
from .._events import Command
from .._sources import RequestId
from ..session import (
    Answer,
    BucketPacing,
    CommandInfo,
    ErrorClass,
    Handler,
    Heartbeat,
    SessionHost,
    SubscriptionOp,
    Take,
    TokenBucket,
)
from ._client_books import RailsBooks, SnapshotAsks
from ._commands import (
    PRIVATE_STREAMS,
    EmitPublicOrderBook,
    EmitPublicTrades,
    GenericRequest,
    Ping,
    RailsCommand,
    Subscribe,
    Unsubscribe,
)
from ._errors import ServerError, TooManyRequests, Unauthorized, error_for
from ._models import (
    CancelOrderResult,
    CreateOrderResult,
    ErrorMessage,
    LegacyPublicTradesSnapshot,
    ModifyOrderResult,
    OrderFilled,
    OrderPartiallyFilled,
    OrderRejected,
    OrderUpdate,
    Pong,
    PublicTradesSnapshot,
    Subscribed,
    UnknownMessage,
    Unsubscribed,
)
from ._wire import _UNION, decode_inbound, encode_request, request_market

__all__ = [
    "ORDER_REQUESTS",
    "RailsClientCodec",
    "RailsReplies",
    "RailsSubscriptions",
    "classify",
    "heartbeat",
    "pacing",
]

ORDER_REQUESTS = frozenset({"createOrder", "cancelOrder", "modifyOrder"})
"""The requests that share the venue's order rate limit (spec 4)."""

MANAGED = {
    "subscribe": "send Subscribe (the machine keeps the subscriptions)",
    "unsubscribe": "send Unsubscribe (the machine keeps the subscriptions)",
}


class RailsClientCodec:
    """The client codec (see the module docstring)."""

    answer_types: tuple[type, ...] = ()

    def __init__(self, *, market: str, legacy: bool, asks: SnapshotAsks) -> None:
        self.market = market
        self.legacy = legacy
        self.asks = asks
        self.decode: Callable[[Any], Any] = decode_inbound
        # The union decoder, ``decode`` without its fallbacks and book shortcut: a read's
        # messages may be decoded at once, then handled (``ClientCodec``); the delta
        # handler takes the shortcut then (``_client_books.delta_handler``), and what
        # the union refuses goes to ``decode`` for the fallbacks or the refusal.
        self.pure_decode: Callable[[Any], Any] = _UNION.decode

    @staticmethod
    def describe(command: Command) -> CommandInfo:
        if not isinstance(command, RailsCommand):
            raise LocalProtocolError(
                f"invalid command: expected a Rails command (CreateOrder, CancelOrder, "
                f"ModifyOrder, Subscribe, Unsubscribe, Ping, EmitPublicOrderBook, "
                f"EmitPublicTrades, GenericRequest, UseToken), got {type(command).__name__}"
            )
        name = command.name if isinstance(command, GenericRequest) else command.message
        orders = name in ORDER_REQUESTS
        return CommandInfo(
            name=name,
            needs_auth=orders,  # the account's own: a token is needed (spec 1.1)
            rate_key="orders" if orders else None,
            managed=MANAGED.get(name) if isinstance(command, GenericRequest) else None,
        )

    def prepare(self, request_id: RequestId, command: Command) -> bytes:
        assert isinstance(command, RailsCommand)
        market = request_market(command, self.market)
        if isinstance(command, EmitPublicOrderBook | EmitPublicTrades):
            self.asks.add(command.message, market or self.market, request_id)
        return encode_request(request_id, command, market, legacy=self.legacy)

    @staticmethod
    def encode(prepared: bytes, now: float) -> bytes:
        return prepared

    @staticmethod
    def answer(message: Any) -> Answer:  # pragma: no cover - answers go through RailsReplies
        raise AssertionError("Rails answers are routed by RailsReplies")

    @staticmethod
    def result(command: Command, raw: Any) -> Any:
        return raw  # the answering message itself, typed already

    def arm(self, decode: Callable[[Any], Any], take: Take) -> None:
        """Take the decoder with the book shortcut and the shortcut over a read
        (``_client_books.hot_decoder``, ``delta_taker``)."""
        self.decode = decode
        self.take = take


class RailsReplies:
    """The router for answers (see the module docstring)."""

    ORDER_TYPES = (
        CreateOrderResult,
        CancelOrderResult,
        ModifyOrderResult,
        OrderRejected,
        OrderFilled,
        OrderPartiallyFilled,
    )

    def __init__(self, *, books: RailsBooks, asks: SnapshotAsks, cancel_confirmed: bool) -> None:
        self.books = books
        self.asks = asks
        self.cancel_confirmed = cancel_confirmed
        self.host: SessionHost | None = None

    def handlers(self, host: SessionHost) -> dict[type, Handler]:
        self.host = host
        handlers: dict[type, Handler] = dict.fromkeys(self.ORDER_TYPES, self.on_reply)
        for kind in (Pong, Subscribed, Unsubscribed, ErrorMessage, OrderUpdate):
            handlers[kind] = self.on_reply
        handlers[PublicTradesSnapshot] = self.on_trades_snapshot
        handlers[LegacyPublicTradesSnapshot] = self.on_trades_snapshot
        handlers[UnknownMessage] = self.on_unknown
        return handlers

    def _answer(
        self, message: Any, request_id: RequestId | None, status: int, body: str, now: float
    ) -> bool:
        if request_id is None:
            return False
        host = self.host
        assert host is not None
        if status >= 400:
            result_type = _result_type(message)
            answer = Answer(request_id=request_id, error=error_for(status, body, result_type))
        else:
            final = status != 202 or (
                type(message) is CancelOrderResult and not self.cancel_confirmed
            )
            answer = Answer(request_id=request_id, result=message, final=final)
        self.books.clock = now  # an ack may start a book, which asks for its snapshot
        return host.answered(answer, now)

    def on_reply(self, message: Any, now: float) -> None:
        data = message.data
        body = getattr(data, "body", "")
        if not self._answer(message, data.client_request_id, data.status_code, body, now):
            assert self.host is not None
            self.host.event_queue.items.append(message)

    def on_trades_snapshot(self, message: Any, now: float) -> None:
        host = self.host
        assert host is not None
        data = message.data
        request_id = data.client_request_id
        if request_id is None:
            market = message.market or self.books.market
            request_id = self.asks.take(EmitPublicTrades.message, market, host)
        if not self._answer(message, request_id, data.status_code, "", now):
            host.event_queue.items.append(message)

    def on_unknown(self, message: UnknownMessage, now: float) -> None:
        data = message.data
        request_id: Any = None
        status, body = 200, ""
        if isinstance(data, dict):
            request_id = data.get("clientRequestId")
            raw_status = data.get("statusCode", 200)
            status = raw_status if isinstance(raw_status, int) else 200
            body = str(data.get("body", ""))
        if not isinstance(request_id, str) or not self._answer(
            message, request_id, status, body, now
        ):
            assert self.host is not None
            self.host.event_queue.items.append(message)


def _result_type(message: Any) -> str | None:
    if isinstance(message, UnknownMessage | OrderUpdate):
        return message.result_type
    tag = type(message).__struct_config__.tag
    return str(tag) if tag is not None else None


class RailsSubscriptions:
    """The streams as topics (see the module docstring)."""

    in_handshake = True
    max_per_request = 4
    max_chars: int | None = None

    @staticmethod
    def request(command: Command) -> tuple[SubscriptionOp, tuple[str, ...]] | None:
        if isinstance(command, Unsubscribe):
            return SubscriptionOp.UNSUBSCRIBE, command.subscriptions
        if isinstance(command, Subscribe):
            return SubscriptionOp.SUBSCRIBE, command.subscriptions
        return None

    @staticmethod
    def check(topics: Sequence[str], has_credentials: bool) -> None:
        private = [t for t in topics if t in PRIVATE_STREAMS]
        if private and not has_credentials:
            raise LocalProtocolError(
                f"streams {private!r} are the account's own: pass token= to ClientProtocol "
                "(or send UseToken first)"
            )

    @staticmethod
    def group(topic: str) -> str:
        return "streams"

    @staticmethod
    def group_needs_auth(group: str) -> bool:
        return False  # the token rides in the upgrade: a live connection is authenticated

    @staticmethod
    def subscribe_command(group: str, topics: list[str]) -> Command:
        return Subscribe(subscriptions=tuple(topics))

    @staticmethod
    def unsubscribe_command(group: str, topics: list[str]) -> Command:
        return Unsubscribe(subscriptions=tuple(topics))

    @staticmethod
    def accepted(result: Any, topics: list[str]) -> tuple[list[str], Mapping[str, str] | None]:
        if not isinstance(result, Subscribed):
            raise RemoteProtocolError(
                f"a subscribe was answered with {type(result).__name__}, not 'subscribed'"
            )
        active = result.data.active_subscriptions
        if active is None:
            return list(topics), None
        return [t for t in topics if t in active], None


def classify(error: RequestFailure) -> ErrorClass:
    """What a Rails error means for the machine (see the module docstring)."""
    if isinstance(error, TooManyRequests):
        return ErrorClass.RATE_LIMITED
    if isinstance(error, ServerError):
        return ErrorClass.TRANSIENT
    if isinstance(error, Unauthorized):
        return ErrorClass.CREDENTIALS
    return ErrorClass.FINAL


def heartbeat(interval: float | None, pong_timeout: float) -> Heartbeat:
    """A ``ping`` every ``interval`` seconds, answered within ``pong_timeout``."""
    if interval is None:
        return Heartbeat()
    return Heartbeat(ping=Ping, ping_interval=interval, pong_timeout=pong_timeout)


def pacing(rate: float | None) -> BucketPacing | None:
    """One bucket of ``rate`` order requests a second (burst: one second's worth, at
    least one request)."""
    if rate is None:
        return None
    bucket = TokenBucket(max(rate, 1.0), rate, name="orders")
    return BucketPacing({"orders": ((bucket, 1.0),)})
