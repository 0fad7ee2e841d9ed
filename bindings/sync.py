"""The sync binding: blocking calls for the caller, one background I/O thread each.

Every client (``connect``, ``http_client``) and every server (``serve``) runs one
daemon thread with a :mod:`selectors` loop over non-blocking sockets; TLS runs over
memory buffers (:class:`TLSPipe`), so one loop drives TCP, TLS, the stack and its
timers.  The thread sleeps in ``select`` until a socket is ready or the stack's
``next_deadline()`` (``now`` is :func:`time.monotonic`); a socket pair wakes it when
the caller's thread changed something.  One lock guards the stack: the caller's
``send`` / ``request`` / ``events`` take it briefly, the I/O thread holds it while it
processes one read (one batch).  Keepalive, heartbeats and timeouts therefore run while
the caller's code is busy elsewhere.

Backpressure as in the async bindings (see :class:`ClientCore`): a full event queue
takes the socket out of the read set; ``send`` blocks while more than 1 MiB waits to
be written.  Server callbacks (``on_events``, the application timer) run in the
server's thread, under its lock: keep them short and never block in them.

Clocks: a client's stack and machine run in epoch seconds (:func:`time.monotonic` plus
an offset measured at connect, see ``tradewire.bindings._epoch``); a server's ``now``
is :func:`time.monotonic` itself, and :func:`epoch_offset` converts it.

Modules: ``_sync_reactor`` (the selector loop and its sockets), ``_sync_driver`` (a
client's I/O thread), ``_sync_client`` (:func:`connect`), ``_sync_http``
(:func:`http_client`), ``_sync_server`` (:func:`serve`).
"""

from ._sync_client import Client, connect, epoch_offset
from ._sync_http import HTTPClient, http_client
from ._sync_server import Server, serve

__all__ = ["Client", "HTTPClient", "Server", "connect", "epoch_offset", "http_client", "serve"]
