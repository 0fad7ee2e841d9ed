"""Deribit's part of the client machine: its codec and its policies, as data.

:class:`~tradewire.protocol.deribit.ClientProtocol` is the session layer's
:class:`~tradewire.protocol.session.ClientSession` with what this module builds:

* :class:`DeribitClientCodec`: JSON-RPC requests encoded once when opened (a Deribit
  request carries no timestamp of its own: the login's signature is made when the login
  is), messages decoded by ``decode_inbound`` (the first-byte channel hints are its hot
  path), responses and errors turned into :class:`~tradewire.protocol.session.Answer`;
* :class:`DeribitSubscriptions`: channels routed to ``public/subscribe`` or, once
  authenticated, ``private/subscribe`` (spec 3.1, 3.2): ``user.*`` and ``raw`` channels
  are private; without credentials a ``raw`` public channel is still tried publicly, in
  requests of its own so that the venue's 13778 (which may refuse a whole request) takes
  no other channel with it; chunks of ``max_per_request`` channels within the 32 kB frame;
* :func:`classify`: 10028 ``too_many_requests`` is rate-limited (the request is retried
  with the same id once its pool refills, spec 7.3); the ``ServiceUnavailable`` and
  other ``RateLimited`` codes are transient; 13009 ``unauthorized`` and 13000-family
  ``authorization_required`` are credentials refusals; everything else is final;
* :func:`heartbeat`: ``public/set_heartbeat`` on every connection, every ``test_request``
  answered with ``public/test``, silence past interval plus grace declares the peer dead;
* :func:`pacing`: one credit bucket per pool (``_client_limits``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._errors import LocalProtocolError, RequestFailure
from .._events import Command
from .._sources import RequestId
from ..session import (
    Answer,
    BucketPacing,
    CommandInfo,
    ErrorClass,
    Heartbeat,
    SubscriptionOp,
    Take,
)
from ._channels import parse_channel
from ._client_events import Subscribe, Unsubscribe, UnsubscribeAll
from ._client_limits import RateLimits
from ._commands import (
    DeribitCommand,
    GenericRequest,
    PrivateSubscribe,
    PrivateUnsubscribe,
    PublicSubscribe,
    PublicUnsubscribe,
    SetHeartbeat,
    Test,
)
from ._errors import (
    AuthorizationRequired,
    ErrorCode,
    RateLimited,
    ServiceUnavailable,
    Unauthorized,
)
from ._inbound import ErrorResponse, Response, decode_inbound, decode_result
from ._limits import MAX_MESSAGE_SIZE, RateClass
from ._methods import method_info
from ._notifications import TestRequest
from ._wire import encode_request

__all__ = [
    "DROPPED",
    "DeribitClientCodec",
    "DeribitSubscriptions",
    "classify",
    "heartbeat",
    "pacing",
]

DROPPED = (
    "dropped by the venue without an error: missing from the subscribe acknowledgement "
    "(an unknown instrument or a bad parameter; spec 3.1)"
)
ENVELOPE_ROOM = 1024
"""Characters kept free in a subscribe frame for the JSON-RPC envelope and the id."""
PUBLIC, PUBLIC_RAW, PRIVATE = "public", "public-raw", "private"

MANAGED = {
    "public/auth": "pass credentials= (and scope=) to ClientProtocol",
    "public/set_heartbeat": "pass heartbeat_interval= to ClientProtocol",
    "public/disable_heartbeat": "pass heartbeat_interval=None to ClientProtocol",
    "public/subscribe": "send Subscribe",
    "private/subscribe": "send Subscribe",
    "public/unsubscribe": "send Unsubscribe",
    "private/unsubscribe": "send Unsubscribe",
    "public/unsubscribe_all": "send UnsubscribeAll",
    "private/unsubscribe_all": "send UnsubscribeAll",
}
AUTH_HINT = "pass credentials= to ClientProtocol or access_token= to the command"


def _has_token(command: DeribitCommand | GenericRequest) -> bool:
    """The command authenticates itself with the documented ``access_token`` param."""
    if isinstance(command, GenericRequest):
        return "access_token" in command.params
    return command.access_token is not None


class DeribitClientCodec:
    """The client codec (see the module docstring)."""

    answer_types: tuple[type, ...] = (Response, ErrorResponse)

    @staticmethod
    def describe(command: Command) -> CommandInfo:
        if not isinstance(command, DeribitCommand | GenericRequest):
            raise LocalProtocolError(
                f"invalid command: expected a Deribit command, GenericRequest, Subscribe, "
                f"Unsubscribe or UnsubscribeAll, got {type(command).__name__}"
            )
        info = method_info(command)
        return CommandInfo(
            name=info.method,
            needs_auth=info.requires_auth and not _has_token(command),
            answered=info.has_response,
            ends_session=not info.has_response,
            rate_key=info.rate_class,
            managed=MANAGED.get(info.method),
        )

    @staticmethod
    def prepare(request_id: RequestId, command: Command) -> bytes:
        return encode_request(request_id, command)

    @staticmethod
    def encode(prepared: bytes, now: float) -> bytes:
        return prepared  # nothing in a Deribit request depends on when it is sent

    def __init__(self) -> None:
        self.decode: Callable[[Any], Any] = decode_inbound

    def arm(self, decode: Callable[[Any], Any], take: Take) -> None:
        """Take the hot decoder the book policy builds and its shortcut over a read
        (``_client_books.hot_decoder``, ``chain_taker``)."""
        self.decode = decode
        self.take = take

    @staticmethod
    def answer(message: Response | ErrorResponse) -> Answer:
        if type(message) is Response:
            return Answer(request_id=message.id, result=message.result)
        assert isinstance(message, ErrorResponse)
        return Answer(request_id=message.id, error=message.exception())

    result = staticmethod(decode_result)


class DeribitSubscriptions:
    """Deribit's subscription policy (see the module docstring)."""

    in_handshake = False

    def __init__(self, *, has_credentials: bool, max_per_request: int) -> None:
        self.has_credentials = has_credentials
        self.max_per_request = max_per_request
        self.max_chars: int | None = MAX_MESSAGE_SIZE - ENVELOPE_ROOM

    @staticmethod
    def request(command: Command) -> tuple[SubscriptionOp, tuple[str, ...]] | None:
        if isinstance(command, Subscribe):
            return SubscriptionOp.SUBSCRIBE, tuple(command.channels)
        if isinstance(command, Unsubscribe):
            return SubscriptionOp.UNSUBSCRIBE, tuple(command.channels)
        if isinstance(command, UnsubscribeAll):
            return SubscriptionOp.UNSUBSCRIBE_ALL, ()
        return None

    @staticmethod
    def check(topics: Sequence[str], has_credentials: bool) -> None:
        """``user.*`` channels cannot go anywhere without credentials."""
        if has_credentials:
            return
        missing = [c for c in topics if parse_channel(c).private_only]
        if missing:
            raise LocalProtocolError(
                f"channels {missing!r:.200} need authentication: pass credentials= to "
                "ClientProtocol"
            )

    def group(self, topic: str) -> str:
        if not parse_channel(topic).needs_auth:
            return PUBLIC
        return PRIVATE if self.has_credentials else PUBLIC_RAW

    @staticmethod
    def group_needs_auth(group: str) -> bool:
        return group == PRIVATE

    @staticmethod
    def subscribe_command(group: str, topics: list[str]) -> Command:
        return (PrivateSubscribe if group == PRIVATE else PublicSubscribe)(channels=topics)

    @staticmethod
    def unsubscribe_command(group: str, topics: list[str]) -> Command:
        return (PrivateUnsubscribe if group == PRIVATE else PublicUnsubscribe)(channels=topics)

    @staticmethod
    def accepted(result: Any, topics: list[str]) -> tuple[list[str], Mapping[str, str] | None]:
        return list(result), None


def classify(error: RequestFailure) -> ErrorClass:
    """What a Deribit error means for the machine (see the module docstring)."""
    if getattr(error, "code", None) == ErrorCode.TOO_MANY_REQUESTS:
        return ErrorClass.RATE_LIMITED
    if isinstance(error, ServiceUnavailable | RateLimited):
        return ErrorClass.TRANSIENT
    if isinstance(error, Unauthorized | AuthorizationRequired):
        return ErrorClass.CREDENTIALS
    return ErrorClass.FINAL


def _answer_test_request(_: TestRequest) -> Test:
    return Test()


def heartbeat(interval: int | None, grace: float | None) -> Heartbeat:
    """The heartbeat of every connection (see the module docstring); ``interval=None``:
    no set-up and no silence check (a ``test_request`` is still answered)."""
    if interval is None or grace is None:
        return Heartbeat(probe_types=(TestRequest,), answer_probe=_answer_test_request)

    def setup() -> Command:
        return SetHeartbeat(interval=interval)

    return Heartbeat(
        setup=setup,
        probe_types=(TestRequest,),
        answer_probe=_answer_test_request,
        silence=interval + grace,
        silence_reason=f"heartbeat interval {interval}s plus {grace:g}s grace",
    )


def pacing(rate_limits: RateLimits | None) -> BucketPacing | None:
    """One credit bucket per pool, by rate class; ``None``: no pacing."""
    if rate_limits is None:
        return None
    table: dict[object, Any] = {key: costs for key, costs in rate_limits.buckets().items()}
    return BucketPacing(table, default=RateClass.NON_MATCHING)
