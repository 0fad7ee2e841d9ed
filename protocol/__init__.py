"""tradewire.protocol: the pure layer.

Codecs, client and server machines, the WebSocket and HTTP stacks and the order book.
Nothing here touches a socket, a thread, an event loop, the clock or global randomness:
time comes in as ``now`` arguments; ids, nonces and jitter come from injected sources.
"""

from ._bounded import BoundedQueue
from ._contract import (
    AcceptUpgrade,
    ClientMachine,
    CloseRequest,
    Handshake,
    Machine,
    RejectUpgrade,
    ServerMachine,
    UpgradeRequest,
)
from ._errors import (
    ConnectionLost,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    RequestFailure,
    RequestTimeout,
    VenueError,
)
from ._events import (
    Command,
    ConnectionDead,
    Event,
    MessageRejected,
    RequestFailed,
    RequestSucceeded,
    SubscriptionActive,
    SubscriptionEnded,
    SubscriptionRejected,
    require,
    require_choice,
)
from ._requests import PendingRequest, RequestTable
from ._secrets import MASK, RedactingFilter, Secret, is_secret_name, redact, reveal
from ._sources import CounterIds, HexNonces, IdSource, RandomSource, RequestId, UuidIds
from .session._book import OrderBook, Side
from .session._ledger import AckOutcome, SubscriptionLedger, TopicState
from .session._ratelimit import CreditBucket, Pacer, TokenBucket
from .transport._backoff import Backoff
from .transport._http import (
    HTTP_METHODS,
    HTTPRequest,
    HTTPRequestReceived,
    HTTPResponse,
    InvalidResponse,
)
from .transport._http_client import HTTPClientStack
from .transport._http_server import HTTPServerStack
from .transport._websocket import (
    Connected,
    ReconnectDue,
    ReconnectScheduled,
    StackState,
    UpgradeAccepted,
    UpgradeRefused,
    UpgradeRejected,
    WebSocketClosed,
)
from .transport._ws_client import WebSocketClientStack
from .transport._ws_server import WebSocketServerStack

__all__ = [
    "Side",
    "OrderBook",
    "HTTPServerStack",
    "HTTPClientStack",
    "InvalidResponse",
    "HTTPResponse",
    "HTTPRequestReceived",
    "HTTPRequest",
    "HTTP_METHODS",
    "WebSocketServerStack",
    "WebSocketClosed",
    "WebSocketClientStack",
    "UpgradeRejected",
    "UpgradeRefused",
    "UpgradeAccepted",
    "StackState",
    "ReconnectScheduled",
    "ReconnectDue",
    "MASK",
    "AcceptUpgrade",
    "AckOutcome",
    "Backoff",
    "BoundedQueue",
    "ClientMachine",
    "CloseRequest",
    "Command",
    "Connected",
    "ConnectionDead",
    "ConnectionLost",
    "CounterIds",
    "CreditBucket",
    "Event",
    "Handshake",
    "HexNonces",
    "IdSource",
    "LocalProtocolError",
    "Machine",
    "MessageRejected",
    "Pacer",
    "PendingRequest",
    "ProtocolError",
    "RandomSource",
    "RedactingFilter",
    "RejectUpgrade",
    "RemoteProtocolError",
    "RequestFailed",
    "RequestFailure",
    "RequestId",
    "RequestSucceeded",
    "RequestTable",
    "RequestTimeout",
    "Secret",
    "ServerMachine",
    "SubscriptionActive",
    "SubscriptionEnded",
    "SubscriptionLedger",
    "SubscriptionRejected",
    "TokenBucket",
    "TopicState",
    "UpgradeRequest",
    "UuidIds",
    "VenueError",
    "is_secret_name",
    "redact",
    "require",
    "require_choice",
    "reveal",
]
