"""The trio binding: the pure stacks over trio streams, in nurseries.

Driving loop (client, WebSocket or HTTP), all inside the nursery of ``connect()`` /
``http_client()``:

* a driver task owns the timers: it sleeps until the stack's ``next_deadline()`` (or a
  wake-up when the deadline moves earlier, a dial is wanted, or the session is done),
  then calls ``handle_timer(trio.current_time())``; it starts the dials;
* per connection, a reader task feeds each ``receive_some`` (one batch, up to 64 KiB)
  to the stack and routes the events synchronously, and a writer task drains the
  outbound buffer with ``send_all``.  A writer blocked by a peer that does not read
  never delays a timer, so a zombie peer is still declared dead on time;
* backpressure: the reader stops calling ``receive_some`` while the event queue is
  full (see :class:`ClientCore`); ``send`` waits while the outbound buffer is over its
  high-water mark.

Server: ``trio.serve_listeners``; per connection the same reader and writer, and the
handler task itself runs that connection's timers.  An application timer gets a task.
Context-manager bodies' exceptions are re-raised as they are, not in an ExceptionGroup.

Clocks: a client's stack and machine run in epoch seconds (``trio.current_time()``
plus an offset measured at connect, see ``tradewire.bindings._epoch``); a server's
``now`` is ``trio.current_time()`` itself, and :func:`epoch_offset` converts it.

Modules: ``_trio_pipe`` (a stream's reader and writer), ``_trio_driver`` (a client's
timers and dials), ``_trio_client`` (:func:`connect`), ``_trio_http``
(:func:`http_client`), ``_trio_server`` (:func:`serve`).
"""

from ._trio_client import Client, connect, epoch_offset
from ._trio_http import HTTPClient, http_client
from ._trio_server import Server, serve

__all__ = ["Client", "HTTPClient", "Server", "connect", "epoch_offset", "http_client", "serve"]
