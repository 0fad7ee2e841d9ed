"""Where the end-to-end time goes: the client stack on the server's bytes, in memory.

The loopback server's exact byte stream (:class:`~benchmarks._server.Stream`: a
snapshot, then 19-40-level book changes) is cut into 256 KiB reads, the size asyncio's
selector transport hands a plain ``asyncio.Protocol`` (and the sync binding reads), and
fed with no socket and no event loop:

* **decode only**: :func:`decode_inbound` over the frames' payloads (the reference), and
  beside it the end-to-end picows row's own work per message on the same payloads (the
  prefix check, the bare msgspec decode into ``BookUpdate``, the channel compare): the
  work per message of a client that frames in compiled code and calls back per frame;
* **framing only**: ``FrameReader.runs`` over 64 KiB reads, the client fast path that
  splits simple text frames before wsproto (``tradewire.protocol.transport._frames``), and, for
  comparison, wsproto's own parser on the 256 KiB reads (``receive_data`` + ``events()``:
  what the fast path avoids);
* **stack**: ``WebSocketClientStack.receive_data`` + ``events()`` per read, with the
  machine of :mod:`benchmarks._machine` after an upgrade and an acked subscription:
  framing, the machine (decode included), the stack's bounded event queue; then the
  same in 64 KiB reads (what the asyncio and trio bindings read).  Per message the
  work is identical; what differs is how many
  decoded events (a few kB each) are alive at once before they are drained, so the
  difference is the cost of leaving the CPU caches.

The end-to-end asyncio row minus the 64 KiB stack row is what the binding, the event
loop and the consumer (``async for`` over the client) add per message.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import wsproto
import wsproto.events as wse

from tradewire.protocol import WebSocketClientStack
from tradewire.protocol.deribit import BookUpdate, decode_inbound
from tradewire.protocol.transport._frames import FrameReader

from ._machine import NOW, answer_all, make_machine, subscribe_command
from ._messages import BOOK, bare_decoder
from ._server import Stream, accept_key, frame_header, parse_frames
from ._timing import Result, interleave, timed

__all__ = ["run"]

GROUP = "client stack in memory: 256 KiB reads of the end-to-end stream"
READ = 256 * 1024  # what asyncio's selector transport reads per data_received (3.11-3.13)
SMALL_READ = 64 * 1024  # what the asyncio and trio bindings read at a time


def _stack_row(chunks: list[bytes], count: int) -> Callable[[], float]:
    def sample() -> float:
        machine = make_machine()[0]
        stack = WebSocketClientStack(
            machine, host="127.0.0.1", rng=random.Random(1), ping_interval=None, reconnect=False
        )
        stack.connection_made(NOW)
        request = stack.data_to_send()
        stack.receive_data(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept_key(request) + b"\r\n\r\n",
            NOW,
        )
        stack.send(subscribe_command(machine, [BOOK]), NOW)

        def sent() -> list[bytes]:
            return [p for op, p in parse_frames(bytearray(stack.data_to_send())) if op == 0x1]

        answer_all(sent, lambda answer: stack.receive_data(frame_header(len(answer)) + answer, NOW))
        stack.events()
        receive, events = stack.receive_data, stack.events

        def loop() -> None:
            for chunk in chunks:
                receive(chunk, NOW)
                events()

        return timed(loop, count)

    return sample


def _wsproto_row(chunks: list[bytes], count: int) -> Callable[[], float]:
    def sample() -> float:
        ws = wsproto.WSConnection(wsproto.ConnectionType.CLIENT)
        request = ws.send(wse.Request(host="127.0.0.1", target="/ws/api/v2"))
        ws.receive_data(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept_key(request) + b"\r\n\r\n"
        )
        list(ws.events())
        receive, events = ws.receive_data, ws.events

        def loop() -> None:
            for chunk in chunks:
                receive(chunk)
                for _ in events():
                    pass

        return timed(loop, count)

    return sample


def run(repeats: int, count: int) -> tuple[list[Result], Result]:
    """The rows and the reference (decode only)."""
    data = b"".join(Stream().batches(count))
    chunks = [data[i : i + READ] for i in range(0, len(data), READ)]
    small = [data[i : i + SMALL_READ] for i in range(0, len(data), SMALL_READ)]
    payloads = [p for fast, p in FrameReader(1 << 24).feed(data) if fast]
    assert len(payloads) == count

    def decode_loop() -> None:
        for payload in payloads:
            decode_inbound(payload)

    def framing_loop() -> None:
        reader = FrameReader(1 << 24)
        for chunk in small:
            reader.runs(chunk)

    decode_book = bare_decoder(BookUpdate).decode
    prefix = b'{"jsonrpc":"2.0","method":"subscription"'

    def bare_loop() -> None:  # the picows row's work per message, as written there
        for payload in payloads:
            if payload.startswith(prefix):
                event = decode_book(payload).params
                if event.channel == BOOK:
                    pass

    label = "ClientProtocol" if make_machine()[2] else "wire-layer machine"
    ref = Result(GROUP, "decode only: decode_inbound per payload", "us")
    rows = [
        (ref, lambda: timed(decode_loop, count)),
        (
            Result(GROUP, "  bare: prefix, msgspec decode, channel (picows row's work)", "us"),
            lambda: timed(bare_loop, count),
        ),
        (
            Result(GROUP, "framing only: FrameReader.runs per 64 KiB read", "us"),
            lambda: timed(framing_loop, count),
        ),
        (
            Result(GROUP, "framing by wsproto instead (what the fast path skips)", "us"),
            _wsproto_row(chunks, count),
        ),
        (
            Result(GROUP, f"stack: receive_data + events(), {label}", "us"),
            _stack_row(chunks, count),
        ),
        (
            Result(GROUP, "  ... the same in 64 KiB reads (asyncio and trio bindings')", "us"),
            _stack_row(small, count),
        ),
    ]
    interleave(rows, repeats)
    return [r for r, _ in rows], ref
