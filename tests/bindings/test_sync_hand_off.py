"""How the sync client's reads reach its session (``_sync_reactor``, ``_sync_driver``).

A client reads at most ``CLIENT_READ_SIZE`` (64 KiB) at a time, as the async bindings
do: the events of one read all live until the consumer takes them, and a 256 KiB read's
worth of book changes kept the garbage collector busy on ``benchmarks/bench_e2e.py``.

A consumer waiting in ``events()`` reads the socket itself, in its own thread; the I/O
thread takes the socket back when the consumer goes away (at once when it leaves
``events()`` or awaits a request, else within ``LEASE``), and wakes a polling consumer
for what it makes itself (timers, the close).  Real sockets on 127.0.0.1; every wait is
bounded, and no thread or file descriptor outlives a test.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from tradewire.bindings import _sync_driver
from tradewire.bindings import sync as tw
from tradewire.conformance import EchoClient, Note, Push, Say
from tradewire.protocol import Connected, ConnectionDead, Event, WebSocketClosed

KIB_64 = 64 * 1024  # CLIENT_READ_SIZE


@pytest.fixture(autouse=True)
def nothing_left_behind(kit: SimpleNamespace) -> Iterator[None]:
    threads, fds = set(threading.enumerate()), kit.fds()
    yield
    assert set(threading.enumerate()) == threads
    assert kit.fds() == fds


def _notes(client: tw.Client, count: int) -> list[int]:
    notes: list[int] = []
    for event in client.events(timeout=10):
        if isinstance(event, Note):
            notes.append(event.index)
            if len(notes) == count:
                break
    return notes


class ReadSpy:
    """Wraps a client stack's ``receive_data``: the size of every read, and the thread
    that handed it over; ``stall`` seconds of sleep on the first read after ``arm()``."""

    def __init__(self, client: tw.Client, stall: float = 0.0) -> None:
        self.sizes: list[int] = []
        self.threads: list[threading.Thread] = []
        self.stall = stall
        self.armed = False
        self._inner: Any = client.stack.receive_data
        client.stack.receive_data = self._receive  # type: ignore[method-assign]

    def arm(self) -> None:
        self.sizes.clear()
        self.threads.clear()
        self.armed = True

    def _receive(self, data: bytes, now: float) -> None:
        if self.armed:
            self.sizes.append(len(data))
            self.threads.append(threading.current_thread())
            if self.stall and len(self.sizes) == 1:
                time.sleep(self.stall)  # the venue's bytes pile up in the socket meanwhile
        self._inner(data, now)


def _connected(client: tw.Client) -> list[Event]:
    events: list[Event] = []
    for event in client.events(timeout=10):
        events.append(event)
        break
    return events


def _lead(client: tw.Client, events: Iterator[Event]) -> None:
    """Iterate ``events`` until a note pushed while it waits: it leads the reads then."""
    sender = threading.Timer(0.05, client.send, [Push(count=1)])
    sender.start()
    assert any(isinstance(event, Note) for event in events)
    sender.join()
    assert client._reactor.lead_conn is not None  # and it still does, away from events()


def test_a_client_reads_at_most_64_kib_at_a_time(kit: SimpleNamespace) -> None:
    total = 40_000  # about 1.2 MB of notes, written at once
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory) as server,
        tw.connect(server.url + "/ws", EchoClient(), max_queued_events=10 * total) as client,
    ):
        _connected(client)
        spy = ReadSpy(client, stall=0.3)
        spy.arm()
        client.send(Push(count=total))
        assert _notes(client, total) == list(range(total))
    assert max(spy.sizes) <= KIB_64
    assert spy.sizes.count(KIB_64) >= 2  # the stall let full reads pile up


def test_a_read_while_the_consumer_waits_is_handed_over_in_its_thread(
    kit: SimpleNamespace,
) -> None:
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory) as server,
        tw.connect(server.url + "/ws", EchoClient()) as client,
    ):
        _connected(client)
        spy = ReadSpy(client)
        spy.arm()
        sender = threading.Timer(0.1, client.send, [Push(count=500)])
        sender.start()  # once this thread waits in events()
        assert _notes(client, 500) == list(range(500))
        sender.join()
        threads = list(spy.threads)  # (the close's reads are the I/O thread's)
    assert threads
    assert set(threads) == {threading.current_thread()}


def test_a_consumer_that_stays_away_gives_the_socket_back_within_a_lease(
    kit: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The consumer leads, then stops iterating without leaving events() (the generator
    # is kept): the I/O thread takes the socket back and reads on, so the queue fills
    # and reading pauses as it does without a consumer.
    monkeypatch.setattr(_sync_driver, "LEASE", 0.2)  # _lead sees it lead on a busy machine
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory) as server,
        tw.connect(server.url + "/ws", EchoClient(), max_queued_events=100) as client,
    ):
        events = client.events(timeout=10)
        assert isinstance(next(events), Connected)
        _lead(client, events)
        spy = ReadSpy(client)
        spy.arm()
        client.send(Push(count=5_000))  # a send, not a request: nothing gives it back
        deadline = time.monotonic() + 5
        while not client.reading_paused:
            assert time.monotonic() < deadline, "nobody read while the consumer was away"
            time.sleep(0.005)
        assert client._reactor.lead_conn is None
        assert threading.current_thread() not in spy.threads
        notes: list[int] = []
        for event in events:
            if isinstance(event, Note):
                notes.append(event.index)
                if event.index == 4_999:
                    break
        events.close()
    assert notes == list(range(5_000))


def test_leaving_events_or_awaiting_a_request_gives_the_socket_back_at_once(
    kit: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a lease far longer than the test, only giving the socket back at once lets
    # the I/O thread read: the answers and the pushes come all the same.
    monkeypatch.setattr(_sync_driver, "LEASE", 60.0)
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory, on_events=venue.on_events) as server,
        tw.connect(server.url + "/ws", EchoClient()) as client,
    ):
        events = client.events(timeout=10)
        assert isinstance(next(events), Connected)
        _lead(client, events)
        assert client.request(Say(text="quick"), timeout=5) == "quick"
        assert client._reactor.lead_conn is None
        _lead(client, events)  # it leads again
        events.close()  # ... and leaves
        assert client._reactor.lead_conn is None
        client.send(Push(count=1_000))
        deadline = time.monotonic() + 5
        while client.queued < 1_000:
            assert time.monotonic() < deadline, "nobody read after the consumer left"
            time.sleep(0.005)


def test_what_the_io_thread_makes_wakes_a_polling_consumer(kit: SimpleNamespace) -> None:
    # A zombie venue: only the I/O thread's keepalive timer makes an event, and the
    # consumer polls the silent socket meanwhile; it must be woken for it, not at its
    # own timeout.
    venue = kit.VenueServer(zombies=1)
    with (
        tw.serve(venue.factory) as server,
        tw.connect(
            server.url + "/ws",
            EchoClient(),
            ping_interval=0.2,
            ping_timeout=0.3,
            backoff=kit.fast_backoff(),
        ) as client,
    ):
        started = time.monotonic()
        dead_after = None
        for event in client.events(timeout=5):
            if isinstance(event, ConnectionDead):
                dead_after = time.monotonic() - started
                break
    assert dead_after is not None
    assert dead_after < 2.5


def test_a_close_from_another_thread_ends_a_polling_consumer(kit: SimpleNamespace) -> None:
    venue = kit.VenueServer()
    got: list[Event] = []
    with tw.serve(venue.factory) as server:
        client = tw.connect(server.url + "/ws", EchoClient())
        _connected(client)

        def consume() -> None:
            got.extend(client.events(timeout=5))

        consumer = threading.Thread(target=consume)
        consumer.start()
        time.sleep(0.1)  # it polls the socket now
        started = time.monotonic()
        client.close()
        consumer.join(5)
        assert not consumer.is_alive()
        assert time.monotonic() - started < 2
    assert any(isinstance(event, WebSocketClosed) for event in got)


def test_a_request_from_another_thread_is_answered_while_the_consumer_polls(
    kit: SimpleNamespace,
) -> None:
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory, on_events=venue.on_events) as server,
        tw.connect(server.url + "/ws", EchoClient()) as client,
    ):
        _connected(client)
        notes: list[int] = []
        consumer = threading.Thread(target=lambda: notes.extend(_notes(client, 3)))
        consumer.start()
        time.sleep(0.1)
        answers = [client.request(Say(text=f"hi {i}"), timeout=5) for i in range(5)]
        client.send(Push(count=3))
        consumer.join(5)
        assert not consumer.is_alive()
    assert answers == [f"hi {i}" for i in range(5)]
    assert notes == [0, 1, 2]


def test_a_timer_reads_what_came_before_it_while_the_consumer_is_away(
    kit: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The consumer leads and then stays away, with a lease longer than the test: the
    # venue's pongs are read only when a keepalive timer is due, before it fires, so
    # the connection is never declared dead for a pong that did come.
    monkeypatch.setattr(_sync_driver, "LEASE", 60.0)
    venue = kit.VenueServer()
    with (
        tw.serve(venue.factory) as server,
        tw.connect(
            server.url + "/ws", EchoClient(), ping_interval=0.05, ping_timeout=0.1
        ) as client,
    ):
        events = client.events(timeout=10)
        assert isinstance(next(events), Connected)
        _lead(client, events)
        time.sleep(1.0)  # twenty pings and their pongs
        assert client._reactor.lead_conn is not None
        client.send(Push(count=1))
        later = []
        for event in events:
            later.append(event)
            if isinstance(event, Note):
                break
        events.close()
    assert not [event for event in later if isinstance(event, ConnectionDead)]
    assert len(venue.connections) == 1


def test_a_consumer_reads_a_tls_connection_in_its_thread(
    kit: SimpleNamespace, server_ssl: ssl.SSLContext, client_ssl: ssl.SSLContext
) -> None:
    venue = kit.VenueServer()
    with tw.serve(venue.factory, on_events=venue.on_events, ssl=server_ssl) as server:
        url = f"wss://localhost:{server.port}/ws"
        with tw.connect(url, EchoClient(), ssl=client_ssl) as client:
            _connected(client)
            spy = ReadSpy(client)
            spy.arm()
            sender = threading.Timer(0.1, client.send, [Push(count=2_000)])
            sender.start()
            assert _notes(client, 2_000) == list(range(2_000))
            sender.join()
            threads = list(spy.threads)
            assert client.request(Say(text="still fine"), timeout=5) == "still fine"
    assert threads
    assert set(threads) == {threading.current_thread()}
