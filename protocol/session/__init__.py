"""tradewire.protocol.session: the venue-neutral machinery of a venue session.

The generic client machine (:class:`ClientSession`) and server machine
(:class:`ServerSession`), and the pieces they are made of: the request outbox, the
subscription ledger, authentication, heartbeats, pacing, book continuity and the order
book.  Nothing here names a venue: a venue package supplies a codec, data and a few small
policy objects (:class:`ClientSpec`, :class:`ServerSpec`), and the machines do the
bookkeeping the same way for every venue.  docs/architecture.md, "How to add a venue",
walks through it.
"""

from ._auth import AuthState, LoginAuth, NoAuth, SignedRequests
from ._book import OrderBook, Side
from ._client import ClientSession
from ._client_events import (
    AuthenticationFailed,
    HeartbeatTimeout,
    HeartbeatUnavailable,
    MalformedResult,
    PongTimeout,
    RequestAccepted,
    SessionEnded,
    UnmatchedError,
)
from ._client_spec import ClientSpec, SessionOptions, bad_option, resolve_options, seconds
from ._continuity import (
    BookAccess,
    BookCrossed,
    BookGap,
    BookResynced,
    BookState,
    ChainBooks,
    ReplaceBooks,
    SnapshotDeltaBooks,
)
from ._http_connection import HTTPHandler, HTTPProtocolConnection
from ._ledger import AckOutcome, SubscriptionLedger, TopicState
from ._outbox import Kind, Phase
from ._policies import (
    HANDLED,
    Answer,
    AuthPolicy,
    ClientCodec,
    CommandInfo,
    ContinuityPolicy,
    Costs,
    ErrorClass,
    ErrorClassifier,
    Handler,
    Heartbeat,
    Pacing,
    Router,
    SessionHost,
    SubscriptionOp,
    SubscriptionPolicy,
    Take,
)
from ._ratelimit import BucketPacing, CreditBucket, Pacer, TokenBucket
from ._server import (
    SERVER_TABLE,
    AcceptSubscription,
    Broadcast,
    Disconnect,
    Notify,
    Pending,
    PendingTable,
    Reply,
    ReplyError,
    ServerCodec,
    ServerPhase,
    ServerSession,
    ServerSpec,
)
from ._server_front import SessionFront
from ._states import MISUSE, TABLE, Input, SessionState
from ._subscriptions import UNWANTED, SubscribeResult, UnsubscribeResult
from ._venue_state import ConnectionCounter, NonceWindow, PoolRule, RatePools, TokenStore

__all__ = [
    "SessionFront",
    "resolve_options",
    "HTTPHandler",
    "HTTPProtocolConnection",
    "HANDLED",
    "MISUSE",
    "SERVER_TABLE",
    "TABLE",
    "UNWANTED",
    "AcceptSubscription",
    "AckOutcome",
    "Answer",
    "AuthPolicy",
    "AuthState",
    "AuthenticationFailed",
    "BookAccess",
    "BookCrossed",
    "BookGap",
    "BookResynced",
    "BookState",
    "BucketPacing",
    "ChainBooks",
    "ClientCodec",
    "ClientSession",
    "ClientSpec",
    "CommandInfo",
    "ConnectionCounter",
    "ContinuityPolicy",
    "Broadcast",
    "Costs",
    "CreditBucket",
    "Disconnect",
    "ErrorClass",
    "ErrorClassifier",
    "Handler",
    "HeartbeatTimeout",
    "HeartbeatUnavailable",
    "Heartbeat",
    "Input",
    "Kind",
    "LoginAuth",
    "NonceWindow",
    "Notify",
    "MalformedResult",
    "NoAuth",
    "OrderBook",
    "Pacer",
    "Pacing",
    "Pending",
    "PendingTable",
    "PoolRule",
    "RatePools",
    "Reply",
    "ReplyError",
    "Phase",
    "PongTimeout",
    "ReplaceBooks",
    "Router",
    "RequestAccepted",
    "SessionEnded",
    "SessionHost",
    "SessionOptions",
    "SessionState",
    "ServerCodec",
    "ServerPhase",
    "ServerSession",
    "ServerSpec",
    "Side",
    "SignedRequests",
    "SnapshotDeltaBooks",
    "SubscribeResult",
    "SubscriptionLedger",
    "SubscriptionOp",
    "SubscriptionPolicy",
    "Take",
    "TokenBucket",
    "TokenStore",
    "TopicState",
    "UnmatchedError",
    "UnsubscribeResult",
    "bad_option",
    "seconds",
]
