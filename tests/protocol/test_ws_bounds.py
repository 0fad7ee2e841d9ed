"""What a WebSocket stack holds for an unfinished message is bounded in bytes and time.

A server stack around a machine that declares its request limit keeps at most that
limit plus one byte of a message arriving in pieces, and hands it over cut there (the
machine refuses it by size, as it refuses any oversize message); ``max_message_size``
counts bytes, not characters; a message not finished within ``message_timeout`` closes
the connection with 1008.  (What a server's connections hold together is bounded by the
server hub: ``tests/bindings/test_server_bounds.py``.)
"""

from __future__ import annotations

import struct
import tracemalloc
from typing import Any

import msgspec
import pytest

from tradewire.conformance import EchoServer
from tradewire.protocol import RemoteProtocolError, WebSocketClosed, WebSocketServerStack
from tradewire.protocol.transport._websocket import StackState

UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
KEY = b"\x01\x02\x03\x04"


def client_frame(payload: bytes, *, opcode: int, fin: bool) -> bytes:
    """A masked frame, as a client sends it."""
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, length)
    masked = bytes(b ^ KEY[i % 4] for i, b in enumerate(payload))
    return head + KEY + masked


class Limited(EchoServer):
    """An echo venue that refuses messages over ``max_message_size`` bytes by their
    size, as Deribit's venue answers -32600."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.max_message_size = limit
        self.sizes: list[int] = []

    def receive_message(self, data: bytes | str, now: float) -> None:
        raw = data.encode() if isinstance(data, str) else data
        self.sizes.append(len(raw))
        if len(raw) > self.max_message_size:
            self._out.append(b'{"error":"too large"}')
            return
        super().receive_message(data, now)


def opened(machine: Any, **options: Any) -> WebSocketServerStack:
    stack = WebSocketServerStack(machine, **options)
    stack.connection_made(0.0)
    stack.receive_data(UPGRADE, 0.0)
    assert stack.state is StackState.OPEN
    stack.data_to_send()
    stack.events()
    return stack


def test_a_message_in_pieces_is_kept_up_to_the_machines_limit() -> None:
    machine = Limited(1000)
    stack = opened(machine)
    piece = b"a" * 4096
    stack.receive_data(client_frame(piece, opcode=0x1, fin=False), 1.0)
    tracemalloc.start()
    try:
        for _ in range(200):  # 800 KiB more of the same message
            stack.receive_data(client_frame(piece, opcode=0x0, fin=False), 1.0)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stack.buffered == 1001
    assert held < 64 * 1024  # not the 800 KiB sent
    stack.receive_data(client_frame(b"end", opcode=0x0, fin=True), 1.0)
    assert machine.sizes == [1001]  # cut past the limit: refused by its size
    assert stack.buffered == 0
    assert stack.data_to_send().endswith(b'{"error":"too large"}')
    assert stack.state is StackState.OPEN  # the connection goes on
    stack.receive_data(client_frame(b'{"id":1,"say":"hi"}', opcode=0x1, fin=True), 1.0)
    assert b'"echo":"hi"' in stack.data_to_send()


def test_a_message_in_pieces_within_the_limit_arrives_whole() -> None:
    machine = Limited(1000)
    stack = opened(machine)
    body = b'{"id":1,"say":"' + "é".encode() * 300 + b'"}'
    for i in range(0, len(body), 7):
        part = body[i : i + 7]
        last = i + 7 >= len(body)
        stack.receive_data(client_frame(part, opcode=0x0 if i else 0x1, fin=last), 1.0)
    assert machine.sizes == [len(body)]
    assert "é".encode() * 300 in stack.data_to_send()


def test_the_deribit_venue_answers_a_fragmented_oversize_request_and_stays_open() -> None:
    from tradewire.conformance.deribit import DeribitVenue

    venue = DeribitVenue(now=0.0)
    stack = venue.websocket_connection("127.0.0.1:1")
    stack.connection_made(0.0)
    stack.receive_data(UPGRADE.replace(b"/ws ", b"/ws/api/v2 "), 0.0)
    stack.data_to_send()
    request = b'{"jsonrpc":"2.0","id":1,"method":"public/test","params":{"x":"'
    stack.receive_data(client_frame(request, opcode=0x1, fin=False), 0.0)
    for _ in range(20):  # 20 x 4 KiB: over the venue's 32 kB
        stack.receive_data(client_frame(b"a" * 4096, opcode=0x0, fin=False), 0.0)
    assert stack.buffered <= 32 * 1024 + 1
    stack.receive_data(client_frame(b'"}}', opcode=0x0, fin=True), 0.0)
    out = stack.data_to_send()
    answer = msgspec.json.decode(out[out.index(b"{") :])
    assert answer["error"]["code"] == -32600
    assert stack.state is StackState.OPEN


def test_max_message_size_counts_bytes_not_characters() -> None:
    stack = opened(EchoServer(), max_message_size=1000)
    emoji = "\N{GRINNING FACE}".encode()  # 4 bytes, 1 character
    stack.receive_data(client_frame(emoji * 200, opcode=0x1, fin=False), 1.0)  # 800 B
    with pytest.raises(RemoteProtocolError) as caught:
        stack.receive_data(client_frame(emoji * 60, opcode=0x0, fin=True), 1.0)  # 1040 B
    assert caught.value.close_code == 1009


def test_a_whole_message_over_max_message_size_in_bytes_is_refused() -> None:
    stack = opened(EchoServer(), max_message_size=1000)
    emoji = "\N{GRINNING FACE}".encode()
    with pytest.raises(RemoteProtocolError) as caught:  # 300 characters, 1200 bytes
        stack.receive_data(client_frame(emoji * 300, opcode=0x1, fin=True), 1.0)
    assert caught.value.close_code == 1009


def test_an_unfinished_message_times_out_with_1008() -> None:
    stack = opened(EchoServer(), message_timeout=5.0)
    assert stack.next_deadline() is None
    stack.receive_data(client_frame(b'{"say":', opcode=0x1, fin=False), 10.0)
    assert stack.next_deadline() == 15.0
    stack.receive_data(client_frame(b'"x', opcode=0x0, fin=False), 12.0)
    assert stack.next_deadline() == 15.0  # from the first piece, not the last
    stack.handle_timer(14.9)
    assert not stack.should_close_transport
    stack.handle_timer(15.0)
    assert stack.should_close_transport
    assert stack.buffered == 0
    closed = [e for e in stack.events() if isinstance(e, WebSocketClosed)]
    assert [(e.code, e.by) for e in closed] == [(1008, "local")]
    assert stack.data_to_send().startswith(b"\x88")  # the close frame


def test_a_finished_message_clears_its_deadline() -> None:
    stack = opened(EchoServer(), message_timeout=5.0)
    stack.receive_data(client_frame(b'{"id":1,', opcode=0x1, fin=False), 10.0)
    stack.receive_data(client_frame(b'"say":"x"}', opcode=0x0, fin=True), 11.0)
    assert stack.next_deadline() is None
    stack.handle_timer(20.0)
    assert not stack.should_close_transport


def test_the_pieces_are_not_delivered_after_the_stack_closed() -> None:
    machine = Limited(1000)
    stack = opened(machine, message_timeout=1.0)
    stack.receive_data(client_frame(b"a" * 10, opcode=0x1, fin=False), 0.0)
    stack.handle_timer(1.0)
    assert stack.should_close_transport
    stack.receive_data(client_frame(b"a", opcode=0x0, fin=True), 1.5)
    assert machine.sizes == []
