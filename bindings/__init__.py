"""tradewire.bindings: the I/O layer.

asyncio, trio and sync drivers (client and server) that move bytes between real sockets
and the pure stacks of :mod:`tradewire.protocol`, the ``tradewire`` command line and the
pytest plugin.  Bindings stay thin: timers come only from ``next_deadline()`` /
``handle_timer(now)``; keepalive, heartbeats, auth refresh, resubscribe and backoff live
in the core.

Import the binding you use: :mod:`tradewire.bindings.asyncio`,
:mod:`tradewire.bindings.trio` or :mod:`tradewire.bindings.sync`.  Each has the same
shape: ``connect(url, machine)``, ``http_client(base_url)`` and ``serve(factory)``.
What they share lives here.
"""

from ._common import (
    DEFAULT_MAX_QUEUED_EVENTS,
    AppTimer,
    ConnectFailed,
    DialFailed,
    Lagging,
    ProtocolViolation,
    ServerConnection,
    merge_handshake,
)
from ._route import UpgradeOrHTTP, classify_request_head, route_upgrade

__all__ = [
    "DEFAULT_MAX_QUEUED_EVENTS",
    "AppTimer",
    "ConnectFailed",
    "DialFailed",
    "Lagging",
    "ProtocolViolation",
    "ServerConnection",
    "UpgradeOrHTTP",
    "classify_request_head",
    "merge_handshake",
    "route_upgrade",
]
