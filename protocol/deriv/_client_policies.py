"""Deriv's part of the client machine: its codec, stream policy, router and auth, as data.

* :class:`DerivClientCodec`: requests encoded when opened (nothing in a Deriv request
  depends on when it is sent); messages decoded by ``msg_type``
  (:func:`~._inbound.decode_message`); replies turned into
  :class:`~tradewire.protocol.session.Answer` by ``req_id``.
* :class:`DerivSubscriptions`: a user-facing stream is a topic (``_topics``); one stream
  per request (spec 1.5), grouped by its ``forget_all`` type; ``balance``,
  ``transaction`` and ``proposal_open_contract`` wait for ``authorize``; an unsubscribe
  is ``forget`` with the stream's id on this connection.
* :class:`StreamRouter`: every message that may belong to a stream.  A known
  ``subscription.id`` is the hot path: the message gets its topic and becomes an event.
  A new id is the first reply of a stream request: it answers that request
  (``host.answered``), which maps the id to the topic.  A message without
  ``subscription`` is a plain reply.  It also ends streams the venue ended by itself:
  an open-contract stream of one contract once it is sold (``is_sold``), a proposal
  stream once bought (the venue consumes it, spec 1.5), and the streams a ``forget_all``
  stopped (``SubscriptionEnded``; they are not restored after a reconnect).
* :class:`DerivAuth`: ``authorize`` with the token on every connection (no refresh:
  Deriv tokens do not expire by time), reporting :class:`Authorized`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import islice
from typing import Any, Literal

import msgspec

from .._errors import LocalProtocolError, RemoteProtocolError
from .._events import Command, Event
from .._secrets import Secret
from .._sources import RequestId
from ..session import (
    HANDLED,
    Answer,
    CommandInfo,
    Handler,
    LoginAuth,
    MalformedResult,
    SessionHost,
    SubscriptionLedger,
    SubscriptionOp,
)
from ._client_events import Authorized, Subscribe, Unsubscribe
from ._commands import (
    Authorize,
    DerivCommand,
    Forget,
    GenericCommand,
    Ping,
    StreamCommand,
    Ticks,
    TicksHistory,
    Transaction,
)
from ._errors import error_for
from ._inbound import (
    STREAM_MESSAGES,
    ActiveSymbolsMessage,
    AuthorizeMessage,
    BuyMessage,
    CandlesMessage,
    ContractsForMessage,
    ErrorMessage,
    ForgetAllMessage,
    ForgetMessage,
    LogoutMessage,
    Malformed,
    OpenContractMessage,
    PingMessage,
    PortfolioMessage,
    ProfitTableMessage,
    SellMessage,
    SessionTokenMessage,
    StatementMessage,
    TimeMessage,
    decode_message,
)
from ._models import AuthorizeResult, Subscription, dec_hook
from ._topics import PRIVATE_STREAM_TYPES, parse_topic, stream_type, topic_of
from ._wire import encode_request

__all__ = [
    "AUTH_HINT",
    "HINT",
    "DROPPED",
    "DerivAuth",
    "DerivClientCodec",
    "DerivSubscriptions",
    "StreamRouter",
]

AUTH_HINT = "pass token= to deriv.ClientProtocol"
DROPPED = "the venue answered without a subscription id: not a stream (spec 1.5)"

_ANSWERS: tuple[type, ...] = (
    ErrorMessage,
    Malformed,
    AuthorizeMessage,
    SessionTokenMessage,
    LogoutMessage,
    PingMessage,
    TimeMessage,
    ActiveSymbolsMessage,
    ContractsForMessage,
    PortfolioMessage,
    ProfitTableMessage,
    StatementMessage,
    SellMessage,
    ForgetMessage,
)
_SET = msgspec.structs.force_setattr
_DECODE_ERRORS = (msgspec.DecodeError, UnicodeError, RecursionError)
"""What a typed decode of a peer's message may raise: the hot path then leaves it."""
_ECHO = msgspec.json.Decoder(dict[str, Any])
HINT = 48
"""Bytes of a message's start that pick its hot-path decoder: the start of ``echo_req``,
the same in every message of one stream."""
MAX_HOT = 4096
"""Hot-path entries kept (one per stream and message type); past it they start again."""


def _decoder(cls: type) -> Any:
    return msgspec.json.Decoder(cls, dec_hook=dec_hook).decode


_STREAM_DECODERS: dict[tuple[Any, str, str], Any] = {}


class _SubscriptionOnly(msgspec.Struct, frozen=True):
    """A message's ``subscription`` alone (the rest skipped): which stream it is."""

    subscription: Subscription | None = None


_SUBSCRIPTION_ONLY = msgspec.json.Decoder(_SubscriptionOnly).decode


def _stream_decoder(cls: Any, topic: str, sub_id: str) -> Any:
    """A decoder into a subclass of ``cls`` whose ``topic`` default is ``topic`` (named
    like ``cls``, with its tag) and whose ``subscription.id`` can only be ``sub_id``:
    a hot-path message carries its topic at no cost, and a message of another stream
    is refused by the decode itself (msgspec checks a literal as it reads it)."""
    key = (cls, topic, sub_id)
    found = _STREAM_DECODERS.get(key)
    if found is None:
        config = cls.__struct_config__
        literal: Any = Literal
        subscription: Any = msgspec.defstruct(
            Subscription.__name__,
            [("id", literal[sub_id])],
            bases=(Subscription,),
            kw_only=True,
            frozen=True,
            gc=False,
            module=Subscription.__module__,
        )
        sub: Any = msgspec.defstruct(
            cls.__name__,
            [
                ("topic", str | None, msgspec.field(default=topic, name="tradewire:topic")),
                ("subscription", subscription),
            ],
            bases=(cls,),
            kw_only=True,
            frozen=True,
            gc=False,
            tag=config.tag,
            module=cls.__module__,
        )
        sub.msg_type = cls.msg_type
        found = _STREAM_DECODERS[key] = _decoder(sub)
    return found


class DerivClientCodec:
    """The client codec (see the module docstring)."""

    answer_types: tuple[type, ...] = _ANSWERS

    def __init__(self, *, new_api: bool) -> None:
        self.new_api = new_api
        self.hot: dict[bytes | str, tuple[Any, str]] = {}  # a message's start -> its stream's
        self.by_id: dict[str, tuple[Any, str]] = {}  # subscription.id -> the same entries
        self.last: bytes | str = b""  # the message the slow path decoded last

    def arm(self, queue: Any) -> None:
        """The router gives the machine's event queue: the hot path queues events itself
        (the machine reads ``decode`` once, after its routers registered)."""
        self.decode = self._hot_decoder(queue)  # type: ignore[method-assign,assignment]
        self.take = self._hot_taker(queue)

    def learn(self, data: bytes | str, message: Any, topic: str) -> Any:
        """A message of a known stream that went the slow way (``message``, decoded from
        ``data``): the event it becomes, and the hot way for the stream's later messages.

        Every message of a stream becomes an instance of the stream's own class (a
        subclass of the message's class whose ``topic`` default is the stream's topic:
        :func:`_stream_decoder`), whichever way it came: here by decoding ``data`` again
        into that class, on the hot way by one typed decode.  So a stream's events are
        the same objects whether a read's messages came one by one or in one call, and
        whichever hot entry a message was tried against first.  Later messages that
        start with the same :data:`HINT` characters (its ``echo_req`` is the same each
        time), or carry the same ``subscription.id``, go the hot way (the class admits
        only that id)."""
        decode = _stream_decoder(type(message), topic, message.subscription.id)
        try:
            event = decode(data)
        except _DECODE_ERRORS:
            # Not decodable into the stream's class (the message names its topic field):
            # the message as it is, with its topic, and no hot way for the stream.
            _SET(message, "topic", topic)
            return message
        hot = self.hot
        if len(hot) >= MAX_HOT:
            self.clear()
        entry = (decode, message.subscription.id)
        hot[data[:HINT]] = self.by_id[entry[1]] = entry
        return event

    def clear(self) -> None:
        """Forget every hot entry (a new connection: new stream ids)."""
        self.hot.clear()
        self.by_id.clear()
        _STREAM_DECODERS.clear()

    def forget(self, sub_id: str) -> None:
        """A stream ended: its hot entries go (so its id is never matched again)."""
        for key in [k for k, v in self.hot.items() if v[1] == sub_id]:
            del self.hot[key]
        self.by_id.pop(sub_id, None)

    def decode(self, data: bytes | str) -> Any:
        """One message, decoded by ``msg_type`` (the hot path replaces this, ``arm``)."""
        self.last = data
        return decode_message(data)

    def _hot_decoder(self, queue: Any) -> Callable[[bytes | str], Any]:
        hot = self._hot_message(queue)
        slow = decode_message
        handled = HANDLED
        codec = self

        def decode(data: bytes | str) -> Any:
            if hot(data):
                return handled
            codec.last = data
            return slow(data)  # the router decides

        return decode

    def _hot_message(self, queue: Any) -> Callable[..., bool]:
        """One message the hot way, or ``False``: the entry its start picks decodes it
        (its class admits only that stream's ``subscription.id``), or, when it does not,
        the entry of the message's own id does (another stream that starts alike: two
        proposals of one symbol, say).  Queued as the stream's own class (:meth:`learn`)."""
        get, get_by_id = self.hot.get, self.by_id.get
        errors = _DECODE_ERRORS
        subscription_of = _SUBSCRIPTION_ONLY

        def hot(data: bytes | str, refused: Any = None) -> bool:
            entry = get(data[:HINT])
            if entry is None:
                return False
            if entry is not refused:  # ``take`` passes the entry that refused it already
                try:
                    queue.items.append(entry[0](data))
                    return True
                except errors:
                    pass
            try:
                sub = subscription_of(data).subscription
            except errors:
                return False
            other = get_by_id(sub.id) if sub is not None else None
            if other is None or other is entry:
                return False
            try:
                queue.items.append(other[0](data))
            except errors:
                return False
            return True

        return hot

    def _hot_taker(self, queue: Any) -> Callable[[Sequence[bytes | str], int, int], int]:
        """The hot path over a read's messages (``ClientCodec.take``): queues the hot
        messages from ``start`` and returns the index of the first one it leaves to
        ``decode`` (not hot, or not decodable: ``decode`` says why).

        The first message's start picks the stream (its hot entry); the messages from
        there are decoded into that stream's class in one C loop (``map``) until one is
        not the stream's (the class admits only its ``subscription.id``).  No message's
        start is compared: a message taken here is one of that stream's by its id and
        class, and :meth:`learn` makes every message of a stream the same object
        whichever way it goes, so this is what ``decode`` does to each.  From the first
        message that is not the stream's, the rest of the read goes one by one
        (``_hot_message``): a read that mixes streams is decoded once, not once per run.
        """
        get = self.hot.get
        errors = _DECODE_ERRORS
        hot = self._hot_message(queue)

        def take(messages: Sequence[bytes | str], start: int, stop: int) -> int:
            entry = get(messages[start][:HINT])
            if entry is None:
                return start
            items = queue.items
            before = len(items)
            try:  # noqa: SIM105 (a try costs nothing; suppress is two Python calls)
                items.extend(map(entry[0], islice(messages, start, stop)))
            except errors:
                pass  # the ones before it are queued; it goes one by one below
            i = start + len(items) - before
            if i == stop:
                return stop
            if not hot(messages[i], entry):  # the one the stream's class refused
                return i
            for i in range(i + 1, stop):  # noqa: B020 (the rest, one by one)
                if not hot(messages[i]):
                    return i
            return stop

        return take

    def describe(self, command: Command) -> CommandInfo:
        if isinstance(command, GenericCommand):
            return CommandInfo(name=command.call, needs_auth=command.needs_auth)
        if not isinstance(command, DerivCommand):
            raise LocalProtocolError(
                f"invalid command: expected a Deriv command, GenericCommand, Subscribe or "
                f"Unsubscribe, got {type(command).__name__}"
            )
        managed = None
        if isinstance(command, Authorize):
            managed = AUTH_HINT
        elif isinstance(command, Forget):
            managed = "send Unsubscribe(streams=[...]) so the machine keeps its streams exact"
        elif isinstance(command, StreamCommand) and (
            command.subscribe or isinstance(command, Ticks | Transaction)
        ):
            managed = "send Subscribe(streams=[...]) so the stream survives reconnects"
        return CommandInfo(
            name=command.call,
            needs_auth=command.needs_auth,
            rate_key=command.rate_group,
            managed=managed,
        )

    def prepare(self, request_id: RequestId, command: Command) -> bytes:
        if not isinstance(request_id, int):
            raise LocalProtocolError(
                f"invalid request id {request_id!r}: Deriv's req_id is an int (use CounterIds)"
            )
        return encode_request(request_id, command, new_api=self.new_api)

    @staticmethod
    def encode(prepared: bytes, now: float) -> bytes:
        return prepared

    @staticmethod
    def answer(message: Any) -> Answer:
        if type(message) is ErrorMessage:
            error = message.error
            return Answer(
                request_id=message.req_id, error=error_for(error.code, error.message, error.details)
            )
        if type(message) is Malformed:
            return Answer(
                request_id=message.req_id,
                error=MalformedResult(f"{message.msg_type}: {message.reason}"),
            )
        return Answer(request_id=message.req_id, result=message)

    @staticmethod
    def result(command: Command, raw: Any) -> Any:
        if isinstance(command, GenericCommand):
            return raw
        assert isinstance(command, DerivCommand)
        expected = command.answer
        if isinstance(command, TicksHistory) and command.candles:
            expected = CandlesMessage
        if not isinstance(raw, expected):
            raise RemoteProtocolError(
                f"{command.call} was answered with msg_type "
                f"{getattr(raw, 'msg_type', type(raw).__name__)!r}"
            )
        if command.payload is None or (isinstance(command, StreamCommand) and command.subscribe):
            return raw  # the machine's own stream request: the ack is the whole message
        return getattr(raw, command.payload)


class DerivSubscriptions:
    """Deriv's stream policy (see the module docstring)."""

    max_per_request = 1
    max_chars: int | None = None
    in_handshake = False

    def __init__(self, *, max_streams: int) -> None:
        self.commands: dict[str, StreamCommand] = {}
        self.max_streams = max_streams
        self.ledger: SubscriptionLedger | None = None  # the machine's, set once built
        self.router: StreamRouter | None = None

    def topic(self, stream: str | StreamCommand) -> str:
        """The canonical topic of a stream given as a topic or a command (remembered)."""
        if isinstance(stream, str):
            command = parse_topic(stream)
        elif isinstance(stream, StreamCommand):
            command = msgspec.structs.replace(stream, subscribe=False)
        else:
            raise LocalProtocolError(
                f"invalid stream {stream!r:.80}: expected a topic str or a stream command"
            )
        topic = topic_of(command)
        if topic not in self.commands:
            if len(self.commands) >= 2 * self.max_streams:
                self._prune()
            self.commands[topic] = command
        return topic

    def _prune(self) -> None:
        ledger = self.ledger
        if ledger is None:
            return
        keep = set(ledger.desired()) | set(ledger.active())
        self.commands = {t: c for t, c in self.commands.items() if t in keep}

    def command(self, topic: str) -> StreamCommand:
        found = self.commands.get(topic)
        return found if found is not None else parse_topic(topic)

    def request(self, command: Command) -> tuple[SubscriptionOp, tuple[str, ...]] | None:
        if isinstance(command, Subscribe):
            return SubscriptionOp.SUBSCRIBE, tuple(self.topic(s) for s in command.streams)
        if isinstance(command, Unsubscribe):
            return SubscriptionOp.UNSUBSCRIBE, tuple(self.topic(s) for s in command.streams)
        return None

    def check(self, topics: Sequence[str], has_credentials: bool) -> None:
        if has_credentials:
            return
        private = [t for t in topics if self.group(t) in PRIVATE_STREAM_TYPES]
        if private:
            raise LocalProtocolError(f"streams {private!r:.200} need authorization: {AUTH_HINT}")

    def group(self, topic: str) -> str:
        return stream_type(self.command(topic))

    @staticmethod
    def group_needs_auth(group: str) -> bool:
        return group in PRIVATE_STREAM_TYPES

    def subscribe_command(self, group: str, topics: list[str]) -> Command:
        return msgspec.structs.replace(self.command(topics[0]), subscribe=True)

    def unsubscribe_command(self, group: str, topics: list[str]) -> Command:
        remote = self.ledger.remote_id(topics[0]) if self.ledger is not None else None
        if remote is not None and self.router is not None:
            self.router.drop(remote)
        if remote is None:
            # Nothing to forget at the venue (never seen a stream id): a ping stands in,
            # so the ledger settles the topic with the pong.
            return Ping()
        return Forget(forget=remote)

    @staticmethod
    def accepted(result: Any, topics: list[str]) -> tuple[list[str], Mapping[str, str] | None]:
        if getattr(result, "subscription", None) is None:
            return [], None  # a one-off answer: the venue started no stream
        return list(topics), None


class StreamRouter:
    """Stream messages, their acks and the streams the venue ends (module docstring)."""

    def __init__(
        self, subscriptions: DerivSubscriptions, codec: DerivClientCodec, *, max_routes: int
    ) -> None:
        self.subscriptions = subscriptions
        self.codec = codec
        self.routes: dict[str, str] = {}  # subscription.id -> topic, this connection
        self.max_routes = max_routes

    def reset(self) -> None:
        """The connection is gone: its stream ids with it."""
        self.routes.clear()
        self.codec.clear()

    def drop(self, sub_id: str) -> None:
        """Stream ``sub_id`` is being forgotten: its later messages are not routed."""
        self.routes.pop(sub_id, None)
        self.codec.forget(sub_id)

    def handlers(self, host: SessionHost) -> dict[type, Handler]:
        routes = self.routes
        subs = self.subscriptions
        queue = host.event_queue
        codec = self.codec
        codec.arm(queue)
        cold = (OpenContractMessage, BuyMessage)  # their handling ends streams: never hot

        def learn(sub_id: str) -> str | None:
            ledger = subs.ledger
            topic = ledger.topic_for_remote(sub_id) if ledger is not None else None
            if topic is not None:
                if len(routes) >= self.max_routes:
                    routes.clear()
                routes[sub_id] = topic
            return topic

        def on_stream(message: Any, now: float) -> None:
            sub = message.subscription
            if sub is not None:
                topic = routes.get(sub.id)
                if topic is not None:  # a stream we know
                    if type(message) in cold:
                        _SET(message, "topic", topic)
                        queue.items.append(message)
                        if type(message) is OpenContractMessage:
                            self._contract_update(host, message, topic, now)
                    else:
                        queue.items.append(codec.learn(codec.last, message, topic))
                    return
                host.answered(Answer(request_id=message.req_id, result=message, stream=sub.id), now)
                topic = learn(sub.id)
                if topic is not None:
                    _SET(message, "topic", topic)
                queue.items.append(message)
                if topic is not None and type(message) is OpenContractMessage:
                    self._contract_update(host, message, topic, now)
                return
            if not host.answered(Answer(request_id=message.req_id, result=message), now):
                queue.items.append(message)
            elif type(message) is BuyMessage:
                self._bought(host, message, now)

        def on_forget_all(message: ForgetAllMessage, now: float) -> None:
            answered = host.answered(Answer(request_id=message.req_id, result=message), now)
            if not answered:
                queue.items.append(message)
                return
            ledger = subs.ledger
            topics = []
            for sub_id in message.forget_all:
                topic = routes.pop(sub_id, None)
                if topic is None and ledger is not None:
                    topic = ledger.topic_for_remote(sub_id)
                if topic is not None:
                    topics.append(topic)
            host.venue_ended(topics, now)

        table: dict[type, Handler] = {cls: on_stream for cls in STREAM_MESSAGES}
        table[ForgetAllMessage] = on_forget_all
        return table

    def _contract_update(
        self, host: SessionHost, message: OpenContractMessage, topic: str, now: float
    ) -> None:
        if message.proposal_open_contract.is_sold != 1:
            return
        command = self.subscriptions.commands.get(topic)
        if command is not None and getattr(command, "contract_id", None) is not None:
            self.routes.pop(message.subscription.id if message.subscription else "", None)
            host.venue_ended([topic], now)  # the contract is closed: its stream is over

    def _bought(self, host: SessionHost, message: BuyMessage, now: float) -> None:
        try:
            echo = _ECHO.decode(message.echo_req)
        except (msgspec.DecodeError, msgspec.ValidationError):
            return
        proposal_id = echo.get("buy")
        topic = self.routes.pop(proposal_id, None) if isinstance(proposal_id, str) else None
        if topic is not None:
            host.venue_ended([topic], now)  # the venue consumed the proposal stream


def _authorized(result: AuthorizeResult, now: float, refreshed: bool) -> Event:
    return Authorized(
        loginid=result.loginid,
        currency=result.currency,
        is_virtual=bool(result.is_virtual),
        scopes=tuple(result.scopes),
    )


class DerivAuth(LoginAuth):
    """``authorize`` with ``token`` on every connection (see the module docstring)."""

    def __init__(self, token: Secret | None, router: StreamRouter) -> None:
        super().__init__(self._login_command, _authorized)
        self.token = token
        self.enabled = token is not None
        self.router = router

    def _login_command(self, now: float) -> Command:
        assert self.token is not None
        return Authorize(authorize=self.token)

    def connection_made(self) -> None:
        if self.enabled:
            super().connection_made()

    def connection_lost(self) -> None:
        super().connection_lost()
        self.router.reset()

    def __repr__(self) -> str:
        return f"DerivAuth(state={self.state.value}, token={'<set>' if self.enabled else None})"
