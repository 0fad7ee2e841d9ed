"""The server bounds the unfinished input all its connections hold together.

Past ``max_held_input`` bytes (incomplete messages, heads and bodies, as each connection
reports in ``buffered``), the connection that has held input the longest is dropped.
Driven through ``ServerHub`` with fake transport links.
"""

from __future__ import annotations

import struct
from typing import Any

from tradewire.bindings._server import ServerHub
from tradewire.conformance import EchoServer
from tradewire.protocol import WebSocketServerStack

UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def client_frame(payload: bytes, *, opcode: int, fin: bool) -> bytes:
    """A masked frame with an all-zero key (the payload goes as it is)."""
    first = (0x80 if fin else 0) | opcode
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", first, 0x80 | length)
    else:
        head = struct.pack("!BBH", first, 0x80 | 126, length)
    return head + b"\0\0\0\0" + payload


class Limited(EchoServer):
    """An echo venue declaring a request limit (the stack keeps at most that + 1)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.max_message_size = limit


class FakeLink:
    def __init__(self) -> None:
        self.conn: Any = None
        self.done = False
        self.shut_with: bool | None = None

    def push(self, data: bytes) -> int:
        return 0

    def shut(self, abort: bool) -> None:
        self.shut_with = abort

    def arm(self, deadline: float | None) -> None:
        pass


def test_the_server_bounds_what_all_connections_hold_together() -> None:
    hub = ServerHub(
        lambda peer: WebSocketServerStack(Limited(2000), peer=peer),
        on_events=None,
        app=None,
        max_write_buffer=1 << 20,
        max_held_input=5_000,
    )
    links = []
    for number in range(8):
        link = FakeLink()
        hub.open(link, f"10.0.0.{number}:1", 0.0)
        hub.receive(link, UPGRADE, 0.0)
        links.append(link)
    for number, link in enumerate(links):
        hub.receive(link, client_frame(b"a" * 900, opcode=0x1, fin=False), float(number))
        assert hub.held_input <= 5_000
    # 8 x 900 bytes held would be 7,200: the longest holders were dropped
    assert [link.shut_with for link in links] == [True, True, True] + [None] * 5
    assert hub.held_input == 5 * 900
    # more bytes from a holder keep its place: the oldest left goes first
    hub.receive(links[7], client_frame(b"a" * 200, opcode=0x0, fin=False), 9.0)
    hub.receive(links[4], client_frame(b"a" * 400, opcode=0x0, fin=False), 9.0)
    assert links[3].shut_with is True
    assert [link.shut_with for link in links[4:]] == [None] * 4
    assert hub.held_input == 1300 + 900 + 900 + 1100
    # a finished message frees what it held, and so does a connection that is gone
    hub.receive(links[4], client_frame(b"a", opcode=0x0, fin=True), 10.0)
    assert hub.held_input == 900 + 900 + 1100
    hub.lost(links[5], 11.0)
    assert hub.held_input == 900 + 1100
