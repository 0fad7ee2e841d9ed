"""The asyncio binding: the pure stacks over native asyncio protocols and transports.

Driving loop (client, WebSocket or HTTP):

* one :class:`asyncio.Protocol` per TCP (TLS) connection.  ``data_received`` feeds the
  whole read to the stack, writes what the stack answers, and routes the batch of
  events (answers to their waiters, the rest to the bounded queue) synchronously:
  no task, future or await per message;
* timers: one ``loop.call_at`` handle per client at the stack's ``next_deadline()``,
  with ``now = loop.time()``.  It is re-armed only when the deadline moves earlier; an
  early firing is harmless (``handle_timer`` fires only what is due);
* one small task dials when the stack asks (``state is DIAL`` / ``wants_connection``),
  bounded by ``open_timeout``; a failed dial goes to the stack's ``connection_lost``,
  which schedules the next attempt with backoff;
* backpressure: ``transport.pause_reading()`` when the event queue is full,
  ``resume_reading()`` below its low-water mark (see :class:`ClientCore`); ``send``
  waits while the transport's write buffer is over its high-water mark.

Server: ``loop.create_server``; one protocol per accepted connection drives the object
the factory returned, the same way, with a lazy ``call_at`` timer per connection and
one for the application timer.

Clocks: a client's stack and machine run in epoch seconds (``loop.time()`` plus an
offset measured at connect, see ``tradewire.bindings._epoch``); a server's ``now`` is
``loop.time()`` itself, and :func:`epoch_offset` converts it.

Modules: ``_asyncio_link`` (the protocol per connection), ``_asyncio_driver`` (a
client's bytes and timers), ``_asyncio_client`` (:func:`connect`), ``_asyncio_http``
(:func:`http_client`), ``_asyncio_server`` (:func:`serve`).
"""

from ._asyncio_client import Client, connect, epoch_offset
from ._asyncio_http import HTTPClient, http_client
from ._asyncio_server import Server, serve

__all__ = ["Client", "HTTPClient", "Server", "connect", "epoch_offset", "http_client", "serve"]
