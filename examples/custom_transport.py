"""A custom transport for tradewire: one blocking socket and ``select()``, nothing else.

tradewire's protocol stack does no I/O: it says when to dial, what bytes to write and
when it next needs the time; a transport moves bytes and keeps that appointment.  This
file is that transport in about a hundred lines, driving the Deribit client machine
through a :class:`~tradewire.protocol.WebSocketClientStack`:

* ``state is DIAL``: open a TCP connection (TLS for ``wss://``), ``connection_made``;
* write ``data_to_send()``; feed what the socket reads to ``receive_data`` (``b""`` at
  end of file);
* ``should_close_transport``: close the socket, ``connection_lost`` (the stack then
  schedules a reconnect with backoff and stays in ``BACKOFF`` until it is due);
* wait in ``select()`` until the socket is readable or ``next_deadline()`` comes, then
  call ``handle_timer(now)``; while the stack backs off there is no socket at all, only
  the wait for the deadline.

Run it against the reference venue (``tradewire serve deribit``, whose first line starts
with the WebSocket URL)::

    python examples/custom_transport.py ws://127.0.0.1:PORT/ws/api/v2 --seconds 5

It logs in with the demo key, subscribes to the BTC-PERPETUAL book, asks for the
venue's time once a second and prints one line per event; ``tests/test_examples.py``
runs it against a venue that drops the first connection.
"""

from __future__ import annotations

import argparse
import random
import select
import socket
import ssl
import sys
import time
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from tradewire.protocol import Event, StackState, WebSocketClientStack, deribit


class Transport(Protocol):
    """What the loop needs of a socket."""

    def fileno(self) -> int: ...
    def sendall(self, data: bytes) -> None: ...
    def recv(self, size: int) -> bytes: ...
    def close(self) -> None: ...


def dial(url: str) -> Transport:
    """A blocking TCP connection to the URL's host and port, TLS for ``wss://``."""
    parts = urlsplit(url)
    secure = parts.scheme == "wss"
    host = parts.hostname or "127.0.0.1"
    sock = socket.create_connection((host, parts.port or (443 if secure else 80)), timeout=10)
    if secure:
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
    return sock


class BlockingTransport:
    """Drives ``stack`` over blocking sockets from ``dial_url`` (see the module docstring)."""

    def __init__(
        self,
        stack: WebSocketClientStack,
        url: str,
        *,
        dial_url: Callable[[str], Transport] = dial,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.stack = stack
        self.url = url
        self.dial_url = dial_url
        self.clock = clock  # epoch seconds: Deribit's client_signature signs with them
        self.sock: Transport | None = None

    def run_until(self, done: Callable[[Event], bool], timeout: float) -> list[Event]:
        """Move bytes and timers until ``done(event)`` or ``timeout`` seconds pass."""
        stack, seen = self.stack, []
        end = self.clock() + timeout
        while stack.state is not StackState.CLOSED and self.clock() < end:
            if stack.state is StackState.DIAL:
                try:
                    self.sock = self.dial_url(self.url)
                except OSError:
                    stack.connection_lost(self.clock())  # a failed dial: back off
                else:
                    stack.connection_made(self.clock())
            self._write()
            deadline = stack.next_deadline()
            wait = max(0.0, min(end, deadline if deadline is not None else end) - self.clock())
            if self.sock is None:
                time.sleep(wait)  # backing off: no socket, only the deadline
            elif select.select([self.sock], [], [], wait)[0]:
                try:
                    data = self.sock.recv(65536)
                except OSError:
                    data = b""  # reset by the peer: like end of file
                stack.receive_data(data, self.clock())
            stack.handle_timer(self.clock())
            self._write()
            for event in stack.events():
                seen.append(event)
                if done(event):
                    return seen
        return seen

    def _write(self) -> None:
        """Write what the stack has; close the socket when the stack says so."""
        if self.sock is None:
            return
        data = self.stack.data_to_send()
        try:
            if data:
                self.sock.sendall(data)
        except OSError:
            self.stack.receive_data(b"", self.clock())  # the peer is gone
        if self.stack.should_close_transport:
            self.sock.close()
            self.sock = None
            self.stack.connection_lost(self.clock())

    def close(self) -> None:
        """Close the WebSocket cleanly (close handshake), then the socket."""
        self.stack.close(self.clock())
        self.run_until(lambda event: False, timeout=2.0)
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="tradewire over a hand-written transport")
    parser.add_argument("url", help="ws:// or wss:// URL of a Deribit venue")
    parser.add_argument("--seconds", type=float, default=5.0, help="how long to run")
    args = parser.parse_args(argv)
    credentials = deribit.Credentials(
        client_id="tradewire-demo", client_secret="tradewire-demo-secret"
    )
    machine = deribit.ClientProtocol(credentials=credentials, maintain_books=True)
    stack = WebSocketClientStack(machine, host=urlsplit(args.url).netloc, rng=random.SystemRandom())
    transport = BlockingTransport(stack, args.url)
    stack.send(deribit.Subscribe(channels=["book.BTC-PERPETUAL.100ms"]), time.time())
    end = time.time() + args.seconds
    while time.time() < end and stack.state is not StackState.CLOSED:
        stack.send(deribit.GetTime(), time.time())  # a command: answered as an event
        for event in transport.run_until(lambda e: False, timeout=min(1.0, end - time.time())):
            if not isinstance(event, deribit.BookUpdate):
                print(f"{stack.state.value:10} {type(event).__name__} {event!r:.150}", flush=True)
    transport.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
