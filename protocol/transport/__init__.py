"""tradewire.protocol.transport: bytes in, bytes out.

The WebSocket stacks (wsproto, with a fast path for simple text frames) and the HTTP
stacks (h11) that wrap a venue machine into the driving contract one level down, and
the reconnect backoff.  Nothing here knows a venue or a session: a stack moves complete
messages between the wire and whatever machine it wraps.
"""

from ._backoff import Backoff
from ._http import HTTP_METHODS, HTTPRequest, HTTPRequestReceived, HTTPResponse, InvalidResponse
from ._http_client import HTTPClientStack
from ._http_server import HTTPServerStack
from ._websocket import (
    Connected,
    ReconnectDue,
    ReconnectScheduled,
    StackState,
    UpgradeAccepted,
    UpgradeRefused,
    UpgradeRejected,
    WebSocketClosed,
)
from ._ws_client import WebSocketClientStack
from ._ws_server import WebSocketServerStack

__all__ = [
    "HTTP_METHODS",
    "Backoff",
    "Connected",
    "HTTPClientStack",
    "HTTPRequest",
    "HTTPRequestReceived",
    "HTTPResponse",
    "HTTPServerStack",
    "InvalidResponse",
    "ReconnectDue",
    "ReconnectScheduled",
    "StackState",
    "UpgradeAccepted",
    "UpgradeRefused",
    "UpgradeRejected",
    "WebSocketClientStack",
    "WebSocketClosed",
    "WebSocketServerStack",
]
