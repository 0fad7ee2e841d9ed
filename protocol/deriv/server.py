"""Deriv, the venue side: for venue authors and reference venues.

:class:`ServerProtocol` (one WebSocket connection on the session layer's
:class:`~tradewire.protocol.session.ServerSession`), :class:`ServerState` and
:class:`ServerConfig` (tokens, rate budgets, the idle timeout, shared by a venue's
connections), the events the venue answers and how a request is validated.  Client
users need none of this: :mod:`tradewire.protocol.deriv` is theirs.
"""

from ._server import (
    ACCEPTED_PATH,
    RequestReceived,
    ServerProtocol,
    SessionClosed,
    StreamsStopped,
)
from ._server_requests import (
    MSG_TYPES,
    NOT_SHOWN,
    SENSITIVE,
    Invalid,
    echo_of,
    find_call,
    first_msg_type,
    validate,
)
from ._server_state import (
    DEFAULT_MAX_FRAME_SIZE,
    SCOPES,
    Account,
    ServerConfig,
    ServerState,
    StreamMeta,
    stream_key,
)

__all__ = [
    "ACCEPTED_PATH",
    "DEFAULT_MAX_FRAME_SIZE",
    "MSG_TYPES",
    "NOT_SHOWN",
    "SCOPES",
    "SENSITIVE",
    "Account",
    "Invalid",
    "RequestReceived",
    "ServerConfig",
    "ServerProtocol",
    "ServerState",
    "SessionClosed",
    "StreamMeta",
    "StreamsStopped",
    "echo_of",
    "find_call",
    "first_msg_type",
    "stream_key",
    "validate",
]
