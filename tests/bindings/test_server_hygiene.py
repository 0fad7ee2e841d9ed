"""Clean failure paths of a server: logs without secrets, no writes to a transport that is
gone, a too-slow close of a closed connection, and the request-head limit in one read.

Real sockets on 127.0.0.1 (asyncio binding), plus the pure pieces directly.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import struct
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tradewire.bindings import UpgradeOrHTTP, route_upgrade
from tradewire.bindings import asyncio as aio
from tradewire.bindings._route import MAX_HEAD
from tradewire.bindings._server import ServerHub
from tradewire.conformance import EchoServer, Note
from tradewire.protocol import (
    Command,
    HTTPServerStack,
    RemoteProtocolError,
    WebSocketClientStack,
    WebSocketServerStack,
)

sys.path.append(str(Path(__file__).parents[1] / "conformance" / "deribit"))
from support_venue import SMALL, START, RawClient, make_harness

SECRET = "TOPSECRET-0123456789"
UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
)


class Machine(EchoServer):
    def send(self, command: Command, now: float) -> None:
        assert isinstance(command, Note)
        self._out.append(msgspec.json.encode({"note": command.index}))


def factory(stacks: list[WebSocketServerStack] | None = None) -> Any:
    def websocket(peer: str | None) -> WebSocketServerStack:
        stack = WebSocketServerStack(Machine(), peer=peer)
        if stacks is not None:
            stacks.append(stack)
        return stack

    return route_upgrade(websocket, lambda peer: HTTPServerStack(peer=peer))


async def exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, read until the server closes (at most 5 s)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    try:
        return await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()


# -- logs ----------------------------------------------------------------------------------


BAD_REQUESTS = [
    # a malformed request line (three words expected), HTTP
    b"GET /api/v2/public/auth?client_id=a&client_secret=%s HTTP/1.1 junk\r\nHost: x\r\n\r\n",
    # the same on an upgrade
    b"GET /ws?access_token=%s HTTP/1.1 junk\r\nHost: x\r\nUpgrade: websocket\r\n\r\n",
    # a malformed header line
    b"GET /api/v2/public/test?signature=%s HTTP/1.1\r\nHost: x\r\n"
    b"Authorization : Bearer %s\r\n\r\n",
]


@pytest.mark.parametrize("request_bytes", BAD_REQUESTS)
def test_a_malformed_request_is_logged_without_secret_values(
    request_bytes: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    data = request_bytes.replace(b"%s", SECRET.encode())

    async def main() -> bytes:
        async with aio.serve(factory()) as server:
            return await exchange(server.port, data)

    with caplog.at_level(logging.DEBUG, logger="tradewire"):
        answer = asyncio.run(main())
    assert answer.startswith(b"HTTP/1.1 400")
    assert SECRET.encode() not in answer
    logged = [record.getMessage() for record in caplog.records]
    assert any("broke the protocol" in line for line in logged)  # it was logged
    assert not [line for line in logged if SECRET in line]


def test_the_http_stack_error_quotes_the_line_masked() -> None:
    stack = HTTPServerStack()
    stack.connection_made(0.0)
    with pytest.raises(RemoteProtocolError) as caught:
        stack.receive_data(BAD_REQUESTS[0].replace(b"%s", SECRET.encode()), 0.0)
    assert "client_secret=<redacted>" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert stack.close_reason is not None
    assert SECRET not in stack.close_reason


# -- writes to a transport that is gone ------------------------------------------------------


def test_nothing_is_written_to_a_transport_that_is_gone(caplog: pytest.LogCaptureFixture) -> None:
    stacks: list[WebSocketServerStack] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with aio.serve(factory(stacks)) as server:
            sock = socket.socket()
            sock.setblocking(False)
            await loop.sock_connect(sock, ("127.0.0.1", server.port))
            await loop.sock_sendall(sock, UPGRADE + b"\r\n")
            assert (await loop.sock_recv(sock, 4096)).startswith(b"HTTP/1.1 101")
            (stack,) = stacks
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # a reset, at once: the server's next send() fails
            # the venue keeps writing before the loop reports the loss (a fan-out of
            # notifications, say): one callback, no await
            for index in range(20):
                stack.send(Note(index=index), loop.time())
                server.hub.settle(loop.time())
            await asyncio.sleep(0.1)
            assert server.connections == []

    with caplog.at_level(logging.DEBUG, logger="asyncio"):
        asyncio.run(main())
    assert not [r for r in caplog.records if "raised exception" in r.getMessage()]


# -- too slow, already closed ----------------------------------------------------------------


def test_closing_a_too_slow_connection_that_is_already_closed_raises_nothing() -> None:
    venue = make_harness(SMALL).venue
    socket_ = venue.websocket_connection("127.0.0.1:1")
    client = WebSocketClientStack(
        RawClient(), host="x", rng=random.Random(1), reconnect=False, ping_interval=None
    )
    client.connection_made(START)
    socket_.connection_made(START)
    socket_.receive_data(client.data_to_send(), START)
    client.receive_data(socket_.data_to_send(), START)
    socket_.receive_data(b"", START)  # the peer's end of file: the transport is going
    socket_.too_slow(START)  # the venue's too-slow limit, late
    socket_.transport_backlog(1 << 30, START)
    assert socket_.should_close_transport
    socket_.connection_lost(START)
    socket_.too_slow(START)  # and once it is gone


class Slow:
    """A transport link whose write buffer holds ``waiting`` bytes (set by the test)."""

    def __init__(self) -> None:
        self.conn: Any = None
        self.done = False
        self.written = bytearray()
        self.waiting = 0
        self.shut_with: bool | None = None

    def push(self, data: bytes) -> int:
        self.written += data
        return self.waiting

    def shut(self, abort: bool) -> None:
        self.shut_with = abort

    def arm(self, deadline: float | None) -> None:
        pass

    def take(self) -> bytes:
        out, self.written = bytes(self.written), bytearray()
        return out


def test_a_backlog_met_as_the_peer_leaves_is_no_failure(caplog: pytest.LogCaptureFixture) -> None:
    """The peer's end of file arrives while the venue still writes to it (a ticker) and
    the transport reports a backlog past the venue's limit: the too-slow close meets a
    connection that is closing already, and nothing fails."""
    venue = make_harness(SMALL, max_pending_bytes=100).venue
    hub = ServerHub(
        route_upgrade(venue.websocket_connection, venue.http_connection),
        on_events=venue.on_events,
        app=venue,
        max_write_buffer=1 << 30,
    )
    link = Slow()
    hub.open(link, "127.0.0.1:1", START)
    machine = RawClient()
    client = WebSocketClientStack(
        machine, host="x", rng=random.Random(1), reconnect=False, ping_interval=None
    )
    client.connection_made(START)
    hub.receive(link, client.data_to_send(), START)
    client.receive_data(link.take(), START)
    client.send(
        machine.request("public/subscribe", {"channels": ["ticker.BTC-PERPETUAL.100ms"]}), START
    )
    hub.receive(link, client.data_to_send(), START)
    client.receive_data(link.take(), START)
    assert machine.answer(1)["result"] == ["ticker.BTC-PERPETUAL.100ms"]
    link.waiting = 1 << 20  # from now on the peer reads nothing
    with caplog.at_level(logging.DEBUG, logger="tradewire"):
        hub.receive(link, b"", START + 0.5)  # its end of file; ticks are due
    assert link.done
    assert not [r for r in caplog.records if "failed" in r.getMessage()]


# -- the request-head limit ------------------------------------------------------------------


def big_head(size: int) -> bytes:
    pad = b"X-Pad: " + b"a" * (size - len(UPGRADE) - 11) + b"\r\n"
    return UPGRADE + pad + b"\r\n"


def test_the_head_limit_holds_when_the_whole_head_comes_in_one_read() -> None:
    router: UpgradeOrHTTP[Any, Any] = factory()("127.0.0.1:1")
    router.connection_made(0.0)
    head = big_head(MAX_HEAD + 1024)
    assert len(head) > MAX_HEAD
    with pytest.raises(RemoteProtocolError):
        router.receive_data(head, 0.0)
    assert router.kind == "http"
    assert router.data_to_send().startswith(b"HTTP/1.1 431")
    assert router.should_close_transport


def test_a_head_within_the_limit_in_one_read_upgrades() -> None:
    router: UpgradeOrHTTP[Any, Any] = factory()("127.0.0.1:1")
    router.connection_made(0.0)
    router.receive_data(big_head(MAX_HEAD - 512), 0.0)
    assert router.kind == "websocket"
    assert router.data_to_send().startswith(b"HTTP/1.1 101")


def test_the_head_limit_over_a_socket_in_one_write() -> None:
    async def main() -> bytes:
        async with aio.serve(factory()) as server:
            return await exchange(server.port, big_head(MAX_HEAD + 1024))

    assert asyncio.run(main()).startswith(b"HTTP/1.1 431")


def test_a_websocket_stack_alone_holds_its_head_limit_in_one_read() -> None:
    stack = WebSocketServerStack(Machine())
    stack.connection_made(0.0)
    with pytest.raises(RemoteProtocolError):
        stack.receive_data(big_head(40 * 1024), 0.0)
    assert stack.data_to_send().startswith(b"HTTP/1.1 400")


def test_a_sync_connection_buffers_nothing_once_a_write_failed() -> None:
    from tradewire.bindings._sync_reactor import _Conn

    class Loop:
        def flushed(self, conn: Any) -> None:
            pass

        def armed(self, conn: Any) -> None:
            pass

    ours, theirs = socket.socketpair()
    theirs.close()  # the peer is gone
    try:
        conn = _Conn(Loop(), ours, None)  # type: ignore[arg-type]
        conn.push(b"x" * 1000)  # the write fails
        assert conn.broken
        assert conn.push(b"y" * 1000) == 0
        assert not conn.out
    finally:
        ours.close()
