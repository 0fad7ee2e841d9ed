"""Rails, the venue side: for venue authors and reference venues (``docs/venues/rails.md``).

:class:`ServerProtocol` (one WebSocket connection, on the session layer's
:class:`~tradewire.protocol.session.ServerSession`), :class:`HTTPServerConnection` (the
token endpoint and the market list), :class:`ServerState` (keys, JWTs, rate pools shared
by a venue's connections), the events they report, the commands a venue answers with,
and the server half of the codec.  Client users need none of this:
:mod:`tradewire.protocol.rails` is theirs.
"""

from ..session import Disconnect, Reply, ReplyError
from ._server import (
    AUTH_PREFIX,
    WS_PATHS,
    Acknowledge,
    Push,
    RequestReceived,
    ServerProtocol,
    SessionClosed,
    SessionOpened,
    SubscriptionsChanged,
)
from ._server_http import HTTPServerConnection
from ._server_state import TOKEN_LIFETIME, ApiKey, ServerConfig, ServerState, TokenRecord
from ._wire_server import (
    REQUEST_TYPES,
    BookDataOut,
    Envelope,
    ErrorDataOut,
    LevelOut,
    OrderDataOut,
    OrderOut,
    PongDataOut,
    PublicTradeOut,
    PublicTradesDataOut,
    RejectedRequest,
    Request,
    SubscriptionDataOut,
    UserTradeOut,
    decimal_string,
    decode_request,
    encode,
)

__all__ = [
    "AUTH_PREFIX",
    "REQUEST_TYPES",
    "TOKEN_LIFETIME",
    "WS_PATHS",
    "Acknowledge",
    "ApiKey",
    "BookDataOut",
    "Disconnect",
    "Envelope",
    "ErrorDataOut",
    "HTTPServerConnection",
    "LevelOut",
    "OrderDataOut",
    "OrderOut",
    "PongDataOut",
    "Push",
    "PublicTradeOut",
    "PublicTradesDataOut",
    "RejectedRequest",
    "Reply",
    "ReplyError",
    "Request",
    "RequestReceived",
    "ServerConfig",
    "ServerProtocol",
    "ServerState",
    "SessionClosed",
    "SessionOpened",
    "SubscriptionDataOut",
    "SubscriptionsChanged",
    "TokenRecord",
    "UserTradeOut",
    "decimal_string",
    "decode_request",
    "encode",
]
