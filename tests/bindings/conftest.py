"""Shared parts for the binding tests: a small venue, TLS material, leak checks.

Everything listens on 127.0.0.1 with a random port; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import random
import ssl
from collections.abc import Iterator
from types import ModuleType, SimpleNamespace
from typing import Any

import msgspec
import pytest
import trio
import trustme

from tradewire.bindings import UpgradeOrHTTP
from tradewire.conformance import EchoServer, Heard, Note
from tradewire.protocol import (
    Backoff,
    Command,
    Event,
    HTTPRequestReceived,
    HTTPServerStack,
    StackState,
    WebSocketServerStack,
)


class Venue(EchoServer):
    """The echo venue, plus: ``say: "ignore"`` / ``"hang"`` are heard but never answered,
    and the application may push a :class:`Note` through ``send``."""

    def receive_message(self, data: bytes | str, now: float) -> None:
        message = msgspec.json.decode(data)
        if isinstance(message, dict) and message.get("say") in ("ignore", "hang"):
            self._events.append(Heard(text=message["say"]))
            return
        super().receive_message(data, now)

    def send(self, command: Command, now: float) -> None:
        assert isinstance(command, Note)
        self._out.append(msgspec.json.encode({"note": command.index}))


class Controlled:
    """A server connection the test (or the venue) can kill: TCP closed, no close frame."""

    def __init__(self, inner: WebSocketServerStack) -> None:
        self.inner = inner
        self.killed = False
        self.extra = b""  # raw bytes to put on the wire next

    @property
    def should_close_transport(self) -> bool:
        return self.killed or self.inner.should_close_transport

    def data_to_send(self) -> bytes:
        out, self.extra = self.inner.data_to_send() + self.extra, b""
        return out

    def kill(self) -> None:
        self.killed = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class Zombie:
    """Accepts the upgrade, then never reads, answers or closes (a silent, open socket)."""

    def __init__(self, inner: WebSocketServerStack) -> None:
        self.inner = inner
        self.silent = False
        self.should_close_transport = False

    def connection_made(self, now: float) -> None:
        self.inner.connection_made(now)

    def receive_data(self, data: bytes, now: float) -> None:
        if not self.silent:
            self.inner.receive_data(data, now)

    def data_to_send(self) -> bytes:
        if self.silent:
            return b""
        out = self.inner.data_to_send()
        if self.inner.state is StackState.OPEN:
            self.silent = True
        return out

    def events(self) -> list[Event]:
        return self.inner.events()

    def handle_timer(self, now: float) -> None:
        pass

    def next_deadline(self) -> float | None:
        return None

    def connection_lost(self, now: float) -> None:
        self.inner.connection_lost(now)


class VenueServer:
    """Factory and ``on_events`` for ``serve()``: records connections; ``"die"`` and
    ``"hang"`` kill the connection they arrive on; ``"broadcast"`` makes the
    application push ``Note(index=99)`` to every open connection."""

    def __init__(
        self, *, zombies: int = 0, refuse: int | None = None, refuse_from: int = 0
    ) -> None:
        self.zombies = zombies
        self.refuse = refuse
        self.refuse_from = refuse_from  # connections before this index are accepted
        self.machines: list[Venue] = []
        self.connections: list[Controlled | Zombie] = []
        self.heard: list[str] = []

    def factory(self, peer: str | None) -> Controlled | Zombie:
        refuse = self.refuse if len(self.machines) >= self.refuse_from else None
        machine = Venue(refuse=refuse)
        self.machines.append(machine)
        stack = WebSocketServerStack(machine, peer=peer)
        conn: Controlled | Zombie
        conn = Zombie(stack) if len(self.connections) < self.zombies else Controlled(stack)
        self.connections.append(conn)
        return conn

    def on_events(self, conn: Any, events: list[Event], now: float) -> None:
        for event in events:
            if not isinstance(event, Heard):
                continue
            self.heard.append(event.text)
            if event.text in ("die", "hang"):
                conn.kill()
            elif event.text == "garbage":
                conn.extra = b"\x8f\x00"  # a frame with a reserved opcode
            elif event.text == "broadcast":
                self.push_all(Note(index=99), now)

    def push_all(self, note: Note, now: float) -> None:
        for conn in self.connections:
            if isinstance(conn, Controlled) and conn.inner.state is StackState.OPEN:
                conn.inner.send(note, now)


class HTTPApp:
    """Factory and ``on_events`` for an HTTP server answering every request with JSON."""

    def __init__(self) -> None:
        self.peers: list[str | None] = []
        self.requests: list[HTTPRequestReceived] = []

    def factory(self, peer: str | None) -> HTTPServerStack:
        self.peers.append(peer)
        return HTTPServerStack(peer=peer)

    def on_events(self, conn: Any, events: list[Event], now: float) -> None:
        stack = conn.stack if isinstance(conn, UpgradeOrHTTP) else conn
        for event in events:
            if isinstance(event, HTTPRequestReceived):
                self.requests.append(event)
                stack.respond(200, json={"path": event.path, "peer": event.peer}, now=now)


class Ticker:
    """An application timer: once, ``delay`` after it is armed, push a note to all."""

    def __init__(self, venue: VenueServer, start: float, delay: float) -> None:
        self.venue = venue
        self.at: float | None = start + delay
        self.fired = 0

    def next_deadline(self) -> float | None:
        return self.at

    def handle_timer(self, now: float) -> None:
        if self.at is not None and now >= self.at:
            self.at = None
            self.fired += 1
            self.venue.push_all(Note(index=77), now)


def fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def live_tasks() -> int:
    """Tasks alive in the running event loop (asyncio or trio)."""
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # no asyncio loop running: trio
        return int(trio.lowlevel.current_statistics().tasks_living)


def fast_backoff() -> Backoff:
    return Backoff(random.Random(1), initial=0.05, maximum=0.1, minimum=0.01)


@pytest.fixture
def kit() -> SimpleNamespace:
    return SimpleNamespace(
        Venue=Venue,
        VenueServer=VenueServer,
        HTTPApp=HTTPApp,
        Ticker=Ticker,
        Controlled=Controlled,
        fds=fds,
        live_tasks=live_tasks,
        fast_backoff=fast_backoff,
    )


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_ssl(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    return context


@pytest.fixture(scope="session")
def client_ssl(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context()
    ca.configure_trust(context)
    return context


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def binding(anyio_backend: str) -> ModuleType:
    """The native binding module for the running backend (same API for both)."""
    return importlib.import_module(f"tradewire.bindings.{anyio_backend}")


@pytest.fixture
def no_fd_leak() -> Iterator[None]:
    before = fds()
    yield
    assert fds() == before
