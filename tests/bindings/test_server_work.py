"""A server's work follows the connections that have some, not the connections open.

Driven through ``ServerHub`` (what every binding's ``serve()`` shares) with fake transport
links, then over real sockets for the asyncio, trio and sync servers.  Counted, never
timed: each WebSocket stack counts how often the server drained its events, so a test
can say that the idle connections were not visited at all.
"""

from __future__ import annotations

import gc
import random
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import msgspec
import pytest

from tradewire.bindings import route_upgrade
from tradewire.bindings import sync as tw_sync
from tradewire.bindings._common import ServerConnection
from tradewire.bindings._server import ServerHub
from tradewire.conformance import EchoServer, Heard, Note
from tradewire.protocol import Command, Event, HTTPServerStack, WebSocketServerStack
from tradewire.protocol.transport._frames import OP_TEXT, encode_frame

UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def frame(message: dict[str, Any]) -> bytes:
    return encode_frame(OP_TEXT, msgspec.json.encode(message), random.Random(1))


class Machine(EchoServer):
    """The echo venue; the application may push a :class:`Note` to it."""

    def send(self, command: Command, now: float) -> None:
        assert isinstance(command, Note)
        self._out.append(msgspec.json.encode({"note": command.index}))


class Counted(WebSocketServerStack):
    """A WebSocket server stack that counts how often its events were drained."""

    def __init__(self, machine: Machine, visits: list[int], number: int) -> None:
        super().__init__(machine)
        self.visits = visits
        self.number = number

    def events(self) -> list[Event]:
        self.visits[self.number] += 1
        return super().events()


class App:
    """Factory and ``on_events``: ``say: "to:1,5"`` makes the application push a note to
    connections 1 and 5; ``timer_targets`` are written to by the application timer."""

    def __init__(self) -> None:
        self.stacks: list[Counted] = []
        self.visits: list[int] = []
        self.timer_targets: list[int] = []
        self.at: float | None = None

    def factory(self, peer: str | None) -> Counted:
        self.visits.append(0)
        stack = Counted(Machine(), self.visits, len(self.stacks))
        self.stacks.append(stack)
        return stack

    def on_events(self, conn: Any, events: list[Event], now: float) -> None:
        for event in events:
            if isinstance(event, Heard) and event.text.startswith("to:"):
                for number in event.text[3:].split(","):
                    self.stacks[int(number)].send(Note(index=int(number)), now)

    # the application timer
    def next_deadline(self) -> float | None:
        return self.at

    def handle_timer(self, now: float) -> None:
        self.at = None
        for number in self.timer_targets:
            self.stacks[number].send(Note(index=number), now)

    def visited_except(self, *numbers: int) -> int:
        return sum(v for i, v in enumerate(self.visits) if i not in numbers)

    def reset(self) -> None:
        self.visits[:] = [0] * len(self.visits)


class FakeLink:
    def __init__(self) -> None:
        self.conn: ServerConnection | None = None
        self.done = False
        self.written = bytearray()
        self.shut_with: bool | None = None

    def push(self, data: bytes) -> int:
        self.written += data
        return 0

    def shut(self, abort: bool) -> None:
        self.shut_with = abort

    def arm(self, deadline: float | None) -> None:
        pass


OPEN = 300


def open_hub(
    app: App, factory: Callable[[str | None], Any] | None = None
) -> tuple[ServerHub, list[FakeLink]]:
    hub = ServerHub(
        factory or app.factory, on_events=app.on_events, app=app, max_write_buffer=1 << 30
    )
    links = []
    for _ in range(OPEN):
        link = FakeLink()
        hub.open(link, "127.0.0.1:1", 0.0)
        hub.receive(link, UPGRADE, 0.0)
        assert link.written.startswith(b"HTTP/1.1 101")
        link.written.clear()
        links.append(link)
    app.reset()
    return hub, links


def test_a_message_visits_its_own_connection_only() -> None:
    app = App()
    hub, links = open_hub(app)
    hub.receive(links[7], frame({"id": 1, "say": "hello"}), 1.0)
    assert msgspec.json.decode(links[7].written[2:]) == {"id": 1, "echo": "hello"}
    assert app.visited_except(7) == 0


def test_application_writes_visit_the_connections_written_to() -> None:
    app = App()
    hub, links = open_hub(app)
    hub.receive(links[0], frame({"id": 1, "say": "to:3,200,299"}), 1.0)
    for number in (3, 200, 299):
        assert msgspec.json.decode(links[number].written[2:]) == {"note": number}
    assert app.visited_except(0, 3, 200, 299) == 0
    assert not any(link.written for i, link in enumerate(links) if i not in (0, 3, 200, 299))


def test_the_application_timer_visits_the_connections_it_wrote_to() -> None:
    app = App()
    hub, links = open_hub(app)
    app.timer_targets = [5, 6]
    hub.app_timer(1.0)
    assert msgspec.json.decode(links[5].written[2:]) == {"note": 5}
    assert msgspec.json.decode(links[6].written[2:]) == {"note": 6}
    assert app.visited_except(5, 6) == 0


def test_opening_and_losing_a_connection_visit_no_other() -> None:
    app = App()
    hub, links = open_hub(app)
    extra = FakeLink()
    hub.open(extra, "127.0.0.1:2", 1.0)
    hub.receive(extra, UPGRADE, 1.0)
    assert extra.written.startswith(b"HTTP/1.1 101")
    hub.lost(links[10], 1.0)
    hub.receive(links[11], b"", 1.0)  # end of file
    assert links[11].shut_with is not None
    assert app.visited_except(OPEN, 10, 11) == 0
    assert len(hub.connections) == OPEN - 1


def test_through_the_router_writes_are_still_seen() -> None:
    app = App()
    hub, links = open_hub(app, route_upgrade(app.factory, lambda peer: HTTPServerStack()))
    hub.receive(links[1], frame({"id": 1, "say": "to:2"}), 1.0)
    assert msgspec.json.decode(links[2].written[2:]) == {"note": 2}
    assert app.visited_except(1, 2) == 0


class Wrapper:
    """A connection object that forwards to a stack but does not declare ``wakeup``."""

    def __init__(self, inner: Counted) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_connection_that_cannot_say_is_settled_after_every_callback() -> None:
    app = App()
    hub, links = open_hub(app, lambda peer: Wrapper(app.factory(peer)))
    hub.receive(links[0], frame({"id": 1, "say": "to:4"}), 1.0)
    assert msgspec.json.decode(links[4].written[2:]) == {"note": 4}  # correct, not cheap
    assert app.visited_except(0) >= OPEN - 1


# -- over real sockets ---------------------------------------------------------------------


IDLE = 100


def upgrade(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(UPGRADE)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        assert chunk, "closed during the upgrade"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def exchange(port: int) -> None:
    """A new connection, a request and its answer, a broadcast to it, then a close."""
    sock = upgrade(port)
    try:
        sock.sendall(frame({"id": 1, "say": "hello"}))
        assert b"hello" in sock.recv(4096)
    finally:
        sock.close()


def idle_sockets(port: int, count: int) -> list[socket.socket]:
    return [upgrade(port) for _ in range(count)]


@pytest.fixture
def closing() -> Iterator[list[socket.socket]]:
    socks: list[socket.socket] = []
    yield socks
    for sock in socks:
        sock.close()


@pytest.mark.anyio
async def test_idle_connections_are_not_visited_asyncio_trio(
    binding: Any, closing: list[socket.socket]
) -> None:
    app = App()
    with anyio.fail_after(30):
        async with binding.serve(app.factory, on_events=app.on_events) as server:
            closing += await anyio.to_thread.run_sync(idle_sockets, server.port, IDLE)
            while len(app.stacks) < IDLE:
                await anyio.sleep(0.01)
            app.reset()
            for _ in range(3):
                await anyio.to_thread.run_sync(exchange, server.port)
            assert app.visited_except(*range(IDLE, IDLE + 3)) == 0


def test_idle_connections_are_not_visited_sync(closing: list[socket.socket]) -> None:
    app = App()
    with tw_sync.serve(app.factory, on_events=app.on_events) as server:
        closing += idle_sockets(server.port, IDLE)
        watched = [0]
        watch = server.watch

        def counting_watch(conn: Any, mask: int) -> None:
            watched[0] += 1
            watch(conn, mask)

        with server.lock:
            app.reset()
            server.watch = counting_watch  # type: ignore[method-assign]
        for _ in range(3):
            exchange(server.port)
        with server.lock:
            assert app.visited_except(*range(IDLE, IDLE + 3)) == 0
            # a loop turn updates the interests of the connections it touched only
            assert watched[0] < IDLE


def test_sync_timers_fire_from_a_heap_of_deadlines() -> None:
    """Idle connections with far deadlines cost nothing per loop turn, and a near one
    still fires (a WebSocket stack's open timeout, here after 0.2 s)."""
    fired = threading.Event()

    class Short(WebSocketServerStack):
        def handle_timer(self, now: float) -> None:
            super().handle_timer(now)
            if self.should_close_transport:
                fired.set()

    made: list[Short] = []

    def factory(peer: str | None) -> Short:
        stack = Short(Machine(), open_timeout=0.2 if made else 60.0)
        made.append(stack)
        return stack

    with tw_sync.serve(factory) as server:
        first = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        second = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        try:
            assert fired.wait(5)  # the second never upgrades: closed after 0.2 s
            second.settimeout(5)
            assert second.recv(10) == b""
        finally:
            first.close()
            second.close()


# -- the trio server: what an idle connection keeps --------------------------------------


def test_an_idle_trio_connection_is_one_task(closing: list[socket.socket]) -> None:
    """Its reader only: writes go out from a task that ends once they are sent, and the
    timers from one server task (it was three tasks, two nurseries and a timer loop per
    connection, which the garbage collector walked on every full pass)."""
    import trio
    import trio.testing

    from tradewire.bindings import trio as tw_trio

    app = App()

    async def main() -> int:
        with trio.fail_after(30):
            async with tw_trio.serve(app.factory, on_events=app.on_events) as server:
                await trio.testing.wait_all_tasks_blocked(cushion=0.05)
                before = trio.lowlevel.current_statistics().tasks_living
                closing.extend(await trio.to_thread.run_sync(idle_sockets, server.port, IDLE))
                await trio.to_thread.run_sync(exchange, server.port)  # one that talks, gone
                await trio.testing.wait_all_tasks_blocked(cushion=0.05)
                return trio.lowlevel.current_statistics().tasks_living - before

    assert trio.run(main) == IDLE


def _freed_once_closed(port: int, made: list[weakref.ref[Any]], count: int) -> int:
    """``count`` connections talk and close beside ``IDLE`` idle ones; how many of
    their stacks are still alive 5 s later (collected between looks)."""
    first = len(made)
    for _ in range(count):
        exchange(port)
    deadline = time.monotonic() + 5
    while True:
        gc.collect()
        alive = sum(ref() is not None for ref in made[first:])
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.02)


class Remembered:
    """A factory that keeps only weak references to the stacks it made."""

    def __init__(self) -> None:
        self.made: list[weakref.ref[Any]] = []

    def __call__(self, peer: str | None) -> Counted:
        stack = Counted(Machine(), [0], 0)
        self.made.append(weakref.ref(stack))
        return stack


def test_a_closed_trio_connection_is_let_go_among_idle_ones(
    closing: list[socket.socket],
) -> None:
    """Its stale timer entries (its stack's 10 s open timeout, armed and then cleared)
    stay in the server's deadline heap until they come due or the heap is rebuilt, which
    with many connections open is seconds away: they must not keep the closed stack alive
    for every full collection to walk."""
    import trio

    from tradewire.bindings import trio as tw_trio

    factory = Remembered()

    async def main() -> int:
        with trio.fail_after(30):
            async with tw_trio.serve(factory) as server:
                closing.extend(await trio.to_thread.run_sync(idle_sockets, server.port, IDLE))
                return await trio.to_thread.run_sync(
                    _freed_once_closed, server.port, factory.made, 5
                )

    assert trio.run(main) == 0


def test_a_closed_asyncio_connection_is_let_go_among_idle_ones(
    closing: list[socket.socket],
) -> None:
    import asyncio

    from tradewire.bindings import asyncio as tw_asyncio

    factory = Remembered()

    async def main() -> int:
        async with asyncio.timeout(30), tw_asyncio.serve(factory) as server:
            closing.extend(await asyncio.to_thread(idle_sockets, server.port, IDLE))
            return await asyncio.to_thread(_freed_once_closed, server.port, factory.made, 5)

    assert asyncio.run(main()) == 0


def test_a_closed_sync_connection_is_let_go_among_idle_ones(
    closing: list[socket.socket],
) -> None:
    factory = Remembered()
    with tw_sync.serve(factory) as server:
        closing.extend(idle_sockets(server.port, IDLE))
        assert _freed_once_closed(server.port, factory.made, 5) == 0


def test_trio_timers_fire_from_one_task_among_far_ones() -> None:
    """Connections whose deadlines are far add no task for them, and a near one still
    fires: a WebSocket stack's open timeout closes the one that never upgrades."""
    import trio
    import trio.testing

    from tradewire.bindings import trio as tw_trio

    fired: list[float] = []

    class Short(WebSocketServerStack):
        def handle_timer(self, now: float) -> None:
            super().handle_timer(now)
            if self.should_close_transport:
                fired.append(now)

    made: list[Short] = []

    def factory(peer: str | None) -> Short:
        stack = Short(Machine(), open_timeout=0.2 if len(made) == IDLE else 60.0)
        made.append(stack)
        return stack

    def dial(port: int, count: int) -> list[socket.socket]:
        return [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]

    def eof(sock: socket.socket) -> bytes:
        return sock.recv(10)

    async def main() -> None:
        with trio.fail_after(30):
            async with tw_trio.serve(factory) as server:
                await trio.testing.wait_all_tasks_blocked(cushion=0.05)
                before = trio.lowlevel.current_statistics().tasks_living
                far = await trio.to_thread.run_sync(dial, server.port, IDLE)
                try:
                    while len(made) < IDLE:
                        await trio.sleep(0.01)
                    await trio.testing.wait_all_tasks_blocked(cushion=0.05)
                    tasks = trio.lowlevel.current_statistics().tasks_living - before
                    assert tasks == IDLE  # a reader each, no timer task each
                    (near,) = await trio.to_thread.run_sync(dial, server.port, 1)
                    try:
                        assert await trio.to_thread.run_sync(eof, near) == b""
                    finally:
                        near.close()
                    assert len(fired) == 1
                    assert not any(stack.should_close_transport for stack in made[:IDLE])
                finally:
                    for sock in far:
                        sock.close()

    trio.run(main)
