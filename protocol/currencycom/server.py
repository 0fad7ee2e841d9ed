"""tradewire.protocol.currencycom.server: the venue side of Currency.com (for venue
authors and the reference venue; docs/venues/currencycom.md is the spec).

:class:`ServerProtocol` (one WebSocket), :class:`HTTPServerConnection` (REST on the same
port), :class:`ServerState` (keys, rate pools) and the events they report.
"""

from ..session import AcceptSubscription, Broadcast, Disconnect, Notify, Reply, ReplyError
from ._server import (
    DESTINATIONS,
    PRIVATE,
    PUBLIC,
    ServerCodec,
    ServerProtocol,
    error_status,
    rate_keys,
)
from ._server_events import RequestReceived, SessionClosed, SubscribeReceived, Transport
from ._server_http import HTTPServerConnection, HTTPServerProtocol, rest_name
from ._server_state import (
    DEFAULT_RATE_RULES,
    ApiKey,
    ServerConfig,
    ServerState,
    SignedCheck,
    echo_id,
)

__all__ = [
    "DEFAULT_RATE_RULES",
    "DESTINATIONS",
    "PRIVATE",
    "PUBLIC",
    "AcceptSubscription",
    "ApiKey",
    "Broadcast",
    "Disconnect",
    "HTTPServerConnection",
    "HTTPServerProtocol",
    "Notify",
    "Reply",
    "ReplyError",
    "RequestReceived",
    "ServerCodec",
    "ServerConfig",
    "ServerProtocol",
    "ServerState",
    "SessionClosed",
    "SignedCheck",
    "SubscribeReceived",
    "Transport",
    "echo_id",
    "error_status",
    "rate_keys",
    "rest_name",
]
