"""tradewire.bindings: the I/O layer.

asyncio, trio and sync drivers (client and server) that move bytes between real sockets
and the pure stacks of :mod:`tradewire.protocol`, the ``tradewire`` command line and the
pytest plugin.  Bindings stay thin: timers come only from ``next_deadline()`` /
``handle_timer(now)``; keepalive, heartbeats, auth refresh, resubscribe and backoff live
in the core.
"""
