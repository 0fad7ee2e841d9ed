"""A toy venue for the session layer's tests: one small JSON dialect, every venue shape.

The session layer must fit four venues whose shapes differ; the toy venue has a switch
for each shape so one codec exercises them all:

* subscriptions: ``"request"`` (chunked requests whose ack lists the topics, Deribit),
  ``"stream"`` (one request per topic, acked by its first message carrying a venue
  stream id, Deriv), ``"none"`` (no unsubscribe: drop by reconnecting, Currency.com),
  ``"handshake"`` (topics in the upgrade's query, changed later by request, Rails);
* auth: ``"login"`` (a login request, refreshed), ``"signed"`` (the codec signs each
  private request with the release time, Currency.com), ``"token"`` (a token in the
  handshake, renewed by reconnecting, Rails);
* heartbeat: venue ``probes`` answered, or our ``pings`` with a pong deadline.

Wire (requests): ``{"id": N, "op": NAME, "args": {...}}``, with ``"sig": "<op>@<ms>"`` on
signed private requests.  Wire (venue): ``{"id": N, "result": ...}``, ``{"id": N,
"status": 202, "result": ...}`` (interim), ``{"id": N, "error": {"code": C, "message":
M}}``, ``{"id": N, "stream": S, "topic": T, "data": D}`` (a stream message: the first
one acks its request), ``{"topic": T, "data": D}`` (a push), ``{"probe": 1}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from tradewire.protocol import (
    Command,
    Event,
    Handshake,
    LocalProtocolError,
    RemoteProtocolError,
    RequestFailure,
    RequestId,
    VenueError,
)
from tradewire.protocol.session import (
    Answer,
    AuthState,
    BucketPacing,
    ClientSession,
    ClientSpec,
    CommandInfo,
    ErrorClass,
    Handler,
    Heartbeat,
    LoginAuth,
    NoAuth,
    SessionHost,
    SessionOptions,
    SignedRequests,
    SubscriptionOp,
    TokenBucket,
)


class Op(Command, frozen=True, kw_only=True):
    """Any toy request: ``op`` with ``args``; ``private`` needs authentication."""

    op: str
    args: dict[str, Any] = msgspec.field(default_factory=dict)
    private: bool = False
    ends_session: bool = False


class Sub(Command, frozen=True, kw_only=True):
    topics: tuple[str, ...]


class Unsub(Command, frozen=True, kw_only=True):
    topics: tuple[str, ...]


class Push(Event, frozen=True, kw_only=True):
    topic: str
    data: Any = None


class StreamMessage(Event, frozen=True, kw_only=True):
    id: int | None = None
    stream: str
    topic: str
    data: Any = None


class Probe(Event, frozen=True, kw_only=True):
    probe: int = 1


class Granted(Event, frozen=True, kw_only=True):
    token: str
    refreshed: bool


class _Error(msgspec.Struct):
    code: int | str
    message: str = ""


class _Reply(msgspec.Struct, frozen=True, kw_only=True):
    id: int | None = None
    result: Any = None
    status: int = 200
    error: _Error | None = None


class ToyError(VenueError):
    pass


TRANSIENT, RATE_LIMITED, CREDENTIALS = "busy", "slow-down", "bad-token"


def classify(error: RequestFailure) -> ErrorClass:
    code = getattr(error, "code", None)
    if code == TRANSIENT:
        return ErrorClass.TRANSIENT
    if code == RATE_LIMITED:
        return ErrorClass.RATE_LIMITED
    if code == CREDENTIALS:
        return ErrorClass.CREDENTIALS
    return ErrorClass.FINAL


_DECODE = msgspec.json.Decoder(dict[str, Any])
_REPLY = msgspec.json.Decoder(_Reply)
_PUSH = msgspec.json.Decoder(Push)
_STREAM = msgspec.json.Decoder(StreamMessage)


class ToyCodec:
    """The toy dialect (see the module docstring)."""

    answer_types: tuple[type, ...] = (_Reply,)

    def __init__(self, *, signed: bool, epoch_offset: float = 0.0) -> None:
        self.signed = signed
        self.epoch_offset = epoch_offset
        self.prepared = 0
        self.encoded = 0

    def describe(self, command: Command) -> CommandInfo:
        if not isinstance(command, Op):
            raise LocalProtocolError(f"invalid command: {type(command).__name__}")
        return CommandInfo(
            name=command.op,
            needs_auth=command.private,
            answered=not command.ends_session,
            ends_session=command.ends_session,
            rate_key=command.op,
        )

    def prepare(self, request_id: RequestId, command: Command) -> tuple[RequestId, Op]:
        assert isinstance(command, Op)
        if command.op == "too-big":
            raise LocalProtocolError("request too large")
        self.prepared += 1
        return request_id, command

    def encode(self, prepared: tuple[RequestId, Op], now: float) -> bytes:
        self.encoded += 1
        request_id, command = prepared
        body: dict[str, Any] = {"id": request_id, "op": command.op, "args": command.args}
        if self.signed and command.private:
            body["sig"] = f"{command.op}@{round((now + self.epoch_offset) * 1000)}"
        return msgspec.json.encode(body)

    def decode(self, data: bytes | str) -> Any:
        try:
            raw = _DECODE.decode(data)
        except msgspec.DecodeError as exc:
            raise RemoteProtocolError(f"not JSON: {exc}") from None
        try:
            if "probe" in raw:
                return Probe()
            if "stream" in raw:
                return _STREAM.decode(data)
            if "id" in raw:
                return _REPLY.decode(data)
            if "topic" in raw:
                return _PUSH.decode(data)
        except msgspec.ValidationError as exc:
            raise RemoteProtocolError(f"bad message: {exc}") from None
        return raw  # unknown: an event as it is (a dict)

    def answer(self, message: _Reply) -> Answer:
        if message.error is not None:
            error = ToyError(message.error.code, message.error.message)
            return Answer(request_id=message.id, error=error, final=message.status != 202)
        return Answer(request_id=message.id, result=message.result, final=message.status != 202)

    def result(self, command: Command, raw: Any) -> Any:
        if isinstance(command, Op) and command.op == "typed" and not isinstance(raw, int):
            raise RemoteProtocolError(f"expected an int, got {raw!r}")
        return raw


class ToySubscriptions:
    """The four subscription shapes (see the module docstring)."""

    max_chars: int | None = None

    def __init__(self, style: str, *, max_per_request: int = 3) -> None:
        self.style = style
        self.max_per_request = 1 if style == "stream" else max_per_request
        self.in_handshake = style == "handshake"

    @staticmethod
    def request(command: Command) -> tuple[SubscriptionOp, tuple[str, ...]] | None:
        if isinstance(command, Sub):
            return SubscriptionOp.SUBSCRIBE, command.topics
        if isinstance(command, Unsub):
            return SubscriptionOp.UNSUBSCRIBE, command.topics
        return None

    @staticmethod
    def check(topics: Sequence[str], has_credentials: bool) -> None:
        if not has_credentials and any(t.startswith("private.") for t in topics):
            raise LocalProtocolError("private topics need credentials")

    @staticmethod
    def group(topic: str) -> str:
        return "private" if topic.startswith("private.") else "public"

    @staticmethod
    def group_needs_auth(group: str) -> bool:
        return group == "private"

    def subscribe_command(self, group: str, topics: list[str]) -> Command:
        return Op(op="subscribe", args={"topics": topics}, private=group == "private")

    def unsubscribe_command(self, group: str, topics: list[str]) -> Command | None:
        if self.style == "none":
            return None
        return Op(op="unsubscribe", args={"topics": topics}, private=group == "private")

    def accepted(
        self, result: Any, topics: list[str]
    ) -> tuple[list[str], Mapping[str, str] | None]:
        if self.style == "stream":
            return list(topics), None  # the stream id comes with the answer
        if isinstance(result, list):
            return [str(t) for t in result], None
        return list(topics), None


class TokenAuth:
    """A token in the handshake, renewed by reconnecting (Rails' shape)."""

    enabled = True

    def __init__(self, token: str, *, lifetime: float) -> None:
        self.token = token
        self.lifetime = lifetime
        self.state = AuthState.NONE
        self.refresh_at: float | None = None
        self.renew_at: float | None = None
        self.renewals = 0

    @property
    def authenticated(self) -> bool:
        return self.state is AuthState.AUTHENTICATED

    def connection_made(self) -> None:
        self.state = AuthState.AUTHENTICATED

    def connection_lost(self) -> None:
        self.state = AuthState.NONE

    def login(self, now: float) -> Command | None:
        return None

    def refresh(self, now: float) -> Command | None:
        return None

    def granted(self, result: Any, now: float, *, refreshed: bool) -> Event:  # pragma: no cover
        raise AssertionError("no login request")

    def failed(self) -> None:
        self.state = AuthState.FAILED

    def issued(self, token: str, now: float) -> None:
        """A new token is at hand (fetched over HTTP by the caller): renew at once."""
        self.token = token
        self.renewals += 1
        self.renew_at = now


class StreamRouter:
    """Stream messages: the first one of a stream acknowledges its request (Deriv)."""

    def __init__(self) -> None:
        self.host: SessionHost | None = None

    def handlers(self, host: SessionHost) -> dict[type, Handler]:
        self.host = host

        def on_stream(message: StreamMessage, now: float) -> None:
            answer = Answer(request_id=message.id, result=message.data, stream=message.stream)
            host.answered(answer, now)
            host.event_queue.items.append(message)

        return {StreamMessage: on_stream}


def toy(
    *,
    subscriptions: str = "request",
    auth: str = "none",
    heartbeat: str = "none",
    pacing: float | None = None,
    handlers: dict[type, Any] | None = None,
    books: tuple[Any, ...] = (),
    **options: Any,
) -> ClientSession:
    """A client machine for the toy venue with the chosen shapes."""
    codec = ToyCodec(signed=auth == "signed")
    policy: Any
    if auth == "login":

        def login(now: float) -> Command:
            return Op(op="login", args={"at": now})

        def granted(result: Any, now: float, refreshed: bool) -> Event:
            return Granted(token=str(result["token"]), refreshed=refreshed)

        policy = LoginAuth(
            login,
            granted,
            lifetime=lambda result: float(result.get("expires_in", 0)) or None,
            refresh=lambda result: Op(op="refresh"),
        )
    elif auth == "signed":
        policy = SignedRequests()
    elif auth == "token":
        policy = TokenAuth("T1", lifetime=60.0)
    else:
        policy = NoAuth()
    subs = ToySubscriptions(subscriptions)

    def handshake() -> Handshake:
        query: list[tuple[str, str]] = []
        if subs.in_handshake:
            query.append(("subscriptions", ",".join(session.ledger.desired())))
        protocols = (f"authorization#{policy.token}",) if auth == "token" else ()
        return Handshake(path="/toy", query=tuple(query), subprotocols=protocols)

    beat = Heartbeat()
    if heartbeat == "probes":
        beat = Heartbeat(probe_types=(Probe,), answer_probe=lambda _: Op(op="pong"), silence=30.0)
    elif heartbeat == "pings":
        beat = Heartbeat(ping=lambda: Op(op="ping"), ping_interval=20.0, pong_timeout=5.0)
    paced = None
    if pacing is not None:
        bucket = TokenBucket(1.0, pacing, name="toy")
        paced = BucketPacing({"_all": ((bucket, 1.0),)}, default="_all")
    spec = ClientSpec(
        codec=codec,
        subscriptions=subs,
        auth=policy,
        heartbeat=beat,
        pacing=paced,
        classify=classify,
        handshake=handshake,
        handlers=handlers or {},
        routers=(StreamRouter(),) if subscriptions == "stream" else (),
        books=books,
        auth_hint="pass credentials",
    )
    session = ClientSession(spec, SessionOptions(**options))
    return session


def sent(session: ClientSession) -> list[dict[str, Any]]:
    return [msgspec.json.decode(m) for m in session.messages_to_send()]


def reply(request_id: Any, result: Any = None, *, status: int = 200) -> bytes:
    return msgspec.json.encode({"id": request_id, "result": result, "status": status})


def refuse(request_id: Any, code: int | str, message: str = "no") -> bytes:
    return msgspec.json.encode({"id": request_id, "error": {"code": code, "message": message}})


def stream(request_id: Any, stream_id: str, topic: str, data: Any = None) -> bytes:
    return msgspec.json.encode(
        {"id": request_id, "stream": stream_id, "topic": topic, "data": data}
    )


def push(topic: str, data: Any = None) -> bytes:
    return msgspec.json.encode({"topic": topic, "data": data})
