"""Deribit, the venue side: for venue authors and reference venues.

:class:`ServerProtocol` (one WebSocket connection, on the session layer's
:class:`~tradewire.protocol.session.ServerSession`), :class:`HTTPServerProtocol` /
:class:`HTTPServerConnection` (JSON-RPC over HTTP), :class:`ServerState` (keys, tokens,
nonces, credits, connection counts shared by a venue's connections), the events they
report and the commands a venue answers with, and the server half of the codec.
Client users need none of this: :mod:`tradewire.protocol.deribit` is theirs.
"""

from ..session import Broadcast
from ._server import (
    WS_PATHS,
    ServerProtocol,
)
from ._server_auth import (
    PERMISSION_AREAS,
    AuthGranted,
    Principal,
)
from ._server_config import (
    DEFAULT_KEY_SCOPE,
    ApiKey,
    CreditRule,
    IssuedToken,
    ServerConfig,
    default_credit_rules,
    peer_ip,
)
from ._server_events import (
    HEARTBEAT_CLOSE_CODE,
    HEARTBEAT_CLOSE_REASON,
    AcceptSubscription,
    CancelOnDisconnect,
    Disconnect,
    Notify,
    Reply,
    ReplyError,
    RequestReceived,
    SessionClosed,
    SubscribeReceived,
    Unsubscribed,
)
from ._server_http import (
    API_ROOT,
    HTTPAnswer,
    HTTPServerConnection,
    HTTPServerProtocol,
)
from ._server_state import (
    ServerState,
)
from ._wire_server import (
    RejectedRequest,
    RpcRequest,
    decode_params,
    decode_query_params,
    decode_request,
    encode_error,
    encode_heartbeat,
    encode_notification,
    encode_result,
    method_not_found,
)

__all__ = [
    "API_ROOT",
    "AcceptSubscription",
    "ApiKey",
    "Broadcast",
    "AuthGranted",
    "CancelOnDisconnect",
    "CreditRule",
    "DEFAULT_KEY_SCOPE",
    "Disconnect",
    "HEARTBEAT_CLOSE_CODE",
    "HEARTBEAT_CLOSE_REASON",
    "HTTPAnswer",
    "HTTPServerConnection",
    "HTTPServerProtocol",
    "IssuedToken",
    "Notify",
    "PERMISSION_AREAS",
    "Principal",
    "RejectedRequest",
    "Reply",
    "ReplyError",
    "RequestReceived",
    "RpcRequest",
    "ServerConfig",
    "ServerProtocol",
    "ServerState",
    "SessionClosed",
    "SubscribeReceived",
    "Unsubscribed",
    "WS_PATHS",
    "decode_params",
    "decode_query_params",
    "decode_request",
    "default_credit_rules",
    "encode_error",
    "encode_heartbeat",
    "encode_notification",
    "encode_result",
    "method_not_found",
    "peer_ip",
]
