"""End to end on loopback, decode included: book notifications per second into a client.

One :class:`~benchmarks._server.BlastServer` process sends every client the same
stream: the subscription answer, a 400-level snapshot, then book changes of about
700-1300 bytes, as fast as the socket takes them.  Each client connects, sends
``public/subscribe``, and counts *decoded* book notifications until it has ``n``; the
clock runs from before the TCP connect to the ``n``-th message (so the upgrade and the
subscription round trip are in, a few ms against seconds of stream).  Rows:

* **tradewire asyncio / trio / sync**: ``tradewire.bindings.*.connect(url, machine)``
  with the machine of :mod:`benchmarks._machine` (the Deribit ClientProtocol, or the
  wire-layer machine until it exists, as the label says), keepalive pings off,
  iterating the client's events and counting the book events.  The asyncio binding
  reads 64 KiB at a time (an ``asyncio.BufferedProtocol``, see
  ``tradewire.bindings._asyncio_link``); a diagnostic row repeats it with a 256 KiB
  read buffer, what asyncio's socket transport handed a plain ``asyncio.Protocol``
  per ``data_received`` (the binding's design before; the buffer is swapped for that
  run only and restored): see ``bench_stack`` for why the read size matters;
* **websockets + json.loads**: ``websockets.asyncio.client.connect``, ``async for``
  over the messages (``str``), ``json.loads`` and the dict handling of the decode
  benchmark (routing and field access);
* **picows + msgspec**: a picows listener; each text frame's payload is routed by a
  byte-prefix check and decoded by the bare msgspec decoder into the same
  ``BookUpdate`` tradewire produces, then its channel is checked.  First as installed:
  picows depends on aiofastnet and then uses it as its transport by default (the row
  the target uses); then with ``use_aiofastnet=False``, on the same asyncio transport
  as the other asyncio rows;
* **raw socket**: the upgrade by hand, then ``recv_into`` until the server closes, with
  no framing and no decode: the ceiling this loopback and server allow.

Fairness: every row reads the same byte stream from the same server process, one
connection at a time, and counts a message only once it has been decoded into a typed
event (or, for ``json.loads``, into a dict whose fields were read); the tradewire rows
also run the whole client machine per message (bounds, liveness time, the book's
``change_id`` chain, the event queue with its backpressure) and hand every event to
an ``async for`` / ``for`` consumer, while picows calls its listener per frame.

All asyncio rows use the default event loop.  Keepalive pings are off everywhere; the
server sends none.  Each run is bounded (``asyncio.timeout``, ``trio.fail_after``, a
socket timeout); a run that fails or times out is left out and counted in the label.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import msgspec

from tradewire.protocol.deribit import BookUpdate

from ._machine import is_book_event, make_machine, subscribe_command
from ._messages import BOOK, bare_decoder, handle_dict, subscribe_request
from ._server import BlastServer, client_handshake, masked_text_frame
from ._timing import Result

__all__ = ["CLIENTS", "run", "tradewire_asyncio"]

GROUP = "end to end: book notifications through a client, loopback"
_STACK = {"ping_interval": None, "close_timeout": 2.0, "reconnect": False}
_SUBSCRIBE = subscribe_request(1, [BOOK])


def _deadline(count: int) -> float:
    return 30.0 + count / 5_000


class Incomplete(Exception):
    """The stream ended (or timed out) before ``count`` book messages were decoded."""


def _check(got: int, count: int) -> None:
    if got != count:
        raise Incomplete(f"{got} of {count} book messages")


def tradewire_asyncio(url: str, count: int) -> float:
    from tradewire.bindings import asyncio as aio

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        async with asyncio.timeout(_deadline(count)):
            machine = make_machine()[0]
            async with aio.connect(url, machine, **_STACK) as client:
                await client.send(subscribe_command(machine, [BOOK]))
                async for event in client:
                    if is_book_event(event):
                        got += 1
                        if got == count:
                            break
                elapsed = time.perf_counter() - start
        _check(got, count)
        return elapsed

    return asyncio.run(main())


def tradewire_asyncio_256k(url: str, count: int) -> float:
    """Diagnostic: the asyncio row reading 256 KiB at a time, as asyncio.Protocol did."""
    from tradewire.bindings import _asyncio_link

    buffer: Any = _asyncio_link._read_buffer  # this thread's; the loop runs here
    saved = buffer.view
    buffer.view = memoryview(bytearray(256 * 1024))
    try:
        return tradewire_asyncio(url, count)
    finally:
        buffer.view = saved


def tradewire_trio(url: str, count: int) -> float:
    import trio

    from tradewire.bindings import trio as tw_trio

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        with trio.fail_after(_deadline(count)):
            machine = make_machine()[0]
            async with tw_trio.connect(url, machine, **_STACK) as client:
                await client.send(subscribe_command(machine, [BOOK]))
                async for event in client:
                    if is_book_event(event):
                        got += 1
                        if got == count:
                            break
                elapsed = time.perf_counter() - start
        _check(got, count)
        return elapsed

    return trio.run(main)


def tradewire_sync(url: str, count: int) -> float:
    from tradewire.bindings import sync

    start = time.perf_counter()
    got = 0
    machine = make_machine()[0]
    with sync.connect(url, machine, **_STACK) as client:
        client.send(subscribe_command(machine, [BOOK]))
        for event in client.events(timeout=10.0):
            if is_book_event(event):
                got += 1
                if got == count:
                    break
        elapsed = time.perf_counter() - start
    _check(got, count)
    return elapsed


def websockets_json(url: str, count: int) -> float:
    from websockets.asyncio.client import connect

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        loads, handle = json.loads, handle_dict
        async with asyncio.timeout(_deadline(count)):
            async with connect(url, ping_interval=None, close_timeout=2.0) as ws:
                await ws.send(_SUBSCRIBE.decode())
                async for message in ws:
                    handled = handle(loads(message))
                    if type(handled) is tuple and handled[0] == BOOK:
                        got += 1
                        if got == count:
                            break
                elapsed = time.perf_counter() - start
        _check(got, count)
        return elapsed

    return asyncio.run(main())


def picows_msgspec(url: str, count: int, *, aiofastnet: bool | None = None) -> float:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

    decode_book = bare_decoder(BookUpdate).decode
    decode_any = msgspec.json.Decoder().decode
    prefix = b'{"jsonrpc":"2.0","method":"subscription"'

    class Listener(WSListener):  # type: ignore[misc]
        def __init__(self) -> None:
            self.got = 0
            self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_ws_connected(self, transport: WSTransport) -> None:
            transport.send(WSMsgType.TEXT, _SUBSCRIBE)

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type is not WSMsgType.TEXT:
                if frame.msg_type is WSMsgType.CLOSE and not self.done.done():
                    self.done.set_result(None)
                return
            payload = frame.get_payload_as_bytes()
            if payload.startswith(prefix):
                event = decode_book(payload).params
                if event.channel == BOOK:
                    self.got += 1
                    if self.got == count and not self.done.done():
                        self.done.set_result(None)
            else:
                decode_any(payload)

        def on_ws_disconnected(self, transport: WSTransport) -> None:
            if not self.done.done():
                self.done.set_result(None)

    async def main() -> float:
        start = time.perf_counter()
        async with asyncio.timeout(_deadline(count)):
            transport, listener = await ws_connect(Listener, url, use_aiofastnet=aiofastnet)
            await listener.done
            elapsed = time.perf_counter() - start
            transport.send_close()
            transport.disconnect()
            await transport.wait_disconnected()
        _check(listener.got, count)
        return elapsed

    return asyncio.run(main())


def raw_socket(url: str, count: int) -> float:
    port = urlsplit(url).port or 80
    buf = bytearray(1 << 20)
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=_deadline(count)) as sock:
        received = len(client_handshake(sock, "127.0.0.1", port))
        sock.sendall(masked_text_frame(_SUBSCRIBE))
        recv_into = sock.recv_into
        while n := recv_into(buf):
            received += n
        elapsed = time.perf_counter() - start
    if received < count * 600:
        raise Incomplete(f"only {received} bytes for {count} messages")
    return elapsed


CLIENTS: list[tuple[str, Callable[[str, int], float]]] = [
    ("tradewire asyncio binding", tradewire_asyncio),
    ("  ... diagnostic: 256 KiB reads (asyncio.Protocol's, before)", tradewire_asyncio_256k),
    ("tradewire trio binding", tradewire_trio),
    ("tradewire sync binding", tradewire_sync),
    ("websockets (asyncio) + json.loads + dict handling", websockets_json),
    ("picows + msgspec typed decode", picows_msgspec),
    (
        "picows + msgspec, plain asyncio transport",
        functools.partial(picows_msgspec, aiofastnet=False),
    ),
    ("raw socket recv, no framing, no decode (ceiling)", raw_socket),
]


_TRADEWIRE = {tradewire_asyncio, tradewire_asyncio_256k, tradewire_trio, tradewire_sync}


def run(repeats: int, count: int) -> tuple[list[Result], dict[str, Result]]:
    """Every client ``repeats`` times, interleaved; rates in messages per second."""
    label = make_machine()[1]
    machine_note = "" if label.startswith("tradewire ClientProtocol") else "(wire-layer machine)"
    results = {
        name: Result(GROUP, name, "msg/s", note=machine_note if fn in _TRADEWIRE else "")
        for name, fn in CLIENTS
    }
    failures: dict[str, list[str]] = {name: [] for name, _ in CLIENTS}
    with BlastServer() as server:
        for round_ in range(1 + repeats):  # round 0 warms up and is not kept
            for name, client in CLIENTS:
                server.expect(count)
                try:
                    elapsed: float | None = client(server.url, count)
                except Exception as exc:  # recorded in the table, never fatal
                    failures[name].append(f"{type(exc).__name__}: {exc}"[:80])
                    elapsed = None
                report: Any = server.report(10.0)
                if not isinstance(report, int):
                    failures[name].append(f"server: {report}"[:80])
                elif elapsed is not None and round_ > 0:
                    results[name].samples.append(count / elapsed)
    for name, result in results.items():
        if failures[name]:
            result.note += f" ({len(failures[name])} failed: {failures[name][0]})"
    return list(results.values()), results
