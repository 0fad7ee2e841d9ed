"""tradewire.bindings: the I/O layer.

asyncio, trio and sync drivers (client and server) that move bytes between real sockets
and the pure stacks of :mod:`tradewire.protocol`, the ``tradewire`` command line and the
pytest plugin.  Bindings stay thin: timers come only from ``next_deadline()`` /
``handle_timer(now)``; keepalive, heartbeats, auth refresh, resubscribe and backoff live
in the core.

Import the binding you use: :mod:`tradewire.bindings.asyncio`,
:mod:`tradewire.bindings.trio` or :mod:`tradewire.bindings.sync`.  Each has the same
shape: ``connect(url, machine)``, ``http_client(base_url)``, ``serve(factory)`` and
``epoch_offset()``.  What they share lives here.

Clocks: ``connect()`` drives a client machine in epoch seconds (the binding's monotonic
clock plus ``time.time()`` minus that clock, measured at connect), so machines that sign
with the time, such as Deribit's ``client_signature``, need no clock setting; ``serve()``
passes its own clock, which ``epoch_offset()`` converts (see ``_epoch``).  A client
whose machine ends its session (Deribit's ``LoggedOut``) closes instead of reconnecting.
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
