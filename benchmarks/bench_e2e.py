"""End to end on loopback, decode included: book notifications per second into a client.

One :class:`~benchmarks._server.BlastServer` process sends every client the same
stream: the subscription answer, a 400-level snapshot, then book changes of about
700-1300 bytes, as fast as the socket takes them.  Each client connects, sends
``public/subscribe``, and counts *decoded* book notifications until it has ``n``; the
clock runs from before the TCP connect to the ``n``-th message (so the upgrade and the
subscription round trip are in, a few ms against seconds of stream).  Rows:

* **tradewire asyncio / trio / sync**: ``tradewire.bindings.*.connect(url, machine)``
  with the machine of :mod:`benchmarks._machine` (the Deribit ClientProtocol, or the
  wire-layer machine until it exists, as the label says), keepalive on (a ping every
  20 s, the default), iterating the client's events and counting the book events.
  The asyncio binding reads 64 KiB at a time (an ``asyncio.BufferedProtocol``, see
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

All asyncio rows use the default event loop.  Keepalive is on in every row that has it
(tradewire and websockets ``ping_interval=20``, picows ``enable_auto_ping=True``); the
server sends no pings, and no run lasts long enough for a client to send one, so what is
measured is the cost of having it armed.  More rows (websockets + msgspec, rows that
keep the book, the mixed stream, 100 connections) are described in their blocks below.
Each run is bounded (``asyncio.timeout``, ``trio.fail_after``, a
socket timeout); a run that fails or times out is left out and counted in the label.
"""

from __future__ import annotations

import asyncio
import functools
import json
import socket
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import msgspec

from tradewire.protocol.deribit import BookUpdate

from ._machine import is_book_event, make_machine, subscribe_command
from ._messages import BOOK, bare_decoder, handle_dict, subscribe_request
from ._server import BlastServer, client_handshake, masked_text_frame, mixed_channels
from ._timing import Result

__all__ = ["CLIENTS", "run", "tradewire_asyncio"]

GROUP = "end to end: book notifications through a client, loopback"
_STACK = {"ping_interval": 20.0, "close_timeout": 2.0, "reconnect": False}  # keepalive on
_SUBSCRIBE = subscribe_request(1, [BOOK])


def _deadline(count: int) -> float:
    return 30.0 + count / 5_000


class Incomplete(Exception):
    """The stream ended (or timed out) before ``count`` book messages were decoded."""


def _rate(client: Callable[[str, int], float], url: str, count: int) -> Callable[[], float]:
    """One sample of ``client``: messages per second over ``count`` messages."""

    def sample() -> float:
        return count / client(url, count)

    return sample


def _check(got: int, count: int) -> None:
    if got != count:
        raise Incomplete(f"{got} of {count} book messages")


def tradewire_asyncio(url: str, count: int, **options: Any) -> float:
    """``options`` go to the machine (``maintain_books=True`` for the books rows)."""
    from tradewire.bindings import asyncio as aio

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        async with asyncio.timeout(_deadline(count)):
            machine = make_machine(**options)[0]
            async with aio.connect(url, machine, **_STACK) as client:
                await client.send(subscribe_command(machine, [BOOK]))
                async for event in client:
                    if is_book_event(event):
                        got += 1
                        if got == count:
                            break
                elapsed = time.perf_counter() - start
            if options.get("maintain_books"):
                _BOOK_STATES["tradewire"] = _state(machine.book(BOOK))
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
            async with connect(url, ping_interval=20.0, close_timeout=2.0) as ws:
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
            transport, listener = await ws_connect(
                Listener, url, use_aiofastnet=aiofastnet, enable_auto_ping=True
            )
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


# -- comparison rows: websockets + msgspec, and rows that maintain the book ------------------
#
# * **websockets + msgspec typed decode**: websockets' ``async for`` (``str`` messages),
#   routed and decoded exactly as the picows row does (a prefix check, the bare msgspec
#   decoder into tradewire's own ``BookUpdate``, the channel checked);
# * **books maintained**, every row building the same book from the same messages (the
#   final depth and best levels of each are compared after the run; a mismatch is shown
#   in the label): tradewire with ``maintain_books=True`` (its ``OrderBook``: every level
#   checked, the ``change_id`` chain, the crossed-book check per change); picows +
#   msgspec into a ``sortedcontainers.SortedDict`` per side (no checks); websockets +
#   ``json.loads`` + the dict handling into a plain ``dict`` per side (no order kept, so
#   no best price without a sort: the cheapest book a ``json.loads`` user can keep).
# A level with action ``delete`` or amount ``0`` removes the price, as in tradewire.

_BOOK_STATES: dict[str, tuple[object, ...]] = {}  # row -> final (depths, best bid, best ask)


def _state(book: Any) -> tuple[object, ...]:
    """The final state of a tradewire ``OrderBook`` as the other rows record it."""
    if book is None:
        return ("no book",)
    return (book.depth("bid"), book.depth("ask"), book.best_bid(), book.best_ask())


def _apply(side: Any, levels: Any) -> None:
    """Apply Deribit ``[action, price, amount]`` levels to a ``dict`` or a ``SortedDict``."""
    pop = side.pop
    for action, price, amount in levels:
        if action == "delete" or not amount:
            pop(price, None)
        else:
            side[price] = amount


def websockets_msgspec(url: str, count: int) -> float:
    from websockets.asyncio.client import connect

    decode_book = bare_decoder(BookUpdate).decode
    decode_any = msgspec.json.Decoder().decode
    prefix = '{"jsonrpc":"2.0","method":"subscription"'

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        async with asyncio.timeout(_deadline(count)):
            async with connect(url, ping_interval=20.0, close_timeout=2.0) as ws:
                await ws.send(_SUBSCRIBE.decode())
                async for message in ws:
                    if message.startswith(prefix):
                        if decode_book(message).params.channel == BOOK:
                            got += 1
                            if got == count:
                                break
                    else:
                        decode_any(message)
                elapsed = time.perf_counter() - start
        _check(got, count)
        return elapsed

    return asyncio.run(main())


def websockets_json_dict_book(url: str, count: int) -> float:
    from websockets.asyncio.client import connect

    bids: dict[float, float] = {}
    asks: dict[float, float] = {}

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        loads, handle = json.loads, handle_dict
        async with asyncio.timeout(_deadline(count)):
            async with connect(url, ping_interval=20.0, close_timeout=2.0) as ws:
                await ws.send(_SUBSCRIBE.decode())
                async for message in ws:
                    handled = handle(loads(message))
                    if type(handled) is tuple and handled[0] == BOOK:
                        data = handled[1]
                        if data["type"] == "snapshot":
                            bids.clear()
                            asks.clear()
                        _apply(bids, data["bids"])
                        _apply(asks, data["asks"])
                        got += 1
                        if got == count:
                            break
                elapsed = time.perf_counter() - start
        _check(got, count)
        best_bid = max(bids.items()) if bids else None
        best_ask = min(asks.items()) if asks else None
        _BOOK_STATES["websockets_json_dict"] = (len(bids), len(asks), best_bid, best_ask)
        return elapsed

    return asyncio.run(main())


def picows_msgspec_sorted_book(url: str, count: int) -> float:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
    from sortedcontainers import SortedDict

    decode_book = bare_decoder(BookUpdate).decode
    decode_any = msgspec.json.Decoder().decode
    prefix = b'{"jsonrpc":"2.0","method":"subscription"'
    bids: Any = SortedDict()
    asks: Any = SortedDict()

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
                    data = event.data
                    if data.type == "snapshot":
                        bids.clear()
                        asks.clear()
                    _apply(bids, data.bids)
                    _apply(asks, data.asks)
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
            transport, listener = await ws_connect(Listener, url, enable_auto_ping=True)
            await listener.done
            elapsed = time.perf_counter() - start
            transport.send_close()
            transport.disconnect()
            await transport.wait_disconnected()
        _check(listener.got, count)
        best_bid = bids.peekitem(-1) if bids else None
        best_ask = asks.peekitem(0) if asks else None
        _BOOK_STATES["picows_sorted"] = (len(bids), len(asks), best_bid, best_ask)
        return elapsed

    return asyncio.run(main())


_BOOKS_TRADEWIRE = functools.partial(tradewire_asyncio, maintain_books=True)
COMPARISON_CLIENTS: list[tuple[str, Callable[[str, int], float]]] = [
    ("websockets (asyncio) + msgspec typed decode", websockets_msgspec),
    ("books kept: tradewire asyncio, maintain_books=True", _BOOKS_TRADEWIRE),
    ("books kept: picows + msgspec + SortedDict per side", picows_msgspec_sorted_book),
    ("books kept: websockets + json.loads + dict per side", websockets_json_dict_book),
]


def _book_states_note() -> str:
    """Empty when every books row ended with the same book, else what differed."""
    states = set(_BOOK_STATES.values())
    if len(states) <= 1:
        return ""
    return " (books differ: " + "; ".join(f"{k}={v}" for k, v in _BOOK_STATES.items())[:120] + ")"


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


CLIENTS += COMPARISON_CLIENTS

_TRADEWIRE = {
    tradewire_asyncio,
    tradewire_asyncio_256k,
    tradewire_trio,
    tradewire_sync,
    _BOOKS_TRADEWIRE,
}


def run(repeats: int, count: int) -> tuple[list[Result], dict[str, Result]]:
    """Every client ``repeats`` times, interleaved; rates in messages per second."""
    label = make_machine()[1]
    machine_note = "" if label.startswith("tradewire ClientProtocol") else "(wire-layer machine)"
    results = {
        name: Result(GROUP, name, "msg/s", note=machine_note if fn in _TRADEWIRE else "")
        for name, fn in CLIENTS
    }
    with BlastServer() as server:
        rows = [
            (results[name], partial(server.expect, count), _rate(client, server.url, count))
            for name, client in CLIENTS
        ]
        server.rounds(repeats, rows)
    books_note = _book_states_note()
    for name, result in results.items():
        if books_note and name.startswith("books kept"):
            result.note += books_note
    return list(results.values()), results


# -- the mixed stream: books, tickers and trades on 100 channels ------------------------------
#
# The same server sends :class:`~benchmarks._server.MixedStream`: the 40 book snapshots,
# then book changes (60%), tickers (25%) and trades (15%) on 100 channels.  Each client
# subscribes to the 100 channels and counts every *decoded* notification.  The tradewire
# row is the asyncio binding with the default machine (no books kept); the msgspec rows
# route each payload by the two bytes after ``"channel":"`` (offset 62, fixed in
# Deribit's notifications) to the bare typed decoder of its family (the fastest routing
# a msgspec user can write); the json row is ``json.loads`` + the dict handling.

MIXED_GROUP = "end to end: mixed stream, books + tickers + trades on 100 channels, loopback"


def _mixed_decoders() -> dict[bytes, Callable[[Any], Any]]:
    from tradewire.protocol.deribit import TickerUpdate, TradesUpdate

    return {
        b"bo": bare_decoder(BookUpdate).decode,
        b"ti": bare_decoder(TickerUpdate).decode,
        b"tr": bare_decoder(TradesUpdate).decode,
    }


def _mixed_subscribe() -> bytes:
    return subscribe_request(1, mixed_channels())


def mixed_tradewire_asyncio(url: str, count: int) -> float:
    from tradewire.bindings import asyncio as aio

    channels = mixed_channels()
    wanted = frozenset(channels)

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        async with asyncio.timeout(_deadline(count)):
            machine = make_machine()[0]
            async with aio.connect(url, machine, **_STACK) as client:
                await client.send(subscribe_command(machine, channels))
                async for event in client:
                    if getattr(event, "channel", None) in wanted:
                        got += 1
                        if got == count:
                            break
                elapsed = time.perf_counter() - start
        _check(got, count)
        return elapsed

    return asyncio.run(main())


def mixed_websockets(url: str, count: int, *, typed: bool) -> float:
    from websockets.asyncio.client import connect

    decoders = {k.decode(): v for k, v in _mixed_decoders().items()}
    decode_any = msgspec.json.Decoder().decode
    loads, handle = json.loads, handle_dict
    prefix = '{"jsonrpc":"2.0","method":"subscription"'

    async def main() -> float:
        start = time.perf_counter()
        got = 0
        async with asyncio.timeout(_deadline(count)):
            async with connect(url, ping_interval=20.0, close_timeout=2.0) as ws:
                await ws.send(_mixed_subscribe().decode())
                async for message in ws:
                    if typed:
                        if message.startswith(prefix):
                            decoders[message[62:64]](message).params.channel  # noqa: B018
                            got += 1
                        else:
                            decode_any(message)
                    elif type(handle(loads(message))) is tuple:
                        got += 1
                    if got == count:
                        break
                elapsed = time.perf_counter() - start
        _check(got, count)
        return elapsed

    return asyncio.run(main())


def mixed_picows(url: str, count: int) -> float:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

    decoders = _mixed_decoders()
    decode_any = msgspec.json.Decoder().decode
    prefix = b'{"jsonrpc":"2.0","method":"subscription"'
    subscribe = _mixed_subscribe()

    class Listener(WSListener):  # type: ignore[misc]
        def __init__(self) -> None:
            self.got = 0
            self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_ws_connected(self, transport: WSTransport) -> None:
            transport.send(WSMsgType.TEXT, subscribe)

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type is not WSMsgType.TEXT:
                if frame.msg_type is WSMsgType.CLOSE and not self.done.done():
                    self.done.set_result(None)
                return
            payload = frame.get_payload_as_bytes()
            if payload.startswith(prefix):
                decoders[payload[62:64]](payload).params.channel  # noqa: B018
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
            transport, listener = await ws_connect(Listener, url, enable_auto_ping=True)
            await listener.done
            elapsed = time.perf_counter() - start
            transport.send_close()
            transport.disconnect()
            await transport.wait_disconnected()
        _check(listener.got, count)
        return elapsed

    return asyncio.run(main())


MIXED_CLIENTS: list[tuple[str, Callable[[str, int], float]]] = [
    ("mixed: tradewire asyncio binding", mixed_tradewire_asyncio),
    ("mixed: picows + msgspec typed decode", mixed_picows),
    (
        "mixed: websockets (asyncio) + msgspec typed decode",
        functools.partial(mixed_websockets, typed=True),
    ),
    (
        "mixed: websockets (asyncio) + json.loads + dict handling",
        functools.partial(mixed_websockets, typed=False),
    ),
]


def run_mixed(repeats: int, count: int) -> tuple[list[Result], dict[str, Result]]:
    """The mixed-stream clients ``repeats`` times, in turn; rates in messages per second."""
    results = {name: Result(MIXED_GROUP, name, "msg/s") for name, _ in MIXED_CLIENTS}
    with BlastServer() as server:
        expect = partial(server.expect, count, mixed=True)
        rows = [
            (results[name], expect, _rate(client, server.url, count))
            for name, client in MIXED_CLIENTS
        ]
        server.rounds(repeats, rows)
    return list(results.values()), results


# -- many connections in one process: CPU per message, 100 connections against 1 -------------
#
# One asyncio process opens ``clients`` tradewire asyncio connections (default machine,
# keepalive on) to the blast server, each subscribing to the book channel; the server
# waits until every connection has subscribed, then sends each the book stream (its
# snapshot and changes) from one thread per connection.  The number is the client
# process's CPU time (``time.process_time``) from the moment every connection is open
# and subscribed to the moment every one has decoded its share, per message: the upgrades
# are left out, the event loop's work of watching many sockets is in.  1 connection gets
# all the messages, 100 connections get a hundredth each.

MANY_GROUP = "end to end: client CPU per message, 100 connections in one process vs 1"


def many_connections(url: str, clients: int, per_connection: int) -> float:
    """CPU seconds per decoded book message over ``clients`` connections."""
    import contextlib

    from tradewire.bindings import asyncio as aio

    async def consume(client: Any) -> int:
        got = 0
        async for event in client:
            if is_book_event(event):
                got += 1
                if got == per_connection:
                    break
        return got

    async def main() -> float:
        async with asyncio.timeout(_deadline(clients * per_connection) + clients * 0.5):
            async with contextlib.AsyncExitStack() as stack:

                async def open_one() -> Any:
                    machine = make_machine()[0]
                    client = await stack.enter_async_context(aio.connect(url, machine, **_STACK))
                    await client.send(subscribe_command(machine, [BOOK]))
                    return client

                opened = await asyncio.gather(*(open_one() for _ in range(clients)))
                cpu = time.process_time()
                counts = await asyncio.gather(*(consume(c) for c in opened))
                cpu = time.process_time() - cpu
        _check(sum(counts), clients * per_connection)
        return cpu / (clients * per_connection)

    return asyncio.run(main())


def run_many(
    repeats: int, total: int, clients: int = 100
) -> tuple[list[Result], dict[str, Result]]:
    """CPU per message with ``clients`` connections and with 1, ``repeats`` times in turn."""
    per = total // clients
    rows = {
        1: Result(MANY_GROUP, f"1 connection, {per * clients:,} messages", "us"),
        clients: Result(MANY_GROUP, f"{clients} connections, {per:,} messages each", "us"),
    }
    with BlastServer() as server:
        server.rounds(
            repeats,
            [
                (
                    result,
                    partial(server.expect_many, n, per * clients // n),
                    partial(many_connections, server.url, n, per * clients // n),
                )
                for n, result in rows.items()
            ],
            report_timeout=60.0,
        )
    return list(rows.values()), {"1": rows[1], "many": rows[clients]}
