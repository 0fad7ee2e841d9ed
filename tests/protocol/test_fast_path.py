"""The client stack's fast path yields exactly what wsproto alone yields.

Two client stacks, one with ``fast_path=True`` and one with ``fast_path=False``, get
the same arbitrary stream of server frames (valid, fragmented, control, masked,
oversize, invalid UTF-8, reserved bits, non-minimal lengths, garbage) split at the same
arbitrary points; the messages their machines receive, the events they report, the
frames they send back, the errors they raise and their states must be identical.
"""

from __future__ import annotations

import random
import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from tradewire.conformance import EchoServer
from tradewire.protocol import (
    CloseRequest,
    Command,
    Event,
    Handshake,
    RemoteProtocolError,
    WebSocketClientStack,
    WebSocketServerStack,
)
from tradewire.protocol.transport._frames import FrameReader, mask

LIMIT = 300


class Recorder:
    """A client machine that records every message and never complains."""

    def __init__(self) -> None:
        self.handshake = Handshake(path="/ws")
        self.messages: list[str] = []
        self.close_request: CloseRequest | None = None

    def connection_made(self, now: float) -> None:
        pass

    def receive_message(self, data: bytes | str, now: float) -> None:
        text = data if isinstance(data, str) else data.decode("utf-8")
        self.messages.append(text)
        if text == "close-me":
            self.close_request = CloseRequest(code=4001, reason="asked")

    def send(self, command: Command, now: float) -> None:
        return None

    def handle_timer(self, now: float) -> None:
        pass

    def next_deadline(self) -> float | None:
        return None

    def connection_lost(self, now: float) -> None:
        pass

    def messages_to_send(self) -> list[bytes]:
        return []

    def events(self) -> list[Event]:
        return []


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = False,
    wide: int = 0,
) -> bytes:
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    bit = 0x80 if masked else 0
    n = len(payload)
    if wide == 2 or (not wide and 126 <= n < 1 << 16):
        header = struct.pack("!BBH", first, bit | 126, n)
    elif wide == 8 or (not wide and n >= 1 << 16):
        header = struct.pack("!BBQ", first, bit | 127, n)
    else:
        header = struct.pack("!BB", first, bit | n)
    if masked:
        key = b"\x01\x02\x03\x04"
        return header + key + mask(payload, key)
    return header + payload


text = st.text(max_size=60).map(lambda s: s.encode("utf-8"))
frames = st.one_of(
    text.map(lambda p: frame(0x1, p)),
    text.map(lambda p: frame(0x1, p)),
    st.just(frame(0x1, b"close-me")),
    st.binary(max_size=20).map(lambda p: frame(0x1, p)),  # often invalid UTF-8
    st.binary(max_size=20).map(lambda p: frame(0x2, p)),
    text.map(lambda p: frame(0x1, p, fin=False)),
    text.map(lambda p: frame(0x0, p, fin=False)),
    text.map(lambda p: frame(0x0, p)),
    st.binary(max_size=10).map(lambda p: frame(0x9, p)),
    st.binary(max_size=10).map(lambda p: frame(0xA, p)),
    st.sampled_from([1000, 1001, 4000, 1002, 999, 5000]).map(
        lambda c: frame(0x8, struct.pack("!H", c) + b"bye")
    ),
    text.map(lambda p: frame(0x1, p, masked=True)),
    text.map(lambda p: frame(0x1, p, rsv=4)),
    text.map(lambda p: frame(0x1, p, wide=2)),
    st.integers(126, 400).map(lambda n: frame(0x1, b"x" * n)),  # around LIMIT
    st.integers(3, 15).map(lambda op: frame(op, b"odd")),
    st.binary(min_size=1, max_size=6),  # garbage
)


def open_stack(fast: bool) -> tuple[WebSocketClientStack, Recorder]:
    machine = Recorder()
    stack = WebSocketClientStack(
        machine,
        host="h",
        rng=random.Random(1),
        fast_path=fast,
        max_message_size=LIMIT,
        ping_interval=None,
    )
    stack.connection_made(0.0)
    server = WebSocketServerStack(EchoServer())
    server.connection_made(0.0)
    server.receive_data(stack.data_to_send(), 0.0)
    stack.receive_data(server.data_to_send(), 0.0)
    stack.events()
    return stack, machine


def unmask_frames(data: bytes) -> list[tuple[int, bytes]]:
    """Decode the (masked) frames a client wrote: opcode and clear payload."""
    out = []
    pos = 0
    while pos < len(data):
        first, second = data[pos], data[pos + 1]
        n = second & 0x7F
        pos += 2
        if n == 126:
            (n,) = struct.unpack("!H", data[pos : pos + 2])
            pos += 2
        elif n == 127:
            (n,) = struct.unpack("!Q", data[pos : pos + 8])
            pos += 8
        key = data[pos : pos + 4]
        pos += 4
        out.append((first & 0x0F, mask(data[pos : pos + n], key)))
        pos += n
    return out


def run(stack: WebSocketClientStack, machine: Recorder, pieces: list[bytes]) -> object:
    trace: list[object] = []
    for piece in pieces:
        try:
            stack.receive_data(piece, 1.0)
        except RemoteProtocolError as exc:
            trace.append(("error", exc.close_code))
        trace.append(("events", [repr(e) for e in stack.events()]))
        trace.append(("sent", unmask_frames(stack.data_to_send())))
        trace.append(("state", stack.state, stack.should_close_transport))
        if stack.should_close_transport:
            break
    return trace, machine.messages


@settings(max_examples=600, deadline=None)
@given(st.lists(frames, max_size=12), st.lists(st.integers(0, 2000), max_size=8))
def test_fast_path_matches_wsproto(stream: list[bytes], cuts: list[int]) -> None:
    data = b"".join(stream)
    points = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    pieces = [p for p in pieces if p]
    fast = run(*open_stack(True), pieces)
    slow = run(*open_stack(False), pieces)
    assert fast == slow


def test_fast_path_takes_simple_frames_and_only_those() -> None:
    reader = FrameReader(limit=100)
    simple = frame(0x1, b'{"a":1}')
    items = reader.feed(simple + frame(0x9, b"p") + simple)
    kinds = [fast for fast, _ in items]
    assert kinds[0] is True
    assert kinds[-1] is True
    assert not any(kinds[1:-1])  # the ping, in one or more pieces, for wsproto
    assert b"".join(chunk for fast, chunk in items if not fast) == frame(0x9, b"p")
    assert items[0][1] == b'{"a":1}'
    # A frame split anywhere is reassembled before it is delivered.
    parts = [reader.feed(simple[:1]), reader.feed(simple[1:5]), reader.feed(simple[5:])]
    assert parts == [[], [], [(True, b'{"a":1}')]]
    # Non-ASCII but valid UTF-8 is fast; invalid UTF-8 is wsproto's to reject.
    assert reader.feed(frame(0x1, "é".encode())) == [(True, "é".encode())]
    items = reader.feed(frame(0x1, b"\xff"))
    assert not any(fast for fast, _ in items)
    assert b"".join(chunk for _, chunk in items) == frame(0x1, b"\xff")


def test_handshake_trailing_frames_go_through_the_fast_path() -> None:
    machine = Recorder()
    stack = WebSocketClientStack(machine, host="h", rng=random.Random(2))
    stack.connection_made(0.0)
    server = WebSocketServerStack(EchoServer())
    server.connection_made(0.0)
    server.receive_data(stack.data_to_send(), 0.0)
    response = server.data_to_send()
    stack.receive_data(response + frame(0x1, b"first") + frame(0x1, b"second")[:4], 0.0)
    assert machine.messages == ["first"]
    stack.receive_data(frame(0x1, b"second")[4:], 0.0)
    assert machine.messages == ["first", "second"]
